//! Throughput of the hot paths: chunking, chunk ids, sealing (incompressible and text-like
//! data), opening, and the primitives under them. Every benchmark runs twice: `wall/…`
//! measures elapsed time, `cpu/…` the benchmark thread's CPU time, which is the per-core
//! figure even when other processes compete for the cores.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use bytes::Bytes;
use coffer_repo::{ChunkId, ChunkerParams, StreamChunker, open_chunk, seal_chunk};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const CHUNK: usize = 1 << 20;

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime(WallTime);

impl Measurement for ThreadCpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;
    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }
    fn end(&self, i: Self::Intermediate) -> Self::Value {
        i.elapsed()
    }
    fn add(&self, v1: &Self::Value, v2: &Self::Value) -> Self::Value {
        *v1 + *v2
    }
    fn zero(&self) -> Self::Value {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Self::Value) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

fn chunking<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let data = Bytes::from(common::pseudo_random(64 << 20, 1));
    let mut g = c.benchmark_group(format!("{prefix}/chunking"));
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.bench_function("fastcdc_default_64MiB", |b| {
        b.iter(|| StreamChunker::chunk_all(ChunkerParams::default(), data.clone()).len())
    });
    g.bench_function("fastcdc_default_64MiB_in_64KiB_pieces", |b| {
        b.iter(|| {
            let mut ch = StreamChunker::new(ChunkerParams::default());
            let mut n = 0;
            let mut rest = data.clone();
            while !rest.is_empty() {
                let piece = rest.split_to(rest.len().min(64 << 10));
                n += ch.push(piece).len();
            }
            n + ch.finish().len()
        })
    });
    g.finish();
}

fn ids<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let keys = common::keys();
    let data = common::pseudo_random(CHUNK, 2);
    let mut g = c.benchmark_group(format!("{prefix}/chunk_id"));
    g.throughput(Throughput::Bytes(CHUNK as u64));
    g.bench_function("keyed_blake3_1MiB", |b| {
        b.iter(|| ChunkId::compute(&keys, &data))
    });
    g.finish();
}

fn seal_open<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let keys = common::keys();
    let inputs = [
        ("incompressible", common::pseudo_random(CHUNK, 3)),
        ("text_like", common::text_like(CHUNK, 4)),
    ];
    let mut g = c.benchmark_group(format!("{prefix}/seal"));
    g.throughput(Throughput::Bytes(CHUNK as u64));
    for (name, data) in &inputs {
        let id = ChunkId::compute(&keys, data);
        g.bench_with_input(
            BenchmarkId::new("zstd3_aes256gcm_1MiB", name),
            data,
            |b, d| b.iter(|| seal_chunk(&keys, &id, d, 3).unwrap()),
        );
    }
    g.finish();
    let mut g = c.benchmark_group(format!("{prefix}/open"));
    g.throughput(Throughput::Bytes(CHUNK as u64));
    for (name, data) in &inputs {
        let id = ChunkId::compute(&keys, data);
        let s = seal_chunk(&keys, &id, data, 3).unwrap();
        println!(
            "{name}: sealed {} -> {} bytes ({:?})",
            data.len(),
            s.bytes.len(),
            s.compression
        );
        g.bench_with_input(BenchmarkId::new("1MiB", name), &s, |b, s| {
            b.iter(|| open_chunk(&keys, &id, &s.bytes, s.compression, s.plain_len).unwrap())
        });
    }
    g.finish();
}

/// The building blocks alone, to show what limits seal and open.
fn primitives<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    use aes_gcm::aead::AeadInOut;
    use aes_gcm::{Aes256Gcm, KeyInit};
    let random = common::pseudo_random(CHUNK, 5);
    let text = common::text_like(CHUNK, 6);
    let mut g = c.benchmark_group(format!("{prefix}/primitives"));
    g.throughput(Throughput::Bytes(CHUNK as u64));
    let cipher = Aes256Gcm::new(&[7u8; 32].into());
    let mut buf = random.clone();
    g.bench_function("aes256gcm_encrypt_in_place_1MiB", |b| {
        b.iter(|| {
            cipher
                .encrypt_inout_detached(&[0u8; 12].into(), b"", buf.as_mut_slice().into())
                .unwrap()
        })
    });
    g.bench_function("memcpy_1MiB", |b| b.iter(|| random.to_vec()));
    let mut out = vec![0u8; CHUNK];
    let mut cctx = zstd::bulk::Compressor::new(3).unwrap();
    for (name, data) in [("incompressible", &random), ("text_like", &text)] {
        g.bench_with_input(
            BenchmarkId::new("zstd3_compress_1MiB", name),
            data,
            |b, d| {
                b.iter(|| {
                    cctx.compress_to_buffer(d, &mut out[..CHUNK * 97 / 100])
                        .is_ok()
                })
            },
        );
    }
    for (name, data) in [("incompressible", &random), ("text_like", &text)] {
        g.bench_with_input(
            BenchmarkId::new("zstd3_compress_fresh_context_1MiB", name),
            data,
            |b, d| {
                b.iter(|| {
                    zstd::bulk::compress_to_buffer(d, &mut out[..CHUNK * 97 / 100], 3).is_ok()
                })
            },
        );
    }
    let compressed = zstd::bulk::compress(&text, 3).unwrap();
    let mut dctx = zstd::bulk::Decompressor::new().unwrap();
    g.bench_function("zstd_decompress_1MiB/text_like", |b| {
        b.iter(|| dctx.decompress_to_buffer(&compressed, &mut out).unwrap())
    });
    g.bench_function("zstd_decompress_fresh_context_1MiB/text_like", |b| {
        b.iter(|| {
            zstd::bulk::Decompressor::new()
                .unwrap()
                .decompress_to_buffer(&compressed, &mut out)
                .unwrap()
        })
    });
    g.finish();
}

fn all<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    chunking(c, prefix);
    ids(c, prefix);
    seal_open(c, prefix);
    primitives(c, prefix);
}

fn wall(c: &mut Criterion) {
    all(c, "wall");
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    all(c, "cpu");
}

criterion_group!(wall_clock, wall);
criterion_group! {
    name = thread_cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime(WallTime));
    targets = cpu
}
criterion_main!(wall_clock, thread_cpu);
