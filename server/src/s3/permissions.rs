//! The one table of what each S3 operation requires: a permission and the
//! scope it is checked on. `docs/security.md` mirrors it; a test keeps it in
//! step with the operations `CofferS3` implements (`service.rs`).

use crate::engine::access::Permission;

/// Where a required permission must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Any signed request may ask; the answer is filtered by the key's grants (ListBuckets).
    Service,
    /// The whole bucket: a grant on the bucket (or `*`) without a prefix.
    Bucket,
    /// Bucket-level facts (location, versioning state, existence): a grant on
    /// any part of the bucket suffices, so a prefix-scoped client can start up.
    BucketAnyPrefix,
    /// The object key named in the path must lie inside a granted prefix.
    Object,
    /// A listing: its `prefix` parameter must lie inside a granted prefix.
    Listing,
    /// DeleteObjects: every key in the body must lie inside a granted prefix.
    EachKey,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The s3s operation name (`S3Operation::name`).
    pub op: &'static str,
    /// `None` only for ListBuckets (any valid key; filtered).
    pub permission: Option<Permission>,
    pub scope: Scope,
    /// Whether the operation changes anything (for docs and tests).
    pub mutating: bool,
}

const fn rule(op: &'static str, p: Permission, scope: Scope, mutating: bool) -> Rule {
    Rule {
        op,
        permission: Some(p),
        scope,
        mutating,
    }
}

use Permission::{Delete, Owner, Read, Write};
use Scope::{Bucket, BucketAnyPrefix, EachKey, Listing, Object};

/// Every operation `CofferS3` implements. An operation that is not here is
/// refused to every key but admin keys (deny by default). CopyObject and
/// UploadPartCopy additionally need `read` on their source object.
pub const RULES: &[Rule] = &[
    Rule {
        op: "ListBuckets",
        permission: None,
        scope: Scope::Service,
        mutating: false,
    },
    rule("CreateBucket", Owner, Bucket, true),
    rule("DeleteBucket", Owner, Bucket, true),
    rule("PutBucketVersioning", Owner, Bucket, true),
    rule("HeadBucket", Read, BucketAnyPrefix, false),
    rule("GetBucketLocation", Read, BucketAnyPrefix, false),
    rule("GetBucketVersioning", Read, BucketAnyPrefix, false),
    rule("GetBucketTagging", Read, BucketAnyPrefix, false),
    rule("PutBucketTagging", Owner, Bucket, true),
    rule("DeleteBucketTagging", Owner, Bucket, true),
    rule("GetBucketEncryption", Read, BucketAnyPrefix, false),
    rule("PutBucketEncryption", Owner, Bucket, true),
    rule("DeleteBucketEncryption", Owner, Bucket, true),
    rule(
        "GetBucketLifecycleConfiguration",
        Read,
        BucketAnyPrefix,
        false,
    ),
    rule("PutBucketLifecycleConfiguration", Owner, Bucket, true),
    rule("GetObjectLockConfiguration", Read, BucketAnyPrefix, false),
    rule("PutObjectLockConfiguration", Owner, Bucket, true),
    rule("DeleteBucketLifecycle", Owner, Bucket, true),
    // Settings that cannot be set yet: read as never set (`bucket_defaults.rs`).
    rule("GetBucketPolicy", Read, BucketAnyPrefix, false),
    rule("GetBucketPolicyStatus", Read, BucketAnyPrefix, false),
    rule("GetBucketCors", Read, BucketAnyPrefix, false),
    rule("GetBucketWebsite", Read, BucketAnyPrefix, false),
    rule("GetBucketReplication", Read, BucketAnyPrefix, false),
    rule("GetBucketOwnershipControls", Read, BucketAnyPrefix, false),
    rule("GetPublicAccessBlock", Read, BucketAnyPrefix, false),
    rule("ListObjects", Read, Listing, false),
    rule("ListObjectsV2", Read, Listing, false),
    rule("ListObjectVersions", Read, Listing, false),
    rule("ListMultipartUploads", Read, Listing, false),
    rule("GetObject", Read, Object, false),
    rule("HeadObject", Read, Object, false),
    rule("ListParts", Read, Object, false),
    rule("GetObjectTagging", Read, Object, false),
    rule("GetObjectRetention", Read, Object, false),
    rule("GetObjectLegalHold", Read, Object, false),
    // Extending retention only protects more; shortening or removing
    // GOVERNANCE needs `bypass-governance` as well (checked by the engine).
    rule("PutObjectRetention", Write, Object, true),
    // Taking a legal hold off is a weakening: for owners only.
    rule("PutObjectLegalHold", Owner, Object, true),
    rule("PutObjectTagging", Write, Object, true),
    rule("DeleteObjectTagging", Write, Object, true),
    rule("PutObject", Write, Object, true),
    rule("CopyObject", Write, Object, true),
    rule("CreateMultipartUpload", Write, Object, true),
    rule("UploadPart", Write, Object, true),
    rule("UploadPartCopy", Write, Object, true),
    rule("CompleteMultipartUpload", Write, Object, true),
    rule("AbortMultipartUpload", Write, Object, true),
    rule("DeleteObject", Delete, Object, true),
    rule("DeleteObjects", Delete, EachKey, true),
];

/// The rule of an operation, `None` when the table does not list it.
pub fn rule_for(op: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.op == op)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `list_objects_v2` → `ListObjectsV2`, as s3s names operations.
    fn op_name(method: &str) -> String {
        method
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect()
    }

    /// Every `async fn` of `impl S3 for CofferS3` has a row, and every row an
    /// implementation: a new operation cannot be added without deciding what
    /// it requires.
    #[test]
    fn table_matches_the_implemented_operations() {
        let src = include_str!("service.rs");
        let implemented: Vec<String> = src
            .lines()
            .filter_map(|l| l.trim().strip_prefix("async fn "))
            .filter_map(|rest| rest.split('(').next())
            .map(|m| op_name(m.trim()))
            .collect();
        assert!(implemented.len() >= 20, "parsed {implemented:?}");
        for op in &implemented {
            assert!(
                rule_for(op).is_some(),
                "{op} is implemented but has no row in RULES"
            );
        }
        for r in RULES {
            assert!(
                implemented.iter().any(|op| op == r.op),
                "{} has a row but is not implemented",
                r.op
            );
        }
        let mut names: Vec<_> = RULES.iter().map(|r| r.op).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len(), "an operation has two rows");
    }

    #[test]
    fn read_rows_do_not_mutate_and_write_rows_do() {
        for r in RULES {
            if r.permission == Some(Permission::Read) || r.permission.is_none() {
                assert!(!r.mutating, "{}", r.op);
            } else {
                assert!(r.mutating, "{}", r.op);
            }
        }
    }
}
