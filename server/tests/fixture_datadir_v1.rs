//! A data directory written by the cofferd of 2026-12-01 (`fixtures/datadir-v1/`:
//! meta.redb by redb 2, packs named by their BLAKE3, `repo.config` beside them,
//! made by `fixtures/make_datadir_v1.py` with real boto3 and `coffer` clients)
//! must open with every later cofferd and read back exactly what was written;
//! `fixtures/datadir-v1.json` says what that is. The fixture is never
//! regenerated: it stands for repositories that exist in the field.

mod engine_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use coffer_server::engine::access::KeyAuth;
use coffer_server::engine::{
    CompletedPart, Engine, ListQuery, PutOptions, UploadsQuery, VersionId, VersioningState,
    VersionsQuery,
};
use engine_support::{collect, md5_hex, ok_verify, options, small_chunker};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies the fixture (opening may migrate it in place) with the modes a real
/// data directory has: git does not keep the master key file's 0600.
fn copy_fixture(to: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dst = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &dst);
            } else {
                std::fs::copy(e.path(), &dst).unwrap();
            }
        }
    }
    copy(&fixture().join("datadir-v1"), to);
    use std::os::unix::fs::PermissionsExt;
    for secret in ["master.key", "admin.token"] {
        std::fs::set_permissions(to.join(secret), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture().join("datadir-v1.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn open(dir: &Path) -> Engine {
    let (engine, init) = Engine::open(options(dir, small_chunker()))
        .await
        .unwrap_or_else(|e| panic!("the v1 data directory does not open: {e}"));
    assert!(
        init.is_none(),
        "an existing repository was initialised anew"
    );
    engine
}

async fn read_version(e: &Engine, bucket: &str, key: &str, version: Option<&VersionId>) -> Vec<u8> {
    let info = e.head_object(bucket, key, version).unwrap();
    collect(e.read_object(&info, None).unwrap()).await.unwrap()
}

/// Every bucket, version, delete marker, upload and key of the fixture, as written.
async fn check_everything(e: &Engine, want: &Value) {
    let buckets: BTreeMap<String, VersioningState> = e
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| (b.name, b.versioning))
        .collect();
    let want_buckets = want["buckets"].as_object().unwrap();
    assert_eq!(
        buckets.keys().collect::<Vec<_>>(),
        want_buckets.keys().collect::<Vec<_>>()
    );
    for (bucket, wb) in want_buckets {
        let versioning = match wb["versioning"].as_str().unwrap() {
            "Unversioned" => VersioningState::Unversioned,
            "Enabled" => VersioningState::Enabled,
            "Suspended" => VersioningState::Suspended,
            other => panic!("fixture versioning {other}"),
        };
        assert_eq!(buckets[bucket], versioning, "{bucket}: versioning");

        let page = e
            .list_versions(
                bucket,
                &VersionsQuery {
                    max_keys: 1000,
                    ..VersionsQuery::default()
                },
            )
            .unwrap();
        let objects = wb["objects"].as_object().unwrap();
        let listed: usize = objects.values().map(|v| v.as_array().unwrap().len()).sum();
        assert_eq!(page.versions.len(), listed, "{bucket}: version count");
        for (key, versions) in objects {
            let got: Vec<_> = page.versions.iter().filter(|v| &v.key == key).collect();
            let versions = versions.as_array().unwrap();
            assert_eq!(got.len(), versions.len(), "{bucket}/{key}: versions");
            for (i, (g, w)) in got.iter().zip(versions).enumerate() {
                assert_eq!(g.is_latest, i == 0, "{bucket}/{key}: latest flag");
                if let Some(id) = w["version_id"].as_str() {
                    assert_eq!(
                        g.version_id.as_ref().map(VersionId::as_str),
                        Some(id),
                        "{bucket}/{key}: version id"
                    );
                }
                if w["delete_marker"].as_bool() == Some(true) {
                    assert!(g.is_delete_marker, "{bucket}/{key}: delete marker");
                    continue;
                }
                assert!(!g.is_delete_marker);
                assert_eq!(g.size, w["size"].as_u64().unwrap(), "{bucket}/{key}: size");
                assert_eq!(g.etag, w["etag"].as_str().unwrap(), "{bucket}/{key}: etag");
                let full = e.head_object(bucket, key, g.version_id.as_ref()).unwrap();
                assert_eq!(
                    full.meta.content_type.as_deref(),
                    w["content_type"].as_str(),
                    "{bucket}/{key}: content type"
                );
                let user: BTreeMap<String, String> = full.meta.user.iter().cloned().collect();
                let want_user: BTreeMap<String, String> = w["metadata"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect();
                assert_eq!(user, want_user, "{bucket}/{key}: user metadata");
                let bytes = read_version(e, bucket, key, g.version_id.as_ref()).await;
                assert_eq!(
                    md5_hex(&bytes),
                    w["md5"].as_str().unwrap(),
                    "{bucket}/{key}: bytes"
                );
            }
        }

        let uploads = e
            .list_uploads(
                bucket,
                &UploadsQuery {
                    max_uploads: 1000,
                    ..UploadsQuery::default()
                },
            )
            .unwrap();
        let want_uploads = wb["uploads"].as_array().unwrap();
        assert_eq!(
            uploads.uploads.len(),
            want_uploads.len(),
            "{bucket}: uploads"
        );
        for (u, w) in uploads.uploads.iter().zip(want_uploads) {
            assert_eq!(u.key, w["key"].as_str().unwrap());
            assert_eq!(u.upload_id, w["upload_id"].as_str().unwrap());
            let parts = e
                .list_parts(bucket, &u.key, &u.upload_id, None, 1000)
                .unwrap();
            let want_parts = w["parts"].as_array().unwrap();
            assert_eq!(parts.parts.len(), want_parts.len());
            for (p, wp) in parts.parts.iter().zip(want_parts) {
                assert_eq!(u64::from(p.part_number), wp["number"].as_u64().unwrap());
                assert_eq!(p.size, wp["size"].as_u64().unwrap());
                assert_eq!(p.etag, wp["md5"].as_str().unwrap());
            }
        }
    }

    // Keys: the root key and two keys with grants, secrets sealed in the database.
    let root = want["root_access_key"].as_str().unwrap();
    let secrets = std::iter::once((root, want["root_secret_key"].as_str().unwrap())).chain(
        want["keys"].as_array().unwrap().iter().map(|k| {
            (
                k["info"]["access_key_id"].as_str().unwrap(),
                k["secret"].as_str().unwrap(),
            )
        }),
    );
    for (id, secret) in secrets {
        match e.authenticate(id).unwrap() {
            KeyAuth::Active { secret: got } => assert_eq!(got, secret, "{id}: secret"),
            other => panic!("{id}: {other:?}"),
        }
    }
    assert!(e.access_key(root).unwrap().is_admin, "root key is admin");
    for k in want["keys"].as_array().unwrap() {
        let info = &k["info"];
        let got = e
            .access_key(info["access_key_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(got.name, info["name"].as_str().unwrap());
        assert!(got.enabled && !got.is_admin && got.expires.is_none());
        assert_eq!(got.grants.len(), info["grants"].as_array().unwrap().len());
        for (g, w) in got.grants.iter().zip(info["grants"].as_array().unwrap()) {
            assert_eq!(g.bucket, w["bucket"].as_str().unwrap());
            assert_eq!(g.prefix, w["prefix"].as_str().unwrap());
            let p = g.permissions;
            assert_eq!(
                [p.read, p.write, p.delete, p.owner],
                ["read", "write", "delete", "owner"].map(|f| w[f].as_bool().unwrap()),
                "{}: grant on {}",
                got.name,
                g.bucket
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_data_directory_opens_and_reads_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    let want = expected();
    let e = open(dir.path()).await;
    check_everything(&e, &want).await;
    drop(e);
    // Whatever the first open migrated, a second open finds it the same.
    let e = open(dir.path()).await;
    check_everything(&e, &want).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_data_directory_takes_new_writes_that_dedup_against_old_chunks() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    let want = expected();
    let e = open(dir.path()).await;

    // The pending upload, started by the old code, completes now with its old part.
    let upload = &want["buckets"]["plain"]["uploads"][0];
    let (key, upload_id) = (
        upload["key"].as_str().unwrap(),
        upload["upload_id"].as_str().unwrap(),
    );
    let part = &upload["parts"][0];
    let done = e
        .complete_multipart(
            "plain",
            key,
            upload_id,
            &[CompletedPart {
                part_number: 1,
                etag: part["md5"].as_str().unwrap().to_owned(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(done.size, part["size"].as_u64().unwrap());
    let bytes = read_version(&e, "plain", key, None).await;
    assert_eq!(md5_hex(&bytes), part["md5"].as_str().unwrap());

    // Re-uploading an old object's bytes stores no new chunk.
    let before = e.stats().unwrap();
    let old = read_version(&e, "versioned", "db.dump", None).await;
    e.put_object(
        "plain",
        "copy-of-db.dump",
        Box::pin(futures::stream::iter([Ok(Bytes::from(old.clone()))])),
        PutOptions::default(),
        ok_verify(),
    )
    .await
    .unwrap();
    let after = e.stats().unwrap();
    assert_eq!(
        after.chunks_indexed, before.chunks_indexed,
        "the old chunks were found"
    );
    drop(e);

    let e = open(dir.path()).await;
    assert_eq!(
        read_version(&e, "plain", "copy-of-db.dump", None).await,
        old
    );
    assert_eq!(read_version(&e, "plain", key, None).await, bytes);
    let listed = e
        .list_objects(
            "plain",
            &ListQuery {
                max_keys: 1000,
                ..ListQuery::default()
            },
        )
        .unwrap();
    assert_eq!(
        listed.objects.len(),
        want["buckets"]["plain"]["objects"]
            .as_object()
            .unwrap()
            .len()
            + 2
    );
}

/// Every metadata value of the fixture long enough to search for: content
/// types, `x-amz-meta-*` names and values, ETags and part MD5s.
fn metadata_values(want: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        if s.len() >= 4 && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    for wb in want["buckets"].as_object().unwrap().values() {
        for versions in wb["objects"].as_object().unwrap().values() {
            for w in versions.as_array().unwrap() {
                if let Some(ct) = w["content_type"].as_str() {
                    push(ct);
                }
                if let Some(etag) = w["etag"].as_str() {
                    push(etag);
                }
                if let Some(meta) = w["metadata"].as_object() {
                    for (k, v) in meta {
                        push(k);
                        push(v.as_str().unwrap());
                    }
                }
            }
        }
        for u in wb["uploads"].as_array().unwrap() {
            for p in u["parts"].as_array().unwrap() {
                push(p["md5"].as_str().unwrap());
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The first byte (record version) of every value of a table of meta.redb.
fn value_versions(db: &redb::Database, table: &str) -> Vec<u8> {
    use redb::{ReadableDatabase, ReadableTable};
    let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new(table);
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(def).unwrap();
    t.iter().unwrap().map(|r| r.unwrap().1.value()[0]).collect()
}

/// The fixture's manifests and upload metadata were stored in clear (v1):
/// the first open seals every record (v2) and rebuilds meta.redb, so none
/// of the fixture's metadata values is left anywhere in its bytes, and
/// everything still reads back (checked before and after a second open).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_metadata_is_sealed_on_open_and_gone_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    let want = expected();
    let values = metadata_values(&want);
    assert!(values.len() >= 10, "the fixture has metadata to look for");
    let meta_path = dir.path().join("meta.redb");
    let before = std::fs::read(&meta_path).unwrap();
    for v in &values {
        assert!(
            contains(&before, v.as_bytes()),
            "{v:?} is in the fixture's meta.redb in clear (else this test proves nothing)"
        );
    }

    let e = open(dir.path()).await;
    check_everything(&e, &want).await;
    drop(e);

    let after = std::fs::read(&meta_path).unwrap();
    let left: Vec<&String> = values
        .iter()
        .filter(|v| contains(&after, v.as_bytes()))
        .collect();
    assert!(left.is_empty(), "still in clear in meta.redb: {left:?}");
    {
        let db = redb::Database::open(&meta_path).unwrap();
        for (table, rows) in [("versions", 9), ("uploads", 1), ("parts", 1)] {
            let versions = value_versions(&db, table);
            assert!(versions.len() >= rows, "{table}: {versions:?}");
            assert!(
                versions.iter().all(|v| *v == 2),
                "{table}: every record sealed (v2): {versions:?}"
            );
        }
    }
    assert!(
        !dir.path().join("meta.redb.rebuild").exists(),
        "the rebuild's temporary file is gone"
    );

    let e = open(dir.path()).await;
    check_everything(&e, &want).await;
}
