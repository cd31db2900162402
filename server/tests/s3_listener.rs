//! The listener in-process, spoken to over raw TCP: what it does before any
//! signature is checked (anonymous refusal, error messages, closing a
//! connection whose body was never read, graceful shutdown, the header-read
//! timeout).

use std::sync::Arc;
use std::time::Duration;

use coffer_server::config::Config;
use coffer_server::engine::Engine;
use coffer_server::http::{HttpListener, Timeouts, access_logged};
use coffer_server::s3::build_service;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

struct Server {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    start_with(Timeouts::default()).await
}

async fn start_with(timeouts: Timeouts) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    config.s3.listen = "127.0.0.1:0".into();
    let listener = HttpListener::bind(config.s3_listen(), None, timeouts)
        .await
        .unwrap();
    let addr = listener.local_addr();
    let (engine, init) = Engine::open(config.engine_options()).await.unwrap();
    assert!(init.is_some(), "a fresh data dir is initialised");
    let (service, _limits) = build_service(Arc::new(engine), &config.s3_options());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(
        listener.serve(access_logged(service, Default::default()), async {
            let _ = stopped.await;
        }),
    );
    Server {
        addr,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

/// Sends raw bytes and reads until the server closes or `wait` passes.
async fn exchange(addr: std::net::SocketAddr, request: &[u8], wait: Duration) -> (String, bool) {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout(wait, conn.read(&mut buf)).await {
            Ok(Ok(0)) => break true,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_are_refused_with_a_message() {
    let server = start().await;
    let (resp, _) = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    assert!(resp.contains("<Code>AccessDenied</Code>"), "{resp}");
    assert!(resp.contains("<Message>"), "{resp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_expect_continue_body_closes_the_connection() {
    let server = start().await;
    // The client waits for 100 Continue and never sends the 5 bytes: the
    // server must not keep the connection and read the next request as body.
    let req = b"PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    let (resp, closed) = exchange(server.addr, req, Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    assert!(
        resp.to_ascii_lowercase().contains("connection: close"),
        "{resp}"
    );
    assert!(closed, "connection left open: {resp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_body_keep_the_connection() {
    let server = start().await;
    let req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let (resp, closed) = exchange(server.addr, req, Duration::from_millis(500)).await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    assert!(
        !resp.to_ascii_lowercase().contains("connection: close"),
        "{resp}"
    );
    assert!(!closed, "keep-alive connection was closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_stops_accepting() {
    let mut server = start().await;
    if let Some(stop) = server.stop.take() {
        let _ = stop.send(());
    }
    tokio::time::timeout(Duration::from_secs(10), &mut server.task)
        .await
        .expect("serve returned")
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_header_is_disconnected_after_the_header_read_timeout() {
    let server = start_with(Timeouts {
        header_read: Duration::from_millis(300),
        ..Timeouts::default()
    })
    .await;
    let started = std::time::Instant::now();
    // The header never ends: no blank line.
    let (resp, closed) = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
        Duration::from_secs(5),
    )
    .await;
    let waited = started.elapsed();
    assert!(closed, "connection still open after 5 s: {resp:?}");
    assert!(
        waited >= Duration::from_millis(250),
        "closed too early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(4), "closed late: {waited:?}");
    // hyper answers 408 when the timeout hits mid-header; never a 2xx.
    assert!(
        resp.is_empty() || resp.starts_with("HTTP/1.1 408"),
        "{resp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_disconnected_after_the_header_read_timeout() {
    let server = start_with(Timeouts {
        header_read: Duration::from_millis(300),
        ..Timeouts::default()
    })
    .await;
    let started = std::time::Instant::now();
    let (resp, closed) = exchange(server.addr, b"", Duration::from_secs(5)).await;
    let waited = started.elapsed();
    assert!(closed, "connection still open after 5 s: {resp:?}");
    assert!(
        waited >= Duration::from_millis(250),
        "closed too early: {waited:?}"
    );
    assert!(resp.is_empty(), "{resp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_header_in_time_is_answered_despite_a_short_timeout() {
    let server = start_with(Timeouts {
        header_read: Duration::from_millis(300),
        ..Timeouts::default()
    })
    .await;
    let (resp, _) = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_read_timeout() {
    let server = start_with(Timeouts {
        header_read: Duration::from_millis(300),
        ..Timeouts::default()
    })
    .await;
    // Answered and kept open, then closed once no next request began in time.
    let (resp, closed) = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    assert!(closed, "idle connection kept for 5 s");
}
