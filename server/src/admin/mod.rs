//! The admin API: JSON over HTTP (TLS when configured) on its own listener
//! (loopback by default; `crate::http` serves it), every path but
//! `GET /v1/health` behind the admin token. The
//! contract is /work/notes/admin_api.md; the `coffer` CLI speaks it.

pub mod error;
mod handlers;
pub mod json;
pub mod presign;
pub mod token;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use crate::engine::Engine;
use crate::workers::Workers;
use error::ApiError;
use handlers::Answer;
use token::AdminToken;

/// Request bodies are small JSON documents.
const MAX_BODY: usize = 64 * 1024;

/// What every handler needs.
#[derive(Debug)]
pub struct AdminState {
    pub engine: Arc<Engine>,
    pub token: AdminToken,
    /// Base URL of the S3 listener, for presigned URLs.
    pub s3_url: String,
    pub region: String,
    pub started: Instant,
    /// The runner's view of the background workers.
    pub workers: Workers,
    /// The S3 listener's connection counters (health shows saturation).
    pub s3_connections: Arc<crate::http::ConnectionGauge>,
    /// The S3 service's request slots (health shows saturation).
    pub s3_requests: Arc<crate::s3::request_limits::RequestLimits>,
}

/// The admin API for one connection (served by `http::HttpListener`).
#[derive(Debug, Clone)]
pub struct AdminService {
    state: Arc<AdminState>,
    peer: SocketAddr,
}

/// What [`crate::http::HttpListener::serve`] takes for the admin listener.
pub fn service(state: Arc<AdminState>) -> impl Fn(SocketAddr) -> AdminService {
    move |peer| AdminService {
        state: Arc::clone(&state),
        peer,
    }
}

impl hyper::service::Service<Request<Incoming>> for AdminService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let st = Arc::clone(&self.state);
        let peer = self.peer;
        Box::pin(async move { Ok(handle(&st, peer, req).await) })
    }
}

fn respond(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let bytes = if status == StatusCode::NO_CONTENT {
        Bytes::new()
    } else {
        Bytes::from(serde_json::to_vec(body).unwrap_or_default())
    };
    let mut r = Response::new(Full::new(bytes));
    *r.status_mut() = status;
    if status != StatusCode::NO_CONTENT {
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    r
}

fn bearer(req: &Request<Incoming>) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A query string's `name=value` pairs, percent-decoded (`+` is a space);
/// `None` when one is not UTF-8. A name without `=` has an empty value.
fn parse_query(q: &str) -> Option<Vec<(String, String)>> {
    q.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| decode_segment(&s.replace('+', " "));
            Some((decode(name)?, decode(value)?))
        })
        .collect()
}

/// Percent-decodes one path segment; `None` when it is not UTF-8.
fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn handle(
    st: &AdminState,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let answer = route(st, req).await;
    let (status, body) = match answer {
        Ok(ok) => ok,
        Err(e) => (e.status, e.body()),
    };
    tracing::info!(target: "coffer::admin", %peer, %method, %path, status = status.as_u16(), "admin request");
    respond(status, &body)
}

async fn route(st: &AdminState, req: Request<Incoming>) -> Answer {
    let method = req.method().clone();
    let segments: Option<Vec<String>> = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(decode_segment)
        .collect();
    let Some(segments) = segments else {
        return Err(ApiError::bad_request("path is not valid UTF-8"));
    };
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some(query) = parse_query(req.uri().query().unwrap_or_default()) else {
        return Err(ApiError::bad_request("query string is not valid UTF-8"));
    };
    if method == Method::GET && segs == ["v1", "health"] {
        return handlers::health(st);
    }
    if !bearer(&req).is_some_and(|t| st.token.verify(t)) {
        return Err(ApiError::unauthorized());
    }
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?
        .to_bytes();
    // Engine calls may wait for a redb commit (an fsync): off the reactor.
    tokio::task::block_in_place(|| dispatch(st, &method, &segs, &query, &body))
}

/// `query` is read only by the endpoints that take parameters; the others
/// ignore it.
fn dispatch(
    st: &AdminState,
    method: &Method,
    segs: &[&str],
    query: &[(String, String)],
    body: &[u8],
) -> Answer {
    use Method as M;
    match (method, segs) {
        (&M::GET, ["v1", "status"]) => handlers::status(st),
        (&M::GET, ["v1", "buckets"]) => handlers::list_buckets(st),
        (&M::POST, ["v1", "buckets"]) => handlers::create_bucket(st, body),
        (&M::GET, ["v1", "buckets", name]) => handlers::bucket(st, name),
        (&M::DELETE, ["v1", "buckets", name]) => handlers::delete_bucket(st, name),
        (&M::GET, ["v1", "buckets", name, "lifecycle"]) => handlers::lifecycle(st, name),
        (&M::GET, ["v1", "buckets", name, "lifecycle", "plan"]) => {
            handlers::lifecycle_plan(st, name, query)
        }
        (&M::GET, ["v1", "buckets", name, "retention"]) => handlers::retention(st, name),
        (&M::PUT, ["v1", "buckets", name, "retention"]) => handlers::put_retention(st, name, body),
        (&M::DELETE, ["v1", "buckets", name, "retention"]) => {
            handlers::delete_retention(st, name, query)
        }
        (&M::GET, ["v1", "buckets", name, "retention", "plan"]) => {
            handlers::retention_plan(st, name, query, None)
        }
        (&M::POST, ["v1", "buckets", name, "retention", "plan"]) => {
            handlers::retention_plan(st, name, query, Some(body))
        }
        (&M::GET, ["v1", "keys"]) => handlers::list_keys(st),
        (&M::POST, ["v1", "keys"]) => handlers::create_key(st, body),
        (&M::GET, ["v1", "keys", id]) => handlers::key(st, id),
        (&M::DELETE, ["v1", "keys", id]) => handlers::delete_key(st, id),
        (&M::POST, ["v1", "keys", id, "enable"]) => handlers::set_enabled(st, id, true),
        (&M::POST, ["v1", "keys", id, "disable"]) => handlers::set_enabled(st, id, false),
        (&M::POST, ["v1", "keys", id, "grants"]) => handlers::put_grant(st, id, body),
        (&M::DELETE, ["v1", "keys", id, "grants"]) => handlers::remove_grant(st, id, body),
        (&M::POST, ["v1", "share"]) => handlers::share(st, body),
        (&M::GET, ["v1", "workers"]) => handlers::workers(st),
        (
            _,
            ["v1", "status" | "buckets" | "keys" | "share" | "workers"]
            | ["v1", "buckets" | "keys", _]
            | ["v1", "buckets", _, "lifecycle" | "retention"]
            | ["v1", "buckets", _, "lifecycle" | "retention", "plan"]
            | ["v1", "keys", _, "enable" | "disable" | "grants"],
        ) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found("no such admin API endpoint")),
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_segment, parse_query};

    #[test]
    fn segments_decode() {
        assert_eq!(decode_segment("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(decode_segment("plain").as_deref(), Some("plain"));
        assert_eq!(decode_segment("bad%zz"), None);
        assert_eq!(decode_segment("%ff"), None);
        assert_eq!(decode_segment("end%4").as_deref(), Some("end%4"));
    }

    #[test]
    fn queries_decode() {
        let pairs = |q: &str| parse_query(q).unwrap();
        assert_eq!(pairs(""), vec![]);
        assert_eq!(
            pairs("limit=5&x=a%2Fb+c&flag"),
            vec![
                ("limit".to_owned(), "5".to_owned()),
                ("x".to_owned(), "a/b c".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert_eq!(pairs("&&limit=1&"), vec![("limit".into(), "1".into())]);
        assert_eq!(parse_query("limit=%ff"), None);
    }
}
