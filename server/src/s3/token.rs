//! ListObjectsV2 continuation tokens: an opaque URL-safe base64 of the last
//! key (or common prefix) returned. Keying the token on a key rather than on a
//! position keeps pages stable while other clients write.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use s3s::{S3Error, S3ErrorCode};

pub fn encode(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

pub fn decode(token: &str) -> Result<String, S3Error> {
    let invalid = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The continuation token provided is incorrect",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_awkward_keys() {
        for key in [
            "",
            "a",
            "dir/sub/file.txt",
            "../x",
            "//lead",
            "ünï cödé/😀",
            "a+b=c&d",
        ] {
            let t = encode(key);
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{t}"
            );
            assert_eq!(decode(&t).unwrap(), key);
        }
    }

    #[test]
    fn token_does_not_show_the_key() {
        assert!(!encode("secret/report.pdf").contains("secret"));
    }

    #[test]
    fn garbage_is_invalid_argument() {
        assert_eq!(
            decode("%%%").unwrap_err().code(),
            &S3ErrorCode::InvalidArgument
        );
        // Valid base64 of bytes that are not UTF-8.
        assert!(decode(&URL_SAFE_NO_PAD.encode([0xff, 0xfe])).is_err());
    }
}
