"""Bad input: wrong credentials, skewed clocks, wrong Content-MD5 and trailer checksums, clients that
die mid-body, malformed XML. Each time: the right S3 error, nothing stored, the previous version intact."""

import base64
import datetime
import hashlib
import time

import pytest

import rawhttp
import sigv4
from coffer_harness import ACCESS_KEY
from s3util import checksum_b64, expect_error, md5_b64, random_bytes, status_of


def test_wrong_secret_is_signature_mismatch(server, s3, bucket):
    bad = server.client(secret_key="wrong" + "x" * 35)
    assert status_of(expect_error("SignatureDoesNotMatch", bad.list_buckets)) == 403
    expect_error("SignatureDoesNotMatch", bad.put_object, Bucket=bucket, Key="k", Body=b"sneaky")
    expect_error("SignatureDoesNotMatch", bad.get_object, Bucket=bucket, Key="k")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="k")


def test_unknown_access_key_rejected(server, s3, bucket):
    bad = server.client(access_key="AKIDOESNOTEXIST00000")
    err = expect_error("InvalidAccessKeyId", bad.put_object, Bucket=bucket, Key="k", Body=b"x")
    assert status_of(err) == 403
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="k")


def test_request_time_too_skewed(server, bucket):
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    status, _, body = rawhttp.request(server, "GET", rawhttp.object_path(bucket), [("list-type", "2")], now=old)
    assert status == 403, body
    assert rawhttp.error_code(body) == "RequestTimeTooSkewed", body


def test_wrong_content_md5_is_bad_digest(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"good old version")
    data = random_bytes(1_000_000, 51)
    err = expect_error("BadDigest", s3.put_object, Bucket=bucket, Key="k", Body=data, ContentMD5=md5_b64(data + b"x"))
    assert status_of(err) == 400
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"good old version"
    expect_error("BadDigest", s3.put_object, Bucket=bucket, Key="fresh", Body=data, ContentMD5=md5_b64(b"x"))
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="fresh")
    # A malformed Content-MD5 (not base64 of 16 bytes) is refused too.
    expect_error("InvalidDigest", s3.put_object, Bucket=bucket, Key="fresh", Body=data, ContentMD5="bm90LW1kNQ==")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="fresh")


def aws_chunked(data: bytes, trailer_name: str, trailer_value: str, chunk=64 * 1024) -> bytes:
    out = bytearray()
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += f"0\r\n{trailer_name}:{trailer_value}\r\n\r\n".encode()
    return bytes(out)


def put_with_trailer(server, bucket, key, data, algorithm, value):
    name = f"x-amz-checksum-{algorithm.lower()}"
    body = aws_chunked(data, name, value)
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": name,
        "content-type": "application/octet-stream",
    }
    return rawhttp.request(server, "PUT", rawhttp.object_path(bucket, key), headers=headers, body=body,
                           payload_hash=sigv4.STREAMING_UNSIGNED_TRAILER)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC64NVME", "SHA256"])
def test_wrong_trailer_checksum_is_bad_digest(tls_server, s3_tls, tls_bucket, algorithm):
    data = random_bytes(300_000, 52)
    # The same hand-made request with the right trailer is accepted: the framing is valid.
    status, _, body = put_with_trailer(tls_server, tls_bucket, "k", data, algorithm, checksum_b64(algorithm, data))
    assert status == 200, body
    assert s3_tls.get_object(Bucket=tls_bucket, Key="k")["Body"].read() == data
    other = random_bytes(300_000, 53)
    status, _, body = put_with_trailer(tls_server, tls_bucket, "k", other, algorithm,
                                       checksum_b64(algorithm, other + b"!"))
    assert status == 400, body
    assert rawhttp.error_code(body) == "BadDigest", body
    assert s3_tls.get_object(Bucket=tls_bucket, Key="k")["Body"].read() == data
    status, _, body = put_with_trailer(tls_server, tls_bucket, "fresh", other, algorithm,
                                       checksum_b64(algorithm, b"nope"))
    assert status == 400 and rawhttp.error_code(body) == "BadDigest", body
    expect_error("NoSuchKey", s3_tls.get_object, Bucket=tls_bucket, Key="fresh")


def wait_quiet():
    # Give the server time to notice the dead connection and finish whatever it does about it.
    time.sleep(1.5)


def test_disconnect_mid_body_stores_nothing(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"survivor")
    data = random_bytes(4 * 1024 * 1024, 54)
    for key in ["k", "new"]:
        rawhttp.send_half_and_close(server, "PUT", rawhttp.object_path(bucket, key),
                                    {"content-type": "application/octet-stream"}, data)
    # Also a signed payload (sha256 over the full body) cut in half.
    rawhttp.send_half_and_close(server, "PUT", rawhttp.object_path(bucket, "signed"), {}, data,
                                payload_hash=hashlib.sha256(data).hexdigest())
    wait_quiet()
    assert server.alive(), server.log_tail()
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"survivor"
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="new")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="signed")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["k"]


def test_disconnect_mid_aws_chunked_body_stores_nothing(tls_server, s3_tls, tls_bucket):
    s3_tls.put_object(Bucket=tls_bucket, Key="k", Body=b"survivor")
    data = random_bytes(2 * 1024 * 1024, 55)
    body = aws_chunked(data, "x-amz-checksum-crc32", checksum_b64("CRC32", data))
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": "x-amz-checksum-crc32"}
    rawhttp.send_half_and_close(tls_server, "PUT", rawhttp.object_path(tls_bucket, "k"), headers, body,
                                payload_hash=sigv4.STREAMING_UNSIGNED_TRAILER)
    wait_quiet()
    assert tls_server.alive(), tls_server.log_tail()
    assert s3_tls.get_object(Bucket=tls_bucket, Key="k")["Body"].read() == b"survivor"


def test_disconnect_mid_part_stores_no_part(server, s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    uid = up["UploadId"]
    data = random_bytes(6 * 1024 * 1024, 56)
    rawhttp.send_half_and_close(server, "PUT", rawhttp.object_path(bucket, "mp"), {}, data,
                                params=[("partNumber", "1"), ("uploadId", uid)])
    wait_quiet()
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid).get("Parts", []) == []


def test_malformed_xml_in_delete_objects(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    for body in [b"<Delete><Object><Key>a</Key></Object>", b"not xml", b"<Delete><Object><Key>a</Key></Objec></Delete>"]:
        headers = {"content-md5": base64.b64encode(hashlib.md5(body).digest()).decode(),
                   "content-type": "application/xml"}
        status, _, resp = rawhttp.request(server, "POST", rawhttp.object_path(bucket), [("delete", "")],
                                          headers=headers, body=body)
        assert status == 400, resp
        assert rawhttp.error_code(resp) == "MalformedXML", resp
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"


def test_raw_signed_put_roundtrip(server, s3, bucket):
    """The hand-made signer is correct: without this, the tests above could pass for the wrong reason."""
    data = b"hand signed"
    status, headers, body = rawhttp.request(server, "PUT", rawhttp.object_path(bucket, "raw"), body=data)
    assert status == 200, body
    assert headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="raw")["Body"].read() == data
    assert ACCESS_KEY


def test_signed_aws_chunked_body(server, s3, bucket):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD: accepted when every chunk signature chains; a chunk
    changed after signing is SignatureDoesNotMatch and nothing is stored."""
    data = random_bytes(300_000, 57)
    status, _, body = rawhttp.put_signed_chunks(server, rawhttp.object_path(bucket, "chunked"), data)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == data
    other = random_bytes(300_000, 58)
    status, _, body = rawhttp.put_signed_chunks(server, rawhttp.object_path(bucket, "chunked"), other,
                                                tamper_chunk=2)
    assert status == 403, body
    assert rawhttp.error_code(body) == "SignatureDoesNotMatch", body
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == data
    status, _, body = rawhttp.put_signed_chunks(server, rawhttp.object_path(bucket, "tampered-new"), other,
                                                tamper_chunk=0)
    assert status == 403, body
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="tampered-new")
