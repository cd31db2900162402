"""Protections Coffer does not enforce (KMS and customer-key encryption,
appends; object lock headers on a bucket without object lock) are refused with AWS's errors through boto3, on
every write that can ask for them, and nothing of a refused write is stored.
The aws cli side is `aws_*_regression_unenforced_protections_were_accepted`
in the Rust conformance tests."""

import datetime

import pytest
from botocore.exceptions import ClientError


def _code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def _status(exc_info):
    return exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"]


UNTIL = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)

REFUSED_PUTS = [
    ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": UNTIL}, "InvalidRequest", 400),
    ({"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": UNTIL}, "InvalidRequest", 400),
    ({"ObjectLockLegalHoldStatus": "ON"}, "InvalidRequest", 400),
    ({"ServerSideEncryption": "aws:kms"}, "NotImplemented", 501),
    ({"ServerSideEncryption": "aws:kms:dsse"}, "NotImplemented", 501),
    ({"ServerSideEncryption": "AES256", "SSEKMSKeyId": "arn:aws:kms:us-east-1:1:key/x"},
     "NotImplemented", 501),
]


@pytest.mark.parametrize("extra,code,status", REFUSED_PUTS)
def test_regression_put_object_protection_was_ignored(s3, bucket, extra, code, status):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="backup", Body=b"data", **extra)
    assert (_code(e), _status(e)) == (code, status)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="backup")
    assert _status(e) == 404, "a refused write stored nothing"


@pytest.mark.parametrize("extra,code,status", REFUSED_PUTS)
def test_regression_multipart_protection_was_ignored(s3, bucket, extra, code, status):
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="backup", **extra)
    assert (_code(e), _status(e)) == (code, status)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize("extra,code,status", REFUSED_PUTS)
def test_regression_copy_protection_was_ignored(s3, bucket, extra, code, status):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                       **extra)
    assert (_code(e), _status(e)) == (code, status)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dst")


def test_regression_bucket_with_object_lock_was_created_unprotected(s3):
    # It used to answer 200 with nothing enabled; now the lock is real
    # (test_object_lock.py) and the bucket says so.
    s3.create_bucket(Bucket="locked-bucket", ObjectLockEnabledForBucket=True)
    got = s3.get_object_lock_configuration(Bucket="locked-bucket")["ObjectLockConfiguration"]
    assert got["ObjectLockEnabled"] == "Enabled"
    assert s3.get_bucket_versioning(Bucket="locked-bucket")["Status"] == "Enabled"
    # Explicitly off asks for nothing.
    s3.create_bucket(Bucket="unlocked-bucket", ObjectLockEnabledForBucket=False)
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket="unlocked-bucket")
    assert _code(e) == "ObjectLockConfigurationNotFoundError"


def test_append_was_written_over_the_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="log", Body=b"first")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="log", Body=b"second", WriteOffsetBytes=5)
    assert (_code(e), _status(e)) == ("NotImplemented", 501)
    assert s3.get_object(Bucket=bucket, Key="log")["Body"].read() == b"first"


def test_what_coffer_does_is_accepted(s3, bucket):
    """Every object is encrypted with AES-256: asking for that is granted."""
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket, Key="b", Body=b"x", Tagging="")
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "a"},
                   TaggingDirective="COPY")
    up = s3.create_multipart_upload(Bucket=bucket, Key="d", ServerSideEncryption="AES256")
    s3.abort_multipart_upload(Bucket=bucket, Key="d", UploadId=up["UploadId"])
    for k in "abc":
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == b"x"
