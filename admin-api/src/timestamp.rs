//! Points in time on the wire: RFC 3339 text from cofferd.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time as the admin API carries it. cofferd sends RFC 3339 text;
/// Unix seconds are read too, because the contract did not always say which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// RFC 3339 (`2026-11-20T10:00:00Z`), or text that claims to be a time.
    Text(String),
    UnixSeconds(i64),
}

impl Timestamp {
    /// What cofferd sends for `t`.
    pub fn rfc3339(t: OffsetDateTime) -> Self {
        Timestamp::Text(t.format(&Rfc3339).unwrap_or_default())
    }

    /// The instant, when the text is RFC 3339 or the number a valid Unix time.
    pub fn instant(&self) -> Option<OffsetDateTime> {
        match self {
            Timestamp::Text(s) => OffsetDateTime::parse(s, &Rfc3339).ok(),
            Timestamp::UnixSeconds(secs) => OffsetDateTime::from_unix_timestamp(*secs).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn encodes_as_rfc3339_and_reads_text_or_seconds() {
        let t = datetime!(2026-11-20 10:00:00 UTC);
        assert_eq!(
            serde_json::to_value(Timestamp::rfc3339(t)).unwrap(),
            json!("2026-11-20T10:00:00Z")
        );
        let text: Timestamp = serde_json::from_value(json!("2026-11-20T10:00:00Z")).unwrap();
        assert_eq!(text.instant(), Some(t));
        let secs: Timestamp = serde_json::from_value(json!(1_700_000_000)).unwrap();
        assert_eq!(
            secs.instant().map(|t| t.unix_timestamp()),
            Some(1_700_000_000)
        );
        let junk: Timestamp = serde_json::from_value(json!("yesterday")).unwrap();
        assert_eq!(junk.instant(), None);
        assert!(serde_json::from_value::<Timestamp>(json!(true)).is_err());
    }
}
