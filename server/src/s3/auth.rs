//! Authentication and access: s3s verifies SigV4 (header, presigned query,
//! aws-chunked) with the secret the engine holds for an access key; the access
//! hook refuses anonymous requests and labels each request for the access log.

use std::sync::{Arc, Mutex};

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Result};

use super::error::to_s3;
use crate::engine::Engine;
use crate::engine::access::KeyAuth;

/// Looks secrets up in the engine's key store.
#[derive(Debug, Clone)]
pub struct CofferAuth {
    engine: Arc<Engine>,
}

impl CofferAuth {
    pub fn new(engine: Arc<Engine>) -> Self {
        CofferAuth { engine }
    }
}

#[async_trait::async_trait]
impl S3Auth for CofferAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        // AWS answers InvalidAccessKeyId for unknown and for inactive keys;
        // an expired Coffer key is an inactive one (docs/security.md).
        let refused =
            |m: &'static str| Err(S3Error::with_message(S3ErrorCode::InvalidAccessKeyId, m));
        match self.engine.authenticate(access_key) {
            Ok(KeyAuth::Active { secret }) => Ok(SecretKey::from(secret)),
            Ok(KeyAuth::Unknown) => {
                refused("The AWS Access Key Id you provided does not exist in our records.")
            }
            Ok(KeyAuth::Disabled) => refused("The AWS Access Key Id you provided is disabled."),
            Ok(KeyAuth::Expired) => refused("The AWS Access Key Id you provided has expired."),
            Err(e) => Err(to_s3(e)),
        }
    }
}

/// What the access log says about a request once s3s has routed it.
#[derive(Debug, Clone, Default)]
pub struct Label {
    pub op: String,
    pub bucket: Option<String>,
}

/// A slot the listener puts in each request's extensions; the access hook
/// fills it, the listener reads it when the response is done.
#[derive(Debug, Clone, Default)]
pub struct LabelSlot(Arc<Mutex<Option<Label>>>);

impl LabelSlot {
    pub fn get(&self) -> Option<Label> {
        self.0.lock().ok().and_then(|g| g.clone())
    }

    fn set(&self, label: Label) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(label);
        }
    }
}

/// Every request must be signed; grants per key come with the admin API.
#[derive(Debug, Clone, Default)]
pub struct CofferAccess;

#[async_trait::async_trait]
impl S3Access for CofferAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let bucket = match cx.s3_path() {
            S3Path::Root => None,
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(bucket.to_string()),
        };
        let label = Label {
            op: cx.s3_op().name().to_owned(),
            bucket,
        };
        if let Some(slot) = cx.extensions_mut().get::<LabelSlot>() {
            slot.set(label);
        }
        match cx.credentials() {
            Some(_) => Ok(()),
            None => Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Access Denied",
            )),
        }
    }
}
