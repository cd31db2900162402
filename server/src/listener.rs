//! The S3 listener: TCP (optionally rustls TLS), HTTP/1.1 and HTTP/2 via
//! hyper-util's auto builder, one access-log line per request, and graceful
//! shutdown (stop accepting, let in-flight requests finish).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use s3s::service::S3Service;
use s3s::{HttpError, StdError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::s3::{LabelSlot, with_default_message};

/// How long shutdown waits for in-flight requests before giving up on them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that does not finish the TLS handshake in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenerError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}", path = .path.display())]
    ReadPem {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no {what}")]
    EmptyPem {
        path: std::path::PathBuf,
        what: &'static str,
    },
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// A bound listener, ready to serve.
pub struct Listener {
    tcp: TcpListener,
    local: SocketAddr,
    tls: Option<TlsAcceptor>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local", &self.local)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Listener {
    /// Binds the configured address (port 0 = any free port) and loads TLS.
    pub async fn bind(config: &Config) -> Result<Listener, ListenerError> {
        let tls = match config.s3_tls() {
            Some(files) => Some(tls_acceptor(files.cert, files.key)?),
            None => None,
        };
        let tcp = TcpListener::bind(config.s3_listen())
            .await
            .map_err(|source| ListenerError::Bind {
                addr: config.s3_listen().to_owned(),
                source,
            })?;
        let local = tcp.local_addr().map_err(|source| ListenerError::Bind {
            addr: config.s3_listen().to_owned(),
            source,
        })?;
        Ok(Listener { tcp, local, tls })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `http://host:port` or `https://host:port` of the bound socket.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local)
    }

    /// Serves until `shutdown` completes, then drains open connections.
    pub async fn serve(self, service: S3Service, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let svc = Logged { inner: service.clone(), peer };
                    let tls = self.tls.clone();
                    let stop = stop_rx.clone();
                    conns.spawn(async move {
                        match tls {
                            None => serve_conn(stream, svc, stop).await,
                            Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls_stream)) => serve_conn(tls_stream, svc, stop).await,
                                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                            },
                        }
                    });
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                () = &mut shutdown => break,
            }
        }
        drop(self.tcp);
        let _ = stop_tx.send(true);
        tracing::info!(
            connections = conns.len(),
            "shutting down: draining connections"
        );
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while conns.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                connections = conns.len(),
                "connections still open after the drain timeout; closing them"
            );
            conns.abort_all();
        }
    }
}

async fn serve_conn<I>(io: I, svc: Logged, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>, ListenerError> {
    std::fs::read(path).map_err(|source| ListenerError::ReadPem {
        path: path.to_owned(),
        source,
    })
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ListenerError> {
    let cert_pem = read_pem(cert)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|source| ListenerError::ReadPem {
            path: cert.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(ListenerError::EmptyPem {
            path: cert.to_owned(),
            what: "certificate",
        });
    }
    let key_pem = read_pem(key)?;
    let private_key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|source| ListenerError::ReadPem {
            path: key.to_owned(),
            source,
        })?
        .ok_or_else(|| ListenerError::EmptyPem {
            path: key.to_owned(),
            what: "private key",
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, private_key)?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// The S3 service wrapped with the access log.
#[derive(Clone)]
struct Logged {
    inner: S3Service,
    peer: SocketAddr,
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

fn declared_length(req: &Request<Incoming>) -> Option<u64> {
    let h = req.headers();
    h.get("x-amz-decoded-content-length")
        .or_else(|| h.get(http::header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

impl hyper::service::Service<Request<Incoming>> for Logged {
    type Response = Response<LogBody>;
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        let slot = LabelSlot::default();
        req.extensions_mut().insert(slot.clone());
        let mut record = Record {
            start: Instant::now(),
            peer: self.peer,
            method: req.method().clone(),
            bytes_in: declared_length(&req),
            slot,
            status: 0,
        };
        let version = req.version();
        let (parts, body) = req.into_parts();
        let finished = Arc::new(AtomicBool::new(body.is_end_stream()));
        let body = TrackedBody {
            inner: body,
            finished: Arc::clone(&finished),
        };
        let req = Request::from_parts(parts, s3s::Body::http_body(body));
        let svc = self.inner.clone();
        Box::pin(async move {
            let resp = match svc.call(req).await {
                Ok(resp) => resp,
                Err(e) => {
                    record.emit(0, false);
                    return Err(e);
                }
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
            record.status = parts.status.as_u16();
            Ok(Response::from_parts(
                parts,
                LogBody {
                    inner: body,
                    sent: 0,
                    record: Some(record),
                },
            ))
        })
    }
}

/// The response body, counting bytes; the log line is written when it is
/// dropped, so a GET is logged with its full duration, or as incomplete when
/// the client went away.
struct LogBody {
    inner: s3s::Body,
    sent: u64,
    record: Option<Record>,
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
    inner: Incoming,
    finished: Arc<AtomicBool>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.finished.store(true, Ordering::Release);
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
