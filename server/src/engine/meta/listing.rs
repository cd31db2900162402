//! Listings (objects, versions, multipart uploads) as range scans of the
//! `live`, `versions` and `uploads` tables.
//!
//! A delimiter folds keys into common prefixes; once a prefix is emitted the
//! scan seeks past everything under it instead of walking those keys. Markers
//! are keys, so continuation is stable under concurrent writes.

use std::ops::Bound;

use redb::ReadableTable;

use crate::engine::Inner;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::MetaContext;
use crate::engine::meta::codec::time_from_micros;
use crate::engine::meta::engine_meta::decode_seq;
use crate::engine::meta::keys::{
    bucket_prefix, object_key, prefix_successor, split_key, upload_key, version_key,
    versions_prefix,
};
use crate::engine::meta::uploads::{UPLOADS, UploadRecord};
use crate::engine::meta::versions::{LIVE, NULLS, VERSIONS, VersionRecord};
use crate::engine::objects::{bucket_versioning_ro, object_info};
use crate::engine::types::{
    ListPage, ListQuery, ObjectInfo, UploadInfo, UploadsPage, UploadsQuery, VersionId,
    VersioningState, VersionsPage, VersionsQuery,
};
use crate::engine::version_id;

/// One listing entry.
enum Entry<T> {
    Item(T),
    Prefix(String),
}

/// Where a scan starts.
struct Start {
    key: Vec<u8>,
    inclusive: bool,
}

/// Common prefix of `key` under `prefix` for `delimiter`, if it has one.
fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let d = delimiter.filter(|d| !d.is_empty())?;
    let rest = key.get(prefix.len()..)?;
    let pos = rest.find(d)?;
    key.get(..prefix.len() + pos + d.len())
}

/// Start of a scan over `bucket`/`prefix` that resumes after marker key
/// `marker` (all of its entries skipped, and its whole common prefix when
/// the marker lies inside one).
fn start_after_key(
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    per_key_suffix: bool,
) -> Start {
    let base = Start {
        key: object_key(bucket, prefix),
        inclusive: true,
    };
    let Some(marker) = marker else { return base };
    let after =
        match common_prefix(marker, prefix, delimiter).filter(|_| marker.starts_with(prefix)) {
            Some(cp) => prefix_successor(&object_key(bucket, cp)).map(|key| Start {
                key,
                inclusive: true,
            }),
            None if per_key_suffix => {
                prefix_successor(&versions_prefix(bucket, marker)).map(|key| Start {
                    key,
                    inclusive: true,
                })
            }
            None => Some(Start {
                key: object_key(bucket, marker),
                inclusive: false,
            }),
        };
    match after {
        Some(a) if a.key >= base.key => a,
        Some(_) => base,
        // Nothing sorts after the marker.
        None => Start {
            key: vec![0xFF; 2048],
            inclusive: true,
        },
    }
}

/// Scans `table` from `start` over keys under `bucket`/`prefix`, folding by
/// `delimiter`, until `max` entries; `f` turns a row (object key, suffix after
/// it, whole index key, value) into an item (or skips it with `None`).
/// Returns the entries and whether more remain.
fn scan<T, Tab, F>(
    table: &Tab,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    start: Start,
    max: usize,
    mut f: F,
) -> EngineResult<(Vec<Entry<T>>, bool)>
where
    Tab: ReadableTable<&'static [u8], &'static [u8]>,
    F: FnMut(&str, &[u8], &[u8], &[u8]) -> EngineResult<Option<T>>,
{
    let plen = bucket_prefix(bucket).len();
    let upper = prefix_successor(&object_key(bucket, prefix));
    let mut out = Vec::new();
    let mut lower = start;
    if max == 0 {
        return Ok((out, false));
    }
    loop {
        let lo = if lower.inclusive {
            Bound::Included(lower.key.as_slice())
        } else {
            Bound::Excluded(lower.key.as_slice())
        };
        let hi = match &upper {
            Some(u) => Bound::Excluded(u.as_slice()),
            None => Bound::Unbounded,
        };
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(h)) = (lo, hi)
            && l >= h
        {
            return Ok((out, false));
        }
        let range = table.range::<&[u8]>((lo, hi)).ctx("scan")?;
        let mut reseek = None;
        for item in range {
            let (k, v) = item.ctx("scan")?;
            let raw = k.value();
            let (key, suffix) = split_key(raw, plen)
                .ok_or_else(|| crate::engine::meta::error::corrupt("listing key"))?;
            if let Some(cp) = common_prefix(&key, prefix, delimiter) {
                if out.len() == max {
                    return Ok((out, true));
                }
                let cp = cp.to_owned();
                reseek = Some(prefix_successor(&object_key(bucket, &cp)));
                out.push(Entry::Prefix(cp));
                break;
            }
            if let Some(item) = f(&key, suffix, raw, v.value())? {
                if out.len() == max {
                    return Ok((out, true));
                }
                out.push(Entry::Item(item));
            }
        }
        match reseek {
            Some(Some(key)) => {
                lower = Start {
                    key,
                    inclusive: true,
                }
            }
            _ => return Ok((out, false)),
        }
    }
}

fn delimiter(d: &Option<String>) -> Option<&str> {
    d.as_deref().filter(|d| !d.is_empty())
}

pub(crate) fn list_objects(inner: &Inner, bucket: &str, q: &ListQuery) -> EngineResult<ListPage> {
    let txn = inner.meta.read()?;
    let versioning = bucket_versioning_ro(&txn, bucket)?;
    let live = txn.open_table(LIVE).ctx("open live")?;
    let versions = txn.open_table(VERSIONS).ctx("open versions")?;
    let delim = delimiter(&q.delimiter);
    let start = start_after_key(bucket, &q.prefix, delim, q.start_after.as_deref(), false);
    let show = versioning != VersioningState::Unversioned;
    let (entries, truncated) = scan(
        &live,
        bucket,
        &q.prefix,
        delim,
        start,
        q.max_keys,
        |key, _, _, v| {
            let seq = decode_seq(v)?;
            let vk = version_key(bucket, key, seq);
            let row = versions
                .get(vk.as_slice())
                .ctx("read version")?
                .ok_or_else(|| {
                    crate::engine::meta::MetaError::Inconsistent(format!(
                        "live entry without its version: {key}"
                    ))
                    .at("list objects")
                })?;
            let rec = VersionRecord::decode(row.value(), txn.sealer(), &vk)?;
            Ok(Some(object_info(bucket, key, &rec, true, show)))
        },
    )?;
    let mut page = ListPage {
        is_truncated: truncated,
        ..ListPage::default()
    };
    for e in entries {
        match e {
            Entry::Item(o) => {
                page.next_marker = Some(o.key.clone());
                page.objects.push(o);
            }
            Entry::Prefix(p) => {
                page.next_marker = Some(p.clone());
                page.common_prefixes.push(p);
            }
        }
    }
    Ok(page)
}

pub(crate) fn list_versions(
    inner: &Inner,
    bucket: &str,
    q: &VersionsQuery,
) -> EngineResult<VersionsPage> {
    let txn = inner.meta.read()?;
    bucket_versioning_ro(&txn, bucket)?;
    let versions = txn.open_table(VERSIONS).ctx("open versions")?;
    let nulls = txn.open_table(NULLS).ctx("open nulls")?;
    let delim = delimiter(&q.delimiter);
    let key_marker = q.key_marker.as_deref().filter(|k| !k.is_empty());
    let version_marker = q.version_id_marker.as_deref().filter(|v| !v.is_empty());
    // The key whose versions the scan starts inside of (its first entry is then not the latest).
    let mut last_key: Option<String> = None;
    let start = match (key_marker, version_marker) {
        (Some(km), Some(vm)) if common_prefix(km, &q.prefix, delim).is_none() => {
            let seq = match VersionId::parse(vm) {
                VersionId::Null => match nulls
                    .get(object_key(bucket, km).as_slice())
                    .ctx("read null version")?
                {
                    Some(v) => Some(decode_seq(v.value())?),
                    None => None,
                },
                VersionId::Id(s) => Some(
                    version_id::parse(&s)
                        .ok_or_else(|| {
                            EngineError::InvalidArgument("invalid version id marker".into())
                        })?
                        .0,
                ),
            };
            match seq {
                Some(seq) => {
                    last_key = Some(km.to_owned());
                    let k = version_key(bucket, km, seq);
                    let base = object_key(bucket, &q.prefix);
                    if k >= base {
                        Start {
                            key: k,
                            inclusive: false,
                        }
                    } else {
                        Start {
                            key: base,
                            inclusive: true,
                        }
                    }
                }
                None => start_after_key(bucket, &q.prefix, delim, Some(km), true),
            }
        }
        (km, _) => start_after_key(bucket, &q.prefix, delim, km, true),
    };
    let (entries, truncated) = scan(
        &versions,
        bucket,
        &q.prefix,
        delim,
        start,
        q.max_keys,
        |key, _, raw, v| {
            let rec = VersionRecord::decode(v, txn.sealer(), raw)?;
            let is_latest = last_key.as_deref() != Some(key);
            if is_latest {
                last_key = Some(key.to_owned());
            }
            Ok(Some(object_info(bucket, key, &rec, is_latest, true)))
        },
    )?;
    let mut page = VersionsPage {
        is_truncated: truncated,
        ..VersionsPage::default()
    };
    for e in entries {
        match e {
            Entry::Item(o) => {
                page.next_key_marker = Some(o.key.clone());
                page.next_version_id_marker = o.version_id.as_ref().map(|v| v.as_str().to_owned());
                page.versions.push(o);
            }
            Entry::Prefix(p) => {
                page.next_key_marker = Some(p.clone());
                page.next_version_id_marker = None;
                page.common_prefixes.push(p);
            }
        }
    }
    Ok(page)
}

pub(crate) fn list_uploads(
    inner: &Inner,
    bucket: &str,
    q: &UploadsQuery,
) -> EngineResult<UploadsPage> {
    let txn = inner.meta.read()?;
    bucket_versioning_ro(&txn, bucket)?;
    let uploads = txn.open_table(UPLOADS).ctx("open uploads")?;
    let delim = delimiter(&q.delimiter);
    let key_marker = q.key_marker.as_deref().filter(|k| !k.is_empty());
    let upload_marker = q.upload_id_marker.as_deref().filter(|v| !v.is_empty());
    let start = match (key_marker, upload_marker) {
        (Some(km), Some(um)) if common_prefix(km, &q.prefix, delim).is_none() => {
            let k = upload_key(bucket, km, um);
            let base = object_key(bucket, &q.prefix);
            if k >= base {
                Start {
                    key: k,
                    inclusive: false,
                }
            } else {
                Start {
                    key: base,
                    inclusive: true,
                }
            }
        }
        (km, _) => start_after_key(bucket, &q.prefix, delim, km, true),
    };
    let (entries, truncated) = scan(
        &uploads,
        bucket,
        &q.prefix,
        delim,
        start,
        q.max_uploads,
        |key, suffix, raw, v| {
            let rec = UploadRecord::decode(v, txn.sealer(), raw)?;
            let upload_id = String::from_utf8(suffix.to_vec())
                .map_err(|_| crate::engine::meta::error::corrupt("upload id"))?;
            Ok(Some(UploadInfo {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                upload_id,
                initiated: time_from_micros(rec.initiated_us),
                meta: rec.meta,
                checksum_algorithm: rec.checksum_algorithm,
            }))
        },
    )?;
    let mut page = UploadsPage {
        is_truncated: truncated,
        ..UploadsPage::default()
    };
    for e in entries {
        match e {
            Entry::Item(u) => {
                page.next_key_marker = Some(u.key.clone());
                page.next_upload_id_marker = Some(u.upload_id.clone());
                page.uploads.push(u);
            }
            Entry::Prefix(p) => {
                page.next_key_marker = Some(p.clone());
                page.next_upload_id_marker = None;
                page.common_prefixes.push(p);
            }
        }
    }
    Ok(page)
}

/// Unused in listings but kept beside them: ObjectInfo of every version is
/// built by `object_info`.
#[allow(dead_code)]
fn _assert_types(_: ObjectInfo) {}
