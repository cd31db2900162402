//! Presigned GET URLs for `POST /v1/share`, as the S3 listener verifies them:
//! path-style, `UNSIGNED-PAYLOAD`, only `host` signed. The signing is
//! [`crate::sigv4`]'s; this module only says what a share URL is made of.

use std::time::Duration;

use time::OffsetDateTime;

use crate::sigv4::{self, Credentials, SigV4Error, Signer};

/// SigV4 allows at most seven days.
pub const MAX_EXPIRES_SECONDS: u64 = sigv4::MAX_PRESIGN_EXPIRES.as_secs();

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

/// A path-style presigned GET URL:
/// `{base_url}/{bucket}/{key}?X-Amz-Algorithm=…&X-Amz-Credential=…&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-SignedHeaders=host&X-Amz-Signature=…`.
pub fn presign_get(r: &PresignRequest<'_>) -> Result<String, SigV4Error> {
    let signer = Signer::new(&Credentials {
        access_key_id: r.access_key_id.to_owned(),
        secret_access_key: r.secret.to_owned(),
        region: r.region.to_owned(),
    });
    let url = format!(
        "{}/{}/{}",
        r.base_url.trim_end_matches('/'),
        sigv4::uri_encode(r.bucket, false),
        sigv4::uri_encode(r.key, true)
    );
    signer.presign(
        r.now.into(),
        "GET",
        &url,
        Duration::from_secs(r.expires_seconds),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn request(key: &str) -> PresignRequest<'_> {
        PresignRequest {
            base_url: "http://127.0.0.1:9000/",
            bucket: "dumps",
            key,
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            now: datetime!(2013-05-24 00:00:00 UTC),
            expires_seconds: 3600,
        }
    }

    /// The URL shape `coffer share` users and scripts see. The signature is the one
    /// the hand-written signer that this module used before `aws-sigv4` computes
    /// for the same request (recomputed independently when it was replaced), so a
    /// change of signer cannot silently change what shares look like.
    #[test]
    fn share_urls_keep_their_shape_and_signature() {
        assert_eq!(
            presign_get(&request("latest/db dump+1.gz")).unwrap(),
            "http://127.0.0.1:9000/dumps/latest/db%20dump%2B1.gz\
             ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=32f24f978914cb061d6afac9506c06cda61026c263c31f8e7ed4729f3b8e1ecb"
        );
    }
}
