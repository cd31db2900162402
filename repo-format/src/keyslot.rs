//! Passphrase key slots: the master key wrapped with AES-256-GCM under an Argon2id-derived
//! key-encryption key. Several slots can wrap the same master key (rotation).

use std::fmt;

use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroizing;

use crate::codec::{Reader, Writer, check_version};
use crate::keys::MasterKey;
use crate::random::{OsRandom, RandomSource};
use crate::{Error, Result};

const STRUCTURE: &str = "key slot";
const KEY_SLOT_VERSION: u8 = 1;
const KDF_ARGON2ID_V13: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const CHECKSUM_LEN: usize = 16;
/// Bytes covered by the AEAD as associated data: version, kdf, params, salt.
const PREFIX_LEN: usize = 1 + 1 + 12 + SALT_LEN;
/// Total encoded length.
pub(crate) const KEY_SLOT_LEN: usize = PREFIX_LEN + NONCE_LEN + 32 + 16 + CHECKSUM_LEN;

/// Upper bounds accepted from storage, so a crafted slot cannot make unlock take unbounded
/// memory or time.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 64;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for Argon2Params {
    /// 64 MiB, 3 passes, 1 lane: about a quarter second on a server core.
    fn default() -> Self {
        Self {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl Argon2Params {
    /// Minimal cost, for tests only: offers no protection against guessing.
    pub const INSECURE_FOR_TESTS: Self = Self {
        m_cost_kib: 8,
        t_cost: 1,
        p_cost: 1,
    };

    fn validate(&self) -> Result<argon2::Params> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err(Error::InvalidArgon2Params(format!(
                "{self:?} exceeds limits (m ≤ {MAX_M_COST_KIB} KiB, t ≤ {MAX_T_COST}, p ≤ {MAX_P_COST})"
            )));
        }
        argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| Error::InvalidArgon2Params(e.to_string()))
    }

    fn kek(&self, passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let params = self.validate()?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut kek = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase, salt, kek.as_mut())
            .map_err(|e| Error::InvalidArgon2Params(e.to_string()))?;
        Ok(kek)
    }
}

/// One wrapped copy of the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySlot {
    params: Argon2Params,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    /// AES-256-GCM ciphertext of the master key followed by the tag.
    wrapped: [u8; 48],
}

impl fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySlot")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl KeySlot {
    /// Wraps `master` under `passphrase`.
    pub fn wrap(master: &MasterKey, passphrase: &[u8], params: Argon2Params) -> Result<Self> {
        wrap_with_random(master, passphrase, params, &mut OsRandom)
    }

    /// The Argon2id parameters this slot was made with.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// Recovers the master key; [`Error::WrongPassphrase`] when the passphrase does not fit.
    pub fn unwrap(&self, passphrase: &[u8]) -> Result<MasterKey> {
        let kek = self.params.kek(passphrase, &self.salt)?;
        let cipher = Aes256Gcm::new(&(*kek).into());
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&self.wrapped[..32]);
        cipher
            .decrypt_inout_detached(
                &Nonce::<Aes256Gcm>::from(self.nonce),
                &self.prefix(),
                key.as_mut_slice().into(),
                &Tag::<Aes256Gcm>::try_from(&self.wrapped[32..]).map_err(|_| Error::Malformed {
                    structure: STRUCTURE,
                    reason: "bad tag length",
                })?,
            )
            .map_err(|_| Error::WrongPassphrase)?;
        Ok(MasterKey::from_bytes(*key))
    }

    fn prefix(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(PREFIX_LEN);
        w.u8(KEY_SLOT_VERSION);
        w.u8(KDF_ARGON2ID_V13);
        w.u32(self.params.m_cost_kib);
        w.u32(self.params.t_cost);
        w.u32(self.params.p_cost);
        w.bytes(&self.salt);
        w.into_inner()
    }

    /// `[prefix][nonce][wrapped key + tag][BLAKE3 checksum, 16]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.prefix();
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.wrapped);
        let sum = blake3::hash(&out);
        out.extend_from_slice(&sum.as_bytes()[..CHECKSUM_LEN]);
        out
    }

    /// Parses a slot. A checksum separates corruption from a wrong passphrase later.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, STRUCTURE);
        check_version(STRUCTURE, r.u8()?, KEY_SLOT_VERSION)?;
        if bytes.len() != KEY_SLOT_LEN {
            return Err(if bytes.len() < KEY_SLOT_LEN {
                Error::Truncated {
                    structure: STRUCTURE,
                }
            } else {
                r.malformed("wrong length")
            });
        }
        let (body, sum) = bytes.split_at(KEY_SLOT_LEN - CHECKSUM_LEN);
        if blake3::hash(body).as_bytes()[..CHECKSUM_LEN] != *sum {
            return Err(Error::ChecksumMismatch {
                structure: STRUCTURE,
            });
        }
        if r.u8()? != KDF_ARGON2ID_V13 {
            return Err(r.malformed("unknown key derivation function"));
        }
        let params = Argon2Params {
            m_cost_kib: r.u32()?,
            t_cost: r.u32()?,
            p_cost: r.u32()?,
        };
        params.validate()?;
        let slot = Self {
            params,
            salt: r.array()?,
            nonce: r.array()?,
            wrapped: r.array()?,
        };
        r.array::<CHECKSUM_LEN>()?;
        r.finish()?;
        Ok(slot)
    }
}

/// [`KeySlot::wrap`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn wrap_with_random(
    master: &MasterKey,
    passphrase: &[u8],
    params: Argon2Params,
    rng: &mut dyn RandomSource,
) -> Result<KeySlot> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut salt)?;
    rng.fill(&mut nonce)?;
    let mut slot = KeySlot {
        params,
        salt,
        nonce,
        wrapped: [0; 48],
    };
    let kek = params.kek(passphrase, &salt)?;
    let cipher = Aes256Gcm::new(&(*kek).into());
    let mut key = Zeroizing::new(*master.expose());
    let tag = cipher
        .encrypt_inout_detached(
            &Nonce::<Aes256Gcm>::from(nonce),
            &slot.prefix(),
            key.as_mut_slice().into(),
        )
        .map_err(|_| Error::Malformed {
            structure: STRUCTURE,
            reason: "AES-GCM refused to wrap",
        })?;
    slot.wrapped[..32].copy_from_slice(key.as_ref());
    slot.wrapped[32..].copy_from_slice(&tag);
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_round_trip() {
        let master = MasterKey::from_bytes([5; 32]);
        let slot =
            KeySlot::wrap(&master, b"correct horse", Argon2Params::INSECURE_FOR_TESTS).unwrap();
        let bytes = slot.encode();
        assert_eq!(bytes.len(), KEY_SLOT_LEN);
        let decoded = KeySlot::decode(&bytes).unwrap();
        assert_eq!(decoded, slot);
        assert_eq!(decoded.unwrap(b"correct horse").unwrap(), master);
        assert!(matches!(
            decoded.unwrap(b"correct horsE"),
            Err(Error::WrongPassphrase)
        ));
    }

    #[test]
    fn two_slots_same_master() {
        let master = MasterKey::from_bytes([6; 32]);
        let a = KeySlot::wrap(&master, b"a", Argon2Params::INSECURE_FOR_TESTS).unwrap();
        let b = KeySlot::wrap(&master, b"b", Argon2Params::INSECURE_FOR_TESTS).unwrap();
        assert_ne!(a.encode(), b.encode());
        assert_eq!(a.unwrap(b"a").unwrap(), b.unwrap(b"b").unwrap());
    }

    #[test]
    fn refuses_excessive_params() {
        let master = MasterKey::from_bytes([6; 32]);
        let params = Argon2Params {
            m_cost_kib: MAX_M_COST_KIB + 1,
            t_cost: 1,
            p_cost: 1,
        };
        assert!(matches!(
            KeySlot::wrap(&master, b"a", params),
            Err(Error::InvalidArgon2Params(_))
        ));
    }
}
