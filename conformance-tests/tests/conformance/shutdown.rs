//! SIGTERM with a download in flight: the download finishes, then cofferd exits 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::coffer_test;
use coffer_conformance::files::write_random;

/// Far more than the socket buffers hold, so the response is still being
/// sent while the reader pauses.
const SIZE: u64 = 48 << 20;

coffer_test!(sigterm_lets_a_slow_get_finish_then_exits_0, |t| {
    t.create_bucket("slow");
    let f = t.work("big.bin");
    write_random(&f, SIZE, 11);
    t.aws(
        AwsCli::V2,
        &["s3", "cp", f.to_str().unwrap(), "s3://slow/big.bin"],
    )
    .assert_ok();
    let url = t
        .aws(
            AwsCli::V2,
            &["s3", "presign", "s3://slow/big.bin", "--expires-in", "600"],
        )
        .assert_ok()
        .stdout
        .trim()
        .to_owned();
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .expect("a path in the presigned URL");
    let port = t.server.port();

    let (started_tx, started_rx) = mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            conn,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while got.len() < 1 << 20 {
            let n = conn.read(&mut buf).expect("read");
            assert!(n > 0, "closed after {} bytes", got.len());
            got.extend_from_slice(&buf[..n]);
        }
        started_tx.send(()).unwrap();
        // Slow reader: the server must wait for it, not cut it off.
        std::thread::sleep(Duration::from_secs(3));
        loop {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("read failed after {} bytes: {e}", got.len()),
            }
        }
        got
    });
    started_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the download started");
    let status = t
        .server
        .terminate(Duration::from_secs(60))
        .expect("cofferd exited after SIGTERM");
    let got = reader.join().expect("reader thread");
    assert!(status.success(), "cofferd exit status {status}");
    let split = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response header");
    let head = String::from_utf8_lossy(&got[..split]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let body = &got[split + 4..];
    assert_eq!(body.len() as u64, SIZE, "the whole body arrived");
    assert_eq!(
        coffer_conformance::files::md5_bytes(body),
        coffer_conformance::files::md5_file(&f)
    );
    let log = t.server.stderr_tail();
    assert!(log.contains("cofferd stopped"), "{log}");
});
