//! The `retention` worker: applies every bucket's GFS retention rules on
//! the engine clock, through the normal delete paths, a bounded batch at a
//! time.
//!
//! A pass visits each bucket that has rules, and in it each rule's prefix
//! ([`RuleWalk`]). Each batch of [`BATCH`](super::walk::BATCH) rows is read
//! in one snapshot and what its policy lets go is removed in one
//! transaction: per key, the version by its id (DeleteObject with
//! `versionId`); in a series, the object as DeleteObject removes it (a
//! delete marker where the bucket is versioned). After the last bucket it
//! waits an hour of engine time
//! ([`INTERVAL`](crate::engine::rule_worker::INTERVAL)) and starts over.
//!
//! Every removal is checked again inside its transaction: the rules must
//! still be those the walk decided under, a version must still exist, a
//! per-key version must not have become its key's newest row (its newer
//! versions deleted meanwhile), a series object must still be current, and
//! object lock must allow the removal (a locked version is kept and
//! counted, never removed early).

use std::sync::{Arc, Weak};

use super::rules::{Grouping, RetentionRules};
use super::walk::{RuleWalk, Verdict};
use super::{SETTING, WHAT, decode};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::buckets;
use crate::engine::meta::chunks::ChunkBook;
use crate::engine::meta::codec::micros;
use crate::engine::meta::committer::JobResult;
use crate::engine::meta::versions;
use crate::engine::objects;
use crate::engine::rule_worker::{self, BucketRules};
use crate::engine::{Engine, Inner};
use crate::workers::Spec;

pub(crate) fn spec(inner: Weak<Inner>) -> Spec {
    rule_worker::spec::<RetentionWork>(inner)
}

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    passes: u64,
    removed: u64,
    /// Backups past their policy that object lock kept, in the pass under
    /// way and in the last whole one (each pass meets them again).
    kept_by_lock: u64,
    kept_by_lock_last_pass: u64,
}

/// Where the pass is inside one bucket.
pub(crate) struct BucketRun {
    bucket: String,
    rules: Arc<RetentionRules>,
    locked_bucket: bool,
    next_rule: usize,
    walk: Option<RuleWalk>,
}

#[derive(Default)]
pub(crate) struct RetentionWork {
    done: Counters,
}

#[async_trait::async_trait]
impl BucketRules for RetentionWork {
    type Walk = BucketRun;

    fn name(&self) -> &'static str {
        "retention"
    }

    fn has_rules(engine: &Engine, bucket: &str) -> EngineResult<bool> {
        Ok(!engine.retention(bucket)?.rules.is_empty())
    }

    fn start(&mut self, engine: &Engine, bucket: String) -> EngineResult<Option<BucketRun>> {
        start(engine, bucket)
    }

    /// One batch of a bucket's current rule.
    async fn advance(
        &mut self,
        engine: &Engine,
        mut run: BucketRun,
    ) -> EngineResult<Option<BucketRun>> {
        let current = match engine.retention(&run.bucket) {
            Ok(r) => r,
            Err(EngineError::NoSuchBucket(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if current != *run.rules {
            // Changed rules: what was walked so far was decided under others.
            return start(engine, run.bucket);
        }
        let mut walk = match run.walk.take() {
            Some(w) => w,
            None if run.next_rule < run.rules.rules.len() => {
                run.next_rule += 1;
                RuleWalk::new(run.rules.clone(), run.next_rule - 1, run.locked_bucket)
            }
            None => return Ok(None),
        };
        let now = engine.now().unix_timestamp();
        let (inner, bucket) = (engine.inner.clone(), run.bucket.clone());
        let started = std::time::Instant::now();
        let (walk, going) = crate::engine::blocking(move || {
            let txn = inner.meta.read()?;
            let mut going = Vec::new();
            walk.advance(&txn, &bucket, now, &mut |v: Verdict<'_>| {
                if !v.reasons.kept() {
                    going.push((v.key.to_owned(), v.member.slot.seq));
                }
            })?;
            Ok((walk, going))
        })
        .await?;
        let reading = started.elapsed();
        if !going.is_empty() {
            let grouping = run.rules.rules[walk.rule].grouping;
            let (removed, locked) =
                apply(engine, &run.bucket, run.rules.clone(), grouping, going).await?;
            self.done.removed += removed;
            self.done.kept_by_lock += locked;
            if locked > 0 {
                tracing::info!(
                    bucket = %run.bucket,
                    prefix = %run.rules.rules[walk.rule].prefix,
                    versions = locked,
                    "retention: versions past their policy kept by object lock"
                );
            }
        }
        if !walk.done() {
            run.walk = Some(walk);
        }
        rule_worker::rest_after(reading).await;
        Ok(Some(run))
    }

    fn end_pass(&mut self) {
        let c = &mut self.done;
        c.passes += 1;
        c.kept_by_lock_last_pass = std::mem::take(&mut c.kept_by_lock);
    }

    fn progress(&self) -> String {
        let c = self.done;
        format!(
            "{} passes; {} removed; {} kept by object lock in the last pass",
            c.passes, c.removed, c.kept_by_lock_last_pass
        )
    }
}

/// A bucket's run, `None` when it has no rules (any more) or is gone.
fn start(engine: &Engine, bucket: String) -> EngineResult<Option<BucketRun>> {
    let rules = match engine.retention(&bucket) {
        Ok(r) if !r.rules.is_empty() => r,
        Ok(_) | Err(EngineError::NoSuchBucket(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let locked_bucket = engine.bucket_lock(&bucket)?.is_some();
    Ok(Some(BucketRun {
        bucket,
        rules: Arc::new(rules),
        locked_bucket,
        next_rule: 0,
        walk: None,
    }))
}

/// Runs one whole pass at once (engine tests step simulated days with it).
#[cfg(test)]
pub(crate) async fn run_pass(engine: &Engine) -> EngineResult<()> {
    rule_worker::RuleWorker::run_pass(engine, RetentionWork::default()).await
}

/// Removes one batch's backups that go (key and version sequence), in one
/// transaction; how many were removed and how many object lock kept.
async fn apply(
    engine: &Engine,
    bucket: &str,
    rules: Arc<RetentionRules>,
    grouping: Grouping,
    going: Vec<(String, u64)>,
) -> EngineResult<(u64, u64)> {
    let (clock, b) = (engine.inner.clock.clone(), bucket.to_owned());
    engine
        .inner
        .meta
        .submit(move |txn| {
            let (mut removed, mut locked) = (0, 0);
            if decode(buckets::sealed_setting_rw(txn, &b, SETTING, WHAT)?)? != *rules {
                return Ok(Ok((removed, locked)));
            }
            let mut book = None;
            for (key, seq) in &going {
                let (key, seq) = (key.as_str(), *seq);
                let Some((head, newest, _)) = versions::standing_rw(txn, &b, key, seq)? else {
                    continue;
                };
                if head.delete_marker {
                    continue;
                }
                match grouping {
                    Grouping::PerKey => {
                        if newest {
                            continue;
                        }
                        if objects::removal_allowed(txn, &clock, &b, key, seq, false)?.is_err() {
                            locked += 1;
                            continue;
                        }
                        if book.is_none() {
                            book = Some(ChunkBook::open(txn, micros(clock.now()))?);
                        }
                        let book = book.as_mut().expect("just opened");
                        versions::remove(txn, book, &b, key, seq)?;
                        versions::refresh_live(txn, &b, key)?;
                        removed += 1;
                    }
                    Grouping::Series => {
                        if !newest {
                            continue;
                        }
                        // The normal DeleteObject path.
                        let done: JobResult<_> =
                            objects::apply_delete(txn, &clock, &b, key, None, false);
                        if done?.is_ok() {
                            removed += 1;
                        }
                    }
                }
            }
            if let Some(book) = book {
                book.flush()?;
            }
            Ok(Ok((removed, locked)))
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use time::{Duration as TimeDuration, OffsetDateTime};

    use super::super::policy::{KeepPolicy, Span};
    use super::super::rules::{Grouping, RetentionRule};
    use super::*;
    use crate::engine::lifecycle::worker::tests::{put, set_time};
    use crate::engine::types::{VersioningState, VersionsQuery};

    /// The nights whose backup is still stored, from their Last-Modified.
    fn kept_nights(e: &Engine, bucket: &str, origin: OffsetDateTime) -> Vec<i64> {
        let page = e
            .list_versions(
                bucket,
                &VersionsQuery {
                    prefix: String::new(),
                    delimiter: None,
                    key_marker: None,
                    version_id_marker: None,
                    max_keys: 1000,
                },
            )
            .unwrap();
        assert!(!page.is_truncated);
        let mut nights: Vec<i64> = page
            .versions
            .iter()
            .inspect(|v| assert!(!v.is_delete_marker))
            .map(|v| (v.last_modified - origin).whole_days())
            .collect();
        nights.sort_unstable();
        nights
    }

    /// What a GFS policy keeps of `times`, written as the set it
    /// describes (not restic's counting loop): the newest `last`, and for
    /// each period the newest backup of each of the N most recent periods
    /// that have one.
    fn model(policy: &KeepPolicy, times: &[OffsetDateTime]) -> BTreeSet<OffsetDateTime> {
        let mut newest_first = times.to_vec();
        newest_first.sort_unstable_by(|a, b| b.cmp(a));
        let mut kept: BTreeSet<_> = newest_first
            .iter()
            .take(policy.last as usize)
            .copied()
            .collect();
        type PeriodOf = fn(&OffsetDateTime) -> (i32, u32);
        let periods: [PeriodOf; 5] = [
            |t| (t.year(), t.ordinal() as u32 * 100 + u32::from(t.hour())),
            |t| (t.year(), t.ordinal() as u32),
            |t| {
                let (y, w, _) = t.to_iso_week_date();
                (y, u32::from(w))
            },
            |t| (t.year(), u32::from(u8::from(t.month()))),
            |t| (t.year(), 0),
        ];
        for (n, period) in policy.periods.iter().zip(periods) {
            let mut newest: BTreeMap<(i32, u32), OffsetDateTime> = BTreeMap::new();
            for t in times {
                let e = newest.entry(period(t)).or_insert(*t);
                *e = (*e).max(*t);
            }
            kept.extend(newest.values().rev().take(*n as usize));
        }
        if !policy.within.is_zero() {
            let latest = *newest_first.first().unwrap();
            let days = i64::from(policy.within.days);
            kept.extend(
                times
                    .iter()
                    .filter(|t| **t > latest - TimeDuration::days(days)),
            );
        }
        kept
    }

    /// The GFS rows over 400 nights of backups at 02:00, one as
    /// the versions of one key (keep the last 3, 7 daily, 8 weekly, 12
    /// monthly, 2 yearly), one as a series of keys (the last 30 full
    /// backups, 4 weekly, and all within 10 days): after the worker's pass
    /// each simulated evening, what is stored is exactly what the policy
    /// describes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gfs_rules_over_400_nights_keep_exactly_what_they_describe() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::open_for_test(dir.path()).await;
        e.create_bucket("dumps").unwrap();
        e.set_versioning("dumps", VersioningState::Enabled).unwrap();
        e.create_bucket("fulls").unwrap();
        let per_key = KeepPolicy {
            last: 3,
            periods: [0, 7, 8, 12, 2],
            ..KeepPolicy::default()
        };
        let series = KeepPolicy {
            last: 30,
            periods: [0, 0, 4, 0, 0],
            within: Span::parse("10d").unwrap(),
            ..KeepPolicy::default()
        };
        e.set_retention_rule(
            "dumps",
            RetentionRule {
                prefix: "db/".into(),
                grouping: Grouping::PerKey,
                policy: per_key,
            },
        )
        .unwrap();
        e.set_retention_rule(
            "fulls",
            RetentionRule {
                prefix: String::new(),
                grouping: Grouping::Series,
                policy: series,
            },
        )
        .unwrap();
        let now = e.now();
        let origin = now.date().next_day().unwrap().midnight().assume_utc();
        let mut made = Vec::new();
        for night in 0..400i64 {
            set_time(&e, origin, night, 2);
            made.push(e.now().replace_nanosecond(0).unwrap());
            put(&e, "dumps", "db/prod.sql.gz", night.to_string()).await;
            put(
                &e,
                "fulls",
                &format!("full-{night:04}.tar"),
                night.to_string(),
            )
            .await;
            set_time(&e, origin, night, 23);
            run_pass(&e).await.unwrap();
            for (bucket, policy) in [("dumps", &per_key), ("fulls", &series)] {
                let expected: Vec<i64> = model(policy, &made)
                    .into_iter()
                    .map(|t| (t - origin).whole_days())
                    .collect();
                assert_eq!(
                    kept_nights(&e, bucket, origin),
                    expected,
                    "{bucket} on night {night}"
                );
            }
        }
        // 3 last ∪ 7 daily, 8 weekly, 12 monthly, 2 yearly at the end.
        assert!(kept_nights(&e, "dumps", origin).len() >= 12 + 8);
    }
}
