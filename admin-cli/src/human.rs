//! Numbers, sizes and timestamps rendered for people (tables), never for `--json`.

use coffer_admin_api::{Timestamp, Versioning};
use time::UtcOffset;
use time::macros::format_description;

/// Binary units with one decimal: `0 B`, `512 B`, `1.5 KiB`, `12.3 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Integer steps first so the unit is exact; the float is only for the one decimal shown.
    let mut unit = 0;
    let mut scaled = bytes as f64 / 1024.0;
    while scaled >= 1024.0 && unit + 1 < UNITS.len() {
        scaled /= 1024.0;
        unit += 1;
    }
    // 1023.96 KiB would print as "1024.0 KiB"; step up instead.
    if (scaled * 10.0).round() >= 10_240.0 && unit + 1 < UNITS.len() {
        scaled /= 1024.0;
        unit += 1;
    }
    format!("{scaled:.1} {}", UNITS[unit])
}

/// Thousands separated: `1,234,567`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio such as the dedup ratio: `3.21x`.
pub fn format_ratio(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{ratio:.2}x")
    } else {
        "-".to_owned()
    }
}

/// `2026-11-21 05:17:49Z` for a timestamp (RFC 3339 text or Unix seconds); the raw text for
/// a string that is not one; `-` for null or absent.
pub fn format_timestamp(value: Option<&Timestamp>) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    match (value, value.and_then(Timestamp::instant)) {
        (_, Some(t)) => t
            .to_offset(UtcOffset::UTC)
            .format(&format)
            .unwrap_or_else(|_| t.unix_timestamp().to_string()),
        (None, None) => "-".to_owned(),
        (Some(Timestamp::Text(s)), None) => s.clone(),
        (Some(Timestamp::UnixSeconds(n)), None) => n.to_string(),
    }
}

/// A bucket's versioning state; `-` when the server did not say.
pub fn format_versioning(value: Option<Versioning>) -> String {
    value.map_or("-", Versioning::as_str).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(
            format_bytes(12 * 1024 * 1024 * 1024 + 322 * 1024 * 1024),
            "12.3 GiB"
        );
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn counts() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1_234_567), "1,234,567");
    }

    #[test]
    fn ratios() {
        assert_eq!(format_ratio(3.0), "3.00x");
        assert_eq!(format_ratio(1.234), "1.23x");
        assert_eq!(format_ratio(f64::NAN), "-");
    }

    /// A timestamp as it comes in an answer.
    fn ts(v: serde_json::Value) -> Option<Timestamp> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn timestamps_in_both_encodings() {
        assert_eq!(
            format_timestamp(ts(json!("2026-11-21T05:17:49.123Z")).as_ref()),
            "2026-11-21 05:17:49Z"
        );
        assert_eq!(
            format_timestamp(ts(json!("2026-11-21T06:17:49+01:00")).as_ref()),
            "2026-11-21 05:17:49Z"
        );
        assert_eq!(
            format_timestamp(ts(json!(0)).as_ref()),
            "1970-01-01 00:00:00Z"
        );
        assert_eq!(format_timestamp(ts(json!(null)).as_ref()), "-");
        assert_eq!(
            format_timestamp(ts(json!("yesterday")).as_ref()),
            "yesterday"
        );
    }

    #[test]
    fn versioning_states() {
        assert_eq!(format_versioning(Some(Versioning::Enabled)), "Enabled");
        assert_eq!(format_versioning(None), "-");
    }
}
