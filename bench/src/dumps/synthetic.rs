//! Dump-like text without PostgreSQL: a pgbench-shaped accounts table and a growing
//! history table, churned like pgbench does it (≈ churn % of accounts updated per night,
//! each update moving the row to the end of the heap, one history row appended).

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::{DumpError, DumpSet, Night, io};
use crate::payload::Rng;

struct Account {
    aid: u32,
    balance: i64,
}

struct History {
    tid: u32,
    bid: u32,
    aid: u32,
    delta: i64,
    night: usize,
}

/// Generates `nights` nights into `dir`.
pub fn generate(
    dir: &Path,
    rows: usize,
    nights: usize,
    churn_pct: f64,
    seed: u64,
) -> Result<DumpSet, DumpError> {
    let source = format!("synthetic rows={rows} nights={nights} churn={churn_pct}% seed={seed}");
    if let Some(set) = DumpSet::load_cached(dir, &source) {
        return Ok(set);
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut rng = Rng::new(seed);
    let mut heap: Vec<Account> = (1..=rows as u32)
        .map(|aid| Account { aid, balance: 0 })
        .collect();
    let mut history: Vec<History> = Vec::new();
    let per_night = ((rows as f64) * churn_pct / 100.0).round() as usize;
    let mut out = Vec::with_capacity(nights);
    for night in 0..nights {
        let mut touched = HashSet::with_capacity(per_night);
        let mut moved = Vec::with_capacity(per_night);
        for _ in 0..per_night {
            let aid = 1 + rng.below(rows as u64) as u32;
            let delta = rng.below(10_001) as i64 - 5_000;
            history.push(History {
                tid: 1 + rng.below((rows as u64 / 10_000).max(1) * 10) as u32,
                bid: 1 + (aid - 1) / 100_000,
                aid,
                delta,
                night,
            });
            touched.insert(aid);
            moved.push((aid, delta));
        }
        // Updated rows leave their slot and land at the end, as in a heap without HOT room.
        let mut balances: std::collections::HashMap<u32, i64> = std::collections::HashMap::new();
        heap.retain(|a| {
            if touched.contains(&a.aid) {
                balances.insert(a.aid, a.balance);
                false
            } else {
                true
            }
        });
        for (aid, delta) in moved {
            if let Some(b) = balances.get_mut(&aid) {
                *b += delta;
            }
        }
        let mut appended: Vec<u32> = balances.keys().copied().collect();
        appended.sort_unstable_by_key(|aid| rng_order(seed, night, *aid));
        for aid in appended {
            let balance = balances.get(&aid).copied().unwrap_or(0);
            heap.push(Account { aid, balance });
        }
        let night_dir = dir.join(format!("night-{night:02}"));
        std::fs::create_dir_all(&night_dir).map_err(io(&night_dir))?;
        let plain = night_dir.join("plain.sql");
        let custom = night_dir.join("custom.dump");
        write_plain(&plain, &heap, &history)?;
        write_custom(&custom, &heap, &history)?;
        out.push(Night { plain, custom });
    }
    let set = DumpSet::from_nights(source, out)?;
    set.save(dir)?;
    Ok(set)
}

fn rng_order(seed: u64, night: usize, aid: u32) -> u64 {
    Rng::new(seed ^ (night as u64) << 40 ^ u64::from(aid)).next_u64()
}

const FILLER: &str =
    "                                                                                    ";

fn accounts_copy(w: &mut impl Write, heap: &[Account]) -> std::io::Result<()> {
    for a in heap {
        writeln!(
            w,
            "{}\t{}\t{}\t{FILLER}",
            a.aid,
            1 + (a.aid - 1) / 100_000,
            a.balance
        )?;
    }
    Ok(())
}

fn history_copy(w: &mut impl Write, history: &[History]) -> std::io::Result<()> {
    for h in history {
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t2026-01-{:02} 03:{:02}:00\t\\N",
            h.tid,
            h.bid,
            h.aid,
            h.delta,
            1 + h.night % 28,
            h.aid % 60
        )?;
    }
    Ok(())
}

fn write_plain(path: &Path, heap: &[Account], history: &[History]) -> Result<(), DumpError> {
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let result = (|| -> std::io::Result<()> {
        writeln!(w, "--\n-- PostgreSQL database dump\n--\n")?;
        writeln!(
            w,
            "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n"
        )?;
        writeln!(
            w,
            "CREATE TABLE public.pgbench_accounts (\n    aid integer NOT NULL,\n    bid integer,\n    \
             abalance integer,\n    filler character(84)\n)\nWITH (fillfactor='100');\n"
        )?;
        writeln!(
            w,
            "COPY public.pgbench_accounts (aid, bid, abalance, filler) FROM stdin;"
        )?;
        accounts_copy(&mut w, heap)?;
        writeln!(w, "\\.\n")?;
        writeln!(
            w,
            "COPY public.pgbench_history (tid, bid, aid, delta, mtime, filler) FROM stdin;"
        )?;
        history_copy(&mut w, history)?;
        writeln!(w, "\\.\n\n--\n-- PostgreSQL database dump complete\n--")?;
        w.flush()
    })();
    result.map_err(io(path))
}

/// Custom format, uncompressed: a binary TOC, then each table's COPY data as a block.
fn write_custom(path: &Path, heap: &[Account], history: &[History]) -> Result<(), DumpError> {
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let result = (|| -> std::io::Result<()> {
        w.write_all(b"PGDMP\x01\x10\x00\x04\x08\x01\x00")?;
        for (i, name) in ["pgbench_accounts", "pgbench_history"].iter().enumerate() {
            w.write_all(&(i as u32 + 1).to_le_bytes())?;
            w.write_all(name.as_bytes())?;
            w.write_all(&[0])?;
        }
        let mut block = Vec::new();
        history_copy(&mut block, history)?;
        w.write_all(&[0x01])?;
        w.write_all(&(block.len() as u64).to_le_bytes())?;
        w.write_all(&block)?;
        block.clear();
        accounts_copy(&mut block, heap)?;
        w.write_all(&[0x01])?;
        w.write_all(&(block.len() as u64).to_le_bytes())?;
        w.write_all(&block)?;
        w.flush()
    })();
    result.map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nights_grow_and_churn() {
        let dir = tempfile::tempdir().unwrap();
        let set = generate(dir.path(), 5_000, 3, 1.0, 9).unwrap();
        assert_eq!(set.nights.len(), 3);
        let a = std::fs::read_to_string(&set.nights[0].plain).unwrap();
        let b = std::fs::read_to_string(&set.nights[1].plain).unwrap();
        assert!(b.len() > a.len(), "history grows");
        assert_ne!(a, b);
        assert_eq!(a.lines().filter(|l| l.ends_with(FILLER)).count(), 5_000);
        let again = generate(dir.path(), 5_000, 3, 1.0, 9).unwrap();
        assert_eq!(again.total_bytes, set.total_bytes, "cache reused");
    }
}
