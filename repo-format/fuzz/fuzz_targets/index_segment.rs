//! Fuzzes index segment decoding (sealed and the plaintext under it) and the local-store
//! entry value codec; accepted input must re-encode to itself.
#![no_main]

use coffer_repo::{ChunkId, IndexEntry, IndexSegment, Keys, MasterKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys = Keys::derive(&MasterKey::from_bytes([0x42; 32]));
    let _ = IndexSegment::decode(&keys, data);
    let _ = coffer_repo::testing::index_segment_decode_plain(data);
    if let Ok(e) = IndexEntry::decode_value(ChunkId([7; 32]), data) {
        assert_eq!(e.encode_value(), data);
    }
});
