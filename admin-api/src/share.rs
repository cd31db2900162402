//! `POST /v1/share`: a presigned GET URL for one object.

use serde::{Deserialize, Serialize};

/// `POST /v1/share`: the URL reads `bucket`/`key` with `access_key_id`'s rights
/// for `expires_in_seconds` (1 s to 7 days, the SigV4 limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateShare {
    pub bucket: String,
    pub key: String,
    pub access_key_id: String,
    pub expires_in_seconds: u64,
}

/// The answer to `POST /v1/share`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub url: String,
}
