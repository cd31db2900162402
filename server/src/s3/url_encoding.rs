//! `encoding-type=url` for listings: keys, prefixes and markers percent-encoded
//! so that any UTF-8 (control characters included) survives XML.

/// Percent-encodes every byte except the unreserved set and `/`, which S3
/// leaves as is. Spaces become `%20`, which every client's decoder accepts
/// (form-style decoders read `+` as a space, so `+` itself is encoded).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Applies [`encode`] when the client asked for `encoding-type=url`.
#[derive(Debug, Clone, Copy)]
pub struct Encoder(pub bool);

impl Encoder {
    /// `encoding-type` absent or `url`; any other value is refused, as AWS
    /// does, rather than answered unencoded as if it had not been sent.
    pub fn from_request(
        encoding_type: Option<&s3s::dto::EncodingType>,
    ) -> Result<Self, s3s::S3Error> {
        match encoding_type {
            None => Ok(Encoder(false)),
            Some(e) if e.as_str().eq_ignore_ascii_case(s3s::dto::EncodingType::URL) => {
                Ok(Encoder(true))
            }
            Some(_) => Err(s3s::S3Error::with_message(
                s3s::S3ErrorCode::InvalidArgument,
                "Invalid Encoding Method specified in Request",
            )),
        }
    }

    pub fn apply(self, s: String) -> String {
        if self.0 { encode(&s) } else { s }
    }

    pub fn apply_opt(self, s: Option<String>) -> Option<String> {
        s.map(|s| self.apply(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_s3() {
        assert_eq!(encode("dir/file name.txt"), "dir/file%20name.txt");
        assert_eq!(encode("a+b&c=d"), "a%2Bb%26c%3Dd");
        assert_eq!(encode("ü"), "%C3%BC");
        assert_eq!(encode("\u{1}ctl"), "%01ctl");
        assert_eq!(encode("safe-_.~/"), "safe-_.~/");
    }

    #[test]
    fn only_when_asked() {
        let url = s3s::dto::EncodingType::from_static(s3s::dto::EncodingType::URL);
        assert_eq!(
            Encoder::from_request(Some(&url))
                .unwrap()
                .apply("a b".into()),
            "a%20b"
        );
        assert_eq!(
            Encoder::from_request(None).unwrap().apply("a b".into()),
            "a b"
        );
        let bogus = s3s::dto::EncodingType::from("bogus".to_owned());
        assert_eq!(
            Encoder::from_request(Some(&bogus)).unwrap_err().code(),
            &s3s::S3ErrorCode::InvalidArgument
        );
    }
}
