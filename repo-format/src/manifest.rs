//! Object-version manifests: size, ETag, checksums, content type, metadata and the ordered
//! chunk references. A plain versioned codec for the local store, and an encrypted form
//! (the plain bytes sealed under the metadata key) journalled to storage.

use crate::Result;
use crate::codec::{Reader, Writer, check_version};
use crate::envelope::{self, Purpose};
use crate::id::ChunkId;
use crate::keys::Keys;
use crate::random::{OsRandom, RandomSource};

const MANIFEST_VERSION: u8 = 1;
const STRUCTURE: &str = "manifest";
const CHUNK_REF_LEN: usize = 32 + 8 + 4;

/// S3 additional checksum algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ChecksumAlgorithm {
    Crc32 = 0,
    Crc32c = 1,
    Sha1 = 2,
    Sha256 = 3,
    Crc64Nvme = 4,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in code order.
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Sha1,
        Self::Sha256,
        Self::Crc64Nvme,
    ];

    /// The S3 name (`CRC32`, `CRC32C`, `SHA1`, `SHA256`, `CRC64NVME`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Crc64Nvme => "CRC64NVME",
        }
    }

    /// Parses an S3 name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }
}

impl TryFrom<u8> for ChecksumAlgorithm {
    type Error = ();
    fn try_from(v: u8) -> std::result::Result<Self, ()> {
        Self::ALL.get(usize::from(v)).copied().ok_or(())
    }
}

/// One chunk of an object, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkRef {
    pub id: ChunkId,
    /// Logical offset of the chunk in the object.
    pub offset: u64,
    pub len: u32,
}

/// One object version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub size: u64,
    /// As S3 shows it, without quotes (`<md5hex>` or `<md5hex>-N`).
    pub etag: String,
    pub checksums: Vec<(ChecksumAlgorithm, Vec<u8>)>,
    /// False = multipart COMPOSITE.
    pub checksum_type_full_object: bool,
    pub content_type: Option<String>,
    /// cache-control, content-disposition, content-encoding, content-language, expires, …
    pub system_metadata: Vec<(String, String)>,
    /// `x-amz-meta-*`, name without the prefix.
    pub user_metadata: Vec<(String, String)>,
    /// Empty for a single PUT; multipart part sizes.
    pub part_sizes: Vec<u64>,
    pub chunks: Vec<ChunkRef>,
}

fn write_pairs(w: &mut Writer, pairs: &[(String, String)]) {
    w.varint(pairs.len() as u64);
    for (k, v) in pairs {
        w.blob(k.as_bytes());
        w.blob(v.as_bytes());
    }
}

fn read_pairs(r: &mut Reader<'_>) -> Result<Vec<(String, String)>> {
    let n = r.count(2)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push((r.string()?, r.string()?));
    }
    Ok(out)
}

impl Manifest {
    /// Versioned binary form for the local metadata store (not encrypted).
    pub fn encode_plain(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64 + self.etag.len() + self.chunks.len() * CHUNK_REF_LEN);
        w.u8(MANIFEST_VERSION);
        w.varint(self.size);
        w.blob(self.etag.as_bytes());
        w.u8(u8::from(self.checksum_type_full_object));
        w.varint(self.checksums.len() as u64);
        for (alg, value) in &self.checksums {
            w.u8(*alg as u8);
            w.blob(value);
        }
        match &self.content_type {
            None => w.u8(0),
            Some(ct) => {
                w.u8(1);
                w.blob(ct.as_bytes());
            }
        }
        write_pairs(&mut w, &self.system_metadata);
        write_pairs(&mut w, &self.user_metadata);
        w.varint(self.part_sizes.len() as u64);
        for p in &self.part_sizes {
            w.varint(*p);
        }
        w.varint(self.chunks.len() as u64);
        for c in &self.chunks {
            w.bytes(&c.id.0);
            w.u64(c.offset);
            w.u32(c.len);
        }
        w.into_inner()
    }

    /// Parses [`Manifest::encode_plain`] output.
    pub fn decode_plain(b: &[u8]) -> Result<Self> {
        let mut r = Reader::new(b, STRUCTURE);
        check_version(STRUCTURE, r.u8()?, MANIFEST_VERSION)?;
        let size = r.varint()?;
        let etag = r.string()?;
        let checksum_type_full_object = r.bool()?;
        let n = r.count(2)?;
        let mut checksums = Vec::with_capacity(n);
        for _ in 0..n {
            let alg = ChecksumAlgorithm::try_from(r.u8()?)
                .map_err(|_| r.malformed("unknown checksum algorithm"))?;
            checksums.push((alg, r.blob()?.to_vec()));
        }
        let content_type = match r.u8()? {
            0 => None,
            1 => Some(r.string()?),
            _ => return Err(r.malformed("content-type flag is not 0 or 1")),
        };
        let system_metadata = read_pairs(&mut r)?;
        let user_metadata = read_pairs(&mut r)?;
        let n = r.count(1)?;
        let mut part_sizes = Vec::with_capacity(n);
        for _ in 0..n {
            part_sizes.push(r.varint()?);
        }
        let n = r.count(CHUNK_REF_LEN)?;
        let mut chunks = Vec::with_capacity(n);
        for _ in 0..n {
            chunks.push(ChunkRef {
                id: ChunkId(r.array()?),
                offset: r.u64()?,
                len: r.u32()?,
            });
        }
        r.finish()?;
        Ok(Self {
            size,
            etag,
            checksums,
            checksum_type_full_object,
            content_type,
            system_metadata,
            user_metadata,
            part_sizes,
            chunks,
        })
    }

    /// The plain form sealed under the metadata key (the AES-GCM tag is the checksum).
    /// Same as [`Manifest::encode_bound`] with an empty context.
    pub fn encode(&self, keys: &Keys) -> Result<Vec<u8>> {
        self.encode_bound(keys, &[])
    }

    /// Authenticates and parses [`Manifest::encode`] output.
    pub fn decode(keys: &Keys, b: &[u8]) -> Result<Self> {
        Self::decode_bound(keys, &[], b)
    }

    /// Sealed and bound to `context` (e.g. bucket, key and version id): it then opens only
    /// with the same context, so whoever holds the storage cannot swap two objects'
    /// manifests without detection.
    pub fn encode_bound(&self, keys: &Keys, context: &[u8]) -> Result<Vec<u8>> {
        encode_with_random(self, keys, context, &mut OsRandom)
    }

    /// Authenticates and parses [`Manifest::encode_bound`] output for `context`.
    pub fn decode_bound(keys: &Keys, context: &[u8], b: &[u8]) -> Result<Self> {
        let plain = envelope::open(keys.metadata_key(), Purpose::Manifest, context, b)?;
        Self::decode_plain(&plain)
    }
}

/// [`Manifest::encode`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn encode_with_random(
    manifest: &Manifest,
    keys: &Keys,
    context: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    envelope::seal(
        keys.metadata_key(),
        Purpose::Manifest,
        context,
        &manifest.encode_plain(),
        rng,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    fn sample() -> Manifest {
        Manifest {
            size: 3_000_000,
            etag: "9e107d9d372bb6826bd81d3542a419d6-2".into(),
            checksums: vec![(ChecksumAlgorithm::Crc32c, vec![1, 2, 3, 4])],
            checksum_type_full_object: false,
            content_type: Some("application/octet-stream".into()),
            system_metadata: vec![("cache-control".into(), "no-cache".into())],
            user_metadata: vec![("owner".into(), "ops ünïcode".into())],
            part_sizes: vec![2_000_000, 1_000_000],
            chunks: vec![
                ChunkRef {
                    id: ChunkId([1; 32]),
                    offset: 0,
                    len: 1_500_000,
                },
                ChunkRef {
                    id: ChunkId([2; 32]),
                    offset: 1_500_000,
                    len: 1_500_000,
                },
            ],
        }
    }

    #[test]
    fn round_trips() {
        let m = sample();
        assert_eq!(Manifest::decode_plain(&m.encode_plain()).unwrap(), m);
        let keys = Keys::derive(&MasterKey::from_bytes([9; 32]));
        assert_eq!(
            Manifest::decode(&keys, &m.encode(&keys).unwrap()).unwrap(),
            m
        );
        let bound = m.encode_bound(&keys, b"bucket/key/v1").unwrap();
        assert_eq!(
            Manifest::decode_bound(&keys, b"bucket/key/v1", &bound).unwrap(),
            m
        );
        assert!(Manifest::decode_bound(&keys, b"bucket/key/v2", &bound).is_err());
        assert!(Manifest::decode(&keys, &bound).is_err());
        let d = Manifest::default();
        assert_eq!(Manifest::decode_plain(&d.encode_plain()).unwrap(), d);
    }

    #[test]
    fn checksum_names() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(a.as_str()), Some(a));
            assert_eq!(ChecksumAlgorithm::try_from(a as u8), Ok(a));
        }
        assert_eq!(
            ChecksumAlgorithm::from_name("crc32c"),
            Some(ChecksumAlgorithm::Crc32c)
        );
        assert_eq!(ChecksumAlgorithm::from_name("md5"), None);
    }
}
