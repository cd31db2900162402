//! XML 1.0 cannot carry NUL and most other C0 control characters (nor
//! U+FFFE/U+FFFF), not even as character references, yet an object key may
//! hold them. Such a key is sent URL-encoded when the client asks for
//! `encoding-type=url`; otherwise the answer is refused, never emitted as
//! XML that a client's parser rejects or, worse, reads differently.
//!
//! The check runs on every XML body the S3 front sends (`http/access_log.rs`),
//! so no operation can leak such a character, whichever field carries it.

use http::StatusCode;
use s3s::S3Error;

use super::error::custom;

/// `true` when every character of `text` is allowed in an XML 1.0 document.
pub fn is_xml_10_text(text: &str) -> bool {
    text.chars().all(|c| match c {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    })
}

/// What a client gets instead of an XML answer that would hold such a
/// character: the request is fine, only its answer cannot be written without
/// `encoding-type=url`.
pub fn unrepresentable() -> S3Error {
    custom(
        "InvalidArgument",
        StatusCode::BAD_REQUEST,
        "The answer holds an object key or prefix with characters XML 1.0 cannot carry; ask with encoding-type=url",
    )
}

/// A multipart upload of a key XML 1.0 cannot carry: refused up front, since
/// every later answer of the upload (ListParts, Complete) names the key.
pub fn unrepresentable_key() -> S3Error {
    custom(
        "InvalidArgument",
        StatusCode::BAD_REQUEST,
        "A multipart upload's key must not hold characters XML 1.0 cannot carry (NUL and other control characters); upload it with a single PUT",
    )
}

/// Replaces each character XML 1.0 cannot carry by U+FFFD, for error
/// messages that echo client input: the error itself must stay readable.
pub fn scrub(text: &str) -> String {
    text.chars()
        .map(|c| {
            if is_xml_10_text(c.encode_utf8(&mut [0; 4])) {
                c
            } else {
                '\u{fffd}'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_not_xml_text() {
        assert!(is_xml_10_text("dir/file name\t\n.txt ü 日本"));
        assert!(!is_xml_10_text("nul\u{0}key"));
        assert!(!is_xml_10_text("bell\u{7}"));
        assert!(!is_xml_10_text("\u{ffff}"));
        assert_eq!(scrub("a\u{0}b"), "a\u{fffd}b");
    }
}
