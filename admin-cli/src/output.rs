//! Output for people (aligned tables, `label: value` blocks) and for scripts (`--json`).

use std::io::{self, Write};

use serde_json::Value;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Numbers and sizes, so that digits line up.
    Right,
}

/// A table: a header row, then rows; columns two spaces apart, no trailing blanks.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Table {
            headers: columns.iter().map(|(h, _)| *h).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells print empty, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i].saturating_sub(width(cell));
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&" ".repeat(pad));
                    }
                    Align::Right => {
                        line.push_str(&" ".repeat(pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `label:  value` lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    fields_at(pairs, label_width(pairs))
}

/// The width of the longest `label:` among `pairs`.
pub fn label_width<'a>(pairs: impl IntoIterator<Item = &'a (&'a str, String)>) -> usize {
    pairs
        .into_iter()
        .map(|(label, _)| label.chars().count() + 1)
        .max()
        .unwrap_or(0)
}

/// [`fields`] with the values at a given column (`label_width` of several
/// blocks, so that they line up with each other).
pub fn fields_at(pairs: &[(&str, String)], width: usize) -> String {
    let mut out = String::new();
    for (label, value) in pairs {
        let label = format!("{label}:");
        out.push_str(format!("{label:<width$}  {value}").trim_end());
        out.push('\n');
    }
    out
}

/// `label: value` blocks (one per rule, say), a blank line between them, the
/// values of all of them lined up; `empty` when there are none.
pub fn blocks(blocks: &[Vec<(&str, String)>], empty: &str) -> String {
    if blocks.is_empty() {
        return format!("{empty}\n");
    }
    let width = label_width(blocks.iter().flatten());
    blocks
        .iter()
        .map(|pairs| fields_at(pairs, width))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pretty JSON with a final newline, exactly the fields the admin API sent.
pub fn json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// Writes to stdout; a closed pipe (`coffer key list | head -1`) is not an error.
pub fn print(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&[
            ("NAME", Align::Left),
            ("SIZE", Align::Right),
            ("NOTE", Align::Left),
        ]);
        t.row(vec!["backups".into(), "1.5 GiB".into(), "".into()]);
        t.row(vec!["db".into(), "0 B".into(), "x".into()]);
        assert_eq!(
            t.render(),
            "NAME        SIZE  NOTE\nbackups  1.5 GiB\ndb           0 B  x\n"
        );
    }

    #[test]
    fn table_with_no_rows_is_the_header() {
        let t = Table::new(&[("A", Align::Left), ("B", Align::Left)]);
        assert_eq!(t.render(), "A  B\n");
    }

    #[test]
    fn fields_align_values() {
        assert_eq!(
            fields(&[
                ("name", "x".into()),
                ("versioning", "Enabled".into()),
                ("note", "".into())
            ]),
            "name:        x\nversioning:  Enabled\nnote:\n"
        );
    }
}
