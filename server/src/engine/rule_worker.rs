//! The skeleton the workers that apply bucket rules share (lifecycle,
//! retention): a pass visits every bucket that has rules, one bounded step
//! (one batch of one bucket) at a time, and the worker idles for its
//! schedule's interval after the last bucket. What a bucket's walk is, and
//! what a batch does, is the rules' own ([`BucketRules`]).

use std::sync::Weak;
use std::time::Duration;

use super::error::{EngineError, EngineResult};
use super::{Engine, Inner};
use crate::workers::{Schedule, Spec, Step, Worker, WorkerError};

/// Engine time between passes. Lifecycle counts days and retention hours
/// at the finest; an hour keeps every action within an hour of its time.
pub(crate) const INTERVAL: Duration = Duration::from_secs(3600);
/// Real time a worker rests after a batch, as a multiple of the time
/// reading it took: a pass takes at most a fifth of one core, however large
/// the bucket (measured in coffer-bench's lifecycle scenario).
const REST_SHARE: u32 = 4;

/// The runner's spec of a worker applying rules of kind `R`.
pub(crate) fn spec<R: BucketRules + Default>(inner: Weak<Inner>) -> Spec {
    Spec::new(Schedule::every(INTERVAL), move || {
        Box::new(RuleWorker::new(inner.clone(), R::default()))
    })
}

/// Background work yields to requests: after a batch that took `reading`
/// to read, the worker sleeps [`REST_SHARE`] times as long (real time).
pub(crate) async fn rest_after(reading: Duration) {
    tokio::time::sleep(reading * REST_SHARE).await;
}

/// What one kind of rules does to a bucket.
#[async_trait::async_trait]
pub(crate) trait BucketRules: Send + 'static {
    /// Where a pass is inside one bucket.
    type Walk: Send;

    /// The worker's name in `coffer workers`.
    fn name(&self) -> &'static str;

    /// Whether `bucket` has rules of this kind.
    fn has_rules(engine: &Engine, bucket: &str) -> EngineResult<bool>;

    /// The walk of `bucket`; `None` when its rules (or the bucket) went
    /// since the pass began.
    fn start(&mut self, engine: &Engine, bucket: String) -> EngineResult<Option<Self::Walk>>;

    /// One batch; the walk to go on with, `None` when the bucket is done.
    async fn advance(
        &mut self,
        engine: &Engine,
        walk: Self::Walk,
    ) -> EngineResult<Option<Self::Walk>>;

    /// A pass over every bucket ended.
    fn end_pass(&mut self);

    /// What the worker has done, for `coffer workers`.
    fn progress(&self) -> String;
}

/// One pass over the buckets with rules.
struct Pass<W> {
    /// Buckets still to visit, the next last.
    todo: Vec<String>,
    current: Option<W>,
}

pub(crate) struct RuleWorker<R: BucketRules> {
    /// Weak: the worker must not keep a closed engine alive.
    inner: Weak<Inner>,
    rules: R,
    pass: Option<Pass<R::Walk>>,
}

impl<R: BucketRules> RuleWorker<R> {
    pub fn new(inner: Weak<Inner>, rules: R) -> Self {
        RuleWorker {
            inner,
            rules,
            pass: None,
        }
    }

    async fn step_with(&mut self, engine: &Engine) -> EngineResult<Step> {
        if self.pass.is_none() {
            let e = engine.clone();
            let todo = super::blocking(move || buckets_with_rules::<R>(&e)).await?;
            if todo.is_empty() {
                self.rules.end_pass();
                return Ok(Step::Idle);
            }
            self.pass = Some(Pass {
                todo,
                current: None,
            });
        }
        let pass = self.pass.as_mut().expect("a pass was just started");
        let walk = match pass.current.take() {
            Some(w) => w,
            None => match pass.todo.pop() {
                Some(bucket) => match self.rules.start(engine, bucket)? {
                    Some(w) => w,
                    None => return Ok(Step::Worked),
                },
                None => {
                    self.pass = None;
                    self.rules.end_pass();
                    return Ok(Step::Idle);
                }
            },
        };
        let next = self.rules.advance(engine, walk).await?;
        if let Some(pass) = self.pass.as_mut() {
            pass.current = next;
        }
        Ok(Step::Worked)
    }

    /// Runs one whole pass at once (engine tests step simulated days with it).
    #[cfg(test)]
    pub(crate) async fn run_pass(engine: &Engine, rules: R) -> EngineResult<()> {
        let mut w = RuleWorker::new(std::sync::Arc::downgrade(&engine.inner), rules);
        while w.step_with(engine).await? == Step::Worked {}
        Ok(())
    }
}

/// The buckets that have rules of kind `R`, the first to visit last.
fn buckets_with_rules<R: BucketRules>(engine: &Engine) -> EngineResult<Vec<String>> {
    let mut out = Vec::new();
    for b in engine.list_buckets()? {
        match R::has_rules(engine, &b.name) {
            Ok(true) => out.push(b.name),
            Ok(false) | Err(EngineError::NoSuchBucket(_)) => {}
            Err(e) => return Err(e),
        }
    }
    out.reverse();
    Ok(out)
}

#[async_trait::async_trait]
impl<R: BucketRules> Worker for RuleWorker<R> {
    fn name(&self) -> &'static str {
        self.rules.name()
    }

    async fn step(&mut self) -> Result<Step, WorkerError> {
        let Some(inner) = self.inner.upgrade() else {
            return Ok(Step::Finished);
        };
        let engine = Engine { inner };
        self.step_with(&engine)
            .await
            .map_err(|e| WorkerError::new(e.to_string()))
    }

    fn progress(&self) -> Option<String> {
        Some(self.rules.progress())
    }
}
