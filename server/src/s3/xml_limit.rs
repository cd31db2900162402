//! The ceiling on request bodies that s3s reads whole before an operation runs
//! (XML: DeleteObjects, CompleteMultipartUpload, every bucket configuration).
//!
//! s3s enforces its own `xml_max_body_size` while reading, but reports the
//! overrun as a 500 InternalError (SDKs retry it). So the declared length is
//! checked here first, in the access hook, which runs after the signature
//! check and before s3s reads the body: an oversize body is refused with 400
//! `MaxMessageLengthExceeded` without a byte of it read. The same number is
//! given to s3s, so its read-time check can only trip on a length this check
//! has already seen.

use http::{HeaderMap, HeaderName, StatusCode};
use s3s::S3Error;

use super::error::custom;

/// s3s's default, kept: a CompleteMultipartUpload of 10,000 parts with
/// checksums is a few MB; 20 MiB leaves room without letting a client make
/// the server buffer more.
pub const XML_BODY_LIMIT: usize = 20 << 20;

/// Operations whose body s3s streams to the handler instead of reading it
/// whole; every other operation's body is read into memory.
const STREAMED: &[&str] = &[
    "PutObject",
    "UploadPart",
    "PostObject",
    "WriteGetObjectResponse",
];

/// aws-chunked uploads declare their decoded body length here.
pub const DECODED_CONTENT_LENGTH: HeaderName =
    HeaderName::from_static("x-amz-decoded-content-length");

fn declared(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Refuses a request of operation `op` whose body would be read whole and is
/// longer than [`XML_BODY_LIMIT`].
pub fn check(op: &str, headers: &HeaderMap) -> Result<(), S3Error> {
    if STREAMED.contains(&op) {
        return Ok(());
    }
    // aws-chunked bodies declare their decoded length; that is what s3s collects.
    let length = declared(headers, &DECODED_CONTENT_LENGTH)
        .or_else(|| declared(headers, &http::header::CONTENT_LENGTH));
    match length {
        Some(n) if n > XML_BODY_LIMIT as u64 => Err(custom(
            "MaxMessageLengthExceeded",
            StatusCode::BAD_REQUEST,
            "Your request was too big.",
        )),
        Some(_) => Ok(()),
        // A body of unknown length: s3s refuses any non-empty one with
        // MissingContentLength once read; say so before reading it.
        None if headers.contains_key(http::header::TRANSFER_ENCODING) => Err(custom(
            "MissingContentLength",
            StatusCode::LENGTH_REQUIRED,
            "You must provide the Content-Length HTTP header.",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    #[test]
    fn oversize_xml_is_max_message_length_exceeded() {
        let h = with("content-length", &(XML_BODY_LIMIT + 1).to_string());
        let e = check("DeleteObjects", &h).unwrap_err();
        assert_eq!(e.code().as_str(), "MaxMessageLengthExceeded");
        assert_eq!(e.status_code(), Some(StatusCode::BAD_REQUEST));
        let h = with("x-amz-decoded-content-length", "999999999");
        assert!(check("CompleteMultipartUpload", &h).is_err());
    }

    #[test]
    fn object_bodies_and_small_xml_pass() {
        let big = with("content-length", "5000000000");
        assert!(check("PutObject", &big).is_ok());
        assert!(check("UploadPart", &big).is_ok());
        let small = with("content-length", &XML_BODY_LIMIT.to_string());
        assert!(check("DeleteObjects", &small).is_ok());
        assert!(check("GetObject", &HeaderMap::new()).is_ok());
    }

    #[test]
    fn chunked_xml_without_length_is_411() {
        let h = with("transfer-encoding", "chunked");
        let e = check("DeleteObjects", &h).unwrap_err();
        assert_eq!(e.status_code(), Some(StatusCode::LENGTH_REQUIRED));
    }
}
