//! Sealing and opening are pure per-chunk functions: keys are shared across threads and
//! results do not depend on which thread ran them.

mod common;

use coffer_repo::{ChunkId, Keys, open_chunk, seal_chunk};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

#[test]
fn keys_are_send_sync_clone() {
    assert_send_sync_clone::<Keys>();
    assert_send_sync_clone::<coffer_repo::SealedChunk>();
    assert_send_sync_clone::<coffer_repo::PackEntry>();
}

#[test]
fn many_threads_seal_and_open_with_shared_keys() {
    let keys = common::keys();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let keys = &keys;
            s.spawn(move || {
                for i in 0..20u64 {
                    let data = if i % 2 == 0 {
                        common::text_like(50_000 + i as usize, t * 100 + i)
                    } else {
                        common::pseudo_random(50_000 + i as usize, t * 100 + i)
                    };
                    // Several zstd levels on one thread.
                    let level = if i % 3 == 0 { 1 } else { 3 };
                    let id = ChunkId::compute(keys, &data);
                    let s = seal_chunk(keys, &id, &data, level).unwrap();
                    let plain =
                        open_chunk(keys, &id, &s.bytes, s.compression, s.plain_len).unwrap();
                    assert_eq!(plain, data);
                }
            });
        }
    });
}
