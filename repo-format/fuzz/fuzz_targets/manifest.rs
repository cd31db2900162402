//! Fuzzes manifest decoding, sealed and plain; accepted plain input must re-encode to itself
//! (one encoding per manifest).
#![no_main]

use coffer_repo::{Keys, Manifest, MasterKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys = Keys::derive(&MasterKey::from_bytes([0x42; 32]));
    let _ = Manifest::decode(&keys, data);
    if let Ok(m) = Manifest::decode_plain(data) {
        assert_eq!(m.encode_plain(), data);
    }
});
