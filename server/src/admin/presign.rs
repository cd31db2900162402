//! SigV4 presigned GET URLs (query-string authentication), as the S3 listener
//! verifies them: `UNSIGNED-PAYLOAD`, only `host` signed.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// SigV4 allows at most seven days.
pub const MAX_EXPIRES_SECONDS: u64 = 7 * 24 * 3600;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

/// RFC 3986 encoding as SigV4 wants it; `/` kept when `keep_slash`.
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a presigned URL is made of.
#[derive(Debug)]
pub struct PresignRequest<'a> {
    /// `http://host:port` of the S3 listener, no trailing slash.
    pub base_url: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub now: OffsetDateTime,
    pub expires_seconds: u64,
}

/// A path-style presigned GET URL.
pub fn presign_get(r: &PresignRequest<'_>) -> String {
    let host = r
        .base_url
        .split_once("://")
        .map_or(r.base_url, |(_, rest)| rest)
        .trim_end_matches('/');
    let date = format!(
        "{:04}{:02}{:02}",
        r.now.year(),
        u8::from(r.now.month()),
        r.now.day()
    );
    let amz_date = format!(
        "{date}T{:02}{:02}{:02}Z",
        r.now.hour(),
        r.now.minute(),
        r.now.second()
    );
    let scope = format!("{date}/{}/s3/aws4_request", r.region);
    let path = format!("/{}/{}", encode(r.bucket, false), encode(r.key, true));
    // Already in the sorted order SigV4 requires.
    let query = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
        ("X-Amz-Credential", format!("{}/{scope}", r.access_key_id)),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", r.expires_seconds.to_string()),
        ("X-Amz-SignedHeaders", "host".to_owned()),
    ];
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k, false), encode(v, false)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request =
        format!("GET\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", r.secret).as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, r.region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    format!(
        "{}{path}?{canonical_query}&X-Amz-Signature={signature}",
        r.base_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing-key chain and HMAC against the example of AWS's
    /// "Authenticating Requests: Using Query Parameters" page.
    #[test]
    fn hmac_chain_matches_the_aws_documentation_example() {
        let date = "20130524";
        let k_date = hmac(
            b"AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            date.as_bytes(),
        );
        let k_signing = hmac(&hmac(&hmac(&k_date, b"us-east-1"), b"s3"), b"aws4_request");
        let canonical = "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD";
        let sts = format!(
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        assert_eq!(
            hex::encode(hmac(&k_signing, sts.as_bytes())),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn keys_are_encoded_but_slashes_kept() {
        assert_eq!(encode("a b/c+d", true), "a%20b/c%2Bd");
        assert_eq!(encode("a/b", false), "a%2Fb");
    }
}
