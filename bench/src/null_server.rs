//! A server that stores nothing: PUT bodies are read and dropped, GET answers zeros of
//! the recorded length. Its figures are what the load generator can drive at most.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// First stdout line, followed by the bound address.
pub const LISTENING: &str = "null: listening on ";

type Store = Arc<Mutex<BTreeMap<(String, String), u64>>>;
type Body = BoxBody<Bytes, Infallible>;

/// Serves until killed.
pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("{LISTENING}{}", listener.local_addr()?);
    let store: Store = Arc::default();
    let zeros = Bytes::from(vec![0u8; 1 << 20]);
    loop {
        let (socket, _) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        let store = store.clone();
        let zeros = zeros.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let store = store.clone();
                let zeros = zeros.clone();
                async move { Ok::<_, Infallible>(handle(req, store, zeros).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()).boxed());
    *r.status_mut() = code;
    r
}

fn with_length(code: StatusCode, len: u64, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = code;
    r.headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    r
}

async fn handle(req: Request<Incoming>, store: Store, zeros: Bytes) -> Response<Body> {
    let path = req.uri().path().trim_start_matches('/').to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) if !k.is_empty() => (b.to_owned(), Some(k.to_owned())),
        _ => (path.trim_end_matches('/').to_owned(), None),
    };
    let method = req.method().clone();
    match (method, key) {
        (Method::PUT, None) if query.contains("versioning") => status(StatusCode::NOT_IMPLEMENTED),
        (Method::PUT, None) => status(StatusCode::OK),
        (Method::PUT, Some(key)) => {
            let mut body = req.into_body();
            let mut n = 0u64;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => n += f.data_ref().map_or(0, |d| d.len() as u64),
                    Err(_) => return status(StatusCode::BAD_REQUEST),
                }
            }
            if let Ok(mut s) = store.lock() {
                s.insert((bucket, key), n);
            }
            status(StatusCode::OK)
        }
        (m @ (Method::GET | Method::HEAD), Some(key)) => {
            let len = store
                .lock()
                .ok()
                .and_then(|s| s.get(&(bucket, key)).copied());
            let Some(len) = len else {
                return status(StatusCode::NOT_FOUND);
            };
            if m == Method::HEAD {
                return with_length(StatusCode::OK, len, Full::new(Bytes::new()).boxed());
            }
            let step = zeros.len() as u64;
            let frames = (0..len.div_ceil(step)).map(move |i| {
                let n = (len - i * step).min(step) as usize;
                Ok::<_, Infallible>(Frame::data(zeros.slice(..n)))
            });
            with_length(
                StatusCode::OK,
                len,
                StreamBody::new(futures::stream::iter(frames)).boxed(),
            )
        }
        (Method::DELETE, Some(key)) => {
            if let Ok(mut s) = store.lock() {
                s.remove(&(bucket, key));
            }
            status(StatusCode::NO_CONTENT)
        }
        (Method::GET, None) if query.contains("list-type=2") => list(&store, &bucket, &query),
        (Method::GET, None) if query.contains("versioning") => status(StatusCode::NOT_IMPLEMENTED),
        _ => status(StatusCode::NOT_IMPLEMENTED),
    }
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn list(store: &Store, bucket: &str, query: &str) -> Response<Body> {
    let max: usize = param(query, "max-keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    // Tokens are the last key of the previous page.
    let after = percent_decode(param(query, "continuation-token").unwrap_or(""));
    let Ok(s) = store.lock() else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut xml = String::from("<ListBucketResult>");
    let mut last = None;
    let mut count = 0;
    let mut truncated = false;
    for ((b, k), len) in s.range((bucket.to_owned(), after.clone())..) {
        if b != bucket {
            break;
        }
        if k == &after {
            continue;
        }
        if count == max {
            truncated = true;
            break;
        }
        xml.push_str(&format!(
            "<Contents><Key>{k}</Key><Size>{len}</Size></Contents>"
        ));
        last = Some(k.clone());
        count += 1;
    }
    xml.push_str(&format!(
        "<KeyCount>{count}</KeyCount><IsTruncated>{truncated}</IsTruncated>"
    ));
    if let (true, Some(l)) = (truncated, last) {
        xml.push_str(&format!(
            "<NextContinuationToken>{l}</NextContinuationToken>"
        ));
    }
    xml.push_str("</ListBucketResult>");
    let len = xml.len() as u64;
    with_length(StatusCode::OK, len, Full::new(Bytes::from(xml)).boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_tokens() {
        assert_eq!(percent_decode("data%2F0a%2F00000001"), "data/0a/00000001");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
