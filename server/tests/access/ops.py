"""Drives every S3 operation of Coffer's permission table with boto3 as one
access key and prints {operation: "ok" | error code} as JSON.

argv[1]: JSON {endpoint, root: [id, secret], key: [id, secret], bucket, ops: [names]}
An operation this script does not know is reported as "UNKNOWN-OPERATION", so
a new row in the table fails the test until it is exercised here."""
import datetime
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

args = json.loads(sys.argv[1])
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
             signature_version="s3v4")


def client(creds):
    return boto3.client("s3", endpoint_url=args["endpoint"], region_name="us-east-1",
                        aws_access_key_id=creds[0], aws_secret_access_key=creds[1], config=cfg)


root = client(args["root"])
s3 = client(args["key"])
B = args["bucket"]
K = "dev/readme.txt"
MPK = "dev/multi.bin"
root.put_object(Bucket=B, Key=K, Body=b"hello from coffer\n", Tagging="keep=1")
root.put_bucket_tagging(Bucket=B, Tagging={"TagSet": [{"Key": "team", "Value": "dba"}]})
TAGS = {"TagSet": [{"Key": "evil", "Value": "1"}]}
upload = root.create_multipart_upload(Bucket=B, Key=MPK)["UploadId"]
root.upload_part(Bucket=B, Key=MPK, UploadId=upload, PartNumber=1, Body=b"part one")
src = {"Bucket": B, "Key": K}

OPS = {
    "ListBuckets": lambda: s3.list_buckets(),
    "CreateBucket": lambda: s3.create_bucket(Bucket=B + "-new"),
    "DeleteBucket": lambda: s3.delete_bucket(Bucket=B),
    "PutBucketVersioning": lambda: s3.put_bucket_versioning(
        Bucket=B, VersioningConfiguration={"Status": "Enabled"}),
    "HeadBucket": lambda: s3.head_bucket(Bucket=B),
    "GetBucketLocation": lambda: s3.get_bucket_location(Bucket=B),
    "GetBucketVersioning": lambda: s3.get_bucket_versioning(Bucket=B),
    "GetBucketTagging": lambda: s3.get_bucket_tagging(Bucket=B),
    "PutBucketTagging": lambda: s3.put_bucket_tagging(Bucket=B, Tagging=TAGS),
    "DeleteBucketTagging": lambda: s3.delete_bucket_tagging(Bucket=B),
    "GetObjectTagging": lambda: s3.get_object_tagging(Bucket=B, Key=K),
    "GetBucketEncryption": lambda: s3.get_bucket_encryption(Bucket=B),
    "PutBucketEncryption": lambda: s3.put_bucket_encryption(
        Bucket=B, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
    "DeleteBucketEncryption": lambda: s3.delete_bucket_encryption(Bucket=B),
    "GetBucketPolicy": lambda: s3.get_bucket_policy(Bucket=B),
    "GetBucketPolicyStatus": lambda: s3.get_bucket_policy_status(Bucket=B),
    "GetBucketLifecycleConfiguration": lambda: s3.get_bucket_lifecycle_configuration(Bucket=B),
    "GetObjectLockConfiguration": lambda: s3.get_object_lock_configuration(Bucket=B),
    "PutObjectLockConfiguration": lambda: s3.put_object_lock_configuration(
        Bucket=B, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}),
    "PutBucketLifecycleConfiguration": lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=B, LifecycleConfiguration={"Rules": [
            {"ID": "r", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}]}),
    "DeleteBucketLifecycle": lambda: s3.delete_bucket_lifecycle(Bucket=B),
    "GetObjectRetention": lambda: s3.get_object_retention(Bucket=B, Key=K),
    "PutObjectRetention": lambda: s3.put_object_retention(
        Bucket=B, Key=K, Retention={"Mode": "GOVERNANCE",
                                    "RetainUntilDate": datetime.datetime(2100, 1, 1)}),
    "GetObjectLegalHold": lambda: s3.get_object_legal_hold(Bucket=B, Key=K),
    "PutObjectLegalHold": lambda: s3.put_object_legal_hold(
        Bucket=B, Key=K, LegalHold={"Status": "ON"}),
    "GetBucketCors": lambda: s3.get_bucket_cors(Bucket=B),
    "GetBucketWebsite": lambda: s3.get_bucket_website(Bucket=B),
    "GetBucketReplication": lambda: s3.get_bucket_replication(Bucket=B),
    "GetBucketOwnershipControls": lambda: s3.get_bucket_ownership_controls(Bucket=B),
    "GetPublicAccessBlock": lambda: s3.get_public_access_block(Bucket=B),
    "PutObjectTagging": lambda: s3.put_object_tagging(Bucket=B, Key=K, Tagging=TAGS),
    "DeleteObjectTagging": lambda: s3.delete_object_tagging(Bucket=B, Key=K),
    "ListObjects": lambda: s3.list_objects(Bucket=B),
    "ListObjectsV2": lambda: s3.list_objects_v2(Bucket=B),
    "ListObjectVersions": lambda: s3.list_object_versions(Bucket=B),
    "ListMultipartUploads": lambda: s3.list_multipart_uploads(Bucket=B),
    "GetObject": lambda: s3.get_object(Bucket=B, Key=K)["Body"].read(),
    "HeadObject": lambda: s3.head_object(Bucket=B, Key=K),
    "ListParts": lambda: s3.list_parts(Bucket=B, Key=MPK, UploadId=upload),
    "PutObject": lambda: s3.put_object(Bucket=B, Key="dev/new.txt", Body=b"x"),
    "CopyObject": lambda: s3.copy_object(Bucket=B, Key="dev/copy.txt", CopySource=src),
    "CreateMultipartUpload": lambda: s3.create_multipart_upload(Bucket=B, Key="dev/m2"),
    "UploadPart": lambda: s3.upload_part(Bucket=B, Key=MPK, UploadId=upload,
                                         PartNumber=2, Body=b"part two"),
    "UploadPartCopy": lambda: s3.upload_part_copy(Bucket=B, Key=MPK, UploadId=upload,
                                                  PartNumber=3, CopySource=src),
    "CompleteMultipartUpload": lambda: s3.complete_multipart_upload(
        Bucket=B, Key=MPK, UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]}),
    "AbortMultipartUpload": lambda: s3.abort_multipart_upload(Bucket=B, Key=MPK,
                                                              UploadId=upload),
    "DeleteObject": lambda: s3.delete_object(Bucket=B, Key=K),
    "DeleteObjects": lambda: s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": K}]}),
}

# Reads of settings that are never set: allowed, and answered with AWS's 404
# code for "not set" (a key without read gets AccessDenied instead).
NOT_SET = {
    "GetBucketPolicy": "NoSuchBucketPolicy",
    "GetBucketPolicyStatus": "NoSuchBucketPolicy",
    "GetBucketLifecycleConfiguration": "NoSuchLifecycleConfiguration",
    "GetObjectLockConfiguration": "ObjectLockConfigurationNotFoundError",
    # The bucket has no object lock: AWS's answer for a version's lock there.
    "GetObjectRetention": "InvalidRequest",
    "GetObjectLegalHold": "InvalidRequest",
    "GetBucketCors": "NoSuchCORSConfiguration",
    "GetBucketWebsite": "NoSuchWebsiteConfiguration",
    "GetBucketReplication": "ReplicationConfigurationNotFoundError",
    "GetBucketOwnershipControls": "OwnershipControlsNotFoundError",
    "GetPublicAccessBlock": "NoSuchPublicAccessBlockConfiguration",
}

out = {}
for op in args["ops"]:
    fn = OPS.get(op)
    if fn is None:
        out[op] = "UNKNOWN-OPERATION"
        continue
    try:
        fn()
        out[op] = "ok"
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code") or str(
            e.response["ResponseMetadata"]["HTTPStatusCode"])
        out[op] = "ok" if NOT_SET.get(op) == code else code
# Nothing the key tried may have changed what the root key sees.
body = root.get_object(Bucket=B, Key=K)["Body"].read()
out["_object_intact"] = (
    body == b"hello from coffer\n"
    and root.get_object_tagging(Bucket=B, Key=K)["TagSet"] == [{"Key": "keep", "Value": "1"}]
    and root.get_bucket_tagging(Bucket=B)["TagSet"] == [{"Key": "team", "Value": "dba"}])
out["_upload_intact"] = any(u["UploadId"] == upload
                            for u in root.list_multipart_uploads(Bucket=B).get("Uploads", []))
out["_buckets_seen"] = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
print(json.dumps(out))
