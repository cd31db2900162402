//! The `lifecycle` worker: applies every bucket's lifecycle rules on the
//! engine clock, through the normal delete paths, a bounded batch at a
//! time.
//!
//! A pass visits each bucket that has rules. For a bucket it reads the
//! `versions` table in snapshots of [`BATCH`] rows (clear headers only,
//! unless a rule filters on size or tags), feeds them to the
//! [`Walker`](super::evaluate::Walker), and commits what is due in one
//! transaction per batch; then it aborts the uploads that are due. So it
//! never holds a bucket in memory, and a writer waits at most for one
//! batch's commit. After the last bucket it waits an hour of engine
//! time and starts over.
//!
//! Every action is checked again inside its transaction, where it decides:
//! the configuration must still be the one the batch was decided under (a
//! rule deleted meanwhile acts no more), a current version must still be
//! current (a PUT since then is never expired by a decision about its
//! predecessor), a noncurrent version must still be noncurrent, and a lone
//! delete marker still alone.

use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Weak};

use time::OffsetDateTime;

use super::evaluate::{Action, Decision, Row, Slot, Walker, due_after};
use super::rules::LifecycleConfig;
use super::{LifecyclePlan, PlanAction, PlannedAction, SETTING, WHAT};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::buckets;
use crate::engine::meta::chunks::ChunkBook;
use crate::engine::meta::codec::{micros, time_from_micros};
use crate::engine::meta::committer::JobResult;
use crate::engine::meta::versions::{self, VersionRecord};
use crate::engine::meta::{ReadTxn, Txn};
use crate::engine::objects;
use crate::engine::rule_worker::{self, BucketRules};
use crate::engine::tags;
use crate::engine::types::UploadsQuery;
use crate::engine::{Engine, Inner};
use crate::workers::Spec;

/// Rows of the `versions` table read per snapshot, and uploads per page.
pub(crate) const BATCH: usize = 1000;
pub(crate) fn spec(inner: Weak<Inner>) -> Spec {
    rule_worker::spec::<LifecycleWork>(inner)
}

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    passes: u64,
    expired: u64,
    noncurrent_deleted: u64,
    markers_removed: u64,
    uploads_aborted: u64,
}

/// Where the pass is inside one bucket.
pub(crate) struct BucketWalk {
    bucket: String,
    walker: Walker,
    /// Index key of the last row read; `None` before the first.
    after: Option<Vec<u8>>,
    versions_done: bool,
    /// Where the next page of uploads starts.
    uploads_after: Option<(String, String)>,
    uploads_done: bool,
}

impl BucketWalk {
    fn new(bucket: String, config: Arc<LifecycleConfig>) -> Self {
        let versions_done = !config.acts_on_versions();
        let uploads_done = !config.acts_on_uploads();
        BucketWalk {
            bucket,
            walker: Walker::new(config),
            after: None,
            versions_done,
            uploads_after: None,
            uploads_done,
        }
    }
}

#[derive(Default)]
pub(crate) struct LifecycleWork {
    done: Counters,
}

#[async_trait::async_trait]
impl BucketRules for LifecycleWork {
    type Walk = BucketWalk;

    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn has_rules(engine: &Engine, bucket: &str) -> EngineResult<bool> {
        Ok(engine.lifecycle(bucket)?.is_some())
    }

    fn start(&mut self, engine: &Engine, bucket: String) -> EngineResult<Option<BucketWalk>> {
        match engine.lifecycle(&bucket) {
            Ok(Some(config)) => Ok(Some(BucketWalk::new(bucket, config))),
            Ok(None) | Err(EngineError::NoSuchBucket(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn advance(
        &mut self,
        engine: &Engine,
        walk: BucketWalk,
    ) -> EngineResult<Option<BucketWalk>> {
        self.batch(engine, walk).await
    }

    fn end_pass(&mut self) {
        self.done.passes += 1;
    }

    fn progress(&self) -> String {
        let c = self.done;
        format!(
            "{} passes; {} expired, {} noncurrent deleted, {} delete markers removed, {} uploads aborted",
            c.passes, c.expired, c.noncurrent_deleted, c.markers_removed, c.uploads_aborted
        )
    }
}

impl LifecycleWork {
    /// One batch of a bucket; the walk to go on with, `None` when the
    /// bucket is done (or its rules changed and it restarts next pass).
    async fn batch(
        &mut self,
        engine: &Engine,
        mut walk: BucketWalk,
    ) -> EngineResult<Option<BucketWalk>> {
        let current = match engine.lifecycle(&walk.bucket) {
            Ok(c) => c,
            Err(EngineError::NoSuchBucket(_)) => None,
            Err(e) => return Err(e),
        };
        let Some(current) = current else {
            return Ok(None);
        };
        if !Arc::ptr_eq(&current, walk.walker.config()) && *current != **walk.walker.config() {
            // Changed rules: the walk so far was decided under others.
            walk = BucketWalk::new(walk.bucket, current);
        }
        if !walk.versions_done {
            let now = engine.now();
            let (inner, bucket) = (engine.inner.clone(), walk.bucket.clone());
            let (after, mut walker) = (walk.after.take(), walk.walker);
            let started = std::time::Instant::now();
            let (walker, batch) = crate::engine::blocking(move || {
                let mut due = Vec::new();
                let txn = inner.meta.read()?;
                let (last, _) =
                    read_batch(&txn, &bucket, after.as_deref(), &mut walker, &mut |d| {
                        if d.due <= now {
                            due.push(d);
                        }
                    })?;
                Ok((walker, (last, due)))
            })
            .await?;
            let reading = started.elapsed();
            let (last, due) = batch;
            walk.walker = walker;
            walk.versions_done = last.is_none();
            walk.after = last;
            if !due.is_empty() {
                let applied =
                    apply(engine, &walk.bucket, walk.walker.config().clone(), due).await?;
                self.done.expired += applied.expired;
                self.done.noncurrent_deleted += applied.noncurrent_deleted;
                self.done.markers_removed += applied.markers_removed;
            }
            rule_worker::rest_after(reading).await;
            return Ok(Some(walk));
        }
        if !walk.uploads_done {
            let aborted = abort_due_uploads(engine, &mut walk).await?;
            self.done.uploads_aborted += aborted;
            return Ok(Some(walk));
        }
        Ok(None)
    }
}

/// Runs one whole pass at once (engine tests step simulated days with it).
#[cfg(test)]
pub(crate) async fn run_pass(engine: &Engine) -> EngineResult<()> {
    rule_worker::RuleWorker::run_pass(engine, LifecycleWork::default()).await
}

/// Feeds up to [`BATCH`] rows after `after` to the walker (and, at the
/// bucket's end, closes its last key). Returns the index key to resume
/// after (`None` when the bucket is done) and the rows read.
fn read_batch(
    txn: &ReadTxn,
    bucket: &str,
    after: Option<&[u8]>,
    walker: &mut Walker,
    out: &mut impl FnMut(Decision),
) -> EngineResult<(Option<Vec<u8>>, u64)> {
    let mut rows = 0u64;
    let last = versions::scan_bucket(txn, bucket, after, BATCH, |row| {
        rows += 1;
        if !walker.concerns(row.key) {
            return Ok(());
        }
        let record;
        let mut object = None;
        let tag_set;
        if !row.head.delete_marker && walker.needs_manifest(row.key) {
            record = VersionRecord::decode(row.value, txn.sealer(), row.index_key)?;
            if let Some(m) = &record.manifest {
                tag_set = tags::split(&m.system_metadata).1;
                object = Some((m.size, tag_set.as_slice()));
            }
        }
        walker.visit(
            &Row {
                key: row.key,
                slot: Slot {
                    seq: row.head.seq,
                    rand: row.head.rand,
                    null: row.head.null,
                },
                mtime: time_from_micros(row.head.mtime_us),
                object,
                delete_marker: row.head.delete_marker,
            },
            out,
        );
        Ok(())
    })?;
    if last.is_none() {
        walker.finish(out);
    }
    Ok((last, rows))
}

#[derive(Debug, Default, Clone, Copy)]
struct Applied {
    expired: u64,
    noncurrent_deleted: u64,
    markers_removed: u64,
}

/// Carries out one batch's due decisions in one transaction.
async fn apply(
    engine: &Engine,
    bucket: &str,
    config: Arc<LifecycleConfig>,
    due: Vec<Decision>,
) -> EngineResult<Applied> {
    let (clock, b) = (engine.inner.clock.clone(), bucket.to_owned());
    engine
        .inner
        .meta
        .submit(move |txn| {
            let still = match buckets::sealed_setting_rw(txn, &b, SETTING, WHAT)? {
                Some(plain) => LifecycleConfig::decode(&plain)? == *config,
                None => false,
            };
            let mut applied = Applied::default();
            if !still {
                return Ok(Ok(applied));
            }
            for d in &due {
                if apply_one(txn, &clock, &b, d)? {
                    match d.action {
                        Action::ExpireCurrent => applied.expired += 1,
                        Action::DeleteNoncurrent => applied.noncurrent_deleted += 1,
                        Action::RemoveMarker => applied.markers_removed += 1,
                    }
                }
            }
            Ok(Ok(applied))
        })
        .await
}

/// One decision, if it still holds; whether it was carried out.
fn apply_one(
    txn: &Txn<'_>,
    clock: &crate::engine::Clock,
    bucket: &str,
    d: &Decision,
) -> Result<bool, EngineError> {
    let Some((head, newest, alone)) = versions::standing_rw(txn, bucket, &d.key, d.slot.seq)?
    else {
        return Ok(false);
    };
    let holds = match d.action {
        Action::ExpireCurrent => newest && !head.delete_marker,
        Action::DeleteNoncurrent => !newest,
        Action::RemoveMarker => head.delete_marker && alone,
    };
    if !holds {
        return Ok(false);
    }
    if d.action == Action::ExpireCurrent {
        // The normal DeleteObject path: a delete marker where versioned.
        let done: JobResult<_> = objects::apply_delete(txn, clock, bucket, &d.key, None, false);
        return Ok(done?.is_ok());
    }
    // Lifecycle never removes a version object lock protects.
    if objects::removal_allowed(txn, clock, bucket, &d.key, d.slot.seq, false)?.is_err() {
        return Ok(false);
    }
    let mut book = ChunkBook::open(txn, micros(clock.now()))?;
    versions::remove(txn, &mut book, bucket, &d.key, d.slot.seq)?;
    versions::refresh_live(txn, bucket, &d.key)?;
    book.flush()?;
    Ok(true)
}

/// Aborts one page of the bucket's uploads that a rule has made due.
async fn abort_due_uploads(engine: &Engine, walk: &mut BucketWalk) -> EngineResult<u64> {
    let config = walk.walker.config().clone();
    let now = engine.now();
    let (e, bucket, after) = (
        engine.clone(),
        walk.bucket.clone(),
        walk.uploads_after.take(),
    );
    let (page, due) = crate::engine::blocking(move || {
        let page = e.list_uploads(&bucket, &uploads_query(after))?;
        let due: Vec<_> = page
            .uploads
            .iter()
            .filter(|u| upload_due(&config, &u.key, u.initiated).is_some_and(|(_, t)| t <= now))
            .map(|u| (u.key.clone(), u.upload_id.clone()))
            .collect();
        let mut aborted = 0;
        for (key, id) in &due {
            match e.abort_multipart(&bucket, key, id) {
                Ok(()) => aborted += 1,
                // Completed or aborted by its client meanwhile.
                Err(EngineError::NoSuchUpload) => {}
                Err(err) => return Err(err),
            }
        }
        Ok((page, aborted))
    })
    .await?;
    walk.uploads_done = !page.is_truncated;
    walk.uploads_after = page.next_key_marker.zip(page.next_upload_id_marker);
    Ok(due)
}

fn uploads_query(after: Option<(String, String)>) -> UploadsQuery {
    let (key_marker, upload_id_marker) = after.unzip();
    UploadsQuery {
        prefix: String::new(),
        delimiter: None,
        key_marker,
        upload_id_marker,
        max_uploads: BATCH,
    }
}

/// When an upload started at `initiated` is aborted, by which rule.
fn upload_due(
    config: &LifecycleConfig,
    key: &str,
    initiated: OffsetDateTime,
) -> Option<(usize, OffsetDateTime)> {
    config
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.enabled && r.filter.matches_key(key))
        .filter_map(|(i, r)| Some((i, due_after(initiated, r.abort_upload_days?))))
        .min_by_key(|(_, t)| *t)
}

/// Everything the rules will do in `bucket`, earliest first (the first
/// `limit`), reading it in snapshots of [`BATCH`] rows.
pub(crate) fn plan(
    inner: &Arc<Inner>,
    bucket: &str,
    config: &Arc<LifecycleConfig>,
    limit: usize,
) -> EngineResult<LifecyclePlan> {
    let mut plan = LifecyclePlan::default();
    // Bounded: the earliest `limit` seen so far, by (due, order seen).
    let mut heap: BinaryHeap<(OffsetDateTime, u64)> = BinaryHeap::new();
    let mut entries: HashMap<u64, PlanEntry> = HashMap::new();
    let mut seen = 0u64;
    let mut keep = |due: OffsetDateTime, entry: PlanEntry| {
        seen += 1;
        heap.push((due, seen));
        entries.insert(seen, entry);
        if heap.len() > limit
            && let Some((_, latest)) = heap.pop()
        {
            entries.remove(&latest);
        }
    };
    let mut walker = Walker::new(config.clone());
    let mut after: Option<Vec<u8>> = None;
    loop {
        let txn = inner.meta.read()?;
        buckets::get(&txn, bucket)?;
        let mut decisions = Vec::new();
        let (last, rows) = read_batch(&txn, bucket, after.as_deref(), &mut walker, &mut |d| {
            decisions.push(d)
        })?;
        plan.versions_scanned += rows;
        for d in decisions {
            keep(d.due, PlanEntry::Version(d));
        }
        after = last;
        if after.is_none() {
            break;
        }
    }
    let engine = Engine {
        inner: inner.clone(),
    };
    let mut upload_marker = None;
    loop {
        let page = engine.list_uploads(bucket, &uploads_query(upload_marker))?;
        for u in page.uploads {
            if let Some((rule, due)) = upload_due(config, &u.key, u.initiated) {
                keep(
                    due,
                    PlanEntry::Upload {
                        key: u.key,
                        upload_id: u.upload_id,
                        rule,
                    },
                );
            }
        }
        if !page.is_truncated {
            break;
        }
        upload_marker = page.next_key_marker.zip(page.next_upload_id_marker);
    }
    plan.total = seen;
    let mut order = heap.into_vec();
    order.sort_unstable();
    plan.actions = order
        .into_iter()
        .filter_map(|(due, n)| Some((due, entries.remove(&n)?)))
        .map(|(due, entry)| match entry {
            PlanEntry::Version(d) => PlannedAction {
                key: d.key,
                version_id: Some(
                    versions::version_id_of(d.slot.null, d.slot.seq, d.slot.rand)
                        .as_str()
                        .to_owned(),
                ),
                upload_id: None,
                action: PlanAction::from(d.action),
                rule_id: config.rules[d.rule].id.clone(),
                due,
            },
            PlanEntry::Upload {
                key,
                upload_id,
                rule,
            } => PlannedAction {
                key,
                version_id: None,
                upload_id: Some(upload_id),
                action: PlanAction::AbortUpload,
                rule_id: config.rules[rule].id.clone(),
                due,
            },
        })
        .collect();
    Ok(plan)
}

/// A planned action before it is rendered.
enum PlanEntry {
    Version(Decision),
    Upload {
        key: String,
        upload_id: String,
        rule: usize,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::rules::{FilterForm, LifecycleRule, NoncurrentExpiration, RuleFilter};
    use super::*;
    use crate::engine::types::{BodyStream, PutOptions, VersioningState, VersionsQuery};
    use time::Duration as TimeDuration;

    pub(crate) async fn put(e: &Engine, bucket: &str, key: &str, body: String) {
        let body: BodyStream = Box::pin(futures::stream::iter(vec![Ok(bytes::Bytes::from(body))]));
        e.put_object(
            bucket,
            key,
            body,
            PutOptions::default(),
            Box::new(|_| Ok(())),
        )
        .await
        .unwrap();
    }

    /// The nights whose dump is still stored, by the body each PUT wrote.
    async fn kept_nights(e: &Engine, bucket: &str) -> Vec<i64> {
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
        let mut nights = Vec::new();
        for v in page.versions {
            assert!(!v.is_delete_marker);
            let mut body = Vec::new();
            let mut stream = e.read_object(&v, None).unwrap();
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                body.extend_from_slice(&chunk.unwrap());
            }
            nights.push(String::from_utf8(body).unwrap().parse().unwrap());
        }
        nights.sort_unstable();
        nights
    }

    /// Moves the engine clock to `day` days and `hour` hours after `origin`.
    pub(crate) fn set_time(e: &Engine, origin: OffsetDateTime, day: i64, hour: i64) {
        let target = origin + TimeDuration::days(day) + TimeDuration::hours(hour);
        let now = e.now();
        assert!(target > now, "the simulation only moves forward");
        e.clock().advance(target - now);
    }

    /// The service-level rows users run ("4 versions, 4 weeks", "10
    /// versions, 10 weeks", "30 versions, 30 days", "current + 2
    /// previous"), each a NoncurrentVersionExpiration rule, over 400 nights
    /// of one dump overwriting one key: after the worker's pass each
    /// simulated evening, the kept set is exactly the rule's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn service_level_rules_over_400_nights_keep_exactly_what_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::open_for_test(dir.path()).await;
        // (bucket, versions to keep in all, days to keep noncurrent versions)
        let slas: [(&str, u32, u32); 4] = [
            ("four-versions-four-weeks", 4, 28),
            ("ten-versions-ten-weeks", 10, 70),
            ("thirty-versions-thirty-days", 30, 30),
            ("current-plus-two", 3, 1),
        ];
        for (bucket, versions, days) in slas {
            e.create_bucket(bucket).unwrap();
            e.set_versioning(bucket, VersioningState::Enabled).unwrap();
            let rule = LifecycleRule {
                id: bucket.into(),
                enabled: true,
                filter: RuleFilter {
                    form: FilterForm::Empty,
                    ..RuleFilter::all()
                },
                expiration: None,
                noncurrent: Some(NoncurrentExpiration {
                    days,
                    newer_versions: Some(versions - 1),
                }),
                abort_upload_days: None,
            };
            e.put_lifecycle(bucket, Some(&LifecycleConfig { rules: vec![rule] }))
                .unwrap();
        }
        let now = e.now();
        let origin = (now.date().next_day().unwrap()).midnight().assume_utc();
        for night in 0..400i64 {
            set_time(&e, origin, night, 2);
            for (bucket, _, _) in slas {
                put(&e, bucket, "db/dump.gz", night.to_string()).await;
            }
            set_time(&e, origin, night, 23);
            run_pass(&e).await.unwrap();
            for (bucket, versions, days) in slas {
                let kept = kept_nights(&e, bucket).await;
                // Night i's dump stopped being current at 02:00 on night
                // i + 1; it may go from the midnight after `days` more
                // days, unless it is among the newest `versions - 1`
                // noncurrent ones.
                let expected: Vec<i64> = (0..=night)
                    .filter(|&i| {
                        let newer_noncurrent = night - 1 - i;
                        i == night
                            || newer_noncurrent < i64::from(versions - 1)
                            || night < i + i64::from(days) + 2
                    })
                    .collect();
                assert_eq!(kept, expected, "{bucket} on night {night}");
                // What the row promises, in its own words.
                let within = (0..=night).filter(|&i| night - i < i64::from(days));
                assert!(
                    within.clone().all(|i| kept.contains(&i)),
                    "{bucket} on night {night}"
                );
                assert!(kept.len() >= (versions as usize).min(night as usize + 1));
            }
        }
    }
}
