//! Durations as people type them on the command line (`30d`, `12h`, `90m`, `3600s`, `1d12h`).

use thiserror::Error;

/// Why a duration was not understood.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DurationError {
    #[error("empty duration (try 30d, 12h, 90m or 3600s)")]
    Empty,
    #[error("`{0}` needs a unit: s, m, h, d or w (e.g. 30d, 12h, 90m, 3600s)")]
    MissingUnit(String),
    #[error("unknown unit `{unit}` in `{input}` (use s, m, h, d or w)")]
    UnknownUnit { input: String, unit: String },
    #[error("`{0}` is not a duration (try 30d, 12h, 90m or 3600s)")]
    Malformed(String),
    #[error("`{0}` is too long")]
    TooLong(String),
    #[error("a duration of zero makes no sense here")]
    Zero,
}

/// Parses `<number><unit>` repeated (`1d12h`), units s, m, h, d, w; answers whole seconds.
///
/// A bare number is refused rather than guessed at: `--expires 30` could mean seconds or days.
pub fn parse_duration(input: &str) -> Result<u64, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Malformed(s.to_owned()));
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        if unit_len == 0 {
            return Err(if after.is_empty() {
                DurationError::MissingUnit(s.to_owned())
            } else {
                DurationError::Malformed(s.to_owned())
            });
        }
        let (unit, next) = after.split_at(unit_len);
        let scale: u64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            other => {
                return Err(DurationError::UnknownUnit {
                    input: s.to_owned(),
                    unit: other.to_owned(),
                });
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| DurationError::TooLong(s.to_owned()))?;
        total = n
            .checked_mul(scale)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| DurationError::TooLong(s.to_owned()))?;
        rest = next;
    }
    if total == 0 {
        return Err(DurationError::Zero);
    }
    Ok(total)
}

/// Renders seconds for people with at most two units: `3d 4h`, `1h 30m`, `45s`.
pub fn format_duration(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    if seconds == 0 {
        return "0s".to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = seconds;
    for (size, name) in UNITS {
        if rest >= size {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            // Keep the two units adjacent: "1d 0h" is noise, "1d 5m" would skip a unit silently.
            break;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(12 * 3600));
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("3600s"), Ok(3600));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400));
        assert_eq!(parse_duration("1d12h"), Ok(86_400 + 12 * 3600));
        assert_eq!(parse_duration(" 1h30m "), Ok(5400));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("30"),
            Err(DurationError::MissingUnit("30".into()))
        );
        assert!(matches!(
            parse_duration("30y"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration("3 d"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("d"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("-1h"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("1.5h"),
            Err(DurationError::Malformed(_))
        ));
        assert_eq!(parse_duration("0s"), Err(DurationError::Zero));
        assert!(matches!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::TooLong(_))
        ));
        assert!(matches!(
            parse_duration("9999999999999999w"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn formats_with_two_units_at_most() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(59), "59s");
        assert_eq!(format_duration(60), "1m");
        assert_eq!(format_duration(90), "1m 30s");
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(5400), "1h 30m");
        assert_eq!(format_duration(86_400 + 3600 + 61), "1d 1h");
        assert_eq!(format_duration(86_400 + 60), "1d");
        assert_eq!(format_duration(30 * 86_400), "30d");
    }

    #[test]
    fn format_and_parse_agree_on_exact_values() {
        for s in [1u64, 59, 60, 3600, 5400, 86_400, 90_000] {
            let text = format_duration(s).replace(' ', "");
            assert_eq!(parse_duration(&text), Ok(s), "{text}");
        }
    }
}
