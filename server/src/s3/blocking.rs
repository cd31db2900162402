//! Runs a synchronous engine call (which may wait for a redb commit, i.e. an
//! fsync) without stalling the async reactor.

use tokio::runtime::{Handle, RuntimeFlavor};

/// `block_in_place` on the multi-thread runtime `cofferd` runs on; a plain
/// call elsewhere (a current-thread runtime cannot hand its worker over).
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
