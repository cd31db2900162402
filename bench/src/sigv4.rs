//! AWS Signature Version 4 for S3 requests, header form, with `UNSIGNED-PAYLOAD` bodies.
//!
//! Written by hand (HMAC over `sha2`) so that signing costs a handful of hashes per
//! request and never touches the body: the generator must stay cheaper than any server.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

/// The payload hash we send: bodies are not hashed, which is what keeps the client cheap.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Access key pair and region that requests are signed for.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

/// Headers to add to a request so that it is signed.
#[derive(Debug, Clone)]
pub struct SignedHeaders {
    pub amz_date: String,
    pub authorization: String,
}

const BLOCK: usize = 64;

fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = Sha256::digest(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest);
    out
}

/// HMAC-SHA256 (RFC 2104); keys longer than a block are hashed first.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

/// Percent-encodes per SigV4 rules; `/` is kept when encoding a path.
pub fn uri_encode(input: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Builds the canonical query string from raw (unencoded) pairs.
pub fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The parts of a request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct ToSign<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// The already-encoded path.
    pub canonical_uri: &'a str,
    pub canonical_query: &'a str,
    /// Additional (name, value) headers to include in the signature.
    pub extra_headers: &'a [(&'a str, &'a str)],
    pub payload_hash: &'a str,
}

/// Signs one request.
pub fn sign(creds: &Credentials, now: OffsetDateTime, req: ToSign<'_>) -> SignedHeaders {
    let ToSign {
        method,
        host,
        canonical_uri,
        canonical_query,
        extra_headers,
        payload_hash,
    } = req;
    let amz_date = now
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let date = &amz_date[..8.min(amz_date.len())];
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_owned(), host.to_owned()),
        ("x-amz-content-sha256".to_owned(), payload_hash.to_owned()),
        ("x-amz-date".to_owned(), amz_date.clone()),
    ];
    for (name, value) in extra_headers {
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    );
    let scope = format!("{date}/{}/s3/aws4_request", creds.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(sha256(canonical_request.as_bytes()))
    );
    let k_date = hmac_sha256(
        format!("AWS4{}", creds.secret_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, creds.region.as_bytes());
    let k_service = hmac_sha256(&k_region, b"s3");
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    SignedHeaders {
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key
        ),
        amz_date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// The "GET Object" example from the AWS SigV4 documentation for S3.
    #[test]
    fn matches_aws_documented_get_object_example() {
        let creds = Credentials {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let signed = sign(
            &creds,
            datetime!(2013-05-24 00:00:00 UTC),
            ToSign {
                method: "GET",
                host: "examplebucket.s3.amazonaws.com",
                canonical_uri: "/test.txt",
                canonical_query: "",
                extra_headers: &[("range", "bytes=0-9")],
                payload_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            },
        );
        assert_eq!(signed.amz_date, "20130524T000000Z");
        assert!(
            signed.authorization.ends_with(
                "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            ),
            "{}",
            signed.authorization
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn encodes_query_and_path() {
        assert_eq!(uri_encode("a b/c", true), "a%20b/c");
        assert_eq!(uri_encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(
            canonical_query(&[("list-type", "2"), ("continuation-token", "x=y"), ("a", "")]),
            "a=&continuation-token=x%3Dy&list-type=2"
        );
    }
}
