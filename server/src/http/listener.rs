//! A bound TCP listener serving one hyper service: optional TLS, a
//! handshake timeout, a header-read timeout, and at shutdown: stop
//! accepting, let in-flight requests finish (bounded), close the rest.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use std::sync::Arc;

use super::ListenerError;
use super::connection_cap::{self, ConnectionGauge};
use super::deadline::ConnectionDeadlines;
use super::tls::{self, TlsPaths};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a listener waits for slow clients, and for itself at shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// A client must send a request's whole header within this time (and
    /// its first byte within this time of connecting); otherwise it is
    /// disconnected.
    pub header_read: Duration,
    /// A client that does not finish the TLS handshake in this time is dropped.
    pub tls_handshake: Duration,
    /// How long shutdown waits for in-flight requests before closing them.
    pub drain: Duration,
    /// A connection whose writes make no progress this long (the client
    /// stopped reading) is closed, freeing what its response held.
    pub send: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(30),
            tls_handshake: Duration::from_secs(10),
            drain: Duration::from_secs(30),
            send: Duration::from_secs(60),
        }
    }
}

/// A bound listener, ready to serve.
pub struct HttpListener {
    tcp: TcpListener,
    local: SocketAddr,
    tls: Option<TlsAcceptor>,
    timeouts: Timeouts,
    connections: Arc<ConnectionGauge>,
}

impl std::fmt::Debug for HttpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpListener")
            .field("local", &self.local)
            .field("tls", &self.tls.is_some())
            .field("timeouts", &self.timeouts)
            .field("connections", &self.connections.counts())
            .finish()
    }
}

impl HttpListener {
    /// Loads TLS (if given), then binds `addr` (port 0 = any free port).
    pub async fn bind(
        addr: &str,
        tls: Option<&TlsPaths>,
        timeouts: Timeouts,
    ) -> Result<HttpListener, ListenerError> {
        let tls = tls.map(tls::acceptor).transpose()?;
        let bind_err = |source| ListenerError::Bind {
            addr: addr.to_owned(),
            source,
        };
        let tcp = TcpListener::bind(addr).await.map_err(bind_err)?;
        let local = tcp.local_addr().map_err(bind_err)?;
        Ok(HttpListener {
            tcp,
            local,
            tls,
            timeouts,
            connections: ConnectionGauge::new(usize::MAX),
        })
    }

    /// Serves at most `max` connections at once (see [`connection_cap`]).
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.connections = ConnectionGauge::new(max);
        self
    }

    /// The listener's connection counters, for the health report.
    pub fn connections(&self) -> Arc<ConnectionGauge> {
        Arc::clone(&self.connections)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `http://host:port` or `https://host:port` of the bound socket.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local)
    }

    /// Serves until `shutdown` completes, then drains open connections for
    /// at most [`Timeouts::drain`]. `make` builds the service of one
    /// connection from the peer's address.
    pub async fn serve<S, B>(
        self,
        make: impl Fn(SocketAddr) -> S,
        shutdown: impl Future<Output = ()>,
    ) where
        S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut conns = JoinSet::new();
        let timeouts = self.timeouts;
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
                    let Some(slot) = self.connections.try_admit() else {
                        tracing::debug!(%peer, "connection cap reached: turning the connection away");
                        conns.spawn(connection_cap::refuse(stream, self.tls.is_none()));
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let svc = make(peer);
                    let tls = self.tls.clone();
                    let stop = stop_rx.clone();
                    conns.spawn(async move {
                        let _slot = slot;
                        match tls {
                            None => serve_conn(stream, svc, stop, timeouts).await,
                            Some(acceptor) => match tokio::time::timeout(timeouts.tls_handshake, acceptor.accept(stream)).await {
                                Ok(Ok(tls_stream)) => serve_conn(tls_stream, svc, stop, timeouts).await,
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
            addr = %self.local,
            connections = conns.len(),
            "shutting down: draining connections"
        );
        let drained = tokio::time::timeout(timeouts.drain, async {
            while conns.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                addr = %self.local,
                connections = conns.len(),
                "connections still open after the drain timeout; closing them"
            );
            conns.abort_all();
        }
    }
}

async fn serve_conn<I, S, B>(io: I, svc: S, mut stop: watch::Receiver<bool>, timeouts: Timeouts)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let io = ConnectionDeadlines::new(io, timeouts.header_read, timeouts.send);
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
