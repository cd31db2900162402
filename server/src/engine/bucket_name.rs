//! S3 bucket naming rules (general purpose buckets).

/// `true` when `name` is a valid S3 bucket name.
pub(crate) fn is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    if !b
        .iter()
        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
    {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return false;
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    const BAD_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const BAD_SUFFIXES: [&str; 3] = ["-s3alias", "--ol-s3", "--x-s3"];
    !BAD_PREFIXES.iter().any(|p| name.starts_with(p))
        && !BAD_SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn rules() {
        for ok in [
            "abc",
            "my-bucket",
            "my.bucket.1",
            "a1b",
            "0ab",
            &"a".repeat(63),
        ] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Abc",
            "ab_c",
            "-abc",
            "abc-",
            ".abc",
            "abc.",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "a.-b",
            "a-.b",
            "ab c",
            "",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
