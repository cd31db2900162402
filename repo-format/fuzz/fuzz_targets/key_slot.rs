//! Fuzzes key-slot decoding (plus the key file and repository config, the other
//! plaintext-at-rest structures); accepted input must re-encode to itself. Unwrapping is not
//! fuzzed: it runs Argon2 by design.
#![no_main]

use coffer_repo::{KeyFile, KeySlot, RepoConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(slot) = KeySlot::decode(data) {
        assert_eq!(slot.encode(), data);
    }
    if let Ok(config) = RepoConfig::decode(data) {
        assert_eq!(config.encode(), data);
    }
    let _ = KeyFile::decode(data, 0o600);
});
