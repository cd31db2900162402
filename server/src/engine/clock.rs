//! The engine's clock. Everything time-based (last-modified, lifecycle,
//! retention) reads it, so tests can run time faster with a speed-up instead
//! of sleeping. Workers wait on it too (`workers::runner`), so their
//! intervals shrink with the same speed-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone)]
pub struct Clock {
    wall_at_start: OffsetDateTime,
    started: Instant,
    speedup: f64,
    /// Engine time moved forward by [`Clock::advance`], in µs; shared by
    /// every clone, so the engine and its workers see one time.
    advanced_us: Arc<AtomicI64>,
}

impl Clock {
    /// `speedup` of 1.0 is real time; non-finite or non-positive values mean 1.0.
    pub fn new(speedup: f64) -> Self {
        Self::starting_at(None, speedup)
    }

    /// A clock that reads `start` now (`None`: the wall clock's time) and
    /// runs `speedup` times as fast as real time from here.
    pub fn starting_at(start: Option<OffsetDateTime>, speedup: f64) -> Self {
        let speedup = if speedup.is_finite() && speedup > 0.0 {
            speedup
        } else {
            1.0
        };
        Clock {
            wall_at_start: start.unwrap_or_else(OffsetDateTime::now_utc),
            started: Instant::now(),
            speedup,
            advanced_us: Arc::new(AtomicI64::new(0)),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        let elapsed = self.started.elapsed().as_secs_f64() * self.speedup;
        let d = Duration::checked_seconds_f64(elapsed)
            .unwrap_or(Duration::MAX)
            .saturating_add(Duration::microseconds(
                self.advanced_us.load(Ordering::Acquire),
            ));
        self.wall_at_start
            .checked_add(d)
            .unwrap_or(self.wall_at_start)
    }

    /// Moves engine time forward by `by` at once, for every clone: how
    /// engine tests step through simulated days exactly (the daemon never
    /// calls it; its tests use the speed-up).
    pub fn advance(&self, by: Duration) {
        let us = i64::try_from(by.whole_microseconds()).unwrap_or(i64::MAX);
        self.advanced_us.fetch_add(us.max(0), Ordering::AcqRel);
    }

    /// How long `engine` of engine time lasts in real time.
    pub fn real_duration(&self, engine: std::time::Duration) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(engine.as_secs_f64() / self.speedup)
            .unwrap_or(std::time::Duration::MAX)
    }

    /// Sleeps for `engine` of engine time.
    pub async fn sleep(&self, engine: std::time::Duration) {
        tokio::time::sleep(self.real_duration(engine)).await;
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

    #[test]
    fn a_clock_can_start_at_a_chosen_instant() {
        let start = time::macros::datetime!(2024-01-01 0:00 UTC);
        let c = super::Clock::starting_at(Some(start), 1.0);
        let t = c.now();
        assert!(t >= start && t - start < time::Duration::minutes(1), "{t}");
    }

    #[test]
    fn real_duration_divides_by_the_speedup() {
        let c = super::Clock::new(1000.0);
        let real = c.real_duration(std::time::Duration::from_secs(10));
        assert_eq!(real, std::time::Duration::from_millis(10));
        let normal = super::Clock::new(1.0);
        let same = normal.real_duration(std::time::Duration::from_secs(3));
        assert_eq!(same, std::time::Duration::from_secs(3));
    }
}
