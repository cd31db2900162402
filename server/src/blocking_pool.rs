//! The runtime's blocking pool, counted: every `spawn_blocking` of the
//! server goes through [`spawn`], so the health report can say when the
//! pool is full and blocking work (chunk opens, hashing, store file I/O,
//! metadata commits) has started to queue behind it.
//!
//! Tokio's own counts of the pool are behind `tokio_unstable`; one counter of
//! our own is cheaper than building with that flag.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::task::JoinHandle;

/// Threads the blocking pool may grow to (tokio's default, set explicitly so
/// the health report and the runtime agree).
pub const MAX_THREADS: usize = 512;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Counted while its task waits for or runs on the pool; moved into the
/// task, so a task dropped unrun (runtime shutdown) is uncounted too.
struct Counted;

impl Counted {
    fn new() -> Self {
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `tokio::task::spawn_blocking`, counted.
pub fn spawn<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let counted = Counted::new();
    tokio::task::spawn_blocking(move || {
        let _counted = counted;
        f()
    })
}

/// Tasks waiting for or running on the pool, process-wide.
pub fn in_flight() -> usize {
    IN_FLIGHT.load(Ordering::Acquire)
}

/// Whether the pool has as many tasks as threads (new ones queue).
pub fn saturated() -> bool {
    in_flight() >= MAX_THREADS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_is_counted_until_it_ends() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let task = spawn(move || rx.recv().ok());
        // Blocked until we send: counted (other tests' tasks may add to it).
        assert!(in_flight() >= 1);
        tx.send(()).unwrap();
        assert_eq!(task.await.unwrap(), Some(()));
    }
}
