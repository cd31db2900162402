//! Bodies between s3s and the engine: the decoded request body (aws-chunked
//! framing already removed and verified by s3s) into the engine's stream, and
//! the engine's stream out as a response body of known length.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use s3s::StdError;
use s3s::dto::StreamingBlob;
use s3s::stream::{ByteStream, RemainingLength};

use crate::engine::BodyStream;

/// The request body as the engine reads it. Errors keep s3s's text so the
/// front can tell a bad chunk signature from a client that went away.
pub fn request_body(blob: Option<StreamingBlob>) -> BodyStream {
    match blob {
        Some(blob) => Box::pin(blob.map_err(std::io::Error::other)),
        None => Box::pin(futures::stream::empty()),
    }
}

/// A response body of exactly `len` bytes.
pub fn response_body(stream: BodyStream, len: u64) -> StreamingBlob {
    StreamingBlob::new(ResponseBody {
        inner: Mutex::new(stream),
        remaining: len,
    })
}

/// s3s wants a `Sync` stream; the engine's is only `Send`. The mutex is never
/// contended: polling goes through `&mut self` and `Mutex::get_mut`.
struct ResponseBody {
    inner: Mutex<BodyStream>,
    remaining: u64,
}

impl Stream for ResponseBody {
    type Item = Result<Bytes, StdError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let inner = this
            .inner
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                this.remaining = this.remaining.saturating_sub(bytes.len() as u64);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            other => other.map(|_| None),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}

impl ByteStream for ResponseBody {
    fn remaining_length(&self) -> RemainingLength {
        match usize::try_from(self.remaining) {
            Ok(n) => RemainingLength::new_exact(n),
            Err(_) => RemainingLength::unknown(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn response_body_counts_down_and_passes_bytes() {
        let parts: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::from_static(b"de")),
        ];
        let mut blob = response_body(Box::pin(futures::stream::iter(parts)), 5);
        assert_eq!(blob.remaining_length().exact(), Some(5));
        let mut got = Vec::new();
        while let Some(chunk) = blob.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, b"abcde");
        assert_eq!(blob.remaining_length().exact(), Some(0));
    }

    #[tokio::test]
    async fn missing_request_body_is_empty() {
        let mut body = request_body(None);
        assert!(body.next().await.is_none());
    }
}
