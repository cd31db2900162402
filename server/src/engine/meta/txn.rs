//! The transaction handles the MetaStore gives domain code: a write
//! transaction that also collects the [`Change`]s made through it (for the
//! commit hooks), and a read snapshot.

use std::cell::RefCell;

use crate::engine::meta::hook::Change;
use crate::engine::meta::seal::RecordSealer;

/// One write transaction of the MetaStore (a group commit, or a direct write).
pub(crate) struct Txn<'a> {
    raw: &'a redb::WriteTransaction,
    sealer: &'a RecordSealer,
    changes: RefCell<Vec<Change>>,
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn")
            .field("changes", &self.changes.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<'a> Txn<'a> {
    pub(super) fn new(raw: &'a redb::WriteTransaction, sealer: &'a RecordSealer) -> Self {
        Txn {
            raw,
            sealer,
            changes: RefCell::new(Vec::new()),
        }
    }
    /// Seals and opens the record values of this transaction's tables.
    pub(crate) fn sealer(&self) -> &RecordSealer {
        self.sealer
    }
    /// Notes a change for the commit hooks.
    pub fn record(&self, change: Change) {
        self.changes.borrow_mut().push(change);
    }
    /// How many changes are recorded (to roll a soft-failed job's back).
    pub(super) fn mark(&self) -> usize {
        self.changes.borrow().len()
    }
    pub(super) fn truncate(&self, mark: usize) {
        self.changes.borrow_mut().truncate(mark);
    }
    pub(super) fn take_changes(&self) -> Vec<Change> {
        std::mem::take(&mut *self.changes.borrow_mut())
    }
}

impl std::ops::Deref for Txn<'_> {
    type Target = redb::WriteTransaction;
    fn deref(&self) -> &redb::WriteTransaction {
        self.raw
    }
}

/// A read snapshot of the metadata store.
pub(crate) struct ReadTxn {
    raw: redb::ReadTransaction,
    sealer: RecordSealer,
}

impl ReadTxn {
    pub(super) fn new(raw: redb::ReadTransaction, sealer: RecordSealer) -> Self {
        ReadTxn { raw, sealer }
    }
    /// Opens the sealed record values read through this snapshot.
    pub(crate) fn sealer(&self) -> &RecordSealer {
        &self.sealer
    }
    /// Rows in a table of byte-string keys (counters for stats and metrics).
    pub fn len(&self, table: super::Bin, what: &'static str) -> crate::engine::EngineResult<u64> {
        use super::MetaContext;
        use redb::ReadableTableMetadata;
        self.raw.open_table(table).ctx(what)?.len().ctx(what)
    }
}

impl std::ops::Deref for ReadTxn {
    type Target = redb::ReadTransaction;
    fn deref(&self) -> &redb::ReadTransaction {
        &self.raw
    }
}
