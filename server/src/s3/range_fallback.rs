//! A GET or HEAD whose `Range` header is malformed or names several ranges is
//! answered as AWS answers it: the header is ignored and the whole object is
//! served with 200. (A well-formed single range past the end is still 416.)
//!
//! s3s cannot be told to ignore the header: it refuses it with 400 while
//! parsing the GetObject input, after the signature check and before Coffer's
//! handler runs, and the header cannot be dropped before the signature check
//! because clients sign it. So this `S3Route`, which s3s consults only after
//! it has verified the request's signature, takes such a request and replays
//! it without the header through a second S3 service, re-signed as the same
//! access key (s3s hands the route the verified key and its secret). The replay
//! passes every check again — signature, grants, the operation itself — so it
//! can do nothing the original request could not.

use std::time::SystemTime;

use http::{HeaderMap, HeaderValue, Method, Uri};
use s3s::dto::Range;
use s3s::route::S3Route;
use s3s::service::S3Service;
use s3s::{Body, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use crate::sigv4::{Credentials, Payload, Signer, ToSign};

/// The query parameters of a presigned URL; the replay carries an
/// `Authorization` header instead.
const PRESIGN_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Headers the replay sets itself.
const RESIGNED: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "range",
];

/// The route; `replay` is an S3 service built without it.
pub struct IgnoreUnusableRange {
    replay: S3Service,
    region: String,
}

impl std::fmt::Debug for IgnoreUnusableRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IgnoreUnusableRange")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl IgnoreUnusableRange {
    pub fn new(replay: S3Service, region: String) -> Self {
        IgnoreUnusableRange { replay, region }
    }
}

/// `true` when s3s would refuse the request's `Range` header: several of them,
/// one that is not text, or one its grammar rejects (`bytes=0-1,5-6`,
/// `bytes=abc`, `items=0-1`, `bytes=5-1`).
pub fn unusable_range(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(http::header::RANGE).iter();
    let Some(first) = values.next() else {
        return false;
    };
    if values.next().is_some() {
        return true;
    }
    first.to_str().map_or(true, |v| Range::parse(v).is_err())
}

fn internal(what: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %what, "replaying a request without its Range header");
    S3Error::with_message(
        S3ErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

/// The request's path and query, without the presigned-URL parameters.
fn path_and_query(uri: &Uri) -> String {
    let path = uri.path();
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split_once('=').map_or(*p, |(k, _)| k);
            !PRESIGN_PARAMS.contains(&name)
        })
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

#[async_trait::async_trait]
impl S3Route for IgnoreUnusableRange {
    fn is_match(
        &self,
        method: &Method,
        _uri: &Uri,
        headers: &HeaderMap,
        _extensions: &mut http::Extensions,
    ) -> bool {
        (method == Method::GET || method == Method::HEAD) && unusable_range(headers)
    }

    // The default check_access refuses anonymous requests; signed ones are
    // checked in full when replayed.

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let creds = req
            .credentials
            .as_ref()
            .ok_or_else(|| S3Error::with_message(S3ErrorCode::AccessDenied, "Access Denied"))?;
        let host = req
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri.authority().map(|a| a.as_str().to_owned()))
            .ok_or_else(|| internal("no host"))?;
        let target = path_and_query(&req.uri);
        let kept: Vec<(String, String)> = req
            .headers
            .iter()
            .filter(|(k, _)| !RESIGNED.contains(&k.as_str()) && *k != http::header::HOST)
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let region = req
            .region
            .as_ref()
            .map_or(self.region.as_str(), |r| r.as_str())
            .to_owned();
        let signer = Signer::new(&Credentials {
            access_key_id: creds.access_key.clone(),
            secret_access_key: creds.secret_key.expose().to_owned(),
            region,
        });
        // Only the scheme-less authority and path are signed; http is fine here.
        let url = format!("http://{host}{target}");
        let borrowed: Vec<(&str, &str)> =
            kept.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let signed = signer
            .sign_headers(
                SystemTime::now(),
                &ToSign {
                    method: req.method.as_str(),
                    url: &url,
                    headers: &borrowed,
                    payload: Payload::Unsigned,
                },
            )
            .map_err(internal)?;

        let mut replay = http::Request::builder()
            .method(req.method.clone())
            .uri(target.as_str())
            .version(http::Version::HTTP_11)
            .body(Body::empty())
            .map_err(internal)?;
        let headers = replay.headers_mut();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&host).map_err(internal)?,
        );
        for (k, v) in &kept {
            let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(internal)?;
            headers.append(name, HeaderValue::from_str(v).map_err(internal)?);
        }
        for (k, v) in signed.iter() {
            headers.insert(k, HeaderValue::from_str(v).map_err(internal)?);
        }
        *replay.extensions_mut() = req.extensions;

        let resp = self
            .replay
            .call(replay)
            .await
            .map_err(|e| internal(format!("{e:?}")))?;
        let (parts, body) = resp.into_parts();
        let mut out = S3Response::new(body);
        out.status = Some(parts.status);
        out.headers = parts.headers;
        out.extensions = parts.extensions;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(http::header::RANGE, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn malformed_and_multi_ranges_are_unusable() {
        for bad in [
            "bytes=0-1,3-4",
            "bytes=abc",
            "items=0-1",
            "bytes=5-1",
            "bytes=",
        ] {
            assert!(unusable_range(&range(&[bad])), "{bad}");
        }
        assert!(unusable_range(&range(&["bytes=0-1", "bytes=2-3"])));
    }

    #[test]
    fn well_formed_ranges_are_left_to_the_handler() {
        for good in ["bytes=0-9", "bytes=5-", "bytes=-3", "bytes=1000000-2000000"] {
            assert!(!unusable_range(&range(&[good])), "{good}");
        }
        assert!(!unusable_range(&HeaderMap::new()));
    }

    #[test]
    fn presign_parameters_are_dropped_from_the_replay() {
        let uri: Uri =
            "/b/k?versionId=3&X-Amz-Signature=00&X-Amz-Expires=60&response-content-type=a%2Fb"
                .parse()
                .unwrap();
        assert_eq!(
            path_and_query(&uri),
            "/b/k?versionId=3&response-content-type=a%2Fb"
        );
        let bare: Uri = "/b/k".parse().unwrap();
        assert_eq!(path_and_query(&bare), "/b/k");
    }
}
