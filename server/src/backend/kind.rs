//! What a store holds: the kinds of repository objects and their ids.
//!
//! Every object of the repository is addressed by `(kind, id)`. The kind decides where a
//! store keeps it (a subfolder, a key prefix); the id is a short ASCII name that is safe
//! as a file name and as an S3 key segment, fixed before the object is written.

use std::fmt;

use coffer_repo::PackId;

use super::error::{StoreError, StoreResult};

/// The kinds of objects a repository keeps in its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// A pack of sealed chunks (id: 64 hex characters).
    Pack,
    /// A sealed index segment.
    IndexSegment,
    /// A sealed journal segment.
    JournalSegment,
    /// The repository config (one object, [`ObjectId::repo_config`]).
    Config,
    /// A passphrase-wrapped copy of the master key.
    KeySlot,
}

impl ObjectKind {
    /// Every kind, for tests and tools that walk a whole store.
    pub const ALL: [ObjectKind; 5] = [
        ObjectKind::Pack,
        ObjectKind::IndexSegment,
        ObjectKind::JournalSegment,
        ObjectKind::Config,
        ObjectKind::KeySlot,
    ];

    /// The folder (local store) or key prefix (remote stores) of the kind. Stored
    /// forever: never rename one.
    pub fn folder(self) -> &'static str {
        match self {
            ObjectKind::Pack => "packs",
            ObjectKind::IndexSegment => "index",
            ObjectKind::JournalSegment => "journal",
            ObjectKind::Config => "config",
            ObjectKind::KeySlot => "keys",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Pack => "pack",
            ObjectKind::IndexSegment => "index segment",
            ObjectKind::JournalSegment => "journal segment",
            ObjectKind::Config => "config",
            ObjectKind::KeySlot => "key slot",
        })
    }
}

/// Longest accepted object id.
pub const MAX_ID_LEN: usize = 128;

/// The name of an object within its kind: 2 to [`MAX_ID_LEN`] characters of
/// `[0-9a-z_-]`, so it is a valid file name and S3 key segment everywhere and a local
/// store can fan packs out by the first two characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(String);

impl ObjectId {
    /// Checks and wraps a name.
    pub fn new(name: impl Into<String>) -> StoreResult<Self> {
        let name = name.into();
        let ok = (2..=MAX_ID_LEN).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'_' || b == b'-');
        if ok {
            Ok(ObjectId(name))
        } else {
            Err(StoreError::InvalidId(name))
        }
    }

    /// The name of a pack: its id in lowercase hex.
    pub fn pack(id: &PackId) -> Self {
        ObjectId(id.to_hex())
    }

    /// The name of the repository config object.
    pub fn repo_config() -> Self {
        ObjectId("repo".to_owned())
    }

    /// The pack id this name spells, if it is one.
    pub fn to_pack_id(&self) -> Option<PackId> {
        PackId::from_hex(&self.0).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&PackId> for ObjectId {
    fn from(id: &PackId) -> Self {
        ObjectId::pack(id)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        for ok in ["ab", "repo", "0123-slot_a", &"f".repeat(MAX_ID_LEN)] {
            assert_eq!(ObjectId::new(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "a",
            "A1",
            "../x",
            "a/b",
            ".tmp",
            "x y",
            &"f".repeat(MAX_ID_LEN + 1),
        ] {
            assert!(
                matches!(ObjectId::new(bad), Err(StoreError::InvalidId(_))),
                "{bad}"
            );
        }
        let p = PackId([0xab; 32]);
        assert_eq!(ObjectId::pack(&p).to_pack_id(), Some(p));
        assert_eq!(ObjectId::repo_config().to_pack_id(), None);
    }
}
