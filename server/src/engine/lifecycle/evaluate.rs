//! What a lifecycle configuration does to each version of a key, and when:
//! AWS's day arithmetic and its per-action rules, free of time and storage,
//! so the worker (which acts on what is due now), `x-amz-expiration` and
//! `coffer lifecycle plan` (which show what will be due) share one answer.
//!
//! A key's versions are fed newest first, the order the `versions` table
//! holds them in, one at a time: the walker keeps only the state of the
//! key it is in, so a key with a million versions costs no more memory
//! than one with two.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::rules::{Expiration, LifecycleConfig};

/// Midnight UTC following `t` plus `days`: AWS adds the days to the
/// object's time and rounds up to the next midnight (created 10:30 on the
/// 15th with 3 days: due at 00:00 on the 19th).
pub fn due_after(t: OffsetDateTime, days: u32) -> OffsetDateTime {
    let shifted = t.checked_add(Duration::days(i64::from(days))).unwrap_or(t);
    let date = shifted.date();
    date.next_day().unwrap_or(date).midnight().assume_utc()
}

/// Which version a row is: what an action names it by, and what its
/// version id is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    pub seq: u64,
    pub rand: u64,
    pub null: bool,
}

/// One row of a key's history as the walker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub key: &'a str,
    pub slot: Slot,
    pub mtime: OffsetDateTime,
    /// Size and tags of an object version; `None` for a delete marker, and
    /// for versions whose manifest the walker said it does not need
    /// ([`Walker::needs_manifest`]).
    pub object: Option<(u64, &'a [(String, String)])>,
    pub delete_marker: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The current version expires: a delete marker in a versioned bucket,
    /// removal in an unversioned one (the normal DeleteObject path).
    ExpireCurrent,
    /// A noncurrent version (or noncurrent delete marker) is removed for good.
    DeleteNoncurrent,
    /// A delete marker that is its key's only version is removed.
    RemoveMarker,
}

/// One thing a rule will do, and from when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub key: String,
    pub slot: Slot,
    pub action: Action,
    /// Index of the deciding rule in the configuration.
    pub rule: usize,
    pub due: OffsetDateTime,
}

/// The earliest of the candidates.
fn earliest(
    candidates: impl Iterator<Item = (usize, OffsetDateTime)>,
) -> Option<(usize, OffsetDateTime)> {
    candidates.min_by_key(|(_, due)| *due)
}

impl LifecycleConfig {
    /// When the current version `row` expires, by which rule (AWS reports
    /// this as `x-amz-expiration`): the earliest enabled `Days` or `Date`
    /// rule that matches.
    pub fn current_expiry(&self, row: &Row<'_>) -> Option<(usize, OffsetDateTime)> {
        if row.delete_marker {
            return None;
        }
        earliest(self.rules.iter().enumerate().filter_map(|(i, r)| {
            if !r.enabled || !r.filter.matches(row.key, row.object) {
                return None;
            }
            match r.expiration? {
                Expiration::Days(d) => Some((i, due_after(row.mtime, d))),
                Expiration::Date(t) => Some((i, t)),
                Expiration::ExpiredObjectDeleteMarker(_) => None,
            }
        }))
    }

    /// When a delete marker that is its key's only version goes: at once
    /// under `ExpiredObjectDeleteMarker`, or once old enough for a `Days`
    /// or `Date` expiration (AWS does that cleanup as part of them).
    fn lone_marker_expiry(
        &self,
        key: &str,
        mtime: OffsetDateTime,
    ) -> Option<(usize, OffsetDateTime)> {
        earliest(self.rules.iter().enumerate().filter_map(|(i, r)| {
            if !r.enabled || !r.filter.matches(key, None) {
                return None;
            }
            match r.expiration? {
                Expiration::ExpiredObjectDeleteMarker(true) => Some((i, mtime)),
                Expiration::ExpiredObjectDeleteMarker(false) => None,
                Expiration::Days(d) => Some((i, due_after(mtime, d))),
                Expiration::Date(t) => Some((i, t)),
            }
        }))
    }
}

/// Walks the versions of one bucket, key by key, newest first.
#[derive(Debug)]
pub struct Walker {
    config: Arc<LifecycleConfig>,
    key: Option<String>,
    rows: u64,
    /// When the previous (newer) row was written: when the row after it
    /// stopped being current.
    successor_mtime: Option<OffsetDateTime>,
    /// Per rule: how many noncurrent versions of this key it matched so far.
    noncurrent_seen: Vec<u32>,
    /// The key's newest row, when it is a delete marker.
    marker_on_top: Option<(Slot, OffsetDateTime)>,
    manifest_needed: bool,
}

impl Walker {
    pub fn new(config: Arc<LifecycleConfig>) -> Self {
        Walker {
            key: None,
            rows: 0,
            successor_mtime: None,
            noncurrent_seen: vec![0; config.rules.len()],
            marker_on_top: None,
            manifest_needed: config
                .rules
                .iter()
                .any(|r| r.enabled && r.filter.needs_manifest()),
            config,
        }
    }

    pub fn config(&self) -> &Arc<LifecycleConfig> {
        &self.config
    }

    /// Whether rows need their size and tags: only when an enabled rule
    /// filters on them (otherwise the worker reads the clear header alone).
    pub fn needs_manifest(&self, key: &str) -> bool {
        self.manifest_needed
            && self
                .config
                .rules
                .iter()
                .any(|r| r.enabled && r.filter.needs_manifest() && r.filter.matches_key(key))
    }

    /// Whether any rule could act on `key` at all (the worker skips the
    /// others without decoding them).
    pub fn concerns(&self, key: &str) -> bool {
        self.config.rules.iter().any(|r| {
            r.enabled
                && (r.expiration.is_some() || r.noncurrent.is_some())
                && r.filter.matches_key(key)
        })
    }

    /// Feeds the next row; decisions go to `out` (those about a key's
    /// newest delete marker only once the key's last row is known).
    pub fn visit(&mut self, row: &Row<'_>, out: &mut impl FnMut(Decision)) {
        if self.key.as_deref() != Some(row.key) {
            self.finish(out);
            self.key = Some(row.key.to_owned());
        }
        let first = self.rows == 0;
        self.rows += 1;
        if first {
            if row.delete_marker {
                self.marker_on_top = Some((row.slot, row.mtime));
            } else if let Some((rule, due)) = self.config.current_expiry(row) {
                out(Decision {
                    key: row.key.to_owned(),
                    slot: row.slot,
                    action: Action::ExpireCurrent,
                    rule,
                    due,
                });
            }
        } else if let Some(since) = self.successor_mtime {
            let object = if row.delete_marker { None } else { row.object };
            let seen = &mut self.noncurrent_seen;
            let decided = earliest(self.config.rules.iter().enumerate().filter_map(|(i, r)| {
                let n = r.noncurrent?;
                if !r.enabled || !r.filter.matches(row.key, object) {
                    return None;
                }
                let newer = seen[i];
                seen[i] += 1;
                if n.newer_versions.is_some_and(|keep| newer < keep) {
                    return None;
                }
                Some((i, due_after(since, n.days)))
            }));
            if let Some((rule, due)) = decided {
                out(Decision {
                    key: row.key.to_owned(),
                    slot: row.slot,
                    action: Action::DeleteNoncurrent,
                    rule,
                    due,
                });
            }
        }
        self.successor_mtime = Some(row.mtime);
    }

    /// Ends the current key (call once more after the last row).
    pub fn finish(&mut self, out: &mut impl FnMut(Decision)) {
        if let (Some(key), 1, Some((slot, mtime))) = (&self.key, self.rows, self.marker_on_top)
            && let Some((rule, due)) = self.config.lone_marker_expiry(key, mtime)
        {
            out(Decision {
                key: key.clone(),
                slot,
                action: Action::RemoveMarker,
                rule,
                due,
            });
        }
        self.key = None;
        self.rows = 0;
        self.successor_mtime = None;
        self.marker_on_top = None;
        self.noncurrent_seen.iter_mut().for_each(|n| *n = 0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::*;
    use super::*;
    use time::macros::datetime;

    #[test]
    fn days_round_up_to_the_next_midnight_utc() {
        assert_eq!(
            due_after(datetime!(2014-01-15 10:30 UTC), 3),
            datetime!(2014-01-19 0:00 UTC)
        );
        assert_eq!(
            due_after(datetime!(2014-01-15 23:59:59 UTC), 1),
            datetime!(2014-01-17 0:00 UTC)
        );
    }

    fn config(rules: Vec<LifecycleRule>) -> LifecycleConfig {
        LifecycleConfig { rules }
    }

    fn noncurrent_rule(prefix: &str, days: u32, newer: Option<u32>) -> LifecycleRule {
        LifecycleRule {
            noncurrent: Some(NoncurrentExpiration {
                days,
                newer_versions: newer,
            }),
            ..super::super::rules::tests::rule("r", prefix)
        }
    }

    fn walk(c: &LifecycleConfig, rows: &[Row<'_>]) -> Vec<Decision> {
        let mut out = Vec::new();
        let mut w = Walker::new(Arc::new(c.clone()));
        for r in rows {
            w.visit(r, &mut |d| out.push(d));
        }
        w.finish(&mut |d| out.push(d));
        out
    }

    fn slot(seq: u64) -> Slot {
        Slot {
            seq,
            rand: 1,
            null: false,
        }
    }

    fn day(n: i64) -> OffsetDateTime {
        datetime!(2026-01-01 3:00 UTC) + Duration::days(n)
    }

    /// The user's rule: NoncurrentDays 1, NewerNoncurrentVersions 45, over
    /// 60 nightly versions: the 14 oldest noncurrent ones go, each due a
    /// day (rounded to midnight) after its successor was written.
    #[test]
    fn newer_noncurrent_versions_keeps_the_newest_n() {
        let c = config(vec![noncurrent_rule("db/", 1, Some(45))]);
        let rows: Vec<Row<'_>> = (0..60)
            .rev()
            .map(|i| Row {
                key: "db/infinite-prod.gz",
                slot: slot(i as u64),
                mtime: day(i),
                object: None,
                delete_marker: false,
            })
            .collect();
        let out = walk(&c, &rows);
        assert_eq!(out.len(), 14);
        assert!(out.iter().all(|d| d.action == Action::DeleteNoncurrent));
        assert_eq!(out[0].slot, slot(13));
        assert_eq!(out[0].due, due_after(day(14), 1));
        assert_eq!(out[13].slot, slot(0));
        let other = walk(
            &c,
            &[Row {
                key: "web/x",
                ..rows[59]
            }],
        );
        assert!(other.is_empty());
    }

    #[test]
    fn a_lone_delete_marker_goes_and_one_over_versions_stays() {
        let mut r = noncurrent_rule("", 1, None);
        r.noncurrent = None;
        r.expiration = Some(Expiration::ExpiredObjectDeleteMarker(true));
        let c = config(vec![r]);
        let marker = |key, seq| Row {
            key,
            slot: slot(seq),
            mtime: day(1),
            object: None,
            delete_marker: true,
        };
        let version = |key, seq| Row {
            key,
            slot: slot(seq),
            mtime: day(0),
            object: None,
            delete_marker: false,
        };
        let out = walk(
            &c,
            &[
                marker("a", 5),
                version("a", 4),
                marker("b", 3),
                version("c", 2),
            ],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            (out[0].key.as_str(), out[0].slot, out[0].action),
            ("b", slot(3), Action::RemoveMarker)
        );
        assert_eq!(out[0].due, day(1), "at once");
    }

    #[test]
    fn expiration_takes_the_earliest_matching_rule() {
        let mut a = noncurrent_rule("", 1, None);
        a.noncurrent = None;
        a.expiration = Some(Expiration::Days(30));
        let mut b = a.clone();
        b.id = "b".into();
        b.expiration = Some(Expiration::Date(datetime!(2026-01-10 0:00 UTC)));
        let mut tagged = a.clone();
        tagged.id = "t".into();
        tagged.expiration = Some(Expiration::Days(1));
        tagged.filter.tags = vec![("tmp".into(), "yes".into())];
        let c = config(vec![a, b, tagged]);
        let tags = [("tmp".to_owned(), "yes".to_owned())];
        let row = |object| Row {
            key: "k",
            slot: slot(1),
            mtime: day(0),
            object,
            delete_marker: false,
        };
        assert_eq!(
            c.current_expiry(&row(Some((1, &[])))),
            Some((1, datetime!(2026-01-10 0:00 UTC)))
        );
        assert_eq!(
            c.current_expiry(&row(Some((1, &tags)))),
            Some((2, due_after(day(0), 1)))
        );
    }
}
