//! A bucket's GFS retention rules as Coffer holds them: per prefix, a
//! [`KeepPolicy`] applied either to the versions of each key or to the
//! objects under the prefix as one series; their checks and their stored
//! encoding (sealed as the bucket setting `retention`; byte layout in
//! `repo-format/DESIGN.md`, section 7.1).

use super::policy::{KeepPolicy, Span};
use crate::engine::meta::codec::{Reader, Writer};

/// Rules per bucket: each is one more walk of its prefix per pass.
pub const MAX_RULES: usize = 100;
/// An S3 key is at most 1024 bytes; so is a prefix.
pub const MAX_PREFIX_LEN: usize = 1024;

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("a retention rule must keep something: give at least one --keep option")]
    KeepsNothing,
    #[error("a prefix is at most {MAX_PREFIX_LEN} bytes")]
    PrefixTooLong,
    #[error("a bucket has at most {MAX_RULES} retention rules")]
    TooManyRules,
}

/// What one backup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// Each key's versions are its backups (a nightly dump overwriting one
    /// key in a versioned bucket); one that goes is deleted by version id.
    PerKey,
    /// Each object under the prefix is one backup of one series (a new key
    /// per backup); one that goes is deleted as DeleteObject deletes it (a
    /// delete marker where the bucket is versioned).
    Series,
}

impl Grouping {
    pub fn name(self) -> &'static str {
        match self {
            Grouping::PerKey => "per-key",
            Grouping::Series => "series",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "per-key" => Some(Grouping::PerKey),
            "series" => Some(Grouping::Series),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    /// The keys it governs start with this (`""`: the whole bucket).
    pub prefix: String,
    pub grouping: Grouping,
    pub policy: KeepPolicy,
}

/// A bucket's rules, sorted by prefix, one per prefix. A key is governed
/// by the rule with the longest prefix it starts with, so a rule for
/// `db/` takes its keys out of a rule for the whole bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionRules {
    pub rules: Vec<RetentionRule>,
}

impl RetentionRule {
    pub fn validate(&self) -> Result<(), RetentionError> {
        if self.policy.is_empty() {
            return Err(RetentionError::KeepsNothing);
        }
        if self.prefix.len() > MAX_PREFIX_LEN {
            return Err(RetentionError::PrefixTooLong);
        }
        Ok(())
    }
}

impl RetentionRules {
    /// The rule governing `key`, by index.
    pub fn governing(&self, key: &str) -> Option<usize> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| key.starts_with(&r.prefix))
            .max_by_key(|(_, r)| r.prefix.len())
            .map(|(i, _)| i)
    }

    pub fn get(&self, prefix: &str) -> Option<&RetentionRule> {
        self.rules.iter().find(|r| r.prefix == prefix)
    }

    /// Sets the rule for its prefix, replacing the one there was.
    pub fn set(&mut self, rule: RetentionRule) -> Result<(), RetentionError> {
        rule.validate()?;
        match self.rules.binary_search_by(|r| r.prefix.cmp(&rule.prefix)) {
            Ok(i) => self.rules[i] = rule,
            Err(i) => {
                if self.rules.len() >= MAX_RULES {
                    return Err(RetentionError::TooManyRules);
                }
                self.rules.insert(i, rule);
            }
        }
        Ok(())
    }

    /// Removes the rule for `prefix`; whether there was one.
    pub fn remove(&mut self, prefix: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.prefix != prefix);
        self.rules.len() != before
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_version(1);
        w.u32(self.rules.len() as u32);
        for r in &self.rules {
            w.str(&r.prefix).u8(match r.grouping {
                Grouping::PerKey => 0,
                Grouping::Series => 1,
            });
            let p = &r.policy;
            w.u32(p.last);
            for n in p.periods {
                w.u32(n);
            }
            for s in std::iter::once(&p.within).chain(&p.within_periods) {
                w.u32(s.years).u32(s.months).u32(s.days).u32(s.hours);
            }
        }
        w.finish()
    }

    pub fn decode(b: &[u8]) -> crate::engine::EngineResult<Self> {
        let mut r = Reader::new(b, "retention rules");
        r.version(1)?;
        let n = r.u32()?;
        let mut rules = Vec::with_capacity(n.min(MAX_RULES as u32) as usize);
        for _ in 0..n {
            let prefix = r.str()?;
            let grouping = match r.u8()? {
                0 => Grouping::PerKey,
                1 => Grouping::Series,
                _ => return Err(crate::engine::meta::error::corrupt("retention rule")),
            };
            let mut policy = KeepPolicy {
                last: r.u32()?,
                ..KeepPolicy::default()
            };
            for n in &mut policy.periods {
                *n = r.u32()?;
            }
            let mut span = || -> crate::engine::EngineResult<Span> {
                Ok(Span {
                    years: r.u32()?,
                    months: r.u32()?,
                    days: r.u32()?,
                    hours: r.u32()?,
                })
            };
            policy.within = span()?;
            for s in &mut policy.within_periods {
                *s = span()?;
            }
            rules.push(RetentionRule {
                prefix,
                grouping,
                policy,
            });
        }
        Ok(RetentionRules { rules })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn rule(prefix: &str, grouping: Grouping, last: u32) -> RetentionRule {
        RetentionRule {
            prefix: prefix.into(),
            grouping,
            policy: KeepPolicy {
                last,
                ..KeepPolicy::default()
            },
        }
    }

    #[test]
    fn the_longest_prefix_governs() {
        let mut rules = RetentionRules::default();
        rules.set(rule("", Grouping::Series, 3)).unwrap();
        rules.set(rule("db/", Grouping::PerKey, 5)).unwrap();
        assert_eq!(rules.governing("db/x"), Some(1));
        assert_eq!(rules.governing("web/x"), Some(0));
        rules.set(rule("db/", Grouping::PerKey, 7)).unwrap();
        assert_eq!(rules.rules.len(), 2, "replaced, not added");
        assert_eq!(rules.get("db/").unwrap().policy.last, 7);
        assert!(rules.remove(""));
        assert_eq!(rules.governing("web/x"), None);
        assert!(!rules.remove("nothing/"));
    }

    #[test]
    fn a_rule_that_keeps_nothing_is_refused() {
        let mut rules = RetentionRules::default();
        assert_eq!(
            rules.set(rule("", Grouping::Series, 0)),
            Err(RetentionError::KeepsNothing)
        );
        for i in 0..MAX_RULES {
            rules
                .set(rule(&format!("{i}/"), Grouping::Series, 1))
                .unwrap();
        }
        assert_eq!(
            rules.set(rule("x/", Grouping::Series, 1)),
            Err(RetentionError::TooManyRules)
        );
    }

    /// Pinned bytes: rules stored by this release must read the same in
    /// every later one (a change of layout is a new version byte and a
    /// reader for this one).
    #[test]
    fn the_v1_encoding_is_pinned() {
        let mut policy = KeepPolicy {
            last: 35,
            periods: [0, 7, 8, 12, 2],
            within: Span::parse("1y2m3d4h").unwrap(),
            ..KeepPolicy::default()
        };
        policy.within_periods[1] = Span::parse("30d").unwrap();
        let rules = RetentionRules {
            rules: vec![RetentionRule {
                prefix: "db/".into(),
                grouping: Grouping::Series,
                policy,
            }],
        };
        let bytes = rules.encode();
        let expected = concat!(
            "01",       // version
            "00000001", // rules
            "00000003", "64622f",   // prefix "db/"
            "01",       // series
            "00000023", // last 35
            "00000000", "00000007", "00000008", "0000000c", "00000002", "00000001", "00000002",
            "00000003", "00000004", // within 1y2m3d4h
            "00000000", "00000000", "00000000", "00000000", // within-hourly
            "00000000", "00000000", "0000001e", "00000000", // within-daily 30d
            "00000000", "00000000", "00000000", "00000000", "00000000", "00000000", "00000000",
            "00000000", "00000000", "00000000", "00000000", "00000000",
        );
        assert_eq!(hex::encode(&bytes), expected);
        assert_eq!(RetentionRules::decode(&bytes).unwrap(), rules);
    }
}
