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

/// One getter of a setting that cannot be set: the bucket must exist, then
/// the setting is answered as absent with `$error`.
macro_rules! never_set {
    ($name:ident, $input:ty, $output:ty, $error:expr) => {
        pub async fn $name(s3: &CofferS3, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
            existing(s3, &req.input.bucket)?;
            Err($error)
        }
    };
}

fn absent(code: S3ErrorCode, message: &'static str) -> S3Error {
    S3Error::with_message(code, message)
}

const NO_POLICY: &str = "The bucket policy does not exist";

never_set!(
    get_bucket_policy,
    GetBucketPolicyInput,
    GetBucketPolicyOutput,
    absent(S3ErrorCode::NoSuchBucketPolicy, NO_POLICY)
);
never_set!(
    get_bucket_policy_status,
    GetBucketPolicyStatusInput,
    GetBucketPolicyStatusOutput,
    absent(S3ErrorCode::NoSuchBucketPolicy, NO_POLICY)
);
never_set!(
    get_bucket_cors,
    GetBucketCorsInput,
    GetBucketCorsOutput,
    absent(
        S3ErrorCode::NoSuchCORSConfiguration,
        "The CORS configuration does not exist"
    )
);
never_set!(
    get_bucket_website,
    GetBucketWebsiteInput,
    GetBucketWebsiteOutput,
    absent(
        S3ErrorCode::NoSuchWebsiteConfiguration,
        "The specified bucket does not have a website configuration"
    )
);
never_set!(
    get_bucket_replication,
    GetBucketReplicationInput,
    GetBucketReplicationOutput,
    absent(
        S3ErrorCode::ReplicationConfigurationNotFoundError,
        "The replication configuration was not found"
    )
);
never_set!(
    get_bucket_ownership_controls,
    GetBucketOwnershipControlsInput,
    GetBucketOwnershipControlsOutput,
    absent(
        S3ErrorCode::OwnershipControlsNotFoundError,
        "The bucket ownership controls were not found"
    )
);
never_set!(
    get_public_access_block,
    GetPublicAccessBlockInput,
    GetPublicAccessBlockOutput,
    custom(
        "NoSuchPublicAccessBlockConfiguration",
        StatusCode::NOT_FOUND,
        "The public access block configuration was not found",
    )
);

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
