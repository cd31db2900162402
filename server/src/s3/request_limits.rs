//! Concurrent requests, in total and per access key, with back-pressure:
//! past either limit a signed request waits for a slot (up to
//! [`QUEUE_WAIT`]), then is answered 503 `SlowDown`, which every S3 client
//! retries with back-off. One key (a developer's read-only key, a runaway
//! script) can then never take every slot from the production hosts.
//!
//! A slot is held until the response body is sent or dropped, not only
//! while the handler runs: the access log wrapper puts a [`PermitSlot`] in
//! the request's extensions, `GrantAccess::check` fills it, and the wrapper
//! keeps it with the response body.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use s3s::{S3Error, S3ErrorCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a request waits for a slot before it is told to slow down.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// The limits; `0` for either means no limit of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimitSettings {
    pub max_requests: usize,
    pub max_requests_per_key: usize,
}

/// The slots of one S3 service.
#[derive(Debug)]
pub struct RequestLimits {
    settings: RequestLimitSettings,
    total: Option<Arc<Semaphore>>,
    per_key: Mutex<HashMap<String, Arc<Semaphore>>>,
    wait: Duration,
    refused: AtomicU64,
}

/// What the health report shows of the request slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCounts {
    /// Requests holding a slot of the total limit (0 without that limit).
    pub in_flight: usize,
    /// `max_requests` (0 = no limit).
    pub max: usize,
    /// Requests told to slow down after waiting for a slot, since start.
    pub refused: u64,
    /// Keys with every one of their slots taken (their requests queue).
    pub keys_at_limit: usize,
}

/// The slots one request holds; released together when dropped.
#[derive(Debug)]
pub struct RequestPermit {
    _total: Option<OwnedSemaphorePermit>,
    _key: Option<OwnedSemaphorePermit>,
}

/// Where `check` leaves the request's permit for the access log wrapper.
#[derive(Debug, Clone, Default)]
pub struct PermitSlot(Arc<Mutex<Option<RequestPermit>>>);

impl PermitSlot {
    pub fn put(&self, permit: RequestPermit) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(permit);
        }
    }

    pub fn take(&self) -> Option<RequestPermit> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

fn slow_down() -> S3Error {
    S3Error::with_message(S3ErrorCode::SlowDown, "Please reduce your request rate.")
}

impl RequestLimits {
    pub fn new(settings: RequestLimitSettings) -> Self {
        Self::with_wait(settings, QUEUE_WAIT)
    }

    pub fn with_wait(settings: RequestLimitSettings, wait: Duration) -> Self {
        RequestLimits {
            settings,
            total: (settings.max_requests > 0)
                .then(|| Arc::new(Semaphore::new(settings.max_requests))),
            per_key: Mutex::new(HashMap::new()),
            wait,
            refused: AtomicU64::new(0),
        }
    }

    pub fn counts(&self) -> RequestCounts {
        let max = self.settings.max_requests;
        RequestCounts {
            in_flight: self
                .total
                .as_ref()
                .map_or(0, |sem| max.saturating_sub(sem.available_permits())),
            max,
            refused: self.refused.load(Ordering::Relaxed),
            keys_at_limit: self
                .per_key
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .values()
                .filter(|sem| sem.available_permits() == 0)
                .count(),
        }
    }

    /// Whether every slot of the total limit is taken (requests queue).
    pub fn saturated(&self) -> bool {
        self.total
            .as_ref()
            .is_some_and(|sem| sem.available_permits() == 0)
    }

    fn slow_down(&self) -> S3Error {
        self.refused.fetch_add(1, Ordering::Relaxed);
        slow_down()
    }

    fn key_semaphore(&self, key: &str) -> Option<Arc<Semaphore>> {
        if self.settings.max_requests_per_key == 0 {
            return None;
        }
        let mut keys = self
            .per_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sem) = keys.get(key) {
            return Some(Arc::clone(sem));
        }
        let sem = Arc::new(Semaphore::new(self.settings.max_requests_per_key));
        keys.insert(key.to_owned(), Arc::clone(&sem));
        Some(sem)
    }

    /// A slot for one request of `key`, waiting at most the queue wait for
    /// both; the key's slot is taken first so that one busy key queues on
    /// its own limit without also holding total slots while it waits.
    pub async fn acquire(&self, key: &str) -> Result<RequestPermit, S3Error> {
        let deadline = tokio::time::Instant::now() + self.wait;
        let key_permit = match self.key_semaphore(key) {
            None => None,
            Some(sem) => Some(
                tokio::time::timeout_at(deadline, sem.acquire_owned())
                    .await
                    .map_err(|_| self.slow_down())?
                    .map_err(|_| self.slow_down())?,
            ),
        };
        let total_permit = match &self.total {
            None => None,
            Some(sem) => Some(
                tokio::time::timeout_at(deadline, Arc::clone(sem).acquire_owned())
                    .await
                    .map_err(|_| self.slow_down())?
                    .map_err(|_| self.slow_down())?,
            ),
        };
        Ok(RequestPermit {
            _total: total_permit,
            _key: key_permit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_key: usize) -> RequestLimits {
        RequestLimits::with_wait(
            RequestLimitSettings {
                max_requests: total,
                max_requests_per_key: per_key,
            },
            Duration::from_millis(50),
        )
    }

    #[tokio::test]
    async fn one_key_at_its_limit_does_not_block_another() {
        let l = limits(10, 2);
        let _a1 = l.acquire("A").await.unwrap();
        let _a2 = l.acquire("A").await.unwrap();
        let err = l.acquire("A").await.unwrap_err();
        assert_eq!(err.code(), &S3ErrorCode::SlowDown);
        assert!(l.acquire("B").await.is_ok());
        assert_eq!(l.counts().refused, 1);
        assert_eq!(l.counts().keys_at_limit, 1);
    }

    #[tokio::test]
    async fn the_total_limit_holds_across_keys_and_frees_on_drop() {
        let l = limits(2, 0);
        let a = l.acquire("A").await.unwrap();
        let _b = l.acquire("B").await.unwrap();
        assert!(l.saturated());
        assert!(l.acquire("C").await.is_err());
        assert_eq!(
            l.counts(),
            RequestCounts {
                in_flight: 2,
                max: 2,
                refused: 1,
                keys_at_limit: 0,
            }
        );
        drop(a);
        assert!(!l.saturated());
        assert!(l.acquire("C").await.is_ok());
    }

    #[tokio::test]
    async fn a_waiting_request_gets_the_slot_that_frees() {
        let l = Arc::new(RequestLimits::with_wait(
            RequestLimitSettings {
                max_requests: 1,
                max_requests_per_key: 1,
            },
            Duration::from_secs(5),
        ));
        let held = l.acquire("A").await.unwrap();
        let waiter = {
            let l = Arc::clone(&l);
            tokio::spawn(async move { l.acquire("A").await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(waiter.await.unwrap());
    }

    #[test]
    fn the_slot_hands_the_permit_over() {
        let slot = PermitSlot::default();
        assert!(slot.take().is_none());
        slot.put(RequestPermit {
            _total: None,
            _key: None,
        });
        assert!(slot.take().is_some());
    }
}
