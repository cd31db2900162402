//! Push-based FastCDC v2020 chunker whose cut points do not depend on how the input is split.
//!
//! Cut points equal those of `fastcdc::v2020::FastCDC` over the whole stream (normalization
//! level 1, no seed). That function decides a cut from at most `max_size` bytes after the
//! chunk start, but it looks at fewer when fewer remain, so a cut is computed only once a full
//! `max_size` window is buffered, or at end of stream.

use bytes::{Buf, Bytes, BytesMut};
use fastcdc::v2020::{MASKS, Normalization, cut};

use crate::Result;
use crate::config::ChunkerParams;

/// Masks and sizes fixed for one parameter set.
#[derive(Debug, Clone, Copy)]
struct Cutter {
    min: usize,
    avg: usize,
    max: usize,
    mask_s: u64,
    mask_l: u64,
}

impl Cutter {
    fn new(p: ChunkerParams) -> Self {
        // Mirrors `FastCDC::with_level(.., Normalization::Level1)`, without its asserts.
        let bits = fastcdc::v2020::logarithm2(p.avg_size);
        let norm = Normalization::Level1.bits();
        Self {
            min: p.min_size as usize,
            avg: p.avg_size as usize,
            max: p.max_size as usize,
            mask_s: MASKS[(bits + norm) as usize],
            mask_l: MASKS[(bits - norm) as usize],
        }
    }

    /// Length of the next chunk at the start of `window`.
    fn next_len(&self, window: &[u8]) -> usize {
        let (_, len) = cut(
            window,
            self.min,
            self.avg,
            self.max,
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
        );
        len
    }
}

/// Cuts a byte stream fed in pieces of any size into content-defined chunks.
#[derive(Debug)]
pub struct StreamChunker {
    cutter: Cutter,
    /// Bytes not yet in a chunk; always fewer than `max_size` between calls.
    pending: BytesMut,
}

impl StreamChunker {
    /// A chunker for `params`. Out-of-range parameters are clamped into FastCDC's supported
    /// ranges (use [`StreamChunker::try_new`] to reject them instead); repository configs are
    /// validated on decode, so this only matters for hand-made parameters.
    pub fn new(params: ChunkerParams) -> Self {
        use fastcdc::v2020::{
            AVERAGE_MAX, AVERAGE_MIN, MAXIMUM_MAX, MAXIMUM_MIN, MINIMUM_MAX, MINIMUM_MIN,
        };
        let min_size = params.min_size.clamp(MINIMUM_MIN, MINIMUM_MAX);
        let avg_size = params
            .avg_size
            .clamp(AVERAGE_MIN.max(min_size), AVERAGE_MAX);
        let max_size = params
            .max_size
            .clamp(MAXIMUM_MIN.max(avg_size), MAXIMUM_MAX);
        Self::build(ChunkerParams {
            min_size,
            avg_size,
            max_size,
        })
    }

    /// A chunker for `params`, or an error if they are out of range.
    pub fn try_new(params: ChunkerParams) -> Result<Self> {
        params.validate()?;
        Ok(Self::build(params))
    }

    fn build(params: ChunkerParams) -> Self {
        Self {
            cutter: Cutter::new(params),
            pending: BytesMut::new(),
        }
    }

    /// Feeds the next piece; returns every chunk completed by it, in order. Chunks lying
    /// entirely inside `data` are zero-copy slices of it.
    pub fn push(&mut self, mut data: Bytes) -> Vec<Bytes> {
        let max = self.cutter.max;
        let mut out = Vec::new();
        loop {
            if self.pending.is_empty() {
                while data.len() >= max {
                    let len = self.cutter.next_len(&data[..max]);
                    out.push(data.split_to(len));
                }
                self.pending.extend_from_slice(&data);
                return out;
            }
            let carried = self.pending.len();
            let need = max - carried;
            if data.len() < need {
                self.pending.extend_from_slice(&data);
                return out;
            }
            self.pending.extend_from_slice(&data[..need]);
            let len = self.cutter.next_len(&self.pending);
            out.push(self.pending.split_to(len).freeze());
            if len >= carried {
                // The rest of the window came from `data`: continue from `data` itself so the
                // following chunks can be slices of it.
                data.advance(len - carried);
                self.pending.clear();
            } else {
                data.advance(need);
            }
        }
    }

    /// Ends the stream: the remaining bytes (fewer than `max_size`) cut the way FastCDC cuts
    /// the end of its input — possibly several chunks, the last one possibly short.
    pub fn finish(self) -> Vec<Bytes> {
        let mut rest = self.pending.freeze();
        let mut out = Vec::new();
        while !rest.is_empty() {
            let len = self.cutter.next_len(&rest).max(1);
            out.push(rest.split_to(len));
        }
        out
    }

    /// All chunks of an in-memory buffer (same cut points as feeding it piece by piece).
    pub fn chunk_all(params: ChunkerParams, data: Bytes) -> Vec<Bytes> {
        let mut c = Self::new(params);
        let mut out = c.push(data);
        out.extend(c.finish());
        out
    }

    /// Bytes buffered and not yet part of a returned chunk.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
        let mut out = vec![0u8; len];
        let mut h = blake3::Hasher::new();
        h.update(&seed.to_le_bytes());
        h.finalize_xof().fill(&mut out);
        out
    }

    fn small() -> ChunkerParams {
        ChunkerParams {
            min_size: 1024,
            avg_size: 4096,
            max_size: 16384,
        }
    }

    #[test]
    fn matches_fastcdc_reference() {
        let data = pseudo_random(1 << 20, 1);
        let p = small();
        let reference: Vec<usize> =
            fastcdc::v2020::FastCDC::new(&data, p.min_size, p.avg_size, p.max_size)
                .map(|c| c.length)
                .collect();
        let ours: Vec<usize> = StreamChunker::chunk_all(p, Bytes::from(data.clone()))
            .iter()
            .map(Bytes::len)
            .collect();
        assert_eq!(ours, reference);
        assert!(reference.len() > 100);
    }

    #[test]
    fn piece_sizes_do_not_matter() {
        let data = pseudo_random(300_000, 2);
        let p = small();
        let whole = StreamChunker::chunk_all(p, Bytes::from(data.clone()));
        for piece in [1usize, 7, 1000, 4096, 16383, 16384, 16385, 100_000] {
            let mut c = StreamChunker::new(p);
            let mut got = Vec::new();
            for part in data.chunks(piece) {
                got.extend(c.push(Bytes::copy_from_slice(part)));
                assert!(c.buffered() < p.max_size as usize);
            }
            got.extend(c.finish());
            assert_eq!(got, whole, "piece size {piece}");
        }
    }

    #[test]
    fn zeros_cut_at_max_and_empty_input_gives_nothing() {
        let p = small();
        let chunks = StreamChunker::chunk_all(p, Bytes::from(vec![0u8; 40_000]));
        let lens: Vec<usize> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(lens, vec![16384, 16384, 40_000 - 32768]);
        assert!(StreamChunker::chunk_all(p, Bytes::new()).is_empty());
    }

    #[test]
    fn invalid_params_do_not_panic() {
        let mut c = StreamChunker::new(ChunkerParams {
            min_size: 0,
            avg_size: 0,
            max_size: 0,
        });
        let _ = c.push(Bytes::from(vec![1u8; 10_000]));
        let _ = c.finish();
        assert!(
            StreamChunker::try_new(ChunkerParams {
                min_size: 0,
                avg_size: 0,
                max_size: 0
            })
            .is_err()
        );
    }
}
