//! The AES-256-GCM envelope every encrypted structure uses:
//! `[version u8][salt 16][nonce 12][ciphertext][tag 16]`, with a fresh message key per
//! envelope derived from the base key, a purpose label and the salt.

use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroize;

use crate::codec::check_version;
use crate::random::RandomSource;
use crate::{Error, Result};

pub(crate) const ENVELOPE_VERSION: u8 = 1;
pub(crate) const SALT_LEN: usize = 16;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
/// Bytes before the ciphertext.
pub(crate) const HEADER_LEN: usize = 1 + SALT_LEN + NONCE_LEN;
/// Total bytes an envelope adds to its plaintext.
pub(crate) const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// What an envelope protects; each purpose gets its own message keys so a blob sealed for
/// one purpose never opens as another.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Chunk,
    PackHeader,
    IndexSegment,
    Manifest,
    Metadata,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Chunk => b"coffer chunk v1",
            Purpose::PackHeader => b"coffer pack header v1",
            Purpose::IndexSegment => b"coffer index segment v1",
            Purpose::Manifest => b"coffer manifest v1",
            Purpose::Metadata => b"coffer metadata blob v1",
        }
    }
    pub(crate) fn structure(self) -> &'static str {
        match self {
            Purpose::Chunk => "sealed chunk",
            Purpose::PackHeader => "pack header",
            Purpose::IndexSegment => "index segment",
            Purpose::Manifest => "manifest",
            Purpose::Metadata => "metadata blob",
        }
    }
}

fn cipher(base_key: &[u8; 32], purpose: Purpose, salt: &[u8]) -> Aes256Gcm {
    let mut hasher = blake3::Hasher::new_keyed(base_key);
    hasher.update(purpose.label());
    hasher.update(&[0]);
    hasher.update(salt);
    let mut key: [u8; 32] = hasher.finalize().into();
    let cipher = Aes256Gcm::new(&key.into());
    key.zeroize();
    cipher
}

fn nonce_from(bytes: &[u8]) -> Nonce<Aes256Gcm> {
    let mut nonce = Nonce::<Aes256Gcm>::default();
    nonce.copy_from_slice(bytes);
    nonce
}

/// Seals in place. `buf` must hold `HEADER_LEN` placeholder bytes followed by the plaintext;
/// on return it holds the whole envelope.
pub(crate) fn seal_in_place(
    base_key: &[u8; 32],
    purpose: Purpose,
    aad: &[u8],
    buf: &mut Vec<u8>,
    rng: &mut dyn RandomSource,
) -> Result<()> {
    debug_assert!(buf.len() >= HEADER_LEN);
    let (header, body) = buf.split_at_mut(HEADER_LEN);
    header[0] = ENVELOPE_VERSION;
    rng.fill(&mut header[1..])?;
    let cipher = cipher(base_key, purpose, &header[1..1 + SALT_LEN]);
    let nonce = nonce_from(&header[1 + SALT_LEN..]);
    let full_aad = [&header[..], aad].concat();
    let tag = cipher
        .encrypt_inout_detached(&nonce, &full_aad, body.into())
        .map_err(|_| Error::Malformed {
            structure: purpose.structure(),
            reason: "plaintext too long for AES-GCM",
        })?;
    buf.extend_from_slice(&tag);
    Ok(())
}

/// Allocates `HEADER_LEN` placeholder bytes plus room for `payload_len` bytes and the tag.
pub(crate) fn buffer_for(payload_len: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(OVERHEAD + payload_len);
    buf.resize(HEADER_LEN, 0);
    buf
}

/// Seals `plaintext` into a new envelope.
pub(crate) fn seal(
    base_key: &[u8; 32],
    purpose: Purpose,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    let mut buf = buffer_for(plaintext.len());
    buf.extend_from_slice(plaintext);
    seal_in_place(base_key, purpose, aad, &mut buf, rng)?;
    Ok(buf)
}

/// Authenticates and decrypts an envelope; any change to any byte fails.
pub(crate) fn open(
    base_key: &[u8; 32],
    purpose: Purpose,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>> {
    let structure = purpose.structure();
    if sealed.len() < OVERHEAD {
        return Err(Error::Truncated { structure });
    }
    check_version(structure, sealed[0], ENVELOPE_VERSION)?;
    let (header, rest) = sealed.split_at(HEADER_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let cipher = cipher(base_key, purpose, &header[1..1 + SALT_LEN]);
    let nonce = nonce_from(&header[1 + SALT_LEN..]);
    let tag = Tag::<Aes256Gcm>::try_from(tag).map_err(|_| Error::Truncated { structure })?;
    let full_aad = [header, aad].concat();
    let mut out = body.to_vec();
    cipher
        .decrypt_inout_detached(&nonce, &full_aad, out.as_mut_slice().into(), &tag)
        .map_err(|_| Error::Authentication { structure })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::DeterministicRandom;

    #[test]
    fn round_trip_and_purpose_separation() {
        let key = [3u8; 32];
        let mut rng = DeterministicRandom::new(1);
        let sealed = seal(&key, Purpose::Manifest, b"ctx", b"hello", &mut rng).unwrap();
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(
            open(&key, Purpose::Manifest, b"ctx", &sealed).unwrap(),
            b"hello"
        );
        assert!(matches!(
            open(&key, Purpose::Metadata, b"ctx", &sealed),
            Err(Error::Authentication { .. })
        ));
        assert!(open(&key, Purpose::Manifest, b"ctX", &sealed).is_err());
        assert!(open(&[4u8; 32], Purpose::Manifest, b"ctx", &sealed).is_err());
    }
}
