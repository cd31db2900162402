"""Metadata at rest: what a client attaches to an object or a multipart upload (x-amz-meta-*
values, content type, other headers, ETags of what it uploaded) is in no file of the data
directory in clear — not meta.redb, not the packs — while the server still answers with it."""

import os
import uuid

from s3util import md5_hex, random_bytes

MIB = 1024 * 1024


def _files(root):
    for dirpath, _, names in os.walk(root):
        for n in names:
            yield os.path.join(dirpath, n)


def _files_holding(root, needles):
    """{needle: [files whose bytes contain it]} for the needles found anywhere under root."""
    found = {}
    for path in _files(root):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue  # a temporary file renamed away while walking
        for n in needles:
            if n.encode() in data:
                found.setdefault(n, []).append(os.path.relpath(path, root))
    return found


def test_metadata_marker_is_in_no_file_of_the_data_dir(server, s3, bucket):
    mark = uuid.uuid4().hex
    meta_value = f"meta-value-{mark}"
    meta_name = f"name{mark[:12]}"
    content_type = f"application/x-ctype-{mark}"
    disposition = f"attachment; filename=disp-{mark}.bin"
    up_value = f"upload-value-{mark}"
    up_type = f"application/x-upload-{mark}"
    body = random_bytes(300_000, 11)

    s3.put_object(Bucket=bucket, Key="secret/object.bin", Body=body, ContentType=content_type,
                  ContentDisposition=disposition, Metadata={meta_name: meta_value})

    # A pending upload with metadata and one part, and a completed one.
    pending = s3.create_multipart_upload(Bucket=bucket, Key="secret/pending.bin",
                                         ContentType=up_type, Metadata={"who": up_value})
    part = random_bytes(70_000, 12)
    s3.upload_part(Bucket=bucket, Key="secret/pending.bin", UploadId=pending["UploadId"],
                   PartNumber=1, Body=part)
    done = s3.create_multipart_upload(Bucket=bucket, Key="secret/done.bin",
                                      ContentType=up_type, Metadata={"who": up_value})
    parts = [random_bytes(5 * MIB, 13), random_bytes(1000, 14)]
    etags = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="secret/done.bin", UploadId=done["UploadId"],
                           PartNumber=i, Body=p)
        etags.append({"PartNumber": i, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="secret/done.bin", UploadId=done["UploadId"],
                                 MultipartUpload={"Parts": etags})

    # The server still has every value.
    head = s3.head_object(Bucket=bucket, Key="secret/object.bin")
    assert head["Metadata"] == {meta_name: meta_value}
    assert head["ContentType"] == content_type
    assert head["ContentDisposition"] == disposition
    head = s3.head_object(Bucket=bucket, Key="secret/done.bin")
    assert head["Metadata"] == {"who": up_value} and head["ContentType"] == up_type
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["Key"] for u in uploads] == ["secret/pending.bin"]

    # The content's MD5s (the ETags) are a fingerprint of the bytes: sealed too.
    needles = [mark, meta_value, meta_name, content_type, up_value, up_type,
               md5_hex(body), md5_hex(part), md5_hex(parts[0])]
    data_dir = str(server.data_dir)
    assert any(os.path.basename(p) == "meta.redb" for p in _files(data_dir))
    found = _files_holding(data_dir, needles)
    assert found == {}, f"in clear in the data directory: {found}"

    # Object names are index keys and stay readable, which shows the search works.
    assert "meta.redb" in str(_files_holding(data_dir, ["secret/pending.bin"]))
