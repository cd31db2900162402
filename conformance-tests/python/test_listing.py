"""ListObjects v1 and v2: prefix, delimiter, start-after, continuation, max-keys, encoding-type,
fetch-owner, the empty `delimiter=` restic and rclone send, and paging under concurrent writes."""

import re
from urllib.parse import unquote

import rawhttp

KEYS = ["a/1", "a/2", "a/b/3", "a/b/4", "b/5", "c", "d e/6", "é/7", "z+plus"]


def fill(s3, bucket, keys=KEYS):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())


def keys_of(res):
    return [o["Key"] for o in res.get("Contents", [])]


def prefixes_of(res):
    return [p["Prefix"] for p in res.get("CommonPrefixes", [])]


def test_v2_all_and_sorted(s3, bucket):
    fill(s3, bucket)
    res = s3.list_objects_v2(Bucket=bucket)
    assert keys_of(res) == sorted(KEYS, key=lambda k: k.encode())
    assert res["KeyCount"] == len(KEYS)
    assert res["IsTruncated"] is False
    sizes = {o["Key"]: o["Size"] for o in res["Contents"]}
    assert sizes["a/b/3"] == len(b"a/b/3")
    assert all(o["ETag"].startswith('"') for o in res["Contents"])
    assert all("Owner" not in o for o in res["Contents"])


def test_v2_prefix_delimiter(s3, bucket):
    fill(s3, bucket)
    res = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert keys_of(res) == ["c", "z+plus"]
    assert prefixes_of(res) == ["a/", "b/", "d e/", "é/"]
    res = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert keys_of(res) == ["a/1", "a/2"]
    assert prefixes_of(res) == ["a/b/"]
    assert res["KeyCount"] == 3
    res = s3.list_objects_v2(Bucket=bucket, Prefix="a/b/")
    assert keys_of(res) == ["a/b/3", "a/b/4"]
    res = s3.list_objects_v2(Bucket=bucket, Prefix="nothing/")
    assert keys_of(res) == [] and res["KeyCount"] == 0


def test_v2_start_after_and_max_keys_continuation(s3, bucket):
    fill(s3, bucket)
    assert keys_of(s3.list_objects_v2(Bucket=bucket, StartAfter="b/5")) == ["c", "d e/6", "z+plus", "é/7"]
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        res = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, **kw)
        pages += 1
        assert len(res.get("Contents", [])) <= 2
        assert res["MaxKeys"] == 2
        seen += keys_of(res)
        if not res["IsTruncated"]:
            break
        token = res["NextContinuationToken"]
        assert pages < 20
    assert seen == sorted(KEYS, key=lambda k: k.encode())
    assert pages == 5
    # Common prefixes count against max-keys and page too.
    res = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=3)
    assert res["IsTruncated"] is True
    assert len(keys_of(res)) + len(prefixes_of(res)) == 3
    rest = s3.list_objects_v2(Bucket=bucket, Delimiter="/", ContinuationToken=res["NextContinuationToken"])
    assert prefixes_of(res) + prefixes_of(rest) == ["a/", "b/", "d e/", "é/"]
    assert keys_of(res) + keys_of(rest) == ["c", "z+plus"]
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=0)["KeyCount"] == 0


def test_v2_continuation_stable_under_concurrent_writes(s3, bucket):
    base = [f"k{i:03d}" for i in range(0, 60, 2)]
    fill(s3, bucket, base)
    res = s3.list_objects_v2(Bucket=bucket, MaxKeys=10)
    seen = keys_of(res)
    # Writes before and after the cursor between pages.
    fill(s3, bucket, ["k000a", "k001", "k005", "k041", "k099"])
    s3.delete_object(Bucket=bucket, Key="k050")
    token = res["NextContinuationToken"]
    while token:
        res = s3.list_objects_v2(Bucket=bucket, MaxKeys=10, ContinuationToken=token)
        seen += keys_of(res)
        token = res.get("NextContinuationToken") if res["IsTruncated"] else None
    assert len(seen) == len(set(seen)), "a key was listed twice"
    assert seen == sorted(seen), "listing went backwards"
    for k in base:
        if k != "k050":
            assert k in seen, f"{k} existed throughout and was skipped"
    assert "k041" in seen and "k099" in seen  # written ahead of the cursor


def test_v2_encoding_type_url(s3, bucket):
    fill(s3, bucket)
    res = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert res["EncodingType"] == "url"
    raw = keys_of(res)
    assert "d%20e/6" in raw
    assert "%C3%A9/7" in raw
    assert sorted(unquote(k) for k in raw) == sorted(KEYS)
    res = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    assert "d%20e/" in prefixes_of(res)


def test_v2_fetch_owner(s3, bucket):
    fill(s3, bucket, ["o1"])
    res = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    owner = res["Contents"][0]["Owner"]
    assert owner.get("ID"), res


def test_v1_marker_delimiter_max_keys(s3, bucket):
    fill(s3, bucket)
    res = s3.list_objects(Bucket=bucket)
    assert keys_of(res) == sorted(KEYS, key=lambda k: k.encode())
    assert res["IsTruncated"] is False
    assert all(o.get("Owner", {}).get("ID") for o in res["Contents"])  # v1 always has owners
    res = s3.list_objects(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert keys_of(res) == ["a/1", "a/2"] and prefixes_of(res) == ["a/b/"]
    res = s3.list_objects(Bucket=bucket, Marker="b/5")
    assert keys_of(res) == ["c", "d e/6", "z+plus", "é/7"]
    seen, marker = [], ""
    for _ in range(20):
        res = s3.list_objects(Bucket=bucket, MaxKeys=4, Marker=marker)
        seen += keys_of(res)
        if not res["IsTruncated"]:
            break
        marker = res.get("NextMarker") or keys_of(res)[-1]
    assert seen == sorted(KEYS, key=lambda k: k.encode())
    res = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert res["IsTruncated"] is True and res.get("NextMarker"), res
    res = s3.list_objects(Bucket=bucket, EncodingType="url")
    assert "d%20e/6" in keys_of(res)


def test_empty_delimiter_means_no_delimiter(server, s3, bucket):
    fill(s3, bucket)
    for params in ([("list-type", "2"), ("delimiter", ""), ("prefix", "")],
                   [("delimiter", ""), ("prefix", "a/")],
                   [("list-type", "2"), ("delimiter", ""), ("encoding-type", "url"), ("max-keys", "1000")]):
        status, _, body = rawhttp.request(server, "GET", rawhttp.object_path(bucket), params)
        assert status == 200, body
        assert b"<CommonPrefixes>" not in body, body
        keys = [unquote(k.decode()) for k in re.findall(rb"<Key>([^<]*)</Key>", body)]
        prefix = dict(params).get("prefix", "")
        assert keys == [k for k in sorted(KEYS, key=lambda k: k.encode()) if k.startswith(prefix)], body


def test_invalid_max_keys_is_invalid_argument(server, bucket):
    for value in ["abc", "-1"]:
        status, _, body = rawhttp.request(server, "GET", rawhttp.object_path(bucket),
                                          [("list-type", "2"), ("max-keys", value)])
        assert status == 400, (value, body)
        assert rawhttp.error_code(body) == "InvalidArgument", (value, body)


def test_more_than_1000_keys_pages_at_1000(s3, bucket):
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"many/{i:05d}" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"."), keys))
    res = s3.list_objects_v2(Bucket=bucket)
    assert res["KeyCount"] == 1000 and res["IsTruncated"] is True
    rest = s3.list_objects_v2(Bucket=bucket, ContinuationToken=res["NextContinuationToken"])
    assert keys_of(res) + keys_of(rest) == keys and rest["IsTruncated"] is False
    # max-keys above 1000 is capped at 1000.
    assert len(keys_of(s3.list_objects_v2(Bucket=bucket, MaxKeys=5000))) == 1000
    v1 = s3.list_objects(Bucket=bucket)
    assert len(keys_of(v1)) == 1000 and v1["IsTruncated"] is True
    v1_rest = s3.list_objects(Bucket=bucket, Marker=keys_of(v1)[-1])
    assert keys_of(v1) + keys_of(v1_rest) == keys
