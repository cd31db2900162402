"""Buckets: create/head/list/location/delete, their errors, and bucket-name rules."""

import pytest

from s3util import expect_error, status_of


def test_create_head_list_location_delete(s3):
    s3.create_bucket(Bucket="bucket-life")
    s3.head_bucket(Bucket="bucket-life")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "bucket-life" in names
    loc = s3.get_bucket_location(Bucket="bucket-life")
    # us-east-1 is reported as an empty/None LocationConstraint.
    assert loc.get("LocationConstraint") in (None, "", "us-east-1")
    s3.delete_bucket(Bucket="bucket-life")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "bucket-life" not in names
    err = expect_error("404", s3.head_bucket, Bucket="bucket-life")
    assert status_of(err) == 404


def test_bucket_errors(s3):
    expect_error("NoSuchBucket", s3.list_objects_v2, Bucket="no-such-bucket-here")
    expect_error("NoSuchBucket", s3.get_object, Bucket="no-such-bucket-here", Key="k")
    expect_error("NoSuchBucket", s3.put_object, Bucket="no-such-bucket-here", Key="k", Body=b"x")
    expect_error("NoSuchBucket", s3.delete_bucket, Bucket="no-such-bucket-here")
    s3.create_bucket(Bucket="owned-twice")
    expect_error("BucketAlreadyOwnedByYou", s3.create_bucket, Bucket="owned-twice")
    s3.put_object(Bucket="owned-twice", Key="k", Body=b"x")
    expect_error("BucketNotEmpty", s3.delete_bucket, Bucket="owned-twice")
    s3.delete_object(Bucket="owned-twice", Key="k")
    s3.delete_bucket(Bucket="owned-twice")


@pytest.mark.parametrize("name", [
    "ab",                 # too short
    "x" * 64,             # too long
    "Upper-Case",         # upper case
    "under_score",        # underscore
    "-leading-dash",
    "trailing-dash-",
    "double..dot",
    "192.168.5.4",        # looks like an IP address
    "xn--punycode-prefix",
    "ends-with-s3alias",
])
def test_invalid_bucket_names_rejected(s3, name):
    expect_error("InvalidBucketName", s3.create_bucket, Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("name", ["abc", "a.b-c", "x" * 63, "0-starts-with-digit", "dots.are.fine"])
def test_valid_bucket_names_accepted(s3, name):
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)


def test_delete_bucket_holding_only_uploads_aborts_them(server, s3):
    """DeleteBucket used to answer BucketNotEmpty for a bucket holding only
    in-progress multipart uploads; AWS deletes it and the uploads go with it."""
    s3.create_bucket(Bucket="only-uploads")
    chunks_before = server.admin("GET", "/v1/status")["chunks"]
    for key in ("base/backup.tar", "wal/0001"):
        up = s3.create_multipart_upload(Bucket="only-uploads", Key=key)["UploadId"]
        s3.upload_part(Bucket="only-uploads", Key=key, UploadId=up, PartNumber=1,
                       Body=key.encode() * 40_000)
    assert server.admin("GET", "/v1/status")["chunks"] > chunks_before
    s3.delete_bucket(Bucket="only-uploads")
    expect_error("NoSuchBucket", s3.list_multipart_uploads, Bucket="only-uploads")
    # The parts' chunks lost their references with the uploads.
    assert server.admin("GET", "/v1/status")["chunks"] == chunks_before
    s3.create_bucket(Bucket="only-uploads")
    assert s3.list_multipart_uploads(Bucket="only-uploads").get("Uploads", []) == []
    # A version still makes the bucket not empty, and its uploads stay.
    s3.put_object(Bucket="only-uploads", Key="k", Body=b"x")
    up = s3.create_multipart_upload(Bucket="only-uploads", Key="m")["UploadId"]
    expect_error("BucketNotEmpty", s3.delete_bucket, Bucket="only-uploads")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="only-uploads")["Uploads"]] == [up]
