//! The raw query string decoded into ordered pairs, for the checks that run
//! before s3s has parsed it (`screen.rs`) or that need a parameter s3s's typed
//! input does not carry (`list-type` on a v1 listing).

use percent_encoding::percent_decode_str;

/// One query parameter, decoded.
pub type QueryPair = (String, String);

/// Decodes a raw query string as s3s does (form encoding: `+` is a space).
pub fn parse_query(query: Option<&str>) -> Vec<QueryPair> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode_str(&s).decode_utf8_lossy().into_owned()
    };
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_names_and_values_in_order() {
        assert_eq!(
            parse_query(Some("delete&prefix=a%2Fb+c&x=")),
            vec![
                ("delete".to_owned(), String::new()),
                ("prefix".to_owned(), "a/b c".to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        assert!(parse_query(None).is_empty());
    }
}
