"""Versioning: enable/suspend, version ids on get/head/delete/copy, delete markers, listing versions."""

from s3util import expect_error, status_of


def test_unversioned_bucket_uses_null_version(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions] == [("k", "null", True)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"two"


def test_versions_get_head_delete_copy(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"version one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"version two")["VersionId"]
    assert v1 and v2 and v1 != v2 and "null" not in (v1, v2)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"version two"
    got = s3.get_object(Bucket=bucket, Key="doc", VersionId=v1)
    assert got["Body"].read() == b"version one" and got["VersionId"] == v1
    assert s3.head_object(Bucket=bucket, Key="doc", VersionId=v1)["ContentLength"] == len(b"version one")
    assert s3.head_object(Bucket=bucket, Key="doc")["VersionId"] == v2

    res = s3.list_object_versions(Bucket=bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in res["Versions"]] == [(v2, True), (v1, False)]

    # Copy an old version to a new key.
    c = s3.copy_object(Bucket=bucket, Key="restored", CopySource={"Bucket": bucket, "Key": "doc", "VersionId": v1})
    assert c.get("CopySourceVersionId") == v1
    assert s3.get_object(Bucket=bucket, Key="restored")["Body"].read() == b"version one"

    # A plain delete leaves a delete marker.
    d = s3.delete_object(Bucket=bucket, Key="doc")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    err = expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="doc")
    assert err.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    assert status_of(expect_error("404", s3.head_object, Bucket=bucket, Key="doc")) == 404
    assert s3.get_object(Bucket=bucket, Key="doc", VersionId=v2)["Body"].read() == b"version two"
    assert "doc" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    res = s3.list_object_versions(Bucket=bucket, Prefix="doc")
    assert [(m["VersionId"], m["IsLatest"]) for m in res["DeleteMarkers"]] == [(marker, True)]
    assert [v["VersionId"] for v in res["Versions"]] == [v2, v1]
    # Getting the delete marker itself is not allowed.
    expect_error("MethodNotAllowed", s3.get_object, Bucket=bucket, Key="doc", VersionId=marker)

    # Removing the marker brings the object back.
    d = s3.delete_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert d["VersionId"] == marker and d.get("DeleteMarker") is True
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"version two"

    # Deleting a specific version removes it for good.
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"version one"
    expect_error("NoSuchVersion", s3.get_object, Bucket=bucket, Key="doc", VersionId=v2)
    res = s3.list_object_versions(Bucket=bucket, Prefix="doc")
    assert [(v["VersionId"], v["IsLatest"]) for v in res["Versions"]] == [(v1, True)]


def test_delete_objects_with_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    a1 = s3.put_object(Bucket=bucket, Key="a", Body=b"a1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="a", Body=b"a2")
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": a1}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in res["Deleted"]}
    assert deleted["a"]["VersionId"] == a1
    assert deleted["b"].get("DeleteMarker") is True
    versions = s3.list_object_versions(Bucket=bucket, Prefix="a")["Versions"]
    assert len(versions) == 1 and versions[0]["VersionId"] != a1


def test_suspended_versioning(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="s", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    r = s3.put_object(Bucket=bucket, Key="s", Body=b"null one")
    assert r.get("VersionId", "null") == "null"
    s3.put_object(Bucket=bucket, Key="s", Body=b"null two")  # replaces the null version
    versions = s3.list_object_versions(Bucket=bucket, Prefix="s")["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted(["null", v1])
    assert s3.get_object(Bucket=bucket, Key="s")["Body"].read() == b"null two"
    assert s3.get_object(Bucket=bucket, Key="s", VersionId=v1)["Body"].read() == b"kept"
    # Delete in a suspended bucket: a null delete marker; the old version survives.
    d = s3.delete_object(Bucket=bucket, Key="s")
    assert d["DeleteMarker"] is True and d.get("VersionId", "null") == "null"
    assert s3.get_object(Bucket=bucket, Key="s", VersionId=v1)["Body"].read() == b"kept"
    res = s3.list_object_versions(Bucket=bucket, Prefix="s")
    assert [v["VersionId"] for v in res["Versions"]] == [v1]
    assert [m["VersionId"] for m in res["DeleteMarkers"]] == ["null"]


def test_list_object_versions_paging(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = {}
    for key in ["p/a", "p/b"]:
        ids[key] = [s3.put_object(Bucket=bucket, Key=key, Body=f"{key}{i}".encode())["VersionId"] for i in range(3)]
    seen, kw = [], {}
    for _ in range(10):
        res = s3.list_object_versions(Bucket=bucket, MaxKeys=2, **kw)
        seen += [(v["Key"], v["VersionId"]) for v in res.get("Versions", [])]
        if not res["IsTruncated"]:
            break
        kw = {"KeyMarker": res["NextKeyMarker"], "VersionIdMarker": res["NextVersionIdMarker"]}
    want = [(k, v) for k in ["p/a", "p/b"] for v in reversed(ids[k])]
    assert seen == want
    res = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in res.get("CommonPrefixes", [])] == ["p/"]
