//! The admin API's bodies, as `coffer-admin-api` (the crate cofferd encodes with)
//! defines them, and the two conversions the commands need: request bodies to
//! JSON, answers from JSON. `--json` prints the server's JSON as it came, so the
//! types are only read for the tables.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use coffer_admin_api::{
    Bucket, CreateBucket, CreateKey, CreateShare, Expiration, Grant, Health, Key, Lifecycle,
    LifecyclePlan, LifecycleRule, PutGrant, RemoveGrant, Retention, RetentionPlan,
    RetentionPlanEntry, RetentionRule, RuleFilter, Share, Status, Timestamp, WorkerState,
    WorkerStatus,
};

use crate::client::ApiError;

/// Reads an answer into `T`; a mismatch is the server breaking the contract (exit 3).
pub fn decode<T: DeserializeOwned>(base: &str, value: &Value) -> Result<T, ApiError> {
    T::deserialize(value).map_err(|e| ApiError::BadAnswer {
        url: base.to_owned(),
        reason: e.to_string(),
    })
}

/// A request body as the client sends it.
pub fn body(request: &impl Serialize) -> Value {
    // The request types are plain structs of strings, numbers and booleans: they
    // always serialise.
    serde_json::to_value(request).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_decode_leniently_but_need_an_id() {
        let k: Key = decode("u", &json!({"access_key_id":"AK","extra":1})).unwrap();
        assert!(k.enabled && !k.is_admin && k.grants.is_empty());
        let e = decode::<Key>("u", &json!({"name":"x"})).unwrap_err();
        assert_eq!(e.exit_code(), 3);
    }
}
