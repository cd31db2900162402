//! Tamper tests: changing any single byte of a stored structure yields an authentication or
//! format error, never different content.

mod common;

use coffer_repo::{
    Argon2Params, ChecksumAlgorithm, ChunkId, ChunkRef, Compression, Error, IndexEntry,
    IndexSegment, KeySlot, Manifest, MasterKey, PACK_TRAILER_LEN, PackId, RepoConfig, open_chunk,
    open_metadata, pack_header_len, read_pack, read_pack_header, read_pack_trailer, seal_chunk,
    seal_metadata,
};

const MASKS: [u8; 3] = [0x01, 0x80, 0xFF];

/// Every variant a tampered input may legitimately produce.
fn is_integrity_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Authentication { .. }
            | Error::Malformed { .. }
            | Error::Truncated { .. }
            | Error::BadMagic
            | Error::UnsupportedVersion { .. }
            | Error::ChecksumMismatch { .. }
    )
}

/// Applies `check` to every single-byte modification of `bytes`.
fn for_each_flip(bytes: &[u8], mut check: impl FnMut(usize, &[u8])) {
    let mut copy = bytes.to_vec();
    for i in 0..bytes.len() {
        for m in MASKS {
            copy[i] ^= m;
            check(i, &copy);
            copy[i] ^= m;
        }
    }
}

fn assert_rejected<T: std::fmt::Debug>(what: &str, i: usize, r: coffer_repo::Result<T>) {
    match r {
        Ok(v) => panic!("{what}: flip at byte {i} accepted: {v:?}"),
        Err(e) => assert!(
            is_integrity_error(&e),
            "{what}: byte {i}: unexpected error {e}"
        ),
    }
}

fn sample_chunks() -> Vec<Vec<u8>> {
    vec![
        common::text_like(3000, 1),
        common::pseudo_random(2000, 2),
        common::text_like(500, 3),
    ]
}

#[test]
fn every_byte_of_a_pack() {
    let keys = common::keys();
    let (pack, fin) = common::build_pack(&keys, &sample_chunks());
    assert!(
        fin.entries
            .iter()
            .any(|e| e.compression == Compression::Zstd)
    );
    assert!(
        fin.entries
            .iter()
            .any(|e| e.compression == Compression::None)
    );
    assert_eq!(read_pack(&keys, &fin.id, &pack).unwrap(), fin.entries);
    for_each_flip(&pack, |i, p| {
        assert_rejected("pack", i, read_pack(&keys, &fin.id, p));
    });
    // The name is bound into the header: the same bytes under any other name are refused.
    for_each_flip(&fin.id.0, |i, id| {
        let renamed = PackId(id.try_into().unwrap());
        assert_rejected("renamed pack", i, read_pack(&keys, &renamed, &pack));
    });
}

#[test]
fn every_byte_of_a_chunk_opened_from_its_range() {
    let keys = common::keys();
    let (pack, fin) = common::build_pack(&keys, &sample_chunks());
    for e in &fin.entries {
        let r = e.range();
        let sealed = &pack[r.start as usize..r.end as usize];
        for_each_flip(sealed, |i, s| {
            assert_rejected(
                "chunk",
                i,
                open_chunk(&keys, &e.id, s, e.compression, e.plain_len),
            );
        });
    }
}

#[test]
fn every_byte_of_a_pack_header_and_trailer() {
    let keys = common::keys();
    let (pack, fin) = common::build_pack(&keys, &sample_chunks());
    let trailer_start = pack.len() - PACK_TRAILER_LEN;
    let trailer = &pack[trailer_start..];
    let parsed = read_pack_trailer(trailer).unwrap();
    let hlen = pack_header_len(trailer).unwrap() as usize;
    let header = &pack[trailer_start - hlen..trailer_start];
    for_each_flip(header, |i, h| {
        assert_rejected("header", i, read_pack_header(&keys, &fin.id, &parsed, h));
    });
    // Length bytes may still parse (any u32 is a length); magic and version may not.
    for_each_flip(trailer, |i, t| {
        if i >= 4 {
            assert_rejected("trailer", i, pack_header_len(t));
        }
    });
}

#[test]
fn truncated_reordered_or_foreign_chunks_are_detected() {
    let keys = common::keys();
    let chunks = vec![
        common::pseudo_random(4000, 10),
        common::pseudo_random(4000, 11),
        common::pseudo_random(4000, 12),
    ];
    let (pack, fin) = common::build_pack(&keys, &chunks);
    for cut in 0..pack.len() {
        assert_rejected(
            "truncated pack",
            cut,
            read_pack(&keys, &fin.id, &pack[..cut]),
        );
    }
    // Same-size chunks swapped in place: the header still lists them in the old order.
    let (a, b) = (fin.entries[0].range(), fin.entries[1].range());
    assert_eq!(a.end - a.start, b.end - b.start);
    let mut swapped = pack.clone();
    swapped[a.start as usize..a.end as usize]
        .copy_from_slice(&pack[b.start as usize..b.end as usize]);
    swapped[b.start as usize..b.end as usize]
        .copy_from_slice(&pack[a.start as usize..a.end as usize]);
    assert!(matches!(
        read_pack(&keys, &fin.id, &swapped),
        Err(Error::Authentication { .. })
    ));
    // A chunk from another pack put where this one's chunk was.
    let (other, _) = common::build_pack(&keys, &[common::pseudo_random(4000, 99)]);
    let mut foreign = pack.clone();
    foreign[a.start as usize..a.end as usize].copy_from_slice(&other[..(a.end - a.start) as usize]);
    assert!(matches!(
        read_pack(&keys, &fin.id, &foreign),
        Err(Error::Authentication { .. })
    ));
    // One chunk's bytes presented under another chunk's id.
    let e = fin.entries[2];
    assert!(
        open_chunk(
            &keys,
            &fin.entries[0].id,
            &pack[e.range().start as usize..e.range().end as usize],
            e.compression,
            e.plain_len
        )
        .is_err()
    );
    // Sealed under another repository's keys.
    assert!(read_pack(&common::other_keys(), &fin.id, &pack).is_err());
}

#[test]
fn every_byte_of_a_manifest() {
    let keys = common::keys();
    let m = Manifest {
        size: 8192,
        etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
        checksums: vec![(ChecksumAlgorithm::Sha256, vec![7; 32])],
        checksum_type_full_object: true,
        content_type: Some("text/plain".into()),
        system_metadata: vec![("content-language".into(), "en".into())],
        user_metadata: vec![("k".into(), "v".into())],
        part_sizes: vec![],
        chunks: vec![ChunkRef {
            id: ChunkId([3; 32]),
            offset: 0,
            len: 8192,
        }],
    };
    let sealed = m.encode(&keys).unwrap();
    assert_eq!(Manifest::decode(&keys, &sealed).unwrap(), m);
    for_each_flip(&sealed, |i, s| {
        assert_rejected("manifest", i, Manifest::decode(&keys, s))
    });
    assert!(Manifest::decode(&common::other_keys(), &sealed).is_err());
}

#[test]
fn every_byte_of_an_index_segment() {
    let keys = common::keys();
    let seg = IndexSegment {
        entries: (0..4u8)
            .map(|n| IndexEntry {
                id: ChunkId([n; 32]),
                pack: PackId([9; 32]),
                offset: u64::from(n) * 100,
                sealed_len: 100,
                plain_len: 200,
                compression: Compression::Zstd,
                kind: coffer_repo::ChunkKind::Data,
            })
            .collect(),
    };
    let sealed = seg.encode(&keys).unwrap();
    for_each_flip(&sealed, |i, s| {
        assert_rejected("index segment", i, IndexSegment::decode(&keys, s))
    });
}

#[test]
fn every_byte_of_a_metadata_blob_and_config() {
    let keys = common::keys();
    let sealed = seal_metadata(&keys, b"ctx", b"secret access key").unwrap();
    for_each_flip(&sealed, |i, s| {
        assert_rejected("metadata", i, open_metadata(&keys, b"ctx", s))
    });
    let config = RepoConfig::new_random().encode();
    for_each_flip(&config, |i, c| {
        assert_rejected("config", i, RepoConfig::decode(c))
    });
}

#[test]
fn every_byte_of_a_key_slot() {
    let master = MasterKey::from_bytes([0x11; 32]);
    let slot = KeySlot::wrap(&master, b"pass", Argon2Params::INSECURE_FOR_TESTS).unwrap();
    let bytes = slot.encode();
    for_each_flip(&bytes, |i, b| {
        assert_rejected("key slot", i, KeySlot::decode(b))
    });
    // The checksum only tells corruption from a wrong passphrase; it is not a MAC. With the
    // checksum recomputed, a modified slot must still never yield a key.
    let body_len = bytes.len() - 16;
    for_each_flip(&bytes[..body_len], |i, body| {
        let mut forged = body.to_vec();
        forged.extend_from_slice(&blake3::hash(body).as_bytes()[..16]);
        if let Ok(s) = KeySlot::decode(&forged) {
            match s.unwrap(b"pass") {
                Ok(_) => panic!("forged key slot (byte {i}) unwrapped"),
                Err(Error::WrongPassphrase | Error::InvalidArgon2Params(_)) => {}
                Err(e) => panic!("byte {i}: unexpected error {e}"),
            }
        }
    });
}

#[test]
fn wrong_passphrase_is_reported_as_such() {
    let master = MasterKey::from_bytes([0x12; 32]);
    let slot = KeySlot::wrap(&master, b"right", Argon2Params::INSECURE_FOR_TESTS).unwrap();
    let err = slot.unwrap(b"wrong").unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase));
    assert_eq!(err.to_string(), "wrong passphrase for this key slot");
    assert_eq!(slot.unwrap(b"right").unwrap(), master);
}

#[test]
fn open_refuses_lengths_beyond_the_maximum() {
    let keys = common::keys();
    let data = common::text_like(10_000, 5);
    let id = ChunkId::compute(&keys, &data);
    let s = seal_chunk(&keys, &id, &data, 3).unwrap();
    assert!(matches!(
        open_chunk(&keys, &id, &s.bytes, s.compression, u32::MAX),
        Err(Error::ChunkTooLarge { .. })
    ));
}
