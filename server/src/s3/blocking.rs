//! Runs a synchronous engine call (which may wait for a redb commit, i.e. an
//! fsync, or scan many keys) without stalling the async reactor.
//!
//! Point lookups (authentication, HEAD, GET's manifest, a bucket's record) are
//! called directly instead: a redb read takes microseconds, while
//! `block_in_place` hands the worker's queue to another thread on every call,
//! which cost more than the lookup (small GET, HEAD and DELETE were
//! context-switch bound under 32 concurrent clients).

use tokio::runtime::{Handle, RuntimeFlavor};

/// `block_in_place` on the multi-thread runtime `cofferd` runs on; a plain
/// call elsewhere (a current-thread runtime cannot hand its worker over).
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
