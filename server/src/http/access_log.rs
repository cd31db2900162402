//! The S3 access log: one line per request, written when the response body
//! is dropped (so a GET is logged with its full duration, or as incomplete
//! when the client went away). It also fixes up what s3s leaves to the
//! front: closing a connection whose request body was not read, and the
//! bodies of 304 and of errors without a message. Request bodies are held
//! to the minimum rate here (`body_rate`).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use s3s::service::S3Service;
use s3s::{HttpError, StdError};

use super::body_rate::{BodyRate, BodyTooSlow, RateLimitedBody};
use crate::s3::error::request_timeout;
use crate::s3::request_limits::{PermitSlot, RequestPermit};
use crate::s3::{LabelSlot, screen, with_default_message, xml_text};

/// The S3 service of one connection, wrapped with the access log.
#[derive(Clone)]
pub struct AccessLogged {
    inner: S3Service,
    peer: SocketAddr,
    rate: BodyRate,
}

impl std::fmt::Debug for AccessLogged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogged")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// What [`super::HttpListener::serve`] takes: the logged S3 service per connection.
pub fn access_logged(service: S3Service, rate: BodyRate) -> impl Fn(SocketAddr) -> AccessLogged {
    move |peer| AccessLogged {
        inner: service.clone(),
        peer,
        rate,
    }
}

/// What the access log line says about one request.
struct Record {
    start: Instant,
    peer: SocketAddr,
    method: http::Method,
    bytes_in: Option<u64>,
    slot: LabelSlot,
    status: u16,
}

impl Record {
    /// Never the path or query: keys can be private and a presigned query is a credential.
    fn emit(&self, bytes_out: u64, complete: bool) {
        let label = self.slot.get().unwrap_or_default();
        let op = if label.op.is_empty() {
            self.method.as_str().to_owned()
        } else {
            label.op
        };
        tracing::info!(
            target: "cofferd::access",
            peer = %self.peer,
            op = %op,
            bucket = label.bucket.as_deref().unwrap_or("-"),
            status = self.status,
            bytes_in = self.bytes_in.unwrap_or(0),
            bytes_out,
            complete,
            ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX),
            "request"
        );
    }
}

fn is_xml(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"))
}

fn declared_length(req: &Request<Incoming>) -> Option<u64> {
    let h = req.headers();
    h.get(crate::s3::xml_limit::DECODED_CONTENT_LENGTH)
        .or_else(|| h.get(http::header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

impl hyper::service::Service<Request<Incoming>> for AccessLogged {
    type Response = Response<LogBody>;
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        let slot = LabelSlot::default();
        req.extensions_mut().insert(slot.clone());
        let permits = PermitSlot::default();
        req.extensions_mut().insert(permits.clone());
        let mut record = Record {
            start: Instant::now(),
            peer: self.peer,
            method: req.method().clone(),
            bytes_in: declared_length(&req),
            slot,
            status: 0,
        };
        let version = req.version();
        // Refused before s3s parses the request or checks its signature.
        let refused = screen(req.uri(), req.headers()).err();
        let (parts, body) = req.into_parts();
        let finished = Arc::new(AtomicBool::new(body.is_end_stream()));
        let too_slow = Arc::new(AtomicBool::new(false));
        let body = TrackedBody {
            inner: RateLimitedBody::new(body, self.rate),
            finished: Arc::clone(&finished),
            too_slow: Arc::clone(&too_slow),
        };
        let req = Request::from_parts(parts, s3s::Body::http_body(body));
        let svc = self.inner.clone();
        Box::pin(async move {
            let resp = match refused {
                Some(refusal) => {
                    tracing::debug!(reason = %refusal, "request refused before signature check");
                    refusal.into_response()
                }
                None => match svc.call(req).await {
                    Ok(resp) => resp,
                    Err(e) => {
                        record.emit(0, false);
                        return Err(e);
                    }
                },
            };
            let resp = if too_slow.load(Ordering::Acquire) && resp.status().is_server_error() {
                // s3s reads XML bodies itself and answers any read error with
                // 500 InternalError, which SDKs retry at once; a body cut for
                // its rate gets AWS's answer whoever was reading it.
                request_timeout().to_http_response().unwrap_or(resp)
            } else {
                resp
            };
            let (mut parts, mut body) = resp.into_parts();
            if !finished.load(Ordering::Acquire) && version <= http::Version::HTTP_11 {
                // The request body was not read to its end (an early error).
                // hyper would then drain the connection expecting the rest, but a
                // client that sent `Expect: 100-continue` never sends it, and the
                // next request's bytes would be eaten as body. Closing is the
                // only safe answer, and it also stops a rejected upload.
                parts.headers.insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            if parts.status == StatusCode::NOT_MODIFIED {
                // A 304 has no body; s3s renders one for every error.
                body = s3s::Body::empty();
                parts.headers.remove(http::header::CONTENT_LENGTH);
                parts.headers.remove(http::header::CONTENT_TYPE);
            }
            if (parts.status.is_client_error() || parts.status.is_server_error())
                && let Some(filled) = body.bytes().as_deref().and_then(with_default_message)
            {
                body = s3s::Body::from(filled);
                parts.headers.remove(http::header::CONTENT_LENGTH);
            }
            if let Some(bytes) = body.bytes()
                && is_xml(&parts.headers)
                && let Ok(text) = std::str::from_utf8(&bytes)
                && !xml_text::is_xml_10_text(text)
            {
                if parts.status.is_success() {
                    // An object key with a control character, asked for without
                    // encoding-type=url: refused rather than sent as broken XML.
                    let refused = xml_text::unrepresentable().to_http_response().ok();
                    if let Some(r) = refused {
                        let (p, b) = r.into_parts();
                        parts.status = p.status;
                        parts.headers = p.headers;
                        body = b;
                    }
                } else {
                    // An error message echoing client input stays readable.
                    body = s3s::Body::from(xml_text::scrub(text));
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                }
            }
            record.status = parts.status.as_u16();
            Ok(Response::from_parts(
                parts,
                LogBody {
                    inner: body,
                    sent: 0,
                    record: Some(record),
                    _permit: permits.take(),
                },
            ))
        })
    }
}

/// The response body, counting bytes; the log line is written when it is
/// dropped, so a GET is logged with its full duration, or as incomplete when
/// the client went away.
pub struct LogBody {
    inner: s3s::Body,
    sent: u64,
    record: Option<Record>,
    /// The request's concurrency slot, released with the body.
    _permit: Option<RequestPermit>,
}

impl std::fmt::Debug for LogBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogBody")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl HttpBody for LogBody {
    type Data = Bytes;
    type Error = StdError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.sent += data.len() as u64;
        }
        if let Poll::Ready(None) = &polled
            && let Some(record) = this.record.take()
        {
            record.emit(this.sent, true);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LogBody {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            // hyper never polls the body of a HEAD response (nor an empty one):
            // those are complete when dropped; anything else was cut short.
            let complete = self.inner.is_end_stream() || record.method == http::Method::HEAD;
            record.emit(self.sent, complete);
        }
    }
}

/// The request body, noting when it has been read to its end.
struct TrackedBody {
    inner: RateLimitedBody<Incoming>,
    finished: Arc<AtomicBool>,
    /// Set when the body was cut for its rate (`BodyTooSlow`).
    too_slow: Arc<AtomicBool>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.finished.store(true, Ordering::Release);
        }
        if let Poll::Ready(Some(Err(e))) = &polled
            && e.is::<BodyTooSlow>()
        {
            self.too_slow.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
