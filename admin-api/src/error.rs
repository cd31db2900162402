//! The body of every refusal: `{"error": {"code": …, "message": …}}`.

use serde::{Deserialize, Serialize};

/// What the admin API answers with a 4xx or 5xx status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `code` is stable for scripts (`NoSuchBucket`, `BucketNotEmpty`, `InvalidArgument`,
/// `Unauthorized`, …); `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_body_shape() {
        assert_eq!(
            serde_json::to_value(ErrorBody::new("NoSuchBucket", "no such bucket: x")).unwrap(),
            json!({"error": {"code": "NoSuchBucket", "message": "no such bucket: x"}})
        );
    }
}
