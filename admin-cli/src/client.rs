//! The admin API over HTTP: one blocking request at a time, answers as JSON, failures sorted
//! into the kinds the exit codes distinguish.

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

/// What a request was about, so "404 NoSuchBucket" can become "no such bucket: x".
#[derive(Debug, Default, Clone)]
pub struct Subject {
    pub bucket: Option<String>,
    pub access_key: Option<String>,
    /// A retention rule's prefix (empty: the whole bucket's rule).
    pub prefix: Option<String>,
}

impl Subject {
    pub fn bucket(name: &str) -> Self {
        Subject {
            bucket: Some(name.to_owned()),
            access_key: None,
            prefix: None,
        }
    }

    pub fn access_key(id: &str) -> Self {
        Subject {
            bucket: None,
            access_key: Some(id.to_owned()),
            prefix: None,
        }
    }

    pub fn both(id: &str, bucket: &str) -> Self {
        Subject {
            bucket: Some(bucket.to_owned()),
            access_key: Some(id.to_owned()),
            prefix: None,
        }
    }

    /// A bucket's retention rule for `prefix`.
    pub fn rule(bucket: &str, prefix: &str) -> Self {
        Subject {
            bucket: Some(bucket.to_owned()),
            access_key: None,
            prefix: Some(prefix.to_owned()),
        }
    }
}

/// Why a request did not succeed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// No HTTP answer at all (exit 3).
    #[error("cannot reach the Coffer admin API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// 401, or 403 in the contract's JSON (exit 4).
    #[error("the admin token was refused (HTTP {status}{})", detail(message))]
    TokenRefused {
        status: u16,
        /// The contract's error code (`Unauthorized`), empty when the body was not the contract's.
        code: String,
        message: String,
    },
    /// A 4xx in the contract's JSON (exit 1).
    #[error("{}", refusal(status, code, message, subject))]
    Refused {
        status: u16,
        code: String,
        message: String,
        /// Boxed, so that every `Result` carrying an `ApiError` (or a
        /// `CliError`) stays small.
        subject: Box<Subject>,
    },
    /// A 5xx (exit 3).
    #[error(
        "the Coffer admin API failed (HTTP {status}{}){}",
        code_detail(code),
        detail(message)
    )]
    ServerFault {
        status: u16,
        code: String,
        message: String,
    },
    /// Something answered, but not the admin API: the S3 listener, a proxy, a web page (exit 3).
    #[error(
        "the server at {url} did not answer like a Coffer admin API (HTTP {status}); \
         is this the admin listener (default 127.0.0.1:9001) rather than the S3 one?"
    )]
    NotAdminApi { url: String, status: u16 },
    /// A success status with a body that is not what the contract describes (exit 3).
    #[error("unexpected answer from the Coffer admin API at {url}: {reason}")]
    BadAnswer { url: String, reason: String },
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn code_detail(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    }
}

fn refusal(status: &u16, code: &str, message: &str, subject: &Subject) -> String {
    let named = |what: &str, name: &Option<String>| match name {
        Some(name) => format!("{what}: {name}"),
        None => format!("{what}{}", detail(message)),
    };
    match (code, subject) {
        ("NoSuchBucket", s) => named("no such bucket", &s.bucket),
        ("NoSuchKey", s) => named("no such access key", &s.access_key),
        (
            "BucketNotEmpty",
            Subject {
                bucket: Some(b), ..
            },
        ) => {
            format!("bucket {b} is not empty; delete its objects (and versions) first")
        }
        (
            "BucketAlreadyExists",
            Subject {
                bucket: Some(b), ..
            },
        ) => {
            format!("bucket {b} already exists")
        }
        (
            "NoSuchLifecycleConfiguration",
            Subject {
                bucket: Some(b), ..
            },
        ) => format!(
            "bucket {b} has no lifecycle configuration; S3 clients set one \
             (aws s3api put-bucket-lifecycle-configuration)"
        ),
        (
            "NoSuchRetentionRule",
            Subject {
                bucket: Some(b),
                prefix: Some(p),
                ..
            },
        ) => {
            let rule = if p.is_empty() {
                "for the whole bucket".to_owned()
            } else {
                format!("for prefix {p}")
            };
            format!(
                "bucket {b} has no retention rule {rule} \
                 (coffer retention show {b} lists its rules)"
            )
        }
        _ if !message.is_empty() => message.to_owned(),
        _ => format!("the admin API refused the request (HTTP {status} {code})"),
    }
}

impl ApiError {
    /// The exit code the contract gives this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            ApiError::Refused { .. } => 1,
            ApiError::Unreachable { .. }
            | ApiError::ServerFault { .. }
            | ApiError::NotAdminApi { .. }
            | ApiError::BadAnswer { .. } => 3,
            ApiError::TokenRefused { .. } => 4,
        }
    }

    /// The HTTP status the server answered with; `None` when nothing answered or the
    /// answer was a success the contract does not allow.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Refused { status, .. }
            | ApiError::TokenRefused { status, .. }
            | ApiError::ServerFault { status, .. }
            | ApiError::NotAdminApi { status, .. } => Some(*status),
            ApiError::Unreachable { .. } | ApiError::BadAnswer { .. } => None,
        }
    }

    /// The contract's error code (`NoSuchBucket`, `Unauthorized`…), when the body had one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Refused { code, .. }
            | ApiError::TokenRefused { code, .. }
            | ApiError::ServerFault { code, .. }
                if !code.is_empty() =>
            {
                Some(code)
            }
            _ => None,
        }
    }
}

/// A client for one admin API base URL.
#[derive(Debug)]
pub struct AdminClient {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl AdminClient {
    /// `token` is `None` only for the one unauthenticated path, `/v1/health`.
    pub fn new(base: &str, token: Option<String>) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            // A redirect would carry the token somewhere else or lose it; neither is wanted.
            .redirects(0)
            .user_agent(concat!("coffer/", env!("CARGO_PKG_VERSION")))
            .build();
        AdminClient {
            base: base.to_owned(),
            token,
            agent,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn get(&self, path: &str, subject: &Subject) -> Result<Option<Value>, ApiError> {
        self.call("GET", path, None, subject)
    }

    pub fn post(
        &self,
        path: &str,
        body: Option<&Value>,
        subject: &Subject,
    ) -> Result<Option<Value>, ApiError> {
        self.call("POST", path, body, subject)
    }

    pub fn put(
        &self,
        path: &str,
        body: Option<&Value>,
        subject: &Subject,
    ) -> Result<Option<Value>, ApiError> {
        self.call("PUT", path, body, subject)
    }

    pub fn delete(
        &self,
        path: &str,
        body: Option<&Value>,
        subject: &Subject,
    ) -> Result<Option<Value>, ApiError> {
        self.call("DELETE", path, body, subject)
    }

    /// Like [`get`](Self::get) etc., but an answer without a body is a contract breach.
    pub fn expect_body(&self, answer: Option<Value>) -> Result<Value, ApiError> {
        answer.ok_or_else(|| ApiError::BadAnswer {
            url: self.base.clone(),
            reason: "empty body where JSON was expected".to_owned(),
        })
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        subject: &Subject,
    ) -> Result<Option<Value>, ApiError> {
        let url = format!("{}{}", self.base, path);
        let mut request = self
            .agent
            .request(method, &url)
            .set("Accept", "application/json");
        if let Some(token) = &self.token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        match result {
            Ok(response) => self.success(response),
            Err(ureq::Error::Status(status, response)) => {
                Err(self.failure(status, response, subject))
            }
            Err(ureq::Error::Transport(transport)) => Err(ApiError::Unreachable {
                url: self.base.clone(),
                reason: transport_reason(&transport),
            }),
        }
    }

    fn success(&self, response: ureq::Response) -> Result<Option<Value>, ApiError> {
        let status = response.status();
        if !(200..300).contains(&status) {
            return Err(ApiError::NotAdminApi {
                url: self.base.clone(),
                status,
            });
        }
        let text = response.into_string().map_err(|e| ApiError::BadAnswer {
            url: self.base.clone(),
            reason: format!("reading the body: {e}"),
        })?;
        if status == 204 || text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ApiError::BadAnswer {
                url: self.base.clone(),
                reason: format!("not JSON ({e})"),
            })
    }

    fn failure(&self, status: u16, response: ureq::Response, subject: &Subject) -> ApiError {
        let body = response.into_string().unwrap_or_default();
        // The admin API's refusal body; anything else came from something that is not it.
        let error = serde_json::from_str::<coffer_admin_api::ErrorBody>(&body)
            .ok()
            .map(|b| b.error);
        let (code, message) = error
            .as_ref()
            .map(|e| (e.code.clone(), e.message.clone()))
            .unwrap_or_default();
        match status {
            // A 401 means the token, whoever wrote the body (the API, or a proxy in front of it).
            401 => ApiError::TokenRefused {
                status,
                code,
                message,
            },
            500..=599 => ApiError::ServerFault {
                status,
                code,
                message,
            },
            _ if error.is_none() => ApiError::NotAdminApi {
                url: self.base.clone(),
                status,
            },
            403 => ApiError::TokenRefused {
                status,
                code,
                message,
            },
            _ => ApiError::Refused {
                status,
                code,
                message,
                subject: Box::new(subject.clone()),
            },
        }
    }
}

/// "connection refused", "timed out", … — the part of a transport error a person can act on.
fn transport_reason(transport: &ureq::Transport) -> String {
    use std::error::Error as _;
    if transport.kind() == ureq::ErrorKind::Dns {
        return "cannot resolve the host name".to_owned();
    }
    let mut source = transport.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    "timed out".to_owned()
                }
                std::io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
                _ => io.to_string(),
            };
        }
        source = err.source();
    }
    transport
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| transport.kind().to_string())
}

/// Percent-encodes one path segment (bucket names and key ids are plain, but nothing forces a
/// typo to be).
pub fn segment(s: &str) -> String {
    // `.` and `..` would be folded away by path normalisation somewhere on the way.
    if s.bytes().all(|b| b == b'.') {
        return "%2E".repeat(s.len());
    }
    percent_encode(s)
}

/// Percent-encodes one query value, such as a key prefix: everything but the
/// unreserved characters, so that `&`, `=`, `+` (a space to the server) and
/// `/` arrive as they were typed.
pub fn query_value(s: &str) -> String {
    percent_encode(s)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("backups-1.db"), "backups-1.db");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a..b"), "a..b");
        assert_eq!(query_value("db/a b+c&d=é"), "db%2Fa%20b%2Bc%26d%3D%C3%A9");
        assert_eq!(query_value(".."), "..");
    }

    #[test]
    fn refusals_name_the_subject() {
        let e = ApiError::Refused {
            status: 404,
            code: "NoSuchBucket".into(),
            message: "The specified bucket does not exist".into(),
            subject: Box::new(Subject::bucket("x")),
        };
        assert_eq!(e.to_string(), "no such bucket: x");
        assert_eq!(e.exit_code(), 1);
        let e = ApiError::Refused {
            status: 404,
            code: "NoSuchKey".into(),
            message: String::new(),
            subject: Box::new(Subject::access_key("AK1")),
        };
        assert_eq!(e.to_string(), "no such access key: AK1");
        let e = ApiError::Refused {
            status: 400,
            code: "InvalidArgument".into(),
            message: "bucket name too short".into(),
            subject: Box::new(Subject::bucket("x")),
        };
        assert_eq!(e.to_string(), "bucket name too short");
        let e = |prefix: &str| ApiError::Refused {
            status: 404,
            code: "NoSuchRetentionRule".into(),
            message: "the bucket has no retention rule for prefix \"db/\"".into(),
            subject: Box::new(Subject::rule("b", prefix)),
        };
        assert_eq!(
            e("db/").to_string(),
            "bucket b has no retention rule for prefix db/ (coffer retention show b lists its rules)"
        );
        assert_eq!(
            e("").to_string(),
            "bucket b has no retention rule for the whole bucket \
             (coffer retention show b lists its rules)"
        );
        assert_eq!(e("").exit_code(), 1);
    }
}
