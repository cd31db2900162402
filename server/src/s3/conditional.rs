//! Conditional requests: If-Match, If-None-Match, If-Modified-Since and
//! If-Unmodified-Since, evaluated with S3's precedence rules.
//!
//! Reads (GET/HEAD, copy sources) are checked here against the looked-up
//! version. Conditional *writes* (PutObject, CompleteMultipartUpload) are only
//! translated here into a [`WritePrecondition`]: the engine evaluates it inside
//! the commit, so a concurrent writer cannot slip between check and write.

use http::{HeaderMap, HeaderValue};
use s3s::dto::{ETagCondition, Timestamp};
use s3s::{S3Error, S3ErrorCode};
use time::OffsetDateTime;

use super::error::xml_headers;
use crate::engine::{ETagMatch, WritePrecondition};

fn etag_match(cond: &ETagCondition) -> ETagMatch {
    match cond {
        ETagCondition::Any => ETagMatch::Any,
        ETagCondition::ETag(e) => ETagMatch::ETag(e.value().to_owned()),
    }
}

/// The If-Match / If-None-Match of a write, for the engine to check at commit.
pub fn write_precondition(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> WritePrecondition {
    WritePrecondition {
        if_match: if_match.map(etag_match),
        if_none_match: if_none_match.map(etag_match),
    }
}

/// The four conditions of a request (GET/HEAD, or the copy-source ones).
#[derive(Debug, Default, Clone, Copy)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    /// 304 for GET/HEAD.
    NotModified,
    /// 412.
    PreconditionFailed,
}

fn etag_matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        // S3 ETags are never weak; comparing the opaque values is what S3 does.
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

/// HTTP dates carry whole seconds, so the object's time is truncated before
/// comparing: `If-Modified-Since: <its own Last-Modified>` must be "not modified".
fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

impl Conditions<'_> {
    /// S3 (like RFC 7232): a true If-Match overrides a false If-Unmodified-Since,
    /// and a false If-None-Match overrides a true If-Modified-Since. 412 checks
    /// come before 304 checks.
    pub fn evaluate(&self, etag: &str, last_modified: OffsetDateTime) -> Outcome {
        let modified = whole_seconds(last_modified);
        match self.if_match {
            Some(cond) => {
                if !etag_matches(cond, etag) {
                    return Outcome::PreconditionFailed;
                }
            }
            None => {
                if let Some(since) = self.if_unmodified_since
                    && modified > whole_seconds(OffsetDateTime::from(since.clone()))
                {
                    return Outcome::PreconditionFailed;
                }
            }
        }
        match self.if_none_match {
            Some(cond) => {
                if etag_matches(cond, etag) {
                    return Outcome::NotModified;
                }
            }
            None => {
                if let Some(since) = self.if_modified_since
                    && modified <= whole_seconds(OffsetDateTime::from(since.clone()))
                {
                    return Outcome::NotModified;
                }
            }
        }
        Outcome::Proceed
    }

    /// For GET and HEAD: 304 (with the validators S3 sends along) or 412.
    pub fn check_read(&self, etag: &str, last_modified: OffsetDateTime) -> Result<(), S3Error> {
        match self.evaluate(etag, last_modified) {
            Outcome::Proceed => Ok(()),
            Outcome::PreconditionFailed => Err(precondition_failed()),
            Outcome::NotModified => {
                let mut err = S3Error::with_message(S3ErrorCode::NotModified, "Not Modified");
                let mut headers = xml_headers();
                if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
                    headers.insert(http::header::ETAG, v);
                }
                insert_http_date(&mut headers, last_modified);
                err.set_headers(headers);
                Err(err)
            }
        }
    }

    /// For the copy-source conditions: every failure is a 412.
    pub fn check_copy_source(
        &self,
        etag: &str,
        last_modified: OffsetDateTime,
    ) -> Result<(), S3Error> {
        match self.evaluate(etag, last_modified) {
            Outcome::Proceed => Ok(()),
            Outcome::NotModified | Outcome::PreconditionFailed => Err(precondition_failed()),
        }
    }
}

pub fn precondition_failed() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold",
    )
}

fn insert_http_date(headers: &mut HeaderMap, t: OffsetDateTime) {
    let mut buf = Vec::new();
    if Timestamp::from(t)
        .format(s3s::dto::TimestampFormat::HttpDate, &mut buf)
        .is_ok()
        && let Ok(v) = HeaderValue::from_bytes(&buf)
    {
        headers.insert(http::header::LAST_MODIFIED, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::dto::ETag;
    use time::macros::datetime;

    const ETAG: &str = "9b2cf535f27731c974343645a3985328";

    fn lm() -> OffsetDateTime {
        datetime!(2026-11-21 10:00:00.750 UTC)
    }
    fn ts(t: OffsetDateTime) -> Timestamp {
        Timestamp::from(t)
    }
    fn tag(s: &str) -> ETagCondition {
        ETagCondition::ETag(ETag::Strong(s.to_owned()))
    }

    #[test]
    fn no_conditions_proceed() {
        assert_eq!(Conditions::default().evaluate(ETAG, lm()), Outcome::Proceed);
    }

    #[test]
    fn if_match() {
        let ok = tag(ETAG);
        let bad = tag("other");
        let any = ETagCondition::Any;
        let c = |m| Conditions {
            if_match: Some(m),
            ..Default::default()
        };
        assert_eq!(c(&ok).evaluate(ETAG, lm()), Outcome::Proceed);
        assert_eq!(c(&any).evaluate(ETAG, lm()), Outcome::Proceed);
        assert_eq!(c(&bad).evaluate(ETAG, lm()), Outcome::PreconditionFailed);
    }

    #[test]
    fn if_none_match() {
        let same = tag(ETAG);
        let other = tag("other");
        let c = |m| Conditions {
            if_none_match: Some(m),
            ..Default::default()
        };
        assert_eq!(c(&same).evaluate(ETAG, lm()), Outcome::NotModified);
        assert_eq!(
            c(&ETagCondition::Any).evaluate(ETAG, lm()),
            Outcome::NotModified
        );
        assert_eq!(c(&other).evaluate(ETAG, lm()), Outcome::Proceed);
    }

    #[test]
    fn modified_since_uses_whole_seconds() {
        // The client echoes Last-Modified, which lost the sub-second part.
        let echoed = ts(datetime!(2026-11-21 10:00:00 UTC));
        let c = Conditions {
            if_modified_since: Some(&echoed),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::NotModified);
        let earlier = ts(datetime!(2026-11-21 09:59:59 UTC));
        let c = Conditions {
            if_modified_since: Some(&earlier),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::Proceed);
    }

    #[test]
    fn unmodified_since() {
        let earlier = ts(datetime!(2026-11-21 09:00:00 UTC));
        let c = Conditions {
            if_unmodified_since: Some(&earlier),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::PreconditionFailed);
        let same = ts(datetime!(2026-11-21 10:00:00 UTC));
        let c = Conditions {
            if_unmodified_since: Some(&same),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::Proceed);
    }

    #[test]
    fn true_if_match_overrides_false_if_unmodified_since() {
        let ok = tag(ETAG);
        let earlier = ts(datetime!(2026-11-21 09:00:00 UTC));
        let c = Conditions {
            if_match: Some(&ok),
            if_unmodified_since: Some(&earlier),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::Proceed);
    }

    #[test]
    fn false_if_none_match_overrides_true_if_modified_since() {
        let other = tag("other");
        let later = ts(datetime!(2026-11-22 00:00:00 UTC));
        let c = Conditions {
            if_none_match: Some(&other),
            if_modified_since: Some(&later),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::Proceed);
    }

    #[test]
    fn precondition_failure_wins_over_not_modified() {
        let bad = tag("other");
        let same = tag(ETAG);
        let c = Conditions {
            if_match: Some(&bad),
            if_none_match: Some(&same),
            ..Default::default()
        };
        assert_eq!(c.evaluate(ETAG, lm()), Outcome::PreconditionFailed);
    }

    #[test]
    fn read_and_copy_source_statuses() {
        let same = tag(ETAG);
        let c = Conditions {
            if_none_match: Some(&same),
            ..Default::default()
        };
        let e = c.check_read(ETAG, lm()).unwrap_err();
        assert_eq!(e.status_code().map(|s| s.as_u16()), Some(304));
        assert!(e.headers().and_then(|h| h.get("etag")).is_some());
        let e = c.check_copy_source(ETAG, lm()).unwrap_err();
        assert_eq!(e.status_code().map(|s| s.as_u16()), Some(412));
    }
}
