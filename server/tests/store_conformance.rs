//! The store conformance suite (`coffer_server::backend::conformance`) run against every
//! store: memory, local, and the wrappers over them. A new store (S3, …) adds a module
//! here with its factory.

use std::sync::Arc;

use coffer_server::backend::{
    ErrorClass, FaultOp, FaultyStore, LocalStore, MemoryStore, ObjectId, ObjectKind, RetryPolicy,
    RetryStore, Store,
};

/// A local store in a fresh temporary directory that lives as long as the test process
/// (the directories are removed when the process exits).
fn local_store() -> Arc<dyn Store> {
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(LocalStore::open("local", dir).unwrap())
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    }
}

mod memory {
    use super::*;
    coffer_server::store_conformance_tests!(|| -> Arc<dyn Store> {
        Arc::new(MemoryStore::new("memory"))
    });
}

mod local {
    use super::*;
    coffer_server::store_conformance_tests!(local_store);
}

mod retrying_local {
    use super::*;
    coffer_server::store_conformance_tests!(|| -> Arc<dyn Store> {
        Arc::new(RetryStore::new(local_store(), fast_retries()))
    });
}

mod faulty_memory_without_faults {
    use super::*;
    coffer_server::store_conformance_tests!(|| -> Arc<dyn Store> {
        Arc::new(FaultyStore::new(Arc::new(MemoryStore::new("memory"))).0)
    });
}

#[tokio::test]
async fn local_store_keeps_the_old_pack_layout() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open("local", dir.path()).unwrap();
    let pack = coffer_repo::PackId([0xab; 32]);
    let id = ObjectId::pack(&pack);
    store
        .put(ObjectKind::Pack, &id, bytes::Bytes::from_static(b"pack"))
        .await
        .unwrap();
    let hex = pack.to_hex();
    let path = dir.path().join("packs").join(&hex[..2]).join(&hex);
    assert_eq!(std::fs::read(path).unwrap(), b"pack");
    // A pack file written by an older build is found under the same name.
    let old = coffer_repo::PackId([0x01; 32]).to_hex();
    std::fs::create_dir_all(dir.path().join("packs").join(&old[..2])).unwrap();
    std::fs::write(dir.path().join("packs").join(&old[..2]).join(&old), b"old").unwrap();
    let dynstore: &dyn Store = &store;
    let listed: Vec<String> = dynstore
        .list_all(ObjectKind::Pack)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id.to_string())
        .collect();
    assert_eq!(listed, vec![old, hex]);
    // Other kinds in their own folders.
    store
        .put(
            ObjectKind::Config,
            &ObjectId::repo_config(),
            bytes::Bytes::from_static(b"cfg"),
        )
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("config").join("repo")).unwrap(),
        b"cfg"
    );
}

#[tokio::test]
async fn local_store_removes_stale_temporaries_at_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(LocalStore::open("local", dir.path()).unwrap());
    let pack_tmp = dir.path().join("packs").join("tmp");
    let cfg_tmp = dir.path().join("config").join(".tmp");
    std::fs::write(pack_tmp.join("crashed.tmp"), b"half").unwrap();
    std::fs::write(cfg_tmp.join("crashed.tmp"), b"half").unwrap();
    let store = LocalStore::open("local", dir.path()).unwrap();
    assert!(std::fs::read_dir(&pack_tmp).unwrap().next().is_none());
    assert!(std::fs::read_dir(&cfg_tmp).unwrap().next().is_none());
    let dynstore: &dyn Store = &store;
    assert!(
        dynstore
            .list_all(ObjectKind::Config)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn retry_wrapper_retries_transient_failures_only() {
    let mem: Arc<dyn Store> = Arc::new(MemoryStore::new("memory"));
    let (faulty, faults) = FaultyStore::new(mem);
    let store = RetryStore::new(Arc::new(faulty), fast_retries());
    let id = ObjectId::new("slot-1").unwrap();
    assert_eq!(store.name(), "memory");

    // Transient failures below the attempt budget are hidden.
    faults.fail_next(FaultOp::Put, 3, ErrorClass::Transient);
    store
        .put(ObjectKind::KeySlot, &id, bytes::Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(faults.calls(FaultOp::Put), 4);

    // More than the budget: the last error comes through, after exactly max_attempts.
    faults.fail_next(FaultOp::Get, 10, ErrorClass::Transient);
    let e = store.get(ObjectKind::KeySlot, &id, None).await.unwrap_err();
    assert!(e.is_transient());
    assert_eq!(faults.calls(FaultOp::Get), 4);

    // Permanent and not-found errors are not retried.
    faults.fail_next(FaultOp::Head, 1, ErrorClass::Permanent);
    let e = store.head(ObjectKind::KeySlot, &id).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert_eq!(faults.calls(FaultOp::Head), 1);
    let missing = ObjectId::new("slot-2").unwrap();
    assert!(
        store
            .head(ObjectKind::KeySlot, &missing)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(faults.calls(FaultOp::Head), 2);

    // A listing page and a batch delete are retried as whole calls.
    faults.fail_next(FaultOp::List, 2, ErrorClass::Transient);
    faults.fail_next(FaultOp::Delete, 1, ErrorClass::Transient);
    let dynstore: &dyn Store = &store;
    assert_eq!(
        dynstore.list_all(ObjectKind::KeySlot).await.unwrap().len(),
        1
    );
    store
        .delete(ObjectKind::KeySlot, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert!(
        dynstore
            .list_all(ObjectKind::KeySlot)
            .await
            .unwrap()
            .is_empty()
    );

    // Opening a streamed write is retried; a failed write into it is not (the stream
    // cannot be replayed), and nothing becomes visible.
    faults.fail_next(FaultOp::PutStream, 1, ErrorClass::Transient);
    let mut w = store.put_stream(ObjectKind::Pack, &id).await.unwrap();
    assert_eq!(faults.calls(FaultOp::PutStream), 2);
    faults.arm(1, 0);
    let e = w
        .write(bytes::Bytes::from_static(b"half"))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "the failure is transient …");
    assert_eq!(faults.writes(), 1, "… and still not retried");
    w.abort().await;
    assert!(
        store
            .head(ObjectKind::Pack, &id)
            .await
            .unwrap_err()
            .is_not_found()
    );
}
