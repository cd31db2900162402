//! Tag sets of objects and buckets: AWS's limits, and how an object's tags
//! are stored.
//!
//! An object's tags are part of its version: they live in the version's
//! sealed manifest (and in a pending multipart upload's sealed record) as
//! entries of the system-metadata list named `NUL "tag:" key`. A NUL can be
//! in no HTTP header name, so a tag entry can never be mistaken for a
//! system header, and manifests written before tags existed read as having
//! none; the encodings themselves are unchanged (`repo-format/DESIGN.md`).

/// AWS's limits.
pub const MAX_OBJECT_TAGS: usize = 10;
pub const MAX_BUCKET_TAGS: usize = 50;
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;

/// The system-metadata name prefix of a stored tag.
const STORED_PREFIX: &str = "\0tag:";

/// One tag set, in the order the client gave it.
pub type TagSet = Vec<(String, String)>;

/// Why a tag set is refused; the S3 front answers each with `InvalidTag`
/// and AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    #[error("Object tags cannot be greater than 10")]
    TooManyObjectTags,
    #[error("Bucket tag count cannot be greater than 50")]
    TooManyBucketTags,
    #[error("The TagKey you have provided is too long, max 128")]
    KeyTooLong,
    #[error("The TagValue you have provided is too long, max 256")]
    ValueTooLong,
    #[error("The TagKey you have provided is invalid")]
    EmptyKey,
    #[error("Cannot provide multiple Tags with the same key")]
    DuplicateKey,
    #[error("Your TagKey cannot be prefixed with aws:")]
    ReservedPrefix,
    #[error("The TagKey or TagValue you have provided is invalid")]
    InvalidCharacter,
}

/// Whether a tag set may be stored on an object (`bucket = false`) or a bucket.
pub fn check(tags: &[(String, String)], bucket: bool) -> Result<(), TagError> {
    if bucket && tags.len() > MAX_BUCKET_TAGS {
        return Err(TagError::TooManyBucketTags);
    }
    if !bucket && tags.len() > MAX_OBJECT_TAGS {
        return Err(TagError::TooManyObjectTags);
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() {
            return Err(TagError::EmptyKey);
        }
        if k.chars().count() > MAX_KEY_CHARS {
            return Err(TagError::KeyTooLong);
        }
        if v.chars().count() > MAX_VALUE_CHARS {
            return Err(TagError::ValueTooLong);
        }
        if k.starts_with("aws:") {
            return Err(TagError::ReservedPrefix);
        }
        if k.chars().chain(v.chars()).any(char::is_control) {
            return Err(TagError::InvalidCharacter);
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(TagError::DuplicateKey);
        }
    }
    Ok(())
}

/// The stored system-metadata list: `system` followed by one entry per tag.
pub(crate) fn join(
    system: &[(String, String)],
    tags: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(system.len() + tags.len());
    out.extend(system.iter().cloned());
    out.extend(
        tags.iter()
            .map(|(k, v)| (format!("{STORED_PREFIX}{k}"), v.clone())),
    );
    out
}

/// A stored system-metadata list split into the headers and the tags.
pub(crate) fn split(stored: &[(String, String)]) -> (Vec<(String, String)>, TagSet) {
    let mut system = Vec::with_capacity(stored.len());
    let mut tags = Vec::new();
    for (name, value) in stored {
        match name.strip_prefix(STORED_PREFIX) {
            Some(key) => tags.push((key.to_owned(), value.clone())),
            None => system.push((name.clone(), value.clone())),
        }
    }
    (system, tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> TagSet {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn tags_round_trip_beside_system_headers() {
        let system = set(&[("cache-control", "no-store")]);
        let tags = set(&[("retention", "gfs"), ("tier", "")]);
        let stored = join(&system, &tags);
        assert_eq!(split(&stored), (system.clone(), tags));
        // Lists written before tags existed have none.
        assert_eq!(split(&system), (system, Vec::new()));
    }

    #[test]
    fn aws_limits() {
        let ten: TagSet = (0..10).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(check(&ten, false), Ok(()));
        let eleven: TagSet = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(check(&eleven, false), Err(TagError::TooManyObjectTags));
        assert_eq!(check(&eleven, true), Ok(()));
        let many: TagSet = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(check(&many, true), Err(TagError::TooManyBucketTags));
        let long_key = "k".repeat(129);
        assert_eq!(
            check(&set(&[(&long_key, "v")]), false),
            Err(TagError::KeyTooLong)
        );
        assert_eq!(check(&set(&[(&"é".repeat(128), "v")]), false), Ok(()));
        assert_eq!(
            check(&set(&[("k", &"v".repeat(257))]), false),
            Err(TagError::ValueTooLong)
        );
        assert_eq!(
            check(&set(&[("a", "1"), ("a", "2")]), false),
            Err(TagError::DuplicateKey)
        );
        assert_eq!(
            check(&set(&[("aws:createdBy", "x")]), false),
            Err(TagError::ReservedPrefix)
        );
        assert_eq!(check(&set(&[("", "x")]), false), Err(TagError::EmptyKey));
        assert_eq!(
            check(&set(&[("k", "a\0b")]), false),
            Err(TagError::InvalidCharacter)
        );
    }
}
