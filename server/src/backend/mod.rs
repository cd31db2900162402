//! Where the repository's objects live: the [`Store`] trait, its implementations and
//! its wrappers.
//!
//! A store holds the objects of the repository by kind (packs, index segments, journal
//! segments, the repository config, key slots) and id. Stores: [`LocalStore`] (a
//! directory) and [`MemoryStore`] (tests). Wrappers, themselves stores: [`RetryStore`]
//! (transient failures retried with back-off) and [`FaultyStore`] (injected failures,
//! tests). Every store passes the suite in [`conformance`].

pub mod conformance;
mod error;
pub mod faults;
mod kind;
pub mod local;
pub mod memory;
pub mod retry;
mod store;

pub use error::{ErrorClass, StoreError, StoreResult};
pub use faults::{FaultOp, Faults, FaultyStore};
pub use kind::{MAX_ID_LEN, ObjectId, ObjectKind};
pub use local::LocalStore;
pub use memory::MemoryStore;
pub use retry::{RetryPolicy, RetryStore};
pub use store::{LIST_PAGE, ObjectInfo, ObjectWriter, Store};
