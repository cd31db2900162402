//! Versioning semantics, step by step against what AWS documents: null
//! versions in unversioned and suspended buckets, delete markers, deleting by
//! version id, and ListObjectVersions paging with key / version-id markers.

mod engine_support;

use coffer_server::engine::{
    Engine, EngineError, ListQuery, ObjectInfo, VersionId, VersioningState, VersionsQuery,
};
use engine_support::*;

async fn read_version(e: &Engine, key: &str, v: &VersionId) -> Vec<u8> {
    let info = e.head_object("bkt", key, Some(v)).unwrap();
    collect(e.read_object(&info, None).unwrap()).await.unwrap()
}

fn all_versions(e: &Engine, prefix: &str) -> Vec<ObjectInfo> {
    let q = VersionsQuery {
        prefix: prefix.into(),
        max_keys: 10_000,
        ..VersionsQuery::default()
    };
    let page = e.list_versions("bkt", &q).unwrap();
    assert!(!page.is_truncated);
    page.versions
}

/// (version id, is_latest, is_delete_marker) of every version of `key`.
fn shape(e: &Engine, key: &str) -> Vec<(String, bool, bool)> {
    all_versions(e, key)
        .into_iter()
        .filter(|v| v.key == key)
        .map(|v| {
            (
                v.version_id.unwrap().as_str().to_owned(),
                v.is_latest,
                v.is_delete_marker,
            )
        })
        .collect()
}

fn listed(e: &Engine) -> Vec<String> {
    let q = ListQuery {
        max_keys: 1000,
        ..ListQuery::default()
    };
    e.list_objects("bkt", &q)
        .unwrap()
        .objects
        .into_iter()
        .map(|o| o.key)
        .collect()
}

#[tokio::test]
async fn versioning_lifecycle_as_aws_documents_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();

    // Unversioned: PUT replaces the null version, no version id is reported.
    let i = put(&e, "bkt", "k", b"v0-a").await;
    assert_eq!(i.version_id, None);
    put(&e, "bkt", "k", b"v0").await;
    assert_eq!(shape(&e, "k"), vec![("null".into(), true, false)]);
    assert_eq!(e.head_object("bkt", "k", None).unwrap().version_id, None);
    // versionId=null addresses it even in an unversioned bucket.
    assert_eq!(read_version(&e, "k", &VersionId::Null).await, b"v0");

    // Enabled: each PUT adds a version; the old null version stays.
    e.set_versioning("bkt", VersioningState::Enabled).unwrap();
    let v1 = put(&e, "bkt", "k", b"v1").await.version_id.unwrap();
    let v2 = put(&e, "bkt", "k", b"v2").await.version_id.unwrap();
    assert!(matches!(v1, VersionId::Id(_)));
    assert_ne!(v1, v2);
    assert_eq!(
        shape(&e, "k"),
        vec![
            (v2.as_str().into(), true, false),
            (v1.as_str().into(), false, false),
            ("null".into(), false, false)
        ]
    );
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), b"v2");
    assert_eq!(read_version(&e, "k", &v1).await, b"v1");
    assert_eq!(read_version(&e, "k", &VersionId::Null).await, b"v0");
    let h = e.head_object("bkt", "k", Some(&v1)).unwrap();
    assert!(!h.is_latest);
    assert_eq!(h.version_id.as_ref(), Some(&v1));

    // DELETE without a version id adds a delete marker.
    let d = e.delete_object("bkt", "k", None).await.unwrap();
    assert!(d.delete_marker);
    let dm = d.version_id.unwrap();
    match e.head_object("bkt", "k", None) {
        Err(EngineError::DeleteMarker {
            version_id,
            by_version_id,
        }) => {
            assert_eq!(version_id.as_ref(), Some(&dm));
            assert!(!by_version_id);
        }
        other => panic!("{other:?}"),
    }
    match e.head_object("bkt", "k", Some(&dm)) {
        Err(EngineError::DeleteMarker {
            by_version_id: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(listed(&e).is_empty());
    assert_eq!(shape(&e, "k")[0], (dm.as_str().into(), true, true));
    assert_eq!(read_version(&e, "k", &v2).await, b"v2");

    // Deleting the marker by id brings the object back.
    let d = e.delete_object("bkt", "k", Some(&dm)).await.unwrap();
    assert!(d.delete_marker);
    assert_eq!(d.version_id.as_ref(), Some(&dm));
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), b"v2");
    assert_eq!(listed(&e), ["k"]);

    // Suspended: PUT writes the null version, replacing the old null one
    // wherever it was in the history, and it becomes the latest.
    e.set_versioning("bkt", VersioningState::Suspended).unwrap();
    let i = put(&e, "bkt", "k", b"s1").await;
    assert_eq!(i.version_id, Some(VersionId::Null));
    assert_eq!(
        shape(&e, "k"),
        vec![
            ("null".into(), true, false),
            (v2.as_str().into(), false, false),
            (v1.as_str().into(), false, false)
        ]
    );
    assert_eq!(read_version(&e, "k", &VersionId::Null).await, b"s1");

    // Suspended DELETE: a null delete marker replaces the null version.
    let d = e.delete_object("bkt", "k", None).await.unwrap();
    assert!(d.delete_marker);
    assert_eq!(d.version_id, Some(VersionId::Null));
    assert_eq!(
        shape(&e, "k"),
        vec![
            ("null".into(), true, true),
            (v2.as_str().into(), false, false),
            (v1.as_str().into(), false, false)
        ]
    );
    match e.head_object("bkt", "k", None) {
        Err(EngineError::DeleteMarker {
            version_id: Some(VersionId::Null),
            by_version_id: false,
        }) => {}
        other => panic!("{other:?}"),
    }

    // Permanently deleting versions by id.
    e.delete_object("bkt", "k", Some(&VersionId::Null))
        .await
        .unwrap();
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), b"v2");
    e.delete_object("bkt", "k", Some(&v2)).await.unwrap();
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), b"v1");
    e.delete_object("bkt", "k", Some(&v1)).await.unwrap();
    assert!(matches!(
        e.head_object("bkt", "k", None),
        Err(EngineError::NoSuchKey)
    ));
    assert!(shape(&e, "k").is_empty());
    let s = e.stats().unwrap();
    assert_eq!((s.versions, s.chunks_referenced), (0, 0));

    // Errors on version ids.
    assert!(matches!(
        e.head_object("bkt", "k", Some(&v1)),
        Err(EngineError::NoSuchVersion)
    ));
    assert!(matches!(
        e.head_object("bkt", "k", Some(&VersionId::Id("garbage".into()))),
        Err(EngineError::InvalidArgument(_))
    ));
    // Deleting a version that no longer exists succeeds.
    assert!(e.delete_object("bkt", "k", Some(&v1)).await.is_ok());
    // Versioning cannot be switched off again.
    assert!(
        e.set_versioning("bkt", VersioningState::Unversioned)
            .is_err()
    );
}

#[tokio::test]
async fn enabled_delete_of_missing_key_still_adds_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    e.set_versioning("bkt", VersioningState::Enabled).unwrap();
    let d = e.delete_object("bkt", "ghost", None).await.unwrap();
    assert!(d.delete_marker);
    assert_eq!(shape(&e, "ghost").len(), 1);
    // The bucket now holds a marker, so it is not empty.
    assert!(matches!(
        e.delete_bucket("bkt"),
        Err(EngineError::BucketNotEmpty(_))
    ));
}

#[tokio::test]
async fn unversioned_delete_removes_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    put(&e, "bkt", "k", b"x").await;
    let d = e.delete_object("bkt", "k", None).await.unwrap();
    assert!(!d.delete_marker);
    assert_eq!(d.version_id, None);
    assert!(shape(&e, "k").is_empty());
    assert!(matches!(
        e.head_object("bkt", "k", None),
        Err(EngineError::NoSuchKey)
    ));
}

#[tokio::test]
async fn list_versions_pages_with_markers() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    put(&e, "bkt", "a", b"null-a").await;
    put(&e, "bkt", "d/x", b"null-dx").await;
    e.set_versioning("bkt", VersioningState::Enabled).unwrap();
    for i in 0..3 {
        put(&e, "bkt", "a", format!("a{i}").as_bytes()).await;
        put(&e, "bkt", "b", format!("b{i}").as_bytes()).await;
    }
    e.delete_object("bkt", "b", None).await.unwrap();
    put(&e, "bkt", "d/y", b"dy").await;
    put(&e, "bkt", "e", b"e").await;

    let full = all_versions(&e, "");
    let ids = |v: &[ObjectInfo]| -> Vec<(String, String, bool)> {
        v.iter()
            .map(|o| {
                (
                    o.key.clone(),
                    o.version_id.clone().unwrap().as_str().to_owned(),
                    o.is_latest,
                )
            })
            .collect()
    };
    assert_eq!(full.len(), 4 + 4 + 2 + 1);
    // Key order, newest first within a key, exactly one latest per key.
    let keys: Vec<&str> = full.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        ["a", "a", "a", "a", "b", "b", "b", "b", "d/x", "d/y", "e"]
    );
    assert_eq!(full.iter().filter(|o| o.is_latest).count(), 5);
    assert_eq!(full[3].version_id, Some(VersionId::Null));

    for page_size in [1, 2, 3, 5] {
        let mut got = Vec::new();
        let mut q = VersionsQuery {
            max_keys: page_size,
            ..VersionsQuery::default()
        };
        loop {
            let page = e.list_versions("bkt", &q).unwrap();
            assert!(page.versions.len() <= page_size);
            got.extend(page.versions);
            if !page.is_truncated {
                break;
            }
            q.key_marker = page.next_key_marker;
            q.version_id_marker = page.next_version_id_marker;
        }
        assert_eq!(ids(&got), ids(&full), "page size {page_size}");
    }

    // Delimiter folds d/ into one prefix.
    let q = VersionsQuery {
        delimiter: Some("/".into()),
        max_keys: 100,
        ..VersionsQuery::default()
    };
    let page = e.list_versions("bkt", &q).unwrap();
    assert_eq!(page.common_prefixes, ["d/"]);
    assert_eq!(page.versions.len(), 9);
    // Paging across the common prefix.
    let q = VersionsQuery {
        delimiter: Some("/".into()),
        max_keys: 8,
        ..VersionsQuery::default()
    };
    let page = e.list_versions("bkt", &q).unwrap();
    assert!(page.is_truncated);
    assert_eq!(page.next_key_marker.as_deref(), Some("b"));
    let q = VersionsQuery {
        delimiter: Some("/".into()),
        max_keys: 1,
        key_marker: page.next_key_marker,
        version_id_marker: page.next_version_id_marker,
        ..VersionsQuery::default()
    };
    let page = e.list_versions("bkt", &q).unwrap();
    assert_eq!(page.common_prefixes, ["d/"]);
    assert!(page.versions.is_empty());
    assert!(page.is_truncated);
    assert_eq!(page.next_key_marker.as_deref(), Some("d/"));
    let q = VersionsQuery {
        delimiter: Some("/".into()),
        max_keys: 10,
        key_marker: page.next_key_marker,
        ..VersionsQuery::default()
    };
    let page = e.list_versions("bkt", &q).unwrap();
    assert_eq!(
        page.versions
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["e"]
    );
    assert!(!page.is_truncated);

    // key-marker alone skips every version of that key.
    let q = VersionsQuery {
        key_marker: Some("a".into()),
        max_keys: 100,
        ..VersionsQuery::default()
    };
    let page = e.list_versions("bkt", &q).unwrap();
    assert_eq!(page.versions[0].key, "b");
    assert!(page.versions[0].is_latest);
}
