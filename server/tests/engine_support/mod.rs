//! Shared helpers of the engine tests: opening an engine in a temp dir,
//! bodies split into random pieces, collecting streams, walking pack files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use coffer_repo::ChunkerParams;
use coffer_server::backend::Store;
use coffer_server::engine::{
    BodyStream, Digests, Engine, EngineError, EngineOptions, EngineTuning, PutOptions, Verifier,
};
use futures::StreamExt;
use rand::{Rng, SeedableRng};

/// Small chunks so tests get many chunks from a few MiB.
pub fn small_chunker() -> ChunkerParams {
    ChunkerParams {
        min_size: 16 << 10,
        avg_size: 64 << 10,
        max_size: 256 << 10,
    }
}

pub fn options(dir: &Path, chunker: ChunkerParams) -> EngineOptions {
    EngineOptions {
        data_dir: dir.to_path_buf(),
        root_access_key: None,
        root_secret_key: None,
        zstd_level: 3,
        chunker,
        seal_threads: 2,
        clock_speedup: 1.0,
        clock_start: None,
    }
}

pub async fn open(dir: &Path) -> Engine {
    Engine::open(options(dir, small_chunker())).await.unwrap().0
}

pub async fn open_with(dir: &Path, store: Option<Arc<dyn Store>>, tuning: EngineTuning) -> Engine {
    Engine::open_with(options(dir, small_chunker()), store, tuning)
        .await
        .unwrap()
        .0
}

/// Deterministic data: half random, half repetitive (so zstd has work either way).
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = vec![0u8; len];
    rng.fill(&mut v[..]);
    for (i, chunk) in v.chunks_mut(8192).enumerate() {
        if i % 2 == 1 {
            let b = (i % 251) as u8;
            chunk.fill(b);
        }
    }
    v
}

/// `data` as a stream of random-sized pieces (1 byte .. 300 KiB).
pub fn body(data: &[u8], seed: u64) -> BodyStream {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let bytes = Bytes::copy_from_slice(data);
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = if rng.gen_bool(0.1) {
            rng.gen_range(1..64)
        } else {
            rng.gen_range(1..300 << 10)
        };
        let end = (at + n).min(bytes.len());
        pieces.push(Ok(bytes.slice(at..end)));
        at = end;
    }
    Box::pin(futures::stream::iter(pieces))
}

/// A body that yields `data` then fails.
pub fn failing_body(data: &[u8]) -> BodyStream {
    let bytes = Bytes::copy_from_slice(data);
    let items: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(bytes),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    Box::pin(futures::stream::iter(items))
}

pub fn ok_verify() -> Verifier {
    Box::new(|_: &Digests| Ok(()))
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

pub async fn put(
    engine: &Engine,
    bucket: &str,
    key: &str,
    data: &[u8],
) -> coffer_server::engine::ObjectInfo {
    let opts = PutOptions {
        expected_size: Some(data.len() as u64),
        ..PutOptions::default()
    };
    engine
        .put_object(
            bucket,
            key,
            body(data, data.len() as u64),
            opts,
            ok_verify(),
        )
        .await
        .unwrap()
}

/// A body that yields `first`, then waits until the returned sender fires (or
/// is dropped) before yielding `second`: lets a test act in the middle of a PUT.
pub fn gated_body(first: Bytes, second: Bytes) -> (BodyStream, tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stream = futures::stream::unfold((0, Some(rx)), move |(step, rx)| {
        let (first, second) = (first.clone(), second.clone());
        async move {
            match step {
                0 => Some((Ok::<_, std::io::Error>(first), (1, rx))),
                1 => {
                    if let Some(rx) = rx {
                        let _ = rx.await;
                    }
                    Some((Ok(second), (2, None)))
                }
                _ => None,
            }
        }
    });
    (Box::pin(stream), tx)
}

/// PUTs `bodies[i]` as `k{i}`, all at once, and waits for every one.
pub async fn put_all_concurrently(engine: &Engine, bucket: &str, bodies: &[Vec<u8>]) {
    let mut tasks = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        let (e, b, bucket) = (engine.clone(), b.clone(), bucket.to_owned());
        tasks.push(tokio::spawn(async move {
            put(&e, &bucket, &format!("k{i}"), &b).await
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

pub async fn collect(s: BodyStream) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    let mut s = s;
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b?);
    }
    Ok(out)
}

pub async fn get(engine: &Engine, bucket: &str, key: &str) -> Result<Vec<u8>, EngineError> {
    let info = engine.head_object(bucket, key, None)?;
    let s = engine.read_object(&info, None)?;
    collect(s).await.map_err(EngineError::Body)
}

/// Every regular file under `dir/packs` (recursively) with its size. Panics when
/// `dir/packs` or anything under it cannot be read: a missing pack root means the test
/// looks in the wrong place, and must not pass as "no packs".
pub fn pack_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    fn walk(p: &Path, out: &mut Vec<(PathBuf, u64)>) {
        let rd = std::fs::read_dir(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for e in rd {
            let e = e.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let path = e.path();
            let m = e
                .metadata()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if m.is_dir() {
                walk(&path, out);
            } else {
                out.push((path, m.len()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("packs"), &mut out);
    out.sort();
    out
}

pub fn pack_bytes(dir: &Path) -> u64 {
    pack_files(dir).iter().map(|(_, n)| n).sum()
}
