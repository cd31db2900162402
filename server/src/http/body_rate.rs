//! The minimum request-body rate: a body that, while the server waits for
//! it, delivers fewer than `min_bytes_per_sec` over a whole window is cut
//! with an error whose text starts with `RequestTimeout`, which the S3 front
//! answers as AWS does (400 `RequestTimeout`). Without it a client trickling
//! one byte a second holds a connection, a task and a chunk buffer forever.
//!
//! Only time spent *waiting for the client* counts: while the server is busy
//! with what it already has (a commit, a full hash queue), the body is not
//! polled and the clock for that window is stopped, so back-pressure from
//! our side never looks like a slow client.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// What a request body must sustain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRate {
    /// Bytes per second, averaged over one window (0 = no minimum).
    pub min_bytes_per_sec: u64,
    /// How long the server waits, in all, before judging the rate.
    pub window: Duration,
}

impl Default for BodyRate {
    fn default() -> Self {
        BodyRate {
            min_bytes_per_sec: 1024,
            window: Duration::from_secs(30),
        }
    }
}

impl BodyRate {
    fn min_bytes_per_window(&self) -> u64 {
        let millis = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        self.min_bytes_per_sec.saturating_mul(millis) / 1000
    }
}

/// The body was slower than [`BodyRate`] allows.
#[derive(Debug, thiserror::Error)]
#[error(
    "RequestTimeout: the request body sent {got} bytes in {window:?} of waiting, under the minimum of {want}"
)]
pub struct BodyTooSlow {
    got: u64,
    want: u64,
    window: Duration,
}

/// A request body held to a minimum rate.
#[derive(Debug)]
pub struct RateLimitedBody<B> {
    inner: B,
    rate: BodyRate,
    /// Waiting time accumulated in the current window.
    waited: Duration,
    /// Bytes received in the current window.
    got: u64,
    /// When the current wait for the client began (`None`: not waiting).
    waiting_since: Option<Instant>,
    /// Fires when the current window's waiting time runs out.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> RateLimitedBody<B> {
    pub fn new(inner: B, rate: BodyRate) -> Self {
        RateLimitedBody {
            inner,
            rate,
            waited: Duration::ZERO,
            got: 0,
            waiting_since: None,
            timer: None,
        }
    }

    /// Ends the current wait; `Err` when the window is over and too little came.
    fn settle(&mut self, now: Instant) -> Result<(), BodyTooSlow> {
        if let Some(since) = self.waiting_since.take() {
            self.waited += now.saturating_duration_since(since);
        }
        if self.waited < self.rate.window {
            return Ok(());
        }
        let want = self.rate.min_bytes_per_window();
        if self.got < want {
            return Err(BodyTooSlow {
                got: self.got,
                want,
                window: self.rate.window,
            });
        }
        self.waited = Duration::ZERO;
        self.got = 0;
        Ok(())
    }
}

impl<B> Body for RateLimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.rate.min_bytes_per_sec == 0 {
            return Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.got += data.len() as u64;
                }
                this.timer = None;
                if let Err(e) = this.settle(Instant::now()) {
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => {
                this.timer = None;
                this.waiting_since = None;
                Poll::Ready(other.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let now = Instant::now();
                let since = *this.waiting_since.get_or_insert(now);
                let left = this
                    .rate
                    .window
                    .saturating_sub(this.waited + now.saturating_duration_since(since));
                if left.is_zero() {
                    this.timer = None;
                    return match this.settle(now) {
                        Err(e) => Poll::Ready(Some(Err(Box::new(e)))),
                        Ok(()) => {
                            // A new window starts while still waiting.
                            this.waiting_since = Some(now);
                            let timer = this
                                .timer
                                .insert(Box::pin(tokio::time::sleep(this.rate.window)));
                            let _ = timer.as_mut().poll(cx);
                            Poll::Pending
                        }
                    };
                }
                let deadline = since + (this.rate.window - this.waited);
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                if timer.as_mut().poll(cx).is_ready() {
                    // The deadline passed between the clock read and the poll.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn rate(per_sec: u64, secs: u64) -> BodyRate {
        BodyRate {
            min_bytes_per_sec: per_sec,
            window: Duration::from_secs(secs),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_is_cut_after_one_window() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Item>(4);
        let body = StreamBody::new(tokio_stream_from(rx));
        let mut body = RateLimitedBody::new(body, rate(100, 10));
        tx.send(Ok(Frame::data(Bytes::from_static(b"x"))))
            .await
            .unwrap();
        assert!(body.frame().await.unwrap().is_ok());
        let started = Instant::now();
        let err = body.frame().await.unwrap().unwrap_err();
        assert!(err.to_string().starts_with("RequestTimeout"), "{err}");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(9) && waited <= Duration::from_secs(11),
            "{waited:?}"
        );
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_body_above_the_rate_is_never_cut() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Item>(4);
        let body = StreamBody::new(tokio_stream_from(rx));
        let mut body = RateLimitedBody::new(body, rate(100, 10));
        let feeder = tokio::spawn(async move {
            for _ in 0..60 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                tx.send(Ok(Frame::data(Bytes::from(vec![0u8; 200]))))
                    .await
                    .unwrap();
            }
        });
        let mut total = 0;
        while let Some(frame) = body.frame().await {
            total += frame.unwrap().into_data().unwrap().len();
        }
        assert_eq!(total, 60 * 200);
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_server_spends_not_reading_does_not_count() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Item>(64);
        let body = StreamBody::new(tokio_stream_from(rx));
        let mut body = RateLimitedBody::new(body, rate(100, 10));
        for _ in 0..3 {
            tx.send(Ok(Frame::data(Bytes::from(vec![0u8; 10]))))
                .await
                .unwrap();
        }
        assert!(body.frame().await.unwrap().is_ok());
        // The server is busy for a minute; the client's bytes are waiting.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(body.frame().await.unwrap().is_ok());
        assert!(body.frame().await.unwrap().is_ok());
        drop(tx);
        assert!(body.frame().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_minimum_turns_the_check_off() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Item>(4);
        let body = StreamBody::new(tokio_stream_from(rx));
        let mut body = RateLimitedBody::new(body, rate(0, 1));
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            tx.send(Ok(Frame::data(Bytes::from_static(b"late"))))
                .await
                .unwrap();
        });
        assert!(body.frame().await.unwrap().is_ok());
        late.await.unwrap();
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::Receiver<Item>,
    ) -> impl futures::Stream<Item = Item> + Unpin {
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
