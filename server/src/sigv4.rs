//! SigV4 signing for the requests Coffer makes or hands out: presigned share URLs
//! today, the bench's load today, the proxy's and the S3 store's upstream requests
//! later. One signer for all of them, built on smithy-rs's `aws-sigv4`, so that the
//! canonical-request rules live in a library that real SDKs use.
//!
//! S3 rules throughout: the path is signed as sent (no normalisation, no second
//! percent-encoding) and header-signed requests carry `x-amz-content-sha256`.
//! Verifying incoming signatures is not here: that is s3s's job on the S3 listener.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningError, SigningParams, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The payload hash of a request whose body is not hashed (S3 accepts it over any transport).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// SigV4 allows presigned URLs to live at most seven days.
pub const MAX_PRESIGN_EXPIRES: Duration = Duration::from_secs(7 * 24 * 3600);

/// The service name in the credential scope.
const SERVICE: &str = "s3";

/// What SigV4 leaves unescaped: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same plus `/`, for object keys in a path.
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes `input` as SigV4 wants it (uppercase hex, only unreserved
/// characters kept); `/` is kept too when encoding a path.
pub fn uri_encode(input: &str, keep_slash: bool) -> String {
    let set = if keep_slash {
        UNRESERVED_AND_SLASH
    } else {
        UNRESERVED
    };
    utf8_percent_encode(input, set).to_string()
}

/// A signing failure: the request could not be put in canonical form (a URL
/// without a host, a header value that is not valid).
#[derive(Debug, thiserror::Error)]
pub enum SigV4Error {
    #[error("SigV4 signing parameters: {0}")]
    Params(#[from] v4::signing_params::BuildError),
    #[error("SigV4 signing: {0}")]
    Signing(#[from] SigningError),
    #[error("SigV4: presigned URLs live at most 7 days, not {0:?}")]
    ExpiresTooLong(Duration),
}

/// An access key pair and the region requests are signed for.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("region", &self.region)
            .finish()
    }
}

/// How the body is covered by the signature.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// `UNSIGNED-PAYLOAD`: the body is never hashed, which keeps big uploads cheap.
    Unsigned,
    /// The body's SHA-256, lowercase hex, computed by the caller.
    Sha256Hex(&'a str),
}

/// One request to sign with headers.
#[derive(Debug, Clone, Copy)]
pub struct ToSign<'a> {
    pub method: &'a str,
    /// Absolute URL, path and query already percent-encoded as they go on the wire
    /// (see [`uri_encode`]); its authority is signed as `host`.
    pub url: &'a str,
    /// Further headers to cover, such as `range` or `content-type`.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: Payload<'a>,
}

/// The headers that make a request signed: `x-amz-date`, `authorization` and
/// `x-amz-content-sha256`, to add to it as they are.
#[derive(Debug, Clone)]
pub struct SignedHeaders {
    headers: Vec<(&'static str, String)>,
}

impl SignedHeaders {
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.headers.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The value of one of them, by lowercase name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// Signs requests for one access key; build it once and reuse it, it holds the
/// key in the form the signer takes.
#[derive(Debug, Clone)]
pub struct Signer {
    identity: Identity,
    region: String,
    header_settings: SigningSettings,
    query_settings: SigningSettings,
}

impl Signer {
    pub fn new(creds: &Credentials) -> Self {
        let identity = AwsCredentials::new(
            creds.access_key_id.clone(),
            creds.secret_access_key.clone(),
            None,
            None,
            "coffer",
        )
        .into();
        let mut header_settings = SigningSettings::default();
        header_settings.percent_encoding_mode = PercentEncodingMode::Single;
        header_settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        header_settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let mut query_settings = header_settings.clone();
        query_settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
        query_settings.signature_location = SignatureLocation::QueryParams;
        Signer {
            identity,
            region: creds.region.clone(),
            header_settings,
            query_settings,
        }
    }

    fn params(
        &self,
        now: SystemTime,
        settings: SigningSettings,
    ) -> Result<SigningParams<'_>, SigV4Error> {
        Ok(v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(SERVICE)
            .time(now)
            .settings(settings)
            .build()?
            .into())
    }

    /// Signs `req` as of `now` with an `Authorization` header.
    pub fn sign_headers(
        &self,
        now: SystemTime,
        req: &ToSign<'_>,
    ) -> Result<SignedHeaders, SigV4Error> {
        let body = match req.payload {
            Payload::Unsigned => SignableBody::UnsignedPayload,
            Payload::Sha256Hex(hash) => SignableBody::Precomputed(hash.to_owned()),
        };
        let request = SignableRequest::new(req.method, req.url, req.headers.iter().copied(), body)?;
        let params = self.params(now, self.header_settings.clone())?;
        let (instructions, _signature) = sign(request, &params)?.into_parts();
        let (headers, _params) = instructions.into_parts();
        Ok(SignedHeaders {
            headers: headers
                .into_iter()
                .map(|h| (h.name(), h.value().to_owned()))
                .collect(),
        })
    }

    /// A presigned URL for `method` on `url` (absolute, already percent-encoded, no
    /// query of its own needed), valid for `expires` from `now`. Only `host` is
    /// signed and the payload is `UNSIGNED-PAYLOAD`, so any client (`curl`) can use it.
    pub fn presign(
        &self,
        now: SystemTime,
        method: &str,
        url: &str,
        expires: Duration,
    ) -> Result<String, SigV4Error> {
        if expires > MAX_PRESIGN_EXPIRES {
            return Err(SigV4Error::ExpiresTooLong(expires));
        }
        let request = SignableRequest::new(
            method,
            url,
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )?;
        let mut settings = self.query_settings.clone();
        settings.expires_in = Some(expires);
        let params = self.params(now, settings)?;
        let (instructions, _signature) = sign(request, &params)?.into_parts();
        let query = instructions
            .params()
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&");
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!("{url}{sep}{query}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn example_signer() -> Signer {
        Signer::new(&Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        })
    }

    /// 2013-05-24T00:00:00Z, the instant of AWS's S3 SigV4 examples.
    fn example_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_369_353_600)
    }

    /// The "GET Object" example of AWS's "Signature Calculations for the
    /// Authorization Header" page for S3.
    #[test]
    fn header_signing_matches_the_aws_get_object_example() {
        let signed = example_signer()
            .sign_headers(
                example_time(),
                &ToSign {
                    method: "GET",
                    url: "https://examplebucket.s3.amazonaws.com/test.txt",
                    headers: &[("range", "bytes=0-9")],
                    payload: Payload::Sha256Hex(
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    ),
                },
            )
            .unwrap();
        assert_eq!(signed.get("x-amz-date"), Some("20130524T000000Z"));
        assert_eq!(
            signed.get("x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            signed.get("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            )
        );
    }

    /// The example of AWS's "Authenticating Requests: Using Query Parameters" page.
    #[test]
    fn presigning_matches_the_aws_query_parameter_example() {
        let url = example_signer()
            .presign(
                example_time(),
                "GET",
                "https://examplebucket.s3.amazonaws.com/test.txt",
                Duration::from_secs(86400),
            )
            .unwrap();
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt\
             ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn presigning_refuses_more_than_seven_days() {
        let err = example_signer()
            .presign(
                example_time(),
                "GET",
                "http://127.0.0.1:9000/b/k",
                MAX_PRESIGN_EXPIRES + Duration::from_secs(1),
            )
            .unwrap_err();
        assert!(matches!(err, SigV4Error::ExpiresTooLong(_)), "{err}");
    }

    /// Sub-resources sent bare (`?versioning`) are signed as `versioning=`, and
    /// query values are signed in their encoded form, sorted.
    #[test]
    fn bare_and_encoded_query_parameters_sign_like_their_canonical_form() {
        let signer = example_signer();
        let sign = |url: &str| {
            signer
                .sign_headers(
                    example_time(),
                    &ToSign {
                        method: "GET",
                        url,
                        headers: &[],
                        payload: Payload::Unsigned,
                    },
                )
                .unwrap()
                .get("authorization")
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            sign("http://127.0.0.1:9000/b?versioning"),
            sign("http://127.0.0.1:9000/b?versioning=")
        );
        assert_eq!(
            sign("http://127.0.0.1:9000/b?list-type=2&continuation-token=x%3Dy"),
            sign("http://127.0.0.1:9000/b?continuation-token=x%3Dy&list-type=2")
        );
    }

    #[test]
    fn encodes_keys_but_keeps_slashes_in_paths() {
        assert_eq!(uri_encode("a b/c+d~é", true), "a%20b/c%2Bd~%C3%A9");
        assert_eq!(uri_encode("a b/c", false), "a%20b%2Fc");
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let text = format!(
            "{:?}",
            Credentials {
                access_key_id: "AK".into(),
                secret_access_key: "s3cr3t".into(),
                region: "r".into(),
            }
        );
        assert!(!text.contains("s3cr3t") && text.contains("AK"), "{text}");
    }
}
