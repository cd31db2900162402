"""The hostile group: what an attacker on the network, or a broken client, sends
to a real cofferd, and what it must get back (issue 10). Each test is named after
the defect it pins. Loopback only, bounded in count and time."""

import base64
import hashlib
import http.client
import os
import socket
import stat
import xml.etree.ElementTree as ET
from urllib.parse import quote

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

import rawhttp
import sigv4
from coffer_harness import ACCESS_KEY, REGION, SECRET_KEY, Cofferd
from rawhttp import error_code, object_path

pytestmark = pytest.mark.hostile

WEEK = 604800


def send_with_unsigned(server, method, path, signed_headers, unsigned_headers, body=b"", params=()):
    """Signs a request over `signed_headers`, then adds `unsigned_headers` as an
    attacker replaying a captured request would. Returns (status, headers, body)."""
    host = f"127.0.0.1:{server.port}"
    params = list(params)
    h = sigv4.sign(method, host, path, params, signed_headers, sigv4.sha256_hex(body))
    h.update({k.lower(): v for k, v in unsigned_headers.items()})
    h["content-length"] = str(len(body))
    target = path + ("?" + sigv4.canonical_query(params) if params else "")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=h)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def read_back(s3, bucket, key):
    got = s3.get_object(Bucket=bucket, Key=key)
    return got["Body"].read(), got.get("Metadata", {}), got.get("WebsiteRedirectLocation")


# --- strict signatures ---------------------------------------------------------------

@pytest.mark.parametrize("header,value", [
    ("x-amz-meta-injected", "evil"),
    ("x-amz-website-redirect-location", "/elsewhere"),
    ("x-amz-copy-source", "COPY_SOURCE"),
])
def test_unsigned_x_amz_header_on_signed_put_was_honoured(server, s3, bucket, header, value):
    s3.put_object(Bucket=bucket, Key="victim", Body=b"original body")
    s3.put_object(Bucket=bucket, Key="secret", Body=b"someone else's data")
    if value == "COPY_SOURCE":
        value = f"/{bucket}/secret"
    status, _, body = send_with_unsigned(server, "PUT", object_path(bucket, "victim"), {},
                                         {header: value}, body=b"replayed body")
    assert status == 403, body
    assert error_code(body) == "AccessDenied"
    assert b"There were headers present in the request which were not signed" in body
    assert f"<HeadersNotSigned>{header}</HeadersNotSigned>".encode() in body
    data, meta, redirect = read_back(s3, bucket, "victim")
    assert data == b"original body"
    assert meta == {}
    assert redirect is None


def test_signed_x_amz_headers_are_still_accepted(server, s3, bucket):
    status, _, body = send_with_unsigned(server, "PUT", object_path(bucket, "ok"),
                                         {"x-amz-meta-colour": "blue"}, {}, body=b"fine")
    assert status == 200, body
    data, meta, _ = read_back(s3, bucket, "ok")
    assert (data, meta) == (b"fine", {"colour": "blue"})


def test_unsigned_header_on_presigned_put_was_honoured(server, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "by-url"}, ExpiresIn=600)
    r = requests.put(url, data=b"payload", headers={"x-amz-meta-injected": "evil"}, timeout=30)
    assert r.status_code == 403, r.text
    assert error_code(r.content) == "AccessDenied"
    assert b"<HeadersNotSigned>x-amz-meta-injected</HeadersNotSigned>" in r.content
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="by-url")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The same URL without the extra header works: the refusal is about the header.
    assert requests.put(url, data=b"payload", timeout=30).status_code == 200


def test_presigned_put_with_the_headers_it_signs_is_accepted(server, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "meta", "Metadata": {"c": "d"}},
                                    ExpiresIn=600)
    assert "x-amz-meta-c" in url
    r = requests.put(url, data=b"payload", headers={"x-amz-meta-c": "d"}, timeout=30)
    assert r.status_code == 200, r.text
    assert read_back(s3, bucket, "meta")[:2] == (b"payload", {"c": "d"})


def sigv2_client(server):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=Config(signature_version="s3", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def test_sigv2_header_auth_was_accepted(server, s3, bucket):
    v2 = sigv2_client(server)
    with pytest.raises(ClientError) as e:
        v2.put_object(Bucket=bucket, Key="v2", Body=b"unsigned body")
    err = e.value.response
    assert err["Error"]["Code"] == "InvalidRequest"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Please use AWS4-HMAC-SHA256" in err["Error"]["Message"]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="v2")


def test_sigv2_presigned_url_was_accepted(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"secret")
    url = sigv2_client(server).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc"},
                                                      ExpiresIn=600)
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 400, r.text
    assert error_code(r.content) == "InvalidRequest"
    assert b"secret" not in r.content


def test_presign_expiry_was_not_capped(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"data")
    for expires in (WEEK + 1, 999_999_999):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc"}, ExpiresIn=expires)
        r = requests.get(url, timeout=30)
        assert r.status_code == 400, (expires, r.text)
        assert error_code(r.content) == "AuthorizationQueryParametersError"
        assert b"604800" in r.content
        put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "doc"}, ExpiresIn=expires)
        assert requests.put(put, data=b"overwritten", timeout=30).status_code == 400
    week = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc"}, ExpiresIn=WEEK)
    r = requests.get(week, timeout=30)
    assert (r.status_code, r.content) == (200, b"data")


def admin(server):
    """(admin API base URL, token) from the start-up lines and the token file."""
    url = token_file = None
    for line in server.startup_lines:
        if line.startswith("coffer: admin API listening on "):
            url = line.rsplit(" ", 1)[1].rstrip("/")
        if line.startswith("coffer: admin token file "):
            token_file = line[len("coffer: admin token file "):].strip()
    assert url and token_file, server.startup_lines
    with open(token_file) as f:
        return url, f.read().strip()


def test_admin_share_refuses_urls_over_a_week(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"data")
    url, token = admin(server)
    ask = {"bucket": bucket, "key": "doc", "access_key_id": ACCESS_KEY}
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.post(f"{url}/v1/share", json={**ask, "expires_in_seconds": WEEK + 1}, headers=auth, timeout=30)
    assert r.status_code == 400, r.text
    r = requests.post(f"{url}/v1/share", json={**ask, "expires_in_seconds": WEEK}, headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    assert requests.get(r.json()["url"], timeout=30).content == b"data"


# --- request errors ------------------------------------------------------------------

def test_oversize_xml_body_was_a_500(server, bucket):
    """Only the headers are sent: the answer must come from the declared length,
    without the server reading (or the client sending) 20 MiB."""
    path = object_path(bucket)
    size = (20 << 20) + 1
    host = f"127.0.0.1:{server.port}"
    h = sigv4.sign("POST", host, path, [("delete", "")], {"content-length": str(size)}, sigv4.UNSIGNED)
    head = f"POST {path}?delete= HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode())
        sock.sendall(b"<Delete>" + b" " * 4096)
        answer = b""
        while b"</Error>" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 400 " in status_line, answer[:500]
    assert error_code(answer) == "MaxMessageLengthExceeded"


def raw_list(server, bucket, params):
    return rawhttp.request(server, "GET", object_path(bucket), params=params)


def test_unknown_encoding_type_was_accepted(server, bucket):
    status, _, body = raw_list(server, bucket, [("list-type", "2"), ("encoding-type", "bogus")])
    assert status == 400, body
    assert error_code(body) == "InvalidArgument"
    status, _, body = raw_list(server, bucket, [("encoding-type", "bogus")])
    assert (status, error_code(body)) == (400, "InvalidArgument")


def test_list_type_3_was_answered_as_v1(server, bucket):
    status, _, body = raw_list(server, bucket, [("list-type", "3")])
    assert status == 400, body
    assert error_code(body) == "InvalidArgument"


def test_repeated_delete_subresource_was_accepted(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    xml = b"<Delete><Object><Key>keep</Key></Object></Delete>"
    md5 = base64.b64encode(hashlib.md5(xml).digest()).decode()
    status, _, body = rawhttp.request(server, "POST", object_path(bucket), params=[("delete", ""), ("delete", "")],
                                      headers={"content-md5": md5}, body=xml)
    assert status == 400, body
    assert error_code(body) == "InvalidRequest"
    assert s3.head_object(Bucket=bucket, Key="keep")["ContentLength"] == 1


@pytest.mark.parametrize("key", ["nul\x00key", "bell\x07key"])
def test_control_character_key_made_listing_xml_invalid(server, bucket, key):
    status, _, body = rawhttp.request(server, "PUT", object_path(bucket, key), body=b"x")
    assert status == 200, body
    for params in ([("list-type", "2")], [], [("versions", "")]):
        status, _, body = raw_list(server, bucket, params)
        ET.fromstring(body)  # well-formed XML whatever the answer
        assert status == 400, body
        assert error_code(body) == "InvalidArgument"
        assert b"encoding-type=url" in body
    status, _, body = raw_list(server, bucket, [("list-type", "2"), ("encoding-type", "url")])
    assert status == 200, body
    keys = [e.text for e in ET.fromstring(body).iter() if e.tag.endswith("Key")]
    assert keys == [quote(key, safe="")], keys


def test_control_character_prefix_is_not_echoed_raw(server, bucket):
    status, _, body = raw_list(server, bucket, [("list-type", "2"), ("prefix", "a\x01")])
    ET.fromstring(body)
    assert status == 400, body


def test_control_character_key_refused_for_multipart(server, bucket):
    status, _, body = rawhttp.request(server, "POST", object_path(bucket, "nul\x00mp"), params=[("uploads", "")])
    ET.fromstring(body)
    assert (status, error_code(body)) == (400, "InvalidArgument")


# --- Range ---------------------------------------------------------------------------

DATA = bytes(range(256)) * 4


@pytest.fixture
def ranged(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=DATA)
    return bucket


@pytest.mark.parametrize("value", ["bytes=0-1,5-6", "bytes=abc", "items=0-9", "bytes=9-2", "bytes="])
def test_unusable_range_header_was_a_400(server, s3, ranged, value):
    got = s3.get_object(Bucket=ranged, Key="r", Range=value)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == DATA
    head = s3.head_object(Bucket=ranged, Key="r", Range=value)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ContentLength"] == len(DATA)


def test_unusable_range_on_presigned_get_serves_everything(server, s3, ranged):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": ranged, "Key": "r"}, ExpiresIn=600)
    r = requests.get(url, headers={"Range": "bytes=0-1,4-5"}, timeout=30)
    assert (r.status_code, r.content) == (200, DATA)


def test_range_past_the_end_is_still_416(server, s3, ranged):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=ranged, Key="r", Range=f"bytes={len(DATA)}-")
    assert e.value.response["Error"]["Code"] == "InvalidRange"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    got = s3.get_object(Bucket=ranged, Key="r", Range="bytes=2-5")
    assert got["Body"].read() == DATA[2:6]


def test_unusable_range_replay_keeps_the_grants(server, s3, ranged):
    """The replay without the Range header is checked again: a wrong signature
    is still refused, and so is an unsigned request."""
    status, _, _ = rawhttp.request(server, "GET", object_path(ranged, "r"), headers={"range": "bytes=0-1,4-5"},
                                   secret="not-the-secret")
    assert status == 403
    r = requests.get(f"{server.endpoint}/{ranged}/r", headers={"Range": "bytes=0-1,4-5"}, timeout=30)
    assert r.status_code == 403


# --- the server's own files and output -------------------------------------------------

def modes_under(root):
    wide = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                continue
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) != want:
                wide.append((name, oct(stat.S_IMODE(st.st_mode))))
    return wide


@pytest.fixture
def own_server(tmp_path):
    servers = []

    def start(**kw):
        s = Cofferd(tmp_path / f"srv{len(servers)}", **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.kill()


def test_data_dir_was_world_readable(own_server):
    srv = own_server()
    c = srv.client()
    c.create_bucket(Bucket="modes")
    c.put_object(Bucket="modes", Key="k", Body=b"x" * 1000, Metadata={"m": "v"})
    assert modes_under(srv.data_dir) == []


def test_wide_modes_left_by_an_older_version_are_fixed_at_start(own_server):
    srv = own_server()
    srv.client().create_bucket(Bucket="modes")
    srv.kill()
    meta = srv.data_dir / "meta.redb"
    os.chmod(meta, 0o644)
    os.chmod(srv.data_dir, 0o755)
    stray = srv.data_dir / "operator-notes.txt"
    stray.write_text("copied in with a wide umask")
    os.chmod(stray, 0o664)
    srv.restart()
    assert modes_under(srv.data_dir) == []
    log = srv.log_tail(100_000)
    assert "file modes tightened" in log, log[-2000:]
    assert srv.client().head_bucket(Bucket="modes")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_supplied_root_secret_was_printed(own_server):
    srv = own_server()
    out = "\n".join(srv.startup_lines)
    assert SECRET_KEY not in out, out
    assert "coffer: root secret access key: as configured (not printed)" in out
    assert SECRET_KEY not in srv.log_tail(1_000_000)


def test_generated_root_secret_is_printed_once(own_server):
    srv = own_server(extra_env={"COFFER_ROOT_ACCESS_KEY": "", "COFFER_ROOT_SECRET_KEY": ""})
    prefix = "coffer: root secret access key: "
    lines = [l for l in srv.startup_lines if l.startswith(prefix)]
    assert len(lines) == 1, srv.startup_lines
    secret = lines[0][len(prefix):]
    ids = [l.rsplit(" ", 1)[1] for l in srv.startup_lines if l.startswith("coffer: root access key id: ")]
    assert any("printed only this once" in l for l in srv.startup_lines)
    # The printed pair works.
    c = srv.client(access_key=ids[0], secret_key=secret)
    assert c.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    srv.restart()
    assert not any(secret in l for l in srv.startup_lines)
