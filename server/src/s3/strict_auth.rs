//! Signature rules AWS enforces and s3s 0.14 does not, checked on the raw
//! request before s3s verifies its signature: SigV2 (header and presigned
//! query) is refused, a presigned URL lives at most seven days, and every
//! `x-amz-*` header present must be covered by the signature.
//!
//! Why before s3s: s3s builds the canonical request from the headers listed in
//! `SignedHeaders` only, so a header added to a captured request leaves the
//! signature valid, and the operation then acts on it (`x-amz-copy-source`
//! turns a PUT into a copy). The list checked must be the one s3s verifies:
//! [`signed_headers`] follows s3s's grammar, and a header it cannot read is
//! refused rather than passed on (fail closed).

use http::HeaderMap;

use super::query::QueryPair;
#[cfg(test)]
use super::query::parse_query;
use super::refusal::Refusal;

/// SigV4's ceiling on `X-Amz-Expires`: a signing key is valid seven days.
pub const MAX_PRESIGN_EXPIRES_SECS: u64 = 604_800;

/// Headers that may be present without being signed. `x-amz-content-sha256`
/// only: with header auth its value is the payload line of the canonical
/// request whether listed or not, and on a presigned URL it can only add a body
/// check (s3s verifies the body against it). AWS accepts it unsigned too.
const MAY_BE_UNSIGNED: &[&str] = &["x-amz-content-sha256"];

fn query_value<'a>(query: &'a [QueryPair], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn has_query(query: &[QueryPair], name: &str) -> bool {
    query.iter().any(|(k, _)| k == name)
}

/// Checks the signature-related shape of a request. Anonymous requests
/// (neither an `Authorization` header nor a presigned query) pass: there is no
/// signature to cover anything, and access control refuses them later.
pub fn check(headers: &HeaderMap, query: &[QueryPair]) -> Result<(), Refusal> {
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // s3s tries SigV2 first, on `Signature` in the query or `AWS ` in the header.
    if has_query(query, "Signature")
        || has_query(query, "AWSAccessKeyId")
        || authorization.is_some_and(|a| a.starts_with("AWS "))
    {
        return Err(Refusal::SigV2);
    }
    if has_query(query, "X-Amz-Signature") {
        check_expires(query_value(query, "X-Amz-Expires"))?;
        let signed = query_value(query, "X-Amz-SignedHeaders").unwrap_or("");
        return check_signed(headers, signed.split(';'));
    }
    match authorization {
        Some(value) => match signed_headers(value) {
            Some(list) => check_signed(headers, list.split(';')),
            None => Err(Refusal::MalformedAuthorization),
        },
        // No header (or one that is not text, which s3s treats as absent):
        // anonymous, refused by the access check.
        None => Ok(()),
    }
}

/// The `SignedHeaders` list of a SigV4 `Authorization` header, read as s3s
/// reads it: `ALG Credential=<key>/<date>/<region>/<service>/aws4_request,`
/// (the key holds no `/`), optional whitespace, `SignedHeaders=<list>,`. The
/// credential is walked by its slashes rather than searched for a comma, so
/// an access key id holding `,SignedHeaders=` cannot make this read another
/// list than the one s3s verifies.
fn signed_headers(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    let mut rest = rest
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .strip_prefix("Credential=")?;
    for _ in 0..4 {
        rest = rest.split_once('/')?.1;
    }
    let rest = rest
        .strip_prefix("aws4_request,")?
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .strip_prefix("SignedHeaders=")?;
    let (list, _) = rest.split_once(',')?;
    Some(list)
}

fn check_expires(value: Option<&str>) -> Result<(), Refusal> {
    let Some(value) = value else { return Ok(()) };
    match value.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err(Refusal::ExpiresNegative),
        Ok(n) if n.unsigned_abs() > MAX_PRESIGN_EXPIRES_SECS => {
            Err(Refusal::ExpiresTooLong(n.unsigned_abs()))
        }
        // Not a number: s3s refuses the presigned URL as malformed.
        _ => Ok(()),
    }
}

fn check_signed<'a>(
    headers: &HeaderMap,
    signed: impl Iterator<Item = &'a str>,
) -> Result<(), Refusal> {
    let signed: Vec<&str> = signed.collect();
    let mut unsigned: Vec<String> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-"))
        .filter(|name| !MAY_BE_UNSIGNED.contains(name))
        // s3s looks the signed names up exactly as listed (lowercase, as SigV4 requires).
        .filter(|name| !signed.contains(name))
        .map(str::to_owned)
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort();
    unsigned.dedup();
    Err(Refusal::HeadersNotSigned(unsigned))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, \
                      SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a, \
                      Signature=0000000000000000000000000000000000000000000000000000000000000000";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn signed_x_amz_headers_pass() {
        let h = headers(&[
            ("authorization", V4),
            ("x-amz-date", "20260101T000000Z"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-meta-a", "1"),
            ("content-type", "text/plain"),
        ]);
        assert_eq!(check(&h, &[]), Ok(()));
    }

    #[test]
    fn injected_copy_source_and_meta_are_refused() {
        let h = headers(&[
            ("authorization", V4),
            ("x-amz-date", "20260101T000000Z"),
            ("x-amz-copy-source", "/b/other"),
            ("x-amz-meta-b", "2"),
            ("x-amz-website-redirect-location", "/x"),
        ]);
        assert_eq!(
            check(&h, &[]),
            Err(Refusal::HeadersNotSigned(vec![
                "x-amz-copy-source".into(),
                "x-amz-meta-b".into(),
                "x-amz-website-redirect-location".into(),
            ]))
        );
    }

    #[test]
    fn unsigned_content_sha256_is_tolerated() {
        let v4 = V4.replace("x-amz-content-sha256;", "");
        let h = headers(&[
            ("authorization", &v4),
            ("x-amz-date", "20260101T000000Z"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ]);
        assert_eq!(check(&h, &[]), Ok(()));
    }

    #[test]
    fn presigned_headers_must_be_in_the_signed_list() {
        let q = parse_query(Some(
            "X-Amz-Signature=00&X-Amz-Expires=600&X-Amz-SignedHeaders=host%3Bx-amz-meta-a",
        ));
        assert_eq!(check(&headers(&[("x-amz-meta-a", "1")]), &q), Ok(()));
        assert_eq!(
            check(&headers(&[("x-amz-acl", "public-read")]), &q),
            Err(Refusal::HeadersNotSigned(vec!["x-amz-acl".into()]))
        );
    }

    #[test]
    fn sigv2_header_and_query_are_refused() {
        let h = headers(&[("authorization", "AWS AKID:c2lnbmF0dXJl")]);
        assert_eq!(check(&h, &[]), Err(Refusal::SigV2));
        let q = parse_query(Some("AWSAccessKeyId=AK&Expires=1&Signature=abc%3D"));
        assert_eq!(check(&HeaderMap::new(), &q), Err(Refusal::SigV2));
    }

    #[test]
    fn expiry_is_capped_at_a_week() {
        let q = |e: &str| parse_query(Some(&format!("X-Amz-Signature=00&X-Amz-Expires={e}")));
        assert_eq!(check(&HeaderMap::new(), &q("604800")), Ok(()));
        assert_eq!(
            check(&HeaderMap::new(), &q("604801")),
            Err(Refusal::ExpiresTooLong(604_801))
        );
        assert_eq!(
            check(&HeaderMap::new(), &q("999999999")),
            Err(Refusal::ExpiresTooLong(999_999_999))
        );
        assert_eq!(
            check(&HeaderMap::new(), &q("-5")),
            Err(Refusal::ExpiresNegative)
        );
    }

    #[test]
    fn signed_headers_are_read_as_s3s_reads_them() {
        assert_eq!(
            signed_headers(V4),
            Some("host;x-amz-content-sha256;x-amz-date;x-amz-meta-a")
        );
        let tricky = "AWS4-HMAC-SHA256 Credential=A,SignedHeaders=x-amz-meta-b,\
                      /20260101/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=00";
        assert_eq!(signed_headers(tricky), Some("host"));
        assert_eq!(signed_headers("AWS4-HMAC-SHA256 garbage"), None);
        let h = headers(&[("authorization", "AWS4-HMAC-SHA256 garbage")]);
        assert_eq!(check(&h, &[]), Err(Refusal::MalformedAuthorization));
    }

    #[test]
    fn anonymous_requests_pass() {
        let h = headers(&[("x-amz-meta-a", "1")]);
        assert_eq!(check(&h, &[]), Ok(()));
    }
}
