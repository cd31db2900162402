//! Versioning: PutBucketVersioning, GetBucketVersioning, ListObjectVersions.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::blocking::blocking;
use super::convert::{etag, owner, ts, version_listed};
use super::error::EngineResultExt;
use super::listing::{delimiter, max_keys, prefixes};
use super::url_encoding::Encoder;
use crate::engine::{VersioningState, VersionsPage, VersionsQuery};

fn parse_status(status: Option<&BucketVersioningStatus>) -> S3Result<VersioningState> {
    match status.map(BucketVersioningStatus::as_str) {
        Some(s) if s == BucketVersioningStatus::ENABLED => Ok(VersioningState::Enabled),
        Some(s) if s == BucketVersioningStatus::SUSPENDED => Ok(VersioningState::Suspended),
        _ => Err(S3Error::with_message(
            S3ErrorCode::IllegalVersioningConfigurationException,
            "The Versioning element must be specified as Enabled or Suspended",
        )),
    }
}

pub async fn put_bucket_versioning(
    s3: &CofferS3,
    req: S3Request<PutBucketVersioningInput>,
) -> S3Result<S3Response<PutBucketVersioningOutput>> {
    let input = req.input;
    if input
        .versioning_configuration
        .mfa_delete
        .as_ref()
        .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
    {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "MFA delete is not supported",
        ));
    }
    let state = parse_status(input.versioning_configuration.status.as_ref())?;
    blocking(|| s3.engine.set_versioning(&input.bucket, state)).s3()?;
    Ok(S3Response::new(PutBucketVersioningOutput {}))
}

pub async fn get_bucket_versioning(
    s3: &CofferS3,
    req: S3Request<GetBucketVersioningInput>,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    let info = s3.engine.bucket(&req.input.bucket).s3()?;
    let status = match info.versioning {
        VersioningState::Unversioned => None,
        VersioningState::Enabled => Some(BucketVersioningStatus::from_static(
            BucketVersioningStatus::ENABLED,
        )),
        VersioningState::Suspended => Some(BucketVersioningStatus::from_static(
            BucketVersioningStatus::SUSPENDED,
        )),
    };
    Ok(S3Response::new(GetBucketVersioningOutput {
        status,
        mfa_delete: None,
    }))
}

pub async fn list_object_versions(
    s3: &CofferS3,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let input = req.input;
    let enc = Encoder::from_request(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let key_marker = input.key_marker.clone().filter(|k| !k.is_empty());
    if input
        .version_id_marker
        .as_deref()
        .is_some_and(|v| !v.is_empty())
        && key_marker.is_none()
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "A version-id marker cannot be specified without a key marker.",
        ));
    }
    let query = VersionsQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: delimiter(input.delimiter.as_deref()),
        key_marker,
        version_id_marker: input.version_id_marker.clone().filter(|v| !v.is_empty()),
        max_keys: max,
    };
    let page = if max == 0 {
        s3.engine.bucket(&input.bucket).s3()?;
        VersionsPage::default()
    } else {
        blocking(|| s3.engine.list_versions(&input.bucket, &query)).s3()?
    };

    let mut versions = Vec::new();
    let mut markers = Vec::new();
    for v in page.versions {
        if v.is_delete_marker {
            markers.push(DeleteMarkerEntry {
                key: Some(enc.apply(v.key)),
                version_id: Some(version_listed(v.version_id.as_ref())),
                is_latest: Some(v.is_latest),
                last_modified: Some(ts(v.last_modified)),
                owner: Some(owner()),
            });
        } else {
            versions.push(ObjectVersion {
                key: Some(enc.apply(v.key)),
                version_id: Some(version_listed(v.version_id.as_ref())),
                is_latest: Some(v.is_latest),
                last_modified: Some(ts(v.last_modified)),
                e_tag: Some(etag(&v.etag)),
                size: i64::try_from(v.size).ok(),
                storage_class: Some(ObjectVersionStorageClass::from_static(
                    ObjectVersionStorageClass::STANDARD,
                )),
                owner: Some(owner()),
                ..Default::default()
            });
        }
    }
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(enc.apply(input.prefix.unwrap_or_default())),
        delimiter: enc.apply_opt(delimiter(input.delimiter.as_deref())),
        key_marker: Some(enc.apply(input.key_marker.unwrap_or_default())),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        next_key_marker: if page.is_truncated {
            enc.apply_opt(page.next_key_marker)
        } else {
            None
        },
        next_version_id_marker: if page.is_truncated {
            page.next_version_id_marker
        } else {
            None
        },
        max_keys: i32::try_from(max).ok(),
        is_truncated: Some(page.is_truncated),
        versions: (!versions.is_empty()).then_some(versions),
        delete_markers: (!markers.is_empty()).then_some(markers),
        common_prefixes: prefixes(page.common_prefixes, enc),
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_status_parsing() {
        let en = BucketVersioningStatus::from_static(BucketVersioningStatus::ENABLED);
        let su = BucketVersioningStatus::from_static(BucketVersioningStatus::SUSPENDED);
        assert_eq!(parse_status(Some(&en)).unwrap(), VersioningState::Enabled);
        assert_eq!(parse_status(Some(&su)).unwrap(), VersioningState::Suspended);
        assert!(parse_status(None).is_err());
        assert!(parse_status(Some(&BucketVersioningStatus::from_static("On"))).is_err());
    }
}
