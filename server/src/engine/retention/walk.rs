//! Walking one retention rule's prefix a bounded batch of rows at a time,
//! deciding for each backup whether its policy keeps it: shared by the
//! worker (which removes what goes) and `coffer retention plan` (which
//! shows it all).
//!
//! Per key, a key's versions arrive together and newest first (the
//! `versions` table's order), so they are decided when the key ends and
//! only that key's versions are held. A series needs the whole prefix
//! before anything is decided, so it is walked twice: the first walk keeps
//! 32 bytes per object (its time and version id), the second decides each one
//! as it comes, in the same key order. An object the second walk does not
//! find where the first saw it (a PUT or DELETE in between) ends the
//! rule's walk for this pass; nothing is decided on a changed series.

use std::sync::Arc;

use super::policy::Reasons;
use super::rules::{Grouping, RetentionRules};
use crate::engine::error::EngineResult;
use crate::engine::lifecycle::evaluate::Slot;
use crate::engine::meta::ReadTxn;
use crate::engine::meta::versions::{self, VersionRecord};
use crate::engine::object_lock;

/// Rows of the `versions` table read per batch.
pub(crate) const BATCH: usize = 1000;

/// One backup: an object version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub slot: Slot,
    /// Last-Modified, whole seconds since the epoch.
    pub secs: i64,
}

/// A decision about one backup (its key borrowed: most are kept, and only
/// what goes, or what a plan lists, needs a copy).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict<'a> {
    pub key: &'a str,
    pub member: Member,
    pub reasons: Reasons,
    /// Per key only: object lock forbids removing it now, so it stays
    /// though its policy lets it go.
    pub locked: bool,
}

#[derive(Debug)]
enum Stage {
    /// The key being read and its versions so far, newest first.
    PerKey {
        key: Option<String>,
        members: Vec<(Member, bool)>,
    },
    /// A series' first walk: its objects in key order.
    Collect(Vec<Member>),
    /// The second walk: the reasons of each object by its place in the
    /// first walk's order, and how many were decided so far.
    Decide {
        members: Vec<Member>,
        reasons: Vec<Reasons>,
        next: usize,
    },
    Done,
}

/// Where a walk of one rule is.
#[derive(Debug)]
pub(crate) struct RuleWalk {
    pub rules: Arc<RetentionRules>,
    pub rule: usize,
    after: Option<Vec<u8>>,
    stage: Stage,
    /// Whether the bucket has object lock (per-key walks read each
    /// version's lock entries only then).
    locked_bucket: bool,
    /// The key of the last row read: a batch may end inside a key, and the
    /// next must not take that key's next row for its newest.
    last_key: Option<String>,
}

impl RuleWalk {
    pub fn new(rules: Arc<RetentionRules>, rule: usize, locked_bucket: bool) -> Self {
        let stage = match rules.rules[rule].grouping {
            Grouping::PerKey => Stage::PerKey {
                key: None,
                members: Vec::new(),
            },
            Grouping::Series => Stage::Collect(Vec::new()),
        };
        RuleWalk {
            rules,
            rule,
            after: None,
            stage,
            locked_bucket,
            last_key: None,
        }
    }

    pub fn done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// Whether a series is being read the second time (its rows were
    /// counted the first).
    pub fn rereading(&self) -> bool {
        matches!(self.stage, Stage::Decide { .. })
    }

    /// Reads the next batch of at most [`BATCH`] rows in `txn`; verdicts go
    /// to `out`. `now` (whole seconds) bounds the policies' newest backup
    /// and decides locks. Returns the rows read.
    pub fn advance(
        &mut self,
        txn: &ReadTxn,
        bucket: &str,
        now: i64,
        out: &mut impl FnMut(Verdict<'_>),
    ) -> EngineResult<u64> {
        if self.done() {
            return Ok(0);
        }
        let rule = &self.rules.rules[self.rule];
        let (rules, me) = (self.rules.clone(), self.rule);
        let locked_bucket = self.locked_bucket;
        let policy = rule.policy;
        let mut rows = 0u64;
        let mut previous_key = self.last_key.take();
        let stage = &mut self.stage;
        let last = versions::scan_prefix(
            txn,
            bucket,
            &rule.prefix,
            self.after.as_deref(),
            BATCH,
            |row| {
                rows += 1;
                if rules.governing(row.key) != Some(me) {
                    return Ok(());
                }
                let slot = Slot {
                    seq: row.head.seq,
                    rand: row.head.rand,
                    null: row.head.null,
                };
                let member = Member {
                    slot,
                    secs: row.head.mtime_us.div_euclid(1_000_000),
                };
                match stage {
                    Stage::PerKey { key, members } => {
                        if key.as_deref() != Some(row.key) {
                            finish_key(key, members, &policy, now, out);
                            *key = Some(row.key.to_owned());
                        }
                        if row.head.delete_marker {
                            return Ok(());
                        }
                        let locked = locked_bucket && {
                            let rec =
                                VersionRecord::decode(row.value, txn.sealer(), row.index_key)?;
                            rec.manifest.as_ref().is_some_and(|m| {
                                let lock = object_lock::lock_of(&m.system_metadata);
                                let at = time::OffsetDateTime::from_unix_timestamp(now)
                                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                                object_lock::check_removal(&lock, at, false).is_err()
                            })
                        };
                        members.push((member, locked));
                    }
                    Stage::Collect(members) => {
                        // A key's newest row: the object, unless deleted.
                        if previous_key.as_deref() != Some(row.key) && !row.head.delete_marker {
                            members.push(member);
                        }
                    }
                    Stage::Decide {
                        members,
                        reasons,
                        next,
                    } => {
                        if previous_key.as_deref() != Some(row.key) && !row.head.delete_marker {
                            if members.get(*next) != Some(&member) {
                                // The series changed since the first walk.
                                *next = usize::MAX;
                            }
                            if *next < members.len() {
                                out(Verdict {
                                    key: row.key,
                                    member,
                                    reasons: reasons[*next],
                                    locked: false,
                                });
                                *next += 1;
                            }
                        }
                    }
                    Stage::Done => {}
                }
                if previous_key.as_deref() != Some(row.key) {
                    previous_key = Some(row.key.to_owned());
                }
                Ok(())
            },
        )?;
        self.last_key = previous_key;
        self.after = last;
        if self.after.is_none() {
            self.end_of_prefix(now, out);
        }
        if matches!(
            self.stage,
            Stage::Decide {
                next: usize::MAX,
                ..
            }
        ) {
            self.stage = Stage::Done;
        }
        Ok(rows)
    }

    /// The prefix has been read to its end.
    fn end_of_prefix(&mut self, now: i64, out: &mut impl FnMut(Verdict<'_>)) {
        let policy = self.rules.rules[self.rule].policy;
        self.stage = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::PerKey {
                mut key,
                mut members,
            } => {
                finish_key(&mut key, &mut members, &policy, now, out);
                Stage::Done
            }
            Stage::Collect(members) => {
                // Newest first; equal times in key order.
                let mut order: Vec<usize> = (0..members.len()).collect();
                order.sort_by(|&a, &b| members[b].secs.cmp(&members[a].secs).then(a.cmp(&b)));
                let times: Vec<i64> = order.iter().map(|&i| members[i].secs).collect();
                let decided = policy.apply(&times, now);
                let mut reasons = vec![Reasons::default(); members.len()];
                for (place, &i) in order.iter().enumerate() {
                    reasons[i] = decided[place];
                }
                self.after = None;
                self.last_key = None;
                Stage::Decide {
                    members,
                    reasons,
                    next: 0,
                }
            }
            Stage::Decide { .. } | Stage::Done => Stage::Done,
        };
    }
}

/// Decides the versions of the key just read.
fn finish_key(
    key: &mut Option<String>,
    members: &mut Vec<(Member, bool)>,
    policy: &super::policy::KeepPolicy,
    now: i64,
    out: &mut impl FnMut(Verdict<'_>),
) {
    let Some(k) = key.take() else {
        return;
    };
    let times: Vec<i64> = members.iter().map(|(m, _)| m.secs).collect();
    // The table's order is newest first by sequence; a clock that was set
    // back may disagree, and the policy wants newest first by time.
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| times[b].cmp(&times[a]).then(a.cmp(&b)));
    let sorted: Vec<i64> = order.iter().map(|&i| times[i]).collect();
    let decided = policy.apply(&sorted, now);
    for (place, &i) in order.iter().enumerate() {
        let (member, locked) = members[i];
        out(Verdict {
            key: &k,
            member,
            reasons: decided[place],
            locked,
        });
    }
    members.clear();
}
