"""Presigned GET and PUT URLs used with a plain HTTP client (requests), and their expiry/tampering."""

import time

import requests

from s3util import random_bytes


def test_presigned_get_and_put(server, s3, bucket):
    body = random_bytes(200_000, 41)
    s3.put_object(Bucket=bucket, Key="dir/shared file.bin", Body=body, ContentType="application/x-shared")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/shared file.bin"},
                                    ExpiresIn=600)
    assert "X-Amz-Signature=" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == body
    assert r.headers["Content-Type"] == "application/x-shared"
    r = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=30)
    assert r.status_code == 206 and r.content == body[10:20]

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded/by-url"},
                                        ExpiresIn=600)
    new = random_bytes(123_456, 42)
    r = requests.put(put_url, data=new, timeout=30)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="uploaded/by-url")["Body"].read() == new


def test_presigned_tampered_or_expired_rejected(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    s3.put_object(Bucket=bucket, Key="other", Body=b"other secret")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "private"}, ExpiresIn=600)
    r = requests.get(url.replace("/private?", "/other?"), timeout=30)
    assert r.status_code == 403 and b"other secret" not in r.content
    assert b"SignatureDoesNotMatch" in r.content, r.text
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "private"}, ExpiresIn=600)
    r = requests.put(put_url.replace("/private?", "/other?"), data=b"overwrite", timeout=30)
    assert r.status_code == 403
    assert s3.get_object(Bucket=bucket, Key="other")["Body"].read() == b"other secret"
    short = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "private"}, ExpiresIn=1)
    time.sleep(2.5)
    r = requests.get(short, timeout=30)
    assert r.status_code == 403 and r.content != b"secret"
    assert requests.get(url.split("?")[0], timeout=30).status_code == 403  # no signature at all
