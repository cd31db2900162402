//! Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort,
//! ListParts, ListMultipartUploads.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::blocking::blocking;
use super::body::request_body;
use super::checksum::{self, Declared};
use super::conditional::{Conditions, write_precondition};
use super::convert::{etag, meta_input_from, owner, ts, version_out};
use super::copy;
use super::error::EngineResultExt;
use super::listing::{delimiter, prefixes};
use super::object_lock::lock_headers;
use super::objects::expected_size;
use super::range;
use super::unenforced::{Requested, refuse_sse_c, refuse_unenforced};
use super::url_encoding::Encoder;
use crate::engine::{CompletedPart as EnginePart, PutOptions, UploadsQuery};

/// S3's part numbers run from 1 to 10,000.
fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

/// The checksum type the engine gives a multipart object: a full-object CRC64NVME
/// (CRC64NVME checksums combine across parts), composite for the others — as S3 does.
fn checksum_type(alg: Option<crate::engine::ChecksumAlgorithm>) -> Option<ChecksumType> {
    alg.map(|alg| {
        ChecksumType::from_static(if alg == crate::engine::ChecksumAlgorithm::Crc64Nvme {
            ChecksumType::FULL_OBJECT
        } else {
            ChecksumType::COMPOSITE
        })
    })
}

pub async fn create_multipart_upload(
    s3: &CofferS3,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    refuse_unenforced(&Requested::from(&input))?;
    // Every answer of a multipart upload (this one, ListParts, Complete) is XML
    // that names the key; one XML 1.0 cannot carry would make them all unsendable.
    if !super::xml_text::is_xml_10_text(&input.key) {
        return Err(super::xml_text::unrepresentable_key());
    }
    let alg = input
        .checksum_algorithm
        .as_ref()
        .map(checksum::from_dto)
        .transpose()?;
    // A requested FULL_OBJECT type is not refused for CRC32/CRC32C: the parts'
    // checksums are still checked and stored, and the object answers with a
    // COMPOSITE checksum (`<value>-<parts>`), which clients do not compare
    // against a whole-body hash. CRC64NVME is always full-object.
    let lock = super::object_lock::lock_for_write(s3, &input.bucket, &lock_headers!(input))?;
    let mut meta = meta_input_from!(input).into_meta()?;
    meta.lock = lock;
    let upload = blocking(|| {
        s3.engine
            .create_multipart(&input.bucket, &input.key, meta, alg)
    })
    .s3()?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(upload.bucket),
        key: Some(upload.key),
        upload_id: Some(upload.upload_id),
        checksum_algorithm: upload.checksum_algorithm.map(checksum::to_dto_algorithm),
        checksum_type: checksum_type(upload.checksum_algorithm),
        ..Default::default()
    }))
}

pub async fn upload_part(
    s3: &CofferS3,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let S3Request {
        input,
        headers,
        trailing_headers,
        ..
    } = req;
    refuse_sse_c(input.sse_customer_algorithm.as_deref())?;
    let n = part_number(input.part_number)?;
    // Fails fast on an unknown upload id, before the body is read.
    let upload = blocking(|| {
        s3.engine
            .upload(&input.bucket, &input.key, &input.upload_id)
    })
    .s3()?;
    let values = Checksum {
        checksum_crc32: input.checksum_crc32,
        checksum_crc32c: input.checksum_crc32c,
        checksum_crc64nvme: input.checksum_crc64nvme,
        checksum_sha1: input.checksum_sha1,
        checksum_sha256: input.checksum_sha256,
        checksum_type: None,
    };
    let mut declared = Declared::from_request(
        &headers,
        input.content_md5.as_deref(),
        &values,
        input.checksum_algorithm.as_ref(),
    )?;
    if let Some(alg) = upload.checksum_algorithm {
        declared.also_compute(alg);
    }
    let opts = PutOptions {
        meta: Default::default(),
        checksums: declared.algorithms(),
        expected_size: expected_size(&headers, input.content_length),
        ..Default::default()
    };
    let verify = declared.verifier(trailing_headers);
    let part = s3
        .engine
        .upload_part(
            &input.bucket,
            &input.key,
            &input.upload_id,
            n,
            request_body(input.body),
            opts,
            verify,
        )
        .await
        .s3()?;
    let sums = checksum::to_dto(&part.checksums, None);
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(etag(&part.etag)),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        ..Default::default()
    }))
}

pub async fn upload_part_copy(
    s3: &CofferS3,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let input = req.input;
    refuse_sse_c(input.sse_customer_algorithm.as_deref())?;
    refuse_sse_c(input.copy_source_sse_customer_algorithm.as_deref())?;
    let n = part_number(input.part_number)?;
    blocking(|| {
        s3.engine
            .upload(&input.bucket, &input.key, &input.upload_id)
    })
    .s3()?;
    let src = copy::source(
        s3,
        &input.copy_source,
        Conditions {
            if_match: input.copy_source_if_match.as_ref(),
            if_none_match: input.copy_source_if_none_match.as_ref(),
            if_modified_since: input.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
        },
    )?;
    let byte_range = input
        .copy_source_range
        .as_deref()
        .map(|r| range::copy_source(r, src.size))
        .transpose()?;
    let part = s3
        .engine
        .upload_part_copy(
            &input.bucket,
            &input.key,
            &input.upload_id,
            n,
            &src,
            byte_range,
        )
        .await
        .s3()?;
    let sums = checksum::to_dto(&part.checksums, None);
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(etag(&part.etag)),
            last_modified: Some(ts(part.last_modified)),
            checksum_crc32: sums.checksum_crc32,
            checksum_crc32c: sums.checksum_crc32c,
            checksum_crc64nvme: sums.checksum_crc64nvme,
            checksum_sha1: sums.checksum_sha1,
            checksum_sha256: sums.checksum_sha256,
        }),
        copy_source_version_id: version_out(src.version_id.as_ref()),
        ..Default::default()
    }))
}

fn malformed(message: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedXML, message)
}

/// The part list of CompleteMultipartUpload, each with a number and an ETag.
fn completed_parts(upload: Option<CompletedMultipartUpload>) -> S3Result<Vec<EnginePart>> {
    let parts = upload.and_then(|u| u.parts).unwrap_or_default();
    if parts.is_empty() {
        return Err(malformed(
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    parts
        .into_iter()
        .map(|p| {
            let number = p
                .part_number
                .ok_or_else(|| malformed("Every Part needs a PartNumber"))?;
            let tag = p
                .e_tag
                .ok_or_else(|| malformed("Every Part needs an ETag"))?;
            Ok(EnginePart {
                part_number: part_number(number)?,
                etag: tag.value().trim_matches('"').to_owned(),
            })
        })
        .collect()
}

pub async fn complete_multipart_upload(
    s3: &CofferS3,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let input = req.input;
    let parts = completed_parts(input.multipart_upload)?;
    let info = s3
        .engine
        .complete_multipart_if(
            &input.bucket,
            &input.key,
            &input.upload_id,
            &parts,
            &write_precondition(input.if_match.as_ref(), input.if_none_match.as_ref()),
        )
        .await
        .s3()?;
    let composite = (!info.checksum_full_object)
        .then_some(info.parts_count)
        .flatten();
    let sums = checksum::to_dto(&info.checksums, composite);
    let expiration = super::lifecycle::expiration_header(s3.engine.expiry_of(&info));
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        expiration,
        location: Some(format!("/{}/{}", info.bucket, info.key)),
        bucket: Some(info.bucket),
        key: Some(info.key),
        e_tag: Some(etag(&info.etag)),
        version_id: version_out(info.version_id.as_ref()),
        checksum_type: (!info.checksums.is_empty()).then(|| {
            ChecksumType::from_static(if info.checksum_full_object {
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
        ..Default::default()
    }))
}

pub async fn abort_multipart_upload(
    s3: &CofferS3,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let input = req.input;
    blocking(|| {
        s3.engine
            .abort_multipart(&input.bucket, &input.key, &input.upload_id)
    })
    .s3()?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

/// S3's ceiling (and default) for parts and uploads per listing page.
const MAX_PAGE: usize = 1000;

fn page_size(requested: Option<i32>, what: &str) -> S3Result<usize> {
    match requested {
        None => Ok(MAX_PAGE),
        Some(n) => usize::try_from(n).map(|n| n.min(MAX_PAGE)).map_err(|_| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                format!("{what} must be a non-negative integer"),
            )
        }),
    }
}

pub async fn list_parts(
    s3: &CofferS3,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let input = req.input;
    let max = page_size(input.max_parts, "max-parts")?;
    let marker = input
        .part_number_marker
        .map(u32::try_from)
        .transpose()
        .map_err(|_| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "part-number-marker must be a non-negative integer",
            )
        })?;
    let upload = blocking(|| {
        s3.engine
            .upload(&input.bucket, &input.key, &input.upload_id)
    })
    .s3()?;
    let page = blocking(|| {
        s3.engine
            .list_parts(&input.bucket, &input.key, &input.upload_id, marker, max)
    })
    .s3()?;
    let parts = page
        .parts
        .into_iter()
        .map(|p| {
            let sums = checksum::to_dto(&p.checksums, None);
            Part {
                part_number: i32::try_from(p.part_number).ok(),
                e_tag: Some(etag(&p.etag)),
                size: i64::try_from(p.size).ok(),
                last_modified: Some(ts(p.last_modified)),
                checksum_crc32: sums.checksum_crc32,
                checksum_crc32c: sums.checksum_crc32c,
                checksum_crc64nvme: sums.checksum_crc64nvme,
                checksum_sha1: sums.checksum_sha1,
                checksum_sha256: sums.checksum_sha256,
            }
        })
        .collect::<Vec<_>>();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: page
            .next_part_number_marker
            .and_then(|n| i32::try_from(n).ok()),
        max_parts: i32::try_from(max).ok(),
        is_truncated: Some(page.is_truncated),
        parts: (!parts.is_empty()).then_some(parts),
        initiator: Some(Initiator {
            id: Some("coffer".to_owned()),
            display_name: Some("coffer".to_owned()),
        }),
        owner: Some(owner()),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        checksum_algorithm: upload.checksum_algorithm.map(checksum::to_dto_algorithm),
        checksum_type: checksum_type(upload.checksum_algorithm),
        ..Default::default()
    }))
}

pub async fn list_multipart_uploads(
    s3: &CofferS3,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let input = req.input;
    let enc = Encoder::from_request(input.encoding_type.as_ref())?;
    let max = page_size(input.max_uploads, "max-uploads")?;
    let query = UploadsQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: delimiter(input.delimiter.as_deref()),
        key_marker: input.key_marker.clone().filter(|k| !k.is_empty()),
        upload_id_marker: input.upload_id_marker.clone().filter(|u| !u.is_empty()),
        max_uploads: max,
    };
    let page = blocking(|| s3.engine.list_uploads(&input.bucket, &query)).s3()?;
    let uploads: Vec<MultipartUpload> = page
        .uploads
        .into_iter()
        .map(|u| MultipartUpload {
            key: Some(enc.apply(u.key)),
            upload_id: Some(u.upload_id),
            initiated: Some(ts(u.initiated)),
            initiator: Some(Initiator {
                id: Some("coffer".to_owned()),
                display_name: Some("coffer".to_owned()),
            }),
            owner: Some(owner()),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            checksum_algorithm: u.checksum_algorithm.map(checksum::to_dto_algorithm),
            checksum_type: checksum_type(u.checksum_algorithm),
        })
        .collect();
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: Some(enc.apply(input.prefix.unwrap_or_default())),
        delimiter: enc.apply_opt(delimiter(input.delimiter.as_deref())),
        key_marker: Some(enc.apply(input.key_marker.unwrap_or_default())),
        upload_id_marker: Some(input.upload_id_marker.unwrap_or_default()),
        next_key_marker: if page.is_truncated {
            enc.apply_opt(page.next_key_marker)
        } else {
            None
        },
        next_upload_id_marker: if page.is_truncated {
            page.next_upload_id_marker
        } else {
            None
        },
        max_uploads: i32::try_from(max).ok(),
        is_truncated: Some(page.is_truncated),
        uploads: (!uploads.is_empty()).then_some(uploads),
        common_prefixes: prefixes(page.common_prefixes, enc),
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers() {
        assert_eq!(part_number(1).unwrap(), 1);
        assert_eq!(part_number(10_000).unwrap(), 10_000);
        assert!(part_number(0).is_err());
        assert!(part_number(10_001).is_err());
        assert!(part_number(-3).is_err());
    }

    #[test]
    fn complete_needs_parts_with_numbers_and_etags() {
        assert_eq!(
            completed_parts(None).unwrap_err().code(),
            &S3ErrorCode::MalformedXML
        );
        let empty = CompletedMultipartUpload {
            parts: Some(vec![]),
        };
        assert_eq!(
            completed_parts(Some(empty)).unwrap_err().code(),
            &S3ErrorCode::MalformedXML
        );
        let no_etag = CompletedMultipartUpload {
            parts: Some(vec![CompletedPart {
                part_number: Some(1),
                ..Default::default()
            }]),
        };
        assert!(completed_parts(Some(no_etag)).is_err());
        let ok = CompletedMultipartUpload {
            parts: Some(vec![CompletedPart {
                part_number: Some(2),
                e_tag: Some(ETag::Strong("abc".into())),
                ..Default::default()
            }]),
        };
        let parts = completed_parts(Some(ok)).unwrap();
        assert_eq!((parts[0].part_number, parts[0].etag.as_str()), (2, "abc"));
    }

    #[test]
    fn multipart_checksum_types() {
        use crate::engine::ChecksumAlgorithm as A;
        assert_eq!(checksum_type(None), None);
        assert_eq!(
            checksum_type(Some(A::Crc32)).unwrap().as_str(),
            ChecksumType::COMPOSITE
        );
        assert_eq!(
            checksum_type(Some(A::Crc64Nvme)).unwrap().as_str(),
            ChecksumType::FULL_OBJECT
        );
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None, "max-parts").unwrap(), 1000);
        assert_eq!(page_size(Some(2000), "max-parts").unwrap(), 1000);
        assert!(page_size(Some(-1), "max-parts").is_err());
    }
}
