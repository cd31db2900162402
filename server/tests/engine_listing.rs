//! ListObjects over many keys: prefix, delimiter, start-after, paging, all
//! checked against a model computed from the key set.

mod engine_support;

use std::collections::BTreeSet;

use coffer_server::engine::{Engine, ListQuery, VersioningState};
use engine_support::*;

/// What S3 returns for a query over `keys` (the model).
fn model(keys: &BTreeSet<String>, q: &ListQuery) -> (Vec<String>, Vec<String>) {
    let mut objects = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for k in keys {
        if !k.starts_with(&q.prefix) {
            continue;
        }
        let entry_key;
        let mut is_prefix = false;
        match q
            .delimiter
            .as_deref()
            .and_then(|d| k[q.prefix.len()..].find(d).map(|p| (p, d)))
        {
            Some((p, d)) => {
                entry_key = k[..q.prefix.len() + p + d.len()].to_owned();
                is_prefix = true;
            }
            None => entry_key = k.clone(),
        }
        if let Some(sa) = &q.start_after
            && entry_key.as_str() <= sa.as_str()
        {
            continue;
        }
        if is_prefix {
            if prefixes.last() != Some(&entry_key) {
                prefixes.push(entry_key);
            }
        } else {
            objects.push(entry_key);
        }
    }
    (objects, prefixes)
}

/// Every page of a query, concatenated.
fn list_all(e: &Engine, q: &ListQuery) -> (Vec<String>, Vec<String>) {
    let mut q = q.clone();
    let (mut objects, mut prefixes) = (Vec::new(), Vec::new());
    for _ in 0..10_000 {
        let page = e.list_objects("bkt", &q).unwrap();
        assert!(page.objects.len() + page.common_prefixes.len() <= q.max_keys);
        objects.extend(page.objects.into_iter().map(|o| o.key));
        prefixes.extend(page.common_prefixes);
        if !page.is_truncated {
            return (objects, prefixes);
        }
        q.start_after = page.next_marker;
    }
    panic!("listing does not end");
}

#[tokio::test]
async fn listing_with_prefixes_delimiters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    e.create_bucket("bkt2").unwrap();
    let mut keys = BTreeSet::new();
    for i in 0..40 {
        keys.insert(format!("logs/2024/{i:03}.log"));
        if i % 4 == 0 {
            keys.insert(format!("logs/2025/{i:03}.log"));
            keys.insert(format!("data/{i}"));
        }
        if i % 10 == 0 {
            keys.insert(format!("a{i}"));
        }
    }
    for k in [
        "/root",
        "//double",
        "logs",
        "logs/",
        "logs//x",
        "z/../y",
        "ß/x",
        "logs/2024",
    ] {
        keys.insert(k.to_string());
    }
    for k in &keys {
        put(&e, "bkt", k, k.as_bytes()).await;
    }
    // Another bucket's keys never leak in.
    put(&e, "bkt2", "logs/other", b"x").await;
    // Deleted and delete-marked keys are not listed.
    put(&e, "bkt", "gone", b"x").await;
    e.delete_object("bkt", "gone", None).await.unwrap();

    let delimiters: [Option<&str>; 3] = [None, Some("/"), Some("0")];
    let prefixes = ["", "logs/", "logs", "logs/2024/", "a", "nomatch", "/"];
    let markers: [Option<&str>; 5] = [
        None,
        Some("logs/2024/017.log"),
        Some("logs/"),
        Some("a"),
        Some("logs/2024"),
    ];
    for d in delimiters {
        for p in prefixes {
            for m in markers {
                for max in [1, 3, 1000] {
                    let q = ListQuery {
                        prefix: p.into(),
                        delimiter: d.map(str::to_owned),
                        start_after: m.map(str::to_owned),
                        max_keys: max,
                    };
                    assert_eq!(list_all(&e, &q), model(&keys, &q), "{q:?}");
                }
            }
        }
    }
    // An empty delimiter means none.
    let q = ListQuery {
        delimiter: Some(String::new()),
        max_keys: 1000,
        ..ListQuery::default()
    };
    assert_eq!(list_all(&e, &q).0.len(), keys.len());

    // A page holds exactly max_keys entries and says where to go on.
    let q = ListQuery {
        prefix: "logs/".into(),
        delimiter: Some("/".into()),
        max_keys: 1,
        ..ListQuery::default()
    };
    let page = e.list_objects("bkt", &q).unwrap();
    assert_eq!(
        page.objects
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["logs/"]
    );
    assert!(page.is_truncated);
    assert_eq!(page.next_marker.as_deref(), Some("logs/"));
    let q = ListQuery {
        start_after: page.next_marker,
        ..q
    };
    let page = e.list_objects("bkt", &q).unwrap();
    assert_eq!(page.common_prefixes, ["logs//"]);
    assert!(page.objects.is_empty());
    assert!(page.is_truncated);
    assert_eq!(page.next_marker.as_deref(), Some("logs//"));
    let q = ListQuery {
        max_keys: 0,
        ..ListQuery::default()
    };
    assert!(e.list_objects("bkt", &q).unwrap().objects.is_empty());
}

#[tokio::test]
async fn listing_reports_current_versions_only() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    e.set_versioning("bkt", VersioningState::Enabled).unwrap();
    put(&e, "bkt", "k", b"one").await;
    let newest = put(&e, "bkt", "k", b"second").await;
    let q = ListQuery {
        max_keys: 10,
        ..ListQuery::default()
    };
    let page = e.list_objects("bkt", &q).unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.objects[0].size, 6);
    assert_eq!(page.objects[0].version_id, newest.version_id);
    assert_eq!(page.objects[0].etag, md5_hex(b"second"));
}

#[tokio::test]
async fn delimiter_skips_whole_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let mut keys = BTreeSet::new();
    for d in 0..5 {
        for f in 0..30 {
            keys.insert(format!("dir{d}/sub/{f:04}"));
        }
    }
    keys.insert("top".to_string());
    for k in &keys {
        put(&e, "bkt", k, b"").await;
    }
    let q = ListQuery {
        delimiter: Some("/".into()),
        max_keys: 1000,
        ..ListQuery::default()
    };
    let page = e.list_objects("bkt", &q).unwrap();
    assert_eq!(
        page.common_prefixes,
        ["dir0/", "dir1/", "dir2/", "dir3/", "dir4/"]
    );
    assert_eq!(
        page.objects
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["top"]
    );
    assert_eq!(
        list_all(
            &e,
            &ListQuery {
                max_keys: 7,
                ..q.clone()
            }
        ),
        model(&keys, &q)
    );
}
