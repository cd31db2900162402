//! The repository config lives in the store: a new repository writes it there only, a
//! data directory from before Store v2 (the committed `fixtures/datadir-v1/`) has its
//! `repo.config` copied into the store on open, and an engine on a memory store keeps
//! nothing but the key and the metadata in its data directory.

mod engine_support;

use std::path::Path;
use std::sync::Arc;

use coffer_server::backend::{LocalStore, MemoryStore, ObjectId, ObjectKind, Store};
use coffer_server::engine::{Engine, EngineTuning};
use engine_support::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// A copy of the v1 fixture data directory with the key file's real mode.
fn v1_datadir(to: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/datadir-v1");
    copy_dir(&fixture, to);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        to.join("master.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

async fn stored_config(dir: &Path) -> Option<bytes::Bytes> {
    let store = LocalStore::open("local", dir).unwrap();
    let store: &dyn Store = &store;
    store
        .get_if_exists(ObjectKind::Config, &ObjectId::repo_config())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_repository_keeps_its_config_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (e, init) = Engine::open(options(dir.path(), small_chunker()))
        .await
        .unwrap();
    assert!(init.is_some());
    drop(e);
    assert!(stored_config(dir.path()).await.is_some());
    assert!(
        !dir.path().join("repo.config").exists(),
        "no config beside the store"
    );
    // Reopens from the store's copy.
    let (_e, init) = Engine::open(options(dir.path(), small_chunker()))
        .await
        .unwrap();
    assert!(init.is_none());
}

#[tokio::test]
async fn an_old_data_directory_gets_its_config_copied_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    v1_datadir(dir.path());
    let legacy = std::fs::read(dir.path().join("repo.config")).unwrap();
    assert!(
        stored_config(dir.path()).await.is_none(),
        "before: file only"
    );
    let e = open(dir.path()).await;
    assert!(!e.list_buckets().unwrap().is_empty());
    drop(e);
    assert_eq!(
        stored_config(dir.path()).await.as_deref(),
        Some(&legacy[..]),
        "copied byte for byte"
    );
    assert_eq!(
        std::fs::read(dir.path().join("repo.config")).unwrap(),
        legacy,
        "the old file is left as it was"
    );
    // Opening again reads the store's copy, and still agrees with the file.
    drop(open(dir.path()).await);

    // A file that no longer matches the store's copy is refused, not guessed at.
    let mut changed = legacy.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(dir.path().join("repo.config"), &changed).unwrap();
    let r = Engine::open(options(dir.path(), small_chunker())).await;
    let err = r.expect_err("a differing repo.config is refused");
    assert!(err.to_string().contains("differs"), "{err}");
    // Without the file, the store's copy is all that is needed.
    std::fs::remove_file(dir.path().join("repo.config")).unwrap();
    drop(open(dir.path()).await);
}

#[tokio::test]
async fn a_corrupt_old_config_is_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    v1_datadir(dir.path());
    std::fs::write(dir.path().join("repo.config"), b"not a config").unwrap();
    assert!(
        Engine::open(options(dir.path(), small_chunker()))
            .await
            .is_err()
    );
    assert!(stored_config(dir.path()).await.is_none());
}

#[tokio::test]
async fn an_engine_on_a_memory_store_keeps_its_objects_there() {
    let dir = tempfile::tempdir().unwrap();
    let mem = MemoryStore::new("mem");
    let store: Arc<dyn Store> = Arc::new(mem.clone());
    let e = open_with(dir.path(), Some(store.clone()), EngineTuning::default()).await;
    e.create_bucket("bkt").unwrap();
    let big = data(3 << 20, 1);
    put(&e, "bkt", "big", &big).await;
    put(&e, "bkt", "small", b"tiny").await;
    assert_eq!(get(&e, "bkt", "big").await.unwrap(), big);
    assert_eq!(mem.count(ObjectKind::Config), 1);
    assert!(mem.count(ObjectKind::Pack) >= 2);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["master.key", "meta.redb"]);
    drop(e);
    // Reopened on the same store, everything is there.
    let e = open_with(dir.path(), Some(store), EngineTuning::default()).await;
    assert_eq!(get(&e, "bkt", "big").await.unwrap(), big);
    assert_eq!(get(&e, "bkt", "small").await.unwrap(), b"tiny");
}
