//! Crash consistency: a child process writes objects concurrently and prints
//! each PUT it starts and each it had acknowledged; the parent kills it with
//! SIGKILL mid-flight, reopens the data directory and checks that every key
//! reads back the bytes of its *last acknowledged* write (or of the one write
//! still in flight on that key at the kill, which may have committed unseen),
//! so a lost overwrite fails; that nothing listed is unreadable; and that no
//! temporary file survives.

mod engine_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coffer_server::engine::{ListQuery, PutOptions};
use engine_support::*;

const DIR_ENV: &str = "COFFER_CRASH_CHILD_DIR";

/// The child: runs only when the parent starts it (it is `#[ignore]`d so a
/// normal run never reports it as a pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of crash_during_concurrent_puts"]
async fn crash_writer_child() {
    let Ok(dir) = std::env::var(DIR_ENV) else {
        return;
    };
    let e = open(std::path::Path::new(&dir)).await;
    let _ = e.create_bucket("bkt");
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let e = e.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                // Mixed sizes: tiny, one chunk, several chunks; some keys rewritten.
                let len = match i % 3 {
                    0 => 100,
                    1 => 200_000,
                    _ => 900_000,
                };
                let payload = data(len, w * 1_000_000 + i);
                let key = format!("w{w}/k{}", i % 5);
                let opts = PutOptions {
                    expected_size: Some(len as u64),
                    ..PutOptions::default()
                };
                println!("START {w} {key} {}", md5_hex(&payload));
                e.put_object("bkt", &key, body(&payload, i), opts, ok_verify())
                    .await
                    .unwrap();
                println!("ACK {key} {}", md5_hex(&payload));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn crash_during_concurrent_puts() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut log = WriteLog::default();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            log.read_line(&line);
        }
        log
    });
    // Let it write for a while (at least a few acknowledged PUTs).
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(2500));
    child.kill().unwrap();
    child.wait().unwrap();
    let log = reader.join().unwrap();
    let count = log.acks;
    assert!(
        count >= 5,
        "the child acknowledged only {count} PUTs in {:?}",
        start.elapsed()
    );

    let e = open(dir.path()).await;
    let in_flight = log.in_flight();
    for (key, md5) in &log.acked {
        let got = get(&e, "bkt", key)
            .await
            .unwrap_or_else(|err| panic!("acknowledged {key}: {err}"));
        let got = md5_hex(&got);
        assert!(
            &got == md5 || in_flight.get(key.as_str()) == Some(&got.as_str()),
            "{key} reads back {got}, neither its last acknowledged write {md5} \
             nor the write in flight at the kill {:?}",
            in_flight.get(key.as_str())
        );
    }
    let q = ListQuery {
        max_keys: 10_000,
        ..ListQuery::default()
    };
    for o in e.list_objects("bkt", &q).unwrap().objects {
        let got = get(&e, "bkt", &o.key).await.unwrap();
        assert_eq!(md5_hex(&got), o.etag, "listed {} is readable", o.key);
        assert_eq!(got.len() as u64, o.size);
        assert!(
            log.acked.contains_key(&o.key) || in_flight.contains_key(o.key.as_str()),
            "listed {} was never acknowledged nor in flight",
            o.key
        );
    }
    let s = e.stats().unwrap();
    assert!(s.chunks_referenced <= s.chunks_indexed);
    // The killed process's temporaries are gone after reopening.
    let tmp: Vec<_> = std::fs::read_dir(dir.path().join("packs").join("tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "stale temporaries: {tmp:?}");
}

/// What the child printed: each writer's last started PUT, and each key's last acknowledged one.
#[derive(Default)]
struct WriteLog {
    /// writer → (key, md5) of the PUT it started last; cleared by its ACK.
    started: std::collections::HashMap<String, (String, String)>,
    /// key → md5 of its last acknowledged PUT.
    acked: std::collections::HashMap<String, String>,
    acks: usize,
}

impl WriteLog {
    fn read_line(&mut self, line: &str) {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["START", writer, key, md5] => {
                self.started
                    .insert((*writer).to_owned(), ((*key).to_owned(), (*md5).to_owned()));
            }
            ["ACK", key, md5] => {
                // A writer's ACK follows its START; its key names the writer (`w<N>/…`).
                let writer = key
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches('w');
                self.started.remove(writer);
                self.acked.insert((*key).to_owned(), (*md5).to_owned());
                self.acks += 1;
            }
            _ => {}
        }
    }

    /// key → md5 of the write in flight on it when the child died (at most one per writer).
    fn in_flight(&self) -> std::collections::HashMap<&str, &str> {
        self.started
            .values()
            .map(|(k, m)| (k.as_str(), m.as_str()))
            .collect()
    }
}
