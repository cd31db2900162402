//! CopyObject, and the copy-source lookup it shares with UploadPartCopy
//! (`x-amz-copy-source` with an optional versionId, and its conditions).

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::checksum;
use super::conditional::Conditions;
use super::convert::{etag, meta_input_from, tag_header, ts, version, version_out};
use super::error::{EngineResultExt, to_s3};
use super::object_lock::lock_headers;
use super::unenforced::{Requested, refuse_sse_c, refuse_unenforced};
use crate::engine::ObjectMeta;
use crate::engine::{EngineError, ObjectInfo};

/// Finds the version a copy reads (s3s has already URL-decoded the header)
/// and checks the `x-amz-copy-source-if-*` conditions against it.
pub fn source(
    s3: &CofferS3,
    copy_source: &CopySource,
    conditions: Conditions<'_>,
) -> S3Result<ObjectInfo> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = copy_source
    else {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Access point and outpost copy sources are not supported",
        ));
    };
    let v = version(version_id.as_deref());
    let info = match s3.engine.head_object(bucket, key, v.as_ref()) {
        Ok(info) => info,
        Err(EngineError::DeleteMarker {
            by_version_id: true,
            ..
        }) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            ));
        }
        Err(EngineError::DeleteMarker {
            by_version_id: false,
            ..
        }) => {
            return Err(S3Error::with_message(
                S3ErrorCode::NoSuchKey,
                "The specified key does not exist.",
            ));
        }
        Err(e) => return Err(to_s3(e)),
    };
    conditions.check_copy_source(&info.etag, info.last_modified)?;
    Ok(info)
}

/// `x-amz-metadata-directive`: `true` for REPLACE, `false` for COPY (the default).
/// Whether a COPY/REPLACE directive (metadata or tagging: both default to
/// COPY) says REPLACE; `what` names it in the error.
fn replaces(directive: Option<&str>, what: &'static str) -> S3Result<bool> {
    match directive {
        None => Ok(false),
        Some(d) if d.eq_ignore_ascii_case("COPY") => Ok(false),
        Some(d) if d.eq_ignore_ascii_case("REPLACE") => Ok(true),
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Unknown {what} directive."),
        )),
    }
}

pub async fn copy_object(
    s3: &CofferS3,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let input = req.input;
    refuse_unenforced(&Requested::from(&input))?;
    refuse_sse_c(input.copy_source_sse_customer_algorithm.as_deref())?;
    let replace = replaces(
        input
            .metadata_directive
            .as_ref()
            .map(MetadataDirective::as_str),
        "metadata",
    )?;
    let src = source(
        s3,
        &input.copy_source,
        Conditions {
            if_match: input.copy_source_if_match.as_ref(),
            if_none_match: input.copy_source_if_none_match.as_ref(),
            if_modified_since: input.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
        },
    )?;

    // Copying the current version onto itself changes nothing unless the
    // metadata is replaced; copying an older version over the key restores it.
    if src.bucket == input.bucket && src.key == input.key && src.is_latest && !replace {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }

    // The two directives are independent: REPLACE metadata alone keeps the
    // source's tags, REPLACE tagging alone keeps its metadata.
    let replace_tags = replaces(
        input
            .tagging_directive
            .as_ref()
            .map(TaggingDirective::as_str),
        "tagging",
    )?;
    // The copy is a new version: its lock is what this request asks for (or
    // the destination's default), never the source's.
    let lock = super::object_lock::lock_for_write(s3, &input.bucket, &lock_headers!(input))?;
    let mut meta = match (replace, replace_tags) {
        (false, false) => src.meta.clone(),
        (true, _) => {
            let mut m = meta_input_from!(input).into_meta()?;
            if !replace_tags {
                m.tags = src.meta.tags.clone();
            }
            m
        }
        (false, true) => ObjectMeta {
            tags: tag_header(input.tagging.as_deref())?,
            ..src.meta.clone()
        },
    };
    meta.lock = lock;
    let meta = Some(meta);
    let new = s3
        .engine
        .copy_object(&src, &input.bucket, &input.key, meta)
        .await
        .s3()?;

    let composite = (!new.checksum_full_object)
        .then_some(new.parts_count)
        .flatten();
    let sums = checksum::to_dto(&new.checksums, composite);
    let result = CopyObjectResult {
        e_tag: Some(etag(&new.etag)),
        last_modified: Some(ts(new.last_modified)),
        checksum_type: (!new.checksums.is_empty()).then(|| {
            ChecksumType::from_static(if new.checksum_full_object {
                ChecksumType::FULL_OBJECT
            } else {
                ChecksumType::COMPOSITE
            })
        }),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
    };
    Ok(S3Response::new(CopyObjectOutput {
        expiration: super::lifecycle::expiration_header(s3.engine.expiry_of(&new)),
        copy_object_result: Some(result),
        version_id: version_out(new.version_id.as_ref()),
        copy_source_version_id: version_out(src.version_id.as_ref()),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_and_replace_directives() {
        assert!(!replaces(None, "metadata").unwrap());
        assert!(!replaces(Some("COPY"), "metadata").unwrap());
        assert!(!replaces(Some("copy"), "tagging").unwrap());
        assert!(replaces(Some("REPLACE"), "tagging").unwrap());
        let e = replaces(Some("MOVE"), "metadata").unwrap_err();
        assert_eq!(e.code(), &S3ErrorCode::InvalidArgument);
        assert_eq!(e.message(), Some("Unknown metadata directive."));
    }

    #[test]
    fn copy_source_header_is_url_decoded_with_version() {
        let cs = CopySource::parse("src-bucket/dir%20x/a%2Bb.txt?versionId=abc%3D").unwrap();
        let CopySource::Bucket {
            bucket,
            key,
            version_id,
        } = cs
        else {
            panic!("bucket form expected")
        };
        assert_eq!(&*bucket, "src-bucket");
        assert_eq!(&*key, "dir x/a+b.txt");
        assert_eq!(version_id.as_deref(), Some("abc="));
    }
}
