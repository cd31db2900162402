//! Version-byte handling: a structure from a newer format is refused with an error that says
//! so; version 0 (never written) is malformed.

mod common;

use coffer_repo::{
    Argon2Params, ChunkId, Error, IndexEntry, IndexSegment, KeySlot, Manifest, MasterKey,
    PACK_TRAILER_LEN, PackId, RepoConfig, open_chunk, open_metadata, pack_header_len, read_pack,
    read_pack_header, read_pack_trailer, seal_chunk, seal_metadata,
};

fn assert_newer_refused<T: std::fmt::Debug>(what: &str, r: coffer_repo::Result<T>) {
    match r {
        Err(e @ Error::UnsupportedVersion { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("newer than this build supports"),
                "{what}: {msg}"
            );
            assert!(msg.contains("upgrade Coffer"), "{what}: {msg}");
        }
        other => panic!("{what}: expected UnsupportedVersion, got {other:?}"),
    }
}

fn assert_malformed<T: std::fmt::Debug>(what: &str, r: coffer_repo::Result<T>) {
    assert!(matches!(r, Err(Error::Malformed { .. })), "{what}: {r:?}");
}

/// Runs `decode` on `bytes` with the byte at `at` replaced by `current + 1`, 255 and 0.
fn check_versions<T: std::fmt::Debug>(
    what: &str,
    bytes: &[u8],
    at: usize,
    decode: impl Fn(&[u8]) -> coffer_repo::Result<T>,
) {
    check_versions_from(what, bytes, at, 1, decode)
}

/// [`check_versions`] for a structure whose current version is `today`.
fn check_versions_from<T: std::fmt::Debug>(
    what: &str,
    bytes: &[u8],
    at: usize,
    today: u8,
    decode: impl Fn(&[u8]) -> coffer_repo::Result<T>,
) {
    assert!(decode(bytes).is_ok(), "{what}: original must decode");
    let current = bytes[at];
    assert_eq!(current, today, "{what}: today's version is {today}");
    for v in [current + 1, 255] {
        let mut b = bytes.to_vec();
        b[at] = v;
        assert_newer_refused(what, decode(&b));
    }
    let mut b = bytes.to_vec();
    b[at] = 0;
    assert_malformed(what, decode(&b));
}

#[test]
fn every_structure_refuses_newer_versions() {
    let keys = common::keys();
    let (pack, fin) = common::build_pack(&keys, &[common::text_like(5000, 1)]);
    check_versions_from("pack trailer", &pack, pack.len() - 1, 2, |p| {
        read_pack(&keys, &fin.id, p)
    });
    let trailer = &pack[pack.len() - PACK_TRAILER_LEN..];
    check_versions_from(
        "pack trailer alone",
        trailer,
        PACK_TRAILER_LEN - 1,
        2,
        pack_header_len,
    );
    let parsed = read_pack_trailer(trailer).unwrap();
    let header_start = fin.entries[0].range().end as usize;
    let header = &pack[header_start..pack.len() - PACK_TRAILER_LEN];
    check_versions("pack header envelope", header, 0, |h| {
        read_pack_header(&keys, &fin.id, &parsed, h)
    });

    let e = fin.entries[0];
    let chunk = &pack[..e.range().end as usize];
    check_versions("sealed chunk", chunk, 0, |c| {
        open_chunk(&keys, &e.id, c, e.compression, e.plain_len)
    });

    let m = Manifest {
        etag: "x".into(),
        ..Manifest::default()
    };
    check_versions(
        "manifest (plain)",
        &m.encode_plain(),
        0,
        Manifest::decode_plain,
    );
    check_versions("manifest (sealed)", &m.encode(&keys).unwrap(), 0, |b| {
        Manifest::decode(&keys, b)
    });

    let entry = IndexEntry {
        id: ChunkId([1; 32]),
        pack: PackId([2; 32]),
        offset: 3,
        sealed_len: 4,
        plain_len: 5,
        compression: coffer_repo::Compression::None,
        kind: coffer_repo::ChunkKind::Data,
    };
    check_versions("index value", &entry.encode_value(), 0, |b| {
        IndexEntry::decode_value(entry.id, b)
    });
    let seg = IndexSegment {
        entries: vec![entry],
    };
    check_versions("index segment", &seg.encode(&keys).unwrap(), 0, |b| {
        IndexSegment::decode(&keys, b)
    });

    check_versions(
        "metadata blob",
        &seal_metadata(&keys, b"c", b"v").unwrap(),
        0,
        |b| open_metadata(&keys, b"c", b),
    );
    check_versions(
        "config",
        &RepoConfig::new_random().encode(),
        0,
        RepoConfig::decode,
    );
    let slot = KeySlot::wrap(
        &MasterKey::from_bytes([1; 32]),
        b"p",
        Argon2Params::INSECURE_FOR_TESTS,
    )
    .unwrap();
    check_versions("key slot", &slot.encode(), 0, KeySlot::decode);

    let data = common::pseudo_random(100, 1);
    let id = ChunkId::compute(&keys, &data);
    let s = seal_chunk(&keys, &id, &data, 3).unwrap();
    check_versions("raw sealed chunk", &s.bytes, 0, |b| {
        open_chunk(&keys, &id, b, s.compression, s.plain_len)
    });
}
