//! Requests the S3 front refuses before s3s sees them (see `screen.rs`), as
//! typed reasons, and the S3 error response each one becomes.

use http::StatusCode;
use s3s::{HttpResponse, S3Error, S3ErrorCode};

use super::error::custom;

/// Why a request was refused before its signature was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `Authorization: AWS key:sig` or `?AWSAccessKeyId=…&Signature=…`: SigV2
    /// signs no body and is refused by AWS in every region opened since 2014.
    #[error("signature version 2 is not supported")]
    SigV2,
    /// `X-Amz-Expires` above seven days.
    #[error("X-Amz-Expires {0} is above 604800")]
    ExpiresTooLong(u64),
    /// `X-Amz-Expires` that is negative.
    #[error("X-Amz-Expires is negative")]
    ExpiresNegative,
    /// `x-amz-*` headers present that the signature does not cover.
    #[error("unsigned headers: {}", .0.join(", "))]
    HeadersNotSigned(Vec<String>),
    /// An `Authorization` header whose `SignedHeaders` cannot be read.
    #[error("malformed Authorization header")]
    MalformedAuthorization,
    /// The same query parameter twice (`?delete&delete`).
    #[error("duplicate query parameter {0}")]
    DuplicateQuery(String),
}

impl Refusal {
    fn s3_error(&self) -> S3Error {
        match self {
            Refusal::SigV2 => S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            ),
            Refusal::ExpiresTooLong(_) => query_parameters_error(EXPIRES_TOO_LONG),
            Refusal::ExpiresNegative => {
                query_parameters_error("X-Amz-Expires must be non-negative")
            }
            Refusal::HeadersNotSigned(_) => S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "There were headers present in the request which were not signed",
            ),
            Refusal::MalformedAuthorization => custom(
                "AuthorizationHeaderMalformed",
                StatusCode::BAD_REQUEST,
                "The authorization header is malformed.",
            ),
            Refusal::DuplicateQuery(name) => S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!("duplicate query: {name}"),
            ),
        }
    }

    /// The XML error response. `HeadersNotSigned` carries the header names in
    /// an element of that name, as AWS sends it, so a client author can see
    /// what their signer left out.
    pub fn into_response(self) -> HttpResponse {
        let mut resp = match self.s3_error().to_http_response() {
            Ok(r) => r,
            // Serialising a fixed code and message cannot fail; never panic on a request path.
            Err(_) => {
                let mut r = HttpResponse::new(s3s::Body::empty());
                *r.status_mut() = StatusCode::BAD_REQUEST;
                return r;
            }
        };
        if let Refusal::HeadersNotSigned(names) = &self
            && let Some(body) = resp.body().bytes()
            && let Ok(text) = std::str::from_utf8(&body)
            && let Some(at) = text.rfind("</Error>")
        {
            // Header names are HTTP tokens: nothing in them needs XML escaping.
            let with_names = format!(
                "{}<HeadersNotSigned>{}</HeadersNotSigned>{}",
                &text[..at],
                names.join(", "),
                &text[at..]
            );
            resp.headers_mut().remove(http::header::CONTENT_LENGTH);
            *resp.body_mut() = s3s::Body::from(with_names);
        }
        resp
    }
}

/// AWS's wording, quoted from its answers.
const EXPIRES_TOO_LONG: &str = "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds";

fn query_parameters_error(message: &'static str) -> S3Error {
    custom(
        "AuthorizationQueryParametersError",
        StatusCode::BAD_REQUEST,
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: Refusal) -> (u16, String) {
        let resp = r.into_response();
        let status = resp.status().as_u16();
        let bytes = resp.body().bytes().expect("in-memory body");
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn sigv2_is_invalid_request_with_awss_message() {
        let (status, text) = body(Refusal::SigV2);
        assert_eq!(status, 400);
        assert!(text.contains("<Code>InvalidRequest</Code>"), "{text}");
        assert!(text.contains("Please use AWS4-HMAC-SHA256."), "{text}");
    }

    #[test]
    fn long_expiry_is_authorization_query_parameters_error() {
        let (status, text) = body(Refusal::ExpiresTooLong(604_801));
        assert_eq!(status, 400);
        assert!(
            text.contains("<Code>AuthorizationQueryParametersError</Code>"),
            "{text}"
        );
        assert!(text.contains("604800"), "{text}");
    }

    #[test]
    fn unsigned_headers_are_named() {
        let (status, text) = body(Refusal::HeadersNotSigned(vec![
            "x-amz-copy-source".into(),
            "x-amz-meta-a".into(),
        ]));
        assert_eq!(status, 403);
        assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
        assert!(
            text.contains(
                "<HeadersNotSigned>x-amz-copy-source, x-amz-meta-a</HeadersNotSigned></Error>"
            ),
            "{text}"
        );
    }
}
