//! The engine: buckets, objects, versions and multipart uploads over the
//! repository format (`coffer-repo`) and a store, with all metadata in the
//! MetaStore (`meta`, one redb database and its only write path). It knows
//! nothing of HTTP; the S3 front maps requests onto it.
//!
//! Write order (DESIGN.md, "Metadata"): pack bytes durable in the store →
//! one metadata transaction (index entries, refcounts, the new version) →
//! only then does a method return `Ok` and the client get its 200.

pub mod access;
mod bucket_name;
pub mod clock;
mod digests;
pub mod error;
mod generation_cache;
mod ingest;
mod init;
mod key_cache;
pub mod lifecycle;
mod locking;
mod memory_trim;
pub(crate) mod meta;
mod multipart;
pub mod object_lock;
mod objects;
mod read;
mod read_budget;
pub mod retention;
mod rule_worker;
mod shared_packs;
mod stats;
mod tagging;
pub mod tags;
pub mod types;
mod version_id;

use std::path::PathBuf;
use std::sync::Arc;

use coffer_repo::{Keys, RepoConfig};
use tokio::sync::Semaphore;

use crate::backend::{LocalStore, Store};
pub use clock::Clock;
use meta::buckets;
use meta::codec::micros;

pub use error::{EngineError, EngineResult};
pub use locking::LockChange;
pub use meta::{Change, CommitHook, DEFAULT_STORE, HookTxn, MetaError};
pub use stats::EngineStats;
pub use types::*;

/// Settings the engine needs at start-up (filled from `cofferd`'s config).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    /// Root key to create on first start instead of generating one.
    pub root_access_key: Option<String>,
    pub root_secret_key: Option<String>,
    /// zstd level for new chunks.
    pub zstd_level: i32,
    /// Chunker parameters for a *new* repository (an existing one keeps its own).
    pub chunker: coffer_repo::ChunkerParams,
    /// Threads that seal chunks (0 = number of cores).
    pub seal_threads: usize,
    /// Clock speed-up for tests (1.0 = real time).
    pub clock_speedup: f64,
    /// Where the clock starts, for tests (`None` = now).
    pub clock_start: Option<time::OffsetDateTime>,
}

/// Default of [`EngineTuning::read_buffer_bytes`] (`[engine] read_buffer_bytes`).
pub const DEFAULT_READ_BUFFER_BYTES: u64 = 256 << 20;

/// Knobs that tests and benchmarks turn; production uses the defaults.
#[derive(Debug, Clone)]
pub struct EngineTuning {
    /// A pack is closed once it holds this many bytes (DESIGN.md: 16–64 MiB).
    pub pack_target: u64,
    /// Minimum size of every part but the last of a multipart upload (S3: 5 MiB).
    pub min_part_size: u64,
    /// A body whose sealed chunks stay within this many bytes is held in
    /// memory and written into a pack shared with other small bodies.
    pub small_body_limit: u64,
    /// Bytes all small bodies together may hold in memory; past it, a body
    /// streams to pack files of its own instead (bounds memory under many
    /// concurrent PUTs of almost `small_body_limit` bytes).
    pub small_body_budget: u32,
    /// Bytes of GET data (chunks read, opened and not yet sent) held in
    /// memory, engine-wide; past it GETs wait (`[engine] read_buffer_bytes`).
    pub read_buffer_bytes: u64,
}

impl Default for EngineTuning {
    fn default() -> Self {
        EngineTuning {
            pack_target: 32 << 20,
            min_part_size: 5 << 20,
            small_body_limit: 1 << 20,
            small_body_budget: 64 << 20,
            read_buffer_bytes: DEFAULT_READ_BUFFER_BYTES,
        }
    }
}

/// The storage engine. Cheap to share: wrap in `Arc`.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// Shared state behind an [`Engine`].
pub(crate) struct Inner {
    /// The metadata store: every read snapshot and write transaction.
    pub meta: meta::MetaStore,
    /// Group commit of small bodies' pack bytes.
    pub shared_packs: shared_packs::SharedPacks,
    /// Bytes of small bodies held in memory, engine-wide (`EngineTuning::small_body_budget`).
    pub small_body_budget: Arc<Semaphore>,
    /// Bytes of GET data in memory, engine-wide (`EngineTuning::read_buffer_bytes`).
    pub read_budget: read_budget::MemoryBudget,
    pub keys: Keys,
    pub config: RepoConfig,
    pub zstd_level: i32,
    /// Where the repository's objects live (packs, config).
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    /// Bounds the chunks being hashed and sealed at once, across all PUTs.
    pub seal_slots: Arc<Semaphore>,
    /// Chunks in flight per PUT (order is preserved).
    pub seal_depth: usize,
    pub tuning: EngineTuning,
    /// Access keys as signed requests use them ([`key_cache`]).
    pub key_cache: Arc<key_cache::KeyCache>,
    /// Buckets' lifecycle configurations, read on every object request.
    pub lifecycle_cache: Arc<lifecycle::LifecycleCache>,
    /// Buckets' object lock configurations, read on every write.
    pub lock_cache: Arc<locking::LockCache>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .field("store", &self.store)
            .field("seal_depth", &self.seal_depth)
            .field("tuning", &self.tuning)
            .finish_non_exhaustive()
    }
}

/// Runs a metadata operation (which may wait for an fsync) off the async reactor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> EngineResult<T> + Send + 'static,
) -> EngineResult<T> {
    crate::blocking_pool::spawn(f)
        .await
        .map_err(|e| EngineError::Internal(format!("blocking task failed: {e}")))?
}

/// An opened engine whose background work has not started yet: the app
/// root hands `workers` to its runner (nothing in the engine spawns tasks).
#[derive(Debug)]
pub struct OpenedEngine {
    pub engine: Engine,
    /// `Some` only when this open created the repository.
    pub init: Option<InitReport>,
    /// What must run for the engine to work (the shared-pack writer, the memory trimmer).
    pub workers: Vec<crate::workers::Spec>,
}

impl Engine {
    /// Like [`Engine::open_with`], but returns the engine's workers instead of
    /// running them: the caller starts them on its [`crate::workers::Runner`].
    /// The store holds the repository's packs and config (default: the local store
    /// `"local"` in the data directory); the master key file and the metadata database
    /// stay in the data directory.
    pub async fn open_parts(
        opts: EngineOptions,
        store: Option<Arc<dyn Store>>,
        tuning: EngineTuning,
    ) -> EngineResult<OpenedEngine> {
        let store: Arc<dyn Store> = match store {
            Some(s) => s,
            None => {
                let dir = opts.data_dir.clone();
                Arc::new(blocking(move || Ok(LocalStore::open(init::DEFAULT_STORE, dir)?)).await?)
            }
        };
        let opened = init::open_repo(
            &opts.data_dir,
            store.as_ref(),
            opts.chunker,
            opts.zstd_level,
        )
        .await?;
        let threads = if opts.seal_threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            opts.seal_threads
        };
        let (shared_packs, shared_pack_writer) =
            shared_packs::SharedPacks::new(store.clone(), opened.keys.clone(), tuning.pack_target);
        let inner = Arc::new(Inner {
            meta: opened.meta,
            shared_packs,
            small_body_budget: Arc::new(Semaphore::new(tuning.small_body_budget as usize)),
            read_budget: read_budget::MemoryBudget::new(tuning.read_buffer_bytes),
            keys: opened.keys,
            config: opened.config,
            zstd_level: opts.zstd_level,
            store,
            clock: Clock::starting_at(opts.clock_start, opts.clock_speedup),
            seal_slots: Arc::new(Semaphore::new(threads)),
            seal_depth: threads + 1,
            tuning,
            key_cache: key_cache::new_cache(),
            lifecycle_cache: lifecycle::new_cache(),
            lock_cache: locking::new_cache(),
        });
        inner
            .meta
            .add_hook(Arc::new(key_cache::invalidator(inner.key_cache.clone())));
        inner.meta.add_hook(Arc::new(lifecycle::invalidator(
            inner.lifecycle_cache.clone(),
        )));
        inner
            .meta
            .add_hook(Arc::new(locking::invalidator(inner.lock_cache.clone())));
        let memory_trim = memory_trim::spec(inner.read_budget.releases());
        let lifecycle_worker = lifecycle::worker::spec(Arc::downgrade(&inner));
        let retention_worker = retention::worker::spec(Arc::downgrade(&inner));
        let engine = Engine { inner };
        let e2 = engine.clone();
        let (ak, sk) = (opts.root_access_key.clone(), opts.root_secret_key.clone());
        let root = blocking(move || {
            let now = e2.now();
            init::ensure_root_key(
                &e2.inner.meta,
                &e2.inner.keys,
                ak.as_deref(),
                sk.as_deref(),
                now,
            )
        })
        .await?;
        let report = root.map(|(root_access_key, root_secret_key, generated)| InitReport {
            data_dir: opts.data_dir.clone(),
            master_key_file: opened.master_key_file.clone(),
            root_access_key,
            root_secret_key,
            root_secret_generated: generated,
        });
        let _ = opened.created;
        Ok(OpenedEngine {
            engine,
            init: report,
            workers: vec![
                shared_pack_writer,
                memory_trim,
                lifecycle_worker,
                retention_worker,
            ],
        })
    }

    /// Like [`Engine::open`], with a chosen store (default: the local store `"local"`
    /// in the data directory) and tuning. For tests and the bench, which
    /// have no app root: the engine's workers run on a runner of their own
    /// that ends with the engine (their queues close when it is dropped).
    pub async fn open_with(
        opts: EngineOptions,
        store: Option<Arc<dyn Store>>,
        tuning: EngineTuning,
    ) -> EngineResult<(Engine, Option<InitReport>)> {
        let opened = Self::open_parts(opts, store, tuning).await?;
        let mut runner = crate::workers::Runner::new(opened.engine.clock());
        for spec in opened.workers {
            runner
                .start(spec)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
        }
        runner.detach();
        Ok((opened.engine, opened.init))
    }

    /// Opens the repository in `opts.data_dir`, creating it on first start
    /// (repo config, master key file 0600, metadata store, root access key).
    /// Returns `Some(InitReport)` only when it created a new repository.
    /// Its workers run detached, as with [`Engine::open_with`].
    pub async fn open(opts: EngineOptions) -> EngineResult<(Engine, Option<InitReport>)> {
        Self::open_with(opts, None, EngineTuning::default()).await
    }

    /// A fresh engine in `dir` with test defaults (unit tests).
    #[cfg(test)]
    pub(crate) async fn open_for_test(dir: &std::path::Path) -> Engine {
        let opts = EngineOptions {
            data_dir: dir.to_path_buf(),
            root_access_key: None,
            root_secret_key: None,
            zstd_level: 3,
            chunker: coffer_repo::ChunkerParams::default(),
            seal_threads: 1,
            clock_speedup: 1.0,
            clock_start: None,
        };
        Engine::open(opts).await.unwrap().0
    }

    /// Secret key of an enabled access key, for SigV4 verification.
    /// `None` for unknown, disabled and expired keys; [`Engine::authenticate`] tells them apart.
    pub fn secret_key(&self, access_key: &str) -> EngineResult<Option<String>> {
        Ok(match self.authenticate(access_key)? {
            access::KeyAuth::Active { secret } => Some(secret),
            _ => None,
        })
    }

    /// The GET data budget: bytes in use and its capacity (health shows them).
    pub fn read_buffer_usage(&self) -> (u64, u64) {
        let b = &self.inner.read_budget;
        (b.in_use(), b.capacity())
    }

    /// Counts of indexed chunks, references, packs and the gc queue.
    pub fn stats(&self) -> EngineResult<EngineStats> {
        stats::stats(&self.inner)
    }

    /// The engine's clock (see DESIGN.md, "Time").
    pub fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// The clock itself, for waiting in engine time (the workers' runner).
    pub fn clock(&self) -> Clock {
        self.inner.clock.clone()
    }

    // ---- buckets

    pub fn create_bucket(&self, name: &str) -> EngineResult<()> {
        if !bucket_name::is_valid(name) {
            return Err(EngineError::InvalidBucketName(name.to_owned()));
        }
        let now = micros(self.now());
        self.inner
            .meta
            .write("create bucket", |txn| buckets::create(txn, name, now))
    }

    /// Fails with `BucketNotEmpty` while any version, delete marker or
    /// multipart upload remains.
    /// Deletes a bucket that holds no versions or delete markers; its
    /// in-progress multipart uploads are aborted with it, as AWS does.
    pub fn delete_bucket(&self, name: &str) -> EngineResult<()> {
        let now_us = micros(self.now());
        self.inner.meta.write("delete bucket", |txn| {
            buckets::check_no_versions(txn, name)?;
            multipart::abort_all(txn, name, now_us)?;
            buckets::delete(txn, name)
        })
    }

    pub fn bucket(&self, name: &str) -> EngineResult<BucketInfo> {
        Ok(buckets::get(&self.inner.meta.read()?, name)?.info(name))
    }

    pub fn list_buckets(&self) -> EngineResult<Vec<BucketInfo>> {
        buckets::list(&self.inner.meta.read()?)
    }

    /// `Unversioned` cannot be set again once a bucket was versioned (as in S3).
    /// A bucket with object lock stays versioned: it cannot be suspended.
    pub fn set_versioning(&self, bucket: &str, state: VersioningState) -> EngineResult<()> {
        self.inner.meta.write("set versioning", |txn| {
            if state != VersioningState::Enabled && locking::bucket_lock_rw(txn, bucket)?.is_some()
            {
                return Err(EngineError::InvalidBucketState(
                    "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                        .into(),
                ));
            }
            buckets::set_versioning(txn, bucket, state)
        })
    }

    /// Registers a hook told about every later metadata transaction: inside
    /// it (to write in the same batch) and once it is durable.
    pub fn add_commit_hook(&self, hook: Arc<dyn CommitHook>) {
        self.inner.meta.add_hook(hook);
    }

    // ---- objects

    /// Stores a new version (or replaces the null version) from a streamed body.
    /// Calls `verify` after the body ended and before committing.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: BodyStream,
        opts: PutOptions,
        verify: Verifier,
    ) -> EngineResult<ObjectInfo> {
        objects::put(&self.inner, bucket, key, body, opts, verify).await
    }

    /// Looks up a version (latest when `version` is `None`) without reading data.
    pub fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&VersionId>,
    ) -> EngineResult<ObjectInfo> {
        objects::head(&self.inner, bucket, key, version)
    }

    /// Streams the bytes of a version, only the chunks the range needs,
    /// decrypting chunk n+1 while chunk n is being sent. `info` comes from
    /// `head_object`, so the front can check preconditions and resolve the
    /// range first. Reading is lazy: nothing is read until the stream is polled.
    pub fn read_object(
        &self,
        info: &ObjectInfo,
        range: Option<ByteRange>,
    ) -> EngineResult<BodyStream> {
        let manifest = objects::manifest_of(&self.inner, info)?;
        let pieces = read::plan(&manifest.chunks, manifest.size, range)?;
        Ok(read::stream(self.inner.clone(), pieces))
    }

    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&VersionId>,
    ) -> EngineResult<DeleteOutcome> {
        objects::delete(&self.inner, bucket, key, version, false).await
    }

    /// DeleteObject that may bypass governance retention: the request
    /// asked (`x-amz-bypass-governance-retention`) and its key may.
    pub async fn delete_object_bypassing_governance(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&VersionId>,
        bypass: bool,
    ) -> EngineResult<DeleteOutcome> {
        objects::delete(&self.inner, bucket, key, version, bypass).await
    }

    /// DeleteObjects: all deletions in one metadata transaction (one fsync);
    /// one result per entry, in order. `Err` as a whole only when the bucket
    /// does not exist or the transaction fails.
    pub async fn delete_objects(
        &self,
        bucket: &str,
        items: &[(String, Option<VersionId>)],
        bypass_governance: bool,
    ) -> EngineResult<Vec<EngineResult<DeleteOutcome>>> {
        objects::delete_many(&self.inner, bucket, items, bypass_governance).await
    }

    /// Copies a version by reference (no data is rewritten). `meta = None`
    /// keeps the source's metadata (directive COPY).
    pub async fn copy_object(
        &self,
        src: &ObjectInfo,
        dst_bucket: &str,
        dst_key: &str,
        meta: Option<ObjectMeta>,
    ) -> EngineResult<ObjectInfo> {
        objects::copy(&self.inner, src, dst_bucket, dst_key, meta).await
    }

    pub fn list_objects(&self, bucket: &str, query: &ListQuery) -> EngineResult<ListPage> {
        meta::listing::list_objects(&self.inner, bucket, query)
    }
    /// Versions carry `Some(version id)` even in never-versioned buckets
    /// (`null`), as ListObjectVersions shows them.
    pub fn list_versions(&self, bucket: &str, query: &VersionsQuery) -> EngineResult<VersionsPage> {
        meta::listing::list_versions(&self.inner, bucket, query)
    }

    // ---- multipart

    pub fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        checksum_algorithm: Option<ChecksumAlgorithm>,
    ) -> EngineResult<UploadInfo> {
        multipart::create(&self.inner, bucket, key, meta, checksum_algorithm)
    }
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: BodyStream,
        opts: PutOptions,
        verify: Verifier,
    ) -> EngineResult<PartInfo> {
        multipart::upload_part(
            &self.inner,
            bucket,
            key,
            upload_id,
            part_number,
            body,
            opts,
            verify,
        )
        .await
    }
    /// UploadPartCopy: a part made of (a range of) an existing version.
    pub async fn upload_part_copy(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        src: &ObjectInfo,
        range: Option<ByteRange>,
    ) -> EngineResult<PartInfo> {
        multipart::upload_part_copy(&self.inner, bucket, key, upload_id, part_number, src, range)
            .await
    }
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> EngineResult<ObjectInfo> {
        self.complete_multipart_if(bucket, key, upload_id, parts, &WritePrecondition::default())
            .await
    }
    /// CompleteMultipartUpload with If-Match / If-None-Match, evaluated inside
    /// the commit against the key's current version (`PreconditionFailed`,
    /// or `NoSuchKey` for If-Match without a current object; the upload stays).
    pub async fn complete_multipart_if(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        precondition: &WritePrecondition,
    ) -> EngineResult<ObjectInfo> {
        multipart::complete(&self.inner, bucket, key, upload_id, parts, precondition).await
    }
    pub fn abort_multipart(&self, bucket: &str, key: &str, upload_id: &str) -> EngineResult<()> {
        multipart::abort(&self.inner, bucket, key, upload_id)
    }
    pub fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> EngineResult<UploadInfo> {
        multipart::get(&self.inner, bucket, key, upload_id)
    }
    pub fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number_marker: Option<u32>,
        max_parts: usize,
    ) -> EngineResult<PartsPage> {
        multipart::list_parts(
            &self.inner,
            bucket,
            key,
            upload_id,
            part_number_marker,
            max_parts,
        )
    }
    pub fn list_uploads(&self, bucket: &str, query: &UploadsQuery) -> EngineResult<UploadsPage> {
        meta::listing::list_uploads(&self.inner, bucket, query)
    }
}
