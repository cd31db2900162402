//! The raw key-file text encoding: `coffer-master-key v1\n<base64 of 32 bytes>\n`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::keys::MasterKey;
use crate::{Error, Result};

const HEADER: &str = "coffer-master-key v1";

/// Encodes and parses key files; the caller reads the file and hands over its bytes and mode.
#[derive(Debug)]
pub struct KeyFile;

impl KeyFile {
    /// The file's full text.
    pub fn encode(key: &MasterKey) -> Vec<u8> {
        let b64 = Zeroizing::new(STANDARD.encode(key.expose()));
        let mut out = Vec::with_capacity(HEADER.len() + b64.len() + 2);
        out.extend_from_slice(HEADER.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(b64.as_bytes());
        out.push(b'\n');
        out
    }

    /// Parses a key file. `unix_mode` is the file's `st_mode`: any group or other permission
    /// bit is refused, since whoever can read the file can read the whole repository.
    pub fn decode(bytes: &[u8], unix_mode: u32) -> Result<MasterKey> {
        if unix_mode & 0o077 != 0 {
            return Err(Error::KeyFilePermissions {
                mode: unix_mode & 0o7777,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Error::InvalidKeyFile("not UTF-8"))?;
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some(HEADER) {
            return Err(Error::InvalidKeyFile(
                "first line is not \"coffer-master-key v1\"",
            ));
        }
        let b64 = lines
            .next()
            .map(str::trim)
            .ok_or(Error::InvalidKeyFile("missing key line"))?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(Error::InvalidKeyFile("unexpected text after the key"));
        }
        let raw = Zeroizing::new(
            STANDARD
                .decode(b64)
                .map_err(|_| Error::InvalidKeyFile("key line is not base64"))?,
        );
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| Error::InvalidKeyFile("key is not 32 bytes"))?;
        Ok(MasterKey::from_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let key = MasterKey::from_bytes([9; 32]);
        let text = KeyFile::encode(&key);
        assert!(text.starts_with(b"coffer-master-key v1\n"));
        assert_eq!(KeyFile::decode(&text, 0o100600).unwrap(), key);
        assert_eq!(KeyFile::decode(&text, 0o400).unwrap(), key);
    }

    #[test]
    fn refuses_group_or_other_access() {
        let text = KeyFile::encode(&MasterKey::from_bytes([9; 32]));
        for mode in [0o100640, 0o644, 0o604, 0o610, 0o601, 0o660] {
            let err = KeyFile::decode(&text, mode).unwrap_err();
            assert!(matches!(err, Error::KeyFilePermissions { .. }), "{mode:o}");
            assert!(err.to_string().contains("chmod 600"));
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(KeyFile::decode(b"", 0o600).is_err());
        assert!(KeyFile::decode(b"coffer-master-key v1\n", 0o600).is_err());
        assert!(KeyFile::decode(b"coffer-master-key v1\nAAAA\n", 0o600).is_err());
        assert!(KeyFile::decode(b"coffer-master-key v2\nAAAA\n", 0o600).is_err());
        let mut text = KeyFile::encode(&MasterKey::from_bytes([1; 32]));
        text.extend_from_slice(b"more\n");
        assert!(KeyFile::decode(&text, 0o600).is_err());
    }
}
