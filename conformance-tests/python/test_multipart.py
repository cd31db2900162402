"""Multipart uploads: create, upload part, upload part copy, list parts/uploads, complete, abort,
and their errors (EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload, MalformedXML)."""

import rawhttp
from s3util import expect_error, md5_b64, md5_hex, multipart_etag, random_bytes, status_of

MIB = 1024 * 1024


def upload_parts(s3, bucket, key, parts):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/x-mp",
                                    Metadata={"kind": "multipart"})
    uid = up["UploadId"]
    done = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=p)
        assert r["ETag"] == f'"{md5_hex(p)}"'
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return uid, done


def test_multipart_full_cycle(s3, bucket):
    parts = [random_bytes(5 * MIB, 1), random_bytes(5 * MIB + 3, 2), random_bytes(MIB // 3, 3)]
    uid, done = upload_parts(s3, bucket, "mp/obj", parts)

    listed = s3.list_parts(Bucket=bucket, Key="mp/obj", UploadId=uid)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    assert [p["ETag"] for p in listed["Parts"]] == [d["ETag"] for d in done]
    paged = s3.list_parts(Bucket=bucket, Key="mp/obj", UploadId=uid, MaxParts=2)
    assert paged["IsTruncated"] is True and len(paged["Parts"]) == 2
    rest = s3.list_parts(Bucket=bucket, Key="mp/obj", UploadId=uid,
                         PartNumberMarker=paged["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]

    uploads = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in uploads.get("Uploads", [])] == [("mp/obj", uid)]
    assert s3.list_multipart_uploads(Bucket=bucket, Prefix="other/").get("Uploads", []) == []
    # An upload in progress is not an object.
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="mp/obj")

    res = s3.complete_multipart_upload(Bucket=bucket, Key="mp/obj", UploadId=uid,
                                       MultipartUpload={"Parts": done})
    assert res["ETag"] == multipart_etag(parts)
    got = s3.get_object(Bucket=bucket, Key="mp/obj")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentType"] == "application/x-mp"
    assert got["Metadata"] == {"kind": "multipart"}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # A range across the part boundary.
    whole = b"".join(parts)
    r = s3.get_object(Bucket=bucket, Key="mp/obj", Range=f"bytes={5 * MIB - 10}-{5 * MIB + 9}")
    assert r["Body"].read() == whole[5 * MIB - 10:5 * MIB + 10]
    # The completed upload id is gone.
    expect_error("NoSuchUpload", s3.list_parts, Bucket=bucket, Key="mp/obj", UploadId=uid)


def test_upload_part_copy(s3, bucket):
    src = random_bytes(7 * MIB, 4)
    s3.put_object(Bucket=bucket, Key="source", Body=src)
    tail = random_bytes(1000, 5)
    up = s3.create_multipart_upload(Bucket=bucket, Key="assembled")
    uid = up["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "source"})
    p2 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "source"},
                             CopySourceRange=f"bytes=100-{5 * MIB + 99}")
    p3 = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=3, Body=tail)
    assert p1["CopyPartResult"]["ETag"] == f'"{md5_hex(src)}"'
    assert p2["CopyPartResult"]["ETag"] == f'"{md5_hex(src[100:5 * MIB + 100])}"'
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]},
        {"PartNumber": 3, "ETag": p3["ETag"]},
    ]})
    want = src + src[100:5 * MIB + 100] + tail
    got = s3.get_object(Bucket=bucket, Key="assembled")
    assert got["Body"].read() == want
    assert got["ETag"] == multipart_etag([src, src[100:5 * MIB + 100], tail])


def test_abort(s3, bucket):
    uid, done = upload_parts(s3, bucket, "aborted", [random_bytes(MIB, 6)])
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    expect_error("NoSuchUpload", s3.upload_part, Bucket=bucket, Key="aborted", UploadId=uid,
                 PartNumber=2, Body=b"x")
    expect_error("NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="aborted", UploadId=uid,
                 MultipartUpload={"Parts": done})
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="aborted")


def test_part_too_small(s3, bucket):
    parts = [random_bytes(MIB, 7), random_bytes(MIB, 8)]
    uid, done = upload_parts(s3, bucket, "small-parts", parts)
    err = expect_error("EntityTooSmall", s3.complete_multipart_upload, Bucket=bucket, Key="small-parts",
                       UploadId=uid, MultipartUpload={"Parts": done})
    assert status_of(err) == 400
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="small-parts")


def test_invalid_part_and_order(s3, bucket):
    parts = [random_bytes(5 * MIB, 9), random_bytes(5 * MIB, 12), random_bytes(100, 10)]
    uid, done = upload_parts(s3, bucket, "bad-parts", parts)
    wrong = [done[0], done[1], {"PartNumber": 3, "ETag": '"00000000000000000000000000000000"'}]
    expect_error("InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="bad-parts", UploadId=uid,
                 MultipartUpload={"Parts": wrong})
    missing = [done[0], done[1], {"PartNumber": 7, "ETag": done[2]["ETag"]}]
    expect_error("InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="bad-parts", UploadId=uid,
                 MultipartUpload={"Parts": missing})
    # Both out-of-order parts are big enough: only the order is wrong.
    expect_error("InvalidPartOrder", s3.complete_multipart_upload, Bucket=bucket, Key="bad-parts",
                 UploadId=uid, MultipartUpload={"Parts": [done[1], done[0], done[2]]})
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="bad-parts")
    # The upload survives failed completions and can still be completed properly.
    s3.complete_multipart_upload(Bucket=bucket, Key="bad-parts", UploadId=uid, MultipartUpload={"Parts": done})
    assert s3.get_object(Bucket=bucket, Key="bad-parts")["Body"].read() == b"".join(parts)


def test_unknown_upload_id(s3, bucket):
    fake = "no-such-upload-id-0123456789"
    expect_error("NoSuchUpload", s3.upload_part, Bucket=bucket, Key="k", UploadId=fake, PartNumber=1, Body=b"x")
    expect_error("NoSuchUpload", s3.list_parts, Bucket=bucket, Key="k", UploadId=fake)
    expect_error("NoSuchUpload", s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId=fake)
    expect_error("NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=fake,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})


def test_complete_with_malformed_xml(server, s3, bucket):
    uid, done = upload_parts(s3, bucket, "mx", [random_bytes(1000, 11)])
    path = rawhttp.object_path(bucket, "mx")
    for body in [b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
                 b"this is not xml at all",
                 b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part>"
                 b"</CompleteMultipartUpload>"]:
        status, _, resp = rawhttp.request(server, "POST", path, [("uploadId", uid)], body=body)
        assert status == 400, resp
        assert rawhttp.error_code(resp) == "MalformedXML", resp
    expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="mx")
    s3.complete_multipart_upload(Bucket=bucket, Key="mx", UploadId=uid, MultipartUpload={"Parts": done})


def test_part_number_out_of_range_and_bad_part_md5(server, s3, bucket):
    uid, _ = upload_parts(s3, bucket, "pn", [random_bytes(1000, 13)])
    for pn in ["0", "10001", "abc"]:
        status, _, resp = rawhttp.request(server, "PUT", rawhttp.object_path(bucket, "pn"),
                                          [("partNumber", pn), ("uploadId", uid)], body=b"part")
        assert status == 400, (pn, resp)
        assert rawhttp.error_code(resp) == "InvalidArgument", (pn, resp)
    data = random_bytes(10_000, 14)
    expect_error("BadDigest", s3.upload_part, Bucket=bucket, Key="pn", UploadId=uid, PartNumber=2, Body=data,
                 ContentMD5=md5_b64(data + b"x"))
    parts = s3.list_parts(Bucket=bucket, Key="pn", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
