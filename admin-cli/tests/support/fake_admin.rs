//! A fake Coffer admin API on a loopback port: canned JSON per method and path, the contract's
//! token check, and a record of every request so tests can see what the CLI sent.
//!
//! Kept only for what a real cofferd cannot be made to answer; everything else runs
//! against a real server (`support::real`). What stays here: a 5xx; a 403 in the
//! contract's JSON; a success whose body is not JSON or not the contract's shape (a
//! list that is an object, a created key without its secret); answers whose values a
//! test server cannot reach in a test's time (5 GiB buckets, thousands of objects,
//! keys that expired years ago, a day of uptime); and checks of the exact bytes the
//! CLI sends (bodies, headers), which a real server does not report back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::Value;

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub body: String,
}

impl Route {
    pub fn json(method: &'static str, path: &str, status: u16, body: Value) -> Self {
        Route {
            method,
            path: path.to_owned(),
            status,
            body: body.to_string(),
        }
    }

    /// A body that is not the contract's JSON (an S3 listener's XML, a proxy's page).
    pub fn raw(method: &'static str, path: &str, status: u16, body: &str) -> Self {
        Route {
            method,
            path: path.to_owned(),
            status,
            body: body.to_owned(),
        }
    }

    /// The contract's error shape.
    pub fn error(method: &'static str, path: &str, status: u16, code: &str, message: &str) -> Self {
        Route::json(
            method,
            path,
            status,
            serde_json::json!({"error": {"code": code, "message": message}}),
        )
    }
}

/// What the CLI sent.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body {:?}: {e}", self.body))
    }
}

#[derive(Debug)]
pub struct FakeAdmin {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl FakeAdmin {
    /// Serves `routes`; every path but `/v1/health` needs `Authorization: Bearer <token>`.
    pub fn start(token: &str, routes: Vec<Route>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, flag, token) = (requests.clone(), stop.clone(), token.to_owned());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &token, &routes, &log);
                }
            }
        });
        FakeAdmin {
            url: format!("http://{addr}"),
            requests,
            stop,
            addr,
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The one request the test expects for `method path`.
    pub fn only(&self, method: &str, path: &str) -> Recorded {
        let matching: Vec<Recorded> = self
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "requests for {method} {path}: {:?}",
            self.requests()
        );
        matching.into_iter().next().unwrap()
    }
}

impl Drop for FakeAdmin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, token: &str, routes: &[Route], log: &Mutex<Vec<Recorded>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let (mut length, mut authorization, mut content_type) = (0usize, None, None);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "authorization" => authorization = Some(value),
                "content-type" => content_type = Some(value),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body = String::from_utf8(body).unwrap();

    let authorised =
        path == "/v1/health" || authorization.as_deref() == Some(&format!("Bearer {token}"));
    log.lock().unwrap().push(Recorded {
        method: method.clone(),
        path: path.clone(),
        authorization,
        content_type,
        body,
    });
    let (status, body) = if !authorised {
        (
            401,
            r#"{"error":{"code":"Unauthorized","message":"missing or wrong admin token"}}"#
                .to_owned(),
        )
    } else if let Some(route) = routes.iter().find(|r| r.method == method && r.path == path) {
        (route.status, route.body.clone())
    } else {
        (
            404,
            format!(r#"{{"error":{{"code":"NotFound","message":"no route {method} {path}"}}}}"#),
        )
    };
    let mut stream = stream;
    let head = if status == 204 {
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned()
    } else {
        format!(
            "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
    };
    let _ = stream.write_all(head.as_bytes());
    if status != 204 {
        let _ = stream.write_all(body.as_bytes());
    }
    let _ = stream.flush();
}
