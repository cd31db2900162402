//! A bucket's lifecycle configuration as Coffer holds it: rules with a
//! filter and the three actions Coffer carries out (expire current
//! versions, expire noncurrent versions, abort stale multipart uploads),
//! AWS's validation of them, and their stored encoding.
//!
//! The S3 layer turns the request's XML into these types (refusing what
//! cannot be represented, such as transitions); [`LifecycleConfig::validate`]
//! then applies AWS's checks, so a refused configuration never reaches the
//! database. Stored encoding (sealed as the bucket setting `lifecycle`):
//! `repo-format/DESIGN.md`, section 7.1.

use time::OffsetDateTime;

use crate::engine::meta::codec::{Reader, Writer, micros, time_from_micros};
use crate::engine::tags::{self, TagSet};

/// AWS's limits.
pub const MAX_RULES: usize = 1000;
pub const MAX_ID_LEN: usize = 255;
/// `NewerNoncurrentVersions` lies in `1..=100`.
pub const MAX_NEWER_NONCURRENT: u32 = 100;

/// Why a configuration was refused, by the S3 error code AWS answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// `MalformedXML`: the document does not fit the schema (two filters,
    /// Days with Date, an unknown Status…).
    #[error("{0}")]
    Malformed(String),
    /// `InvalidArgument`: a value out of range (Days ≤ 0, a Date not at
    /// midnight, a duplicate rule ID…).
    #[error("{0}")]
    InvalidArgument(String),
    /// `InvalidRequest`: a combination AWS refuses (no action, too many
    /// rules, tags with AbortIncompleteMultipartUpload…).
    #[error("{0}")]
    InvalidRequest(String),
    /// `NotImplemented`: valid S3 that Coffer does not do (transitions:
    /// there is one storage class). Refused, never accepted and ignored.
    #[error("{0}")]
    NotImplemented(String),
}

/// How a rule's filter was written, so Get returns what was put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterForm {
    /// `<Filter/>` (or `<Filter><Prefix/></Filter>` with an empty prefix
    /// written as `Prefix`): every object.
    Empty,
    /// The rule's top-level `<Prefix>` (the pre-2016 schema).
    LegacyPrefix,
    Prefix,
    Tag,
    SizeGreaterThan,
    SizeLessThan,
    And,
}

/// Which objects a rule applies to: all the conditions hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFilter {
    pub form: FilterForm,
    pub prefix: String,
    pub tags: TagSet,
    /// Strictly greater than, in bytes.
    pub size_greater_than: Option<u64>,
    /// Strictly less than, in bytes.
    pub size_less_than: Option<u64>,
}

impl RuleFilter {
    pub fn all() -> Self {
        RuleFilter {
            form: FilterForm::Empty,
            prefix: String::new(),
            tags: Vec::new(),
            size_greater_than: None,
            size_less_than: None,
        }
    }

    /// Whether matching needs the version's size or tags (its sealed
    /// manifest), not only its key.
    pub fn needs_manifest(&self) -> bool {
        !self.tags.is_empty() || self.size_greater_than.is_some() || self.size_less_than.is_some()
    }

    pub fn matches_key(&self, key: &str) -> bool {
        key.starts_with(&self.prefix)
    }

    /// Whether an object version matches. A delete marker has no size and
    /// no tags, so only filters on the key alone match it.
    pub fn matches(&self, key: &str, object: Option<(u64, &[(String, String)])>) -> bool {
        if !self.matches_key(key) {
            return false;
        }
        let Some((size, tags)) = object else {
            return !self.needs_manifest();
        };
        self.size_greater_than.is_none_or(|gt| size > gt)
            && self.size_less_than.is_none_or(|lt| size < lt)
            && self.tags.iter().all(|t| tags.contains(t))
    }
}

/// The `Expiration` action, on current versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// Days after creation, rounded up to the next midnight UTC.
    Days(u32),
    /// From this midnight UTC on.
    Date(OffsetDateTime),
    /// Removes delete markers that are a key's only version (`false`: the
    /// action is written but does nothing, as in AWS).
    ExpiredObjectDeleteMarker(bool),
}

/// The `NoncurrentVersionExpiration` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoncurrentExpiration {
    /// Days after the version stopped being current.
    pub days: u32,
    /// The newest this many noncurrent versions are kept whatever their age.
    pub newer_versions: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRule {
    pub id: String,
    pub enabled: bool,
    pub filter: RuleFilter,
    pub expiration: Option<Expiration>,
    pub noncurrent: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload`'s `DaysAfterInitiation`.
    pub abort_upload_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LifecycleConfig {
    pub rules: Vec<LifecycleRule>,
}

fn positive(v: i64, what: &str) -> Result<u32, LifecycleError> {
    u32::try_from(v).ok().filter(|d| *d > 0).ok_or_else(|| {
        LifecycleError::InvalidArgument(format!("'{what}' must be a positive integer"))
    })
}

/// Checks and converts a day count sent by a client.
pub fn days(v: i64, what: &str) -> Result<u32, LifecycleError> {
    positive(v, what)
}

/// Checks a `NewerNoncurrentVersions` value.
pub fn newer_versions(v: i64) -> Result<u32, LifecycleError> {
    u32::try_from(v)
        .ok()
        .filter(|n| (1..=MAX_NEWER_NONCURRENT).contains(n))
        .ok_or_else(|| {
            LifecycleError::InvalidArgument(format!(
                "'NewerNoncurrentVersions' must be between 1 and {MAX_NEWER_NONCURRENT}"
            ))
        })
}

/// Checks an `Expiration` `Date`: AWS accepts only midnight UTC.
pub fn date(t: OffsetDateTime) -> Result<OffsetDateTime, LifecycleError> {
    let utc = t.to_offset(time::UtcOffset::UTC);
    if utc.time() != time::Time::MIDNIGHT {
        return Err(LifecycleError::InvalidArgument(
            "'Date' must be at midnight GMT".into(),
        ));
    }
    Ok(utc)
}

impl LifecycleConfig {
    /// AWS's checks across rules and within each; the first failure.
    pub fn validate(&self) -> Result<(), LifecycleError> {
        if self.rules.is_empty() {
            return Err(LifecycleError::Malformed(
                "The XML you provided was not well-formed or did not validate against our published schema: a lifecycle configuration needs at least one Rule".into(),
            ));
        }
        if self.rules.len() > MAX_RULES {
            return Err(LifecycleError::InvalidRequest(format!(
                "The number of lifecycle rules must not exceed the allowed limit of {MAX_RULES} rules"
            )));
        }
        let mut ids = std::collections::HashSet::new();
        for rule in &self.rules {
            rule.validate()?;
            if !ids.insert(rule.id.as_str()) {
                return Err(LifecycleError::InvalidArgument(
                    "Rule ID must be unique. Found same ID for more than one rule".into(),
                ));
            }
        }
        Ok(())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_version(1);
        w.u32(self.rules.len() as u32);
        for r in &self.rules {
            r.encode(&mut w);
        }
        w.finish()
    }

    pub fn decode(b: &[u8]) -> crate::engine::EngineResult<Self> {
        let mut r = Reader::new(b, "lifecycle configuration");
        r.version(1)?;
        let n = r.u32()?;
        let mut rules = Vec::with_capacity(n.min(MAX_RULES as u32) as usize);
        for _ in 0..n {
            rules.push(LifecycleRule::decode(&mut r)?);
        }
        Ok(LifecycleConfig { rules })
    }

    /// Whether any enabled rule could act on object versions (not only on
    /// uploads), so the worker walks the bucket's versions.
    pub fn acts_on_versions(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.enabled && (r.expiration.is_some() || r.noncurrent.is_some()))
    }

    /// Whether any enabled rule aborts uploads.
    pub fn acts_on_uploads(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.enabled && r.abort_upload_days.is_some())
    }
}

impl LifecycleRule {
    fn validate(&self) -> Result<(), LifecycleError> {
        if self.id.len() > MAX_ID_LEN {
            return Err(LifecycleError::InvalidArgument(format!(
                "ID length should not exceed allowed limit of {MAX_ID_LEN}"
            )));
        }
        if self.expiration.is_none()
            && self.noncurrent.is_none()
            && self.abort_upload_days.is_none()
        {
            return Err(LifecycleError::InvalidRequest(
                "At least one action needs to be specified in a rule".into(),
            ));
        }
        let f = &self.filter;
        tags::check(&f.tags, false).map_err(|e| LifecycleError::InvalidRequest(e.to_string()))?;
        if let (Some(gt), Some(lt)) = (f.size_greater_than, f.size_less_than)
            && gt >= lt
        {
            return Err(LifecycleError::InvalidRequest(
                "ObjectSizeGreaterThan must be less than ObjectSizeLessThan".into(),
            ));
        }
        if self.abort_upload_days.is_some() && f.needs_manifest() {
            return Err(LifecycleError::InvalidRequest(
                "AbortIncompleteMultipartUpload cannot be specified with Tags or object size filters"
                    .into(),
            ));
        }
        if matches!(
            self.expiration,
            Some(Expiration::ExpiredObjectDeleteMarker(_))
        ) && f.needs_manifest()
        {
            return Err(LifecycleError::InvalidRequest(
                "ExpiredObjectDeleteMarker cannot be specified with Tags or object size filters"
                    .into(),
            ));
        }
        Ok(())
    }

    fn encode(&self, w: &mut Writer) {
        let f = &self.filter;
        w.str(&self.id)
            .u8(u8::from(self.enabled))
            .u8(match f.form {
                FilterForm::Empty => 0,
                FilterForm::LegacyPrefix => 1,
                FilterForm::Prefix => 2,
                FilterForm::Tag => 3,
                FilterForm::SizeGreaterThan => 4,
                FilterForm::SizeLessThan => 5,
                FilterForm::And => 6,
            })
            .str(&f.prefix)
            .pairs(&f.tags);
        opt_u64(w, f.size_greater_than);
        opt_u64(w, f.size_less_than);
        match self.expiration {
            None => w.u8(0),
            Some(Expiration::Days(d)) => w.u8(1).u32(d),
            Some(Expiration::Date(t)) => w.u8(2).i64(micros(t)),
            Some(Expiration::ExpiredObjectDeleteMarker(on)) => w.u8(3).u8(u8::from(on)),
        };
        match self.noncurrent {
            None => w.u8(0),
            Some(n) => w.u8(1).u32(n.days).u32(n.newer_versions.unwrap_or(0)),
        };
        match self.abort_upload_days {
            None => w.u8(0),
            Some(d) => w.u8(1).u32(d),
        };
    }

    fn decode(r: &mut Reader<'_>) -> crate::engine::EngineResult<Self> {
        let bad = || crate::engine::meta::error::corrupt("lifecycle rule");
        let id = r.str()?;
        let enabled = r.u8()? != 0;
        let form = match r.u8()? {
            0 => FilterForm::Empty,
            1 => FilterForm::LegacyPrefix,
            2 => FilterForm::Prefix,
            3 => FilterForm::Tag,
            4 => FilterForm::SizeGreaterThan,
            5 => FilterForm::SizeLessThan,
            6 => FilterForm::And,
            _ => return Err(bad()),
        };
        let prefix = r.str()?;
        let tags = r.pairs()?;
        let size_greater_than = read_opt_u64(r)?;
        let size_less_than = read_opt_u64(r)?;
        let expiration = match r.u8()? {
            0 => None,
            1 => Some(Expiration::Days(r.u32()?)),
            2 => Some(Expiration::Date(time_from_micros(r.i64()?))),
            3 => Some(Expiration::ExpiredObjectDeleteMarker(r.u8()? != 0)),
            _ => return Err(bad()),
        };
        let noncurrent = match r.u8()? {
            0 => None,
            1 => {
                let days = r.u32()?;
                let newer = r.u32()?;
                Some(NoncurrentExpiration {
                    days,
                    newer_versions: (newer > 0).then_some(newer),
                })
            }
            _ => return Err(bad()),
        };
        let abort_upload_days = match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            _ => return Err(bad()),
        };
        Ok(LifecycleRule {
            id,
            enabled,
            filter: RuleFilter {
                form,
                prefix,
                tags,
                size_greater_than,
                size_less_than,
            },
            expiration,
            noncurrent,
            abort_upload_days,
        })
    }
}

fn opt_u64(w: &mut Writer, v: Option<u64>) {
    match v {
        None => w.u8(0),
        Some(v) => w.u8(1).u64(v),
    };
}

fn read_opt_u64(r: &mut Reader<'_>) -> crate::engine::EngineResult<Option<u64>> {
    Ok(match r.u8()? {
        0 => None,
        _ => Some(r.u64()?),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn rule(id: &str, prefix: &str) -> LifecycleRule {
        LifecycleRule {
            id: id.into(),
            enabled: true,
            filter: RuleFilter {
                form: FilterForm::Prefix,
                prefix: prefix.into(),
                ..RuleFilter::all()
            },
            expiration: None,
            noncurrent: Some(NoncurrentExpiration {
                days: 1,
                newer_versions: Some(45),
            }),
            abort_upload_days: None,
        }
    }

    #[test]
    fn every_field_round_trips() {
        let mut and = rule("b", "logs/");
        and.filter = RuleFilter {
            form: FilterForm::And,
            prefix: "logs/".into(),
            tags: vec![("k".into(), "v".into()), ("k2".into(), String::new())],
            size_greater_than: Some(10),
            size_less_than: Some(1 << 40),
        };
        and.expiration = Some(Expiration::Date(
            time::macros::datetime!(2027-01-01 0:00 UTC),
        ));
        and.noncurrent = None;
        and.enabled = false;
        let mut eodm = rule("c", "");
        eodm.filter.form = FilterForm::LegacyPrefix;
        eodm.expiration = Some(Expiration::ExpiredObjectDeleteMarker(true));
        eodm.abort_upload_days = Some(7);
        let c = LifecycleConfig {
            rules: vec![rule("a", "db/"), and, eodm],
        };
        assert_eq!(LifecycleConfig::decode(&c.encode()).unwrap(), c);
    }

    /// Pinned bytes: a configuration stored by this release must read the
    /// same forever (what is stored is forever).
    #[test]
    fn the_v1_encoding_is_pinned() {
        let c = LifecycleConfig {
            rules: vec![rule("r", "db/")],
        };
        let bytes = c.encode();
        let expected = [
            "01",             // encoding version
            "00000001",       // one rule
            "0000000172",     // id "r"
            "01",             // enabled
            "02",             // filter form: Prefix
            "0000000364622f", // prefix "db/"
            "00000000",       // no tags
            "00",             // no ObjectSizeGreaterThan
            "00",             // no ObjectSizeLessThan
            "00",             // no Expiration
            "01",             // NoncurrentVersionExpiration:
            "00000001",       //   NoncurrentDays 1
            "0000002d",       //   NewerNoncurrentVersions 45
            "00",             // no AbortIncompleteMultipartUpload
        ]
        .concat();
        assert_eq!(hex::encode(&bytes), expected);
        assert_eq!(LifecycleConfig::decode(&bytes).unwrap(), c);
    }

    #[test]
    fn validation_follows_aws() {
        let ok = LifecycleConfig {
            rules: vec![rule("a", "")],
        };
        assert!(ok.validate().is_ok());
        let dup = LifecycleConfig {
            rules: vec![rule("a", ""), rule("a", "x")],
        };
        assert!(matches!(
            dup.validate(),
            Err(LifecycleError::InvalidArgument(_))
        ));
        let many = LifecycleConfig {
            rules: (0..=MAX_RULES).map(|i| rule(&i.to_string(), "")).collect(),
        };
        assert!(matches!(
            many.validate(),
            Err(LifecycleError::InvalidRequest(_))
        ));
        let long = LifecycleConfig {
            rules: vec![rule(&"x".repeat(256), "")],
        };
        assert!(matches!(
            long.validate(),
            Err(LifecycleError::InvalidArgument(_))
        ));
        let mut none = rule("a", "");
        none.noncurrent = None;
        let none = LifecycleConfig { rules: vec![none] };
        assert!(matches!(
            none.validate(),
            Err(LifecycleError::InvalidRequest(_))
        ));
        let mut abort_tags = rule("a", "");
        abort_tags.abort_upload_days = Some(1);
        abort_tags.filter.tags = vec![("k".into(), "v".into())];
        let abort_tags = LifecycleConfig {
            rules: vec![abort_tags],
        };
        assert!(matches!(
            abort_tags.validate(),
            Err(LifecycleError::InvalidRequest(_))
        ));
        assert!(days(0, "Days").is_err() && days(-1, "Days").is_err() && days(3, "Days") == Ok(3));
        assert!(newer_versions(0).is_err() && newer_versions(101).is_err());
        assert!(date(time::macros::datetime!(2027-01-01 0:00 UTC)).is_ok());
        assert!(date(time::macros::datetime!(2027-01-01 0:00:01 UTC)).is_err());
    }

    #[test]
    fn filters_match_as_aws_does() {
        let f = RuleFilter {
            form: FilterForm::And,
            prefix: "db/".into(),
            tags: vec![("t".into(), "1".into())],
            size_greater_than: Some(10),
            size_less_than: Some(100),
        };
        let tags = [
            ("t".to_owned(), "1".to_owned()),
            ("o".to_owned(), "x".to_owned()),
        ];
        assert!(f.matches("db/a", Some((50, &tags))));
        assert!(
            !f.matches("db/a", Some((10, &tags))),
            "greater than is strict"
        );
        assert!(
            !f.matches("db/a", Some((100, &tags))),
            "less than is strict"
        );
        assert!(!f.matches("db/a", Some((50, &tags[1..]))));
        assert!(!f.matches("web/a", Some((50, &tags))));
        assert!(!f.matches("db/a", None), "a delete marker has no tags");
        assert!(RuleFilter::all().matches("any", None));
    }
}
