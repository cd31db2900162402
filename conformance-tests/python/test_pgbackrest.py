"""pgBackRest (Debian's 2.45) against cofferd over HTTPS: an S3 repository (repo1-type=s3,
path-style, the server's self-signed certificate as the CA), WAL archiving through
archive_command, full, diff and incremental backups, a point-in-time restore into a new data
dir, and expire. Settings as docs/clients/pgbackrest.md gives them.

One cofferd (HTTPS) and one PostgreSQL cluster for the module; every PostgreSQL and pgbackrest
process runs as the `postgres` OS user (pgcluster.py). A missing tool fails the test.
"""

import json
import shutil

import pytest

from coffer_harness import ACCESS_KEY, REGION, SECRET_KEY, Cofferd, self_signed_cert
from pgcluster import Cluster, PgUser, pg_bindir, require, tear_down
from s3util import keys_under

STANZA = "main"
BUCKET = "pgbackrest"
REPO_PATH = "/pgbackrest"
BLOB_MD5 = "select md5(string_agg(b, ''::bytea order by id)) from blob"


class PgBackRest:
    def __init__(self, user, cluster, conf):
        self.user, self.cluster, self.conf = user, cluster, conf

    def __call__(self, *args, ok=True, timeout=120):
        out = self.user.run("pgbackrest", f"--config={self.conf}", f"--stanza={STANZA}", *args,
                            ok=False, timeout=timeout)
        if ok:
            assert out.returncode == 0, (
                f"pgbackrest {' '.join(map(str, args))} exited {out.returncode}\nstdout:\n{out.stdout}\n"
                f"stderr:\n{out.stderr}\npgbackrest log:\n{self.log_tail()}\n"
                f"server log:\n{self.cluster.log_tail()}")
        return out

    def info(self):
        got = json.loads(self("info", "--output=json").stdout)
        assert len(got) == 1 and got[0]["name"] == STANZA, got
        return got[0]

    def log_tail(self, n=3000):
        text = ""
        for p in sorted((self.user.workdir / "pgbackrest-log").glob("*.log")):
            text += f"--- {p.name}\n" + p.read_text(errors="replace")[-n:]
        return text


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """cofferd over HTTPS, a bucket, a cluster archiving into it, the stanza, and the first
    chain: full (100 rows), diff (150), incr (175)."""
    require("pgbackrest")
    pg_bindir()
    root = tmp_path_factory.mktemp("cofferd-tls-pgbackrest")
    # pgBackRest 2.45 matches the endpoint against DNS names only (subjectAltName dNSName, or
    # the CN when there is no subjectAltName), never IP addresses, and connects to the first
    # address a name resolves to (`localhost` can be ::1, where cofferd does not listen): the
    # certificate carries 127.0.0.1 as a DNS name too. See docs/clients/pgbackrest.md.
    server = Cofferd(root, tls=self_signed_cert(root / "tls", san="DNS:127.0.0.1,IP:127.0.0.1,DNS:localhost"))
    user = PgUser()
    cluster = None
    try:
        s3 = server.client()
        s3.create_bucket(Bucket=BUCKET)
        # The CA file must be readable by postgres: pytest's tmp dir is not.
        ca = user.workdir / "ca.pem"
        shutil.copyfile(server.ca_bundle, ca)
        ca.chmod(0o644)
        for d in ("pgbackrest-log", "pgbackrest-lock", "pgbackrest-spool"):
            user.mkdir(d)
        cluster = Cluster(user, "pgdata")
        conf = user.workdir / "pgbackrest.conf"
        user.write("pgbackrest.conf", f"""\
[global]
repo1-type=s3
repo1-path={REPO_PATH}
repo1-s3-bucket={BUCKET}
repo1-s3-endpoint=127.0.0.1
repo1-storage-port={server.port}
repo1-s3-uri-style=path
repo1-s3-region={REGION}
repo1-s3-key={ACCESS_KEY}
repo1-s3-key-secret={SECRET_KEY}
repo1-storage-ca-file={ca}
start-fast=y
archive-timeout=60
log-path={user.workdir}/pgbackrest-log
lock-path={user.workdir}/pgbackrest-lock
spool-path={user.workdir}/pgbackrest-spool
log-level-console=warn
log-level-file=detail

[{STANZA}]
pg1-path={cluster.data}
pg1-port={cluster.port}
pg1-socket-path={cluster.socket_dir}
""")
        cluster.init({"archive_mode": "on",
                      "archive_command": f"pgbackrest --config={conf} --stanza={STANZA} archive-push %p"})
        cluster.start()
        pgbr = PgBackRest(user, cluster, conf)
        pgbr("stanza-create")
        pgbr("check")

        cluster.sql("create table t(id int primary key, note text)")
        cluster.sql("insert into t select g, 'full' from generate_series(1, 100) g")
        # 12.5 MiB of random bytes (TOAST and gzip leave them as they are): one file of the
        # full backup larger than pgBackRest's 5 MiB upload chunk, so it goes up multipart.
        cluster.sql("create extension pgcrypto")
        cluster.sql("create table blob(id int primary key, b bytea)")
        cluster.sql("alter table blob alter column b set storage external")
        cluster.sql("insert into blob select g, " + " || ".join(["gen_random_bytes(1024)"] * 8)
                    + " from generate_series(1, 1600) g")
        pgbr("backup", "--type=full")
        cluster.sql("insert into t select g, 'diff' from generate_series(101, 150) g")
        pgbr("backup", "--type=diff")
        cluster.sql("insert into t select g, 'incr' from generate_series(151, 175) g")
        pgbr("backup", "--type=incr")
        yield server, s3, user, cluster, pgbr
    finally:
        tear_down(cluster, server, user)


def repo_keys(s3, prefix):
    return keys_under(s3, BUCKET, prefix)


def test_backups_archiving_and_point_in_time_restore(env):
    server, s3, user, cluster, pgbr = env
    info = pgbr.info()
    assert info["status"]["code"] == 0, info["status"]
    backups = info["backup"]
    assert [b["type"] for b in backups] == ["full", "diff", "incr"], backups
    full, diff, incr = (b["label"] for b in backups)
    assert diff.startswith(full + "_") and incr.startswith(full + "_"), (full, diff, incr)
    # The diff is based on the full, the incr on the diff.
    assert backups[1]["prior"] == full and backups[2]["prior"] == diff, backups
    # Each set is objects in the bucket, its manifest among them.
    for label in (full, diff, incr):
        assert f"{REPO_PATH[1:]}/backup/{STANZA}/{label}/backup.manifest" in \
            repo_keys(s3, f"{REPO_PATH[1:]}/backup/{STANZA}/{label}/"), label
    # The full backup's 12.5 MiB file went up multipart.
    ops = server.stderr_path.read_text(errors="replace")
    assert "op=CreateMultipartUpload" in ops and "op=CompleteMultipartUpload" in ops

    # The restore targets, after the incr backup: a named restore point and a time just after
    # it, 185 rows there; 1185 by the time the cluster stops.
    cluster.sql("insert into t select g, 'wal' from generate_series(176, 185) g")
    cluster.sql("select pg_create_restore_point('coffer_target')")
    target_time = cluster.sql("select clock_timestamp()")
    cluster.sql("insert into t select g, 'late' from generate_series(186, 1185) g")
    assert cluster.count() == 1185
    blob_md5 = cluster.sql(BLOB_MD5)
    seg = cluster.switch_wal_and_wait_archived()
    archive = pgbr.info()["archive"][0]
    assert archive["max"][8:24] >= seg[8:24], (archive, seg)
    # The archived segments are objects in the bucket.
    wal_keys = repo_keys(s3, f"{REPO_PATH[1:]}/archive/{STANZA}/")
    assert any(k.rsplit("/", 1)[-1].startswith(seg) for k in wal_keys), (seg, wal_keys[-5:])

    cluster.stop()
    try:
        for restore_type, target, name in (("name", "coffer_target", "restored-name"),
                                           ("time", target_time, "restored-time")):
            restored = Cluster(user, name)
            user.mkdir(name)
            pgbr("restore", f"--pg1-path={restored.data}", f"--type={restore_type}", f"--target={target}",
                 "--target-action=promote")
            # For a name, the latest set: the incr, read through its diff and full. For a time,
            # the latest set whose stop time is before it in whole seconds (2.45 compares
            # backupTimestampStop < the target's epoch second): usually the incr, the diff when
            # the incr stopped in the target's second (then more WAL is replayed).
            log = (user.workdir / "pgbackrest-log" / f"{STANZA}-restore.log").read_text()
            used = log.rsplit("restore command begin", 1)[1].split("restore backup set ", 1)[1].split(",", 1)[0]
            assert used in ((incr,) if restore_type == "name" else (incr, diff, full)), (restore_type, used)
            # The restored copy gets its own port and socket, and archives nothing.
            restored.start(port=restored.port, unix_socket_directories=str(restored.socket_dir),
                           archive_mode="off")
            try:
                restored.wait_promoted()
                assert restored.count() == 185, f"{restore_type} restore:\n{restored.log_tail()}"
                assert restored.sql("select count(*) from t where note = 'late'") == "0"
                assert restored.sql("select max(id) from t") == "185"
                assert restored.sql(BLOB_MD5) == blob_md5
            finally:
                restored.stop()
    finally:
        cluster.start()
    assert cluster.count() == 1185


def test_expire_after_a_second_full_removes_the_older_set(env):
    server, s3, user, cluster, pgbr = env
    before = pgbr.info()["backup"]
    assert [b["type"] for b in before[:3]] == ["full", "diff", "incr"], before
    old_labels = [b["label"] for b in before]
    old_prefixes = [f"{REPO_PATH[1:]}/backup/{STANZA}/{label}/" for label in old_labels]
    for p in old_prefixes:
        assert repo_keys(s3, p), f"no objects under {p} before expire"

    cluster.sql("insert into t select g, 'second full' from generate_series(100001, 100100) g")
    pgbr("backup", "--type=full")
    second = pgbr.info()["backup"][-1]
    assert second["type"] == "full" and second["label"] not in old_labels, second

    pgbr("expire", "--repo1-retention-full=1")
    after = pgbr.info()
    assert [b["label"] for b in after["backup"]] == [second["label"]], after["backup"]
    # Every object of the expired set is gone from the bucket; the kept set's are there.
    for p in old_prefixes:
        assert repo_keys(s3, p) == [], f"objects left under {p} after expire"
    assert repo_keys(s3, f"{REPO_PATH[1:]}/backup/{STANZA}/{second['label']}/")
    # WAL older than the kept full is expired too: the archive starts at its first segment.
    start = second["archive"]["start"]
    assert after["archive"][0]["min"] == start, (after["archive"], start)
    wal = [name[:24] for name in (k.rsplit("/", 1)[-1] for k in repo_keys(s3, f"{REPO_PATH[1:]}/archive/{STANZA}/"))
           if len(name) > 24 and name[24] == "-" and all(c in "0123456789ABCDEF" for c in name[:24])]
    assert wal and min(wal) == start, (sorted(wal)[:3], start)

    # What is left is whole: verify reads every object and checks its size and checksum (it
    # exits 0 either way: the verdict is in its output).
    pgbr("check")
    out = pgbr("verify", "--output=text", "--verbose").stdout
    assert f"stanza: {STANZA}\nstatus: ok" in out, out
    assert f"backup: {second['label']}, status: valid" in out, out
    assert "missing: 0, checksum invalid: 0, size invalid: 0, other: 0" in out, out
