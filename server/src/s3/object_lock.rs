//! Object lock over S3: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
//! Put/GetObjectLegalHold, the lock headers of writes (PutObject, CopyObject,
//! CreateMultipartUpload) and of GET/HEAD, and who may bypass governance.
//! What a lock forbids is decided by the engine (`engine::object_lock`).

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use time::OffsetDateTime;

use super::CofferS3;
use super::access::request_grants;
use super::convert::{ts, version};
use super::error::EngineResultExt;
use crate::engine::access::Permission;
use crate::engine::object_lock::{
    BucketLock, DefaultRetention, LockError, LockMode, Period, Retention, VersionLock,
};
use crate::engine::{LockChange, ObjectInfo};

fn invalid_argument(m: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, m.to_owned())
}

fn missing_configuration() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        LockError::NotEnabled.to_string(),
    )
}

fn mode_of(m: &str) -> S3Result<LockMode> {
    LockMode::parse(m).ok_or_else(|| invalid_argument("Unknown wormMode directive."))
}

fn in_future(until: OffsetDateTime, now: OffsetDateTime) -> S3Result<OffsetDateTime> {
    if until <= now {
        return Err(invalid_argument(
            "The retain until date must be in the future!",
        ));
    }
    Ok(until)
}

/// The lock headers of a PutObject, CopyObject or CreateMultipartUpload
/// input (distinct types with the same field names).
macro_rules! lock_headers {
    ($input:expr) => {
        $crate::s3::object_lock::LockHeaders {
            mode: $input.object_lock_mode.as_ref(),
            retain_until: $input.object_lock_retain_until_date.as_ref(),
            legal_hold: $input.object_lock_legal_hold_status.as_ref(),
        }
    };
}
pub(crate) use lock_headers;

/// The lock headers of a write.
pub struct LockHeaders<'a> {
    pub mode: Option<&'a ObjectLockMode>,
    pub retain_until: Option<&'a Timestamp>,
    pub legal_hold: Option<&'a ObjectLockLegalHoldStatus>,
}

/// The lock a new version gets: the one its headers ask for, or the
/// bucket's default retention. Headers on a bucket without object lock are
/// refused as AWS refuses them, never stored and ignored.
pub fn lock_for_write(s3: &CofferS3, bucket: &str, h: &LockHeaders<'_>) -> S3Result<VersionLock> {
    let asked = h.mode.is_some() || h.retain_until.is_some() || h.legal_hold.is_some();
    let bucket_lock = match s3.engine.bucket_lock(bucket) {
        Ok(l) => l,
        // The write itself reports the missing bucket.
        Err(crate::engine::EngineError::NoSuchBucket(_)) if !asked => {
            return Ok(VersionLock::default());
        }
        Err(e) => return Err(super::error::to_s3(e)),
    };
    let Some(bucket_lock) = bucket_lock else {
        return if asked {
            Err(missing_configuration())
        } else {
            Ok(VersionLock::default())
        };
    };
    let now = s3.engine.now();
    let retention = match (h.mode, h.retain_until) {
        (Some(m), Some(t)) => Some(Retention {
            mode: mode_of(m.as_str())?,
            until: in_future(OffsetDateTime::from(t.clone()), now)?,
        }),
        (None, None) => bucket_lock.default.map(|d| d.from(now)),
        _ => {
            return Err(invalid_argument(
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            ));
        }
    };
    let legal_hold = match h.legal_hold.map(ObjectLockLegalHoldStatus::as_str) {
        None => None,
        Some(ObjectLockLegalHoldStatus::ON) => Some(true),
        Some(ObjectLockLegalHoldStatus::OFF) => Some(false),
        Some(_) => {
            return Err(invalid_argument(
                "Legal Hold must be either of 'ON' or 'OFF'",
            ));
        }
    };
    Ok(VersionLock {
        retention,
        legal_hold,
    })
}

/// The lock fields of a GET or HEAD answer.
pub struct LockOutput {
    pub mode: Option<ObjectLockMode>,
    pub retain_until: Option<Timestamp>,
    pub legal_hold: Option<ObjectLockLegalHoldStatus>,
}

pub fn lock_output(info: &ObjectInfo) -> LockOutput {
    let lock = &info.meta.lock;
    LockOutput {
        mode: lock
            .retention
            .map(|r| ObjectLockMode::from(r.mode.as_str().to_owned())),
        retain_until: lock.retention.map(|r| ts(r.until)),
        legal_hold: lock.legal_hold.map(hold_status),
    }
}

fn hold_status(on: bool) -> ObjectLockLegalHoldStatus {
    ObjectLockLegalHoldStatus::from_static(if on {
        ObjectLockLegalHoldStatus::ON
    } else {
        ObjectLockLegalHoldStatus::OFF
    })
}

/// Whether a request may bypass governance retention: it asked
/// (`x-amz-bypass-governance-retention: true`) and its key holds the
/// `bypass-governance` permission on the object (admin keys hold every one).
pub fn may_bypass<T>(req: &S3Request<T>, asked: Option<bool>, bucket: &str, key: &str) -> bool {
    asked == Some(true)
        && request_grants(req)
            .is_some_and(|k| k.allows_object(bucket, key, Permission::BypassGovernance))
}

fn default_of(rule: Option<ObjectLockRule>) -> S3Result<Option<DefaultRetention>> {
    let Some(d) = rule.and_then(|r| r.default_retention) else {
        return Ok(None);
    };
    let mode = mode_of(
        d.mode
            .as_ref()
            .map(ObjectLockRetentionMode::as_str)
            .unwrap_or(""),
    )?;
    let positive = |n: i32| {
        u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            invalid_argument("Default retention period must be a positive integer value")
        })
    };
    let period = match (d.days, d.years) {
        (Some(days), None) => Period::Days(positive(days)?),
        (None, Some(years)) => Period::Years(positive(years)?),
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema: DefaultRetention holds one of Days or Years",
            ));
        }
    };
    Ok(Some(DefaultRetention { mode, period }))
}

pub async fn put_object_lock_configuration(
    s3: &CofferS3,
    req: S3Request<PutObjectLockConfigurationInput>,
) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
    let input = req.input;
    let Some(config) = input.object_lock_configuration else {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    };
    if config
        .object_lock_enabled
        .as_ref()
        .map(ObjectLockEnabled::as_str)
        != Some(ObjectLockEnabled::ENABLED)
    {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema: ObjectLockEnabled must be Enabled",
        ));
    }
    let lock = BucketLock {
        default: default_of(config.rule)?,
    };
    super::blocking::blocking(|| s3.engine.put_bucket_lock(&input.bucket, lock)).s3()?;
    Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
}

pub async fn get_object_lock_configuration(
    s3: &CofferS3,
    req: S3Request<GetObjectLockConfigurationInput>,
) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
    let Some(lock) = s3.engine.bucket_lock(&req.input.bucket).s3()? else {
        return Err(S3Error::with_message(
            S3ErrorCode::ObjectLockConfigurationNotFoundError,
            "Object Lock configuration does not exist for this bucket",
        ));
    };
    let rule = lock.default.map(|d| ObjectLockRule {
        default_retention: Some(DefaultRetention_ {
            mode: Some(ObjectLockRetentionMode::from(d.mode.as_str().to_owned())),
            days: match d.period {
                Period::Days(n) => i32::try_from(n).ok(),
                Period::Years(_) => None,
            },
            years: match d.period {
                Period::Years(n) => i32::try_from(n).ok(),
                Period::Days(_) => None,
            },
        }),
    });
    Ok(S3Response::new(GetObjectLockConfigurationOutput {
        object_lock_configuration: Some(ObjectLockConfiguration {
            object_lock_enabled: Some(ObjectLockEnabled::from_static(ObjectLockEnabled::ENABLED)),
            rule,
        }),
    }))
}

type DefaultRetention_ = s3s::dto::DefaultRetention;

fn no_lock_configuration() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchObjectLockConfiguration,
        "The specified object does not have a ObjectLock configuration",
    )
}

/// One part of the lock of the version a Get{Retention,LegalHold} names,
/// in a bucket that has object lock; `NoSuchObjectLockConfiguration` when
/// the version has none.
fn version_lock_part<T>(
    s3: &CofferS3,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    part: impl FnOnce(&VersionLock) -> Option<T>,
) -> S3Result<T> {
    if s3.engine.bucket_lock(bucket).s3()?.is_none() {
        return Err(missing_configuration());
    }
    let v = version(version_id);
    let info = s3.engine.head_object(bucket, key, v.as_ref()).s3()?;
    part(&info.meta.lock).ok_or_else(no_lock_configuration)
}

/// Applies a retention or legal-hold change to the version named (latest
/// without a version id).
async fn change_lock(
    s3: &CofferS3,
    bucket: &str,
    key: &str,
    version_id: Option<String>,
    change: LockChange,
) -> S3Result<()> {
    let v = version(version_id.as_deref());
    s3.engine
        .change_version_lock(bucket, key, v.as_ref(), change)
        .await
        .s3()
        .map(|_| ())
}

pub async fn put_object_retention(
    s3: &CofferS3,
    req: S3Request<PutObjectRetentionInput>,
) -> S3Result<S3Response<PutObjectRetentionOutput>> {
    let bypass = may_bypass(
        &req,
        req.input.bypass_governance_retention,
        &req.input.bucket,
        &req.input.key,
    );
    let input = req.input;
    let retention = match input.retention {
        None => None,
        Some(r) => match (r.mode, r.retain_until_date) {
            (Some(m), Some(t)) => Some(Retention {
                mode: mode_of(m.as_str())?,
                until: OffsetDateTime::from(t),
            }),
            (None, None) => None,
            _ => {
                return Err(S3Error::with_message(
                    S3ErrorCode::MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema: Retention needs both Mode and RetainUntilDate",
                ));
            }
        },
    };
    let change = LockChange::Retention { retention, bypass };
    change_lock(s3, &input.bucket, &input.key, input.version_id, change).await?;
    Ok(S3Response::new(PutObjectRetentionOutput::default()))
}

pub async fn get_object_retention(
    s3: &CofferS3,
    req: S3Request<GetObjectRetentionInput>,
) -> S3Result<S3Response<GetObjectRetentionOutput>> {
    let i = &req.input;
    let r = version_lock_part(s3, &i.bucket, &i.key, i.version_id.as_deref(), |l| {
        l.retention
    })?;
    Ok(S3Response::new(GetObjectRetentionOutput {
        retention: Some(ObjectLockRetention {
            mode: Some(ObjectLockRetentionMode::from(r.mode.as_str().to_owned())),
            retain_until_date: Some(ts(r.until)),
        }),
    }))
}

pub async fn put_object_legal_hold(
    s3: &CofferS3,
    req: S3Request<PutObjectLegalHoldInput>,
) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
    let input = req.input;
    let on = match input
        .legal_hold
        .and_then(|h| h.status)
        .as_ref()
        .map(ObjectLockLegalHoldStatus::as_str)
    {
        Some(ObjectLockLegalHoldStatus::ON) => true,
        Some(ObjectLockLegalHoldStatus::OFF) => false,
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema: LegalHold Status is ON or OFF",
            ));
        }
    };
    let change = LockChange::LegalHold(on);
    change_lock(s3, &input.bucket, &input.key, input.version_id, change).await?;
    Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
}

pub async fn get_object_legal_hold(
    s3: &CofferS3,
    req: S3Request<GetObjectLegalHoldInput>,
) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
    let i = &req.input;
    let on = version_lock_part(s3, &i.bucket, &i.key, i.version_id.as_deref(), |l| {
        l.legal_hold
    })?;
    Ok(S3Response::new(GetObjectLegalHoldOutput {
        legal_hold: Some(ObjectLockLegalHold {
            status: Some(hold_status(on)),
        }),
    }))
}
