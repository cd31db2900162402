//! The one table from engine errors to S3 error codes, messages and statuses.

use http::{HeaderMap, HeaderValue};
use s3s::{S3Error, S3ErrorCode};

use crate::engine::{ChecksumAlgorithm, EngineError, VersionId};

/// Name S3 uses for a checksum algorithm in messages and header names.
pub fn algorithm_label(alg: ChecksumAlgorithm) -> &'static str {
    match alg {
        ChecksumAlgorithm::Crc32 => "CRC32",
        ChecksumAlgorithm::Crc32c => "CRC32C",
        ChecksumAlgorithm::Sha1 => "SHA1",
        ChecksumAlgorithm::Sha256 => "SHA256",
        ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
    }
}

/// Maps an engine error onto the S3 error a client expects.
///
/// Internal failures keep their detail in the log, never in the response:
/// the message a client sees for them is generic.
pub fn to_s3(err: EngineError) -> S3Error {
    use S3ErrorCode as C;
    match err {
        EngineError::NoSuchBucket(_) => msg(C::NoSuchBucket, "The specified bucket does not exist"),
        EngineError::BucketAlreadyOwnedByYou(_) => msg(
            C::BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it.",
        ),
        EngineError::BucketNotEmpty(_) => msg(
            C::BucketNotEmpty,
            "The bucket you tried to delete is not empty",
        ),
        EngineError::InvalidBucketName(_) => {
            msg(C::InvalidBucketName, "The specified bucket is not valid.")
        }
        EngineError::NoSuchKey => msg(C::NoSuchKey, "The specified key does not exist."),
        EngineError::NoSuchVersion => {
            msg(C::NoSuchVersion, "The specified version does not exist.")
        }
        EngineError::DeleteMarker {
            version_id,
            by_version_id,
        } => delete_marker(version_id.as_ref(), by_version_id),
        EngineError::NoSuchUpload => msg(
            C::NoSuchUpload,
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        ),
        EngineError::InvalidPart(detail) => S3Error::with_message(
            C::InvalidPart,
            format!(
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. ({detail})"
            ),
        ),
        EngineError::InvalidPartOrder => msg(
            C::InvalidPartOrder,
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        ),
        EngineError::EntityTooSmall { .. } => msg(
            C::EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed object size.",
        ),
        EngineError::BadDigest => msg(
            C::BadDigest,
            "The Content-MD5 you specified did not match what we received.",
        ),
        EngineError::ChecksumMismatch(alg) => S3Error::with_message(
            C::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm_label(alg)
            ),
        ),
        EngineError::IncompleteBody => msg(
            C::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
        EngineError::KeyTooLong => msg(C::KeyTooLongError, "Your key is too long"),
        EngineError::InvalidArgument(detail) => S3Error::with_message(C::InvalidArgument, detail),
        EngineError::InvalidTag(e) => S3Error::with_message(C::InvalidTag, e.to_string()),
        EngineError::InvalidBucketState(m) => S3Error::with_message(C::InvalidBucketState, m),
        EngineError::Lock(e) => match e {
            crate::engine::object_lock::LockError::Protected => {
                S3Error::with_message(C::AccessDenied, e.to_string())
            }
            crate::engine::object_lock::LockError::InvalidArgument(m) => {
                S3Error::with_message(C::InvalidArgument, m)
            }
            crate::engine::object_lock::LockError::NotEnabled => {
                S3Error::with_message(C::InvalidRequest, e.to_string())
            }
        },
        EngineError::InvalidLifecycle(e) => super::lifecycle::lifecycle_error(e),
        EngineError::NoSuchLifecycleConfiguration => msg(
            C::NoSuchLifecycleConfiguration,
            "The lifecycle configuration does not exist",
        ),
        EngineError::InvalidRange => msg(C::InvalidRange, "The requested range is not satisfiable"),
        EngineError::MalformedXml(detail) => S3Error::with_message(
            C::MalformedXML,
            format!(
                "The XML you provided was not well-formed or did not validate against our published schema: {detail}"
            ),
        ),
        EngineError::Body(io) => body_error(&io),
        EngineError::PreconditionFailed => super::conditional::precondition_failed(),
        // Nothing was written and the body is spent; a retry of the same PUT
        // stores the chunks afresh, and every SDK retries a 503 with back-off.
        EngineError::DedupChunkGone(ref chunks) => {
            tracing::warn!(
                chunks = chunks.len(),
                "deduplicated chunks left the index before the commit; asking the client to retry"
            );
            msg(C::ServiceUnavailable, "Please reduce your request rate.")
        }
        other => {
            tracing::error!(error = %other, "internal error");
            msg(
                C::InternalError,
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

fn msg(code: S3ErrorCode, message: &'static str) -> S3Error {
    S3Error::with_message(code, message)
}

/// An S3 error code s3s has no variant for.
pub fn custom(code: &'static str, status: http::StatusCode, message: &'static str) -> S3Error {
    let code = code
        .parse::<S3ErrorCode>()
        .unwrap_or_else(|never| match never {});
    let mut err = S3Error::with_message(code, message);
    err.set_status_code(status);
    err
}

/// AWS's answer to a request body slower than the minimum rate.
pub fn request_timeout() -> S3Error {
    msg(
        S3ErrorCode::RequestTimeout,
        "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
    )
}

/// Errors raised while reading a request body. s3s's own stream errors are
/// not nameable types outside the crate, so they are told apart by their text.
fn body_error(io: &std::io::Error) -> S3Error {
    let text = io.to_string();
    if text.contains("RequestTimeout:") {
        // crate::http::BodyTooSlow, through s3s's body wrappers.
        request_timeout()
    } else if text.contains("SignatureMismatch") {
        msg(
            S3ErrorCode::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided.",
        )
    } else if text.contains("Sha256Mismatch") {
        custom(
            "XAmzContentSHA256Mismatch",
            http::StatusCode::BAD_REQUEST,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    } else if text.contains("FormatError") || text.contains("TooLarge") || text.contains("TooMany")
    {
        msg(
            S3ErrorCode::InvalidRequest,
            "The aws-chunked body is malformed.",
        )
    } else {
        msg(
            S3ErrorCode::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        )
    }
}

/// GET/HEAD of a delete marker: 404 NoSuchKey when it is the latest version,
/// 405 MethodNotAllowed when addressed by version id; both carry
/// `x-amz-delete-marker: true`.
pub fn delete_marker(version_id: Option<&VersionId>, by_version_id: bool) -> S3Error {
    let mut err = if by_version_id {
        msg(
            S3ErrorCode::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        )
    } else {
        msg(S3ErrorCode::NoSuchKey, "The specified key does not exist.")
    };
    let mut headers = xml_headers();
    headers.insert("x-amz-delete-marker", HeaderValue::from_static("true"));
    if let Some(v) = version_id
        && let Ok(value) = HeaderValue::from_str(v.as_str())
    {
        headers.insert("x-amz-version-id", value);
    }
    err.set_headers(headers);
    err
}

/// s3s replaces all response headers with an error's own headers, so any
/// error that carries headers must carry the XML content type too.
pub fn xml_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    headers
}

/// The message S3 sends with an error code, for errors s3s raises itself
/// (signature checks, request parsing) without one: clients show the message,
/// and "Unknown" helps nobody.
pub fn default_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        }
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "AccessDenied" => "Access Denied",
        "RequestTimeTooSkewed" => {
            "The difference between the request time and the server's time is too large."
        }
        "InvalidBucketName" => "The specified bucket is not valid.",
        "KeyTooLongError" => "Your key is too long",
        "MalformedXML" => {
            "The XML you provided was not well-formed or did not validate against our published schema"
        }
        "InvalidURI" => "Couldn't parse the specified URI.",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "MissingRequestBodyError" => "Request Body is empty",
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "NotImplemented" => "A header you provided implies functionality that is not implemented",
        "InvalidArgument" => "Invalid Argument",
        "InvalidRequest" => "Invalid Request",
        "IncompleteBody" => {
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        }
        "EntityTooLarge" => "Your proposed upload exceeds the maximum allowed object size.",
        "MaxMessageLengthExceeded" => "Your request was too big.",
        "InternalError" => "We encountered an internal error. Please try again.",
        _ => return None,
    })
}

/// Adds the default `<Message>` to an error document that has none.
pub fn with_default_message(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    if text.contains("<Message>") {
        return None;
    }
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    let message = default_message(&text[start..end])?;
    let insert_at = end + "</Code>".len();
    Some(
        format!(
            "{}<Message>{message}</Message>{}",
            &text[..insert_at],
            &text[insert_at..]
        )
        .into_bytes(),
    )
}

pub type S3Outcome<T> = Result<T, S3Error>;

/// `?`-friendly conversion for engine results.
pub trait EngineResultExt<T> {
    fn s3(self) -> S3Outcome<T>;
}

impl<T> EngineResultExt<T> for Result<T, EngineError> {
    fn s3(self) -> S3Outcome<T> {
        self.map_err(to_s3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: EngineError) -> (S3ErrorCode, u16) {
        let e = to_s3(err);
        let status = e.status_code().map(|s| s.as_u16()).unwrap_or(0);
        (e.code().clone(), status)
    }

    #[test]
    fn table_maps_each_client_visible_error() {
        use S3ErrorCode as C;
        let cases: Vec<(EngineError, C, u16)> = vec![
            (EngineError::NoSuchBucket("b".into()), C::NoSuchBucket, 404),
            (
                EngineError::BucketAlreadyOwnedByYou("b".into()),
                C::BucketAlreadyOwnedByYou,
                409,
            ),
            (
                EngineError::BucketNotEmpty("b".into()),
                C::BucketNotEmpty,
                409,
            ),
            (
                EngineError::InvalidBucketName("B".into()),
                C::InvalidBucketName,
                400,
            ),
            (EngineError::NoSuchKey, C::NoSuchKey, 404),
            (EngineError::NoSuchVersion, C::NoSuchVersion, 404),
            (EngineError::NoSuchUpload, C::NoSuchUpload, 404),
            (EngineError::InvalidPart("x".into()), C::InvalidPart, 400),
            (EngineError::InvalidPartOrder, C::InvalidPartOrder, 400),
            (
                EngineError::EntityTooSmall { part_number: 1 },
                C::EntityTooSmall,
                400,
            ),
            (EngineError::BadDigest, C::BadDigest, 400),
            (
                EngineError::ChecksumMismatch(ChecksumAlgorithm::Crc32),
                C::BadDigest,
                400,
            ),
            (EngineError::IncompleteBody, C::IncompleteBody, 400),
            (EngineError::KeyTooLong, C::KeyTooLongError, 400),
            (
                EngineError::InvalidArgument("x".into()),
                C::InvalidArgument,
                400,
            ),
            (EngineError::InvalidRange, C::InvalidRange, 416),
            (
                EngineError::MalformedXml("no parts".into()),
                C::MalformedXML,
                400,
            ),
            (EngineError::Internal("boom".into()), C::InternalError, 500),
            (
                crate::engine::MetaError::Corrupt("bucket").at("decode"),
                C::InternalError,
                500,
            ),
            (EngineError::PreconditionFailed, C::PreconditionFailed, 412),
            (
                EngineError::DedupChunkGone(Vec::new()),
                C::ServiceUnavailable,
                503,
            ),
        ];
        for (err, code, status) in cases {
            let label = format!("{err:?}");
            assert_eq!(code_of(err), (code, status), "{label}");
        }
    }

    #[test]
    fn checksum_mismatch_names_the_algorithm_like_s3() {
        let e = to_s3(EngineError::ChecksumMismatch(ChecksumAlgorithm::Crc32));
        assert_eq!(
            e.message(),
            Some("The CRC32 you specified did not match the calculated checksum.")
        );
        let e = to_s3(EngineError::ChecksumMismatch(ChecksumAlgorithm::Crc64Nvme));
        assert_eq!(
            e.message(),
            Some("The CRC64NVME you specified did not match the calculated checksum.")
        );
    }

    #[test]
    fn internal_detail_is_not_sent_to_the_client() {
        let e = to_s3(EngineError::Internal("secret path /var/x".into()));
        assert!(!e.message().unwrap_or("").contains("/var/x"));
    }

    #[test]
    fn delete_marker_is_404_latest_and_405_by_version() {
        let latest = to_s3(EngineError::DeleteMarker {
            version_id: Some(VersionId::Id("v1".into())),
            by_version_id: false,
        });
        assert_eq!(latest.code(), &S3ErrorCode::NoSuchKey);
        let h = latest.headers().expect("headers");
        assert_eq!(
            h.get("x-amz-delete-marker").map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
        assert_eq!(
            h.get("x-amz-version-id").map(|v| v.as_bytes()),
            Some(&b"v1"[..])
        );

        let by_id = to_s3(EngineError::DeleteMarker {
            version_id: Some(VersionId::Id("v1".into())),
            by_version_id: true,
        });
        assert_eq!(by_id.code(), &S3ErrorCode::MethodNotAllowed);
        assert_eq!(by_id.status_code().map(|s| s.as_u16()), Some(405));
    }

    #[test]
    fn messages_are_added_where_s3s_left_none() {
        let bare = br#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code></Error>"#;
        let filled = String::from_utf8(with_default_message(bare).unwrap()).unwrap();
        assert!(
            filled.contains("<Code>SignatureDoesNotMatch</Code><Message>The request signature"),
            "{filled}"
        );
        assert!(filled.ends_with("</Message></Error>"));
        let has = b"<Error><Code>NoSuchKey</Code><Message>x</Message></Error>";
        assert!(with_default_message(has).is_none());
        assert!(with_default_message(b"<Error><Code>SomethingElse</Code></Error>").is_none());
        assert!(with_default_message(b"not xml").is_none());
    }

    #[test]
    fn body_errors_from_s3s_streams_are_told_apart() {
        let sig = std::io::Error::other("AwsChunkedStreamError: SignatureMismatch");
        assert_eq!(
            to_s3(EngineError::Body(sig)).code(),
            &S3ErrorCode::SignatureDoesNotMatch
        );
        let sha = std::io::Error::other("UploadStreamError: Sha256Mismatch");
        let e = to_s3(EngineError::Body(sha));
        assert_eq!(e.code().as_str(), "XAmzContentSHA256Mismatch");
        assert_eq!(e.status_code().map(|s| s.as_u16()), Some(400));
        let slow = std::io::Error::other(
            "AwsChunkedStreamError: Underlying: RequestTimeout: the request body sent 1 bytes",
        );
        let e = to_s3(EngineError::Body(slow));
        assert_eq!(e.code(), &S3ErrorCode::RequestTimeout);
        assert_eq!(e.status_code().map(|s| s.as_u16()), Some(400));
        let cut = std::io::Error::other("connection reset");
        assert_eq!(
            to_s3(EngineError::Body(cut)).code(),
            &S3ErrorCode::IncompleteBody
        );
    }
}
