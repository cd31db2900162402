//! Rebuilding `meta.redb` into a fresh file, so that bytes left in freed
//! pages (values rewritten by the sealing migration, whose old copies redb's
//! copy-on-write pages keep) are gone from the file.
//!
//! redb never zeroes a freed page (after the migration alone the clear
//! values are still in the file, `seal_migration`'s test showed it).
//! `Database::compact` moves pages down and truncates the file, and in that
//! test it left none behind, but a hole it cannot fill keeps its bytes and
//! nothing in redb promises otherwise. A copy into a new database never held
//! a clear value, by construction. The copy is written beside the database, made
//! durable, and renamed over it; a crash before the rename leaves the old
//! file in use (and the copy is redone on the next start, since the
//! migration's marker is set only after this).

use std::path::{Path, PathBuf};

use redb::{MultimapTableHandle, ReadableDatabase, ReadableTable, TableHandle};

use super::store::begin;
use super::{BIN_TABLES, MetaContext, NAMED_TABLES};
use crate::engine::error::{EngineError, EngineResult};

/// Rows copied per transaction of the new file (bounds its dirty pages).
const COPY_BATCH: usize = 10_000;

/// The file the copy is written to, beside the database.
fn rebuild_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".rebuild");
    PathBuf::from(p)
}

fn io(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::Internal(format!("{}: {e}", path.display()))
}

/// Replaces the database at `path` (open as `db`) by a copy of its tables in
/// a new file and returns the copy, opened. A database holding a table this
/// release does not know is compacted instead (with a warning), since the
/// copy would lose that table.
pub(crate) fn rebuild(mut db: redb::Database, path: &Path) -> EngineResult<redb::Database> {
    let read = db.begin_read().ctx("begin read for rebuild")?;
    let unknown: Vec<String> = read
        .list_tables()
        .ctx("list tables")?
        .map(|t| t.name().to_owned())
        .filter(|n| {
            !NAMED_TABLES.iter().any(|t| t.name() == n) && !BIN_TABLES.iter().any(|t| t.name() == n)
        })
        .chain(
            read.list_multimap_tables()
                .ctx("list tables")?
                .map(|t| t.name().to_owned()),
        )
        .collect();
    if !unknown.is_empty() {
        drop(read);
        tracing::warn!(
            path = %path.display(),
            tables = ?unknown,
            "meta.redb holds tables this release does not know: compacted instead of \
             rebuilt, so freed pages may still hold metadata stored in clear before"
        );
        db.compact().ctx("compact meta.redb")?;
        return Ok(db);
    }

    let tmp = rebuild_path(path);
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&tmp, e)),
    }
    {
        let new = redb::Database::create(&tmp).ctx("create the rebuilt meta.redb")?;
        for t in NAMED_TABLES {
            copy(&read, &new, t)?;
        }
        for t in BIN_TABLES {
            copy(&read, &new, t)?;
        }
        // Every batch committed durably; dropping closes the file.
    }
    drop(read);
    drop(db);
    // The copy takes the old file's mode (whatever start-up made it), so a
    // rebuild never widens who may read the database.
    let mode = std::fs::metadata(path)
        .map_err(|e| io(path, e))?
        .permissions();
    std::fs::set_permissions(&tmp, mode).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    redb::Database::create(path).ctx("open the rebuilt meta.redb")
}

/// Copies one table, in batches of [`COPY_BATCH`] rows per transaction.
fn copy<K: redb::Key + 'static>(
    read: &redb::ReadTransaction,
    new: &redb::Database,
    t: redb::TableDefinition<'static, K, &'static [u8]>,
) -> EngineResult<()> {
    let src = read.open_table(t).ctx("open table to copy")?;
    let mut rows = src.iter().ctx("scan table to copy")?.peekable();
    loop {
        let txn = begin(new, "copy into the rebuilt meta.redb")?;
        {
            let mut dst = txn.open_table(t).ctx("create copied table")?;
            for item in rows.by_ref().take(COPY_BATCH) {
                let (k, v) = item.ctx("scan table to copy")?;
                dst.insert(k.value(), v.value()).ctx("copy row")?;
            }
        }
        txn.commit().ctx("commit the rebuilt meta.redb")?;
        if rows.peek().is_none() {
            return Ok(());
        }
    }
}
