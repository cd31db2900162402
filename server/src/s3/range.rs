//! Byte ranges: the `Range` header, `partNumber` reads and
//! `x-amz-copy-source-range`, resolved against an object's size.

use http::{HeaderValue, StatusCode};
use s3s::dto::Range;
use s3s::{S3Error, S3ErrorCode};

use super::error::{custom, xml_headers};
use crate::engine::ByteRange;

/// 416 InvalidRange, with `Content-Range: bytes */<size>` as S3 sends it.
pub fn invalid_range(size: u64) -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::InvalidRange,
        "The requested range is not satisfiable",
    );
    let mut headers = xml_headers();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        headers.insert(http::header::CONTENT_RANGE, v);
    }
    err.set_headers(headers);
    err
}

/// Resolves `bytes=a-b`, `bytes=a-` and `bytes=-n` against `size`.
/// A range that starts at or past the end is unsatisfiable, which makes
/// every range on an empty object a 416 (as S3 answers); an end past the
/// end is clipped, and a suffix longer than the object means all of it.
pub fn resolve(range: &Range, size: u64) -> Result<ByteRange, S3Error> {
    let r = range.check(size).map_err(|_| invalid_range(size))?;
    if r.end <= r.start {
        return Err(invalid_range(size));
    }
    Ok(ByteRange {
        start: r.start,
        end_inclusive: r.end - 1,
    })
}

/// The byte range of part `n` (1-based) of a multipart object. A single-PUT
/// object has exactly one part, the whole object (`None` = no range needed).
pub fn part(part_sizes: &[u64], size: u64, n: i32) -> Result<Option<ByteRange>, S3Error> {
    let invalid = || {
        custom(
            "InvalidPartNumber",
            StatusCode::RANGE_NOT_SATISFIABLE,
            "The requested partnumber is not satisfiable",
        )
    };
    let index = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .ok_or_else(invalid)?;
    if part_sizes.is_empty() {
        return if index == 0 { Ok(None) } else { Err(invalid()) };
    }
    let len = *part_sizes.get(index).ok_or_else(invalid)?;
    let start: u64 = part_sizes[..index].iter().sum();
    if len == 0 {
        // Only an empty object has an empty part that can be served (as a whole).
        return if size == 0 { Ok(None) } else { Err(invalid()) };
    }
    if start + len > size {
        return Err(invalid());
    }
    Ok(Some(ByteRange {
        start,
        end_inclusive: start + len - 1,
    }))
}

/// `x-amz-copy-source-range: bytes=first-last` (both required, inclusive).
/// Bad syntax is InvalidArgument; a range outside the source is InvalidRange.
pub fn copy_source(value: &str, size: u64) -> Result<ByteRange, S3Error> {
    let syntax = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(syntax)?;
    let (first, last) = spec.split_once('-').ok_or_else(syntax)?;
    let first: u64 = first.trim().parse().map_err(|_| syntax())?;
    let last: u64 = last.trim().parse().map_err(|_| syntax())?;
    if first > last {
        return Err(syntax());
    }
    if last >= size {
        return Err(invalid_range(size));
    }
    Ok(ByteRange {
        start: first,
        end_inclusive: last,
    })
}

/// The `Content-Range` value of a partial response.
pub fn content_range(r: ByteRange, size: u64) -> String {
    format!("bytes {}-{}/{}", r.start, r.end_inclusive, size)
}

pub fn len(r: ByteRange) -> u64 {
    r.end_inclusive - r.start + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn br(start: u64, end_inclusive: u64) -> ByteRange {
        ByteRange {
            start,
            end_inclusive,
        }
    }
    fn parse(s: &str) -> Range {
        Range::parse(s).unwrap()
    }

    #[test]
    fn closed_open_and_suffix_ranges() {
        assert_eq!(resolve(&parse("bytes=0-9"), 100).unwrap(), br(0, 9));
        assert_eq!(resolve(&parse("bytes=90-"), 100).unwrap(), br(90, 99));
        assert_eq!(resolve(&parse("bytes=-10"), 100).unwrap(), br(90, 99));
        assert_eq!(resolve(&parse("bytes=99-99"), 100).unwrap(), br(99, 99));
    }

    #[test]
    fn end_past_the_end_is_clipped_and_long_suffix_is_everything() {
        assert_eq!(resolve(&parse("bytes=50-1000"), 100).unwrap(), br(50, 99));
        assert_eq!(resolve(&parse("bytes=-1000"), 100).unwrap(), br(0, 99));
    }

    #[test]
    fn start_past_the_end_is_416() {
        let e = resolve(&parse("bytes=100-"), 100).unwrap_err();
        assert_eq!(e.code(), &S3ErrorCode::InvalidRange);
        assert_eq!(e.status_code().map(|s| s.as_u16()), Some(416));
        let cr = e
            .headers()
            .and_then(|h| h.get("content-range"))
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(cr.as_deref(), Some("bytes */100"));
        assert!(resolve(&parse("bytes=-0"), 100).is_err());
    }

    #[test]
    fn any_range_on_an_empty_object_is_416() {
        for r in ["bytes=0-", "bytes=0-0", "bytes=-1", "bytes=40-50"] {
            assert!(resolve(&parse(r), 0).is_err(), "{r}");
        }
    }

    #[test]
    fn part_ranges() {
        let sizes = [5u64, 5, 3];
        assert_eq!(part(&sizes, 13, 1).unwrap(), Some(br(0, 4)));
        assert_eq!(part(&sizes, 13, 2).unwrap(), Some(br(5, 9)));
        assert_eq!(part(&sizes, 13, 3).unwrap(), Some(br(10, 12)));
        let e = part(&sizes, 13, 4).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.status_code().map(|s| s.as_u16())),
            ("InvalidPartNumber", Some(416))
        );
        assert!(part(&sizes, 13, 0).is_err());
        assert!(part(&sizes, 13, -1).is_err());
        // A single PUT is one part.
        assert_eq!(part(&[], 13, 1).unwrap(), None);
        assert!(part(&[], 13, 2).is_err());
    }

    #[test]
    fn copy_source_ranges() {
        assert_eq!(copy_source("bytes=0-4", 10).unwrap(), br(0, 4));
        assert_eq!(copy_source("bytes=9-9", 10).unwrap(), br(9, 9));
        assert_eq!(
            copy_source("bytes=5-10", 10).unwrap_err().code(),
            &S3ErrorCode::InvalidRange
        );
        for bad in ["0-4", "bytes=4-0", "bytes=-4", "bytes=a-b", "bytes=3-"] {
            assert_eq!(
                copy_source(bad, 10).unwrap_err().code(),
                &S3ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn content_range_header() {
        assert_eq!(content_range(br(0, 9), 100), "bytes 0-9/100");
        assert_eq!(len(br(3, 3)), 1);
    }
}
