//! The checks every S3 request passes before s3s parses and verifies it: the
//! signature rules of `strict_auth.rs`, and one query parameter given twice
//! (`?delete&delete`). s3s refuses a repeated parameter that carries a value
//! but routes on the mere presence of a subresource, so a repeated one would be
//! acted on; refusing every repeat keeps one rule for both.

use http::{HeaderMap, Uri};

use super::query::{QueryPair, parse_query};
use super::refusal::Refusal;
use super::strict_auth;

/// `Err` = answer with the refusal; s3s never sees the request.
pub fn screen(uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
    let query = parse_query(uri.query());
    no_repeats(&query)?;
    strict_auth::check(headers, &query)
}

fn no_repeats(query: &[QueryPair]) -> Result<(), Refusal> {
    let mut names: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(Refusal::DuplicateQuery(w[0].to_owned())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn a_repeated_subresource_is_refused() {
        assert_eq!(
            screen(&uri("/b?delete&delete"), &HeaderMap::new()),
            Err(Refusal::DuplicateQuery("delete".into()))
        );
        assert_eq!(
            screen(&uri("/b?prefix=a&prefix=b"), &HeaderMap::new()),
            Err(Refusal::DuplicateQuery("prefix".into()))
        );
    }

    #[test]
    fn distinct_parameters_pass() {
        assert_eq!(
            screen(
                &uri("/b?list-type=2&prefix=a&delimiter=%2F"),
                &HeaderMap::new()
            ),
            Ok(())
        );
        assert_eq!(screen(&uri("/b"), &HeaderMap::new()), Ok(()));
    }
}
