//! Test data: seeded random and text-like files, MD5s, directory sizes and byte scans.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

/// Writes `len` pseudo-random (incompressible) bytes derived from `seed`.
pub fn write_random(path: &Path, len: u64, seed: u64) {
    ensure_parent(path);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = BufWriter::new(File::create(path).expect("create random file"));
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        w.write_all(&buf[..n]).expect("write random file");
        left -= n as u64;
    }
    w.flush().expect("flush random file");
}

const WORDS: &[&str] = &[
    "backup",
    "restore",
    "chunk",
    "pack",
    "index",
    "coffer",
    "bucket",
    "object",
    "version",
    "the",
    "of",
    "and",
    "a",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "with",
    "as",
    "was",
    "on",
    "database",
    "segment",
    "archive",
    "nightly",
    "snapshot",
    "retention",
    "lifecycle",
    "key",
];

/// Writes about `len` bytes of text-like data (words, lines), inserting `marker` at a few places.
pub fn write_text(path: &Path, len: u64, seed: u64, marker: Option<&str>) {
    ensure_parent(path);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = BufWriter::new(File::create(path).expect("create text file"));
    let mut written = 0u64;
    let mut line = String::new();
    // Markers spread over the file: near the start, the middle and the end.
    let marker_at = [len / 97, len / 2, len.saturating_sub(len / 50)];
    let mut next_marker = 0;
    while written < len {
        line.clear();
        let nwords = rng.gen_range(4..16);
        for i in 0..nwords {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
        }
        if let Some(m) = marker
            && next_marker < marker_at.len()
            && written >= marker_at[next_marker]
        {
            line.push(' ');
            line.push_str(m);
            next_marker += 1;
        }
        line.push('\n');
        w.write_all(line.as_bytes()).expect("write text file");
        written += line.len() as u64;
    }
    w.flush().expect("flush text file");
}

fn ensure_parent(path: &Path) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("create parent dir");
    }
}

/// Hex MD5 of a file's bytes.
pub fn md5_file(path: &Path) -> String {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => panic!("open {}: {e}", path.display()),
    };
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).expect("read for md5");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

/// Hex MD5 of bytes.
pub fn md5_bytes(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Every regular file under `dir`, recursively (symlinks not followed).
pub fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Sum of the sizes of all files under `dir` (apparent size, what `du -b` reports).
pub fn dir_size(dir: &Path) -> u64 {
    walk_files(dir)
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    walk_files(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Asserts two directory trees hold the same relative paths with the same bytes.
#[track_caller]
pub fn assert_same_tree(expected: &Path, actual: &Path) {
    let rel = |root: &Path| -> Vec<PathBuf> {
        walk_files(root)
            .into_iter()
            .map(|p| p.strip_prefix(root).unwrap_or(&p).to_path_buf())
            .collect()
    };
    let a = rel(expected);
    let b = rel(actual);
    assert_eq!(
        a.len(),
        b.len(),
        "file count differs: {} vs {}",
        expected.display(),
        actual.display()
    );
    assert_eq!(a, b, "file lists differ");
    for p in &a {
        let x = std::fs::read(expected.join(p)).expect("read expected");
        let y = std::fs::read(actual.join(p)).expect("read actual");
        assert!(x == y, "content differs: {}", p.display());
    }
}
