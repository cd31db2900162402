//! Authorisation: every signed request is checked against its key's grants
//! using the one table in `permissions.rs`. `check` runs before the input is
//! parsed (bucket, object key, operation); the per-operation hooks finish the
//! checks that need the parsed input (listing prefixes, copy sources, the keys
//! of DeleteObjects). Deny by default.

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::*;
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result};

use super::auth::CofferAccess;
use super::error::to_s3;
use super::permissions::{Scope, rule_for};
use super::request_limits::{PermitSlot, RequestLimits};
use crate::engine::Engine;
use crate::engine::access::{KeyAccess, Permission};

/// Checks each request against the grants of the key that signed it.
#[derive(Debug, Clone)]
pub struct GrantAccess {
    engine: Arc<Engine>,
    limits: Arc<RequestLimits>,
}

impl GrantAccess {
    pub fn new(engine: Arc<Engine>, limits: Arc<RequestLimits>) -> Self {
        GrantAccess { engine, limits }
    }
}

fn denied() -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, "Access Denied")
}

/// The key's grants, put in the request's extensions by `check`.
fn key_of<T>(req: &S3Request<T>) -> S3Result<&KeyAccess> {
    req.extensions
        .get::<Arc<KeyAccess>>()
        .map(AsRef::as_ref)
        .ok_or_else(denied)
}

/// The grants of the key that signed the request, for handlers that filter
/// what they answer (ListBuckets). `None` for requests that were not checked.
pub fn request_grants<T>(req: &S3Request<T>) -> Option<Arc<KeyAccess>> {
    req.extensions.get::<Arc<KeyAccess>>().cloned()
}

fn require(ok: bool) -> S3Result<()> {
    if ok { Ok(()) } else { Err(denied()) }
}

/// A listing may only ask for a prefix that lies inside a granted prefix.
fn check_listing(key: &KeyAccess, bucket: &str, prefix: Option<&str>) -> S3Result<()> {
    require(key.allows_object(bucket, prefix.unwrap_or(""), Permission::Read))
}

fn check_copy_source(key: &KeyAccess, src: &CopySource) -> S3Result<()> {
    match src {
        CopySource::Bucket { bucket, key: k, .. } => {
            require(key.allows_object(bucket, k, Permission::Read))
        }
        _ => require(key.is_admin),
    }
}

#[async_trait::async_trait]
impl S3Access for GrantAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        // Labels the request for the access log and refuses anonymous ones.
        CofferAccess.check(cx).await?;
        let Some(creds) = cx.credentials() else {
            return Err(denied());
        };
        let id = creds.access_key.clone();
        let key = match self.engine.key_access(&id) {
            Ok(Some(k)) => k,
            // The key was deleted between signature check and now.
            Ok(None) => return Err(denied()),
            Err(e) => return Err(to_s3(e)),
        };
        let op = cx.s3_op().name().to_owned();
        let ok = match rule_for(&op) {
            // Not in the table: deny by default (admins reach NotImplemented).
            None => key.is_admin,
            Some(rule) => match (rule.scope, rule.permission, cx.s3_path()) {
                (Scope::Service, _, _) => true,
                (_, None, _) => key.is_admin,
                (_, Some(_), S3Path::Root) => key.is_admin,
                (Scope::Bucket, Some(p), S3Path::Bucket { bucket }) => key.allows_bucket(bucket, p),
                (
                    Scope::BucketAnyPrefix | Scope::Listing | Scope::EachKey,
                    Some(p),
                    S3Path::Bucket { bucket },
                ) => key.allows_some_of(bucket, p),
                (Scope::Object, Some(p), S3Path::Object { bucket, key: k }) => {
                    key.allows_object(bucket, k, p)
                }
                // An operation addressed at the wrong level: s3s will refuse it
                // anyway; only admins get its precise error.
                _ => key.is_admin,
            },
        };
        require(ok)?;
        // s3s reads a whole-body operation's body right after this hook.
        super::xml_limit::check(&op, cx.headers())?;
        // Only a request that may proceed queues for a slot; the slot goes
        // to the access log wrapper, which holds it until the body is sent.
        let permit = self.limits.acquire(&id).await?;
        if let Some(slot) = cx.extensions_mut().get::<PermitSlot>() {
            slot.put(permit);
        }
        cx.extensions_mut().insert(Arc::new(key));
        Ok(())
    }

    async fn list_objects(&self, req: &mut S3Request<ListObjectsInput>) -> S3Result<()> {
        check_listing(key_of(req)?, &req.input.bucket, req.input.prefix.as_deref())
    }

    async fn list_objects_v2(&self, req: &mut S3Request<ListObjectsV2Input>) -> S3Result<()> {
        check_listing(key_of(req)?, &req.input.bucket, req.input.prefix.as_deref())
    }

    async fn list_object_versions(
        &self,
        req: &mut S3Request<ListObjectVersionsInput>,
    ) -> S3Result<()> {
        check_listing(key_of(req)?, &req.input.bucket, req.input.prefix.as_deref())
    }

    async fn list_multipart_uploads(
        &self,
        req: &mut S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<()> {
        check_listing(key_of(req)?, &req.input.bucket, req.input.prefix.as_deref())
    }

    async fn copy_object(&self, req: &mut S3Request<CopyObjectInput>) -> S3Result<()> {
        check_copy_source(key_of(req)?, &req.input.copy_source)
    }

    async fn upload_part_copy(&self, req: &mut S3Request<UploadPartCopyInput>) -> S3Result<()> {
        check_copy_source(key_of(req)?, &req.input.copy_source)
    }

    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let key = key_of(req)?;
        let bucket = &req.input.bucket;
        // One key outside the grant refuses the whole request: nothing is
        // deleted, rather than a partial result the client may not inspect.
        require(
            req.input
                .delete
                .objects
                .iter()
                .all(|o| key.allows_object(bucket, &o.key, Permission::Delete)),
        )
    }
}
