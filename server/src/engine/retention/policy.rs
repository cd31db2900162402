//! Which backups a GFS policy keeps: restic's `forget` semantics
//! (`internal/restic/snapshot_policy.go`, restic 0.14), free of storage, so
//! the worker and `coffer retention plan` share one answer and a test can
//! hold it against `restic forget --dry-run` itself.
//!
//! Backups are walked newest first. `--keep-last N` keeps the N newest;
//! `--keep-daily N` keeps the newest backup of each of the N most recent
//! days that have one (likewise hourly, weekly by ISO week, monthly,
//! yearly); `--keep-within D` keeps every backup newer than D before the
//! newest one; `--keep-within-daily D` keeps the newest of each day newer
//! than D before the newest one (likewise the other periods). A backup any
//! option keeps is kept. Calendar periods are in UTC. Times are whole
//! seconds, as clients see `Last-Modified`.

use std::fmt;

use time::{Date, Month, OffsetDateTime};

/// A calendar span in restic's form (`2y5m7d3h`): years, months, days and
/// hours, counted back from the newest backup with calendar arithmetic
/// (one month before March 31 is March 3, as in Go's `AddDate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub years: u32,
    pub months: u32,
    pub days: u32,
    pub hours: u32,
}

impl Span {
    pub fn is_zero(&self) -> bool {
        *self == Span::default()
    }

    /// Parses restic's form: numbers each followed by `y`, `m`, `d` or `h`.
    pub fn parse(text: &str) -> Result<Span, String> {
        let mut span = Span::default();
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("an empty duration".into());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(format!("{text:?}: expected a number at {rest:?}"));
            }
            let n: u32 = rest[..digits]
                .parse()
                .map_err(|_| format!("{text:?}: {} is too large", &rest[..digits]))?;
            let unit = rest[digits..].chars().next();
            match unit {
                Some('y') => span.years = n,
                Some('m') => span.months = n,
                Some('d') => span.days = n,
                Some('h') => span.hours = n,
                Some(c) => return Err(format!("{text:?}: unknown unit {c:?} (y, m, d or h)")),
                None => return Err(format!("{text:?}: no unit after {n} (y, m, d or h)")),
            }
            rest = &rest[digits + 1..];
        }
        Ok(span)
    }

    /// The instant this span before `t` (whole seconds since the epoch).
    fn before(&self, t: i64) -> i64 {
        let Ok(at) = OffsetDateTime::from_unix_timestamp(t) else {
            return i64::MIN;
        };
        let months = i64::from(at.year()) * 12 + i64::from(u8::from(at.month()))
            - 1
            - i64::from(self.years) * 12
            - i64::from(self.months);
        let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
        let first = i32::try_from(year)
            .ok()
            .and_then(|y| Date::from_calendar_date(y, Month::try_from(month as u8).ok()?, 1).ok());
        let Some(first) = first else {
            return i64::MIN;
        };
        // Go normalizes an overflowing day into the next months.
        let day = first.to_julian_day() + i32::from(at.day()) - 1 - self.days as i32;
        let Ok(date) = Date::from_julian_day(day) else {
            return i64::MIN;
        };
        date.with_time(at.time()).assume_utc().unix_timestamp() - i64::from(self.hours) * 3600
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, unit) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.days, 'd'),
            (self.hours, 'h'),
        ] {
            if n != 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

/// The calendar periods of the counted and the `within` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

pub const PERIODS: [Period; 5] = [
    Period::Hour,
    Period::Day,
    Period::Week,
    Period::Month,
    Period::Year,
];

impl Period {
    /// A number naming the period `t` falls in (restic's `ymdh`, `ymd`,
    /// `yw` by ISO week, `ym`, `y`).
    fn of(self, t: i64) -> i64 {
        let Ok(at) = OffsetDateTime::from_unix_timestamp(t) else {
            return i64::MIN;
        };
        let (y, m, d, h) = (
            i64::from(at.year()),
            i64::from(u8::from(at.month())),
            i64::from(at.day()),
            i64::from(at.hour()),
        );
        match self {
            Period::Hour => y * 1_000_000 + m * 10_000 + d * 100 + h,
            Period::Day => y * 10_000 + m * 100 + d,
            Period::Week => {
                let (iy, w, _) = at.to_iso_week_date();
                i64::from(iy) * 100 + i64::from(w)
            }
            Period::Month => y * 100 + m,
            Period::Year => y,
        }
    }

    /// The adjective restic's reasons use.
    pub fn adjective(self) -> &'static str {
        match self {
            Period::Hour => "hourly",
            Period::Day => "daily",
            Period::Week => "weekly",
            Period::Month => "monthly",
            Period::Year => "yearly",
        }
    }
}

/// What to keep; all zero keeps nothing in particular (a rule must set
/// at least one option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeepPolicy {
    pub last: u32,
    /// Per [`PERIODS`]: how many of the most recent periods keep their
    /// newest backup (`--keep-hourly` … `--keep-yearly`).
    pub periods: [u32; 5],
    /// `--keep-within`.
    pub within: Span,
    /// Per [`PERIODS`]: `--keep-within-hourly` … `--keep-within-yearly`.
    pub within_periods: [Span; 5],
}

/// Why a backup is kept: one bit per option of [`KeepPolicy`]; 0 = it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reasons(pub u16);

const LAST: u16 = 1;
const WITHIN: u16 = 1 << 1;
const fn period_bit(i: usize) -> u16 {
    1 << (2 + i)
}
const fn within_period_bit(i: usize) -> u16 {
    1 << (7 + i)
}

impl Reasons {
    pub fn kept(self) -> bool {
        self.0 != 0
    }

    /// In restic's words and order (`last snapshot`, `daily snapshot`,
    /// `within 7d`, `daily within 30d`…).
    pub fn describe(self, policy: &KeepPolicy) -> Vec<String> {
        let mut out = Vec::new();
        if self.0 & WITHIN != 0 {
            out.push(format!("within {}", policy.within));
        }
        if self.0 & LAST != 0 {
            out.push("last snapshot".to_owned());
        }
        for (i, p) in PERIODS.iter().enumerate() {
            if self.0 & period_bit(i) != 0 {
                out.push(format!("{} snapshot", p.adjective()));
            }
        }
        for (i, p) in PERIODS.iter().enumerate() {
            if self.0 & within_period_bit(i) != 0 {
                out.push(format!(
                    "{} within {}",
                    p.adjective(),
                    policy.within_periods[i]
                ));
            }
        }
        out
    }
}

impl KeepPolicy {
    pub fn is_empty(&self) -> bool {
        self.last == 0
            && self.periods.iter().all(|&n| n == 0)
            && self.within.is_zero()
            && self.within_periods.iter().all(Span::is_zero)
    }

    /// The reasons each backup is kept, for `times` (whole seconds) sorted
    /// newest first. `now` bounds the newest backup the `within` options
    /// count from: one stamped in the future does not move the window (as
    /// restic ignores snapshots newer than its clock).
    pub fn apply(&self, times: &[i64], now: i64) -> Vec<Reasons> {
        let latest = times.iter().copied().filter(|&t| t < now).max();
        // No backup before now: restic's zero time, before which is nothing.
        let bound = |s: &Span| match latest {
            Some(l) if !s.is_zero() => Some(s.before(l)),
            Some(_) => None,
            None if !s.is_zero() => Some(i64::MIN),
            None => None,
        };
        let within = bound(&self.within);
        let within_periods: Vec<Option<i64>> = self.within_periods.iter().map(bound).collect();
        let mut counts = self.periods;
        let mut last_left = self.last;
        let mut seen: [Option<i64>; 5] = [None; 5];
        let mut seen_within: [Option<i64>; 5] = [None; 5];
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            let mut r = 0u16;
            if within.is_some_and(|b| t > b) {
                r |= WITHIN;
            }
            if last_left > 0 {
                last_left -= 1;
                r |= LAST;
            }
            for (i, p) in PERIODS.iter().enumerate() {
                if counts[i] > 0 {
                    let v = p.of(t);
                    if seen[i] != Some(v) {
                        seen[i] = Some(v);
                        counts[i] -= 1;
                        r |= period_bit(i);
                    }
                }
            }
            for (i, p) in PERIODS.iter().enumerate() {
                if within_periods[i].is_some_and(|b| t > b) {
                    let v = p.of(t);
                    if seen_within[i] != Some(v) {
                        seen_within[i] = Some(v);
                        r |= within_period_bit(i);
                    }
                }
            }
            out.push(Reasons(r));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn secs(t: OffsetDateTime) -> i64 {
        t.unix_timestamp()
    }

    #[test]
    fn spans_parse_and_print_as_restic_does() {
        let s = Span::parse("2y5m7d3h").unwrap();
        assert_eq!(
            s,
            Span {
                years: 2,
                months: 5,
                days: 7,
                hours: 3
            }
        );
        assert_eq!(s.to_string(), "2y5m7d3h");
        assert_eq!(Span::parse("30d").unwrap().to_string(), "30d");
        for bad in ["", "7", "7w", "d", "-1d", "99999999999d"] {
            assert!(Span::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Go's `AddDate` normalizes: a month before March 31 is "February
    /// 31", that is March 2 (2024 is a leap year).
    #[test]
    fn span_arithmetic_is_go_calendar_arithmetic() {
        let t = secs(datetime!(2024-03-31 10:20:30 UTC));
        let month = Span {
            months: 1,
            ..Span::default()
        };
        assert_eq!(month.before(t), secs(datetime!(2024-03-02 10:20:30 UTC)));
        let mixed = Span::parse("1y2m40d5h").unwrap();
        // 2023-01-31 less 40 days = 2022-12-22; less 5 hours.
        assert_eq!(mixed.before(t), secs(datetime!(2022-12-22 05:20:30 UTC)));
    }

    #[test]
    fn iso_weeks_span_new_year() {
        // 2024-12-30 is in ISO week 1 of 2025.
        assert_eq!(
            Period::Week.of(secs(datetime!(2024-12-30 12:00 UTC))),
            202501
        );
        assert_eq!(
            Period::Week.of(secs(datetime!(2024-12-29 12:00 UTC))),
            202452
        );
    }

    fn nightly(n: i64) -> Vec<i64> {
        let first = secs(datetime!(2025-01-01 02:00 UTC));
        (0..n).rev().map(|i| first + i * 86_400).collect()
    }

    #[test]
    fn daily_and_last_keep_the_newest() {
        let times = nightly(10);
        let p = KeepPolicy {
            last: 2,
            periods: [0, 3, 0, 0, 0],
            ..KeepPolicy::default()
        };
        let r = p.apply(&times, i64::MAX);
        let kept: Vec<usize> = (0..10).filter(|&i| r[i].kept()).collect();
        assert_eq!(kept, vec![0, 1, 2]);
        assert_eq!(r[0].describe(&p), ["last snapshot", "daily snapshot"]);
        assert_eq!(r[2].describe(&p), ["daily snapshot"]);
    }

    #[test]
    fn within_counts_back_from_the_newest_not_from_now() {
        let times = nightly(10);
        let p = KeepPolicy {
            within: Span::parse("3d").unwrap(),
            ..KeepPolicy::default()
        };
        let r = p.apply(&times, i64::MAX);
        // Strictly after newest - 3 days: the newest three.
        assert_eq!(r.iter().filter(|r| r.kept()).count(), 3);
        assert_eq!(r[0].describe(&p), ["within 3d"]);
        // A backup stamped after now does not move the window.
        let mut future = vec![times[0] + 100 * 86_400];
        future.extend(&times);
        let r = p.apply(&future, times[0] + 1);
        assert_eq!(r.iter().filter(|r| r.kept()).count(), 4, "{r:?}");
    }

    #[test]
    fn within_periods_keep_the_newest_of_each_period_in_the_window() {
        let first = secs(datetime!(2025-01-01 00:00 UTC));
        // Every six hours for ten days, newest first.
        let times: Vec<i64> = (0..40).rev().map(|i| first + i * 6 * 3600).collect();
        let p = KeepPolicy {
            within_periods: [
                Span::default(),
                Span::parse("4d").unwrap(),
                Span::default(),
                Span::default(),
                Span::default(),
            ],
            ..KeepPolicy::default()
        };
        let r = p.apply(&times, i64::MAX);
        let kept: Vec<usize> = (0..40).filter(|&i| r[i].kept()).collect();
        // Newest is Jan 10 18:00; the window starts after Jan 6 18:00:
        // the newest of Jan 10, 9, 8 and 7.
        assert_eq!(kept, vec![0, 4, 8, 12]);
        assert_eq!(r[0].describe(&p), ["daily within 4d"]);
    }
}
