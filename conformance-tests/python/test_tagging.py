"""Object and bucket tagging through boto3 against the real cofferd: tags on
PUT, CopyObject (both directives), multipart uploads, per version, AWS's
limits and error codes, x-amz-tagging-count on GET, tags surviving a restart
and sealed at rest like every other value a client sends."""

import os
import uuid

import pytest
from botocore.exceptions import ClientError

from coffer_harness import Cofferd

MIB = 1024 * 1024


def _tags(s3, bucket, key, **kw):
    got = s3.get_object_tagging(Bucket=bucket, Key=key, **kw)
    return {t["Key"]: t["Value"] for t in got["TagSet"]}, got.get("VersionId")


def _tagging(d):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in d.items()]}


def _err(e):
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_tags_from_the_put_header_and_the_tagging_api(s3, bucket):
    s3.put_object(Bucket=bucket, Key="db/dump.gz", Body=b"dump",
                  Tagging="retention=gfs&service=compliance%20svc")
    assert _tags(s3, bucket, "db/dump.gz")[0] == {"retention": "gfs", "service": "compliance svc"}
    got = s3.get_object(Bucket=bucket, Key="db/dump.gz")
    assert got["TagCount"] == 2
    assert got["Body"].read() == b"dump"
    before = s3.head_object(Bucket=bucket, Key="db/dump.gz")

    s3.put_object_tagging(Bucket=bucket, Key="db/dump.gz", Tagging=_tagging({"tier": "cold"}))
    assert _tags(s3, bucket, "db/dump.gz")[0] == {"tier": "cold"}
    after = s3.head_object(Bucket=bucket, Key="db/dump.gz")
    # Tagging changes neither the data nor the version's identity.
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])
    assert s3.get_object(Bucket=bucket, Key="db/dump.gz")["Body"].read() == b"dump"

    s3.delete_object_tagging(Bucket=bucket, Key="db/dump.gz")
    assert _tags(s3, bucket, "db/dump.gz")[0] == {}
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="db/dump.gz")
    # Metadata is untouched by tags and the other way round.
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"a": "1"}, Tagging="t=1",
                  CacheControl="no-store")
    head = s3.head_object(Bucket=bucket, Key="m")
    assert head["Metadata"] == {"a": "1"} and head["CacheControl"] == "no-store"
    assert _tags(s3, bucket, "m")[0] == {"t": "1"}


def test_tags_belong_to_each_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one", Tagging="night=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two", Tagging="night=2")["VersionId"]
    assert _tags(s3, bucket, "k") == ({"night": "2"}, v2)
    assert _tags(s3, bucket, "k", VersionId=v1) == ({"night": "1"}, v1)
    r = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging=_tagging({"keep": "yes"}))
    assert r["VersionId"] == v1
    assert _tags(s3, bucket, "k", VersionId=v1)[0] == {"keep": "yes"}
    assert _tags(s3, bucket, "k")[0] == {"night": "2"}
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    # No new version was made by tagging.
    versions = s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([v1, v2])
    # A delete marker has no tags to set.
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=marker, Tagging=_tagging({"a": "b"}))
    assert _err(e) == ("MethodNotAllowed", 405)
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=bucket, Key="k")
    assert _err(e)[1] == 404


def test_copy_takes_or_replaces_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", Tagging="a=1&b=2", Metadata={"m": "1"})
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=src)
    assert _tags(s3, bucket, "copy")[0] == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="retagged", CopySource=src, TaggingDirective="REPLACE",
                   Tagging="c=3")
    assert _tags(s3, bucket, "retagged")[0] == {"c": "3"}
    assert s3.head_object(Bucket=bucket, Key="retagged")["Metadata"] == {"m": "1"}
    s3.copy_object(Bucket=bucket, Key="remeta", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"m": "2"})
    assert _tags(s3, bucket, "remeta")[0] == {"a": "1", "b": "2"}
    assert s3.head_object(Bucket=bucket, Key="remeta")["Metadata"] == {"m": "2"}
    s3.copy_object(Bucket=bucket, Key="untagged", CopySource=src, TaggingDirective="REPLACE")
    assert _tags(s3, bucket, "untagged")[0] == {}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="bad", CopySource=src, TaggingDirective="MOVE")
    assert _err(e)[0] == "InvalidArgument"


def test_multipart_upload_keeps_its_tags(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", Tagging="kind=base-backup")
    parts = []
    for n, body in enumerate([os.urandom(5 * MIB), b"tail"], start=1):
        r = s3.upload_part(Bucket=bucket, Key="big", UploadId=up["UploadId"], PartNumber=n, Body=body)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": parts})
    assert _tags(s3, bucket, "big")[0] == {"kind": "base-backup"}


@pytest.mark.parametrize("tags,message", [
    ({f"k{i}": "v" for i in range(11)}, "cannot be greater than 10"),
    ({"k" * 129: "v"}, "TagKey"),
    ({"k": "v" * 257}, "TagValue"),
    ({"aws:owner": "me"}, "aws:"),
])
def test_object_tag_limits(s3, bucket, tags, message):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=_tagging(tags))
    assert _err(e) == ("InvalidTag", 400)
    assert message in e.value.response["Error"]["Message"]
    assert _tags(s3, bucket, "k")[0] == {"keep": "me"}, "a refused tag set changes nothing"
    header = "&".join(f"{k}={v}" for k, v in tags.items())
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="other", Body=b"x", Tagging=header)
    assert _err(e) == ("InvalidTag", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="other")


def test_duplicate_tag_keys_are_refused(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={
            "TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert _err(e) == ("InvalidTag", 400)


def test_tagging_a_missing_object(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="nope", Tagging=_tagging({"a": "b"}))
    assert _err(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=bucket, Key="nope")
    assert _err(e) == ("NoSuchKey", 404)


def test_bucket_tagging(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert _err(e) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging({"team": "dba", "env": "prod"}))
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {t["Key"]: t["Value"] for t in got} == {"team": "dba", "env": "prod"}
    fifty = {f"k{i}": "v" for i in range(50)}
    s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging(fifty))
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=_tagging({f"k{i}": "v" for i in range(51)}))
    assert _err(e) == ("InvalidTag", 400)
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert _err(e) == ("NoSuchTagSet", 404)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket="no-such-bucket-here")
    assert _err(e) == ("NoSuchBucket", 404)


def test_tags_survive_restart_and_are_sealed_at_rest(tmp_path):
    server = Cofferd(tmp_path / "srv")
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="tagged")
        mark = uuid.uuid4().hex
        s3.put_object(Bucket="tagged", Key="obj", Body=b"x", Tagging=f"marker={mark}obj")
        s3.put_bucket_tagging(Bucket="tagged", Tagging=_tagging({"marker": f"{mark}bucket"}))
        up = s3.create_multipart_upload(Bucket="tagged", Key="pending", Tagging=f"m={mark}upload")
        server.restart()
        s3 = server.client()
        assert _tags(s3, "tagged", "obj")[0] == {"marker": f"{mark}obj"}
        got = s3.get_bucket_tagging(Bucket="tagged")["TagSet"]
        assert got == [{"Key": "marker", "Value": f"{mark}bucket"}]
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="tagged")["Uploads"]] == [
            up["UploadId"]]
        found = []
        for dirpath, _, names in os.walk(server.data_dir):
            for n in names:
                with open(os.path.join(dirpath, n), "rb") as f:
                    if mark.encode() in f.read():
                        found.append(n)
        assert found == [], f"a tag value is in clear in {found}"
    finally:
        server.kill()
