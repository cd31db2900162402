//! Requests for protections Coffer does not enforce, refused with AWS's
//! errors rather than accepted and ignored: a client that asked for KMS or
//! customer-key encryption or an append must not get a 200 and believe it
//! has what it asked for. (Object lock headers are enforced:
//! `object_lock.rs`.)
//!
//! - `x-amz-server-side-encryption: AES256` is what Coffer does to every
//!   object (AES-256-GCM under the repository key) and is accepted; KMS
//!   (`aws:kms`, `aws:kms:dsse`, a KMS key id or context) and customer keys
//!   (SSE-C) need keys Coffer does not hold: 501 `NotImplemented`.
//! - `x-amz-write-offset-bytes` (append): 501 `NotImplemented`, not the body
//!   written over the object.

use s3s::dto::{CopyObjectInput, CreateMultipartUploadInput, PutObjectInput, ServerSideEncryption};
use s3s::{S3Error, S3ErrorCode, S3Result};

/// What a write asks for beyond storing its bytes.
#[derive(Debug, Default)]
pub struct Requested<'a> {
    pub server_side_encryption: Option<&'a ServerSideEncryption>,
    /// `x-amz-server-side-encryption-aws-kms-key-id` or `-context`.
    pub kms_key: bool,
    pub sse_customer_algorithm: Option<&'a str>,
    pub write_offset: bool,
}

fn not_implemented(what: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!("A header you provided implies functionality that is not implemented: {what}."),
    )
}

/// Refuses the write if it asks for a protection (or a feature) Coffer would
/// not give it.
pub fn refuse_unenforced(r: &Requested<'_>) -> S3Result<()> {
    refuse_sse_c(r.sse_customer_algorithm)?;
    match r.server_side_encryption.map(ServerSideEncryption::as_str) {
        None | Some(ServerSideEncryption::AES256) => {}
        Some(ServerSideEncryption::AWS_KMS | ServerSideEncryption::AWS_KMS_DSSE) => {
            return Err(not_implemented(
                "server-side encryption with KMS keys (Coffer encrypts every object with its own AES-256 key; ask for AES256 or nothing)",
            ));
        }
        Some(_) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "The encryption method specified is not supported",
            ));
        }
    }
    if r.kms_key {
        return Err(not_implemented("a KMS key id or encryption context"));
    }
    if r.write_offset {
        return Err(not_implemented("appends (x-amz-write-offset-bytes)"));
    }
    Ok(())
}

/// Coffer encrypts everything itself and keeps no customer keys: refusing
/// SSE-C beats silently storing data the client believes is under its key.
pub fn refuse_sse_c(sse_customer_algorithm: Option<&str>) -> S3Result<()> {
    match sse_customer_algorithm {
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Server-side encryption with customer-provided keys is not supported",
        )),
        None => Ok(()),
    }
}

/// The fields PutObject, CreateMultipartUpload and CopyObject inputs share
/// (distinct types with the same names).
macro_rules! requested_from {
    ($input:ty, |$i:ident| write_offset: $write_offset:expr) => {
        impl<'a> From<&'a $input> for Requested<'a> {
            fn from($i: &'a $input) -> Self {
                Requested {
                    server_side_encryption: $i.server_side_encryption.as_ref(),
                    kms_key: $i.ssekms_key_id.is_some() || $i.ssekms_encryption_context.is_some(),
                    sse_customer_algorithm: $i.sse_customer_algorithm.as_deref(),
                    write_offset: $write_offset,
                }
            }
        }
    };
}

requested_from!(PutObjectInput, |i| write_offset: i.write_offset_bytes.is_some());
requested_from!(CreateMultipartUploadInput, |i| write_offset: false);
requested_from!(CopyObjectInput, |i| write_offset: false);

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: S3Result<()>) -> String {
        r.unwrap_err().code().as_str().to_owned()
    }

    #[test]
    fn protections_not_enforced_are_refused_with_aws_codes() {
        assert!(refuse_unenforced(&Requested::default()).is_ok());
        assert!(refuse_sse_c(None).is_ok());
        let aes = ServerSideEncryption::from_static(ServerSideEncryption::AES256);
        assert!(
            refuse_unenforced(&Requested {
                server_side_encryption: Some(&aes),
                ..Default::default()
            })
            .is_ok()
        );
        let kms = ServerSideEncryption::from_static(ServerSideEncryption::AWS_KMS);
        assert_eq!(
            code(refuse_unenforced(&Requested {
                server_side_encryption: Some(&kms),
                ..Default::default()
            })),
            "NotImplemented"
        );
        let bogus = ServerSideEncryption::from_static("rot13");
        assert_eq!(
            code(refuse_unenforced(&Requested {
                server_side_encryption: Some(&bogus),
                ..Default::default()
            })),
            "InvalidArgument"
        );
        for r in [
            Requested {
                kms_key: true,
                ..Default::default()
            },
            Requested {
                write_offset: true,
                ..Default::default()
            },
            Requested {
                sse_customer_algorithm: Some("AES256"),
                ..Default::default()
            },
        ] {
            assert_eq!(code(refuse_unenforced(&r)), "NotImplemented");
        }
    }
}
