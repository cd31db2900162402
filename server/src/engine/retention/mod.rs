//! Server-side GFS retention: per bucket and prefix, restic's `forget`
//! policy (`--keep-last`, `--keep-daily`…, `--keep-within`) applied either
//! to the versions of each key or to the objects under the prefix as one
//! series. Rules are a sealed bucket setting (`retention`); the plan shows
//! what each policy keeps and why, like `restic forget --dry-run`; the
//! worker (`worker`) removes the rest through the normal delete paths,
//! keeping what object lock protects.

pub mod policy;
pub mod rules;
pub(crate) mod walk;
pub(crate) mod worker;

use std::sync::Arc;

use time::OffsetDateTime;

use super::Engine;
use super::error::{EngineError, EngineResult};
use super::meta::buckets;
use super::meta::versions;
use rules::{Grouping, RetentionError, RetentionRule, RetentionRules};
use walk::RuleWalk;

/// The bucket setting holding the rules.
pub(crate) const SETTING: &str = "retention";
const WHAT: &str = "retention rules";

/// Which rules a plan covers.
#[derive(Debug, Clone)]
pub enum PlanScope {
    /// Every rule of the bucket.
    All,
    /// The stored rule for exactly this prefix.
    Prefix(String),
    /// A rule not stored: what it would do if it were set (a dry run).
    Proposed(RetentionRule),
}

/// One backup in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// The prefix of the rule that governs it.
    pub prefix: String,
    pub grouping: Grouping,
    pub key: String,
    pub version_id: String,
    pub last_modified: OffsetDateTime,
    /// Why its policy keeps it, in restic's words; empty when it goes.
    pub reasons: Vec<String>,
    /// Its policy lets it go, but object lock keeps it for now.
    pub locked: bool,
}

impl PlanEntry {
    pub fn kept(&self) -> bool {
        !self.reasons.is_empty() || self.locked
    }
}

/// The plan: the first `limit` backups in key order (per rule), and the
/// counts of all.
#[derive(Debug, Clone, Default)]
pub struct RetentionPlan {
    pub entries: Vec<PlanEntry>,
    pub kept: u64,
    pub removed: u64,
    /// Kept only because object lock protects them.
    pub locked: u64,
    pub versions_scanned: u64,
}

impl Engine {
    /// A bucket's retention rules (none: empty).
    pub fn retention(&self, bucket: &str) -> EngineResult<RetentionRules> {
        let txn = self.inner.meta.read()?;
        buckets::get(&txn, bucket)?;
        decode(buckets::sealed_setting(&txn, bucket, SETTING, WHAT)?)
    }

    /// Sets the rule for its prefix, replacing the one there was.
    pub fn set_retention_rule(&self, bucket: &str, rule: RetentionRule) -> EngineResult<()> {
        self.inner.meta.write("set retention rule", |txn| {
            let mut rules = decode(buckets::sealed_setting_rw(txn, bucket, SETTING, WHAT)?)?;
            rules.set(rule).map_err(EngineError::InvalidRetention)?;
            buckets::put_sealed_setting(txn, bucket, SETTING, Some(&rules.encode()))
        })
    }

    /// Removes the rule for `prefix`
    /// ([`EngineError::NoSuchRetentionRule`] when there is none).
    pub fn remove_retention_rule(&self, bucket: &str, prefix: &str) -> EngineResult<()> {
        self.inner.meta.write("remove retention rule", |txn| {
            buckets::get_rw(txn, bucket)?;
            let mut rules = decode(buckets::sealed_setting_rw(txn, bucket, SETTING, WHAT)?)?;
            if !rules.remove(prefix) {
                return Err(EngineError::NoSuchRetentionRule(prefix.to_owned()));
            }
            let plain = (!rules.rules.is_empty()).then(|| rules.encode());
            buckets::put_sealed_setting(txn, bucket, SETTING, plain.as_deref())
        })
    }

    /// What the rules keep and why, and what goes: the first `limit`
    /// backups and the counts of all. Reads one snapshot of the bucket.
    pub fn retention_plan(
        &self,
        bucket: &str,
        scope: PlanScope,
        limit: usize,
    ) -> EngineResult<RetentionPlan> {
        let mut rules = self.retention(bucket)?;
        let which: Vec<usize> = match scope {
            PlanScope::All => (0..rules.rules.len()).collect(),
            PlanScope::Prefix(p) => match rules.rules.iter().position(|r| r.prefix == p) {
                Some(i) => vec![i],
                None => return Err(EngineError::NoSuchRetentionRule(p)),
            },
            PlanScope::Proposed(rule) => {
                let prefix = rule.prefix.clone();
                rules.set(rule).map_err(EngineError::InvalidRetention)?;
                let i = rules.rules.iter().position(|r| r.prefix == prefix);
                vec![i.expect("the rule was just set")]
            }
        };
        let rules = Arc::new(rules);
        let locked_bucket = self.bucket_lock(bucket)?.is_some();
        let now = self.now().unix_timestamp();
        let txn = self.inner.meta.read()?;
        let mut plan = RetentionPlan::default();
        for i in which {
            let rule = &rules.rules[i];
            let mut walk = RuleWalk::new(rules.clone(), i, locked_bucket);
            while !walk.done() {
                let counted = !walk.rereading();
                let rows = walk.advance(&txn, bucket, now, &mut |v| {
                    let keep = v.reasons.kept();
                    match (keep, v.locked) {
                        (true, _) => plan.kept += 1,
                        (false, true) => plan.locked += 1,
                        (false, false) => plan.removed += 1,
                    }
                    if plan.entries.len() < limit {
                        let s = v.member.slot;
                        plan.entries.push(PlanEntry {
                            prefix: rule.prefix.clone(),
                            grouping: rule.grouping,
                            key: v.key.to_owned(),
                            version_id: versions::version_id_of(s.null, s.seq, s.rand)
                                .as_str()
                                .to_owned(),
                            last_modified: OffsetDateTime::from_unix_timestamp(v.member.secs)
                                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                            reasons: v.reasons.describe(&rule.policy),
                            locked: !keep && v.locked,
                        });
                    }
                })?;
                if counted {
                    plan.versions_scanned += rows;
                }
            }
        }
        Ok(plan)
    }
}

fn decode(plain: Option<Vec<u8>>) -> EngineResult<RetentionRules> {
    match plain {
        Some(b) => RetentionRules::decode(&b),
        None => Ok(RetentionRules::default()),
    }
}

impl From<RetentionError> for EngineError {
    fn from(e: RetentionError) -> Self {
        EngineError::InvalidRetention(e)
    }
}
