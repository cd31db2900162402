//! The I/O deadlines of one connection, in one wrapper around its socket:
//!
//! - **First byte**: reads fail with `TimedOut` if nothing arrived within the
//!   header-read timeout. hyper's own header-read timeout starts only once the
//!   auto builder has seen enough bytes to pick HTTP/1 or HTTP/2, so a client
//!   that connects and sends nothing would otherwise hold its connection for ever.
//! - **Send**: a connection whose writes make no progress for the send timeout
//!   (the client stopped reading and its socket buffer is full) fails with
//!   `TimedOut`, so hyper closes it and drops the response body with whatever
//!   it held (opened chunks, buffers). Without it, a client that opens many
//!   GETs and never reads pins their read-ahead for as long as it keeps the
//!   connections open: 1,800 such GETs once held 9 GB. Only a write that stays
//!   pending counts: a slow reader resets the clock with each write that goes
//!   through.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A socket with the first-byte and send deadlines.
#[derive(Debug)]
pub(super) struct ConnectionDeadlines<I> {
    inner: I,
    /// Until the first byte is read; then `None` for good.
    first_byte: Option<Pin<Box<Sleep>>>,
    send_timeout: Duration,
    /// Armed while a write (or flush) is pending.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<I> ConnectionDeadlines<I> {
    pub fn new(inner: I, first_byte: Duration, send_timeout: Duration) -> Self {
        ConnectionDeadlines {
            inner,
            first_byte: Some(Box::pin(tokio::time::sleep(first_byte))),
            send_timeout,
            stalled: None,
        }
    }

    /// After a write returned Pending: arm the timer (once per stall) and
    /// report whether it has run out.
    fn stall_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = self.send_timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        timer.as_mut().poll(cx).is_ready()
    }

    fn on_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending if self.stall_expired(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing within the send timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for ConnectionDeadlines<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.first_byte = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let expired = this
                    .first_byte
                    .as_mut()
                    .is_some_and(|d| d.as_mut().poll(cx).is_ready());
                if expired {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request within the header-read timeout",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ConnectionDeadlines<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.on_write(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.on_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_reads_times_out() {
        let (a, _b) = tokio::io::duplex(1024);
        let mut w = ConnectionDeadlines::new(a, Duration::from_secs(3600), Duration::from_secs(5));
        let started = tokio::time::Instant::now();
        let err = w.write_all(&vec![0u8; 1 << 20]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_served() {
        use tokio::io::AsyncReadExt;
        let (a, mut b) = tokio::io::duplex(1024);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 512];
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let n = b.read(&mut buf).await.unwrap();
                if n == 0 {
                    return got;
                }
                got += n;
            }
        });
        let mut w = ConnectionDeadlines::new(a, Duration::from_secs(3600), Duration::from_secs(5));
        w.write_all(&vec![7u8; 16 * 1024]).await.unwrap();
        w.shutdown().await.unwrap();
        drop(w);
        assert_eq!(reader.await.unwrap(), 16 * 1024);
    }
}
