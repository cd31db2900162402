//! The `BUCKET[/PREFIX]` (grant, revoke) and `BUCKET/KEY` (share) arguments.

/// Where a grant applies: a bucket (or `*`, every bucket) and an optional key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTarget {
    pub bucket: String,
    /// Empty means the whole bucket.
    pub prefix: String,
}

/// One object, for `share`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTarget {
    pub bucket: String,
    pub key: String,
}

/// `backups` → whole bucket; `backups/db/` → prefix `db/`; `*` → every bucket. The split is at
/// the first `/` because bucket names cannot hold one and prefixes often do.
pub fn parse_grant_target(s: &str) -> Result<GrantTarget, String> {
    let (bucket, prefix) = s.split_once('/').unwrap_or((s, ""));
    if bucket.is_empty() {
        return Err(format!(
            "`{s}` has no bucket name (expected BUCKET, BUCKET/PREFIX or `*`)"
        ));
    }
    Ok(GrantTarget {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
    })
}

/// `backups/db/latest.dump` → bucket `backups`, key `db/latest.dump`.
pub fn parse_object_target(s: &str) -> Result<ObjectTarget, String> {
    match s.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(ObjectTarget {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }),
        _ => Err(format!(
            "`{s}` is not BUCKET/KEY (e.g. backups/db/latest.dump)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_targets() {
        let t = parse_grant_target("backups").unwrap();
        assert_eq!((t.bucket.as_str(), t.prefix.as_str()), ("backups", ""));
        let t = parse_grant_target("backups/").unwrap();
        assert_eq!((t.bucket.as_str(), t.prefix.as_str()), ("backups", ""));
        let t = parse_grant_target("backups/db/wal/").unwrap();
        assert_eq!(
            (t.bucket.as_str(), t.prefix.as_str()),
            ("backups", "db/wal/")
        );
        let t = parse_grant_target("*").unwrap();
        assert_eq!((t.bucket.as_str(), t.prefix.as_str()), ("*", ""));
        assert!(parse_grant_target("").is_err());
        assert!(parse_grant_target("/db").is_err());
    }

    #[test]
    fn object_targets() {
        let t = parse_object_target("dumps/latest/db.dump").unwrap();
        assert_eq!(
            (t.bucket.as_str(), t.key.as_str()),
            ("dumps", "latest/db.dump")
        );
        assert!(parse_object_target("dumps").is_err());
        assert!(parse_object_target("dumps/").is_err());
        assert!(parse_object_target("/x").is_err());
    }
}
