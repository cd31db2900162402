//! The app root in-process: start-up lines in order, the admin API over TLS
//! (health and `/v1/workers`), and a clean shutdown.

use std::time::Duration;

use coffer_server::app::{App, AppSettings};
use coffer_server::config::Config;
use tokio::net::TcpStream;

/// One GET over TLS with curl, trusting `ca` (the harness's certificate is
/// its own CA, which rustls's verifier refuses as a server certificate);
/// returns the status and the body.
async fn https_get(
    url: &str,
    ca: &std::path::Path,
    path: &str,
    token: Option<&str>,
) -> (u16, String) {
    let mut c = std::process::Command::new("curl");
    c.args([
        "-sS",
        "--max-time",
        "10",
        "-w",
        "\n%{http_code}",
        "--cacert",
    ])
    .arg(ca)
    .arg(format!("{url}{path}"));
    if let Some(t) = token {
        c.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    let out = tokio::task::spawn_blocking(move || c.output())
        .await
        .unwrap()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "curl failed: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, code) = text.rsplit_once('\n').expect("a status line from curl");
    (
        code.trim().parse().expect("an HTTP status"),
        body.to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_over_tls_lists_the_workers_and_shutdown_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let tls = coffer_conformance::tls::self_signed(&dir.path().join("tls"));
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    config.s3.listen = "127.0.0.1:0".into();
    config.admin.tls_cert = Some(tls.cert.clone());
    config.admin.tls_key = Some(tls.key.clone());
    let settings = AppSettings::default();
    let mut lines = Vec::new();
    let app = App::start(&config, settings, &mut |l: &str| {
        lines.push(l.to_owned());
        Ok(())
    })
    .await
    .unwrap();
    let text = lines.join("\n");
    assert!(
        text.contains("coffer: initialised a new repository"),
        "{text}"
    );
    let admin_at = text.find("coffer: admin API listening on https://");
    let s3_at = text.find("coffer: S3 listening on http://");
    assert!(
        matches!((admin_at, s3_at), (Some(a), Some(s)) if a < s),
        "admin line before the S3 line: {text}"
    );
    assert!(lines.last().unwrap().starts_with("coffer: S3 listening on"));
    assert!(app.admin_url().starts_with("https://127.0.0.1:"));

    let (status, health) = https_get(app.admin_url(), &tls.cert, "/v1/health", None).await;
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    let token = std::fs::read_to_string(config.data_dir().join("admin.token")).unwrap();
    let (status, body) = https_get(
        app.admin_url(),
        &tls.cert,
        "/v1/workers",
        Some(token.trim()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json[0]["name"], "shared-pack-writer", "{json}");
    assert_eq!(json[0]["state"], "idle", "{json}");
    assert_eq!(json[1]["name"], "memory-trim", "{json}");
    assert_eq!(json[2]["name"], "lifecycle", "{json}");
    assert_eq!(json[3]["name"], "retention", "{json}");
    assert_eq!(app.workers().status().len(), 4);

    let (status, body) = https_get(app.admin_url(), &tls.cert, "/v1/workers", None).await;
    assert_eq!(status, 401, "{body}");

    let (s3, admin) = (app.s3_url().to_owned(), app.admin_url().to_owned());
    let status = app.workers();
    tokio::time::timeout(Duration::from_secs(20), app.shutdown())
        .await
        .expect("shutdown in time");
    assert_eq!(
        status.status()[0].state,
        coffer_server::workers::WorkerState::Stopped
    );
    for url in [s3, admin] {
        let hostport = url.split("://").nth(1).unwrap();
        assert!(
            TcpStream::connect(hostport).await.is_err(),
            "{url} still accepting"
        );
    }
    // The database was closed: the same data directory opens again at once.
    let again = coffer_server::engine::Engine::open(config.engine_options()).await;
    assert!(again.is_ok(), "{again:?}");
}
