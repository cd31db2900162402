//! Version and upload ids: 32 lowercase hex characters, `!seq` (`seq` for
//! uploads) then 64 random bits. Opaque and URL-safe for clients; for the engine the first half is the
//! inverted sequence number, so string order is newest first and an id maps
//! straight to its table key.

pub(crate) fn format(seq: u64, rand: u64) -> String {
    format!("{:016x}{:016x}", !seq, rand)
}

/// An upload id: like a version id but with `seq` not inverted, because S3
/// lists the uploads of one key oldest first.
pub(crate) fn format_upload(seq: u64, rand: u64) -> String {
    format!("{seq:016x}{rand:016x}")
}

/// `(seq, rand)` of a well-formed version id (for an upload id, only the shape counts).
pub(crate) fn parse(s: &str) -> Option<(u64, u64)> {
    if s.len() != 32 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let inv = u64::from_str_radix(s.get(..16)?, 16).ok()?;
    let rand = u64::from_str_radix(s.get(16..)?, 16).ok()?;
    Some((!inv, rand))
}

/// A random value for the second half of an id, never zero (zero marks the null version).
pub(crate) fn random_part() -> u64 {
    loop {
        let r: u64 = rand::random();
        if r != 0 {
            return r;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_order() {
        let a = super::format(5, 77);
        let b = super::format(6, 1);
        assert!(b < a, "newer sorts first");
        assert_eq!(super::parse(&a), Some((5, 77)));
        assert_eq!(super::parse("null"), None);
        assert_eq!(super::parse(&a.to_uppercase()), None);
    }
}
