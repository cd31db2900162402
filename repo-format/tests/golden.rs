//! Golden files: today's bytes for every encoding, made with fixed keys and a deterministic
//! random source. A change to any layout, KDF context, nonce handling or cut point fails
//! here; regenerate only together with a format version bump:
//! `COFFER_UPDATE_GOLDEN=1 cargo test -p coffer-repo --test golden`.

mod common;

use std::path::PathBuf;

use bytes::Bytes;
use coffer_repo::testing::{self, DeterministicRandom};
use coffer_repo::{
    Argon2Params, ChecksumAlgorithm, ChunkId, ChunkKind, ChunkRef, ChunkerParams, Compression,
    IndexEntry, IndexSegment, KeyFile, KeySlot, Keys, Manifest, MasterKey, PackBuilder, PackId,
    RepoConfig, StreamChunker, open_chunk, open_metadata, read_pack,
};

fn golden(name: &str, bytes: &[u8]) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("COFFER_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let stored = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate with COFFER_UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    if stored != bytes {
        let first = stored.iter().zip(bytes).position(|(a, b)| a != b);
        panic!(
            "{name}: encoding changed (stored {} bytes, now {} bytes, first difference at {first:?}); \
             this is a format change and needs a version bump",
            stored.len(),
            bytes.len()
        );
    }
    stored
}

fn master() -> MasterKey {
    testing::master_key_with_random(&mut DeterministicRandom::new(1)).unwrap()
}

fn keys() -> Keys {
    Keys::derive(&master())
}

fn golden_manifest() -> Manifest {
    Manifest {
        size: 5_000_000,
        etag: "0123456789abcdef0123456789abcdef-2".into(),
        checksums: vec![
            (ChecksumAlgorithm::Crc32, vec![0xde, 0xad, 0xbe, 0xef]),
            (ChecksumAlgorithm::Crc64Nvme, vec![1, 2, 3, 4, 5, 6, 7, 8]),
        ],
        checksum_type_full_object: false,
        content_type: Some("application/x-tar".into()),
        system_metadata: vec![
            ("cache-control".into(), "max-age=60".into()),
            ("content-encoding".into(), "gzip".into()),
        ],
        user_metadata: vec![
            ("host".into(), "db-01".into()),
            ("ünï".into(), "çødé".into()),
        ],
        part_sizes: vec![3_000_000, 2_000_000],
        chunks: vec![
            ChunkRef {
                id: ChunkId([0xa1; 32]),
                offset: 0,
                len: 2_500_000,
            },
            ChunkRef {
                id: ChunkId([0xb2; 32]),
                offset: 2_500_000,
                len: 2_500_000,
            },
        ],
    }
}

fn golden_segment() -> IndexSegment {
    IndexSegment {
        entries: vec![
            IndexEntry {
                id: ChunkId([1; 32]),
                pack: PackId([2; 32]),
                offset: 0,
                sealed_len: 1045,
                plain_len: 4000,
                compression: Compression::Zstd,
                kind: ChunkKind::Data,
            },
            IndexEntry {
                id: ChunkId([3; 32]),
                pack: PackId([2; 32]),
                offset: 1045,
                sealed_len: 1_048_621,
                plain_len: 1_048_576,
                compression: Compression::None,
                kind: ChunkKind::Tree,
            },
        ],
    }
}

#[test]
fn keys_ids_and_key_file() {
    let keys = keys();
    let id = ChunkId::compute(&keys, b"coffer golden chunk");
    golden("chunk_id.hex", id.to_hex().as_bytes());
    let file = golden("master.key", &KeyFile::encode(&master()));
    assert_eq!(KeyFile::decode(&file, 0o600).unwrap(), master());
}

#[test]
fn key_slot() {
    let slot = testing::key_slot_wrap_with_random(
        &master(),
        b"golden passphrase",
        Argon2Params::INSECURE_FOR_TESTS,
        &mut DeterministicRandom::new(2),
    )
    .unwrap();
    let stored = golden("key_slot.bin", &slot.encode());
    let decoded = KeySlot::decode(&stored).unwrap();
    assert_eq!(decoded.unwrap(b"golden passphrase").unwrap(), master());
}

#[test]
fn config() {
    let c = testing::config_with_random(&mut DeterministicRandom::new(3)).unwrap();
    let stored = golden("config.bin", &c.encode());
    assert_eq!(RepoConfig::decode(&stored).unwrap(), c);
    assert_eq!(c.chunker, ChunkerParams::default());
}

#[test]
fn sealed_chunks_and_pack() {
    let keys = keys();
    let text = common::text_like(20_000, 1);
    let random = common::pseudo_random(3_000, 2);
    let mut rng = DeterministicRandom::new(4);
    // Version 1 (content-hash named), as older builds wrote it: still read and verified.
    let mut builder = PackBuilder::new_v1();
    let mut pack = Vec::new();
    for (name, data, compression) in [
        ("sealed_chunk_zstd.bin", &text, Compression::Zstd),
        ("sealed_chunk_raw.bin", &random, Compression::None),
    ] {
        let id = ChunkId::compute(&keys, data);
        let sealed = testing::seal_chunk_with_random(&keys, &id, data, 3, &mut rng).unwrap();
        assert_eq!(sealed.compression, compression);
        let stored = golden(name, &sealed.bytes);
        assert_eq!(
            open_chunk(&keys, &id, &stored, compression, data.len() as u32).unwrap(),
            data[..]
        );
        builder.add(id, ChunkKind::Data, &sealed);
        pack.extend_from_slice(&sealed.bytes);
    }
    let fin = testing::pack_finish_with_random(builder, &keys, &mut rng).unwrap();
    pack.extend_from_slice(&fin.tail);
    let stored = golden("pack.bin", &pack);
    golden("pack.id", fin.id.to_hex().as_bytes());
    assert_eq!(PackId::compute(&stored), fin.id);
    assert_eq!(read_pack(&keys, &fin.id, &stored).unwrap(), fin.entries);
}

#[test]
fn pack_v2_with_chosen_id() {
    let keys = keys();
    let text = common::text_like(20_000, 1);
    let random = common::pseudo_random(3_000, 2);
    let mut rng = DeterministicRandom::new(5);
    let id = testing::pack_id_with_random(&mut rng).unwrap();
    let mut builder = PackBuilder::new(id);
    let mut pack = Vec::new();
    for data in [&text, &random] {
        let chunk = ChunkId::compute(&keys, data);
        let sealed = testing::seal_chunk_with_random(&keys, &chunk, data, 3, &mut rng).unwrap();
        builder.add(chunk, ChunkKind::Data, &sealed);
        pack.extend_from_slice(&sealed.bytes);
    }
    let fin = testing::pack_finish_with_random(builder, &keys, &mut rng).unwrap();
    assert_eq!(fin.id, id);
    pack.extend_from_slice(&fin.tail);
    let stored = golden("pack_v2.bin", &pack);
    let stored_id = golden("pack_v2.id", id.to_hex().as_bytes());
    let id = PackId::from_hex(std::str::from_utf8(&stored_id).unwrap()).unwrap();
    assert_eq!(read_pack(&keys, &id, &stored).unwrap(), fin.entries);
    assert!(read_pack(&keys, &PackId::compute(&stored), &stored).is_err());
}

#[test]
fn index_segment_and_value() {
    let keys = keys();
    let seg = golden_segment();
    let sealed =
        testing::index_segment_encode_with_random(&seg, &keys, &mut DeterministicRandom::new(5))
            .unwrap();
    let stored = golden("index_segment.bin", &sealed);
    assert_eq!(IndexSegment::decode(&keys, &stored).unwrap(), seg);
    let e = seg.entries[1];
    let stored = golden("index_value.bin", &e.encode_value());
    assert_eq!(IndexEntry::decode_value(e.id, &stored).unwrap(), e);
}

#[test]
fn manifest() {
    let keys = keys();
    let m = golden_manifest();
    let stored = golden("manifest_plain.bin", &m.encode_plain());
    assert_eq!(Manifest::decode_plain(&stored).unwrap(), m);
    let sealed =
        testing::manifest_encode_with_random(&m, &keys, &[], &mut DeterministicRandom::new(6))
            .unwrap();
    let stored = golden("manifest.bin", &sealed);
    assert_eq!(Manifest::decode(&keys, &stored).unwrap(), m);
    let context = b"golden-bucket\0backups/db.tar\0version-1";
    let sealed =
        testing::manifest_encode_with_random(&m, &keys, context, &mut DeterministicRandom::new(10))
            .unwrap();
    let stored = golden("manifest_bound.bin", &sealed);
    assert_eq!(Manifest::decode_bound(&keys, context, &stored).unwrap(), m);
}

#[test]
fn metadata_blob() {
    let keys = keys();
    let sealed = testing::seal_metadata_with_random(
        &keys,
        b"access-key:GOLDEN",
        b"golden secret",
        &mut DeterministicRandom::new(7),
    )
    .unwrap();
    let stored = golden("metadata.bin", &sealed);
    assert_eq!(
        open_metadata(&keys, b"access-key:GOLDEN", &stored).unwrap(),
        b"golden secret"
    );
}

#[test]
fn chunker_cut_points() {
    // Default parameters over 32 MiB: a FastCDC or parameter change moves these.
    let data = common::pseudo_random(32 << 20, 8);
    let lens: Vec<String> = StreamChunker::chunk_all(ChunkerParams::default(), Bytes::from(data))
        .iter()
        .map(|c| c.len().to_string())
        .collect();
    let text = lens.join("\n") + "\n";
    golden("cut_points_default_32mib.txt", text.as_bytes());
    let small: Vec<String> = StreamChunker::chunk_all(
        common::small_chunker(),
        Bytes::from(common::text_like(1 << 20, 9)),
    )
    .iter()
    .map(|c| c.len().to_string())
    .collect();
    golden(
        "cut_points_small_text_1mib.txt",
        (small.join("\n") + "\n").as_bytes(),
    );
}
