//! The `BUCKET[/PREFIX]` (grant, revoke, retention) and `BUCKET/KEY` (share) arguments.

/// Where a grant applies: a bucket (or `*`, every bucket) and an optional key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTarget {
    pub bucket: String,
    /// Empty means the whole bucket.
    pub prefix: String,
}

/// Which retention rule: a bucket's (`prefix` empty) or a prefix's. `prefix`
/// is `None` when no `/` was given, which only `retention plan` tells apart
/// (all rules, rather than the whole bucket's rule alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTarget {
    pub bucket: String,
    pub prefix: Option<String>,
}

impl RuleTarget {
    /// The rule's prefix, empty for the whole bucket.
    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or_default()
    }
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

/// `backups` → the bucket; `backups/` → its whole-bucket rule; `backups/db/`
/// → prefix `db/`. Rules are per bucket, so `*` is not a bucket here.
pub fn parse_rule_target(s: &str) -> Result<RuleTarget, String> {
    let (bucket, prefix) = match s.split_once('/') {
        Some((bucket, prefix)) => (bucket, Some(prefix.to_owned())),
        None => (s, None),
    };
    if bucket.is_empty() || bucket == "*" {
        return Err(format!(
            "`{s}` has no bucket name (expected BUCKET or BUCKET/PREFIX)"
        ));
    }
    Ok(RuleTarget {
        bucket: bucket.to_owned(),
        prefix,
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
    fn rule_targets() {
        let t = |s: &str| parse_rule_target(s).map(|t| (t.bucket, t.prefix));
        assert_eq!(t("backups"), Ok(("backups".into(), None)));
        assert_eq!(t("backups/"), Ok(("backups".into(), Some(String::new()))));
        assert_eq!(
            t("backups/db/wal/"),
            Ok(("backups".into(), Some("db/wal/".into())))
        );
        assert_eq!(parse_rule_target("backups").unwrap().prefix(), "");
        assert!(parse_rule_target("*").is_err());
        assert!(parse_rule_target("*/db/").is_err());
        assert!(parse_rule_target("").is_err());
        assert!(parse_rule_target("/db/").is_err());
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
