//! Commit hooks: code that wants to know what each metadata transaction
//! changed (the journal, metrics) registers a [`CommitHook`] on the
//! MetaStore. It is called inside the transaction, before its commit, with
//! a typed list of the changes (so it can write its own records in the same
//! batch), and again once the commit is durable. A batch that fails is never
//! reported as durable.

use coffer_repo::PackId;

use crate::engine::error::EngineResult;
use crate::engine::meta::txn::Txn;
use crate::engine::types::VersionId;

/// One change a committed transaction made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    BucketCreated {
        bucket: String,
    },
    BucketDeleted {
        bucket: String,
    },
    /// A bucket setting (versioning, or a row of `bucket_settings`) changed.
    BucketSettingChanged {
        bucket: String,
        setting: String,
    },
    /// A version or delete marker was added.
    VersionPut {
        bucket: String,
        key: String,
        version_id: VersionId,
        delete_marker: bool,
    },
    /// A version or delete marker was removed (deleted by id, or a null
    /// version replaced).
    VersionDeleted {
        bucket: String,
        key: String,
        version_id: VersionId,
    },
    /// A stored version's metadata changed in place (its tags): same id,
    /// same data.
    VersionMetadataChanged {
        bucket: String,
        key: String,
        version_id: VersionId,
    },
    /// An access key was created, enabled or disabled, or deleted.
    AccessKeyChanged {
        access_key_id: String,
    },
    /// A grant of a key was put or removed.
    GrantChanged {
        access_key_id: String,
        bucket: String,
        prefix: String,
    },
    /// A pack was recorded (its first writer, for a shared pack).
    PackAdded {
        pack: PackId,
        store: String,
    },
}

/// The transaction a hook runs in. Only the metadata store's own modules can
/// write through it (a journal table will live there).
#[derive(Debug)]
pub struct HookTxn<'a> {
    #[allow(dead_code)] // read by hooks inside the crate once the journal exists
    pub(crate) txn: &'a Txn<'a>,
}

/// Told about every committed metadata transaction.
pub trait CommitHook: Send + Sync + 'static {
    /// Inside the transaction, after every job of the batch was applied and
    /// before the commit. An error fails the whole batch: nothing is
    /// committed and every job in it fails.
    fn in_transaction(&self, txn: &HookTxn<'_>, changes: &[Change]) -> EngineResult<()> {
        let _ = (txn, changes);
        Ok(())
    }
    /// After the commit is durable, before any caller of the batch gets its
    /// answer. Must not block for long (it delays every writer of the batch).
    fn durable(&self, changes: &[Change]);
}
