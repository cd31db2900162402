//! A minimal S3 client over one hyper HTTP/1.1 keep-alive connection per worker.
//!
//! Path-style addressing, SigV4 header auth with `UNSIGNED-PAYLOAD`: the body is
//! never hashed or copied, so the client's cost per byte is just the socket write.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::time::SystemTime;

use coffer_server::sigv4::{self, Credentials, Payload, SigV4Error, Signer, ToSign};
use tokio::net::TcpStream;

use crate::xml;

/// Failures of one S3 request.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("building request: {0}")]
    Request(#[from] http::Error),
    #[error("signing request: {0}")]
    Sign(#[from] SigV4Error),
    #[error("{method} {path}: HTTP {status}: {body}")]
    Status {
        method: Method,
        path: String,
        status: StatusCode,
        body: String,
    },
    #[error("unexpected response: {0}")]
    BadResponse(String),
}

/// Where a server listens and how to sign for it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub creds: Credentials,
}

impl Endpoint {
    fn host(&self) -> String {
        self.addr.to_string()
    }
}

/// One page of a ListObjectsV2 answer.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub keys: usize,
    pub next_token: Option<String>,
}

/// One worker's connection; reconnects transparently when the server closed it.
#[derive(Debug)]
pub struct Connection {
    endpoint: Arc<Endpoint>,
    signer: Signer,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    pub fn new(endpoint: Arc<Endpoint>) -> Self {
        Self {
            signer: Signer::new(&endpoint.creds),
            endpoint,
            sender: None,
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let addr = self.endpoint.addr;
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        stream
            .set_nodelay(true)
            .map_err(|source| ClientError::Connect { addr, source })?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // The connection ends when the server closes it; the next request reconnects.
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Opens the connection now, so that timed phases do not pay for the handshake.
    pub async fn warm(&mut self) -> Result<(), ClientError> {
        self.ready_sender().await.map(|_| ())
    }

    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, ClientError> {
        let usable = match self.sender.as_mut() {
            Some(s) if !s.is_closed() => s.ready().await.is_ok(),
            _ => false,
        };
        if !usable {
            let mut fresh = self.connect().await?;
            fresh.ready().await?;
            self.sender = Some(fresh);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| ClientError::BadResponse("no connection".into()))
    }

    /// Sends a signed request and returns the response with its body still unread.
    pub async fn send(
        &mut self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, &str)],
        body: Bytes,
    ) -> Result<http::Response<Incoming>, ClientError> {
        let path = match key {
            Some(k) => format!("/{bucket}/{k}"),
            None => format!("/{bucket}"),
        };
        let encoded_path = sigv4::uri_encode(&path, true);
        // Sub-resources without a value go on the wire bare (`?versioning`), as SDKs send them.
        let wire_query: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    sigv4::uri_encode(k, false)
                } else {
                    format!(
                        "{}={}",
                        sigv4::uri_encode(k, false),
                        sigv4::uri_encode(v, false)
                    )
                }
            })
            .collect();
        let uri = if wire_query.is_empty() {
            encoded_path
        } else {
            format!("{encoded_path}?{}", wire_query.join("&"))
        };
        let host = self.endpoint.host();
        let signed = self.signer.sign_headers(
            SystemTime::now(),
            &ToSign {
                method: method.as_str(),
                url: &format!("http://{host}{uri}"),
                headers: &[],
                payload: Payload::Unsigned,
            },
        )?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header("host", host);
        for (name, value) in signed.iter() {
            request = request.header(name, value);
        }
        let request = request
            .header("content-length", body.len())
            .body(Full::new(body))?;
        let sender = self.ready_sender().await?;
        let response = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => {
                self.sender = None;
                return Err(e.into());
            }
        };
        if !response.status().is_success() {
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            let text = String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned();
            return Err(ClientError::Status {
                method,
                path,
                status,
                body: text,
            });
        }
        Ok(response)
    }

    async fn drain(response: http::Response<Incoming>) -> Result<u64, ClientError> {
        let mut body = response.into_body();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                n += data.len() as u64;
            }
        }
        Ok(n)
    }

    pub async fn create_bucket(&mut self, bucket: &str) -> Result<(), ClientError> {
        let r = self
            .send(Method::PUT, bucket, None, &[], Bytes::new())
            .await?;
        Self::drain(r).await.map(|_| ())
    }

    /// Turns versioning on; servers that do not support it answer with an error.
    pub async fn enable_versioning(&mut self, bucket: &str) -> Result<(), ClientError> {
        let body = Bytes::from_static(
            b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
              <Status>Enabled</Status></VersioningConfiguration>",
        );
        let r = self
            .send(Method::PUT, bucket, None, &[("versioning", "")], body)
            .await?;
        Self::drain(r).await?;
        let r = self
            .send(
                Method::GET,
                bucket,
                None,
                &[("versioning", "")],
                Bytes::new(),
            )
            .await?;
        let text = r.into_body().collect().await?.to_bytes();
        match xml::first(&String::from_utf8_lossy(&text), "Status") {
            Some(s) if s == "Enabled" => Ok(()),
            other => Err(ClientError::BadResponse(format!(
                "versioning status after enabling: {other:?}"
            ))),
        }
    }

    /// PutBucketLifecycleConfiguration with `xml` as the body.
    pub async fn put_lifecycle(&mut self, bucket: &str, xml: &str) -> Result<(), ClientError> {
        let body = Bytes::from(xml.to_owned());
        let r = self
            .send(Method::PUT, bucket, None, &[("lifecycle", "")], body)
            .await?;
        Self::drain(r).await.map(|_| ())
    }

    /// DeleteBucketLifecycle.
    pub async fn delete_lifecycle(&mut self, bucket: &str) -> Result<(), ClientError> {
        let r = self
            .send(
                Method::DELETE,
                bucket,
                None,
                &[("lifecycle", "")],
                Bytes::new(),
            )
            .await?;
        Self::drain(r).await.map(|_| ())
    }

    pub async fn put(&mut self, bucket: &str, key: &str, body: Bytes) -> Result<u64, ClientError> {
        let n = body.len() as u64;
        let r = self.send(Method::PUT, bucket, Some(key), &[], body).await?;
        Self::drain(r).await?;
        Ok(n)
    }

    /// GETs an object, counting its bytes without keeping them.
    pub async fn get_count(&mut self, bucket: &str, key: &str) -> Result<u64, ClientError> {
        let r = self
            .send(Method::GET, bucket, Some(key), &[], Bytes::new())
            .await?;
        Self::drain(r).await
    }

    /// GETs an object and keeps its bytes (for verification runs).
    pub async fn get_bytes(&mut self, bucket: &str, key: &str) -> Result<Bytes, ClientError> {
        let r = self
            .send(Method::GET, bucket, Some(key), &[], Bytes::new())
            .await?;
        Ok(r.into_body().collect().await?.to_bytes())
    }

    /// HEADs an object and returns its Content-Length.
    pub async fn head(&mut self, bucket: &str, key: &str) -> Result<u64, ClientError> {
        let r = self
            .send(Method::HEAD, bucket, Some(key), &[], Bytes::new())
            .await?;
        let len = r
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| ClientError::BadResponse("HEAD without Content-Length".into()))?;
        Self::drain(r).await?;
        Ok(len)
    }

    pub async fn delete(&mut self, bucket: &str, key: &str) -> Result<(), ClientError> {
        let r = self
            .send(Method::DELETE, bucket, Some(key), &[], Bytes::new())
            .await?;
        Self::drain(r).await.map(|_| ())
    }

    pub async fn list_page(
        &mut self,
        bucket: &str,
        max_keys: usize,
        token: Option<&str>,
    ) -> Result<ListPage, ClientError> {
        let max = max_keys.to_string();
        let mut query = vec![("list-type", "2"), ("max-keys", max.as_str())];
        if let Some(t) = token {
            query.push(("continuation-token", t));
        }
        let r = self
            .send(Method::GET, bucket, None, &query, Bytes::new())
            .await?;
        let body = r.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&body);
        let keys = xml::count(&text, "Contents");
        let truncated = xml::first(&text, "IsTruncated").is_some_and(|v| v == "true");
        let next_token = if truncated {
            Some(xml::first(&text, "NextContinuationToken").ok_or_else(|| {
                ClientError::BadResponse("truncated listing without NextContinuationToken".into())
            })?)
        } else {
            None
        };
        Ok(ListPage { keys, next_token })
    }

    /// Counts the versions stored under exactly `key` (follows pagination).
    pub async fn count_versions(&mut self, bucket: &str, key: &str) -> Result<usize, ClientError> {
        let mut total = 0;
        let mut marker: Option<(String, String)> = None;
        loop {
            let mut query = vec![("versions", ""), ("prefix", key)];
            if let Some((k, v)) = &marker {
                query.push(("key-marker", k.as_str()));
                query.push(("version-id-marker", v.as_str()));
            }
            let r = self
                .send(Method::GET, bucket, None, &query, Bytes::new())
                .await?;
            let body = r.into_body().collect().await?.to_bytes();
            let text = String::from_utf8_lossy(&body);
            total += xml::all(&text, "Version")
                .iter()
                .filter(|v| xml::first(v, "Key").as_deref() == Some(key))
                .count();
            if xml::first(&text, "IsTruncated").is_some_and(|v| v == "true") {
                let k = xml::first(&text, "NextKeyMarker").unwrap_or_default();
                let v = xml::first(&text, "NextVersionIdMarker").unwrap_or_default();
                if k.is_empty() {
                    return Err(ClientError::BadResponse(
                        "truncated version listing without NextKeyMarker".into(),
                    ));
                }
                marker = Some((k, v));
            } else {
                return Ok(total);
            }
        }
    }
}
