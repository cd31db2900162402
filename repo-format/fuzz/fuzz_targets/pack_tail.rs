//! Fuzzes pack parsing from the tail: trailer, sealed header, whole-pack verification, and
//! the header plaintext decoder that sits under the encryption.
#![no_main]

use coffer_repo::{
    Keys, MasterKey, PACK_TRAILER_LEN, PackId, PackTrailer, pack_header_len, read_pack,
    read_pack_header, read_pack_trailer,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys = Keys::derive(&MasterKey::from_bytes([0x42; 32]));
    if data.len() >= PACK_TRAILER_LEN {
        let _ = pack_header_len(&data[data.len() - PACK_TRAILER_LEN..]);
    }
    let _ = pack_header_len(data);
    let _ = read_pack_trailer(data);
    // Both naming schemes: version 1 (checked by hash) and version 2 (id in the header's
    // associated data), under a fixed name and under the input's own hash.
    for id in [PackId([0x11; 32]), PackId::compute(data)] {
        for version in [1, 2] {
            let trailer = PackTrailer {
                header_len: data.len() as u32,
                version,
            };
            let _ = read_pack_header(&keys, &id, &trailer, data);
        }
        let _ = read_pack(&keys, &id, data);
    }
    if let Ok(entries) = coffer_repo::testing::pack_header_decode_plain(data) {
        // Accepted headers describe contiguous chunks from offset 0.
        let mut end = 0u64;
        for e in &entries {
            assert_eq!(e.offset, end);
            end = e.range().end;
        }
    }
});
