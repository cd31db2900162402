//! The connection cap of one listener: how many connections are open, the
//! most it serves at once, and what happens to one more. Past the cap a
//! plain-HTTP client is answered `503 SlowDown` (S3 clients back off and
//! retry) and the socket closed at once; a TLS client is closed, since
//! answering it would cost a handshake. Either way the descriptor is held
//! for a moment only, so a flood cannot exhaust the process's descriptors
//! and starve the clients already being served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Descriptors kept free for everything else the process opens (packs,
/// the database, the admin listener, log files).
pub const RESERVED_DESCRIPTORS: u64 = 256;

const SLOW_DOWN_BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

/// Counters of one listener's connections, shared with the health report.
#[derive(Debug)]
pub struct ConnectionGauge {
    open: AtomicUsize,
    max: usize,
    refused: AtomicU64,
}

/// What the health report shows of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionCounts {
    pub open: usize,
    pub max: usize,
    /// Connections turned away for the cap since start.
    pub refused: u64,
}

impl ConnectionGauge {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(ConnectionGauge {
            open: AtomicUsize::new(0),
            max: max.max(1),
            refused: AtomicU64::new(0),
        })
    }

    /// A slot for one more connection, or `None` at the cap.
    pub fn try_admit(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        if admitted {
            Some(ConnectionSlot(Arc::clone(self)))
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    pub fn counts(&self) -> ConnectionCounts {
        ConnectionCounts {
            open: self.open.load(Ordering::Acquire),
            max: self.max,
            refused: self.refused.load(Ordering::Relaxed),
        }
    }

    /// Whether every slot is taken.
    pub fn saturated(&self) -> bool {
        self.open.load(Ordering::Acquire) >= self.max
    }
}

/// One admitted connection; the slot frees when it is dropped.
#[derive(Debug)]
pub struct ConnectionSlot(Arc<ConnectionGauge>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Turns away a connection past the cap. Bounded in time: a client that
/// does not take the answer within a second is simply closed.
pub async fn refuse(mut stream: TcpStream, answer: bool) {
    if !answer {
        return;
    }
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{SLOW_DOWN_BODY}",
        SLOW_DOWN_BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client already sent, so that closing does not reset
        // the connection before it has read the answer.
        let mut sink = [0u8; 4096];
        let mut left = 64 * 1024usize;
        while left > 0 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// The cap that fits under the process's descriptor limit, raising the soft
/// limit to the hard one first where allowed. Returns the cap to use and,
/// when it had to be lowered, the limit that lowered it.
pub fn fit_to_descriptor_limit(wanted: usize) -> (usize, Option<u64>) {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return (wanted, None);
        }
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX);
    if wanted <= room {
        (wanted, None)
    } else {
        (room.max(16), Some(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_freed() {
        let g = ConnectionGauge::new(2);
        let a = g.try_admit().unwrap();
        let _b = g.try_admit().unwrap();
        assert!(g.saturated());
        assert!(g.try_admit().is_none());
        assert_eq!(
            g.counts(),
            ConnectionCounts {
                open: 2,
                max: 2,
                refused: 1
            }
        );
        drop(a);
        assert!(!g.saturated());
        assert!(g.try_admit().is_some());
    }

    #[test]
    fn the_cap_fits_under_the_descriptor_limit() {
        let (cap, lowered) = fit_to_descriptor_limit(usize::MAX);
        let limit = lowered.expect("no limit is that high");
        assert_eq!(
            cap as u64,
            limit.saturating_sub(RESERVED_DESCRIPTORS).max(16)
        );
        assert_eq!(fit_to_descriptor_limit(10), (10, None));
    }
}
