//! Authenticated encryption of small metadata blobs (e.g. access-key secrets) under the
//! metadata key, bound to a caller-chosen context.

use crate::Result;
use crate::envelope::{self, Purpose};
use crate::keys::Keys;
use crate::random::{OsRandom, RandomSource};

/// Seals `plaintext`; it opens only with the same `context`.
pub fn seal_metadata(keys: &Keys, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_metadata_with_random(keys, context, plaintext, &mut OsRandom)
}

/// Opens a blob sealed by [`seal_metadata`] with the same `context`.
pub fn open_metadata(keys: &Keys, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    envelope::open(keys.metadata_key(), Purpose::Metadata, context, sealed)
}

/// [`seal_metadata`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn seal_metadata_with_random(
    keys: &Keys,
    context: &[u8],
    plaintext: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    envelope::seal(
        keys.metadata_key(),
        Purpose::Metadata,
        context,
        plaintext,
        rng,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    #[test]
    fn context_is_bound() {
        let keys = Keys::derive(&MasterKey::from_bytes([8; 32]));
        let s = seal_metadata(&keys, b"access-key:AKIA", b"secret").unwrap();
        assert_eq!(
            open_metadata(&keys, b"access-key:AKIA", &s).unwrap(),
            b"secret"
        );
        assert!(open_metadata(&keys, b"access-key:AKIB", &s).is_err());
    }
}
