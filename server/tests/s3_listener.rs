//! The listener in-process, spoken to over raw TCP: what it does before any
//! signature is checked (anonymous refusal, error messages, closing a
//! connection whose body was never read, graceful shutdown).

use std::sync::Arc;
use std::time::Duration;

use coffer_server::config::Config;
use coffer_server::engine::Engine;
use coffer_server::listener::Listener;
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
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    config.s3.listen = "127.0.0.1:0".into();
    let listener = Listener::bind(&config).await.unwrap();
    let addr = listener.local_addr();
    let (engine, init) = Engine::open(config.engine_options()).await.unwrap();
    assert!(init.is_some(), "a fresh data dir is initialised");
    let service = build_service(Arc::new(engine), &config.s3_options());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(listener.serve(service, async {
        let _ = stopped.await;
    }));
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
