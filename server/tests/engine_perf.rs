//! Throughput figures of the engine alone (no HTTP): large PUT/GET MB/s and
//! small-PUT ops/s. A measurement, not a check: run explicitly with
//! `cargo test -p coffer-server --release --test engine_perf -- --ignored --nocapture`.

mod engine_support;

use std::time::Instant;

use coffer_repo::ChunkerParams;
use coffer_server::engine::{Engine, PutOptions};
use engine_support::*;
use rand::{RngCore, SeedableRng};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn throughput() {
    let dir =
        tempfile::tempdir_in(std::env::var("PERF_DIR").unwrap_or_else(|_| ".".into())).unwrap();
    let e = Engine::open(options(dir.path(), ChunkerParams::default()))
        .await
        .unwrap()
        .0;
    e.create_bucket("bkt").unwrap();
    let mb: usize = std::env::var("PERF_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let mut payload = vec![0u8; mb << 20];
    rand::rngs::StdRng::seed_from_u64(1).fill_bytes(&mut payload);
    let payload = bytes::Bytes::from(payload);
    let pieces = || -> Vec<Result<bytes::Bytes, std::io::Error>> {
        (0..payload.len())
            .step_by(64 << 10)
            .map(|i| Ok(payload.slice(i..(i + (64 << 10)).min(payload.len()))))
            .collect()
    };

    let t = Instant::now();
    let opts = PutOptions {
        expected_size: Some(payload.len() as u64),
        ..PutOptions::default()
    };
    e.put_object(
        "bkt",
        "big",
        Box::pin(futures::stream::iter(pieces())),
        opts,
        ok_verify(),
    )
    .await
    .unwrap();
    let put_s = t.elapsed().as_secs_f64();
    println!(
        "PUT {mb} MiB random: {:.0} MB/s",
        payload.len() as f64 / put_s / 1e6
    );

    let t = Instant::now();
    let info = e.head_object("bkt", "big", None).unwrap();
    let mut s = e.read_object(&info, None).unwrap();
    let mut n = 0usize;
    while let Some(b) = futures::StreamExt::next(&mut s).await {
        n += b.unwrap().len();
    }
    assert_eq!(n, payload.len());
    println!(
        "GET {mb} MiB: {:.0} MB/s",
        n as f64 / t.elapsed().as_secs_f64() / 1e6
    );

    let t = Instant::now();
    let opts = PutOptions {
        expected_size: Some(payload.len() as u64),
        ..PutOptions::default()
    };
    e.put_object(
        "bkt",
        "big2",
        Box::pin(futures::stream::iter(pieces())),
        opts,
        ok_verify(),
    )
    .await
    .unwrap();
    println!(
        "PUT {mb} MiB again (all dedup): {:.0} MB/s",
        payload.len() as f64 / t.elapsed().as_secs_f64() / 1e6
    );

    let small: Vec<u8> = (0..4096).map(|i| (i % 251) as u8).collect();
    let n_small = 300;
    let t = Instant::now();
    for i in 0..n_small {
        let mut d = small.clone();
        d[..8].copy_from_slice(&(i as u64).to_be_bytes());
        put(&e, "bkt", &format!("s/{i}"), &d).await;
    }
    println!(
        "small PUT (4 KiB) sequential: {:.0} ops/s",
        n_small as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..32 {
        let (e, small) = (e.clone(), small.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..(n_small / 32 + 1) {
                let mut d = small.clone();
                d[..8].copy_from_slice(&((w * 1000 + i + 100_000) as u64).to_be_bytes());
                put(&e, "bkt", &format!("c/{w}/{i}"), &d).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = 32 * (n_small / 32 + 1);
    println!(
        "small PUT (4 KiB) 32 concurrent: {:.0} ops/s",
        total as f64 / t.elapsed().as_secs_f64()
    );
}
