//! The stores tests run the engine on, reached through the kit: they live in
//! `coffer_server::backend` (the memory store is the in-memory twin of the local
//! one; the faulty store wraps any store and fails chosen operations), and are
//! re-exported here so a test names one place for its fixtures. Not copied: a
//! second memory store would drift from the one the store conformance suite checks.

pub use coffer_server::backend::{FaultOp, Faults, FaultyStore, LocalStore, MemoryStore, Store};
