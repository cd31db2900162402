//! The workers' runner: back-off after errors (in engine time), rebuilding a
//! worker after a panic, one instance per name, stopping between steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use coffer_server::engine::Clock;
use coffer_server::workers::runner::RunnerError;
use coffer_server::workers::{
    Runner, Schedule, Spec, Step, Worker, WorkerError, WorkerState, WorkerStatus,
};
use tokio::sync::Mutex;

/// Engine time runs 1000× faster: a back-off of 20 s lasts 20 ms.
const SPEEDUP: f64 = 1000.0;

fn schedule() -> Schedule {
    Schedule {
        idle_interval: Duration::from_secs(3600),
        backoff_min: Duration::from_secs(20),
        backoff_max: Duration::from_secs(160),
    }
}

async fn wait_for(runner: &Runner, what: &str, ok: impl Fn(&WorkerStatus) -> bool) -> WorkerStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = runner.workers().status();
        if let Some(s) = status.first()
            && ok(s)
        {
            return s.clone();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Fails its first `failures` steps, then succeeds; notes when each step began.
struct Flaky {
    failures: usize,
    calls: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait::async_trait]
impl Worker for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    async fn step(&mut self) -> Result<Step, WorkerError> {
        let mut calls = self.calls.lock().await;
        calls.push(Instant::now());
        if calls.len() <= self.failures {
            return Err(WorkerError::new(format!("failure {}", calls.len())));
        }
        Ok(Step::Idle)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_worker_is_retried_with_doubling_back_off() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut runner = Runner::new(Clock::new(SPEEDUP));
    let c = Arc::clone(&calls);
    runner
        .start(Spec::new(schedule(), move || {
            Box::new(Flaky {
                failures: 3,
                calls: Arc::clone(&c),
            })
        }))
        .unwrap();
    let s = wait_for(&runner, "a success after three failures", |s| s.steps == 1).await;
    assert_eq!(s.errors, 3, "{s:?}");
    assert_eq!(s.restarts, 0, "an error is retried, not rebuilt: {s:?}");
    assert_eq!(s.last_error.as_deref(), Some("failure 3"), "{s:?}");
    assert!(
        s.last_error_at.is_some() && s.last_success.is_some(),
        "{s:?}"
    );
    let calls = calls.lock().await.clone();
    assert_eq!(calls.len(), 4);
    // 20 s, 40 s, 80 s of engine time: 20, 40, 80 ms.
    for (i, want_ms) in [20u64, 40, 80].into_iter().enumerate() {
        let gap = calls[i + 1] - calls[i];
        assert!(
            gap >= Duration::from_millis(want_ms),
            "gap {i} was {gap:?}, want at least {want_ms} ms"
        );
    }
    // Idle for an engine hour (3.6 s): no further step yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(runner.workers().status()[0].steps, 1);
    assert_eq!(runner.workers().status()[0].state, WorkerState::Idle);
    assert!(runner.shutdown(Duration::from_secs(5)).await);
}

/// Counts live instances and steps in progress across every instance.
#[derive(Default)]
struct Counters {
    made: AtomicUsize,
    live: AtomicUsize,
    max_live: AtomicUsize,
    in_step: AtomicUsize,
    max_in_step: AtomicUsize,
    steps: AtomicUsize,
}

struct Panicky {
    counters: Arc<Counters>,
}

impl Panicky {
    fn new(counters: &Arc<Counters>) -> Self {
        counters.made.fetch_add(1, Ordering::SeqCst);
        let live = counters.live.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_live.fetch_max(live, Ordering::SeqCst);
        Panicky {
            counters: Arc::clone(counters),
        }
    }
}

impl Drop for Panicky {
    fn drop(&mut self) {
        self.counters.live.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Worker for Panicky {
    fn name(&self) -> &'static str {
        "panicky"
    }
    async fn step(&mut self) -> Result<Step, WorkerError> {
        let c = &self.counters;
        let now = c.in_step.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_in_step.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(2)).await;
        let n = c.steps.fetch_add(1, Ordering::SeqCst) + 1;
        c.in_step.fetch_sub(1, Ordering::SeqCst);
        // Every third step panics.
        assert!(!n.is_multiple_of(3), "step {n} panics on purpose");
        Ok(Step::Worked)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_worker_is_rebuilt_and_never_runs_twice() {
    let counters = Arc::new(Counters::default());
    let mut runner = Runner::new(Clock::new(SPEEDUP));
    let c = Arc::clone(&counters);
    runner
        .start(Spec::new(schedule(), move || Box::new(Panicky::new(&c))))
        .unwrap();
    let s = wait_for(&runner, "three restarts", |s| s.restarts >= 3).await;
    assert!(s.errors >= 3, "{s:?}");
    assert!(
        s.last_error
            .as_deref()
            .unwrap_or("")
            .contains("panics on purpose"),
        "{s:?}"
    );
    assert_eq!(
        counters.max_live.load(Ordering::SeqCst),
        1,
        "the old instance is dropped before the new one is built"
    );
    // A second worker of the same name is refused.
    let c = Arc::clone(&counters);
    let dup = runner.start(Spec::new(schedule(), move || Box::new(Panicky::new(&c))));
    assert!(
        matches!(dup, Err(RunnerError::Duplicate("panicky"))),
        "{dup:?}"
    );
    assert!(runner.shutdown(Duration::from_secs(5)).await);
    assert!(counters.made.load(Ordering::SeqCst) >= 4);
    assert_eq!(counters.max_in_step.load(Ordering::SeqCst), 1);
    assert_eq!(
        counters.live.load(Ordering::SeqCst),
        0,
        "all dropped after shutdown"
    );
}

/// A step that takes a while, so shutdown arrives in the middle of one.
struct Slow {
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    in_step: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl Worker for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    async fn step(&mut self) -> Result<Step, WorkerError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.in_step.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.in_step.store(false, Ordering::SeqCst);
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(Step::Worked)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_the_step_in_progress_and_starts_no_other() {
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let in_step = Arc::new(AtomicBool::new(false));
    let mut runner = Runner::new(Clock::new(1.0));
    let (s, f, i) = (
        Arc::clone(&started),
        Arc::clone(&finished),
        Arc::clone(&in_step),
    );
    runner
        .start(Spec::new(schedule(), move || {
            Box::new(Slow {
                started: Arc::clone(&s),
                finished: Arc::clone(&f),
                in_step: Arc::clone(&i),
            })
        }))
        .unwrap();
    let status = runner.workers();
    wait_for(&runner, "a step in progress", |s| {
        s.state == WorkerState::Running
    })
    .await;
    assert!(in_step.load(Ordering::SeqCst));
    let t0 = Instant::now();
    assert!(
        runner.shutdown(Duration::from_secs(5)).await,
        "stopped on its own"
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert!(
        !in_step.load(Ordering::SeqCst),
        "cut in the middle of a step"
    );
    assert_eq!(
        started.load(Ordering::SeqCst),
        finished.load(Ordering::SeqCst)
    );
    let after = started.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        started.load(Ordering::SeqCst),
        after,
        "a step after shutdown"
    );
    assert_eq!(status.status()[0].state, WorkerState::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_a_step_that_outlasts_the_timeout() {
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let in_step = Arc::new(AtomicBool::new(false));
    let mut runner = Runner::new(Clock::new(1.0));
    let (s, f, i) = (
        Arc::clone(&started),
        Arc::clone(&finished),
        Arc::clone(&in_step),
    );
    runner
        .start(Spec::new(schedule(), move || {
            Box::new(Slow {
                started: Arc::clone(&s),
                finished: Arc::clone(&f),
                in_step: Arc::clone(&i),
            })
        }))
        .unwrap();
    let status = runner.workers();
    wait_for(&runner, "a step in progress", |s| {
        s.state == WorkerState::Running
    })
    .await;
    assert!(
        !runner.shutdown(Duration::from_millis(50)).await,
        "reported as cancelled"
    );
    assert_eq!(status.status()[0].state, WorkerState::Stopped);
}
