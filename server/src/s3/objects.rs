//! Object operations: PutObject, GetObject, HeadObject, DeleteObject,
//! DeleteObjects.

use http::{HeaderMap, StatusCode};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::body::{request_body, response_body};
use super::checksum::{self, Declared};
use super::conditional::{Conditions, write_precondition};
use super::convert::{MetaOutput, etag, meta_input_from, ts, version, version_out};
use super::error::{EngineResultExt, to_s3};
use super::lifecycle::expiration_header;
use super::object_lock::lock_headers;
use super::object_lock::{lock_output, may_bypass};
use super::range;
use super::unenforced::{Requested, refuse_sse_c, refuse_unenforced};
use crate::engine::{ByteRange, EngineError, ObjectInfo, PutOptions, VersionId};

/// `x-amz-decoded-content-length` when the body was aws-chunked, else Content-Length.
pub fn expected_size(headers: &HeaderMap, content_length: Option<i64>) -> Option<u64> {
    headers
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or_else(|| content_length.and_then(|n| u64::try_from(n).ok()))
}

pub async fn put_object(
    s3: &CofferS3,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let S3Request {
        input,
        headers,
        trailing_headers,
        ..
    } = req;
    refuse_unenforced(&Requested::from(&input))?;
    let values = Checksum {
        checksum_crc32: input.checksum_crc32,
        checksum_crc32c: input.checksum_crc32c,
        checksum_crc64nvme: input.checksum_crc64nvme,
        checksum_sha1: input.checksum_sha1,
        checksum_sha256: input.checksum_sha256,
        checksum_type: None,
    };
    let declared = Declared::from_request(
        &headers,
        input.content_md5.as_deref(),
        &values,
        input.checksum_algorithm.as_ref(),
    )?;

    let lock = super::object_lock::lock_for_write(s3, &input.bucket, &lock_headers!(input))?;
    let mut meta = meta_input_from!(input).into_meta()?;
    meta.lock = lock;
    let opts = PutOptions {
        meta,
        checksums: declared.algorithms(),
        expected_size: expected_size(&headers, input.content_length),
        // Checked by the engine inside the commit (a 412 even when another
        // writer committed while this body was being read).
        precondition: write_precondition(input.if_match.as_ref(), input.if_none_match.as_ref()),
    };
    let verify = declared.verifier(trailing_headers);
    let info = s3
        .engine
        .put_object(
            &input.bucket,
            &input.key,
            request_body(input.body),
            opts,
            verify,
        )
        .await
        .s3()?;

    let sums = checksum::to_dto(&info.checksums, None);
    let output = PutObjectOutput {
        expiration: expiration_header(s3.engine.expiry_of(&info)),
        e_tag: Some(etag(&info.etag)),
        version_id: version_out(info.version_id.as_ref()),
        checksum_type: (!info.checksums.is_empty())
            .then(|| ChecksumType::from_static(ChecksumType::FULL_OBJECT)),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

/// What part of the object a GET or HEAD returns.
struct Selection {
    range: Option<ByteRange>,
    /// `x-amz-mp-parts-count`, sent when a part was asked for.
    parts_count: Option<i32>,
}

fn select(
    info: &ObjectInfo,
    range_header: Option<&Range>,
    part_number: Option<i32>,
) -> S3Result<Selection> {
    match (range_header, part_number) {
        (Some(_), Some(_)) => Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter",
        )),
        (Some(r), None) => Ok(Selection {
            range: Some(range::resolve(r, info.size)?),
            parts_count: None,
        }),
        (None, Some(n)) => {
            let range = range::part(&info.part_sizes, info.size, n)?;
            let parts_count = info.parts_count.and_then(|c| i32::try_from(c).ok());
            Ok(Selection { range, parts_count })
        }
        (None, None) => Ok(Selection {
            range: None,
            parts_count: None,
        }),
    }
}

/// The stored checksums, sent only with `x-amz-checksum-mode: ENABLED` and only
/// for a whole-object read (a range has no checksum of its own).
fn checksums_out(
    info: &ObjectInfo,
    mode: Option<&ChecksumMode>,
    range: Option<ByteRange>,
) -> (Checksum, Option<ChecksumType>) {
    let enabled = mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED));
    if !enabled || range.is_some() || info.checksums.is_empty() {
        return (Checksum::default(), None);
    }
    if info.checksum_full_object {
        (
            checksum::to_dto(&info.checksums, None),
            Some(ChecksumType::from_static(ChecksumType::FULL_OBJECT)),
        )
    } else {
        (
            checksum::to_dto(&info.checksums, info.parts_count),
            Some(ChecksumType::from_static(ChecksumType::COMPOSITE)),
        )
    }
}

pub async fn get_object(
    s3: &CofferS3,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    refuse_sse_c(input.sse_customer_algorithm.as_deref())?;
    let v = version(input.version_id.as_deref());
    let info = s3
        .engine
        .head_object(&input.bucket, &input.key, v.as_ref())
        .s3()?;
    Conditions {
        if_match: input.if_match.as_ref(),
        if_none_match: input.if_none_match.as_ref(),
        if_modified_since: input.if_modified_since.as_ref(),
        if_unmodified_since: input.if_unmodified_since.as_ref(),
    }
    .check_read(&info.etag, info.last_modified)?;
    let sel = select(&info, input.range.as_ref(), input.part_number)?;
    let len = sel.range.map_or(info.size, range::len);
    let stream = s3.engine.read_object(&info, sel.range).s3()?;
    let (sums, checksum_type) = checksums_out(&info, input.checksum_mode.as_ref(), sel.range);
    let meta = MetaOutput::from_info(&info);
    // response-* overrides are applied by s3s on top of these fields.
    let lock = lock_output(&info);
    let output = GetObjectOutput {
        object_lock_mode: lock.mode,
        object_lock_retain_until_date: lock.retain_until,
        object_lock_legal_hold_status: lock.legal_hold,
        expiration: expiration_header(s3.engine.expiry_of(&info)),
        body: Some(response_body(stream, len)),
        content_length: i64::try_from(len).ok(),
        content_range: sel.range.map(|r| range::content_range(r, info.size)),
        accept_ranges: Some("bytes".to_owned()),
        e_tag: Some(etag(&info.etag)),
        last_modified: Some(ts(info.last_modified)),
        version_id: version_out(info.version_id.as_ref()),
        parts_count: sel.parts_count,
        content_type: meta.content_type,
        cache_control: meta.cache_control,
        content_disposition: meta.content_disposition,
        content_encoding: meta.content_encoding,
        content_language: meta.content_language,
        expires: meta.expires,
        website_redirect_location: meta.website_redirect_location,
        metadata: meta.metadata,
        tag_count: (!info.meta.tags.is_empty())
            .then(|| i32::try_from(info.meta.tags.len()).unwrap_or(i32::MAX)),
        checksum_type,
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        ..Default::default()
    };
    Ok(S3Response::new(output))
}

pub async fn head_object(
    s3: &CofferS3,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    refuse_sse_c(input.sse_customer_algorithm.as_deref())?;
    let v = version(input.version_id.as_deref());
    let info = s3
        .engine
        .head_object(&input.bucket, &input.key, v.as_ref())
        .s3()?;
    Conditions {
        if_match: input.if_match.as_ref(),
        if_none_match: input.if_none_match.as_ref(),
        if_modified_since: input.if_modified_since.as_ref(),
        if_unmodified_since: input.if_unmodified_since.as_ref(),
    }
    .check_read(&info.etag, info.last_modified)?;
    let sel = select(&info, input.range.as_ref(), input.part_number)?;
    let len = sel.range.map_or(info.size, range::len);
    let (sums, checksum_type) = checksums_out(&info, input.checksum_mode.as_ref(), sel.range);
    let meta = MetaOutput::from_info(&info);
    // s3s applies response-* overrides to GET only; HEAD honours them too.
    let lock = lock_output(&info);
    let output = HeadObjectOutput {
        object_lock_mode: lock.mode,
        object_lock_retain_until_date: lock.retain_until,
        object_lock_legal_hold_status: lock.legal_hold,
        expiration: expiration_header(s3.engine.expiry_of(&info)),
        content_length: i64::try_from(len).ok(),
        content_range: sel.range.map(|r| range::content_range(r, info.size)),
        accept_ranges: Some("bytes".to_owned()),
        e_tag: Some(etag(&info.etag)),
        last_modified: Some(ts(info.last_modified)),
        version_id: version_out(info.version_id.as_ref()),
        parts_count: sel.parts_count,
        content_type: input.response_content_type.or(meta.content_type),
        cache_control: input.response_cache_control.or(meta.cache_control),
        content_disposition: input
            .response_content_disposition
            .or(meta.content_disposition),
        content_encoding: input.response_content_encoding.or(meta.content_encoding),
        content_language: input.response_content_language.or(meta.content_language),
        expires: input.response_expires.or(meta.expires),
        website_redirect_location: meta.website_redirect_location,
        metadata: meta.metadata,
        checksum_type,
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        ..Default::default()
    };
    let mut resp = S3Response::new(output);
    if sel.range.is_some() {
        resp.status = Some(StatusCode::PARTIAL_CONTENT);
    }
    Ok(resp)
}

pub async fn delete_object(
    s3: &CofferS3,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let bypass = may_bypass(
        &req,
        req.input.bypass_governance_retention,
        &req.input.bucket,
        &req.input.key,
    );
    let input = req.input;
    let v = version(input.version_id.as_deref());
    let outcome = match s3
        .engine
        .delete_object_bypassing_governance(&input.bucket, &input.key, v.as_ref(), bypass)
        .await
    {
        Ok(outcome) => outcome,
        // S3 answers 204 for a key or version that is not there.
        Err(EngineError::NoSuchKey | EngineError::NoSuchVersion) => {
            return Ok(S3Response::new(DeleteObjectOutput::default()));
        }
        Err(e) => return Err(to_s3(e)),
    };
    Ok(S3Response::new(DeleteObjectOutput {
        delete_marker: outcome.delete_marker.then_some(true),
        version_id: version_out(outcome.version_id.as_ref()),
        ..Default::default()
    }))
}

/// S3's limit on keys per DeleteObjects request.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn delete_objects(
    s3: &CofferS3,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    // One answer for the whole request: every key must allow the bypass.
    let bypass = req.input.delete.objects.iter().all(|o| {
        may_bypass(
            &req,
            req.input.bypass_governance_retention,
            &req.input.bucket,
            &o.key,
        )
    });
    let input = req.input;
    let objects = input.delete.objects;
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let items: Vec<(String, Option<VersionId>)> = objects
        .iter()
        .map(|o| (o.key.clone(), version(o.version_id.as_deref())))
        .collect();
    // One metadata transaction for the whole request (restic and rclone send
    // up to 1000 keys at a time).
    let results = s3
        .engine
        .delete_objects(&input.bucket, &items, bypass)
        .await
        .s3()?;
    if results.len() != objects.len() {
        return Err(to_s3(EngineError::Internal(format!(
            "delete_objects returned {} results for {} keys",
            results.len(),
            objects.len()
        ))));
    }
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for (obj, result) in objects.into_iter().zip(results) {
        match result {
            Ok(outcome) => {
                if !quiet {
                    let marker_id = outcome
                        .delete_marker
                        .then(|| version_out(outcome.version_id.as_ref()))
                        .flatten();
                    deleted.push(DeletedObject {
                        key: Some(obj.key),
                        version_id: obj.version_id,
                        delete_marker: outcome.delete_marker.then_some(true),
                        delete_marker_version_id: marker_id,
                    });
                }
            }
            // S3 reports a key or version that is not there as deleted.
            Err(EngineError::NoSuchKey | EngineError::NoSuchVersion) => {
                if !quiet {
                    deleted.push(DeletedObject {
                        key: Some(obj.key),
                        version_id: obj.version_id,
                        ..Default::default()
                    });
                }
            }
            Err(e) => {
                let e = to_s3(e);
                errors.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    message: e.message().map(str::to_owned),
                    key: Some(obj.key),
                    version_id: obj.version_id,
                });
            }
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: (!deleted.is_empty()).then_some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn decoded_length_wins_over_content_length() {
        let mut h = HeaderMap::new();
        assert_eq!(expected_size(&h, Some(10)), Some(10));
        h.insert(
            "x-amz-decoded-content-length",
            HeaderValue::from_static("7"),
        );
        assert_eq!(expected_size(&h, Some(10)), Some(7));
        assert_eq!(expected_size(&HeaderMap::new(), None), None);
        assert_eq!(expected_size(&HeaderMap::new(), Some(-1)), None);
    }
}
