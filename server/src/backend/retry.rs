//! The retry wrapper: repeats store calls that failed with a *transient* error, a bounded
//! number of times, with exponential back-off and full jitter (so many writers that
//! failed together do not retry together).
//!
//! Only whole, idempotent calls are retried: `get`, `head`, `list_page`, `delete`, a
//! staged `put` (the whole body is at hand and replaces the object as a whole) and the
//! opening of a streamed write. The bytes and the `finish` of a streamed write are never
//! retried: the stream cannot be replayed, so a half-write fails up to the caller, who
//! starts the object again.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rand::Rng;

use super::error::StoreResult;
use super::kind::{ObjectId, ObjectKind};
use super::store::{ObjectInfo, ObjectWriter, Store};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Upper bound of the first back-off; doubled after each failure.
    pub base_delay: Duration,
    /// Upper bound of any back-off.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The back-off before attempt `attempt + 1` (after `attempt` failures): uniform in
    /// `0..=min(max_delay, base_delay · 2^(attempt-1))`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let cap = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

/// A store whose transient failures are retried.
#[derive(Debug, Clone)]
pub struct RetryStore {
    inner: Arc<dyn Store>,
    policy: RetryPolicy,
}

impl RetryStore {
    pub fn new(inner: Arc<dyn Store>, policy: RetryPolicy) -> Self {
        RetryStore { inner, policy }
    }

    async fn run<T, F, Fut>(&self, what: &str, mut op: F) -> StoreResult<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = StoreResult<T>> + Send,
        T: Send,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Err(e) if e.is_transient() && attempt < self.policy.max_attempts => {
                    let delay = self.policy.backoff(attempt);
                    tracing::debug!(store = self.inner.name(), what, attempt, error = %e, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[async_trait]
impl Store for RetryStore {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn put_stream(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> StoreResult<Box<dyn ObjectWriter>> {
        self.run("put_stream", || self.inner.put_stream(kind, id))
            .await
    }

    async fn put(&self, kind: ObjectKind, id: &ObjectId, body: Bytes) -> StoreResult<()> {
        self.run("put", || self.inner.put(kind, id, body.clone()))
            .await
    }

    async fn get(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
        range: Option<Range<u64>>,
    ) -> StoreResult<Bytes> {
        self.run("get", || self.inner.get(kind, id, range.clone()))
            .await
    }

    async fn head(&self, kind: ObjectKind, id: &ObjectId) -> StoreResult<u64> {
        self.run("head", || self.inner.head(kind, id)).await
    }

    async fn list_page(
        &self,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        self.run("list", || self.inner.list_page(kind, after, limit))
            .await
    }

    async fn delete(&self, kind: ObjectKind, ids: &[ObjectId]) -> StoreResult<()> {
        self.run("delete", || self.inner.delete(kind, ids)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        };
        for attempt in 1..20 {
            let cap = Duration::from_millis(10 * (1u64 << (attempt - 1).min(20))).min(p.max_delay);
            for _ in 0..50 {
                assert!(p.backoff(attempt) <= cap, "attempt {attempt}");
            }
        }
        // Jitter: not always the same delay.
        let seen: std::collections::HashSet<Duration> = (0..50).map(|_| p.backoff(5)).collect();
        assert!(seen.len() > 1);
    }
}
