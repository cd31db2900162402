//! HTTP serving shared by both listeners (S3 and admin API): bind, optional
//! rustls TLS, HTTP/1.1 and HTTP/2 via hyper-util's auto builder, timeouts
//! against slow clients, and graceful drain at shutdown. The S3 access log
//! wraps the S3 service here too (`access_log`).

mod access_log;
mod body_rate;
mod connection_cap;
mod deadline;
mod listener;
mod tls;

pub use access_log::{AccessLogged, access_logged};
pub use body_rate::{BodyRate, BodyTooSlow};
pub use connection_cap::{ConnectionCounts, ConnectionGauge, fit_to_descriptor_limit};
pub use listener::{HttpListener, Timeouts};
pub use tls::TlsPaths;

/// Why a listener could not start.
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
