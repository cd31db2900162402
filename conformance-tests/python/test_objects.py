"""Objects: put/get/head/delete, metadata, delete_objects, copy, odd keys, conditional GETs,
response-* overrides and ranges."""

import datetime

import pytest

from s3util import expect_error, md5_hex, random_bytes, status_of


def test_put_get_head_delete(s3, bucket):
    body = random_bytes(300_000, 1)
    put = s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=body, ContentType="application/x-test",
                        Metadata={"colour": "blue", "n": "42"}, CacheControl="max-age=60",
                        ContentDisposition="inline", ContentLanguage="en")
    assert put["ETag"] == f'"{md5_hex(body)}"'
    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"colour": "blue", "n": "42"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "en"
    head = s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"]
    assert head["Metadata"] == {"colour": "blue", "n": "42"}
    age = datetime.datetime.now(datetime.timezone.utc) - head["LastModified"]
    assert abs(age.total_seconds()) < 300
    s3.delete_object(Bucket=bucket, Key="dir/obj.bin")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="dir/obj.bin")
    assert status_of(expect_error("404", s3.head_object, Bucket=bucket, Key="dir/obj.bin")) == 404
    # Deleting what is not there succeeds (S3 semantics).
    s3.delete_object(Bucket=bucket, Key="dir/obj.bin")


def test_empty_object_and_overwrite(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0 and got["Body"].read() == b""
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    s3.put_object(Bucket=bucket, Key="empty", Body=b"now with content")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b"now with content"


def test_delete_objects(s3, bucket):
    for k in ["a", "b", "c", "keep"]:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c"},
                                                               {"Key": "never-existed"}]})
    assert sorted(d["Key"] for d in res.get("Deleted", [])) == ["a", "b", "c", "never-existed"]
    assert not res.get("Errors")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["keep"]
    s3.put_object(Bucket=bucket, Key="q", Body=b"q")
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q"}], "Quiet": True})
    assert not res.get("Deleted")
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="q")


def test_copy_metadata_directive(s3, bucket):
    body = random_bytes(700_000, 2)
    s3.put_object(Bucket=bucket, Key="src", Body=body, ContentType="text/x-src", Metadata={"origin": "src"})
    s3.create_bucket(Bucket=bucket + "-dst")
    res = s3.copy_object(Bucket=bucket + "-dst", Key="copied", CopySource={"Bucket": bucket, "Key": "src"})
    assert res["CopyObjectResult"]["ETag"] == f'"{md5_hex(body)}"'
    got = s3.get_object(Bucket=bucket + "-dst", Key="copied")
    assert got["Body"].read() == body
    assert got["Metadata"] == {"origin": "src"}
    assert got["ContentType"] == "text/x-src"
    s3.copy_object(Bucket=bucket, Key="copy-explicit", CopySource=f"{bucket}/src", MetadataDirective="COPY",
                   Metadata={"ignored": "yes"})
    assert s3.head_object(Bucket=bucket, Key="copy-explicit")["Metadata"] == {"origin": "src"}
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"new": "1"}, ContentType="application/x-new")
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert head["Metadata"] == {"new": "1"}
    assert head["ContentType"] == "application/x-new"
    assert s3.get_object(Bucket=bucket, Key="replaced")["Body"].read() == body
    # Copying an object onto itself to change its metadata.
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"origin": "rewritten"})
    head = s3.head_object(Bucket=bucket, Key="src")
    assert head["Metadata"] == {"origin": "rewritten"}
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == body
    expect_error("NoSuchKey", s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "nope"})


ODD_KEYS = [
    "../x",
    "a/../../b",
    "a//b",
    "/leading",
    "//double-leading",
    "trailing/",
    "ünïcödé/日本語/☃.txt",
    "space and+plus%percent?q=1&r=2#hash",
    "tab\tnewline-free",
    "k" * 1024,
    "é" * 512,  # 1024 bytes of UTF-8
]


@pytest.mark.parametrize("key", ODD_KEYS, ids=range(len(ODD_KEYS)))
def test_odd_keys_are_opaque(s3, bucket, key):
    body = key.encode()[:100] + b"-body"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == [key]
    s3.copy_object(Bucket=bucket, Key=key + "-copy" if len(key.encode()) < 1000 else "copy",
                   CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key=key)


def test_key_longer_than_1024_bytes_rejected(s3, bucket):
    expect_error("KeyTooLongError", s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert not s3.list_objects_v2(Bucket=bucket).get("Contents")


def test_conditional_get_and_head(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    etag = put["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    past = modified - datetime.timedelta(days=1)
    future = modified + datetime.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    assert status_of(expect_error("PreconditionFailed", s3.get_object, Bucket=bucket, Key="c",
                                  IfMatch='"0123456789abcdef0123456789abcdef"')) == 412
    assert status_of(expect_error("304", s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)) == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"')["Body"].read() == b"conditional"
    assert status_of(expect_error("304", s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=future)) == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)["Body"].read() == b"conditional"
    assert status_of(expect_error("PreconditionFailed", s3.get_object, Bucket=bucket, Key="c",
                                  IfUnmodifiedSince=past)) == 412
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=future)["Body"].read() == b"conditional"
    # If-Match wins over If-Unmodified-Since when both are given (RFC 7232 order).
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=past)["ETag"] == etag
    s3.head_object(Bucket=bucket, Key="c", IfMatch=etag)
    assert status_of(expect_error("412", s3.head_object, Bucket=bucket, Key="c", IfMatch='"nope"')) == 412
    assert status_of(expect_error("304", s3.head_object, Bucket=bucket, Key="c", IfNoneMatch=etag)) == 304


def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"override me", ContentType="text/plain")
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    got = s3.get_object(Bucket=bucket, Key="r", ResponseContentType="application/x-override",
                        ResponseContentDisposition='attachment; filename="x.txt"',
                        ResponseCacheControl="no-store", ResponseContentLanguage="fr",
                        ResponseContentEncoding="identity", ResponseExpires=expires)
    h = got["ResponseMetadata"]["HTTPHeaders"]
    assert h["content-type"] == "application/x-override"
    assert h["content-disposition"] == 'attachment; filename="x.txt"'
    assert h["cache-control"] == "no-store"
    assert h["content-language"] == "fr"
    assert h["content-encoding"] == "identity"
    assert "2030" in h["expires"]
    assert got["Body"].read() == b"override me"


def test_ranges(s3, bucket):
    body = random_bytes(3 * 1024 * 1024 + 17, 3)
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    n = len(body)
    cases = {
        "bytes=0-0": body[0:1],
        "bytes=10-19": body[10:20],
        f"bytes={n - 1}-": body[n - 1:],
        "bytes=-100": body[-100:],
        f"bytes=1048000-{2 * 1048576 + 5}": body[1048000:2 * 1048576 + 6],
        f"bytes=5-{n + 1000}": body[5:],  # end past the size is clipped
        "bytes=0-": body,
    }
    for rng, want in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        assert got["Body"].read() == want, rng
        assert got["ContentLength"] == len(want), rng
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        assert got["ContentRange"].endswith(f"/{n}"), rng
    err = expect_error("InvalidRange", s3.get_object, Bucket=bucket, Key="r", Range=f"bytes={n}-")
    assert status_of(err) == 416
    expect_error("InvalidRange", s3.get_object, Bucket=bucket, Key="r", Range=f"bytes={n + 10}-{n + 20}")
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    expect_error("InvalidRange", s3.get_object, Bucket=bucket, Key="empty", Range="bytes=0-0")
