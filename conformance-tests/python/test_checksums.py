"""x-amz-checksum-*: CRC32, CRC32C, SHA1, SHA256, CRC64NVME in headers (HTTP) and as
STREAMING-UNSIGNED-PAYLOAD-TRAILER trailers (HTTPS), returned with ChecksumMode=ENABLED."""

import io

import pytest

from s3util import ALGORITHMS, checksum_b64, expect_error, random_bytes


def capture_headers(client):
    """Records the headers of every request the client sends."""
    seen = []
    client.meta.events.register("before-send.s3.*", lambda request, **_: seen.append(dict(request.headers)))
    return seen


def assert_checksum_returned(client, bucket, key, algorithm, data):
    want = checksum_b64(algorithm, data)
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get(f"Checksum{algorithm}") == want, head
    got = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got.get(f"Checksum{algorithm}") == want, got


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_in_header(s3, bucket, algorithm):
    data = random_bytes(1_500_000, 31)
    sent = capture_headers(s3)
    put = s3.put_object(Bucket=bucket, Key="h", Body=data, ChecksumAlgorithm=algorithm)
    name = f"x-amz-checksum-{algorithm.lower()}"
    put_headers = {k.lower(): v for k, v in sent[-1].items()}
    assert put_headers.get(name) in (checksum_b64(algorithm, data), checksum_b64(algorithm, data).encode())
    assert put.get(f"Checksum{algorithm}") == checksum_b64(algorithm, data)
    assert_checksum_returned(s3, bucket, "h", algorithm, data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_checksum_in_header_is_bad_digest(s3, bucket, algorithm):
    s3.put_object(Bucket=bucket, Key="k", Body=b"previous version")
    data = random_bytes(100_000, 32)
    wrong = checksum_b64(algorithm, data + b"!")
    expect_error("BadDigest", s3.put_object, Bucket=bucket, Key="k", Body=data, **{f"Checksum{algorithm}": wrong})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"previous version"
    expect_error("BadDigest", s3.put_object, Bucket=bucket, Key="new", Body=data, **{f"Checksum{algorithm}": wrong})
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="new")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_as_trailer_over_https(s3_tls, tls_bucket, algorithm):
    data = random_bytes(3 * 1024 * 1024 + 11, 33)
    sent = capture_headers(s3_tls)
    put = s3_tls.put_object(Bucket=tls_bucket, Key="t", Body=io.BytesIO(data), ChecksumAlgorithm=algorithm)
    h = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in sent[-1].items()}
    # Make sure this really went as an aws-chunked body with a trailer.
    assert h.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", h
    assert h.get("x-amz-trailer") == f"x-amz-checksum-{algorithm.lower()}", h
    assert put.get(f"Checksum{algorithm}") == checksum_b64(algorithm, data)
    assert_checksum_returned(s3_tls, tls_bucket, "t", algorithm, data)


def test_trailer_multipart_over_https(s3_tls, tls_bucket):
    part1, part2 = random_bytes(5 * 1024 * 1024, 34), random_bytes(1000, 35)
    up = s3_tls.create_multipart_upload(Bucket=tls_bucket, Key="mp", ChecksumAlgorithm="CRC32")
    uid = up["UploadId"]
    sent = capture_headers(s3_tls)
    parts = []
    for n, p in enumerate([part1, part2], start=1):
        r = s3_tls.upload_part(Bucket=tls_bucket, Key="mp", UploadId=uid, PartNumber=n, Body=io.BytesIO(p),
                               ChecksumAlgorithm="CRC32")
        assert {k.lower(): v for k, v in sent[-1].items()}.get("x-amz-trailer") in (
            "x-amz-checksum-crc32", b"x-amz-checksum-crc32")
        assert r["ChecksumCRC32"] == checksum_b64("CRC32", p)
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    s3_tls.complete_multipart_upload(Bucket=tls_bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts})
    assert s3_tls.get_object(Bucket=tls_bucket, Key="mp")["Body"].read() == part1 + part2
