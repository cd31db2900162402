//! Object lock: a bucket's lock configuration (enabled, default retention)
//! and each version's retention and legal hold, with S3's rules for what
//! they forbid.
//!
//! A version's lock is part of the version, like its tags: entries of the
//! sealed manifest's system-metadata list named `NUL "lock:mode"`,
//! `NUL "lock:until"` (µs since the epoch, decimal) and `NUL "lock:hold"`
//! (`ON`/`OFF`). No header name holds a NUL, and manifests written before
//! object lock existed read as unlocked; the encodings are unchanged
//! (`repo-format/DESIGN.md`, section 7.1). The bucket's configuration is the
//! sealed bucket setting `object-lock`.
//!
//! What is enforced, everywhere a version can be removed (DeleteObject and
//! DeleteObjects by version id, lifecycle): a legal hold blocks removal
//! until it is taken off; COMPLIANCE retention blocks it until the date,
//! for everyone; GOVERNANCE retention blocks it unless the request asks to
//! bypass governance and its key holds the `bypass-governance` permission.
//! Retention can always be extended; shortening or removing GOVERNANCE
//! needs the bypass, and COMPLIANCE cannot be shortened, removed or turned
//! into GOVERNANCE by anyone.

use time::OffsetDateTime;

use super::meta::codec::{Reader, Writer, micros, time_from_micros};

const MODE: &str = "\0lock:mode";
const UNTIL: &str = "\0lock:until";
const HOLD: &str = "\0lock:hold";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Governance,
    Compliance,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GOVERNANCE" => Some(LockMode::Governance),
            "COMPLIANCE" => Some(LockMode::Compliance),
            _ => None,
        }
    }
}

/// A version's retention: its mode and the end of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub mode: LockMode,
    pub until: OffsetDateTime,
}

/// What protects one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VersionLock {
    pub retention: Option<Retention>,
    /// `None`: never set; `Some(false)`: set and taken off.
    pub legal_hold: Option<bool>,
}

impl VersionLock {
    pub fn is_empty(&self) -> bool {
        self.retention.is_none() && self.legal_hold.is_none()
    }
}

/// A bucket's default retention, applied to new versions that name none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRetention {
    pub mode: LockMode,
    pub period: Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Days(u32),
    Years(u32),
}

impl DefaultRetention {
    /// The retention a version written at `at` gets.
    pub fn from(&self, at: OffsetDateTime) -> Retention {
        let until = match self.period {
            Period::Days(d) => at + time::Duration::days(i64::from(d)),
            Period::Years(y) => {
                let year = at.year() + i32::try_from(y).unwrap_or(i32::MAX / 2);
                // 29 February moves to 28 February in a common year.
                at.replace_year(year)
                    .or_else(|_| at.replace_day(28).and_then(|a| a.replace_year(year)))
                    .unwrap_or(at + time::Duration::days(365 * i64::from(y)))
            }
        };
        Retention {
            mode: self.mode,
            until,
        }
    }
}

/// A bucket's object lock configuration (it exists only on buckets with
/// object lock enabled, and is never removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketLock {
    pub default: Option<DefaultRetention>,
}

/// The bucket setting holding it.
pub(crate) const SETTING: &str = "object-lock";
pub(crate) const WHAT: &str = "object lock configuration";

impl BucketLock {
    /// `version u8 = 1 ‖ default (u8 0 | u8 1 ‖ mode u8 (1 GOVERNANCE, 2
    /// COMPLIANCE) ‖ unit u8 (0 days, 1 years) ‖ count u32)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_version(1);
        match self.default {
            None => w.u8(0),
            Some(d) => {
                let (unit, n) = match d.period {
                    Period::Days(n) => (0, n),
                    Period::Years(n) => (1, n),
                };
                w.u8(1).u8(mode_byte(d.mode)).u8(unit).u32(n)
            }
        };
        w.finish()
    }

    pub fn decode(b: &[u8]) -> super::EngineResult<Self> {
        let bad = || super::meta::error::corrupt(WHAT);
        let mut r = Reader::new(b, WHAT);
        r.version(1)?;
        let default = match r.u8()? {
            0 => None,
            1 => {
                let mode = match r.u8()? {
                    1 => LockMode::Governance,
                    2 => LockMode::Compliance,
                    _ => return Err(bad()),
                };
                let period = match (r.u8()?, r.u32()?) {
                    (0, n) => Period::Days(n),
                    (1, n) => Period::Years(n),
                    _ => return Err(bad()),
                };
                Some(DefaultRetention { mode, period })
            }
            _ => return Err(bad()),
        };
        Ok(BucketLock { default })
    }
}

fn mode_byte(m: LockMode) -> u8 {
    match m {
        LockMode::Governance => 1,
        LockMode::Compliance => 2,
    }
}

/// Why a lock forbids something (S3: `AccessDenied`), or a request for one
/// is wrong (S3: `InvalidArgument` / `InvalidRequest`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    #[error("Access Denied because object protected by object lock.")]
    Protected,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("Bucket is missing Object Lock Configuration")]
    NotEnabled,
}

/// Whether a version may be removed now. `bypass`: the request asked to
/// bypass governance and its key may.
pub fn check_removal(
    lock: &VersionLock,
    now: OffsetDateTime,
    bypass: bool,
) -> Result<(), LockError> {
    if lock.legal_hold == Some(true) {
        return Err(LockError::Protected);
    }
    match lock.retention {
        Some(r) if r.until > now => match r.mode {
            LockMode::Compliance => Err(LockError::Protected),
            LockMode::Governance if bypass => Ok(()),
            LockMode::Governance => Err(LockError::Protected),
        },
        _ => Ok(()),
    }
}

/// Whether a version's retention may go from `old` to `new` now.
pub fn check_retention_change(
    old: Option<Retention>,
    new: Option<Retention>,
    now: OffsetDateTime,
    bypass: bool,
) -> Result<(), LockError> {
    if let Some(n) = new
        && n.until <= now
    {
        return Err(LockError::InvalidArgument(
            "The retain until date must be in the future!".into(),
        ));
    }
    let Some(o) = old.filter(|o| o.until > now) else {
        return Ok(());
    };
    let weakens = match new {
        None => true,
        Some(n) => n.until < o.until || (o.mode == LockMode::Compliance && n.mode != o.mode),
    };
    if !weakens {
        return Ok(());
    }
    match o.mode {
        LockMode::Compliance => Err(LockError::Protected),
        LockMode::Governance if bypass => Ok(()),
        LockMode::Governance => Err(LockError::Protected),
    }
}

fn is_lock_entry(name: &str) -> bool {
    matches!(name, MODE | UNTIL | HOLD)
}

/// The lock a stored system-metadata list holds (what a removal checks,
/// without copying the rest).
pub(crate) fn lock_of(stored: &[(String, String)]) -> VersionLock {
    let (mut mode, mut until, mut hold) = (None, None, None);
    for (name, value) in stored {
        match name.as_str() {
            MODE => mode = LockMode::parse(value),
            UNTIL => until = value.parse::<i64>().ok().map(time_from_micros),
            HOLD => hold = Some(value == "ON"),
            _ => {}
        }
    }
    VersionLock {
        retention: mode
            .zip(until)
            .map(|(mode, until)| Retention { mode, until }),
        legal_hold: hold,
    }
}

/// Takes the lock entries out of a stored system-metadata list.
pub(crate) fn split(stored: &[(String, String)]) -> (Vec<(String, String)>, VersionLock) {
    let rest = stored
        .iter()
        .filter(|(name, _)| !is_lock_entry(name))
        .cloned()
        .collect();
    (rest, lock_of(stored))
}

/// Appends a lock's entries to a stored system-metadata list.
pub(crate) fn join(stored: &mut Vec<(String, String)>, lock: &VersionLock) {
    if let Some(r) = lock.retention {
        stored.push((MODE.into(), r.mode.as_str().into()));
        stored.push((UNTIL.into(), micros(r.until).to_string()));
    }
    if let Some(h) = lock.legal_hold {
        stored.push((HOLD.into(), if h { "ON" } else { "OFF" }.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn ret(mode: LockMode, until: OffsetDateTime) -> Option<Retention> {
        Some(Retention { mode, until })
    }

    #[test]
    fn removal_follows_s3() {
        let later = datetime!(2027-01-01 0:00 UTC);
        let gov = VersionLock {
            retention: ret(LockMode::Governance, later),
            legal_hold: None,
        };
        assert_eq!(check_removal(&gov, NOW, false), Err(LockError::Protected));
        assert_eq!(check_removal(&gov, NOW, true), Ok(()));
        let comp = VersionLock {
            retention: ret(LockMode::Compliance, later),
            legal_hold: None,
        };
        assert_eq!(check_removal(&comp, NOW, true), Err(LockError::Protected));
        assert_eq!(
            check_removal(&comp, later, false),
            Ok(()),
            "expired retention"
        );
        let hold = VersionLock {
            retention: None,
            legal_hold: Some(true),
        };
        assert_eq!(check_removal(&hold, NOW, true), Err(LockError::Protected));
        let off = VersionLock {
            legal_hold: Some(false),
            ..hold
        };
        assert_eq!(check_removal(&off, NOW, false), Ok(()));
    }

    #[test]
    fn retention_changes_follow_s3() {
        let (a, b) = (
            datetime!(2027-01-01 0:00 UTC),
            datetime!(2028-01-01 0:00 UTC),
        );
        let g = |t| ret(LockMode::Governance, t);
        let c = |t| ret(LockMode::Compliance, t);
        assert_eq!(
            check_retention_change(c(a), c(b), NOW, false),
            Ok(()),
            "extend"
        );
        assert_eq!(
            check_retention_change(c(b), c(a), NOW, true),
            Err(LockError::Protected)
        );
        assert_eq!(
            check_retention_change(c(a), None, NOW, true),
            Err(LockError::Protected)
        );
        assert_eq!(
            check_retention_change(c(b), g(b), NOW, true),
            Err(LockError::Protected)
        );
        assert_eq!(
            check_retention_change(g(b), g(a), NOW, false),
            Err(LockError::Protected)
        );
        assert_eq!(check_retention_change(g(b), g(a), NOW, true), Ok(()));
        assert_eq!(
            check_retention_change(g(a), c(b), NOW, false),
            Ok(()),
            "stronger"
        );
        assert!(matches!(
            check_retention_change(None, g(NOW), NOW, false),
            Err(LockError::InvalidArgument(_))
        ));
    }

    #[test]
    fn lock_entries_round_trip_beside_other_entries() {
        let lock = VersionLock {
            retention: ret(
                LockMode::Compliance,
                datetime!(2030-05-06 7:08:09.123456 UTC),
            ),
            legal_hold: Some(true),
        };
        let mut stored = vec![("cache-control".to_owned(), "no-store".to_owned())];
        join(&mut stored, &lock);
        let (rest, back) = split(&stored);
        assert_eq!(
            rest,
            vec![("cache-control".to_owned(), "no-store".to_owned())]
        );
        assert_eq!(back, lock);
        assert!(split(&rest).1.is_empty());
    }

    #[test]
    fn bucket_configuration_round_trips_and_is_pinned() {
        let c = BucketLock {
            default: Some(DefaultRetention {
                mode: LockMode::Compliance,
                period: Period::Years(7),
            }),
        };
        assert_eq!(hex::encode(c.encode()), "0101020100000007");
        assert_eq!(BucketLock::decode(&c.encode()).unwrap(), c);
        assert_eq!(hex::encode(BucketLock::default().encode()), "0100");
    }

    #[test]
    fn default_retention_counts_from_the_write() {
        let d = DefaultRetention {
            mode: LockMode::Governance,
            period: Period::Years(1),
        };
        assert_eq!(
            d.from(datetime!(2028-02-29 10:00 UTC)).until,
            datetime!(2029-02-28 10:00 UTC)
        );
        let d = DefaultRetention {
            mode: LockMode::Governance,
            period: Period::Days(30),
        };
        assert_eq!(d.from(NOW).until, datetime!(2026-12-31 12:00 UTC));
    }
}
