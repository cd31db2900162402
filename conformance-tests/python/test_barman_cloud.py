"""barman-cloud (Debian's barman-cli-cloud 3.4, boto3) against cofferd over HTTPS: WAL archiving
through archive_command (barman-cloud-wal-archive), two base backups (barman-cloud-backup),
barman-cloud-backup-list, point-in-time restores (barman-cloud-restore, then recovery with
barman-cloud-wal-restore as restore_command) to a named restore point and to a time, and
barman-cloud-backup-delete. Settings as docs/clients/barman-cloud.md gives them.

One cofferd (HTTPS) and one PostgreSQL cluster for the module; every PostgreSQL and barman
process runs as the `postgres` OS user (pgcluster.py). A missing tool fails the test.
"""

import json
import shutil

import pytest

from coffer_harness import ACCESS_KEY, REGION, SECRET_KEY, Cofferd, self_signed_cert
from pgcluster import Cluster, PgUser, pg_bindir, require, tear_down
from s3util import keys_under

BUCKET = "barman"
PREFIX = "cloud"
SERVER = "pg"
TOOLS = ("barman-cloud-wal-archive", "barman-cloud-backup", "barman-cloud-backup-list",
         "barman-cloud-restore", "barman-cloud-wal-restore", "barman-cloud-backup-delete")


class Barman:
    def __init__(self, user, cluster, endpoint, env):
        self.user, self.cluster, self.endpoint, self.env = user, cluster, endpoint, env
        self.url = f"s3://{BUCKET}/{PREFIX}"

    def __call__(self, tool, *args, ok=True, timeout=120):
        out = self.user.run(f"barman-cloud-{tool}", "--endpoint-url", self.endpoint, *args,
                            env=self.env, ok=False, timeout=timeout)
        if ok:
            assert out.returncode == 0, (
                f"barman-cloud-{tool} {' '.join(map(str, args))} exited {out.returncode}\nstdout:\n{out.stdout}\n"
                f"stderr:\n{out.stderr}\nserver log:\n{self.cluster.log_tail()}")
        return out

    def backup(self, name):
        self("backup", "--immediate-checkpoint", "--gzip", "-h", self.cluster.socket_dir,
             "-p", self.cluster.port, "-U", "postgres", "-n", name, self.url, SERVER)

    def backups(self):
        got = json.loads(self("backup-list", "--format", "json", self.url, SERVER).stdout)
        return got["backups_list"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """cofferd over HTTPS, a bucket, a cluster archiving its WAL into it, and two backups:
    `nightly-1` (100 rows) and `nightly-2` (175 rows; a restore point at 150 rows between them)."""
    require(*TOOLS)
    pg_bindir()
    root = tmp_path_factory.mktemp("cofferd-tls-barman")
    server = Cofferd(root, tls=self_signed_cert(root / "tls"))
    user = PgUser()
    cluster = None
    try:
        s3 = server.client()
        s3.create_bucket(Bucket=BUCKET)
        # The CA file must be readable by postgres: pytest's tmp dir is not.
        ca = user.workdir / "ca.pem"
        shutil.copyfile(server.ca_bundle, ca)
        ca.chmod(0o644)
        aws_env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                   "AWS_DEFAULT_REGION": REGION, "AWS_CA_BUNDLE": str(ca),
                   # Nothing from a config or credentials file, nor the instance metadata service.
                   "AWS_CONFIG_FILE": str(user.workdir / "no-aws-config"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(user.workdir / "no-aws-credentials"),
                   "AWS_EC2_METADATA_DISABLED": "true"}
        # archive_command and restore_command run in the server's environment: a wrapper
        # (postgres-owned, 0700: it holds the secret) gives them the same variables.
        # Run through /bin/sh, so that a noexec /tmp does not matter.
        wrapper = "/bin/sh " + str(user.write("barman-env", "#!/bin/sh\n" + "".join(
            f"export {k}='{v}'\n" for k, v in aws_env.items()) + 'exec "$@"\n', mode=0o700))
        cluster = Cluster(user, "pgdata")
        barman = Barman(user, cluster, server.endpoint, aws_env)
        barman.restore_command = (f"{wrapper} barman-cloud-wal-restore --endpoint-url {server.endpoint} "
                                  f"{barman.url} {SERVER} %f %p")
        cluster.init({"archive_mode": "on",
                      "archive_command": f"{wrapper} barman-cloud-wal-archive --endpoint-url {server.endpoint} "
                                         f"--gzip {barman.url} {SERVER} %p"})
        cluster.start()
        barman("backup", "--test", barman.url, SERVER)

        cluster.sql("create table t(id int primary key, note text)")
        cluster.sql("insert into t select g, 'first' from generate_series(1, 100) g")
        barman.backup("nightly-1")
        cluster.sql("insert into t select g, 'wal' from generate_series(101, 150) g")
        cluster.sql("select pg_create_restore_point('coffer_target')")
        cluster.sql("insert into t select g, 'second' from generate_series(151, 175) g")
        barman.backup("nightly-2")
        yield server, s3, user, cluster, barman
    finally:
        tear_down(cluster, server, user)


def keys(s3, prefix):
    return keys_under(s3, BUCKET, prefix)


def wal_names(s3):
    """The WAL segment names archived, from the object keys (cloud/pg/wals/<timeline+log>/<segment>.gz)."""
    return sorted(k.rsplit("/", 1)[-1][:24] for k in keys(s3, f"{PREFIX}/{SERVER}/wals/")
                  if len(k.rsplit("/", 1)[-1]) >= 24 and not k.endswith(".history")
                  and ".backup" not in k)


def restore(user, barman, backup_id, name, recovery):
    """barman-cloud-restore into a new data dir, recovery settings in postgresql.auto.conf,
    recovery.signal; started on its own port and socket, archiving nothing; promoted."""
    restored = Cluster(user, name)
    user.mkdir(name)
    barman("restore", barman.url, SERVER, backup_id, restored.data)
    assert (restored.data / "backup_label").exists(), "barman-cloud-restore wrote no backup_label"
    with open(restored.data / "postgresql.auto.conf", "a") as f:
        f.write(f"restore_command = '{barman.restore_command}'\n")
        for k, v in recovery.items():
            f.write(f"{k} = '{v}'\n")
        f.write("recovery_target_action = 'promote'\n")
    user.write(f"{name}/recovery.signal", "", mode=0o600)
    restored.start(port=restored.port, unix_socket_directories=str(restored.socket_dir), archive_mode="off")
    restored.wait_promoted()
    return restored


def test_archiving_backups_and_point_in_time_restores(env):
    server, s3, user, cluster, barman = env
    backups = barman.backups()
    assert [(b["backup_name"], b["status"]) for b in backups] == [("nightly-1", "DONE"), ("nightly-2", "DONE")], backups
    first, second = backups
    # Each backup is a data tarball and its backup.info in the bucket.
    for b in backups:
        base = keys(s3, f"{PREFIX}/{SERVER}/base/{b['backup_id']}/")
        assert f"{PREFIX}/{SERVER}/base/{b['backup_id']}/backup.info" in base, base
        assert any(k.endswith("/data.tar.gz") for k in base), base

    # 1185 rows by the time of the restores; a time target at 200.
    cluster.sql("insert into t select g, 'wal' from generate_series(176, 200) g")
    target_time = cluster.sql("select clock_timestamp()")
    cluster.sql("insert into t select g, 'late' from generate_series(201, 1185) g")
    seg = cluster.switch_wal_and_wait_archived()
    assert seg in wal_names(s3), (seg, wal_names(s3)[-3:])
    assert first["begin_wal"] in wal_names(s3) and second["end_wal"] in wal_names(s3)
    assert cluster.count() == 1185

    cluster.stop()
    try:
        # From the first backup, replaying archived WAL up to the restore point made before the second.
        restored = restore(user, barman, first["backup_id"], "restored-name",
                           {"recovery_target_name": "coffer_target"})
        try:
            assert restored.count() == 150, restored.log_tail()
            assert restored.sql("select max(id) from t") == "150"
        finally:
            restored.stop()
        # From the second (by its name), to a time after it.
        restored = restore(user, barman, "nightly-2", "restored-time", {"recovery_target_time": target_time})
        try:
            assert restored.count() == 200, restored.log_tail()
            assert restored.sql("select count(*) from t where note = 'late'") == "0"
        finally:
            restored.stop()
    finally:
        cluster.start()
    assert cluster.count() == 1185


def test_backup_delete_removes_the_older_backup_and_its_objects(env):
    server, s3, user, cluster, barman = env
    first, second = barman.backups()[:2]
    first_prefix = f"{PREFIX}/{SERVER}/base/{first['backup_id']}/"
    assert keys(s3, first_prefix), f"no objects under {first_prefix}"
    assert wal_names(s3)[0] <= first["begin_wal"]

    barman("backup-delete", "-b", first["backup_id"], barman.url, SERVER)
    left = barman.backups()
    assert [b["backup_id"] for b in left] == [second["backup_id"]], left
    assert keys(s3, first_prefix) == [], f"objects left under {first_prefix}"
    assert f"{PREFIX}/{SERVER}/base/{second['backup_id']}/backup.info" in keys(s3, f"{PREFIX}/{SERVER}/base/")
    # WAL only the deleted backup needed is gone: the archive now starts at the second's begin_wal.
    wal = wal_names(s3)
    assert wal and wal[0] == second["begin_wal"], (wal[:3], second["begin_wal"])
