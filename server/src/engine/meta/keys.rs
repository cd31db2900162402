//! Order-preserving encodings of redb keys.
//!
//! Object keys are opaque UTF-8 and may in principle contain NUL, so they are
//! escaped (`00` → `00 FF`) before being followed by a `00 00` terminator; the
//! escaping preserves byte order and prefix relations, so a listing under a
//! prefix is one range scan and the versions of one key sort together.
//!
//! - object key:  `bucket 00 esc(key)`                       (live, nulls)
//! - version key: `bucket 00 esc(key) 00 00 <!seq: u64 BE>`  (newest first)
//! - upload key:  `bucket 00 esc(key) 00 00 <upload id>`
//! - part key:    `<upload id> <part number: u32 BE>`

/// Appends `s` escaped.
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &[u8]) {
    if !s.contains(&0) {
        out.extend_from_slice(s);
        return;
    }
    for &b in s {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// Inverse of [`push_escaped`]; `None` when the input is not a valid escape.
pub(crate) fn unescape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        out.push(b);
        if b == 0 {
            if s.get(i + 1) != Some(&0xFF) {
                return None;
            }
            i += 1;
        }
        i += 1;
    }
    Some(out)
}

/// `bucket 00`: the start of everything a bucket holds in a table.
pub(crate) fn bucket_prefix(bucket: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1);
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k
}

/// `bucket 00 esc(key)` — with `key` a prefix this is the start of a prefix scan.
pub(crate) fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = bucket_prefix(bucket);
    push_escaped(&mut k, key.as_bytes());
    k
}

/// `bucket 00 esc(key) 00 00`: start of the versions (or uploads) of one key.
pub(crate) fn versions_prefix(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = object_key(bucket, key);
    k.extend_from_slice(&[0, 0]);
    k
}

pub(crate) fn version_key(bucket: &str, key: &str, seq: u64) -> Vec<u8> {
    let mut k = versions_prefix(bucket, key);
    k.extend_from_slice(&(!seq).to_be_bytes());
    k
}

pub(crate) fn upload_key(bucket: &str, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = versions_prefix(bucket, key);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

pub(crate) fn part_key(upload_id: &str, part_number: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(upload_id.len() + 4);
    k.extend_from_slice(upload_id.as_bytes());
    k.extend_from_slice(&part_number.to_be_bytes());
    k
}

/// Splits `bucket 00 esc(key) [00 00 suffix]` into the object key and the
/// suffix (empty for object keys). `prefix_len` = length of `bucket 00`.
pub(crate) fn split_key(raw: &[u8], prefix_len: usize) -> Option<(String, &[u8])> {
    let body = raw.get(prefix_len..)?;
    // The terminator is the first `00` not followed by `FF`.
    let mut i = 0;
    let mut end = body.len();
    while i < body.len() {
        if body[i] == 0 {
            if body.get(i + 1) == Some(&0xFF) {
                i += 2;
                continue;
            }
            end = i;
            break;
        }
        i += 1;
    }
    let key = unescape(&body[..end])?;
    let suffix = if end < body.len() {
        body.get(end + 2..)?
    } else {
        &[][..]
    };
    Some((String::from_utf8(key).ok()?, suffix))
}

/// The smallest byte string greater than every string starting with `p`
/// (`None` when there is none, i.e. `p` is all `FF`).
pub(crate) fn prefix_successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut s = p.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_and_keeps_order() {
        let keys = ["", "a", "a\0", "a\0b", "a\u{1}", "ab", "b", "\0", "\0\0"];
        let mut enc: Vec<(Vec<u8>, &str)> = keys
            .iter()
            .map(|k| {
                let mut v = Vec::new();
                push_escaped(&mut v, k.as_bytes());
                v.extend_from_slice(&[0, 0, 0xFF, 0xFF]);
                (v, *k)
            })
            .collect();
        enc.sort();
        let mut plain: Vec<&str> = keys.to_vec();
        plain.sort();
        assert_eq!(enc.iter().map(|(_, k)| *k).collect::<Vec<_>>(), plain);
        for k in keys {
            let vk = version_key("bkt", k, 7);
            let (back, suffix) = split_key(&vk, 4).unwrap();
            assert_eq!(back, k);
            assert_eq!(suffix, (!7u64).to_be_bytes());
            let ok = object_key("bkt", k);
            assert_eq!(split_key(&ok, 4).unwrap(), (k.to_string(), &[][..]));
        }
    }

    #[test]
    fn newer_versions_sort_first() {
        assert!(version_key("b", "k", 10) < version_key("b", "k", 9));
        assert!(version_key("b", "k", 1) < version_key("b", "k\0", 100));
        assert!(version_key("b", "k", 1) < version_key("b", "ka", 100));
    }

    #[test]
    fn successor() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[b'a', 0xFF]), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(&[0xFF]), None);
    }
}
