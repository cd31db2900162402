//! Integrity headers: Content-MD5 and `x-amz-checksum-*` (sent as headers or
//! as aws-chunked trailers) turned into the engine's list of checksums to
//! compute and the `Verifier` that checks them once the body has ended.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderMap;
use s3s::dto::Checksum;
use s3s::{S3Error, S3ErrorCode, TrailingHeaders};

use super::error::algorithm_label;
use crate::engine::{ChecksumAlgorithm, Digests, EngineError, Verifier};

pub const ALL: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
    ChecksumAlgorithm::Crc64Nvme,
];

/// The header (and trailer) name of an algorithm's checksum.
pub fn header_name(alg: ChecksumAlgorithm) -> &'static str {
    match alg {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
    }
}

fn digest_len(alg: ChecksumAlgorithm) -> usize {
    match alg {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
        ChecksumAlgorithm::Crc64Nvme => 8,
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    }
}

/// Parses an algorithm name as S3 spells it (`CRC32`, `crc64nvme`, …).
pub fn parse_algorithm(name: &str) -> Option<ChecksumAlgorithm> {
    ALL.into_iter()
        .find(|alg| algorithm_label(*alg).eq_ignore_ascii_case(name))
}

/// Converts s3s's algorithm DTO, rejecting names S3 does not know.
pub fn from_dto(alg: &s3s::dto::ChecksumAlgorithm) -> Result<ChecksumAlgorithm, S3Error> {
    parse_algorithm(alg.as_str()).ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!("Checksum algorithm {} is not supported.", alg.as_str()),
        )
    })
}

pub fn to_dto_algorithm(alg: ChecksumAlgorithm) -> s3s::dto::ChecksumAlgorithm {
    s3s::dto::ChecksumAlgorithm::from_static(algorithm_label(alg))
}

/// The per-algorithm values of a request's `x-amz-checksum-*` headers.
pub fn header_values(c: &Checksum) -> [(ChecksumAlgorithm, Option<&str>); 5] {
    [
        (ChecksumAlgorithm::Crc32, c.checksum_crc32.as_deref()),
        (ChecksumAlgorithm::Crc32c, c.checksum_crc32c.as_deref()),
        (ChecksumAlgorithm::Sha1, c.checksum_sha1.as_deref()),
        (ChecksumAlgorithm::Sha256, c.checksum_sha256.as_deref()),
        (
            ChecksumAlgorithm::Crc64Nvme,
            c.checksum_crc64nvme.as_deref(),
        ),
    ]
}

/// Decodes one base64 checksum value, checking its length for the algorithm.
pub fn decode_value(alg: ChecksumAlgorithm, value: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(value.trim()).ok()?;
    (bytes.len() == digest_len(alg)).then_some(bytes)
}

/// Stored checksums as the response DTO. A composite (multipart) checksum is
/// shown as S3 does: `<base64>-<parts>`.
pub fn to_dto(list: &[(ChecksumAlgorithm, Vec<u8>)], composite_parts: Option<u32>) -> Checksum {
    let mut out = Checksum::default();
    for (alg, bytes) in list {
        let mut value = B64.encode(bytes);
        if let Some(n) = composite_parts {
            value = format!("{value}-{n}");
        }
        let slot = match alg {
            ChecksumAlgorithm::Crc32 => &mut out.checksum_crc32,
            ChecksumAlgorithm::Crc32c => &mut out.checksum_crc32c,
            ChecksumAlgorithm::Sha1 => &mut out.checksum_sha1,
            ChecksumAlgorithm::Sha256 => &mut out.checksum_sha256,
            ChecksumAlgorithm::Crc64Nvme => &mut out.checksum_crc64nvme,
        };
        *slot = Some(value);
    }
    out
}

/// What a PUT or UploadPart declared about its body.
#[derive(Debug, Default)]
pub struct Declared {
    content_md5: Option<[u8; 16]>,
    header: Vec<(ChecksumAlgorithm, Vec<u8>)>,
    trailer: Vec<ChecksumAlgorithm>,
    requested: Vec<ChecksumAlgorithm>,
}

impl Declared {
    /// Reads Content-MD5, the checksum headers, `x-amz-sdk-checksum-algorithm`
    /// and the checksums announced in `x-amz-trailer`. Malformed values are
    /// refused before any byte of the body is read.
    pub fn from_request(
        headers: &HeaderMap,
        content_md5: Option<&str>,
        values: &Checksum,
        algorithm: Option<&s3s::dto::ChecksumAlgorithm>,
    ) -> Result<Self, S3Error> {
        let mut out = Declared::default();
        if let Some(md5) = content_md5 {
            let bytes = B64
                .decode(md5.trim())
                .ok()
                .and_then(|b| <[u8; 16]>::try_from(b).ok());
            out.content_md5 = Some(bytes.ok_or_else(|| {
                S3Error::with_message(
                    S3ErrorCode::InvalidDigest,
                    "The Content-MD5 you specified is not valid.",
                )
            })?);
        }
        for (alg, value) in header_values(values) {
            if let Some(value) = value {
                let bytes = decode_value(alg, value).ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        format!("Value for {} header is invalid.", header_name(alg)),
                    )
                })?;
                out.header.push((alg, bytes));
            }
        }
        if let Some(alg) = algorithm {
            out.requested.push(from_dto(alg)?);
        }
        for value in headers.get_all("x-amz-trailer") {
            let text = value.to_str().map_err(|_| invalid_trailer())?;
            for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let alg = ALL
                    .into_iter()
                    .find(|alg| header_name(*alg).eq_ignore_ascii_case(name))
                    .ok_or_else(invalid_trailer)?;
                out.trailer.push(alg);
            }
        }
        Ok(out)
    }

    /// Every algorithm the engine must compute, each once.
    pub fn algorithms(&self) -> Vec<ChecksumAlgorithm> {
        let mut algs: Vec<ChecksumAlgorithm> = Vec::new();
        let all = self
            .header
            .iter()
            .map(|(a, _)| *a)
            .chain(self.trailer.iter().copied())
            .chain(self.requested.iter().copied());
        for alg in all {
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        algs
    }

    /// Adds an algorithm to compute even if the request did not name it
    /// (e.g. the one a multipart upload was created with).
    pub fn also_compute(&mut self, alg: ChecksumAlgorithm) {
        self.requested.push(alg);
    }

    /// The check run by the engine after the body ended and before commit.
    /// Trailer values are read then, because they arrive after the body.
    pub fn verifier(self, trailers: Option<TrailingHeaders>) -> Verifier {
        Box::new(move |digests: &Digests| {
            self.verify(
                digests,
                trailers.as_ref().and_then(TrailingHeaders::take).as_ref(),
            )
        })
    }

    fn verify(&self, digests: &Digests, trailers: Option<&HeaderMap>) -> Result<(), EngineError> {
        if let Some(md5) = self.content_md5
            && md5 != digests.md5
        {
            return Err(EngineError::BadDigest);
        }
        for (alg, expected) in &self.header {
            check(digests, *alg, expected)?;
        }
        if let Some(trailers) = trailers {
            for alg in &self.trailer {
                let Some(value) = trailers.get(header_name(*alg)) else {
                    return Err(EngineError::InvalidArgument(format!(
                        "The trailer {} was declared in x-amz-trailer but not sent.",
                        header_name(*alg)
                    )));
                };
                let expected = value
                    .to_str()
                    .ok()
                    .and_then(|v| decode_value(*alg, v))
                    .ok_or_else(|| {
                        EngineError::InvalidArgument(format!(
                            "Value for {} trailer is invalid.",
                            header_name(*alg)
                        ))
                    })?;
                check(digests, *alg, &expected)?;
            }
        }
        Ok(())
    }
}

fn check(digests: &Digests, alg: ChecksumAlgorithm, expected: &[u8]) -> Result<(), EngineError> {
    let computed = digests
        .checksums
        .iter()
        .find(|(a, _)| *a == alg)
        .ok_or_else(|| {
            EngineError::Internal(format!(
                "{} was requested but not computed",
                algorithm_label(alg)
            ))
        })?;
    if computed.1 == expected {
        Ok(())
    } else {
        Err(EngineError::ChecksumMismatch(alg))
    }
}

fn invalid_trailer() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "The value of the x-amz-trailer header is not supported.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use md5::Digest as _;

    fn digests(body: &[u8], crc32: Option<u32>) -> Digests {
        let md5: [u8; 16] = md5::Md5::digest(body).into();
        let mut checksums = Vec::new();
        if let Some(c) = crc32 {
            checksums.push((ChecksumAlgorithm::Crc32, c.to_be_bytes().to_vec()));
        }
        Digests {
            md5,
            size: body.len() as u64,
            checksums,
        }
    }

    #[test]
    fn content_md5_match_and_mismatch() {
        let body = b"hello world";
        let good = B64.encode(md5::Md5::digest(body));
        let d = Declared::from_request(&HeaderMap::new(), Some(&good), &Checksum::default(), None)
            .unwrap();
        assert!(d.verify(&digests(body, None), None).is_ok());

        let bad = B64.encode(md5::Md5::digest(b"other"));
        let d = Declared::from_request(&HeaderMap::new(), Some(&bad), &Checksum::default(), None)
            .unwrap();
        assert!(matches!(
            d.verify(&digests(body, None), None),
            Err(EngineError::BadDigest)
        ));
    }

    #[test]
    fn malformed_content_md5_is_invalid_digest() {
        let e = Declared::from_request(
            &HeaderMap::new(),
            Some("not base64!"),
            &Checksum::default(),
            None,
        )
        .unwrap_err();
        assert_eq!(e.code(), &S3ErrorCode::InvalidDigest);
        let short = B64.encode([1u8, 2, 3]);
        let e = Declared::from_request(&HeaderMap::new(), Some(&short), &Checksum::default(), None)
            .unwrap_err();
        assert_eq!(e.code(), &S3ErrorCode::InvalidDigest);
    }

    #[test]
    fn header_checksum_is_requested_and_verified() {
        let crc = 0x0d4a_1185_u32; // CRC32 of "hello world"
        let values = Checksum {
            checksum_crc32: Some(B64.encode(crc.to_be_bytes())),
            ..Default::default()
        };
        let d = Declared::from_request(&HeaderMap::new(), None, &values, None).unwrap();
        assert_eq!(d.algorithms(), vec![ChecksumAlgorithm::Crc32]);
        assert!(d.verify(&digests(b"hello world", Some(crc)), None).is_ok());
        assert!(matches!(
            d.verify(&digests(b"hello world", Some(crc ^ 1)), None),
            Err(EngineError::ChecksumMismatch(ChecksumAlgorithm::Crc32))
        ));
    }

    #[test]
    fn header_checksum_of_wrong_length_is_refused() {
        let values = Checksum {
            checksum_sha256: Some(B64.encode([0u8; 4])),
            ..Default::default()
        };
        let e = Declared::from_request(&HeaderMap::new(), None, &values, None).unwrap_err();
        assert_eq!(e.code(), &S3ErrorCode::InvalidRequest);
    }

    #[test]
    fn trailer_checksum_is_checked_after_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-trailer",
            HeaderValue::from_static("x-amz-checksum-crc32"),
        );
        let d = Declared::from_request(&headers, None, &Checksum::default(), None).unwrap();
        assert_eq!(d.algorithms(), vec![ChecksumAlgorithm::Crc32]);

        let mut trailers = HeaderMap::new();
        trailers.insert(
            "x-amz-checksum-crc32",
            HeaderValue::from_str(&B64.encode(7u32.to_be_bytes())).unwrap(),
        );
        assert!(d.verify(&digests(b"x", Some(7)), Some(&trailers)).is_ok());
        assert!(matches!(
            d.verify(&digests(b"x", Some(8)), Some(&trailers)),
            Err(EngineError::ChecksumMismatch(ChecksumAlgorithm::Crc32))
        ));
        let empty = HeaderMap::new();
        assert!(matches!(
            d.verify(&digests(b"x", Some(7)), Some(&empty)),
            Err(EngineError::InvalidArgument(_))
        ));
    }

    #[test]
    fn unknown_trailer_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-trailer",
            HeaderValue::from_static("x-amz-checksum-md4"),
        );
        assert!(Declared::from_request(&headers, None, &Checksum::default(), None).is_err());
    }

    #[test]
    fn algorithms_are_deduplicated() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-trailer",
            HeaderValue::from_static("x-amz-checksum-crc64nvme"),
        );
        let alg = s3s::dto::ChecksumAlgorithm::from_static("CRC64NVME");
        let mut d =
            Declared::from_request(&headers, None, &Checksum::default(), Some(&alg)).unwrap();
        d.also_compute(ChecksumAlgorithm::Crc64Nvme);
        assert_eq!(d.algorithms(), vec![ChecksumAlgorithm::Crc64Nvme]);
    }

    #[test]
    fn composite_checksums_show_the_part_count() {
        let dto = to_dto(&[(ChecksumAlgorithm::Crc32, vec![0, 0, 0, 1])], Some(3));
        assert_eq!(dto.checksum_crc32.as_deref(), Some("AAAAAQ==-3"));
        let dto = to_dto(&[(ChecksumAlgorithm::Sha1, vec![0; 20])], None);
        assert_eq!(
            dto.checksum_sha1.as_deref(),
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        );
    }
}
