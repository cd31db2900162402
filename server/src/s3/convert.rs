//! Conversions between the engine's vocabulary and s3s's DTOs: object
//! metadata, timestamps, ETags, version ids.

use s3s::dto::{ETag, Metadata, Owner, Timestamp, TimestampFormat};
use s3s::{S3Error, S3ErrorCode};
use time::OffsetDateTime;

use crate::engine::{ObjectInfo, ObjectMeta, VersionId};

pub fn ts(t: OffsetDateTime) -> Timestamp {
    Timestamp::from(t)
}

pub fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

/// The owner shown in listings: Coffer has a single tenant.
pub fn owner() -> Owner {
    Owner {
        display_name: Some("coffer".to_owned()),
        id: Some("coffer".to_owned()),
    }
}

/// `versionId` as a client sent it.
pub fn version(v: Option<&str>) -> Option<VersionId> {
    v.map(VersionId::parse)
}

/// The `x-amz-version-id` a response carries (none for never-versioned buckets).
pub fn version_out(v: Option<&VersionId>) -> Option<String> {
    v.map(|v| v.as_str().to_owned())
}

/// Version id as listed by ListObjectVersions (always present there).
pub fn version_listed(v: Option<&VersionId>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.as_str().to_owned())
}

/// Moves the metadata fields out of an s3s input (PutObject, CopyObject and
/// CreateMultipartUpload inputs name them alike but are distinct types).
macro_rules! meta_input_from {
    ($input:expr) => {
        $crate::s3::convert::MetaInput {
            content_type: $input.content_type,
            cache_control: $input.cache_control,
            content_disposition: $input.content_disposition,
            content_encoding: $input.content_encoding,
            content_language: $input.content_language,
            expires: $input.expires,
            website_redirect_location: $input.website_redirect_location,
            metadata: $input.metadata,
            tagging: $input.tagging,
        }
    };
}
pub(crate) use meta_input_from;

/// Metadata headers a PUT, CopyObject (REPLACE) or CreateMultipartUpload carries.
#[derive(Debug, Default)]
pub struct MetaInput {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<Timestamp>,
    pub website_redirect_location: Option<String>,
    pub metadata: Option<Metadata>,
    /// `x-amz-tagging`: the tag set in URL query form.
    pub tagging: Option<String>,
}

impl MetaInput {
    pub fn into_meta(self) -> Result<ObjectMeta, S3Error> {
        let mut system = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                system.push((name.to_owned(), v));
            }
        };
        push("cache-control", self.cache_control);
        push("content-disposition", self.content_disposition);
        push(
            "content-encoding",
            self.content_encoding.and_then(|v| strip_aws_chunked(&v)),
        );
        push("content-language", self.content_language);
        push("expires", self.expires.map(|t| http_date(&t)).transpose()?);
        push("website-redirect-location", self.website_redirect_location);
        let mut user: Vec<(String, String)> = self
            .metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        user.sort();
        // The body a client sends with the type missing is still stored without one;
        // GET then answers with no Content-Type, like S3 does for such objects.
        Ok(ObjectMeta {
            content_type: self.content_type,
            system,
            user,
            tags: tag_header(self.tagging.as_deref())?,
            lock: Default::default(),
        })
    }
}

/// The tag set of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded),
/// checked against AWS's limits.
pub fn tag_header(value: Option<&str>) -> Result<Vec<(String, String)>, S3Error> {
    let tags = super::query::parse_query(value);
    crate::engine::tags::check(&tags, false)
        .map_err(|e| S3Error::with_message(S3ErrorCode::InvalidTag, e.to_string()))?;
    Ok(tags)
}

/// `aws-chunked` describes the transfer, not the object: S3 drops it from the
/// stored Content-Encoding.
fn strip_aws_chunked(value: &str) -> Option<String> {
    let kept: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

fn http_date(t: &Timestamp) -> Result<String, S3Error> {
    let mut buf = Vec::new();
    t.format(TimestampFormat::HttpDate, &mut buf).map_err(|_| {
        S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid Expires header")
    })?;
    String::from_utf8(buf)
        .map_err(|_| S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid Expires header"))
}

/// Metadata of a stored version, as response fields.
#[derive(Debug, Default)]
pub struct MetaOutput {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<Timestamp>,
    pub website_redirect_location: Option<String>,
    pub metadata: Option<Metadata>,
}

impl MetaOutput {
    pub fn from_info(info: &ObjectInfo) -> Self {
        let meta = &info.meta;
        let get = |name: &str| {
            meta.system
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let metadata: Metadata = meta.user.iter().cloned().collect();
        MetaOutput {
            content_type: meta.content_type.clone(),
            cache_control: get("cache-control"),
            content_disposition: get("content-disposition"),
            content_encoding: get("content-encoding"),
            content_language: get("content-language"),
            expires: get("expires")
                .and_then(|v| Timestamp::parse(TimestampFormat::HttpDate, &v).ok()),
            website_redirect_location: get("website-redirect-location"),
            metadata: (!metadata.is_empty()).then_some(metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip() {
        let mut m = Metadata::default();
        m.insert("Mixed-Case".into(), "v".into());
        let expires =
            Timestamp::parse(TimestampFormat::HttpDate, "Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        let meta = MetaInput {
            content_type: Some("text/plain".into()),
            cache_control: Some("no-cache".into()),
            content_encoding: Some("aws-chunked, gzip".into()),
            expires: Some(expires.clone()),
            metadata: Some(m),
            ..Default::default()
        }
        .into_meta()
        .unwrap();
        assert_eq!(meta.user, vec![("mixed-case".to_owned(), "v".to_owned())]);
        assert!(
            meta.system
                .contains(&("content-encoding".to_owned(), "gzip".to_owned()))
        );

        let info = ObjectInfo {
            bucket: "b".into(),
            key: "k".into(),
            version_id: None,
            is_latest: true,
            is_delete_marker: false,
            last_modified: OffsetDateTime::UNIX_EPOCH,
            size: 0,
            etag: "e".into(),
            meta,
            checksums: vec![],
            checksum_full_object: true,
            parts_count: None,
            part_sizes: std::sync::Arc::from(Vec::new()),
        };
        let out = MetaOutput::from_info(&info);
        assert_eq!(out.content_type.as_deref(), Some("text/plain"));
        assert_eq!(out.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(out.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(out.expires, Some(expires));
        assert_eq!(
            out.metadata.unwrap().get("mixed-case").map(String::as_str),
            Some("v")
        );
    }

    #[test]
    fn aws_chunked_alone_leaves_no_content_encoding() {
        assert_eq!(strip_aws_chunked("aws-chunked"), None);
        assert_eq!(strip_aws_chunked("gzip"), Some("gzip".into()));
    }

    #[test]
    fn version_ids() {
        assert_eq!(version(Some("null")), Some(VersionId::Null));
        assert_eq!(version_out(None), None);
        assert_eq!(version_listed(None), "null");
        assert_eq!(version_listed(Some(&VersionId::Id("x".into()))), "x");
    }
}
