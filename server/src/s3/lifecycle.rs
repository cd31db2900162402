//! Put/Get/DeleteBucketLifecycleConfiguration, and the `x-amz-expiration`
//! header of object responses. The XML schema is AWS's; what it says is
//! turned into the engine's rules (`engine::lifecycle::rules`), refusing
//! what Coffer cannot do (transitions: there is one storage class) instead
//! of storing it unenforced.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::CofferS3;
use super::blocking::blocking;
use super::error::EngineResultExt;
use crate::engine::lifecycle::Expiry;
use crate::engine::lifecycle::rules::{
    self, Expiration, FilterForm, LifecycleConfig, LifecycleError, LifecycleRule,
    NoncurrentExpiration, RuleFilter,
};

const MALFORMED: &str =
    "The XML you provided was not well-formed or did not validate against our published schema";

fn malformed(detail: &str) -> LifecycleError {
    LifecycleError::Malformed(format!("{MALFORMED}: {detail}"))
}

/// The S3 error for a refused configuration.
pub fn lifecycle_error(e: LifecycleError) -> S3Error {
    match e {
        LifecycleError::Malformed(m) => S3Error::with_message(S3ErrorCode::MalformedXML, m),
        LifecycleError::InvalidArgument(m) => {
            S3Error::with_message(S3ErrorCode::InvalidArgument, m)
        }
        LifecycleError::InvalidRequest(m) => S3Error::with_message(S3ErrorCode::InvalidRequest, m),
        LifecycleError::NotImplemented(m) => S3Error::with_message(S3ErrorCode::NotImplemented, m),
    }
}

/// `x-amz-expiration`: `expiry-date="<HTTP date>", rule-id="<URL-encoded id>"`.
pub fn expiration_header(expiry: Option<Expiry>) -> Option<String> {
    let e = expiry?;
    let mut date = Vec::new();
    Timestamp::from(e.date)
        .format(TimestampFormat::HttpDate, &mut date)
        .ok()?;
    Some(format!(
        "expiry-date=\"{}\", rule-id=\"{}\"",
        String::from_utf8(date).ok()?,
        super::url_encoding::encode(&e.rule_id)
    ))
}

fn size(v: i64, what: &str) -> Result<u64, LifecycleError> {
    u64::try_from(v)
        .map_err(|_| LifecycleError::InvalidArgument(format!("'{what}' must not be negative")))
}

fn tag_pair(t: Tag) -> Result<(String, String), LifecycleError> {
    match t.key {
        Some(k) => Ok((k, t.value.unwrap_or_default())),
        None => Err(malformed("a Tag without a Key")),
    }
}

/// A rule's `Filter` (or legacy `Prefix`): exactly one of them, and inside
/// `Filter` at most one of Prefix, Tag, the sizes, And.
fn filter(
    f: Option<LifecycleRuleFilter>,
    legacy: Option<String>,
) -> Result<RuleFilter, LifecycleError> {
    let f = match (f, legacy) {
        (Some(_), Some(_)) => return Err(malformed("a rule has both Filter and Prefix")),
        (None, Some(prefix)) => {
            return Ok(RuleFilter {
                form: FilterForm::LegacyPrefix,
                prefix,
                ..RuleFilter::all()
            });
        }
        (None, None) => return Err(malformed("a rule needs a Filter or a Prefix")),
        (Some(f), None) => f,
    };
    let given = [
        f.prefix.is_some(),
        f.tag.is_some(),
        f.object_size_greater_than.is_some(),
        f.object_size_less_than.is_some(),
        f.and.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given > 1 {
        return Err(malformed(
            "a Filter holds one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or And",
        ));
    }
    let mut out = RuleFilter::all();
    if let Some(p) = f.prefix {
        out.form = FilterForm::Prefix;
        out.prefix = p;
    } else if let Some(t) = f.tag {
        out.form = FilterForm::Tag;
        out.tags = vec![tag_pair(t)?];
    } else if let Some(gt) = f.object_size_greater_than {
        out.form = FilterForm::SizeGreaterThan;
        out.size_greater_than = Some(size(gt, "ObjectSizeGreaterThan")?);
    } else if let Some(lt) = f.object_size_less_than {
        out.form = FilterForm::SizeLessThan;
        out.size_less_than = Some(size(lt, "ObjectSizeLessThan")?);
    } else if let Some(and) = f.and {
        out.form = FilterForm::And;
        out.prefix = and.prefix.unwrap_or_default();
        out.tags = and
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(tag_pair)
            .collect::<Result<_, _>>()?;
        out.size_greater_than = and
            .object_size_greater_than
            .map(|v| size(v, "ObjectSizeGreaterThan"))
            .transpose()?;
        out.size_less_than = and
            .object_size_less_than
            .map(|v| size(v, "ObjectSizeLessThan"))
            .transpose()?;
    }
    Ok(out)
}

fn expiration(e: LifecycleExpiration) -> Result<Expiration, LifecycleError> {
    match (e.days, e.date, e.expired_object_delete_marker) {
        (Some(d), None, None) => Ok(Expiration::Days(rules::days(i64::from(d), "Days")?)),
        (None, Some(t), None) => Ok(Expiration::Date(rules::date(t.into())?)),
        (None, None, Some(on)) => Ok(Expiration::ExpiredObjectDeleteMarker(on)),
        (None, None, None) => Err(malformed("an empty Expiration")),
        _ => Err(malformed(
            "Expiration holds one of Days, Date or ExpiredObjectDeleteMarker",
        )),
    }
}

/// A rule without an ID gets a random one, as AWS gives it.
fn generated_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..48)
        .map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[rng.gen_range(0..32)]))
        .collect()
}

fn rule(r: LifecycleRule_) -> Result<LifecycleRule, LifecycleError> {
    if r.transitions.as_ref().is_some_and(|t| !t.is_empty())
        || r.noncurrent_version_transitions
            .as_ref()
            .is_some_and(|t| !t.is_empty())
    {
        return Err(LifecycleError::NotImplemented(
            "Transition and NoncurrentVersionTransition are not supported: Coffer has a single storage class (STANDARD); use Expiration or NoncurrentVersionExpiration".into(),
        ));
    }
    let enabled = match r.status.as_str() {
        ExpirationStatus::ENABLED => true,
        ExpirationStatus::DISABLED => false,
        _ => return Err(malformed("Status is Enabled or Disabled")),
    };
    let noncurrent = r
        .noncurrent_version_expiration
        .map(|n| -> Result<_, LifecycleError> {
            let days = n.noncurrent_days.ok_or_else(|| {
                LifecycleError::InvalidArgument(
                    "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"
                        .into(),
                )
            })?;
            Ok(NoncurrentExpiration {
                days: rules::days(i64::from(days), "NoncurrentDays")?,
                newer_versions: n
                    .newer_noncurrent_versions
                    .map(|v| rules::newer_versions(i64::from(v)))
                    .transpose()?,
            })
        })
        .transpose()?;
    let abort_upload_days = r
        .abort_incomplete_multipart_upload
        .map(|a| match a.days_after_initiation {
            Some(d) => rules::days(i64::from(d), "DaysAfterInitiation"),
            None => Err(malformed(
                "AbortIncompleteMultipartUpload needs DaysAfterInitiation",
            )),
        })
        .transpose()?;
    Ok(LifecycleRule {
        id: r
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(generated_id),
        enabled,
        filter: filter(r.filter, r.prefix)?,
        expiration: r.expiration.map(expiration).transpose()?,
        noncurrent,
        abort_upload_days,
    })
}

type LifecycleRule_ = s3s::dto::LifecycleRule;

/// The request's configuration as the engine's, checked as AWS checks it.
pub fn config_from_dto(c: BucketLifecycleConfiguration) -> Result<LifecycleConfig, LifecycleError> {
    let config = LifecycleConfig {
        rules: c.rules.into_iter().map(rule).collect::<Result<_, _>>()?,
    };
    config.validate()?;
    Ok(config)
}

fn tag_dto((k, v): &(String, String)) -> Tag {
    Tag {
        key: Some(k.clone()),
        value: Some(v.clone()),
    }
}

fn size_dto(v: Option<u64>) -> Option<i64> {
    v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

fn rule_dto(r: &LifecycleRule) -> LifecycleRule_ {
    let f = &r.filter;
    let (filter, prefix) = match f.form {
        FilterForm::LegacyPrefix => (None, Some(f.prefix.clone())),
        form => {
            let mut out = LifecycleRuleFilter::default();
            match form {
                FilterForm::Empty | FilterForm::LegacyPrefix => {}
                FilterForm::Prefix => out.prefix = Some(f.prefix.clone()),
                FilterForm::Tag => out.tag = f.tags.first().map(tag_dto),
                FilterForm::SizeGreaterThan => {
                    out.object_size_greater_than = size_dto(f.size_greater_than)
                }
                FilterForm::SizeLessThan => out.object_size_less_than = size_dto(f.size_less_than),
                FilterForm::And => {
                    out.and = Some(LifecycleRuleAndOperator {
                        prefix: (!f.prefix.is_empty()).then(|| f.prefix.clone()),
                        tags: (!f.tags.is_empty()).then(|| f.tags.iter().map(tag_dto).collect()),
                        object_size_greater_than: size_dto(f.size_greater_than),
                        object_size_less_than: size_dto(f.size_less_than),
                    })
                }
            }
            (Some(out), None)
        }
    };
    let day_count = |d: u32| i32::try_from(d).unwrap_or(i32::MAX);
    LifecycleRule_ {
        id: Some(r.id.clone()),
        status: ExpirationStatus::from_static(if r.enabled {
            ExpirationStatus::ENABLED
        } else {
            ExpirationStatus::DISABLED
        }),
        filter,
        prefix,
        expiration: r.expiration.map(|e| match e {
            Expiration::Days(d) => LifecycleExpiration {
                days: Some(day_count(d)),
                ..Default::default()
            },
            Expiration::Date(t) => LifecycleExpiration {
                date: Some(t.into()),
                ..Default::default()
            },
            Expiration::ExpiredObjectDeleteMarker(on) => LifecycleExpiration {
                expired_object_delete_marker: Some(on),
                ..Default::default()
            },
        }),
        noncurrent_version_expiration: r.noncurrent.map(|n| NoncurrentVersionExpiration {
            noncurrent_days: Some(day_count(n.days)),
            newer_noncurrent_versions: n.newer_versions.map(day_count),
        }),
        abort_incomplete_multipart_upload: r.abort_upload_days.map(|d| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: Some(day_count(d)),
            }
        }),
        transitions: None,
        noncurrent_version_transitions: None,
    }
}

fn no_configuration() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchLifecycleConfiguration,
        "The lifecycle configuration does not exist",
    )
}

pub async fn put_bucket_lifecycle_configuration(
    s3: &CofferS3,
    req: S3Request<PutBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
    let input = req.input;
    // The bucket first: AWS answers NoSuchBucket before looking at the body.
    s3.engine.bucket(&input.bucket).s3()?;
    let Some(dto) = input.lifecycle_configuration else {
        return Err(lifecycle_error(malformed(
            "a LifecycleConfiguration is required",
        )));
    };
    let config = config_from_dto(dto).map_err(lifecycle_error)?;
    blocking(|| s3.engine.put_lifecycle(&input.bucket, Some(&config))).s3()?;
    Ok(S3Response::new(
        PutBucketLifecycleConfigurationOutput::default(),
    ))
}

pub async fn get_bucket_lifecycle_configuration(
    s3: &CofferS3,
    req: S3Request<GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
    let config = s3.engine.lifecycle(&req.input.bucket).s3()?;
    let Some(config) = config else {
        return Err(no_configuration());
    };
    Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
        rules: Some(config.rules.iter().map(rule_dto).collect()),
        transition_default_minimum_object_size: None,
    }))
}

pub async fn delete_bucket_lifecycle(
    s3: &CofferS3,
    req: S3Request<DeleteBucketLifecycleInput>,
) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
    let bucket = &req.input.bucket;
    blocking(|| s3.engine.put_lifecycle(bucket, None)).s3()?;
    Ok(S3Response::new(DeleteBucketLifecycleOutput {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dto_rule() -> LifecycleRule_ {
        LifecycleRule_ {
            id: Some("delete old db backups".into()),
            status: ExpirationStatus::from_static(ExpirationStatus::ENABLED),
            filter: Some(LifecycleRuleFilter {
                prefix: Some("db/".into()),
                ..Default::default()
            }),
            prefix: None,
            expiration: None,
            noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                noncurrent_days: Some(1),
                newer_noncurrent_versions: Some(45),
            }),
            abort_incomplete_multipart_upload: None,
            transitions: None,
            noncurrent_version_transitions: None,
        }
    }

    #[test]
    fn the_runbook_rule_round_trips() {
        let c = config_from_dto(BucketLifecycleConfiguration {
            rules: vec![dto_rule()],
        })
        .unwrap();
        let back = rule_dto(&c.rules[0]);
        assert_eq!(format!("{back:?}"), format!("{:?}", dto_rule()));
    }

    #[test]
    fn refusals_carry_aws_codes() {
        let code = |r: LifecycleRule_| {
            config_from_dto(BucketLifecycleConfiguration { rules: vec![r] })
                .map_err(lifecycle_error)
                .unwrap_err()
                .code()
                .clone()
        };
        let mut both = dto_rule();
        both.prefix = Some("x".into());
        assert_eq!(code(both), S3ErrorCode::MalformedXML);
        let mut days_and_date = dto_rule();
        days_and_date.expiration = Some(LifecycleExpiration {
            days: Some(1),
            expired_object_delete_marker: Some(true),
            ..Default::default()
        });
        assert_eq!(code(days_and_date), S3ErrorCode::MalformedXML);
        let mut zero = dto_rule();
        zero.expiration = Some(LifecycleExpiration {
            days: Some(0),
            ..Default::default()
        });
        assert_eq!(code(zero), S3ErrorCode::InvalidArgument);
        let mut status = dto_rule();
        status.status = ExpirationStatus::from("enabled".to_owned());
        assert_eq!(code(status), S3ErrorCode::MalformedXML);
        let mut transition = dto_rule();
        transition.transitions = Some(vec![Transition::default()]);
        assert_eq!(code(transition), S3ErrorCode::NotImplemented);
    }

    #[test]
    fn the_expiration_header_is_as_aws_writes_it() {
        let h = expiration_header(Some(Expiry {
            date: time::macros::datetime!(2012-12-23 0:00 UTC),
            rule_id: "picture deletion".into(),
        }))
        .unwrap();
        assert_eq!(
            h,
            "expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\", rule-id=\"picture%20deletion\""
        );
    }
}
