"""Conditional writes (If-None-Match / If-Match on PutObject and CompleteMultipartUpload)
against a real cofferd: the condition is decided in the commit, so racing writers get
exactly one 200."""

import threading

from s3util import expect_error, md5_hex, random_bytes, status_of

WRITERS = 12


def _race(server, bucket, key, bodies, **condition):
    """PUTs every body to `key` at once, each from its own client; returns (status, etag) per writer."""
    clients = [server.client() for _ in bodies]
    start = threading.Barrier(len(bodies))
    results = [None] * len(bodies)

    def writer(i):
        start.wait()
        try:
            r = clients[i].put_object(Bucket=bucket, Key=key, Body=bodies[i], **condition)
            results[i] = (200, r["ETag"].strip('"'))
        except Exception as e:  # botocore ClientError: keep the status to assert on
            results[i] = (status_of(e), e.response.get("Error", {}).get("Code"))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_if_none_match_puts_have_one_winner(server, s3, bucket):
    bodies = [random_bytes(2 << 20, seed) for seed in range(WRITERS)]
    results = _race(server, bucket, "once", bodies, IfNoneMatch="*")
    winners = [r for r in results if r[0] == 200]
    assert len(winners) == 1, results
    assert sorted(r for r in results if r[0] != 200) == [(412, "PreconditionFailed")] * (WRITERS - 1), results
    etag = winners[0][1]
    assert etag in {md5_hex(b) for b in bodies}
    got = s3.get_object(Bucket=bucket, Key="once")
    assert got["ETag"].strip('"') == etag
    assert md5_hex(got["Body"].read()) == etag
    # The key exists now: every later If-None-Match: * PUT is refused.
    err = expect_error("PreconditionFailed", s3.put_object, Bucket=bucket, Key="once", Body=b"late", IfNoneMatch="*")
    assert status_of(err) == 412


def test_if_match_on_put(s3, bucket):
    err = expect_error("NoSuchKey", s3.put_object, Bucket=bucket, Key="m", Body=b"x", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert status_of(err) == 404
    first = s3.put_object(Bucket=bucket, Key="m", Body=b"first")["ETag"]
    second = s3.put_object(Bucket=bucket, Key="m", Body=b"second", IfMatch=first)["ETag"]
    # The ETag changed since the client read it: its write is refused.
    err = expect_error("PreconditionFailed", s3.put_object, Bucket=bucket, Key="m", Body=b"stale", IfMatch=first)
    assert status_of(err) == 412
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == b"second"
    s3.put_object(Bucket=bucket, Key="m", Body=b"third", IfMatch=second)
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == b"third"


def test_if_none_match_on_complete_multipart_upload(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"the only part")
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    s3.put_object(Bucket=bucket, Key="mp", Body=b"already there")
    err = expect_error("PreconditionFailed", s3.complete_multipart_upload, Bucket=bucket, Key="mp",
                       UploadId=up, MultipartUpload=parts, IfNoneMatch="*")
    assert status_of(err) == 412
    # The refused completion left the upload in place.
    assert len(s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]) == 1
    s3.delete_object(Bucket=bucket, Key="mp")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload=parts, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"the only part"
