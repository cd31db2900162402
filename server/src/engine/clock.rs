//! The engine's clock. Everything time-based (last-modified, lifecycle,
//! retention) reads it, so tests can run time faster with a speed-up instead
//! of sleeping.

use std::time::Instant;

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone)]
pub(crate) struct Clock {
    wall_at_start: OffsetDateTime,
    started: Instant,
    speedup: f64,
}

impl Clock {
    /// `speedup` of 1.0 is real time; non-finite or non-positive values mean 1.0.
    pub fn new(speedup: f64) -> Self {
        let speedup = if speedup.is_finite() && speedup > 0.0 {
            speedup
        } else {
            1.0
        };
        Clock {
            wall_at_start: OffsetDateTime::now_utc(),
            started: Instant::now(),
            speedup,
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        let elapsed = self.started.elapsed().as_secs_f64() * self.speedup;
        let d = Duration::checked_seconds_f64(elapsed).unwrap_or(Duration::MAX);
        self.wall_at_start
            .checked_add(d)
            .unwrap_or(self.wall_at_start)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn speedup_runs_faster() {
        let c = super::Clock::new(86_400.0);
        let t0 = c.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = c.now() - t0;
        assert!(elapsed >= time::Duration::minutes(20), "{elapsed}");
    }
}
