//! Multipart uploads: ETag of part MD5s, composite and full-object checksums,
//! the S3 errors (EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload),
//! part replacement, abort, list_parts / list_uploads, UploadPartCopy.

mod engine_support;

use coffer_server::engine::{
    ByteRange, ChecksumAlgorithm, CompletedPart, Engine, EngineError, ObjectMeta, PartInfo,
    PutOptions, UploadsQuery,
};
use engine_support::*;
use md5::Digest;

const MIB: usize = 1 << 20;

async fn part(e: &Engine, key: &str, upload: &str, n: u32, data: &[u8]) -> PartInfo {
    let opts = PutOptions {
        expected_size: Some(data.len() as u64),
        ..PutOptions::default()
    };
    e.upload_part(
        "bkt",
        key,
        upload,
        n,
        body(data, u64::from(n)),
        opts,
        ok_verify(),
    )
    .await
    .unwrap()
}

fn completed(parts: &[&PartInfo]) -> Vec<CompletedPart> {
    parts
        .iter()
        .map(|p| CompletedPart {
            part_number: p.part_number,
            etag: format!("\"{}\"", p.etag),
        })
        .collect()
}

fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut h = md5::Md5::new();
    for p in parts {
        h.update(md5::Md5::digest(p));
    }
    format!("{}-{}", hex::encode(h.finalize()), parts.len())
}

#[tokio::test]
async fn upload_complete_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let meta = ObjectMeta {
        content_type: Some("video/mp4".into()),
        tags: vec![("tier".into(), "cold".into())],
        ..ObjectMeta::default()
    };
    let up = e
        .create_multipart("bkt", "big", meta.clone(), None)
        .unwrap();
    let p1 = data(5 * MIB, 1);
    let p2 = data(5 * MIB + 17, 2);
    let p3 = data(MIB / 3, 3);
    let i1 = part(&e, "big", &up.upload_id, 1, &p1).await;
    let i3 = part(&e, "big", &up.upload_id, 3, &p3).await;
    // Replacing a part drops the first upload's references.
    part(&e, "big", &up.upload_id, 2, &data(6 * MIB, 99)).await;
    let i2 = part(&e, "big", &up.upload_id, 2, &p2).await;
    assert_eq!(i1.etag, md5_hex(&p1));
    assert_eq!(i2.size, p2.len() as u64);

    let page = e.list_parts("bkt", "big", &up.upload_id, None, 2).unwrap();
    assert_eq!(
        page.parts.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(page.is_truncated);
    let page = e
        .list_parts("bkt", "big", &up.upload_id, page.next_part_number_marker, 2)
        .unwrap();
    assert_eq!(
        page.parts.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [3]
    );
    assert!(!page.is_truncated);

    let info = e
        .complete_multipart("bkt", "big", &up.upload_id, &completed(&[&i1, &i2, &i3]))
        .await
        .unwrap();
    assert_eq!(info.etag, multipart_etag(&[&p1, &p2, &p3]));
    assert_eq!(info.parts_count, Some(3));
    assert_eq!(
        &*info.part_sizes,
        &[p1.len() as u64, p2.len() as u64, p3.len() as u64]
    );
    let head = e.head_object("bkt", "big", None).unwrap();
    assert_eq!(head.meta, meta);
    let whole: Vec<u8> = [p1.as_slice(), &p2, &p3].concat();
    assert!(get(&e, "bkt", "big").await.unwrap() == whole);
    // A range across the part boundary.
    let r = ByteRange {
        start: 5 * MIB as u64 - 10,
        end_inclusive: 5 * MIB as u64 + 10,
    };
    let got = collect(e.read_object(&head, Some(r)).unwrap())
        .await
        .unwrap();
    assert_eq!(got, whole[5 * MIB - 10..=5 * MIB + 10]);

    // The upload is gone.
    assert!(matches!(
        e.upload("bkt", "big", &up.upload_id),
        Err(EngineError::NoSuchUpload)
    ));
    assert!(matches!(
        e.complete_multipart("bkt", "big", &up.upload_id, &completed(&[&i1]))
            .await,
        Err(EngineError::NoSuchUpload)
    ));
    // Only the version holds references; deleting it frees everything.
    e.delete_object("bkt", "big", None).await.unwrap();
    let s = e.stats().unwrap();
    assert_eq!(s.chunks_referenced, 0);
    assert_eq!(s.gc_queue, s.chunks_indexed);
}

#[tokio::test]
async fn completion_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let up = e
        .create_multipart("bkt", "k", ObjectMeta::default(), None)
        .unwrap();
    let small = data(MIB, 1);
    let i1 = part(&e, "k", &up.upload_id, 1, &small).await;
    let i2 = part(&e, "k", &up.upload_id, 2, &small).await;
    let id = up.upload_id.as_str();

    let r = e
        .complete_multipart("bkt", "k", id, &completed(&[&i1, &i2]))
        .await;
    assert!(
        matches!(r, Err(EngineError::EntityTooSmall { part_number: 1 })),
        "{r:?}"
    );
    let r = e
        .complete_multipart("bkt", "k", id, &completed(&[&i2, &i1]))
        .await;
    assert!(matches!(r, Err(EngineError::InvalidPartOrder)), "{r:?}");
    let r = e
        .complete_multipart("bkt", "k", id, &completed(&[&i1, &i1]))
        .await;
    assert!(matches!(r, Err(EngineError::InvalidPartOrder)), "{r:?}");
    let mut wrong = completed(&[&i1]);
    wrong[0].etag = md5_hex(b"other");
    let r = e.complete_multipart("bkt", "k", id, &wrong).await;
    assert!(matches!(r, Err(EngineError::InvalidPart(_))), "{r:?}");
    let missing = vec![CompletedPart {
        part_number: 7,
        etag: i1.etag.clone(),
    }];
    let r = e.complete_multipart("bkt", "k", id, &missing).await;
    assert!(matches!(r, Err(EngineError::InvalidPart(_))), "{r:?}");
    let r = e.complete_multipart("bkt", "k", id, &[]).await;
    assert!(matches!(r, Err(EngineError::MalformedXml(_))), "{r:?}");
    let r = e
        .complete_multipart(
            "bkt",
            "k",
            "0123456789abcdef0123456789abcdef",
            &completed(&[&i1]),
        )
        .await;
    assert!(matches!(r, Err(EngineError::NoSuchUpload)), "{r:?}");
    let r = e
        .complete_multipart("bkt", "other-key", id, &completed(&[&i1]))
        .await;
    assert!(matches!(r, Err(EngineError::NoSuchUpload)), "{r:?}");
    let opts = PutOptions::default();
    let r = e
        .upload_part(
            "bkt",
            "k",
            "nope",
            1,
            body(b"x", 1),
            opts.clone(),
            ok_verify(),
        )
        .await;
    assert!(matches!(r, Err(EngineError::NoSuchUpload)), "{r:?}");
    let r = e
        .upload_part("bkt", "k", id, 0, body(b"x", 1), opts.clone(), ok_verify())
        .await;
    assert!(matches!(r, Err(EngineError::InvalidArgument(_))), "{r:?}");
    let r = e
        .upload_part("bkt", "k", id, 10_001, body(b"x", 1), opts, ok_verify())
        .await;
    assert!(matches!(r, Err(EngineError::InvalidArgument(_))), "{r:?}");

    // Nothing was committed by the failures; a single small part is a valid upload
    // (only non-last parts have a minimum), and the unused part is released.
    let info = e
        .complete_multipart("bkt", "k", id, &completed(&[&i2]))
        .await
        .unwrap();
    assert_eq!(info.etag, multipart_etag(&[&small]));
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), small);
    let s = e.stats().unwrap();
    // Both parts held the same data, so every chunk is still referenced once.
    assert_eq!(s.gc_queue, 0);
}

#[tokio::test]
async fn abort_releases_everything() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let up = e
        .create_multipart(
            "bkt",
            "k",
            ObjectMeta::default(),
            Some(ChecksumAlgorithm::Crc32),
        )
        .unwrap();
    assert_eq!(
        e.upload("bkt", "k", &up.upload_id)
            .unwrap()
            .checksum_algorithm,
        Some(ChecksumAlgorithm::Crc32)
    );
    part(&e, "k", &up.upload_id, 1, &data(2 * MIB, 5)).await;
    part(&e, "k", &up.upload_id, 2, &data(MIB, 6)).await;
    assert!(e.stats().unwrap().chunks_referenced > 0);
    e.abort_multipart("bkt", "k", &up.upload_id).unwrap();
    let s = e.stats().unwrap();
    assert_eq!(s.chunks_referenced, 0);
    assert_eq!(s.gc_queue, s.chunks_indexed);
    assert_eq!(s.live_bytes, 0);
    assert!(matches!(
        e.abort_multipart("bkt", "k", &up.upload_id),
        Err(EngineError::NoSuchUpload)
    ));
    assert!(matches!(
        e.list_parts("bkt", "k", &up.upload_id, None, 10),
        Err(EngineError::NoSuchUpload)
    ));
    e.delete_bucket("bkt").unwrap();
}

#[tokio::test]
async fn checksums_composite_and_full_object() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let p1 = data(5 * MIB, 7);
    let p2 = data(1000, 8);
    let crc = |a: crc_fast::CrcAlgorithm, d: &[u8]| crc_fast::checksum(a, d);

    let up = e
        .create_multipart(
            "bkt",
            "c32",
            ObjectMeta::default(),
            Some(ChecksumAlgorithm::Crc32),
        )
        .unwrap();
    let i1 = part(&e, "c32", &up.upload_id, 1, &p1).await;
    let i2 = part(&e, "c32", &up.upload_id, 2, &p2).await;
    let c1 = (crc(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &p1) as u32).to_be_bytes();
    let c2 = (crc(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &p2) as u32).to_be_bytes();
    assert_eq!(i1.checksums, vec![(ChecksumAlgorithm::Crc32, c1.to_vec())]);
    let info = e
        .complete_multipart("bkt", "c32", &up.upload_id, &completed(&[&i1, &i2]))
        .await
        .unwrap();
    let composite =
        (crc(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &[c1, c2].concat()) as u32).to_be_bytes();
    assert_eq!(
        info.checksums,
        vec![(ChecksumAlgorithm::Crc32, composite.to_vec())]
    );
    assert!(!info.checksum_full_object);

    let up = e
        .create_multipart(
            "bkt",
            "c64",
            ObjectMeta::default(),
            Some(ChecksumAlgorithm::Crc64Nvme),
        )
        .unwrap();
    let i1 = part(&e, "c64", &up.upload_id, 1, &p1).await;
    let i2 = part(&e, "c64", &up.upload_id, 2, &p2).await;
    let info = e
        .complete_multipart("bkt", "c64", &up.upload_id, &completed(&[&i1, &i2]))
        .await
        .unwrap();
    let full = crc(
        crc_fast::CrcAlgorithm::Crc64Nvme,
        &[p1.as_slice(), &p2].concat(),
    )
    .to_be_bytes();
    assert_eq!(
        info.checksums,
        vec![(ChecksumAlgorithm::Crc64Nvme, full.to_vec())]
    );
    assert!(info.checksum_full_object);
}

#[tokio::test]
async fn upload_part_copy_whole_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let src = data(6 * MIB, 9);
    put(&e, "bkt", "src", &src).await;
    let src_info = e.head_object("bkt", "src", None).unwrap();
    let up = e
        .create_multipart("bkt", "dst", ObjectMeta::default(), None)
        .unwrap();
    let before = pack_bytes(dir.path());
    let whole = e
        .upload_part_copy("bkt", "dst", &up.upload_id, 1, &src_info, None)
        .await
        .unwrap();
    assert_eq!(whole.etag, md5_hex(&src));
    assert_eq!(
        pack_bytes(dir.path()),
        before,
        "a whole-object part copy is by reference"
    );
    let r = ByteRange {
        start: 1000,
        end_inclusive: 2 * MIB as u64 + 5,
    };
    let ranged = e
        .upload_part_copy("bkt", "dst", &up.upload_id, 2, &src_info, Some(r))
        .await
        .unwrap();
    let slice = &src[1000..=2 * MIB + 5];
    assert_eq!(ranged.etag, md5_hex(slice));
    let grown = pack_bytes(dir.path()) - before;
    assert!(
        grown < slice.len() as u64 / 2,
        "inner chunks dedup against the source ({grown} bytes new)"
    );
    let info = e
        .complete_multipart("bkt", "dst", &up.upload_id, &completed(&[&whole, &ranged]))
        .await
        .unwrap();
    assert_eq!(info.size, (src.len() + slice.len()) as u64);
    assert!(get(&e, "bkt", "dst").await.unwrap() == [src.as_slice(), slice].concat());
}

#[tokio::test]
async fn list_uploads_pages_by_key_and_upload_id() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let mut made = Vec::new();
    for key in ["a", "b", "b", "dir/x", "dir/y", "c"] {
        made.push((
            key.to_string(),
            e.create_multipart("bkt", key, ObjectMeta::default(), None)
                .unwrap()
                .upload_id,
        ));
    }
    let q = UploadsQuery {
        max_uploads: 100,
        ..UploadsQuery::default()
    };
    let all = e.list_uploads("bkt", &q).unwrap();
    let got: Vec<(String, String)> = all
        .uploads
        .iter()
        .map(|u| (u.key.clone(), u.upload_id.clone()))
        .collect();
    let mut want = made.clone();
    // Key order, then initiation order within a key.
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);

    let mut paged = Vec::new();
    let mut q = UploadsQuery {
        max_uploads: 1,
        ..UploadsQuery::default()
    };
    loop {
        let page = e.list_uploads("bkt", &q).unwrap();
        paged.extend(
            page.uploads
                .iter()
                .map(|u| (u.key.clone(), u.upload_id.clone())),
        );
        if !page.is_truncated {
            break;
        }
        q.key_marker = page.next_key_marker;
        q.upload_id_marker = page.next_upload_id_marker;
    }
    assert_eq!(paged, want);

    let q = UploadsQuery {
        delimiter: Some("/".into()),
        max_uploads: 100,
        ..UploadsQuery::default()
    };
    let page = e.list_uploads("bkt", &q).unwrap();
    assert_eq!(page.common_prefixes, ["dir/"]);
    assert_eq!(page.uploads.len(), 4);
    let q = UploadsQuery {
        prefix: "dir/".into(),
        max_uploads: 100,
        ..UploadsQuery::default()
    };
    assert_eq!(e.list_uploads("bkt", &q).unwrap().uploads.len(), 2);
}
