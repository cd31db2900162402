//! The store conformance suite: what every [`Store`] must do, as async checks that take a
//! fresh, empty store. [`crate::store_conformance_tests!`] turns them into one `#[test]`
//! each for a store factory; the memory and local stores run it in
//! `server/tests/store_conformance.rs`, and every new store (S3, …) joins there.
//!
//! The checks panic on failure (they are test code compiled into the crate so other
//! crates' tests can run them too).

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;

use super::error::ErrorClass;
use super::faults::FaultyStore;
use super::kind::{ObjectId, ObjectKind};
use super::store::Store;

fn id(s: &str) -> ObjectId {
    ObjectId::new(s).expect("valid id")
}

/// A pack-like id: 64 hex characters derived from `n`.
pub fn pack_id(n: u32) -> ObjectId {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes[4..8].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_le_bytes());
    ObjectId::pack(&coffer_repo::PackId(bytes))
}

fn body(n: usize, seed: u8) -> Bytes {
    Bytes::from(
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect::<Vec<u8>>(),
    )
}

/// Put, get and head of every kind; a missing object is `NotFound` for get, head and
/// ranged get; a second put replaces the object as a whole.
pub async fn put_get_head(store: Arc<dyn Store>) {
    assert!(!store.name().is_empty(), "a store has a name");
    for (i, kind) in ObjectKind::ALL.into_iter().enumerate() {
        let name = if kind == ObjectKind::Pack {
            pack_id(i as u32)
        } else {
            id(&format!("obj-{i}"))
        };
        let b = body(1000 + i * 77, i as u8);
        store.put(kind, &name, b.clone()).await.expect("put");
        assert_eq!(store.get(kind, &name, None).await.expect("get"), b);
        assert_eq!(store.head(kind, &name).await.expect("head"), b.len() as u64);
        // Same id, other kind: a different object.
        let other = ObjectKind::ALL[(i + 1) % ObjectKind::ALL.len()];
        if other != kind {
            let e = store.head(other, &name).await;
            assert!(
                matches!(&e, Err(e) if e.class() == ErrorClass::NotFound),
                "{kind} {name} seen as {other}: {e:?}"
            );
        }
        let replacement = body(10, 99);
        store
            .put(kind, &name, replacement.clone())
            .await
            .expect("replace");
        assert_eq!(store.get(kind, &name, None).await.unwrap(), replacement);
        // Empty objects are objects.
        let empty = id(&format!("empty-{i}"));
        let empty = if kind == ObjectKind::Pack {
            pack_id(1000 + i as u32)
        } else {
            empty
        };
        store
            .put(kind, &empty, Bytes::new())
            .await
            .expect("put empty");
        assert_eq!(store.head(kind, &empty).await.unwrap(), 0);
        assert!(store.get(kind, &empty, None).await.unwrap().is_empty());
    }
    let missing = pack_id(424_242);
    for r in [
        store
            .get(ObjectKind::Pack, &missing, None)
            .await
            .map(|_| ()),
        store
            .get(ObjectKind::Pack, &missing, Some(0..1))
            .await
            .map(|_| ()),
        store.head(ObjectKind::Pack, &missing).await.map(|_| ()),
    ] {
        let e = r.expect_err("missing object");
        assert_eq!(e.class(), ErrorClass::NotFound, "{e}");
        assert!(e.is_not_found() && !e.is_transient());
    }
    let dynstore: &dyn Store = store.as_ref();
    assert!(
        dynstore
            .get_if_exists(ObjectKind::Config, &id("nothing"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Ranged reads return exactly the range; a range past the end is a permanent error.
pub async fn ranged_get(store: Arc<dyn Store>) {
    let name = pack_id(7);
    let b = body(100_000, 3);
    store.put(ObjectKind::Pack, &name, b.clone()).await.unwrap();
    for (s, e) in [
        (0u64, 1u64),
        (0, 100_000),
        (99_999, 100_000),
        (12_345, 67_890),
        (500, 500),
    ] {
        let got = store
            .get(ObjectKind::Pack, &name, Some(s..e))
            .await
            .unwrap_or_else(|err| panic!("{s}..{e}: {err}"));
        assert_eq!(got, b.slice(s as usize..e as usize), "{s}..{e}");
    }
    for (s, e) in [
        (99_999u64, 100_001u64),
        (100_000, 100_001),
        (200_000, 200_010),
    ] {
        let err = store
            .get(ObjectKind::Pack, &name, Some(s..e))
            .await
            .expect_err("past the end");
        assert_eq!(err.class(), ErrorClass::Permanent, "{s}..{e}: {err}");
    }
}

/// Listing is per kind, ascending, complete, and paged: pages of the asked size, each
/// one call, resuming after the last id of the previous page.
pub async fn list_paging(store: Arc<dyn Store>) {
    let mut packs: Vec<ObjectId> = (0..53).map(pack_id).collect();
    for (i, p) in packs.iter().enumerate() {
        store
            .put(ObjectKind::Pack, p, body(i, i as u8))
            .await
            .unwrap();
    }
    for i in 0..5 {
        store
            .put(
                ObjectKind::IndexSegment,
                &id(&format!("seg-{i:04}")),
                body(3, 1),
            )
            .await
            .unwrap();
    }
    packs.sort();
    let dynstore: &dyn Store = store.as_ref();
    for page in [1usize, 7, 53, 1000] {
        let pages: Vec<_> = dynstore.list(ObjectKind::Pack, page).collect().await;
        let pages: Vec<_> = pages.into_iter().map(|p| p.expect("page")).collect();
        assert!(pages.iter().all(|p| !p.is_empty() && p.len() <= page));
        assert_eq!(pages.len(), 53usize.div_ceil(page), "page size {page}");
        let listed: Vec<ObjectId> = pages.iter().flatten().map(|o| o.id.clone()).collect();
        assert_eq!(listed, packs, "page size {page}: ascending and complete");
        for o in pages.iter().flatten() {
            let n = packs.binary_search(&o.id).unwrap();
            let _ = n;
            assert_eq!(o.len, store.head(ObjectKind::Pack, &o.id).await.unwrap());
        }
    }
    let after = store
        .list_page(ObjectKind::Pack, Some(&packs[9]), 5)
        .await
        .unwrap();
    let ids: Vec<_> = after.into_iter().map(|o| o.id).collect();
    assert_eq!(ids, packs[10..15].to_vec());
    let tail = store
        .list_page(ObjectKind::Pack, Some(&packs[52]), 5)
        .await
        .unwrap();
    assert!(tail.is_empty(), "nothing after the last id");
    let segs = dynstore.list_all(ObjectKind::IndexSegment).await.unwrap();
    assert_eq!(segs.len(), 5);
    assert!(
        dynstore
            .list_all(ObjectKind::KeySlot)
            .await
            .unwrap()
            .is_empty()
    );
    let empty: Vec<_> = dynstore
        .list(ObjectKind::JournalSegment, 10)
        .collect()
        .await;
    assert!(empty.is_empty(), "an empty kind yields no page");
}

/// Batch delete removes every listed object, ignores missing ones, and only touches its
/// own kind.
pub async fn delete_batch(store: Arc<dyn Store>) {
    let packs: Vec<ObjectId> = (0..10).map(pack_id).collect();
    for p in &packs {
        store.put(ObjectKind::Pack, p, body(10, 1)).await.unwrap();
    }
    let same_name = id("shared-name");
    store
        .put(ObjectKind::KeySlot, &same_name, body(5, 5))
        .await
        .unwrap();
    store
        .put(ObjectKind::JournalSegment, &same_name, body(5, 6))
        .await
        .unwrap();
    let mut gone = vec![packs[1].clone(), packs[4].clone(), pack_id(999)];
    gone.push(packs[8].clone());
    store.delete(ObjectKind::Pack, &gone).await.expect("delete");
    store
        .delete(ObjectKind::Pack, &gone)
        .await
        .expect("deleting again is not an error");
    store
        .delete(ObjectKind::Pack, &[])
        .await
        .expect("empty batch");
    let dynstore: &dyn Store = store.as_ref();
    let left: Vec<_> = dynstore
        .list_all(ObjectKind::Pack)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    let mut want: Vec<_> = packs
        .iter()
        .filter(|p| !gone.contains(p))
        .cloned()
        .collect();
    want.sort();
    assert_eq!(left, want);
    for g in &gone {
        let e = store.get(ObjectKind::Pack, g, None).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::NotFound);
    }
    store
        .delete(ObjectKind::KeySlot, std::slice::from_ref(&same_name))
        .await
        .unwrap();
    assert!(store.head(ObjectKind::KeySlot, &same_name).await.is_err());
    assert_eq!(
        store
            .head(ObjectKind::JournalSegment, &same_name)
            .await
            .unwrap(),
        5
    );
}

/// A streamed write is invisible until `finish` (and whole after it); an aborted,
/// dropped or failed write leaves nothing under the name, and a failed replacement
/// leaves the old object intact.
pub async fn no_half_visible_object(store: Arc<dyn Store>) {
    let dynstore: &dyn Store = store.as_ref();
    let name = pack_id(1);
    let mut w = store.put_stream(ObjectKind::Pack, &name).await.unwrap();
    let parts = [body(1000, 1), body(50_000, 2), body(1, 3)];
    for p in &parts {
        w.write(p.clone()).await.unwrap();
        let e = store.head(ObjectKind::Pack, &name).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::NotFound, "visible before finish");
        assert!(
            dynstore
                .list_all(ObjectKind::Pack)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(w.written(), 51_001);
    w.finish().await.unwrap();
    let whole: Vec<u8> = parts.iter().flat_map(|p| p.to_vec()).collect();
    assert_eq!(
        store.get(ObjectKind::Pack, &name, None).await.unwrap(),
        whole
    );

    // Aborted and dropped writers.
    let aborted = pack_id(2);
    let mut w = store.put_stream(ObjectKind::Pack, &aborted).await.unwrap();
    w.write(body(10, 1)).await.unwrap();
    w.abort().await;
    let dropped = pack_id(3);
    let mut w = store.put_stream(ObjectKind::Pack, &dropped).await.unwrap();
    w.write(body(10, 1)).await.unwrap();
    drop(w);
    // Replacing an object, then giving up: the old object stays whole.
    let mut w = store.put_stream(ObjectKind::Pack, &name).await.unwrap();
    w.write(body(7, 7)).await.unwrap();
    drop(w);

    // Failures injected below the writer: a failed write, a failed finish.
    let (faulty, faults) = FaultyStore::new(store.clone());
    let failed_write = pack_id(4);
    faults.arm(2, 0);
    let mut w = faulty
        .put_stream(ObjectKind::Pack, &failed_write)
        .await
        .unwrap();
    w.write(body(10, 1)).await.unwrap();
    assert!(w.write(body(10, 2)).await.is_err());
    w.abort().await;
    let failed_finish = pack_id(5);
    faults.arm(0, 1);
    let mut w = faulty
        .put_stream(ObjectKind::Pack, &failed_finish)
        .await
        .unwrap();
    w.write(body(10, 1)).await.unwrap();
    assert!(w.finish().await.is_err());
    faults.disarm();

    for gone in [&aborted, &dropped, &failed_write, &failed_finish] {
        let e = store.head(ObjectKind::Pack, gone).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::NotFound, "{gone} left behind");
    }
    assert_eq!(
        store.get(ObjectKind::Pack, &name, None).await.unwrap(),
        whole
    );
    let listed = dynstore.list_all(ObjectKind::Pack).await.unwrap();
    assert_eq!(listed.len(), 1, "only the finished object: {listed:?}");
}

/// Many writers at once, on different names and on one name: every object is whole and
/// listed once; the contested name holds exactly one writer's complete body.
pub async fn concurrent_puts(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let b = body(20_000 + i as usize * 100, i as u8);
            if i % 2 == 0 {
                store.put(ObjectKind::Pack, &pack_id(i), b.clone()).await?;
            } else {
                let mut w = store.put_stream(ObjectKind::Pack, &pack_id(i)).await?;
                for piece in b.chunks(4096) {
                    w.write(Bytes::copy_from_slice(piece)).await?;
                }
                w.finish().await?;
            }
            let contested = body(5000, 100 + i as u8);
            store
                .put(ObjectKind::Config, &id("contested"), contested)
                .await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("put");
    }
    for i in 0..32u32 {
        let b = body(20_000 + i as usize * 100, i as u8);
        assert_eq!(
            store
                .get(ObjectKind::Pack, &pack_id(i), None)
                .await
                .unwrap(),
            b
        );
    }
    let dynstore: &dyn Store = store.as_ref();
    assert_eq!(dynstore.list_all(ObjectKind::Pack).await.unwrap().len(), 32);
    let got = store
        .get(ObjectKind::Config, &id("contested"), None)
        .await
        .unwrap();
    assert!(
        (0..32u8).any(|i| got == body(5000, 100 + i)),
        "one writer's whole body"
    );
}

/// Generates one `#[tokio::test]` per conformance check for a store factory: an
/// expression of type `impl Fn() -> Arc<dyn Store>`, called once per test, which must
/// return a fresh, empty store.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@one $factory;
            put_get_head, ranged_get, list_paging, delete_batch, no_half_visible_object,
            concurrent_puts);
    };
    (@one $factory:expr; $($check:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let make = $factory;
                $crate::backend::conformance::$check(make()).await;
            }
        )*
    };
}
