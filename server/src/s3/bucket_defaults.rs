//! Bucket settings Coffer has no way to set yet, read as AWS answers for a
//! bucket where they were never set: the 404 code of each (tools probe
//! them, and 501 `NotImplemented` reads as a broken server), and for
//! encryption the configuration every bucket has, since every object is
//! encrypted with AES-256 (what AWS reports as the default, SSE-S3).
//! Setting encryption to AES256 is accepted as the no-op it is; KMS is
//! refused (`unenforced.rs`).

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::error::{EngineResultExt, custom};

/// NoSuchBucket first, as AWS checks the bucket before the setting.
fn existing(s3: &CofferS3, bucket: &str) -> S3Result<()> {
    s3.engine.bucket(bucket).s3().map(|_| ())
}

fn absent(code: S3ErrorCode, message: &'static str) -> S3Error {
    S3Error::with_message(code, message)
}

pub async fn get_bucket_policy(
    s3: &CofferS3,
    req: S3Request<GetBucketPolicyInput>,
) -> S3Result<S3Response<GetBucketPolicyOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::NoSuchBucketPolicy,
        "The bucket policy does not exist",
    ))
}

pub async fn get_bucket_policy_status(
    s3: &CofferS3,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::NoSuchBucketPolicy,
        "The bucket policy does not exist",
    ))
}

pub async fn get_bucket_lifecycle_configuration(
    s3: &CofferS3,
    req: S3Request<GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::NoSuchLifecycleConfiguration,
        "The lifecycle configuration does not exist",
    ))
}

pub async fn get_object_lock_configuration(
    s3: &CofferS3,
    req: S3Request<GetObjectLockConfigurationInput>,
) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::ObjectLockConfigurationNotFoundError,
        "Object Lock configuration does not exist for this bucket",
    ))
}

pub async fn get_bucket_cors(
    s3: &CofferS3,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::NoSuchCORSConfiguration,
        "The CORS configuration does not exist",
    ))
}

pub async fn get_bucket_website(
    s3: &CofferS3,
    req: S3Request<GetBucketWebsiteInput>,
) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::NoSuchWebsiteConfiguration,
        "The specified bucket does not have a website configuration",
    ))
}

pub async fn get_bucket_replication(
    s3: &CofferS3,
    req: S3Request<GetBucketReplicationInput>,
) -> S3Result<S3Response<GetBucketReplicationOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::ReplicationConfigurationNotFoundError,
        "The replication configuration was not found",
    ))
}

pub async fn get_bucket_ownership_controls(
    s3: &CofferS3,
    req: S3Request<GetBucketOwnershipControlsInput>,
) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(absent(
        S3ErrorCode::OwnershipControlsNotFoundError,
        "The bucket ownership controls were not found",
    ))
}

pub async fn get_public_access_block(
    s3: &CofferS3,
    req: S3Request<GetPublicAccessBlockInput>,
) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
    existing(s3, &req.input.bucket)?;
    Err(custom(
        "NoSuchPublicAccessBlockConfiguration",
        StatusCode::NOT_FOUND,
        "The public access block configuration was not found",
    ))
}

/// What every bucket has: SSE-S3 (AES256), no bucket key.
fn aes256_configuration() -> ServerSideEncryptionConfiguration {
    ServerSideEncryptionConfiguration {
        rules: vec![ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                kms_master_key_id: None,
                sse_algorithm: ServerSideEncryption::from_static(ServerSideEncryption::AES256),
            }),
            bucket_key_enabled: Some(false),
        }],
    }
}

pub async fn get_bucket_encryption(
    s3: &CofferS3,
    req: S3Request<GetBucketEncryptionInput>,
) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
    existing(s3, &req.input.bucket)?;
    Ok(S3Response::new(GetBucketEncryptionOutput {
        server_side_encryption_configuration: Some(aes256_configuration()),
    }))
}

/// Accepts exactly what every bucket already does (AES256 by default, no
/// KMS key; a bucket key is a KMS cost setting and changes nothing here);
/// anything else would be a promise not kept.
pub async fn put_bucket_encryption(
    s3: &CofferS3,
    req: S3Request<PutBucketEncryptionInput>,
) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
    let input = req.input;
    existing(s3, &input.bucket)?;
    let rules = &input.server_side_encryption_configuration.rules;
    let only_aes256 = !rules.is_empty()
        && rules.iter().all(|r| {
            r.apply_server_side_encryption_by_default
                .as_ref()
                .is_some_and(|d| {
                    d.kms_master_key_id.is_none()
                        && d.sse_algorithm.as_str() == ServerSideEncryption::AES256
                })
        });
    if !only_aes256 {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "A header you provided implies functionality that is not implemented: only AES256 default encryption (what Coffer does to every object) can be set.",
        ));
    }
    Ok(S3Response::new(PutBucketEncryptionOutput {}))
}

/// Deleting the setting leaves the default, which is the same AES256.
pub async fn delete_bucket_encryption(
    s3: &CofferS3,
    req: S3Request<DeleteBucketEncryptionInput>,
) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
    existing(s3, &req.input.bucket)?;
    Ok(S3Response::new(DeleteBucketEncryptionOutput {}))
}
