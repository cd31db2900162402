//! The MetaStore: the one owner of the redb database. Every write
//! transaction begins here (`begin_write` appears in no other file), either
//! as a direct write ([`MetaStore::write`], for rare admin-like changes) or
//! as a job of the group commit ([`MetaStore::submit`]). Both run the commit
//! hooks inside the transaction and tell them once it is durable.

use std::path::Path;
use std::sync::{Arc, RwLock};

use redb::ReadableDatabase;

use super::committer::{Committer, JobResult};
use super::error::MetaError;
use super::hook::{Change, CommitHook, HookTxn};
use super::seal::RecordSealer;
use super::txn::{ReadTxn, Txn};
use super::{MetaContext, create_tables, engine_meta, rebuild, seal_migration};
use crate::engine::error::{EngineError, EngineResult};

pub(crate) type Hooks = Arc<RwLock<Vec<Arc<dyn CommitHook>>>>;

/// Handle to the metadata store (cheap to share behind the engine's `Arc`).
pub(crate) struct MetaStore {
    db: Arc<redb::Database>,
    hooks: Hooks,
    sealer: RecordSealer,
    committer: Committer,
}

impl std::fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaStore").finish_non_exhaustive()
    }
}

/// Opens `path` with redb 4, first upgrading in place a file redb 2 wrote
/// (file format v2, which redb 3+ cannot read).
pub(crate) fn open_database(path: &Path) -> EngineResult<redb::Database> {
    // redb creates the file with the process umask; create it owner-only first
    // (it holds names and user metadata: `file_modes.rs`).
    crate::file_modes::new_file_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| EngineError::Internal(format!("{}: {e}", path.display())))?;
    match redb::Database::create(path) {
        Ok(db) => Ok(db),
        Err(redb::DatabaseError::UpgradeRequired(format)) => {
            upgrade_redb2(path)?;
            tracing::info!(
                path = %path.display(),
                from_format = format,
                "upgraded the metadata store from redb file format v2 to v3"
            );
            redb::Database::create(path).ctx("open meta.redb after the upgrade")
        }
        Err(e) => Err(MetaError::from(redb::Error::from(e)).at("open meta.redb")),
    }
}

fn upgrade_redb2(path: &Path) -> EngineResult<()> {
    let mut db = redb2::Database::open(path)
        .map_err(|e| MetaError::Upgrade(Box::new(e.into())).at("open meta.redb with redb 2"))?;
    db.upgrade()
        .map_err(|e| MetaError::Upgrade(Box::new(e.into())).at("upgrade meta.redb"))?;
    Ok(())
}

impl MetaStore {
    /// Opens (creating or upgrading) the database and starts the commit
    /// thread. Record values are sealed and opened with `keys`' metadata key.
    /// The first open by a release that seals records rewrites those an
    /// earlier release stored in clear, then rebuilds the file so their old
    /// bytes are not left in freed pages (`seal_migration`, `rebuild`).
    pub fn open(path: &Path, keys: &coffer_repo::Keys) -> EngineResult<MetaStore> {
        let sealer = RecordSealer::new(keys.clone());
        // A file created now never held a clear value: nothing to rebuild.
        let created = !path.exists();
        let db = open_database(path)?;
        let store = MetaStore::start(db, sealer.clone())?;
        store.write("create tables", create_tables)?;
        if seal_migration::done(&store)? {
            return Ok(store);
        }
        let report = seal_migration::seal_plain_records(&store)?;
        let store = if created {
            store
        } else {
            let db = rebuild::rebuild(store.into_database()?, path)?;
            MetaStore::start(db, sealer)?
        };
        store.write("record sealing", |txn| {
            engine_meta::set_records_sealed(txn, report.total())
        })?;
        if report.total() > 0 {
            tracing::info!(
                path = %path.display(),
                versions = report.versions,
                uploads = report.uploads,
                parts = report.parts,
                "sealed {} metadata records that an earlier release stored in clear",
                report.total()
            );
        }
        Ok(store)
    }

    /// Stops the commit thread and hands back the database (only at open,
    /// when nothing else holds it).
    fn into_database(self) -> EngineResult<redb::Database> {
        let MetaStore { db, committer, .. } = self;
        // Joins the commit thread, which holds the other handle.
        drop(committer);
        Arc::try_unwrap(db)
            .map_err(|_| EngineError::Internal("the metadata store is still in use".into()))
    }

    fn start(db: redb::Database, sealer: RecordSealer) -> EngineResult<MetaStore> {
        let db = Arc::new(db);
        let hooks: Hooks = Arc::default();
        let committer = Committer::start(db.clone(), hooks.clone(), sealer.clone())?;
        Ok(MetaStore {
            db,
            hooks,
            sealer,
            committer,
        })
    }

    /// Registers a hook for every later transaction.
    pub fn add_hook(&self, hook: Arc<dyn CommitHook>) {
        self.hooks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(hook);
    }

    /// A read snapshot.
    pub fn read(&self) -> EngineResult<ReadTxn> {
        Ok(ReadTxn::new(
            self.db.begin_read().ctx("begin read")?,
            self.sealer.clone(),
        ))
    }

    /// One write transaction of its own, committed (durably) before this
    /// returns. `f` returning an error aborts it: nothing is written.
    pub fn write<T, E: From<EngineError>>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Txn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let raw = begin(&self.db, what)?;
        let txn = Txn::new(&raw, &self.sealer);
        let out = f(&txn)?;
        let changes = txn.take_changes();
        let hooks = snapshot(&self.hooks);
        run_in_transaction(&hooks, &txn, &changes)?;
        drop(txn);
        raw.commit().ctx(what)?;
        tell_durable(&hooks, &changes);
        Ok(out)
    }

    /// Applies `apply` in the next group transaction and waits for it to be
    /// durable (see `committer`).
    pub async fn submit<T, F>(&self, apply: F) -> EngineResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Txn<'_>) -> JobResult<T> + Send + 'static,
    {
        self.committer.submit(apply).await
    }
}

/// The only `begin_write` of the engine.
pub(super) fn begin(
    db: &redb::Database,
    what: &'static str,
) -> EngineResult<redb::WriteTransaction> {
    db.begin_write().ctx(what)
}

pub(super) fn snapshot(hooks: &Hooks) -> Vec<Arc<dyn CommitHook>> {
    hooks
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

pub(super) fn run_in_transaction(
    hooks: &[Arc<dyn CommitHook>],
    txn: &Txn<'_>,
    changes: &[Change],
) -> EngineResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let h = HookTxn { txn };
    for hook in hooks {
        hook.in_transaction(&h, changes)?;
    }
    Ok(())
}

pub(super) fn tell_durable(hooks: &[Arc<dyn CommitHook>], changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    for hook in hooks {
        hook.durable(changes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written by redb 2 (file format v2) is upgraded in place and
    /// then read by redb 4 with its contents.
    #[test]
    fn a_redb2_file_is_upgraded_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.redb");
        const T2: redb2::TableDefinition<&str, &[u8]> = redb2::TableDefinition::new("buckets");
        {
            let db = redb2::Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(T2)
                .unwrap()
                .insert("old-bucket", [1u8, 2, 3].as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        assert!(
            matches!(
                redb::Database::create(&path),
                Err(redb::DatabaseError::UpgradeRequired(_))
            ),
            "the fixture really is a redb-2 file"
        );
        {
            let db = open_database(&path).unwrap();
            let txn = db.begin_read().unwrap();
            let t = txn.open_table(super::super::buckets::BUCKETS).unwrap();
            let v = redb::ReadableTable::get(&t, "old-bucket").unwrap().unwrap();
            assert_eq!(v.value(), [1u8, 2, 3]);
        }
        // Opening again needs no upgrade.
        open_database(&path).unwrap();
    }
}
