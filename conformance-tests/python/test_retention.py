"""Server-side GFS retention against the real cofferd and the `coffer` CLI.

- restic itself is the reference: a series of backups is made at irregular
  times over more than two years (cofferd's clock is started at each burst's
  date with COFFER_CLOCK_START, and runs an hour per real second within it);
  restic snapshots are made at the very same times (`restic backup --time`,
  into a local repository), and for several policies
  `restic forget --dry-run --json` and `coffer retention plan` must keep the
  same backups for the same reasons. The stored rule's worker then leaves
  exactly restic's kept set.
- per key, with the clock at two days per second: a nightly dump's versions
  pruned to the policy, versions under object lock kept and reported, keys
  outside the prefix untouched, a series in a versioned bucket removed with
  delete markers, bad rules refused changing nothing, rules kept over a
  restart.
"""

import datetime as dt
import json
import random
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from coffer_harness import CLIENT_PATH, Cofferd
from s3util import wait_until

UTC = dt.timezone.utc
BURST_SPEEDUP = 3600  # within a burst, an engine hour per real second
NIGHTS_SPEEDUP = 172800  # two engine days per real second

# The policies compared with restic: the GFS row, the counted
# options together, keep-within with months, and every within-period option.
POLICIES = [
    ["--keep-last", "35", "--keep-daily", "7", "--keep-weekly", "8", "--keep-monthly", "12", "--keep-yearly", "2"],
    ["--keep-last", "3", "--keep-hourly", "5", "--keep-daily", "7", "--keep-weekly", "5", "--keep-monthly", "6",
     "--keep-yearly", "3"],
    ["--keep-within", "45d", "--keep-monthly", "12"],
    ["--keep-within-hourly", "3d", "--keep-within-daily", "20d", "--keep-within-weekly", "3m",
     "--keep-within-monthly", "1y", "--keep-within-yearly", "3y"],
    ["--keep-within", "1y2m3d4h", "--keep-last", "2"],
]


def seconds(t):
    return t.replace(microsecond=0)


def bursts():
    """When each burst of backups starts: irregular gaps from hours to months."""
    rng = random.Random(20261202)
    t = dt.datetime(2023, 1, 2, 9, 17, tzinfo=UTC)
    out = []
    while t < dt.datetime(2025, 6, 1, tzinfo=UTC):
        out.append(t)
        gap = rng.choice([dt.timedelta(hours=5), dt.timedelta(days=1), dt.timedelta(days=1), dt.timedelta(days=2),
                          dt.timedelta(days=6), dt.timedelta(days=13), dt.timedelta(days=33),
                          dt.timedelta(days=71), dt.timedelta(days=100)])
        t += gap + dt.timedelta(minutes=rng.randrange(0, 600))
    return out


def restic_env(tmp_path):
    # A local repository: every restic command spends half a second deriving
    # its key, and the policy, not the storage, is what is compared here.
    return {"PATH": CLIENT_PATH, "HOME": str(tmp_path), "TZ": "UTC", "RESTIC_PASSWORD": "retention-test",
            "RESTIC_REPOSITORY": str(tmp_path / "restic-repo")}


def restic(env, *args):
    out = subprocess.run(["restic", *args], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"restic {' '.join(args)}: {out.stderr}"
    return out.stdout


def parse_time(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def plan_by_time(plan):
    """{Last-Modified: reasons} of what a coffer plan keeps, and the set it removes."""
    kept = {parse_time(e["last_modified"]): e["reasons"] for e in plan["entries"] if e["keep"]}
    removed = {parse_time(e["last_modified"]) for e in plan["entries"] if not e["keep"]}
    return kept, removed


def test_series_retention_keeps_what_restic_forget_keeps(tmp_path_factory, tmp_path):
    root = tmp_path_factory.mktemp("cofferd-gfs")
    renv = restic_env(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "file").write_text("the same data every time\n")
    restic(renv, "init")
    rng = random.Random(7)
    server = None
    times = []
    # restic snapshots are made while cofferd sleeps between backups.
    pool = ThreadPoolExecutor(2)
    snapshots = []
    try:
        for start in bursts():
            env = {"COFFER_CLOCK_START": start.isoformat().replace("+00:00", "Z"),
                   "COFFER_CLOCK_SPEEDUP": str(BURST_SPEEDUP)}
            if server is None:
                server = Cofferd(root, extra_env=env)
                s3 = server.client()
                s3.create_bucket(Bucket="gfs")
                s3.put_object(Bucket="gfs", Key="other/not-a-backup", Body=b"x")
            else:
                server.extra_env.update(env)
                server.restart()
                s3 = server.client()
            for _ in range(rng.choice([1, 1, 2, 3, 4])):
                key = f"backups/full-{len(times):04d}.tar"
                s3.put_object(Bucket="gfs", Key=key, Body=key.encode())
                t = seconds(s3.head_object(Bucket="gfs", Key=key)["LastModified"].astimezone(UTC))
                times.append(t)
                snapshots.append(pool.submit(restic, renv, "backup", "--quiet", "--host", "db1", "--time",
                                             t.strftime("%Y-%m-%d %H:%M:%S"), str(data)))
                time.sleep(rng.uniform(0.02, 0.3))
        for f in snapshots:
            f.result()
        listed = s3.list_objects_v2(Bucket="gfs", Prefix="backups/")
        assert not listed["IsTruncated"]
        assert sorted(seconds(o["LastModified"].astimezone(UTC)) for o in listed["Contents"]) == sorted(times)
        assert len(times) > 50
        assert len(set(times)) == len(times), "two backups in one second: the comparison would depend on order"

        for policy in POLICIES:
            got = json.loads(restic(renv, "forget", "--dry-run", "--json", "--host", "db1", *policy))
            assert len(got) == 1, got
            restic_kept = {parse_time(r["snapshot"]["time"]): r["matches"] for r in got[0]["reasons"]}
            restic_removed = {parse_time(s["time"]) for s in got[0]["remove"] or []}
            assert set(restic_kept) | restic_removed == set(times)

            _, plan, _ = server.coffer("retention", "plan", "gfs/backups/", "--series", *policy,
                                       "--limit", "100000")
            kept, removed = plan_by_time(plan)
            assert (plan["kept"], plan["removed"], plan["locked"]) == (len(kept), len(removed), 0), plan
            assert kept == restic_kept, f"policy {policy}"
            assert removed == restic_removed, f"policy {policy}"
            assert removed, f"policy {policy} removes nothing: the comparison says little"

        # A dry run stores nothing; the stored rule's worker leaves restic's kept set.
        _, rules, _ = server.coffer("retention", "show", "gfs")
        assert rules["rules"] == []
        policy = POLICIES[1]
        server.coffer("retention", "set", "gfs/backups/", "--series", *policy)
        got = json.loads(restic(renv, "forget", "--dry-run", "--json", "--host", "db1", *policy))
        expected = {parse_time(r["snapshot"]["time"]) for r in got[0]["reasons"]}

        def remaining():
            page = s3.list_objects_v2(Bucket="gfs", Prefix="backups/")
            return {seconds(o["LastModified"].astimezone(UTC)) for o in page.get("Contents", [])}

        wait_until(lambda: remaining() == expected, "the worker to leave restic's kept set", timeout=60)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="gfs", Prefix="other/")["Contents"]] == \
            ["other/not-a-backup"]
        _, plan, _ = server.coffer("retention", "plan", "gfs/backups/")
        assert (plan["kept"], plan["removed"]) == (len(expected), 0), plan
    finally:
        pool.shutdown(cancel_futures=True)
        if server is not None:
            server.kill()


# --- per key, object lock, versioned series, bad input, restart ------------------------------

@pytest.fixture(scope="module")
def nights_server(tmp_path_factory):
    s = Cofferd(tmp_path_factory.mktemp("cofferd-retention"), extra_env={"COFFER_CLOCK_SPEEDUP": str(NIGHTS_SPEEDUP)})
    yield s
    s.kill()


def versions_of(s3, bucket, prefix):
    got = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return got.get("Versions", []), got.get("DeleteMarkers", [])


def test_per_key_retention_prunes_versions_and_keeps_locked_ones(nights_server):
    s3 = nights_server.client()
    b = "dumps-locked"
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    for i in range(16):
        s3.put_object(Bucket=b, Key="db/prod.sql.gz", Body=f"dump {i}".encode())
        time.sleep(0.125)  # about six engine hours
    for i in range(3):
        s3.put_object(Bucket=b, Key="web/index.html", Body=f"page {i}".encode())
    versions, _ = versions_of(s3, b, "db/")
    assert len(versions) == 16
    oldest_first = sorted(versions, key=lambda v: v["LastModified"])
    held, retained = oldest_first[0]["VersionId"], oldest_first[1]["VersionId"]
    s3.put_object_legal_hold(Bucket=b, Key="db/prod.sql.gz", VersionId=held, LegalHold={"Status": "ON"})
    far = dt.datetime.now(UTC) + dt.timedelta(days=3650 * 20)
    s3.put_object_retention(Bucket=b, Key="db/prod.sql.gz", VersionId=retained,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": far})

    # What keep-last 1 and keep-daily 2 keep: the newest, and the newest of
    # each of the two most recent UTC days.
    newest_first = sorted(versions, key=lambda v: v["LastModified"], reverse=True)
    expected, days = {newest_first[0]["VersionId"]}, []
    for v in newest_first:
        day = v["LastModified"].astimezone(UTC).date()
        if day not in days and len(days) < 2:
            days.append(day)
            expected.add(v["VersionId"])
    assert len(expected) in (2, 3)

    _, plan, _ = nights_server.coffer("retention", "plan", f"{b}/db/", "--per-key", "--keep-last", "1",
                                      "--keep-daily", "2")
    by_id = {e["version_id"]: e for e in plan["entries"]}
    assert set(by_id) == {v["VersionId"] for v in versions}, "web/ is not under the rule"
    assert {i for i, e in by_id.items() if e["reasons"]} == expected
    assert {i for i, e in by_id.items() if e["locked"]} == {held, retained}
    assert all(by_id[i]["keep"] for i in expected | {held, retained})
    assert by_id[newest_first[0]["VersionId"]]["reasons"][0] == "last snapshot"
    assert (plan["kept"], plan["locked"], plan["removed"]) == (len(expected), 2, 16 - len(expected) - 2)

    nights_server.coffer("retention", "set", f"{b}/db/", "--per-key", "--keep-last", "1", "--keep-daily", "2")
    wait_until(lambda: {v["VersionId"] for v in versions_of(s3, b, "db/")[0]} == expected | {held, retained},
             "the worker to prune db/prod.sql.gz")
    assert len(versions_of(s3, b, "web/")[0]) == 3
    # The current version is still the newest dump.
    assert s3.get_object(Bucket=b, Key="db/prod.sql.gz")["Body"].read() == b"dump 15"

    def lock_reported():
        workers = nights_server.admin("GET", "/v1/workers")
        w = next(w for w in workers if w["name"] == "retention")
        return "; 2 kept by object lock in the last pass" in (w.get("progress") or "")

    wait_until(lock_reported, "the retention worker to report the two locked versions")


def test_a_series_in_a_versioned_bucket_goes_as_delete_object_does(nights_server):
    s3 = nights_server.client()
    b = "nightly-versioned"
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    for i in range(5):
        s3.put_object(Bucket=b, Key=f"nightly/{i}.tar", Body=b"t")
        time.sleep(0.05)
    nights_server.coffer("retention", "set", f"{b}/nightly/", "--series", "--keep-last", "2")
    wait_until(lambda: len(s3.list_objects_v2(Bucket=b).get("Contents", [])) == 2, "the series pruned")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == ["nightly/3.tar", "nightly/4.tar"]
    versions, markers = versions_of(s3, b, "nightly/")
    assert len(versions) == 5, "the old backups stay as noncurrent versions (lifecycle reclaims them)"
    assert sorted(m["Key"] for m in markers) == [f"nightly/{i}.tar" for i in range(3)]


def test_bad_rules_are_refused_and_change_nothing(nights_server):
    s3 = nights_server.client()
    b = "retention-bad"
    s3.create_bucket(Bucket=b)
    nights_server.coffer("retention", "set", f"{b}/db/", "--per-key", "--keep-daily", "7")
    _, before, _ = nights_server.coffer("retention", "show", b)
    for args in (["--per-key"],  # keeps nothing
                 ["--per-key", "--keep-within", "7w"],  # not a restic span
                 ["--per-key", "--keep-within", "d"]):
        code, _, err = nights_server.coffer("retention", "set", f"{b}/db/", *args, ok=False)
        assert code != 0 and err.strip(), args
    code, _, err = nights_server.coffer("retention", "set", "no-such-bucket/db/", "--series", "--keep-last", "1",
                                        ok=False)
    assert code == 1 and "no-such-bucket" in err
    code, _, err = nights_server.coffer("retention", "remove", f"{b}/web/", ok=False)
    assert code == 1 and "web/" in err
    _, after, _ = nights_server.coffer("retention", "show", b)
    assert after == before
    assert after["rules"] == [{"prefix": "db/", "grouping": "per-key", "keep_last": 0, "keep_hourly": 0,
                               "keep_daily": 7, "keep_weekly": 0, "keep_monthly": 0, "keep_yearly": 0}]


def test_rules_survive_a_restart(nights_server):
    s3 = nights_server.client()
    b = "retention-restart"
    s3.create_bucket(Bucket=b)
    nights_server.coffer("retention", "set", f"{b}/", "--series", "--keep-weekly", "4", "--keep-within", "1y2m")
    _, before, _ = nights_server.coffer("retention", "show", b)
    nights_server.restart()
    _, after, _ = nights_server.coffer("retention", "show", b)
    assert after == before
    assert after["rules"][0]["keep_within"] == "1y2m"
    nights_server.coffer("retention", "remove", f"{b}/")
    _, gone, _ = nights_server.coffer("retention", "show", b)
    assert gone["rules"] == []
