"""Bucket settings that cannot be set yet read as AWS answers for a bucket
where they were never set (each its own 404 code, not 501), and encryption
reads as what every bucket has: SSE-S3, AES256. Through boto3."""

import pytest
from botocore.exceptions import ClientError

NOT_SET = [
    ("get_bucket_policy", "NoSuchBucketPolicy"),
    ("get_bucket_policy_status", "NoSuchBucketPolicy"),
    ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
    ("get_object_lock_configuration", "ObjectLockConfigurationNotFoundError"),
    ("get_bucket_cors", "NoSuchCORSConfiguration"),
    ("get_bucket_website", "NoSuchWebsiteConfiguration"),
    ("get_bucket_replication", "ReplicationConfigurationNotFoundError"),
    ("get_bucket_ownership_controls", "OwnershipControlsNotFoundError"),
    ("get_public_access_block", "NoSuchPublicAccessBlockConfiguration"),
]


def _err(e):
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("method,code", NOT_SET)
def test_never_set_setting_was_not_implemented(s3, bucket, method, code):
    with pytest.raises(ClientError) as e:
        getattr(s3, method)(Bucket=bucket)
    assert _err(e) == (code, 404)
    with pytest.raises(ClientError) as e:
        getattr(s3, method)(Bucket="no-such-bucket-for-defaults")
    assert _err(e) == ("NoSuchBucket", 404)


AES256 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def test_every_bucket_is_aes256_encrypted(s3, bucket):
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=AES256)
    s3.delete_bucket_encryption(Bucket=bucket)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


@pytest.mark.parametrize("default", [
    {"SSEAlgorithm": "aws:kms"},
    {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:1:key/x"},
    {"SSEAlgorithm": "aws:kms:dsse"},
])
def test_kms_default_encryption_is_refused(s3, bucket, default):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default}]})
    assert _err(e) == ("NotImplemented", 501)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
