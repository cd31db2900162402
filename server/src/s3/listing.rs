//! ListObjects (v1) and ListObjectsV2: prefix, delimiter, markers and
//! continuation tokens, max-keys, `encoding-type=url`, fetch-owner.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::blocking::blocking;
use super::checksum::to_dto_algorithm;
use super::convert::{etag, owner, ts};
use super::error::EngineResultExt;
use super::query::parse_query;
use super::token;
use super::url_encoding::Encoder;
use crate::engine::{ListPage, ListQuery, ObjectInfo};

/// S3's ceiling (and default) for keys per listing page.
pub const MAX_KEYS: usize = 1000;

/// `max-keys`: absent = 1000, above 1000 = 1000, negative = InvalidArgument.
pub fn max_keys(requested: Option<i32>) -> S3Result<usize> {
    match requested {
        None => Ok(MAX_KEYS),
        Some(n) => usize::try_from(n).map(|n| n.min(MAX_KEYS)).map_err(|_| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "max-keys must be a non-negative integer",
            )
        }),
    }
}

/// An empty `delimiter=` (restic and rclone send it) means no delimiter.
pub fn delimiter(d: Option<&str>) -> Option<String> {
    d.filter(|d| !d.is_empty()).map(str::to_owned)
}

/// Where a V2 page starts: after the later of `start-after` and the key the
/// continuation token names.
pub fn v2_start_after(
    continuation_token: Option<&str>,
    start_after: Option<&str>,
) -> S3Result<Option<String>> {
    let from_token = continuation_token.map(token::decode).transpose()?;
    let start_after = start_after.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(match (from_token, start_after) {
        (Some(t), Some(s)) => Some(t.max(s)),
        (t, s) => t.or(s),
    })
}

fn list(s3: &CofferS3, bucket: &str, query: ListQuery) -> S3Result<ListPage> {
    if query.max_keys == 0 {
        // Nothing to list, but the bucket must still exist.
        s3.engine.bucket(bucket).s3()?;
        return Ok(ListPage::default());
    }
    blocking(|| s3.engine.list_objects(bucket, &query)).s3()
}

fn object(info: ObjectInfo, enc: Encoder, with_owner: bool) -> Object {
    let algorithms: Vec<ChecksumAlgorithm> = info
        .checksums
        .iter()
        .map(|(a, _)| to_dto_algorithm(*a))
        .collect();
    Object {
        e_tag: Some(etag(&info.etag)),
        last_modified: Some(ts(info.last_modified)),
        size: i64::try_from(info.size).ok(),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        owner: with_owner.then(owner),
        checksum_type: (!algorithms.is_empty()).then(|| {
            ChecksumType::from_static(if info.checksum_full_object {
                ChecksumType::FULL_OBJECT
            } else {
                ChecksumType::COMPOSITE
            })
        }),
        checksum_algorithm: (!algorithms.is_empty()).then_some(algorithms),
        key: Some(enc.apply(info.key)),
        restore_status: None,
    }
}

/// CommonPrefixes of any listing answer (objects, versions, uploads), URL-encoded when asked.
pub(super) fn prefixes(list: Vec<String>, enc: Encoder) -> Option<Vec<CommonPrefix>> {
    (!list.is_empty()).then(|| {
        list.into_iter()
            .map(|p| CommonPrefix {
                prefix: Some(enc.apply(p)),
            })
            .collect()
    })
}

pub async fn list_objects_v2(
    s3: &CofferS3,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let input = req.input;
    let enc = Encoder::from_request(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let query = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: delimiter(input.delimiter.as_deref()),
        start_after: v2_start_after(
            input.continuation_token.as_deref(),
            input.start_after.as_deref(),
        )?,
        max_keys: max,
    };
    let page = list(s3, &input.bucket, query)?;
    let with_owner = input.fetch_owner.unwrap_or(false);
    let contents: Vec<Object> = page
        .objects
        .into_iter()
        .map(|o| object(o, enc, with_owner))
        .collect();
    let common_prefixes = prefixes(page.common_prefixes, enc);
    let key_count = contents.len() + common_prefixes.as_ref().map_or(0, Vec::len);
    let next_continuation_token = if page.is_truncated {
        page.next_marker.as_deref().map(token::encode)
    } else {
        None
    };
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(enc.apply(input.prefix.unwrap_or_default())),
        delimiter: enc.apply_opt(delimiter(input.delimiter.as_deref())),
        start_after: enc.apply_opt(input.start_after),
        continuation_token: input.continuation_token,
        next_continuation_token,
        max_keys: i32::try_from(max).ok(),
        key_count: i32::try_from(key_count).ok(),
        is_truncated: Some(page.is_truncated),
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes,
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}

/// s3s routes `list-type=2` to ListObjectsV2 and any other `list-type` to
/// ListObjects (v1), which has no such parameter: refused instead of being
/// answered as a v1 listing the client did not ask for.
fn refuse_list_type(query: Option<&str>) -> S3Result<()> {
    if parse_query(query).iter().any(|(k, _)| k == "list-type") {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid list-type: the only listing type is list-type=2 (ListObjectsV2)",
        ));
    }
    Ok(())
}

pub async fn list_objects(
    s3: &CofferS3,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    refuse_list_type(req.uri.query())?;
    let input = req.input;
    let enc = Encoder::from_request(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let delim = delimiter(input.delimiter.as_deref());
    let query = ListQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: delim.clone(),
        start_after: input.marker.clone().filter(|m| !m.is_empty()),
        max_keys: max,
    };
    let page = list(s3, &input.bucket, query)?;
    let contents: Vec<Object> = page
        .objects
        .into_iter()
        .map(|o| object(o, enc, true))
        .collect();
    // S3 sends NextMarker only with a delimiter; without one, clients resume
    // from the last key of the page.
    let next_marker = if page.is_truncated && delim.is_some() {
        enc.apply_opt(page.next_marker)
    } else {
        None
    };
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(enc.apply(input.prefix.unwrap_or_default())),
        marker: Some(enc.apply(input.marker.unwrap_or_default())),
        delimiter: enc.apply_opt(delim),
        next_marker,
        max_keys: i32::try_from(max).ok(),
        is_truncated: Some(page.is_truncated),
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes: prefixes(page.common_prefixes, enc),
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_keys_defaults_and_clamps() {
        assert_eq!(max_keys(None).unwrap(), 1000);
        assert_eq!(max_keys(Some(5)).unwrap(), 5);
        assert_eq!(max_keys(Some(0)).unwrap(), 0);
        assert_eq!(max_keys(Some(5000)).unwrap(), 1000);
        assert_eq!(
            max_keys(Some(-1)).unwrap_err().code(),
            &S3ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn list_type_other_than_2_is_refused() {
        assert!(refuse_list_type(Some("list-type=3&prefix=a")).is_err());
        assert!(refuse_list_type(Some("prefix=a")).is_ok());
        assert!(refuse_list_type(None).is_ok());
    }

    #[test]
    fn empty_delimiter_is_none() {
        assert_eq!(delimiter(Some("")), None);
        assert_eq!(delimiter(None), None);
        assert_eq!(delimiter(Some("/")), Some("/".to_owned()));
    }

    #[test]
    fn v2_resumes_after_the_later_marker() {
        let t = token::encode("b/2");
        assert_eq!(
            v2_start_after(Some(&t), None).unwrap().as_deref(),
            Some("b/2")
        );
        assert_eq!(
            v2_start_after(Some(&t), Some("a")).unwrap().as_deref(),
            Some("b/2")
        );
        assert_eq!(
            v2_start_after(Some(&t), Some("c")).unwrap().as_deref(),
            Some("c")
        );
        assert_eq!(v2_start_after(None, Some("")).unwrap(), None);
        assert_eq!(v2_start_after(None, None).unwrap(), None);
        assert!(v2_start_after(Some("!!"), None).is_err());
    }
}
