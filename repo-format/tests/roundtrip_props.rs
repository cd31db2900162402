//! Property tests: every codec decodes what it encodes, and chunk → seal → pack → read → open
//! returns the original bytes.

mod common;

use bytes::Bytes;
use coffer_repo::{
    Argon2Params, ChecksumAlgorithm, ChunkId, ChunkKind, ChunkRef, ChunkerParams, Compression,
    IndexEntry, IndexSegment, KeyFile, KeySlot, Manifest, MasterKey, PACK_TRAILER_LEN, PackBuilder,
    PackId, RepoConfig, StreamChunker, open_chunk, open_metadata, pack_header_len, read_pack,
    read_pack_header, read_pack_trailer, seal_chunk, seal_metadata,
};
use proptest::prelude::*;

fn compression() -> impl Strategy<Value = Compression> {
    prop_oneof![Just(Compression::None), Just(Compression::Zstd)]
}

fn kind() -> impl Strategy<Value = ChunkKind> {
    prop_oneof![Just(ChunkKind::Data), Just(ChunkKind::Tree)]
}

fn index_entry() -> impl Strategy<Value = IndexEntry> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        0u64..u64::MAX / 2,
        any::<u32>(),
        any::<u32>(),
        compression(),
        kind(),
    )
        .prop_map(
            |(id, pack, offset, sealed_len, plain_len, compression, kind)| IndexEntry {
                id: ChunkId(id),
                pack: PackId(pack),
                offset,
                sealed_len,
                plain_len,
                compression,
                kind,
            },
        )
}

fn algorithm() -> impl Strategy<Value = ChecksumAlgorithm> {
    proptest::sample::select(ChecksumAlgorithm::ALL.to_vec())
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((".{0,20}", ".{0,40}"), 0..5)
}

fn manifest() -> impl Strategy<Value = Manifest> {
    (
        any::<u64>(),
        "[0-9a-f]{32}(-[0-9]{1,5})?",
        proptest::collection::vec(
            (algorithm(), proptest::collection::vec(any::<u8>(), 0..40)),
            0..4,
        ),
        any::<bool>(),
        proptest::option::of(".{0,30}"),
        pairs(),
        pairs(),
        proptest::collection::vec(any::<u64>(), 0..10),
        proptest::collection::vec(
            (any::<[u8; 32]>(), any::<u64>(), any::<u32>()).prop_map(|(id, offset, len)| {
                ChunkRef {
                    id: ChunkId(id),
                    offset,
                    len,
                }
            }),
            0..20,
        ),
    )
        .prop_map(
            |(
                size,
                etag,
                checksums,
                full,
                content_type,
                system_metadata,
                user_metadata,
                part_sizes,
                chunks,
            )| {
                Manifest {
                    size,
                    etag,
                    checksums,
                    checksum_type_full_object: full,
                    content_type,
                    system_metadata,
                    user_metadata,
                    part_sizes,
                    chunks,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn manifest_round_trips(m in manifest()) {
        let keys = common::keys();
        prop_assert_eq!(&Manifest::decode_plain(&m.encode_plain()).unwrap(), &m);
        prop_assert_eq!(&Manifest::decode(&keys, &m.encode(&keys).unwrap()).unwrap(), &m);
    }

    #[test]
    fn index_segment_round_trips(entries in proptest::collection::vec(index_entry(), 0..50)) {
        let keys = common::keys();
        let seg = IndexSegment { entries };
        prop_assert_eq!(&IndexSegment::decode(&keys, &seg.encode(&keys).unwrap()).unwrap(), &seg);
        for e in &seg.entries {
            prop_assert_eq!(&IndexEntry::decode_value(e.id, &e.encode_value()).unwrap(), e);
        }
    }

    #[test]
    fn config_round_trips(repo_id in any::<[u8; 16]>(), min_kib in 1u32..=1024, avg_mul in 1u32..=4, max_mul in 1u32..=4, level in 1i32..=22) {
        let min_size = min_kib * 1024;
        let avg_size = (min_size * avg_mul).min(4 << 20);
        let max_size = (avg_size * max_mul).min(16 << 20);
        let c = RepoConfig { repo_id, chunker: ChunkerParams { min_size, avg_size, max_size }, zstd_level: level };
        prop_assert_eq!(&RepoConfig::decode(&c.encode()).unwrap(), &c);
    }

    #[test]
    fn key_file_round_trips(key in any::<[u8; 32]>()) {
        let k = MasterKey::from_bytes(key);
        prop_assert_eq!(KeyFile::decode(&KeyFile::encode(&k), 0o600).unwrap(), k);
    }

    #[test]
    fn metadata_round_trips(context in proptest::collection::vec(any::<u8>(), 0..64), plain in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let keys = common::keys();
        let sealed = seal_metadata(&keys, &context, &plain).unwrap();
        prop_assert_eq!(open_metadata(&keys, &context, &sealed).unwrap(), plain);
    }

    #[test]
    fn seal_open_round_trips(plain in proptest::collection::vec(any::<u8>(), 0..20_000), repeat in 1usize..4, level in 1i32..10) {
        let keys = common::keys();
        let plain = plain.repeat(repeat);
        let id = ChunkId::compute(&keys, &plain);
        let s = seal_chunk(&keys, &id, &plain, level).unwrap();
        prop_assert_eq!(&open_chunk(&keys, &id, &s.bytes, s.compression, s.plain_len).unwrap()[..], &plain[..]);
    }

    #[test]
    fn chunk_seal_pack_read_open(seed in any::<u64>(), len in 0usize..200_000, text in any::<bool>()) {
        let keys = common::keys();
        let data = if text { common::text_like(len, seed) } else { common::pseudo_random(len, seed) };
        let chunks = StreamChunker::chunk_all(common::small_chunker(), Bytes::from(data.clone()));
        let mut builder = PackBuilder::new(PackId::generate().unwrap());
        let mut pack = Vec::new();
        let mut refs = Vec::new();
        for c in &chunks {
            let id = ChunkId::compute(&keys, c);
            let sealed = seal_chunk(&keys, &id, c, 3).unwrap();
            refs.push(builder.add(id, ChunkKind::Data, &sealed));
            pack.extend_from_slice(&sealed.bytes);
        }
        let builder_id = builder.id();
        let fin = builder.finish(&keys).unwrap();
        pack.extend_from_slice(&fin.tail);
        prop_assert_eq!(Some(fin.id), builder_id);
        prop_assert_eq!(&read_pack(&keys, &fin.id, &pack).unwrap(), &fin.entries);
        // Tail-only path, then each chunk from its own byte range.
        let trailer_start = pack.len() - PACK_TRAILER_LEN;
        let trailer = read_pack_trailer(&pack[trailer_start..]).unwrap();
        let hlen = pack_header_len(&pack[trailer_start..]).unwrap() as usize;
        let entries = read_pack_header(&keys, &fin.id, &trailer, &pack[trailer_start - hlen..trailer_start]).unwrap();
        prop_assert_eq!(&entries, &refs);
        let mut rebuilt = Vec::new();
        for e in &entries {
            let r = e.range();
            rebuilt.extend_from_slice(&open_chunk(&keys, &e.id, &pack[r.start as usize..r.end as usize], e.compression, e.plain_len).unwrap());
        }
        prop_assert_eq!(rebuilt, data);
    }
}

proptest! {
    // Argon2 runs per case; keep it to a few cases with the cheapest parameters.
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn key_slot_round_trips(key in any::<[u8; 32]>(), pass in proptest::collection::vec(any::<u8>(), 0..64)) {
        let master = MasterKey::from_bytes(key);
        let slot = KeySlot::wrap(&master, &pass, Argon2Params::INSECURE_FOR_TESTS).unwrap();
        let decoded = KeySlot::decode(&slot.encode()).unwrap();
        prop_assert_eq!(&decoded, &slot);
        prop_assert_eq!(decoded.unwrap(&pass).unwrap(), master);
    }
}
