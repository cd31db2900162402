//! Admin API errors: an HTTP status and `{"error":{"code","message"}}`.

use http::StatusCode;

use crate::engine::EngineError;
use crate::engine::access::AccessError;

/// One refusal of the admin API.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "a valid admin token is required (Authorization: Bearer <token>)",
        )
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", what)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }
    /// A bucket without lifecycle rules (S3's `NoSuchLifecycleConfiguration`).
    pub fn no_lifecycle(bucket: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchLifecycleConfiguration",
            format!(
                "bucket {bucket} has no lifecycle configuration \
                 (S3 clients set one with PutBucketLifecycleConfiguration)"
            ),
        )
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "method not allowed on this path",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(coffer_admin_api::ErrorBody::new(self.code, &self.message))
            .unwrap_or(serde_json::Value::Null)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NoSuchBucket(b) => ApiError::new(
                StatusCode::NOT_FOUND,
                "NoSuchBucket",
                format!("no such bucket: {b}"),
            ),
            EngineError::BucketNotEmpty(b) => ApiError::new(
                StatusCode::CONFLICT,
                "BucketNotEmpty",
                format!("bucket {b} is not empty"),
            ),
            EngineError::BucketAlreadyOwnedByYou(b) => ApiError::new(
                StatusCode::CONFLICT,
                "BucketAlreadyExists",
                format!("bucket {b} already exists"),
            ),
            EngineError::InvalidBucketName(b) => {
                ApiError::invalid(format!("invalid bucket name: {b:?}"))
            }
            EngineError::InvalidArgument(m) => ApiError::invalid(m),
            EngineError::NoSuchLifecycleConfiguration => ApiError::new(
                StatusCode::NOT_FOUND,
                "NoSuchLifecycleConfiguration",
                "the bucket has no lifecycle configuration",
            ),
            EngineError::InvalidRetention(e) => ApiError::invalid(e.to_string()),
            EngineError::NoSuchRetentionRule(p) => ApiError::new(
                StatusCode::NOT_FOUND,
                "NoSuchRetentionRule",
                format!("the bucket has no retention rule for prefix {p:?}"),
            ),
            other => {
                tracing::error!(error = %other, "admin API: internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal",
                    other.to_string(),
                )
            }
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::NoSuchAccessKey(id) => ApiError::new(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                format!("no such access key: {id}"),
            ),
            AccessError::NoSuchGrant => {
                ApiError::not_found("the key has no grant on that bucket and prefix")
            }
            AccessError::InvalidArgument(m) => ApiError::invalid(m),
            AccessError::Engine(e) => e.into(),
        }
    }
}
