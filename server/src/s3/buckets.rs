//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::blocking::blocking;
use super::convert::{owner, ts};
use super::error::EngineResultExt;

pub async fn list_buckets(
    s3: &CofferS3,
    req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let grants = super::access::request_grants(&req);
    let buckets = blocking(|| s3.engine.list_buckets()).s3()?;
    let buckets = buckets
        .into_iter()
        .filter(|b| grants.as_ref().is_some_and(|g| g.sees_bucket(&b.name)))
        .map(|b| Bucket {
            name: Some(b.name),
            creation_date: Some(ts(b.created)),
            bucket_region: Some(s3.region.clone()),
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(owner()),
        ..Default::default()
    }))
}

pub async fn create_bucket(
    s3: &CofferS3,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let input = req.input;
    if let Some(constraint) = input
        .create_bucket_configuration
        .as_ref()
        .and_then(|c| c.location_constraint.as_ref())
    {
        let wanted = constraint.as_str();
        // A constraint naming another region would be a promise Coffer cannot keep.
        if !wanted.is_empty() && wanted != s3.region {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidLocationConstraint,
                format!(
                    "The specified location-constraint is not valid: this endpoint serves region {}",
                    s3.region
                ),
            ));
        }
    }
    let bucket = input.bucket;
    // With object lock: versioning on for good, in the same transaction.
    if input.object_lock_enabled_for_bucket == Some(true) {
        blocking(|| s3.engine.create_locked_bucket(&bucket)).s3()?;
    } else {
        blocking(|| s3.engine.create_bucket(&bucket)).s3()?;
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{bucket}")),
    }))
}

pub async fn head_bucket(
    s3: &CofferS3,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    s3.engine.bucket(&req.input.bucket).s3()?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(s3.region.clone()),
        ..Default::default()
    }))
}

pub async fn delete_bucket(
    s3: &CofferS3,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    blocking(|| s3.engine.delete_bucket(&req.input.bucket)).s3()?;
    Ok(S3Response::new(DeleteBucketOutput {}))
}

pub async fn get_bucket_location(
    s3: &CofferS3,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    s3.engine.bucket(&req.input.bucket).s3()?;
    // S3 reports us-east-1 as an empty LocationConstraint.
    let location_constraint =
        (s3.region != "us-east-1").then(|| BucketLocationConstraint::from(s3.region.clone()));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint,
    }))
}
