"""Helpers shared by the boto3 tests: error assertions, test bodies, checksums as S3 encodes them."""

import base64
import hashlib
import random
import time
import zlib

import pytest
from awscrt import checksums
from botocore.exceptions import ClientError


def expect_error(code, fn, *args, **kwargs):
    """Calls fn and asserts it fails with S3 error `code`; returns the ClientError."""
    with pytest.raises(ClientError) as exc:
        fn(*args, **kwargs)
    got = exc.value.response.get("Error", {}).get("Code")
    assert got == code, f"expected {code}, got {got}: {exc.value.response}"
    return exc.value


def status_of(err: ClientError) -> int:
    return err.response["ResponseMetadata"]["HTTPStatusCode"]


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def multipart_etag(parts) -> str:
    """S3's multipart ETag: MD5 of the concatenated binary part MD5s, then -N."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum_b64(algorithm: str, data: bytes) -> str:
    """The base64 value of x-amz-checksum-<algorithm> for data."""
    a = algorithm.upper()
    if a == "CRC32":
        return _b64(zlib.crc32(data).to_bytes(4, "big"))
    if a == "CRC32C":
        return _b64(checksums.crc32c(data).to_bytes(4, "big"))
    if a == "CRC64NVME":
        return _b64(checksums.crc64nvme(data).to_bytes(8, "big"))
    if a == "SHA1":
        return _b64(hashlib.sha1(data).digest())
    if a == "SHA256":
        return _b64(hashlib.sha256(data).digest())
    raise ValueError(algorithm)


ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]


def wait_until(predicate, what, timeout=30.0):
    """Polls predicate() until it holds; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def keys_under(s3, bucket, prefix=""):
    """Every key under `prefix`, across listing pages."""
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out
