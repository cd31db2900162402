//! The supervisor: one task per worker, steps run one after another (so one
//! instance of a worker at most, even across restarts), failures backed off
//! exponentially, panics answered by rebuilding the worker, waits in engine
//! time, and stops only between steps.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coffer_admin_api::Timestamp;
use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Ready, Step, Worker};
use super::{WorkerState, WorkerStatus};
use crate::engine::clock::Clock;

/// When a worker runs, in engine time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Wait after a step that found nothing to do.
    pub idle_interval: Duration,
    /// First wait after a failure; doubled after each further failure in a row.
    pub backoff_min: Duration,
    /// The longest wait after failures.
    pub backoff_max: Duration,
}

impl Schedule {
    /// A step every `idle_interval` while idle; back-off from one second to five minutes.
    pub fn every(idle_interval: Duration) -> Self {
        Schedule {
            idle_interval,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

type Factory = Box<dyn Fn() -> Box<dyn Worker> + Send + Sync>;

/// A worker to run: how to build it (again, after a panic) and when it runs.
pub struct Spec {
    name: &'static str,
    first: Option<Box<dyn Worker>>,
    make: Factory,
    schedule: Schedule,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// `make` builds the worker; it is called once now and again after each
    /// panic, so whatever must outlive an instance (a queue) lives outside it.
    pub fn new(
        schedule: Schedule,
        make: impl Fn() -> Box<dyn Worker> + Send + Sync + 'static,
    ) -> Self {
        let first = make();
        Spec {
            name: first.name(),
            first: Some(first),
            make: Box::new(make),
            schedule,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The runner's errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    #[error("a worker named {0} is already running")]
    Duplicate(&'static str),
}

/// The status of every worker a runner started; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Workers {
    slots: Arc<Mutex<Vec<WorkerStatus>>>,
}

impl Workers {
    /// A snapshot, in the order the workers were started.
    pub fn status(&self) -> Vec<WorkerStatus> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<WorkerStatus>> {
        // A panic cannot happen while the lock is held (plain field updates);
        // if one did, the statuses are still readable.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, name: &str) -> Result<usize, ()> {
        let mut slots = self.lock();
        if slots.iter().any(|s| s.name == name) {
            return Err(());
        }
        slots.push(WorkerStatus::new(name));
        Ok(slots.len() - 1)
    }

    fn update(&self, slot: usize, f: impl FnOnce(&mut WorkerStatus)) {
        if let Some(s) = self.lock().get_mut(slot) {
            f(s);
        }
    }
}

/// Runs workers on the current tokio runtime until [`Runner::shutdown`].
#[derive(Debug)]
pub struct Runner {
    clock: Clock,
    stop: watch::Sender<bool>,
    tasks: Vec<(usize, &'static str, JoinHandle<()>)>,
    workers: Workers,
}

impl Runner {
    pub fn new(clock: Clock) -> Self {
        Runner {
            clock,
            stop: watch::channel(false).0,
            tasks: Vec::new(),
            workers: Workers::default(),
        }
    }

    /// Starts a worker; refused when one of the same name already runs here.
    pub fn start(&mut self, spec: Spec) -> Result<(), RunnerError> {
        let slot = self
            .workers
            .add(spec.name)
            .map_err(|()| RunnerError::Duplicate(spec.name))?;
        let name = spec.name;
        let task = tokio::spawn(supervise(
            spec,
            slot,
            self.workers.clone(),
            self.clock.clone(),
            self.stop.subscribe(),
        ));
        self.tasks.push((slot, name, task));
        Ok(())
    }

    /// The status handle (for the admin API).
    pub fn workers(&self) -> Workers {
        self.workers.clone()
    }

    /// Asks every worker to stop at its next safe point and waits up to
    /// `timeout` for them; a worker still in a step then is cancelled.
    /// Returns whether all stopped on their own.
    pub async fn shutdown(self, timeout: Duration) -> bool {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut clean = true;
        for (slot, name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!(
                    worker = name,
                    "worker still in a step at the shutdown timeout; cancelling it"
                );
                task.abort();
                self.workers
                    .update(slot, |s| s.state = WorkerState::Stopped);
                clean = false;
            }
        }
        clean
    }

    /// Lets the workers run on without a way to stop them: each ends when its
    /// input closes ([`Ready::Finished`] / [`Step::Finished`]). For engines
    /// opened without an app root (tests, the bench).
    pub fn detach(self) {
        // Dropping the sender leaves the receivers waiting forever (`stopped`),
        // and dropping the join handles detaches the tasks.
    }
}

/// Completes once a stop is asked for; never, when the runner was detached.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Sleeps `d` of engine time; `true` when a stop came first.
async fn pause(clock: &Clock, d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        biased;
        () = stopped(stop) => true,
        () = clock.sleep(d) => false,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

fn stamp(clock: &Clock) -> Timestamp {
    Timestamp::rfc3339(clock.now())
}

/// Why one instance of a worker stopped running.
enum Exit {
    /// Stop asked for, or the worker finished: the supervisor ends.
    Done,
    /// It panicked: build a new one after the back-off.
    Panicked,
}

async fn supervise(
    mut spec: Spec,
    slot: usize,
    workers: Workers,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    let name = spec.name;
    let mut backoff = spec.schedule.backoff_min;
    loop {
        let mut worker = spec.first.take().unwrap_or_else(|| (spec.make)());
        let exit = run_instance(
            worker.as_mut(),
            &spec.schedule,
            &mut backoff,
            slot,
            &workers,
            &clock,
            &mut stop,
        )
        .await;
        // The old instance is gone before a new one is built.
        drop(worker);
        match exit {
            Exit::Done => break,
            Exit::Panicked => {
                workers.update(slot, |s| {
                    s.restarts += 1;
                    s.state = WorkerState::BackingOff;
                });
                let wait = backoff;
                backoff = (backoff * 2).min(spec.schedule.backoff_max);
                if pause(&clock, wait, &mut stop).await {
                    break;
                }
                tracing::info!(worker = name, "restarting worker after a panic");
            }
        }
    }
    workers.update(slot, |s| s.state = WorkerState::Stopped);
}

async fn run_instance(
    worker: &mut dyn Worker,
    schedule: &Schedule,
    backoff: &mut Duration,
    slot: usize,
    workers: &Workers,
    clock: &Clock,
    stop: &mut watch::Receiver<bool>,
) -> Exit {
    let name = worker.name();
    loop {
        if *stop.borrow() {
            return Exit::Done;
        }
        workers.update(slot, |s| s.state = WorkerState::Idle);
        let ready = tokio::select! {
            biased;
            () = stopped(stop) => return Exit::Done,
            r = AssertUnwindSafe(worker.ready()).catch_unwind() => r,
        };
        let outcome = match ready {
            Ok(Ready::Finished) => return Exit::Done,
            Ok(Ready::Work) => {
                workers.update(slot, |s| s.state = WorkerState::Running);
                AssertUnwindSafe(worker.step()).catch_unwind().await
            }
            Err(panic) => Err(panic),
        };
        match outcome {
            Ok(Ok(step)) => {
                *backoff = schedule.backoff_min;
                let now = stamp(clock);
                let progress = worker.progress();
                workers.update(slot, |s| {
                    s.steps += 1;
                    s.last_success = Some(now);
                    s.progress = progress;
                });
                match step {
                    Step::Worked => {}
                    Step::Idle => {
                        workers.update(slot, |s| s.state = WorkerState::Idle);
                        if pause(clock, schedule.idle_interval, stop).await {
                            return Exit::Done;
                        }
                    }
                    Step::Finished => return Exit::Done,
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(worker = name, error = %e, "worker step failed; backing off");
                let now = stamp(clock);
                workers.update(slot, |s| {
                    s.errors += 1;
                    s.last_error = Some(e.to_string());
                    s.last_error_at = Some(now);
                    s.state = WorkerState::BackingOff;
                });
                let wait = *backoff;
                *backoff = (*backoff * 2).min(schedule.backoff_max);
                if pause(clock, wait, stop).await {
                    return Exit::Done;
                }
            }
            Err(panic) => {
                let msg = format!("panicked: {}", panic_message(panic.as_ref()));
                tracing::error!(worker = name, error = %msg, "worker panicked");
                let now = stamp(clock);
                workers.update(slot, |s| {
                    s.errors += 1;
                    s.last_error = Some(msg);
                    s.last_error_at = Some(now);
                });
                return Exit::Panicked;
            }
        }
    }
}
