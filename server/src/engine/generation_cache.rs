//! A cache of values read from the database, keyed by name, that a commit
//! hook empties after every committed change that could alter them. The key
//! cache (`key_cache`) and the lifecycle rules read on every object request
//! (`lifecycle`) use it.
//!
//! Why a change can never be missed: every write records a [`Change`] in its
//! transaction, and the [`Invalidator`] bumps a generation once that
//! transaction is committed, before the writer gets its answer. A reader
//! takes the generation *before* it begins its read transaction and files
//! what it read under that generation; an entry is served only while the
//! generation is unchanged. So a snapshot taken before a change is always
//! filed under a generation the change has since ended.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::meta::hook::{Change, CommitHook};

pub(crate) struct GenerationCache<V> {
    generation: AtomicU64,
    by_name: Mutex<HashMap<String, (u64, Arc<V>)>>,
    /// Past this many entries the cache starts over (names in use come back
    /// on their next read).
    capacity: usize,
}

impl<V> std::fmt::Debug for GenerationCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerationCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<V> GenerationCache<V> {
    pub fn new(capacity: usize) -> Self {
        GenerationCache {
            generation: AtomicU64::new(0),
            by_name: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The generation to file a read under: take it before the read
    /// transaction begins.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// `name` as last read, unless a relevant change committed since.
    pub fn get(&self, name: &str) -> Option<Arc<V>> {
        let current = self.generation();
        let map = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(name) {
            Some((g, v)) if *g == current => Some(v.clone()),
            _ => None,
        }
    }

    /// Files `value` as read by a reader that started at `generation`.
    pub fn put(&self, name: &str, generation: u64, value: Arc<V>) {
        let mut map = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(name) {
            map.clear();
        }
        map.insert(name.to_owned(), (generation, value));
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_name.lock().unwrap().len()
    }
}

/// Ends a cache's generation after every committed batch holding a change
/// `relevant` picks.
pub(crate) struct Invalidator<V> {
    pub cache: Arc<GenerationCache<V>>,
    pub relevant: Box<dyn Fn(&Change) -> bool + Send + Sync>,
}

/// For a cache of one bucket setting: a change to that setting, or a
/// bucket created or deleted (a recreated bucket starts without it).
pub(crate) fn bucket_setting_invalidator<V>(
    cache: Arc<GenerationCache<V>>,
    setting: &'static str,
) -> Invalidator<V> {
    Invalidator {
        cache,
        relevant: Box::new(move |c| match c {
            Change::BucketSettingChanged { setting: s, .. } => s == setting,
            Change::BucketCreated { .. } | Change::BucketDeleted { .. } => true,
            _ => false,
        }),
    }
}

impl<T: Clone> GenerationCache<Option<T>> {
    /// A bucket's sealed setting `name`, decoded, from memory while no
    /// change ended the generation; `None` when the bucket has none.
    /// `NoSuchBucket` for a bucket that does not exist (never cached).
    pub fn bucket_setting(
        &self,
        meta: &super::meta::MetaStore,
        bucket: &str,
        name: &str,
        what: &'static str,
        decode: fn(&[u8]) -> super::EngineResult<T>,
    ) -> super::EngineResult<Option<T>> {
        if let Some(v) = self.get(bucket) {
            return Ok(v.as_ref().clone());
        }
        // Taken before the snapshot, so a change during it is never missed.
        let generation = self.generation();
        let txn = meta.read()?;
        super::meta::buckets::get(&txn, bucket)?;
        let value = match super::meta::buckets::sealed_setting(&txn, bucket, name, what)? {
            Some(plain) => Some(decode(&plain)?),
            None => None,
        };
        self.put(bucket, generation, Arc::new(value.clone()));
        Ok(value)
    }
}

impl<V: Send + Sync + 'static> CommitHook for Invalidator<V> {
    fn durable(&self, changes: &[Change]) {
        if changes.iter().any(|c| (self.relevant)(c)) {
            self.cache.invalidate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> (Arc<GenerationCache<String>>, Invalidator<String>) {
        let c = Arc::new(GenerationCache::new(4));
        let hook = Invalidator {
            cache: c.clone(),
            relevant: Box::new(|ch| matches!(ch, Change::BucketDeleted { .. })),
        };
        (c, hook)
    }

    #[test]
    fn a_relevant_change_ends_every_entry_and_others_keep_them() {
        let (c, hook) = cache();
        c.put("a", c.generation(), Arc::new("1".into()));
        hook.durable(&[Change::BucketCreated { bucket: "b".into() }]);
        assert_eq!(c.get("a").as_deref().map(String::as_str), Some("1"));
        hook.durable(&[Change::BucketDeleted { bucket: "b".into() }]);
        assert!(c.get("a").is_none());
    }

    /// A read that began before a change files its (old) snapshot under the
    /// generation the change ended: it is never served.
    #[test]
    fn a_snapshot_from_before_a_change_is_never_served() {
        let (c, hook) = cache();
        let before = c.generation();
        hook.durable(&[Change::BucketDeleted { bucket: "b".into() }]);
        c.put("a", before, Arc::new("old".into()));
        assert!(c.get("a").is_none());
        c.put("a", c.generation(), Arc::new("new".into()));
        assert_eq!(c.get("a").as_deref().map(String::as_str), Some("new"));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let (c, _) = cache();
        for i in 0..10 {
            c.put(&format!("n{i}"), 0, Arc::new(String::new()));
        }
        assert!(c.len() <= 4);
        assert!(c.get("n9").is_some());
    }
}
