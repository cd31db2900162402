//! Coffer repository format (see `DESIGN.md` beside this crate): chunking, ids, sealing, packs,
//! index segments, manifests and keys. Pure byte-buffer code: no disk or network I/O.

mod chunk_stream;
mod chunker;
mod codec;
mod config;
mod envelope;
mod error;
mod id;
mod index;
mod keyfile;
mod keys;
mod keyslot;
mod manifest;
mod metadata;
mod pack;
mod random;
mod seal;

pub use chunk_stream::chunk_stream;
pub use chunker::StreamChunker;
pub use config::{ChunkerParams, RepoConfig};
pub use error::{Error, Result};
pub use id::{ChunkId, PackId};
pub use index::{IndexEntry, IndexSegment};
pub use keyfile::KeyFile;
pub use keys::{Keys, MasterKey};
pub use keyslot::{Argon2Params, KeySlot};
pub use manifest::{ChecksumAlgorithm, ChunkRef, Manifest};
pub use metadata::{open_metadata, seal_metadata};
pub use pack::{
    FinishedPack, PACK_MAGIC, PACK_TRAILER_LEN, PackBuilder, PackEntry, PackTrailer,
    pack_header_len, read_pack, read_pack_header, read_pack_trailer,
};
pub use seal::{ChunkKind, Compression, MAX_CHUNK_LEN, SealedChunk, open_chunk, seal_chunk};

/// Deterministic constructors for golden files and tests: every random input (keys, salts,
/// nonces) comes from a caller-supplied source instead of the OS. Never use outside tests:
/// a repeated source repeats nonces.
#[doc(hidden)]
pub mod testing {
    pub use crate::random::{DeterministicRandom, RandomSource};

    pub use crate::config::new_config_with_random as config_with_random;
    pub use crate::index::decode_segment_plain as index_segment_decode_plain;
    pub use crate::index::encode_segment_with_random as index_segment_encode_with_random;
    pub use crate::keys::master_key_with_random;
    pub use crate::keyslot::wrap_with_random as key_slot_wrap_with_random;
    pub use crate::manifest::encode_with_random as manifest_encode_with_random;
    pub use crate::metadata::seal_metadata_with_random;
    pub use crate::pack::decode_header_plain as pack_header_decode_plain;
    pub use crate::pack::finish_with_random as pack_finish_with_random;
    pub use crate::pack::generate_id_with_random as pack_id_with_random;
    pub use crate::seal::seal_chunk_with_random;
}
