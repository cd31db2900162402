//! What signed requests need of their access key — its state, its secret
//! opened, its grants — kept in memory between changes to the key.
//!
//! Every signed request looks its key up twice (the signature needs the
//! secret, authorisation needs the grants). From the database that is two
//! read transactions, three table opens and an AES-GCM open of the sealed
//! secret: more work than the rest of a small HEAD's engine call. Keys change
//! rarely, so the lookups are served from here and reloaded after a change.
//!
//! Why a change can never be missed: every write of a key or grant records a
//! [`Change`] in its transaction, and this cache's [`CommitHook`] bumps a
//! generation once that transaction is committed, before the writer (an
//! admin call) gets its answer. A lookup reads the generation *before* it
//! begins its read transaction and files what it read under that
//! generation; an entry is used only while the generation is unchanged. So a
//! snapshot taken before a change is always filed under a generation the
//! change has since ended. Expiry is time-based and checked at every use, not
//! cached.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::access::Grant;
use super::meta::hook::{Change, CommitHook};

/// At most this many keys are kept; past it the cache starts over (keys in
/// use come back on their next request). Far above the keys one server
/// serves at once; unknown ids are never cached, so a flood of made-up ids
/// cannot push real ones out.
const CAPACITY: usize = 4096;

/// One key as requests use it.
#[derive(Clone)]
pub(crate) struct CachedKey {
    pub enabled: bool,
    pub expires_us: Option<i64>,
    pub is_admin: bool,
    /// The secret, opened.
    pub secret: String,
    pub grants: Vec<Grant>,
}

#[derive(Default)]
pub(crate) struct KeyCache {
    generation: AtomicU64,
    by_id: Mutex<HashMap<String, (u64, Arc<CachedKey>)>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

impl KeyCache {
    /// The generation to file a lookup under: read it before the lookup's
    /// read transaction begins.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// `id` as last read, unless a key or grant changed since.
    pub fn get(&self, id: &str) -> Option<Arc<CachedKey>> {
        let current = self.generation();
        let map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some((g, key)) if *g == current => Some(key.clone()),
            _ => None,
        }
    }

    /// Files `key` as read by a lookup that started at `generation`.
    pub fn put(&self, id: &str, generation: u64, key: Arc<CachedKey>) {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY && !map.contains_key(id) {
            map.clear();
        }
        map.insert(id.to_owned(), (generation, key));
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Ends the current generation after every committed change to a key or a
/// grant.
pub(crate) struct KeyCacheInvalidator(pub Arc<KeyCache>);

impl CommitHook for KeyCacheInvalidator {
    fn durable(&self, changes: &[Change]) {
        if changes.iter().any(|c| {
            matches!(
                c,
                Change::AccessKeyChanged { .. } | Change::GrantChanged { .. }
            )
        }) {
            self.0.invalidate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> Arc<CachedKey> {
        Arc::new(CachedKey {
            enabled: true,
            expires_us: None,
            is_admin: false,
            secret: secret.into(),
            grants: Vec::new(),
        })
    }

    #[test]
    fn a_change_to_any_key_ends_every_entry() {
        let c = Arc::new(KeyCache::default());
        let hook = KeyCacheInvalidator(c.clone());
        let g = c.generation();
        c.put("AK", g, key("s1"));
        assert_eq!(c.get("AK").unwrap().secret, "s1");
        hook.durable(&[Change::BucketCreated { bucket: "b".into() }]);
        assert!(c.get("AK").is_some(), "unrelated changes keep the cache");
        hook.durable(&[Change::GrantChanged {
            access_key_id: "OTHER".into(),
            bucket: "b".into(),
            prefix: String::new(),
        }]);
        assert!(c.get("AK").is_none());
    }

    /// A lookup that began before a change files its (old) snapshot under
    /// the generation the change ended: it is never served.
    #[test]
    fn a_snapshot_from_before_a_change_is_never_served() {
        let c = Arc::new(KeyCache::default());
        let hook = KeyCacheInvalidator(c.clone());
        let before = c.generation();
        hook.durable(&[Change::AccessKeyChanged {
            access_key_id: "AK".into(),
        }]);
        c.put("AK", before, key("old"));
        assert!(c.get("AK").is_none());
        c.put("AK", c.generation(), key("new"));
        assert_eq!(c.get("AK").unwrap().secret, "new");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = KeyCache::default();
        for i in 0..CAPACITY + 10 {
            c.put(&format!("AK{i}"), 0, key("s"));
        }
        assert!(c.by_id.lock().unwrap().len() <= CAPACITY);
        assert!(c.get(&format!("AK{}", CAPACITY + 9)).is_some());
    }
}
