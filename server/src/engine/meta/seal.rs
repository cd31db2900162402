//! Sealing of record values under the repository's metadata key, bound to
//! the table and index key they are stored under.
//!
//! Object versions, multipart uploads and parts keep their clear header
//! (version byte, flags, sequence numbers, times: what ordering and version
//! ids need, and what the index key already reveals) followed by one
//! AES-256-GCM envelope (`coffer_repo::seal_metadata`) holding everything a
//! client sent or that is derived from content: size, ETag, checksums,
//! content type, system and user metadata, part sizes, chunk list. The
//! envelope's context names the table, the index key and the clear header,
//! so a sealed value moved to another key (another object, version, upload
//! or part), or a header byte changed beside it, fails to open instead of
//! showing another object's metadata. Byte layouts: `repo-format/DESIGN.md`,
//! section 7.1.

use coffer_repo::Keys;

use super::error::MetaError;
use crate::engine::error::EngineResult;

/// The start of every record context: keeps these contexts apart from the
/// other metadata blobs sealed under the same key (access-key secrets use
/// `coffer access key secret\0`).
const CONTEXT_LABEL: &[u8] = b"coffer meta record v2\0";

/// Seals and opens record values; cheap to clone (`Keys` shares its bytes).
#[derive(Clone)]
pub(crate) struct RecordSealer {
    keys: Keys,
}

impl std::fmt::Debug for RecordSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSealer").finish_non_exhaustive()
    }
}

/// Where a sealed value lives: its table and its index key, plus the clear
/// header stored in front of it (authenticated with it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    pub table: &'static str,
    pub key: &'a [u8],
    pub header: &'a [u8],
}

impl Place<'_> {
    /// `label ‖ table ‖ 00 ‖ u32 BE len(key) ‖ key ‖ header`. The table name
    /// holds no NUL and the key is length-prefixed, so no two places share
    /// a context.
    fn context(&self) -> Vec<u8> {
        let mut c = Vec::with_capacity(
            CONTEXT_LABEL.len() + self.table.len() + 5 + self.key.len() + self.header.len(),
        );
        c.extend_from_slice(CONTEXT_LABEL);
        c.extend_from_slice(self.table.as_bytes());
        c.push(0);
        // Index keys are bounded (object keys ≤ 1 KiB), far below 4 GiB.
        c.extend_from_slice(
            &u32::try_from(self.key.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        c.extend_from_slice(self.key);
        c.extend_from_slice(self.header);
        c
    }
}

impl RecordSealer {
    pub fn new(keys: Keys) -> Self {
        RecordSealer { keys }
    }

    /// The envelope of `plaintext` for `place`.
    pub fn seal(&self, place: Place<'_>, plaintext: &[u8]) -> EngineResult<Vec<u8>> {
        Ok(coffer_repo::seal_metadata(
            &self.keys,
            &place.context(),
            plaintext,
        )?)
    }

    /// Opens an envelope sealed for `place`; `what` names the record in the
    /// error. A value moved from another place, tampered with, or sealed
    /// under another key is [`MetaError::Unsealable`]; a value too short to
    /// be an envelope is [`MetaError::Corrupt`].
    pub fn open(
        &self,
        what: &'static str,
        place: Place<'_>,
        sealed: &[u8],
    ) -> EngineResult<Vec<u8>> {
        coffer_repo::open_metadata(&self.keys, &place.context(), sealed).map_err(|e| {
            match e {
                coffer_repo::Error::Authentication { .. } => MetaError::Unsealable(what),
                _ => MetaError::Corrupt(what),
            }
            .at("open sealed record")
        })
    }
}

/// Whether `e` is the error [`RecordSealer::open`] gives for a value that
/// does not belong where it is stored (tests).
#[cfg(test)]
pub(crate) fn is_unsealable(e: &crate::engine::EngineError) -> bool {
    matches!(
        e,
        crate::engine::EngineError::Meta {
            source: MetaError::Unsealable(_),
            ..
        }
    )
}

#[cfg(test)]
pub(crate) fn test_sealer() -> RecordSealer {
    RecordSealer::new(Keys::derive(&coffer_repo::MasterKey::from_bytes([7; 32])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineError;

    #[test]
    fn a_value_opens_only_in_its_place() {
        let s = test_sealer();
        let here = Place {
            table: "versions",
            key: b"bkt\0k\0\0\x01",
            header: &[2, 0],
        };
        let sealed = s.seal(here, b"manifest").unwrap();
        assert_eq!(
            s.open("object version", here, &sealed).unwrap(),
            b"manifest"
        );
        for other in [
            Place {
                key: b"bkt\0k\0\0\x02",
                ..here
            },
            Place {
                table: "uploads",
                ..here
            },
            Place {
                header: &[2, 1],
                ..here
            },
        ] {
            assert!(is_unsealable(
                &s.open("object version", other, &sealed).unwrap_err()
            ));
        }
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(is_unsealable(
            &s.open("object version", here, &bad).unwrap_err()
        ));
        assert!(matches!(
            s.open("object version", here, &sealed[..10]),
            Err(EngineError::Meta {
                source: MetaError::Corrupt(_),
                ..
            })
        ));
        let other_keys =
            RecordSealer::new(Keys::derive(&coffer_repo::MasterKey::from_bytes([8; 32])));
        assert!(is_unsealable(
            &other_keys
                .open("object version", here, &sealed)
                .unwrap_err()
        ));
    }

    /// The table name and the key cannot trade bytes: the key is length-prefixed.
    #[test]
    fn contexts_are_unambiguous() {
        let a = Place {
            table: "parts",
            key: b"ab",
            header: b"c",
        };
        let b = Place {
            table: "parts",
            key: b"a",
            header: b"bc",
        };
        assert_ne!(a.context(), b.context());
    }
}
