//! Object and bucket tagging: Put/Get/DeleteObjectTagging (a version's tag
//! set, `versionId` optional) and Put/Get/DeleteBucketTagging. Limits and
//! storage: `engine::tags`.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::blocking::blocking;
use super::convert::{version, version_out};
use super::error::EngineResultExt;

/// A request's `TagSet` as (key, value) pairs; a tag without a key is malformed.
fn tag_pairs(tagging: Tagging) -> S3Result<Vec<(String, String)>> {
    tagging
        .tag_set
        .into_iter()
        .map(|t| match t.key {
            Some(k) => Ok((k, t.value.unwrap_or_default())),
            None => Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema: a Tag without a Key",
            )),
        })
        .collect()
}

fn tag_set(pairs: Vec<(String, String)>) -> Vec<Tag> {
    pairs
        .into_iter()
        .map(|(k, v)| Tag {
            key: Some(k),
            value: Some(v),
        })
        .collect()
}

/// Replaces a version's tag set (empty: removes every tag); the id S3 reports.
async fn set_tags(
    s3: &CofferS3,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    tags: Vec<(String, String)>,
) -> S3Result<Option<String>> {
    let v = version(version_id);
    let id = s3
        .engine
        .put_object_tags(bucket, key, v.as_ref(), tags)
        .await
        .s3()?;
    Ok(version_out(id.as_ref()))
}

pub async fn put_object_tagging(
    s3: &CofferS3,
    req: S3Request<PutObjectTaggingInput>,
) -> S3Result<S3Response<PutObjectTaggingOutput>> {
    let input = req.input;
    let tags = tag_pairs(input.tagging)?;
    let version_id = set_tags(
        s3,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        tags,
    )
    .await?;
    Ok(S3Response::new(PutObjectTaggingOutput { version_id }))
}

pub async fn get_object_tagging(
    s3: &CofferS3,
    req: S3Request<GetObjectTaggingInput>,
) -> S3Result<S3Response<GetObjectTaggingOutput>> {
    let input = req.input;
    let v = version(input.version_id.as_deref());
    let info = s3
        .engine
        .head_object(&input.bucket, &input.key, v.as_ref())
        .s3()?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: tag_set(info.meta.tags),
        version_id: version_out(info.version_id.as_ref()),
    }))
}

pub async fn delete_object_tagging(
    s3: &CofferS3,
    req: S3Request<DeleteObjectTaggingInput>,
) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
    let input = req.input;
    let version_id = set_tags(
        s3,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        Vec::new(),
    )
    .await?;
    Ok(S3Response::new(DeleteObjectTaggingOutput { version_id }))
}

pub async fn put_bucket_tagging(
    s3: &CofferS3,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<S3Response<PutBucketTaggingOutput>> {
    let input = req.input;
    let tags = tag_pairs(input.tagging)?;
    // An empty TagSet leaves the bucket without tags, as AWS does.
    let tags = (!tags.is_empty()).then_some(tags);
    blocking(|| s3.engine.put_bucket_tags(&input.bucket, tags)).s3()?;
    Ok(S3Response::new(PutBucketTaggingOutput {}))
}

pub async fn get_bucket_tagging(
    s3: &CofferS3,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<S3Response<GetBucketTaggingOutput>> {
    match s3.engine.bucket_tags(&req.input.bucket).s3()? {
        Some(tags) => Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: tag_set(tags),
        })),
        None => Err(S3Error::with_message(
            S3ErrorCode::NoSuchTagSet,
            "The TagSet does not exist",
        )),
    }
}

pub async fn delete_bucket_tagging(
    s3: &CofferS3,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
    blocking(|| s3.engine.put_bucket_tags(&req.input.bucket, None)).s3()?;
    Ok(S3Response::new(DeleteBucketTaggingOutput {}))
}
