"""Lifecycle rules against the real cofferd, with its clock running two days
per second (COFFER_CLOCK_SPEEDUP): the user's runbook rule through the aws
cli, expiration by days, date, tag and size, lone delete markers, stale
multipart uploads, x-amz-expiration, and AWS's refusals, each changing
nothing."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
from email.utils import parsedate_to_datetime

import pytest

import rawhttp
from coffer_harness import ACCESS_KEY, CLIENT_PATH, REGION, SECRET_KEY, Cofferd
from s3util import expect_error, status_of, wait_until

SPEEDUP = 172800  # two engine days per real second
DAY = 86400 / SPEEDUP  # one engine day, in real seconds

RUNBOOK = {"Rules": [{"ID": "delete old db backups", "Filter": {"Prefix": "db/"}, "Status": "Enabled",
                      "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 45}}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Cofferd(tmp_path_factory.mktemp("cofferd-lifecycle"), extra_env={"COFFER_CLOCK_SPEEDUP": str(SPEEDUP)})
    yield s
    s.kill()


def _aws_bin():
    return "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")


def aws(server, tmp_path, *args):
    """The aws cli (Debian's v2 when installed) against the server; returns the parsed JSON output."""
    env = {"PATH": CLIENT_PATH, "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "",
           "AWS_CONFIG_FILE": str(tmp_path / "aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-creds")}
    out = subprocess.run([_aws_bin(), "--endpoint-url", server.endpoint, "--output", "json", *args],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"aws {' '.join(args)}: {out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else None


def engine_now(s3, bucket):
    """The server's clock: the LastModified of a fresh object."""
    s3.put_object(Bucket=bucket, Key="_clock", Body=b"")
    t = s3.head_object(Bucket=bucket, Key="_clock")["LastModified"]
    s3.delete_object(Bucket=bucket, Key="_clock")
    return t


def versions_of(s3, bucket, key):
    got = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in got.get("Versions", []) + got.get("DeleteMarkers", []) if v["Key"] == key]


def keys(s3, bucket, prefix=""):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def test_the_runbook_rule_keeps_45_noncurrent_versions_and_the_current_one(server, s3, bucket, tmp_path):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rules = tmp_path / "lifecycle.json"
    rules.write_text(json.dumps(RUNBOOK))
    aws(server, tmp_path, "s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", f"file://{rules}")
    got = aws(server, tmp_path, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert got["Rules"] == RUNBOOK["Rules"]
    for i in range(3):
        s3.put_object(Bucket=bucket, Key="web/index.html", Body=f"page {i}".encode())
    # Sixty nightly dumps overwriting one key, a fifth of an engine day apart.
    for night in range(60):
        s3.put_object(Bucket=bucket, Key="db/infinite-prod.gz", Body=f"dump {night}".encode())
        time.sleep(DAY / 5)
    wait_until(lambda: len(versions_of(s3, bucket, "db/infinite-prod.gz")) == 46, "46 versions of the dump")
    # Three more engine days: the rule keeps the newest 45 noncurrent versions whatever their age.
    time.sleep(3 * DAY)
    left = versions_of(s3, bucket, "db/infinite-prod.gz")
    assert len(left) == 46
    assert sum(v["IsLatest"] for v in left) == 1
    bodies = sorted(int(s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read().split()[1])
                    for v in left)
    assert bodies == list(range(14, 60)), "the oldest fourteen went, the newest 46 stayed"
    assert len(versions_of(s3, bucket, "web/index.html")) == 3, "keys outside db/ are untouched"


def test_expiration_by_days_date_tag_and_size(server, s3, bucket):
    now = engine_now(s3, bucket)
    date = (now + dt.timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    config = {"Rules": [
        {"ID": "days", "Filter": {"Prefix": "days/"}, "Status": "Enabled", "Expiration": {"Days": 2}},
        {"ID": "date", "Filter": {"Prefix": "date/"}, "Status": "Enabled", "Expiration": {"Date": date}},
        {"ID": "tagged", "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "big", "Filter": {"And": {"Prefix": "size/", "ObjectSizeGreaterThan": 1000}}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "off", "Filter": {"Prefix": "off/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
    ]}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=config)
    put = s3.put_object(Bucket=bucket, Key="days/a", Body=b"a")
    head = s3.head_object(Bucket=bucket, Key="days/a")
    created = head["LastModified"]
    due = (created + dt.timedelta(days=3)).replace(hour=0, minute=0, second=0)
    expected = f'expiry-date="{due.strftime("%a, %d %b %Y %H:%M:%S GMT")}", rule-id="days"'
    assert put["Expiration"] == expected
    assert head["Expiration"] == expected
    assert s3.get_object(Bucket=bucket, Key="days/a")["Expiration"] == expected
    s3.put_object(Bucket=bucket, Key="date/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="t/tagged", Body=b"a", Tagging="tmp=yes")
    s3.put_object(Bucket=bucket, Key="t/plain", Body=b"a", Tagging="tmp=no")
    s3.put_object(Bucket=bucket, Key="size/big", Body=b"x" * 2000)
    s3.put_object(Bucket=bucket, Key="size/small", Body=b"x" * 10)
    s3.put_object(Bucket=bucket, Key="off/a", Body=b"a")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="size/small")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="off/a"), "a disabled rule shows nothing"
    date_head = s3.head_object(Bucket=bucket, Key="date/a")["Expiration"]
    assert parsedate_to_datetime(re.search(r'expiry-date="([^"]+)"', date_head).group(1)) == date
    wait_until(lambda: keys(s3, bucket, "t/") == ["t/plain"] and keys(s3, bucket, "size/") == ["size/small"],
               "the tagged and the big object to expire")
    wait_until(lambda: keys(s3, bucket) == ["off/a", "size/small", "t/plain"], "days/ and date/ to expire")
    # Nothing else goes, however long the clock runs.
    time.sleep(3 * DAY)
    assert keys(s3, bucket) == ["off/a", "size/small", "t/plain"]


def test_expiration_in_a_versioned_bucket_adds_a_delete_marker(server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"kept as noncurrent")["VersionId"]
    wait_until(lambda: any(m.get("IsLatest") for m in s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])),
               "a delete marker on top")
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v)["Body"].read() == b"kept as noncurrent"
    # A marker over a version is not an expired marker; it stays.
    time.sleep(3 * DAY)
    assert len(versions_of(s3, bucket, "k")) == 2


def test_expired_object_delete_markers_are_removed(server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "markers", "Filter": {"Prefix": "m/"}, "Status": "Enabled",
         "Expiration": {"ExpiredObjectDeleteMarker": True}}]})
    for key in ("m/alone", "m/over-a-version", "other/alone"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        s3.delete_object(Bucket=bucket, Key=key)
    for key in ("m/alone", "other/alone"):
        version = [v for v in versions_of(s3, bucket, key) if "Size" in v][0]
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    wait_until(lambda: versions_of(s3, bucket, "m/alone") == [], "the lone marker to go")
    time.sleep(2 * DAY)
    assert len(versions_of(s3, bucket, "m/over-a-version")) == 2
    assert len(versions_of(s3, bucket, "other/alone")) == 1, "outside the rule's prefix"


def test_stale_multipart_uploads_are_aborted(server, s3, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "abort", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    stale = s3.create_multipart_upload(Bucket=bucket, Key="up/big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="up/big", UploadId=stale, PartNumber=1, Body=b"p" * 1024)
    kept = s3.create_multipart_upload(Bucket=bucket, Key="keep/big")["UploadId"]
    wait_until(lambda: [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == ["keep/big"],
               "the stale upload to be aborted")
    expect_error("NoSuchUpload", s3.list_parts, Bucket=bucket, Key="up/big", UploadId=stale)
    s3.abort_multipart_upload(Bucket=bucket, Key="keep/big", UploadId=kept)


def test_a_configuration_survives_a_restart_and_delete_removes_it(server, s3, bucket):
    config = {"Rules": [
        {"ID": "a", "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}],
                                       "ObjectSizeLessThan": 100}}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
        {"ID": "b", "Prefix": "legacy/", "Status": "Disabled", "Expiration": {"Days": 365}},
        {"ID": "c", "Filter": {"ObjectSizeGreaterThan": 5}, "Status": "Enabled", "Expiration": {"Days": 10}},
    ]}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=config)
    server.restart()
    s3 = server.client()
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == config["Rules"]
    s3.delete_bucket_lifecycle(Bucket=bucket)
    expect_error("NoSuchLifecycleConfiguration", s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="x", Body=b"123456")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="x")
    expect_error("NoSuchBucket", s3.get_bucket_lifecycle_configuration, Bucket=bucket + "-missing")


def test_a_rule_without_an_id_gets_one(s3, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert len(rule["ID"]) > 0


GOOD = {"Rules": [{"ID": "good", "Filter": {"Prefix": "db/"}, "Status": "Enabled", "Expiration": {"Days": 30}}]}


def _rule(**over):
    r = {"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}
    r.update(over)
    return r


@pytest.mark.parametrize("code, rules", [
    ("InvalidRequest", [_rule(ID=str(i)) for i in range(1001)]),
    ("InvalidArgument", [_rule(Expiration={"Date": dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc)})]),
    ("InvalidArgument", [_rule(Expiration={"Days": 0})]),
    ("InvalidArgument", [_rule(ID="x" * 256)]),
    ("InvalidArgument", [_rule(), _rule()]),
    ("InvalidArgument", [_rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 101})]),
    ("MalformedXML", [_rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})]),
    ("MalformedXML", [_rule(Expiration={"Days": 1, "Date": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)})]),
    ("MalformedXML", [_rule(Prefix="a/")]),
    ("MalformedXML", [_rule(Filter={"Prefix": "a/", "Tag": {"Key": "k", "Value": "v"}})]),
    ("InvalidRequest", [{"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled"}]),
    ("InvalidRequest", [_rule(Filter={"Tag": {"Key": "k", "Value": "v"}}, Expiration=None,
                              AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})]),
    ("InvalidRequest", [_rule(Filter={"And": {"Prefix": "", "Tags": [{"Key": f"k{i}", "Value": "v"}
                                                                       for i in range(11)]}})]),
    ("InvalidRequest", [_rule(Filter={"Tag": {"Key": "k" * 129, "Value": "v"}})]),
    ("NotImplemented", [_rule(Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])]),
], ids=["1001-rules", "date-not-midnight", "zero-days", "long-id", "duplicate-id", "newer-over-100",
        "days-and-marker", "days-and-date", "filter-and-prefix", "two-filters", "no-action",
        "abort-with-tags", "eleven-tags", "long-tag-key", "transition"])
def test_refused_configurations_change_nothing(s3, bucket, code, rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=GOOD)
    rules = [{k: v for k, v in r.items() if v is not None} for r in rules]
    err = expect_error(code, s3.put_bucket_lifecycle_configuration, Bucket=bucket,
                       LifecycleConfiguration={"Rules": rules})
    assert status_of(err) == (501 if code == "NotImplemented" else 400)
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == GOOD["Rules"]


@pytest.mark.parametrize("body", [
    b"<LifecycleConfiguration><Rule><ID>x</ID>",
    b"<LifecycleConfiguration><Rule><ID>x</ID><Filter><Prefix/></Filter><Status>Enabled</Status>"
    b"<Expiration><Days>soon</Days></Expiration></Rule></LifecycleConfiguration>",
    b"<LifecycleConfiguration><Rule><ID>x</ID><Filter><Prefix/></Filter><Status>enabled</Status>"
    b"<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>",
], ids=["truncated", "days-not-a-number", "status-lower-case"])
def test_malformed_xml_is_refused(server, s3, bucket, body):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=GOOD)
    status, _, answer = rawhttp.request(server, "PUT", rawhttp.object_path(bucket), params=[("lifecycle", "")],
                                        body=body)
    assert (status, rawhttp.error_code(answer)) == (400, "MalformedXML"), answer
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == GOOD["Rules"]
