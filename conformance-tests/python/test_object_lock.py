"""Object lock through boto3 against the real cofferd (its clock two days per
real second, so retention runs out within a test): GOVERNANCE and COMPLIANCE
retention, the bypass and its own permission, legal holds, default retention,
versioning that cannot be suspended, lifecycle that never removes a locked
version, and every lock surviving a restart."""

import datetime as dt
import time

import pytest
from botocore.exceptions import ClientError

from coffer_harness import Cofferd
from s3util import expect_error, status_of

SPEEDUP = 172800  # two engine days per real second
DAY = 86400 / SPEEDUP


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Cofferd(tmp_path_factory.mktemp("cofferd-object-lock"), extra_env={"COFFER_CLOCK_SPEEDUP": str(SPEEDUP)})
    yield s
    s.kill()


_n = iter(range(1, 10_000))


@pytest.fixture
def locked(s3):
    name = f"locked-{next(_n)}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def now(s3, bucket):
    s3.put_object(Bucket=bucket, Key="_clock", Body=b"")
    return s3.head_object(Bucket=bucket, Key="_clock")["LastModified"]


def years(n):
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3650 * n)


def key_with(server, bucket, **perms):
    """A new key with a grant on `bucket`; a boto3 client signing with it."""
    k = server.admin("POST", "/v1/keys", {"name": f"k{next(_n)}"})
    server.admin("POST", f"/v1/keys/{k['access_key_id']}/grants", {"bucket": bucket, **perms})
    return server.client(access_key=k["access_key_id"], secret_key=k["secret_access_key"])


def test_a_bucket_with_object_lock_is_versioned_for_good(s3, locked):
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    got = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert got == {"ObjectLockEnabled": "Enabled"}
    err = expect_error("InvalidBucketState", s3.put_bucket_versioning, Bucket=locked,
                       VersioningConfiguration={"Status": "Suspended"})
    assert status_of(err) == 409
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"


def test_governance_needs_the_bypass_and_its_permission(server, s3, locked):
    v = s3.put_object(Bucket=locked, Key="db/dump.gz", Body=b"dump", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=years(1))["VersionId"]
    head = s3.head_object(Bucket=locked, Key="db/dump.gz")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3000)
    err = expect_error("AccessDenied", s3.delete_object, Bucket=locked, Key="db/dump.gz", VersionId=v)
    assert status_of(err) == 403
    writer = key_with(server, locked, read=True, write=True, delete=True)
    expect_error("AccessDenied", writer.delete_object, Bucket=locked, Key="db/dump.gz", VersionId=v,
                 BypassGovernanceRetention=True)
    # Shortening needs the bypass too.
    expect_error("AccessDenied", writer.put_object_retention, Bucket=locked, Key="db/dump.gz", VersionId=v,
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": years(0.5)}, BypassGovernanceRetention=True)
    got = writer.delete_objects(Bucket=locked, BypassGovernanceRetention=True,
                                Delete={"Objects": [{"Key": "db/dump.gz", "VersionId": v}]})
    assert [e["Code"] for e in got.get("Errors", [])] == ["AccessDenied"]
    # Without a version id, a delete marker goes on top, as in AWS.
    marker = writer.delete_object(Bucket=locked, Key="db/dump.gz")
    assert marker["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked, Key="db/dump.gz", VersionId=v)["Body"].read() == b"dump"
    # A key holding bypass-governance may, when it asks.
    bypasser = key_with(server, locked, read=True, write=True, delete=True, bypass_governance=True)
    expect_error("AccessDenied", bypasser.delete_object, Bucket=locked, Key="db/dump.gz", VersionId=v)
    bypasser.delete_object(Bucket=locked, Key="db/dump.gz", VersionId=v, BypassGovernanceRetention=True)
    expect_error("NoSuchVersion", s3.get_object, Bucket=locked, Key="db/dump.gz", VersionId=v)
    # The root key (an admin key) holds every permission.
    v2 = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=years(1))["VersionId"]
    s3.delete_object(Bucket=locked, Key="k", VersionId=v2, BypassGovernanceRetention=True)


def test_compliance_cannot_be_shortened_or_removed_by_anyone(s3, locked):
    until = years(1)
    v = s3.put_object(Bucket=locked, Key="ledger", Body=b"audit", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    for bypass in (False, True):
        expect_error("AccessDenied", s3.delete_object, Bucket=locked, Key="ledger", VersionId=v,
                     BypassGovernanceRetention=bypass)
    expect_error("AccessDenied", s3.put_object_retention, Bucket=locked, Key="ledger", VersionId=v,
                 Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - dt.timedelta(days=1)},
                 BypassGovernanceRetention=True)
    expect_error("AccessDenied", s3.put_object_retention, Bucket=locked, Key="ledger", VersionId=v,
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until}, BypassGovernanceRetention=True)
    later = years(2)
    s3.put_object_retention(Bucket=locked, Key="ledger", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    got = s3.get_object_retention(Bucket=locked, Key="ledger", VersionId=v)["Retention"]
    assert got["Mode"] == "COMPLIANCE"
    assert abs((got["RetainUntilDate"] - later).total_seconds()) < 1
    got = s3.delete_objects(Bucket=locked, BypassGovernanceRetention=True,
                            Delete={"Objects": [{"Key": "ledger", "VersionId": v}]})
    assert [e["Code"] for e in got.get("Errors", [])] == ["AccessDenied"]
    assert s3.get_object(Bucket=locked, Key="ledger", VersionId=v)["Body"].read() == b"audit"


def test_a_legal_hold_blocks_deletion_until_removed(server, s3, locked):
    v = s3.put_object(Bucket=locked, Key="case", Body=b"evidence", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.head_object(Bucket=locked, Key="case")["ObjectLockLegalHoldStatus"] == "ON"
    expect_error("AccessDenied", s3.delete_object, Bucket=locked, Key="case", VersionId=v,
                 BypassGovernanceRetention=True)
    writer = key_with(server, locked, read=True, write=True, delete=True)
    expect_error("AccessDenied", writer.put_object_legal_hold, Bucket=locked, Key="case", VersionId=v,
                 LegalHold={"Status": "OFF"})
    s3.put_object_legal_hold(Bucket=locked, Key="case", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="case", VersionId=v)["LegalHold"]["Status"] == "OFF"
    writer.delete_object(Bucket=locked, Key="case", VersionId=v)
    expect_error("NoSuchVersion", s3.get_object, Bucket=locked, Key="case", VersionId=v)


def test_retention_runs_out_on_the_engine_clock(s3, locked):
    until = now(s3, locked) + dt.timedelta(days=2)
    v = s3.put_object(Bucket=locked, Key="short", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    expect_error("AccessDenied", s3.delete_object, Bucket=locked, Key="short", VersionId=v)
    time.sleep(3 * DAY)
    s3.delete_object(Bucket=locked, Key="short", VersionId=v)


def test_default_retention_applies_to_new_versions(s3, locked):
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 7}}})
    got = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert got["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Years": 7}
    v = s3.put_object(Bucket=locked, Key="wal/0001", Body=b"wal")["VersionId"]
    head = s3.head_object(Bucket=locked, Key="wal/0001")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    years_left = (head["ObjectLockRetainUntilDate"] - head["LastModified"]).days / 365.25
    assert 6.9 < years_left < 7.1
    expect_error("AccessDenied", s3.delete_object, Bucket=locked, Key="wal/0001", VersionId=v)
    # A multipart upload and a copy get it too; explicit headers win.
    up = s3.create_multipart_upload(Bucket=locked, Key="base.tar")["UploadId"]
    etag = s3.upload_part(Bucket=locked, Key="base.tar", UploadId=up, PartNumber=1, Body=b"t" * 100)["ETag"]
    s3.complete_multipart_upload(Bucket=locked, Key="base.tar", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.head_object(Bucket=locked, Key="base.tar")["ObjectLockMode"] == "COMPLIANCE"
    s3.copy_object(Bucket=locked, Key="copy", CopySource={"Bucket": locked, "Key": "wal/0001"},
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=years(1))
    assert s3.head_object(Bucket=locked, Key="copy")["ObjectLockMode"] == "GOVERNANCE"
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}})
    s3.put_object(Bucket=locked, Key="later", Body=b"x")
    assert s3.head_object(Bucket=locked, Key="later")["ObjectLockMode"] == "GOVERNANCE"


def test_a_copy_does_not_take_the_source_lock(s3, locked, bucket):
    s3.put_object(Bucket=locked, Key="src", Body=b"x", ObjectLockLegalHoldStatus="ON",
                  ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=years(1))
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": locked, "Key": "src"})
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert "ObjectLockMode" not in head and "ObjectLockLegalHoldStatus" not in head
    s3.delete_object(Bucket=bucket, Key="dst")


def test_lifecycle_never_removes_a_locked_version(s3, locked):
    until = now(s3, locked) + dt.timedelta(days=8)
    v = s3.put_object(Bucket=locked, Key="db/dump.gz", Body=b"old", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    held = s3.put_object(Bucket=locked, Key="db/held.gz", Body=b"held", ObjectLockLegalHoldStatus="ON")["VersionId"]
    free = s3.put_object(Bucket=locked, Key="db/free.gz", Body=b"free")["VersionId"]
    for key in ("db/dump.gz", "db/held.gz", "db/free.gz"):
        s3.put_object(Bucket=locked, Key=key, Body=b"new")
    s3.put_bucket_lifecycle_configuration(Bucket=locked, LifecycleConfiguration={"Rules": [
        {"ID": "noncurrent", "Filter": {"Prefix": "db/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})

    def exists(key, version):
        try:
            s3.head_object(Bucket=locked, Key=key, VersionId=version)
            return True
        except ClientError:
            return False

    deadline = time.monotonic() + 30
    while exists("db/free.gz", free) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not exists("db/free.gz", free), "the unlocked noncurrent version expires"
    assert exists("db/dump.gz", v) and exists("db/held.gz", held), "locked versions stay"
    # Once the retention has run out, the rule removes it; the hold stays until taken off.
    deadline = time.monotonic() + 30
    while exists("db/dump.gz", v) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not exists("db/dump.gz", v)
    assert exists("db/held.gz", held)


def test_every_lock_survives_a_restart(server, s3, locked):
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}}})
    v = s3.put_object(Bucket=locked, Key="a", Body=b"a", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=years(1), ObjectLockLegalHoldStatus="ON")["VersionId"]
    server.restart()
    s3 = server.client()
    head = s3.head_object(Bucket=locked, Key="a", VersionId=v)
    assert (head["ObjectLockMode"], head["ObjectLockLegalHoldStatus"]) == ("COMPLIANCE", "ON")
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]["Rule"] == {
        "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}}
    expect_error("AccessDenied", s3.delete_object, Bucket=locked, Key="a", VersionId=v,
                 BypassGovernanceRetention=True)
    expect_error("InvalidBucketState", s3.put_bucket_versioning, Bucket=locked,
                 VersioningConfiguration={"Status": "Suspended"})


def test_enabling_object_lock_on_an_existing_bucket(s3, bucket):
    expect_error("InvalidBucketState", s3.put_object_lock_configuration, Bucket=bucket,
                 ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    expect_error("ObjectLockConfigurationNotFoundError", s3.get_object_lock_configuration, Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.head_object(Bucket=bucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"


def test_bad_lock_requests_change_nothing(s3, locked, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    expect_error("InvalidRequest", s3.get_object_retention, Bucket=bucket, Key="plain")
    expect_error("InvalidRequest", s3.put_object_legal_hold, Bucket=bucket, Key="plain",
                 LegalHold={"Status": "ON"})
    expect_error("InvalidRequest", s3.put_object, Bucket=bucket, Key="x", Body=b"x",
                 ObjectLockLegalHoldStatus="ON")
    expect_error("InvalidArgument", s3.put_object, Bucket=locked, Key="x", Body=b"x",
                 ObjectLockMode="GOVERNANCE")
    expect_error("InvalidArgument", s3.put_object, Bucket=locked, Key="x", Body=b"x",
                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=dt.datetime(2001, 1, 1))
    expect_error("NoSuchKey", s3.get_object, Bucket=locked, Key="x")
    s3.put_object(Bucket=locked, Key="unlocked", Body=b"x")
    expect_error("NoSuchObjectLockConfiguration", s3.get_object_retention, Bucket=locked, Key="unlocked")
    expect_error("NoSuchObjectLockConfiguration", s3.get_object_legal_hold, Bucket=locked, Key="unlocked")
    expect_error("InvalidArgument", s3.put_object_retention, Bucket=locked, Key="unlocked",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": dt.datetime(2001, 1, 1)})
    expect_error("ObjectLockConfigurationNotFoundError", s3.get_object_lock_configuration, Bucket=bucket)
