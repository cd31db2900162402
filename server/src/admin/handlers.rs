//! One function per admin API endpoint; each returns a status and JSON, or an
//! [`ApiError`].

use coffer_admin_api as api;
use http::StatusCode;
use serde_json::Value;

use super::AdminState;
use super::error::ApiError;
use super::json;
use super::presign::{MAX_EXPIRES_SECONDS, PresignRequest, presign_get};
use crate::blocking_pool;
use crate::engine::access::{KeyAuth, Permission};
use crate::engine::retention::PlanScope;
use crate::engine::{BucketInfo, EngineError, ListQuery};

pub type Answer = Result<(StatusCode, Value), ApiError>;

fn ok(v: impl serde::Serialize) -> Answer {
    answer(StatusCode::OK, v)
}

fn answer(status: StatusCode, v: impl serde::Serialize) -> Answer {
    Ok((status, serde_json::to_value(v).unwrap_or(Value::Null)))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

/// Current objects and their bytes in a bucket, by paging through the listing.
fn usage(st: &AdminState, bucket: &str) -> Result<(u64, u64), ApiError> {
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut query = ListQuery {
        max_keys: 1000,
        ..ListQuery::default()
    };
    loop {
        let page = st.engine.list_objects(bucket, &query)?;
        objects += page.objects.len() as u64;
        bytes += page.objects.iter().map(|o| o.size).sum::<u64>();
        if !page.is_truncated {
            return Ok((objects, bytes));
        }
        match page.next_marker {
            Some(m) => query.start_after = Some(m),
            None => return Ok((objects, bytes)),
        }
    }
}

fn bucket_json(st: &AdminState, b: &BucketInfo) -> Result<api::Bucket, ApiError> {
    let (objects, bytes) = usage(st, &b.name)?;
    Ok(json::bucket(b, objects, bytes))
}

pub fn health(st: &AdminState) -> Answer {
    let c = st.s3_connections.counts();
    let r = st.s3_requests.counts();
    let (read_in_use, read_capacity) = st.engine.read_buffer_usage();
    let saturated = st.s3_connections.saturated()
        || st.s3_requests.saturated()
        || blocking_pool::saturated()
        || read_in_use >= read_capacity;
    ok(api::Health {
        status: if saturated { "saturated" } else { "ok" }.to_owned(),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        s3_connections: u64::try_from(c.open).ok(),
        s3_max_connections: u64::try_from(c.max).ok(),
        s3_connections_refused: Some(c.refused),
        s3_requests: u64::try_from(r.in_flight).ok(),
        s3_max_requests: u64::try_from(r.max).ok(),
        s3_requests_refused: Some(r.refused),
        s3_keys_at_limit: u64::try_from(r.keys_at_limit).ok(),
        blocking_tasks: u64::try_from(blocking_pool::in_flight()).ok(),
        blocking_threads: u64::try_from(blocking_pool::MAX_THREADS).ok(),
        read_buffer_bytes_in_use: Some(read_in_use),
        read_buffer_bytes: Some(read_capacity),
    })
}

/// Every worker's state, in start order (`workers::WorkerStatus`).
pub fn workers(st: &AdminState) -> Answer {
    ok(st.workers.status())
}

pub fn status(st: &AdminState) -> Answer {
    let buckets = st.engine.list_buckets()?;
    let (mut objects, mut logical) = (0u64, 0u64);
    for b in &buckets {
        let (o, l) = usage(st, &b.name)?;
        objects += o;
        logical += l;
    }
    let stats = st.engine.stats()?;
    let dedup_ratio = if stats.live_bytes == 0 {
        1.0
    } else {
        logical as f64 / stats.live_bytes as f64
    };
    ok(api::Status {
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        uptime_seconds: Some(st.started.elapsed().as_secs()),
        buckets: Some(buckets.len() as u64),
        objects: Some(objects),
        versions: Some(stats.versions),
        logical_bytes: Some(logical),
        stored_bytes: Some(stats.pack_bytes),
        dedup_ratio: Some(dedup_ratio),
        packs: Some(stats.packs),
        chunks: Some(stats.chunks_referenced),
    })
}

pub fn list_buckets(st: &AdminState) -> Answer {
    let out = st
        .engine
        .list_buckets()?
        .iter()
        .map(|b| bucket_json(st, b))
        .collect::<Result<Vec<_>, _>>()?;
    ok(out)
}

pub fn create_bucket(st: &AdminState, body: &[u8]) -> Answer {
    let req: api::CreateBucket = parse(body)?;
    st.engine.create_bucket(&req.name)?;
    let b = st.engine.bucket(&req.name)?;
    answer(StatusCode::CREATED, json::bucket(&b, 0, 0))
}

pub fn bucket(st: &AdminState, name: &str) -> Answer {
    let b = st.engine.bucket(name)?;
    let mut out = bucket_json(st, &b)?;
    out.grants = Some(
        st.engine
            .grants_on_bucket(name)?
            .iter()
            .map(|(id, g)| json::grant(g, Some(id.clone())))
            .collect(),
    );
    ok(out)
}

pub fn delete_bucket(st: &AdminState, name: &str) -> Answer {
    st.engine.delete_bucket(name)?;
    Ok((StatusCode::NO_CONTENT, Value::Null))
}

/// A bucket's lifecycle rules; 404 when it has none.
pub fn lifecycle(st: &AdminState, name: &str) -> Answer {
    match st.engine.lifecycle(name)? {
        Some(config) => ok(json::lifecycle(&config)),
        None => Err(ApiError::no_lifecycle(name)),
    }
}

/// What a bucket's rules will do, earliest first: `?limit=N` actions
/// (default and cap in `coffer_admin_api`), and the count of all.
pub fn lifecycle_plan(st: &AdminState, name: &str, query: &[(String, String)]) -> Answer {
    let limit = plan_limit(
        query,
        api::PLAN_DEFAULT_LIMIT,
        api::PLAN_MAX_LIMIT,
        "actions",
    )?;
    match st.engine.lifecycle_plan(name, limit) {
        Ok(plan) => ok(json::lifecycle_plan(&plan)),
        Err(EngineError::NoSuchLifecycleConfiguration) => Err(ApiError::no_lifecycle(name)),
        Err(e) => Err(e.into()),
    }
}

/// A bucket's retention rules (an empty list when it has none).
pub fn retention(st: &AdminState, name: &str) -> Answer {
    ok(json::retention(&st.engine.retention(name)?))
}

/// Sets the rule for the body's prefix, replacing the one there was; the
/// answer is the bucket's rules.
pub fn put_retention(st: &AdminState, name: &str, body: &[u8]) -> Answer {
    let req: api::RetentionRule = parse(body)?;
    let rule = json::retention_rule_of(&req).map_err(ApiError::invalid)?;
    st.engine.set_retention_rule(name, rule)?;
    tracing::info!(bucket = %name, prefix = %req.prefix, "retention rule set");
    retention(st, name)
}

/// Removes the rule for `?prefix=` (the whole bucket's rule without it).
pub fn delete_retention(st: &AdminState, name: &str, query: &[(String, String)]) -> Answer {
    let prefix = query_value(query, "prefix").unwrap_or_default();
    st.engine.remove_retention_rule(name, &prefix)?;
    tracing::info!(bucket = %name, prefix = %prefix, "retention rule removed");
    Ok((StatusCode::NO_CONTENT, Value::Null))
}

/// What the stored rules keep and why (`?prefix=`: that rule alone), or
/// with a body, what that rule would do if it were set.
pub fn retention_plan(
    st: &AdminState,
    name: &str,
    query: &[(String, String)],
    proposed: Option<&[u8]>,
) -> Answer {
    let limit = plan_limit(
        query,
        api::RETENTION_PLAN_DEFAULT_LIMIT,
        api::RETENTION_PLAN_MAX_LIMIT,
        "backups",
    )?;
    let scope = match (proposed, query_value(query, "prefix")) {
        (Some(body), _) => {
            let req: api::RetentionRule = parse(body)?;
            PlanScope::Proposed(json::retention_rule_of(&req).map_err(ApiError::invalid)?)
        }
        (None, Some(prefix)) => PlanScope::Prefix(prefix),
        (None, None) => PlanScope::All,
    };
    ok(json::retention_plan(
        &st.engine.retention_plan(name, scope, limit)?,
    ))
}

/// The last value of a query parameter.
fn query_value(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// `?limit=N`: `default` when not given, lowered to `max`.
fn plan_limit(
    query: &[(String, String)],
    default: u64,
    max: u64,
    what: &str,
) -> Result<usize, ApiError> {
    let limit = match query_value(query, "limit") {
        None => default,
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::invalid(format!(
                "limit must be a whole number of {what} (0 to {max}), not {v:?}"
            ))
        })?,
    }
    .min(max);
    // At most `max`, which fits any usize.
    Ok(usize::try_from(limit).unwrap_or(usize::MAX))
}

pub fn list_keys(st: &AdminState) -> Answer {
    ok(st
        .engine
        .list_access_keys()?
        .iter()
        .map(json::key)
        .collect::<Vec<_>>())
}

pub fn create_key(st: &AdminState, body: &[u8]) -> Answer {
    let req: api::CreateKey = parse(body)?;
    let expires = req.expires_in_seconds.map(time::Duration::seconds);
    let created = st.engine.create_access_key(&req.name, expires, false)?;
    tracing::info!(access_key_id = %created.info.access_key_id, name = %req.name, "access key created");
    let mut out = json::key(&created.info);
    out.secret_access_key = Some(created.secret_access_key);
    answer(StatusCode::CREATED, out)
}

pub fn key(st: &AdminState, id: &str) -> Answer {
    ok(json::key(&st.engine.access_key(id)?))
}

pub fn set_enabled(st: &AdminState, id: &str, enabled: bool) -> Answer {
    let k = st.engine.set_access_key_enabled(id, enabled)?;
    tracing::info!(access_key_id = %id, enabled, "access key state changed");
    ok(json::key(&k))
}

pub fn delete_key(st: &AdminState, id: &str) -> Answer {
    st.engine.delete_access_key(id)?;
    tracing::info!(access_key_id = %id, "access key deleted");
    Ok((StatusCode::NO_CONTENT, Value::Null))
}

pub fn put_grant(st: &AdminState, id: &str, body: &[u8]) -> Answer {
    let req: api::PutGrant = parse(body)?;
    let k = st.engine.put_grant(id, &json::grant_of(&req))?;
    tracing::info!(access_key_id = %id, bucket = %req.bucket, "grant set");
    ok(json::key(&k))
}

pub fn remove_grant(st: &AdminState, id: &str, body: &[u8]) -> Answer {
    let req: api::RemoveGrant = parse(body)?;
    let prefix = req.prefix.unwrap_or_default();
    let k = st.engine.remove_grant(id, &req.bucket, &prefix)?;
    tracing::info!(access_key_id = %id, bucket = %req.bucket, "grant revoked");
    ok(json::key(&k))
}

pub fn share(st: &AdminState, body: &[u8]) -> Answer {
    let req: api::CreateShare = parse(body)?;
    if req.expires_in_seconds == 0 || req.expires_in_seconds > MAX_EXPIRES_SECONDS {
        return Err(ApiError::invalid(format!(
            "expires_in_seconds must be between 1 and {MAX_EXPIRES_SECONDS} (7 days, the SigV4 limit)"
        )));
    }
    let secret = match st.engine.authenticate(&req.access_key_id)? {
        KeyAuth::Active { secret } => secret,
        KeyAuth::Unknown => {
            return Err(crate::engine::access::AccessError::NoSuchAccessKey(
                req.access_key_id.clone(),
            )
            .into());
        }
        KeyAuth::Disabled => {
            return Err(ApiError::invalid(format!(
                "access key {} is disabled",
                req.access_key_id
            )));
        }
        KeyAuth::Expired => {
            return Err(ApiError::invalid(format!(
                "access key {} has expired",
                req.access_key_id
            )));
        }
    };
    // A URL the S3 listener would refuse is no use to anyone.
    let allowed = st
        .engine
        .key_access(&req.access_key_id)?
        .is_some_and(|k| k.allows_object(&req.bucket, &req.key, Permission::Read));
    if !allowed {
        return Err(ApiError::invalid(format!(
            "access key {} may not read {}/{}; grant it read first",
            req.access_key_id, req.bucket, req.key
        )));
    }
    st.engine.bucket(&req.bucket)?;
    let url = presign_get(&PresignRequest {
        base_url: &st.s3_url,
        bucket: &req.bucket,
        key: &req.key,
        access_key_id: &req.access_key_id,
        secret: &secret,
        region: &st.region,
        // s3s checks presigned URLs against the wall clock, not the engine's.
        now: time::OffsetDateTime::now_utc(),
        expires_seconds: req.expires_in_seconds,
    })
    .map_err(|e| {
        tracing::error!(error = %e, "admin API: presigning a share URL failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string())
    })?;
    ok(api::Share { url })
}
