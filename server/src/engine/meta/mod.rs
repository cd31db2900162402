//! The metadata store (MetaStore): one redb database, the only write path
//! to it, and its typed tables.
//!
//! Every write transaction begins in [`store`]: the group commit
//! ([`committer`], for PUTs, parts, completed uploads and deletes, where many
//! writers share one fsync) and direct writes (buckets, keys, grants). Domain
//! code gets a [`Txn`] (a write transaction that collects the [`Change`]s made
//! through it) or a [`ReadTxn`] snapshot, and the table modules' typed
//! functions. Registered [`CommitHook`]s see each transaction's changes inside
//! it and are told once it is durable (the journal and metrics hang there).
//!
//! Tables, one module per family; every value starts with a version byte
//! (the codec of each is beside its table, older versions keep a reader):
//! - [`buckets`]: `buckets` name → BucketRecord; `bucket_settings`
//!   `bucket 00 setting` → versioned value
//! - [`access_keys`]: `access_keys` id → KeyRecord (secret sealed);
//!   `access_grants` `id 00 bucket 00 prefix` → permissions
//! - [`versions`]: `versions` `bucket 00 esc(key) 00 00 !seq` → VersionRecord
//!   (manifest sealed, see [`seal`]); `live` `bucket 00 esc(key)` → seq of the current
//!   version, only when it is not a delete marker (ListObjects scans this
//!   alone); `nulls` `bucket 00 esc(key)` → seq of the key's null version
//! - [`uploads`]: `uploads` `bucket 00 esc(key) 00 00 upload id` →
//!   UploadRecord (metadata sealed); `parts` `upload id, part number` →
//!   PartRecord (manifest sealed)
//! - [`chunks`]: `chunk_index` chunk id → `IndexEntry::encode_value`;
//!   `chunk_refs` chunk id → reference count (absent = 0)
//! - [`packs`]: `packs` pack id → PackRecord (size, live bytes, store; v1
//!   records read as store [`DEFAULT_STORE`])
//! - [`gc_queue`]: chunk id → when its refcount reached zero
//! - [`engine_meta`]: small named values (`last_seq`, `root_access_key`,
//!   `records_sealed`)
//!
//! Record values that hold what clients sent are sealed under the
//! repository's metadata key, bound to their table and index key ([`seal`];
//! bytes in `repo-format/DESIGN.md` section 7.1). Records earlier releases
//! stored in clear (v1) keep their reader; [`seal_migration`] rewrites them
//! once on open and [`rebuild`] then writes the database into a fresh file
//! so their old bytes do not linger in freed pages.
//!
//! [`listing`] holds the range scans behind ListObjects, ListObjectVersions
//! and ListMultipartUploads (they walk `live`, `versions` and `uploads`).
//!
//! The database is redb 4 (file format v3). A file written by redb 2 (format
//! v2) is upgraded in place on open, with one log line.

pub(crate) mod access_keys;
pub(crate) mod buckets;
pub(crate) mod chunks;
pub(crate) mod codec;
pub(crate) mod committer;
pub(crate) mod engine_meta;
pub(crate) mod error;
pub(crate) mod gc_queue;
pub(crate) mod hook;
pub(crate) mod keys;
pub(crate) mod listing;
pub(crate) mod packs;
pub(crate) mod rebuild;
pub(crate) mod seal;
pub(crate) mod seal_migration;
pub(crate) mod store;
pub(crate) mod txn;
pub(crate) mod uploads;
pub(crate) mod versions;

use redb::TableDefinition;

use crate::engine::error::EngineResult;

pub use error::MetaError;
pub use hook::{Change, CommitHook, HookTxn};
pub use packs::DEFAULT_STORE;
pub(crate) use store::MetaStore;
pub(crate) use txn::{ReadTxn, Txn};

pub(crate) type Bin = TableDefinition<'static, &'static [u8], &'static [u8]>;
pub(crate) type Named = TableDefinition<'static, &'static str, &'static [u8]>;

/// Adds context to redb errors, mapping them to [`EngineError::Meta`](crate::engine::EngineError::Meta).
pub(crate) trait MetaContext<T> {
    fn ctx(self, what: &'static str) -> EngineResult<T>;
}

impl<T, E: Into<redb::Error>> MetaContext<T> for Result<T, E> {
    fn ctx(self, what: &'static str) -> EngineResult<T> {
        self.map_err(|e| MetaError::from(e.into()).at(what))
    }
}

/// Every table keyed by strings.
pub(crate) const NAMED_TABLES: [Named; 3] = [
    buckets::BUCKETS,
    access_keys::ACCESS_KEYS,
    engine_meta::ENGINE_META,
];

/// Every table keyed by byte strings.
pub(crate) const BIN_TABLES: [Bin; 11] = [
    buckets::BUCKET_SETTINGS,
    access_keys::GRANTS,
    versions::VERSIONS,
    versions::LIVE,
    versions::NULLS,
    uploads::UPLOADS,
    uploads::PARTS,
    chunks::CHUNK_INDEX,
    chunks::CHUNK_REFS,
    packs::PACKS,
    gc_queue::GC_QUEUE,
];

/// Creates every table so read transactions can open them unconditionally.
pub(crate) fn create_tables(txn: &Txn<'_>) -> EngineResult<()> {
    for t in NAMED_TABLES {
        txn.open_table(t).ctx("create table")?;
    }
    for t in BIN_TABLES {
        txn.open_table(t).ctx("create table")?;
    }
    Ok(())
}
