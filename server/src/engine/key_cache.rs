//! What signed requests need of their access key — its state, its secret
//! opened, its grants — kept in memory between changes to the key.
//!
//! Every signed request looks its key up twice (the signature needs the
//! secret, authorisation needs the grants). From the database that is two
//! read transactions, three table opens and an AES-GCM open of the sealed
//! secret: more work than the rest of a small HEAD's engine call. Keys change
//! rarely, so the lookups are served from a [`GenerationCache`] that every
//! committed change to a key or grant empties (why none can be missed:
//! `generation_cache`). Expiry is time-based and checked at every use, not
//! cached.

use std::sync::Arc;

use super::access::Grant;
use super::generation_cache::{GenerationCache, Invalidator};
use super::meta::hook::Change;

/// At most this many keys are kept. Far above the keys one server serves at
/// once; unknown ids are never cached, so a flood of made-up ids cannot push
/// real ones out.
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

pub(crate) type KeyCache = GenerationCache<CachedKey>;

pub(crate) fn new_cache() -> Arc<KeyCache> {
    Arc::new(GenerationCache::new(CAPACITY))
}

/// Ends the cache's generation after every committed change to a key or a
/// grant.
pub(crate) fn invalidator(cache: Arc<KeyCache>) -> Invalidator<CachedKey> {
    Invalidator {
        cache,
        relevant: Box::new(|c| {
            matches!(
                c,
                Change::AccessKeyChanged { .. } | Change::GrantChanged { .. }
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::meta::hook::CommitHook;

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
    fn a_change_to_any_key_or_grant_ends_every_entry() {
        let c = new_cache();
        let hook = invalidator(c.clone());
        c.put("AK", c.generation(), key("s1"));
        assert_eq!(c.get("AK").unwrap().secret, "s1");
        hook.durable(&[Change::BucketCreated { bucket: "b".into() }]);
        assert!(c.get("AK").is_some(), "unrelated changes keep the cache");
        hook.durable(&[Change::GrantChanged {
            access_key_id: "OTHER".into(),
            bucket: "b".into(),
            prefix: String::new(),
        }]);
        assert!(c.get("AK").is_none());
        c.put("AK", c.generation(), key("s2"));
        hook.durable(&[Change::AccessKeyChanged {
            access_key_id: "AK".into(),
        }]);
        assert!(c.get("AK").is_none());
    }
}
