//! The crate's single error type: every decoder and codec reports through it.

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong while encoding, decoding, sealing or opening repository data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The structure was written by a newer Coffer than this one.
    #[error(
        "{structure} has format version {found}, which is newer than this build supports \
         (up to {supported}); upgrade Coffer to read it"
    )]
    UnsupportedVersion {
        structure: &'static str,
        found: u8,
        supported: u8,
    },
    /// The input ends before the structure does.
    #[error("{structure} is truncated")]
    Truncated { structure: &'static str },
    /// The bytes do not follow the layout of the structure.
    #[error("{structure} is malformed: {reason}")]
    Malformed {
        structure: &'static str,
        reason: &'static str,
    },
    /// The pack does not end with the pack magic.
    #[error("not a Coffer pack: bad magic in trailer")]
    BadMagic,
    /// A version 1 pack's bytes do not hash to the name it was read under (renamed, swapped
    /// or corrupted).
    #[error("pack does not match its name: renamed, swapped or corrupted")]
    PackIdMismatch,
    /// AES-GCM rejected the data: it was corrupted, tampered with, or sealed under another key.
    #[error(
        "{structure} failed authentication: corrupted, tampered with, or sealed under a different key"
    )]
    Authentication { structure: &'static str },
    /// A plaintext checksum did not match (unencrypted structures such as key slots and config).
    #[error("{structure} checksum mismatch: the bytes are corrupted")]
    ChecksumMismatch { structure: &'static str },
    /// The passphrase does not unlock this key slot.
    #[error("wrong passphrase for this key slot")]
    WrongPassphrase,
    /// The key file is readable by group or others.
    #[error(
        "key file permissions {mode:#o} are too open: it must not be readable or writable by \
         group or others (chmod 600)"
    )]
    KeyFilePermissions { mode: u32 },
    /// The key file is not a Coffer key file.
    #[error("invalid key file: {0}")]
    InvalidKeyFile(&'static str),
    /// Chunker parameters out of the range FastCDC supports.
    #[error("invalid chunker parameters: {0}")]
    InvalidChunkerParams(&'static str),
    /// Argon2 parameters rejected.
    #[error("invalid Argon2 parameters: {0}")]
    InvalidArgon2Params(String),
    /// Invalid zstd level in a configuration.
    #[error("invalid zstd level {0}")]
    InvalidZstdLevel(i32),
    /// A chunk larger than [`crate::MAX_CHUNK_LEN`].
    #[error("chunk of {len} bytes exceeds the maximum of {max}")]
    ChunkTooLarge { len: usize, max: usize },
    /// zstd failed (compression) or produced unexpected output (decompression).
    #[error("zstd {0}")]
    Compression(String),
    /// A hex string is not a 32-byte id.
    #[error("invalid hex id")]
    InvalidHex,
    /// The OS random source failed.
    #[error("OS random number generator failed: {0}")]
    Random(String),
}
