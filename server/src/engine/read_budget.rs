//! The engine's budget of bytes held in memory for data on its way to a
//! client, so that clients who do not read cannot make cofferd buffer
//! without bound.
//!
//! A GET opens its chunks ahead of the client (decrypting chunk n+1 while
//! chunk n is sent), and each opened chunk stays in memory until the socket
//! has taken the last of it. A client that opens GETs and never reads once
//! pinned about three chunks per connection: 1,800 such GETs of a 5 MiB
//! object drove RSS to 9.1 GB. Every chunk a GET opens now takes a
//! [`Lease`] on one engine-wide [`MemoryBudget`] before its store read and
//! gives it back when the last `Bytes` slice of its plaintext is dropped
//! (written to the socket, or the connection dropped): past the budget,
//! GETs wait their turn (first come, first served) instead of allocating.
//!
//! Nothing is refused for want of budget, and waiting cannot deadlock as
//! long as a holder waits only while what it holds is already handed on to
//! something that drains without more budget (the HTTP layer drains to the
//! client, or the send timeout closes the connection); the read path
//! acquires its chunks' leases one after another in stream order for that
//! reason. A request larger than the whole budget takes all of it, so it
//! runs alone rather than never.
//!
//! The budget is a general one ("bytes held for a request"): the ingest
//! buffers (small bodies, chunks being sealed) are meant to fold into it
//! later, which is why it counts bytes and not chunks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Bytes given back since the last allocator trim after which the trimmer
/// is woken ([`Releases::wait`]).
const TRIM_AFTER_RELEASED: u64 = 16 << 20;

/// Bytes given back after which the trimmer is woken as soon as nothing is
/// leased any more: the end of a burst, whatever its size.
const TRIM_WHEN_IDLE_AFTER: u64 = 1 << 20;

/// A fixed number of bytes shared by every request; see the module doc.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    permits: Arc<Semaphore>,
    capacity: u32,
    /// Bytes given back since the trimmer last woke: memory a burst freed is
    /// only returned to the system when someone asks the allocator to.
    released: AtomicU64,
    wakeup: Notify,
    /// The budget was dropped (the engine is gone).
    closed: AtomicBool,
}

impl Shared {
    fn in_use(&self) -> u64 {
        u64::from(self.capacity).saturating_sub(self.permits.available_permits() as u64)
    }

    /// Whether the trimmer has work: enough came back, or a burst ended.
    fn worth_trimming(&self) -> bool {
        let released = self.released.load(Ordering::Relaxed);
        released >= TRIM_AFTER_RELEASED || (released >= TRIM_WHEN_IDLE_AFTER && self.in_use() == 0)
    }

    /// Called after `bytes` went back to the semaphore.
    fn released(&self, bytes: u64) {
        self.released.fetch_add(bytes, Ordering::Relaxed);
        if self.worth_trimming() {
            self.wakeup.notify_one();
        }
    }
}

/// Bytes taken from a [`MemoryBudget`]; they go back when it is dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    permit: OwnedSemaphorePermit,
    shared: Arc<Shared>,
}

impl MemoryBudget {
    /// A budget of `capacity` bytes (at most `u32::MAX`; more is clamped,
    /// since one acquire counts at most that many).
    pub fn new(capacity: u64) -> Self {
        let capacity = u32::try_from(capacity).unwrap_or(u32::MAX).max(1);
        MemoryBudget {
            shared: Arc::new(Shared {
                permits: Arc::new(Semaphore::new(capacity as usize)),
                capacity,
                released: AtomicU64::new(0),
                wakeup: Notify::new(),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// Takes `bytes` (all of the budget if it is smaller), waiting behind
    /// earlier requests until that much is free.
    pub async fn acquire(&self, bytes: u64) -> Lease {
        let n = u32::try_from(bytes)
            .unwrap_or(u32::MAX)
            .min(self.shared.capacity)
            .max(1);
        let Ok(permit) = self.shared.permits.clone().acquire_many_owned(n).await else {
            unreachable!("the budget's semaphore is never closed");
        };
        Lease {
            permit,
            shared: self.shared.clone(),
        }
    }

    /// The budget's size in bytes.
    pub fn capacity(&self) -> u64 {
        u64::from(self.shared.capacity)
    }

    /// Bytes currently leased.
    pub fn in_use(&self) -> u64 {
        self.shared.in_use()
    }

    /// What the allocator trimmer waits on.
    pub fn releases(&self) -> Releases {
        Releases(self.shared.clone())
    }
}

impl Drop for MemoryBudget {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        self.shared.wakeup.notify_one();
    }
}

/// Bytes given back to a [`MemoryBudget`], seen from the allocator trimmer.
#[derive(Debug, Clone)]
pub(crate) struct Releases(Arc<Shared>);

impl Releases {
    /// Bytes currently leased.
    pub fn in_use(&self) -> u64 {
        self.0.in_use()
    }

    /// Waits until [`TRIM_AFTER_RELEASED`] bytes were given back since it
    /// last returned `true`, or [`TRIM_WHEN_IDLE_AFTER`] and nothing is
    /// leased any more, and resets the count; `false` once the budget is
    /// gone. Cancel-safe.
    pub async fn wait(&self) -> bool {
        loop {
            let notified = self.0.wakeup.notified();
            if self.0.closed.load(Ordering::Relaxed) {
                return false;
            }
            if self.0.worth_trimming() {
                self.0.released.store(0, Ordering::Relaxed);
                return true;
            }
            notified.await;
        }
    }
}

impl Lease {
    /// Bytes this lease holds.
    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        self.permit.num_permits() as u64
    }

    /// Gives back all but `keep` bytes (a no-op if it holds no more).
    pub fn shrink_to(&mut self, keep: u64) {
        let held = self.permit.num_permits();
        let keep = usize::try_from(keep).unwrap_or(usize::MAX).max(1);
        if held > keep {
            drop(self.permit.split(held - keep));
            self.shared.released((held - keep) as u64);
        }
    }

    /// `buf`, holding this lease until the last slice of it is dropped.
    pub fn attach(self, buf: Bytes) -> Bytes {
        Bytes::from_owner(Held { buf, _lease: self })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // The permits go back first, so that the trimmer sees the budget idle.
        let n = self.permit.num_permits();
        drop(self.permit.split(n));
        self.shared.released(n as u64);
    }
}

/// The owner behind [`Lease::attach`]'s `Bytes`.
struct Held {
    buf: Bytes,
    _lease: Lease,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use futures::task::noop_waker_ref;

    use super::MemoryBudget;

    fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(noop_waker_ref()))
    }

    #[tokio::test]
    async fn lease_is_released_when_the_last_slice_is_dropped() {
        let budget = MemoryBudget::new(100);
        let lease = budget.acquire(40).await;
        assert_eq!(lease.bytes(), 40);
        let whole = lease.attach(Bytes::from(vec![7u8; 40]));
        let part = whole.slice(10..20);
        drop(whole);
        assert_eq!(budget.in_use(), 40, "a slice still holds the lease");
        assert_eq!(&part[..], &[7u8; 10]);
        drop(part);
        assert_eq!(budget.in_use(), 0);
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_bytes_are_released() {
        let budget = MemoryBudget::new(100);
        let first = budget.acquire(70).await;
        let mut second = pin!(budget.acquire(50));
        assert!(poll_once(second.as_mut()).is_pending());
        // FIFO: a later small request waits behind the first waiter.
        let mut third = pin!(budget.acquire(10));
        assert!(poll_once(third.as_mut()).is_pending());
        drop(first);
        let Poll::Ready(second) = poll_once(second.as_mut()) else {
            panic!("the waiter did not get the released bytes");
        };
        assert_eq!(second.bytes(), 50);
        assert!(poll_once(third.as_mut()).is_ready());
    }

    #[tokio::test]
    async fn shrinking_gives_bytes_back_to_waiters() {
        let budget = MemoryBudget::new(100);
        let mut sealed_and_plain = budget.acquire(90).await;
        let mut next = pin!(budget.acquire(50));
        assert!(poll_once(next.as_mut()).is_pending());
        sealed_and_plain.shrink_to(45);
        assert_eq!(sealed_and_plain.bytes(), 45);
        let Poll::Ready(next) = poll_once(next.as_mut()) else {
            panic!("the waiter did not get the bytes given back");
        };
        assert_eq!(budget.in_use(), 95);
        drop(sealed_and_plain);
        assert_eq!(budget.in_use(), 50);
        drop(next);
        assert_eq!(budget.in_use(), 0);
    }

    #[tokio::test]
    async fn a_request_over_the_budget_takes_all_of_it() {
        let budget = MemoryBudget::new(100);
        let big = budget.acquire(1_000).await;
        assert_eq!(big.bytes(), 100);
        assert_eq!(budget.in_use(), 100);
        let mut small = pin!(budget.acquire(1));
        assert!(poll_once(small.as_mut()).is_pending());
        drop(big);
        assert!(poll_once(small.as_mut()).is_ready());
        assert_eq!(budget.capacity(), 100);
    }

    #[tokio::test]
    async fn releases_wake_the_trimmer_once_enough_came_back() {
        let budget = MemoryBudget::new(64 << 20);
        let releases = budget.releases();
        let held = budget.acquire(1).await;
        {
            let mut wakeup = pin!(releases.wait());
            assert!(poll_once(wakeup.as_mut()).is_pending());
            drop(budget.acquire(2 << 20).await);
            assert!(
                poll_once(wakeup.as_mut()).is_pending(),
                "2 MiB while a lease is held is not enough"
            );
            drop(budget.acquire(super::TRIM_AFTER_RELEASED).await);
            assert_eq!(poll_once(wakeup.as_mut()), Poll::Ready(true));
        }
        {
            let mut wakeup = pin!(releases.wait());
            assert!(
                poll_once(wakeup.as_mut()).is_pending(),
                "the count was reset"
            );
            drop(budget.acquire(2 << 20).await);
            assert!(poll_once(wakeup.as_mut()).is_pending());
            drop(held);
            assert_eq!(
                poll_once(wakeup.as_mut()),
                Poll::Ready(true),
                "the end of a burst wakes it"
            );
        }
        let mut wakeup = pin!(releases.wait());
        assert!(poll_once(wakeup.as_mut()).is_pending());
        drop(budget);
        assert_eq!(poll_once(wakeup.as_mut()), Poll::Ready(false));
    }
}
