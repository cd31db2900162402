"""A throw-away PostgreSQL cluster for the database backup client tests
(test_pgbackrest.py, test_barman_cloud.py).

PostgreSQL refuses to run as root, and CI runs as root: every PostgreSQL and
backup-client process then runs as the `postgres` OS user (created if missing)
through `runuser`, with an explicit environment (`env -i`), in a work dir under
/tmp owned by that user (pytest's own tmp dirs are 0700 root). As any other
user everything runs as that user directly. The cluster listens on 127.0.0.1
at a free port and on a unix socket in its own dir; fsync is off.

A missing tool is a failure, never a skip: a skipped check that reports green
would claim a client works when nothing was run.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from coffer_harness import CLIENT_PATH

PG_USER = "postgres"


def require(*tools):
    """The absolute paths of tools on CLIENT_PATH; fails the test naming the missing ones."""
    found, missing = [], []
    for tool in tools:
        path = shutil.which(tool, path=CLIENT_PATH)
        (found if path else missing).append(path or tool)
    if missing:
        pytest.fail(f"not installed: {' '.join(missing)} (scripts/install-test-deps.sh installs them)",
                    pytrace=False)
    return found


def pg_bindir() -> Path:
    """The bin dir of the newest PostgreSQL under /usr/lib/postgresql (Debian's layout)."""
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not versions:
        pytest.fail("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb "
                    "(scripts/install-test-deps.sh installs the Debian package postgresql)", pytrace=False)
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgUser:
    """Runs commands as the OS user PostgreSQL runs as, in a work dir of its own."""

    def __init__(self):
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                                "--home-dir", "/var/lib/postgresql", "--shell", "/bin/sh", PG_USER],
                               check=True, capture_output=True, timeout=60)
            ent = pwd.getpwnam(PG_USER)
            self.uid, self.gid = ent.pw_uid, ent.pw_gid
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()
        # Under /tmp as root: every dir above it must be searchable by postgres (a private $TMPDIR is not).
        self.workdir = Path(tempfile.mkdtemp(prefix="coffer-pg-", dir="/tmp" if self.as_root else None))
        self.own(self.workdir)

    def own(self, path: Path):
        if self.as_root:
            os.chown(path, self.uid, self.gid)

    def mkdir(self, name: str) -> Path:
        p = self.workdir / name
        p.mkdir(mode=0o700)
        self.own(p)
        return p

    def write(self, name: str, text: str, mode=0o600) -> Path:
        p = self.workdir / name
        p.write_text(text)
        p.chmod(mode)
        self.own(p)
        return p

    def env(self, extra=None):
        env = {"PATH": CLIENT_PATH, "HOME": str(self.workdir), "LANG": "C.UTF-8", "TZ": "UTC"}
        env.update(extra or {})
        return env

    def run(self, *cmd, env=None, ok=True, timeout=120, input=None):
        """cmd as the postgres user with exactly env (plus PATH, HOME, LANG, TZ); the CompletedProcess.
        With ok=True a non-zero exit fails the test with the command's output."""
        pairs = [f"{k}={v}" for k, v in self.env(env).items()]
        argv = ["env", "-i", *pairs, *map(str, cmd)]
        if self.as_root:
            argv = ["runuser", "-u", PG_USER, "--", *argv]
        out = subprocess.run(argv, cwd=self.workdir, capture_output=True, text=True,
                             timeout=timeout, input=input, stdin=None if input is not None else subprocess.DEVNULL)
        if ok:
            assert out.returncode == 0, (f"{' '.join(map(str, cmd))} exited {out.returncode}\n"
                                         f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}")
        return out

    def cleanup(self):
        if os.environ.get("COFFER_KEEP_TMP"):
            print(f"kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


class Cluster:
    """One PostgreSQL data dir; start() with the settings given to init() (or to start())."""

    def __init__(self, user: PgUser, name: str, env=None):
        self.user = user
        self.bindir = pg_bindir()
        self.data = user.workdir / name
        self.socket_dir = user.mkdir(f"{name}-socket")
        self.log = user.workdir / f"{name}.log"
        self.port = free_port()
        self.env = dict(env or {})
        self.running = False

    def init(self, settings: dict):
        """initdb (trust auth for the local socket only), then settings written to postgresql.conf."""
        self.user.run(self.bindir / "initdb", "--no-sync", "--auth-local=trust", "--auth-host=reject",
                      "--username=postgres", "--encoding=UTF8", "--locale=C", "-D", self.data,
                      env=self.env)
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# coffer conformance tests\n")
            for k, v in {**self.base_settings(), **settings}.items():
                f.write(f"{k} = {quote(v)}\n")

    def base_settings(self):
        return {"listen_addresses": "127.0.0.1", "port": self.port,
                "unix_socket_directories": str(self.socket_dir),
                "fsync": "off", "synchronous_commit": "off", "full_page_writes": "on",
                "wal_level": "replica", "max_wal_senders": 4, "log_min_messages": "info"}

    def start(self, **overrides):
        """pg_ctl start; overrides are -c settings for this start only (e.g. a restored copy's port)."""
        opts = " ".join(f"-c {k}={quote(v)}" for k, v in overrides.items())
        args = [self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"]
        if opts:
            args += ["-o", opts]
        out = self.user.run(*args, env=self.env, ok=False)
        assert out.returncode == 0, f"pg_ctl start failed: {out.stdout}{out.stderr}\nserver log:\n{self.log_tail()}"
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self.user.run(self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop",
                          env=self.env)
            self.running = False

    def log_tail(self, n=4000):
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def sql(self, query: str) -> str:
        """One statement through psql as the postgres superuser; its unaligned output, stripped."""
        out = self.user.run(self.bindir / "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-h", self.socket_dir, "-p", self.port, "-U", "postgres", "-d", "postgres",
                            "-c", query, env=self.env, ok=False)
        assert out.returncode == 0, f"psql {query!r}: {out.stderr}\nserver log:\n{self.log_tail()}"
        return out.stdout.strip()

    def count(self, table="t") -> int:
        return int(self.sql(f"select count(*) from {table}"))

    def switch_wal_and_wait_archived(self, timeout=60):
        """Closes the current WAL segment (after a write, so there is one to close) and waits
        until pg_stat_archiver reports it archived; fails on any archive failure."""
        self.sql("create table if not exists wal_switch(x int); insert into wal_switch values (1)")
        seg = self.sql("select pg_walfile_name(pg_switch_wal())")
        self.wait_archived(seg, timeout)
        return seg

    def wait_archived(self, segment: str, timeout=60):
        deadline = time.monotonic() + timeout
        row = ""
        while time.monotonic() < deadline:
            row = self.sql("select coalesce(last_archived_wal, ''), failed_count, "
                           "coalesce(last_failed_wal, '') from pg_stat_archiver")
            last, failed, last_failed = row.split("|")
            assert failed == "0", f"archive_command failed for {last_failed}:\n{self.log_tail()}"
            # Segment names of one timeline sort as they were written.
            if len(last) >= 24 and last[8:24] >= segment[8:24]:
                return
            time.sleep(0.1)
        raise AssertionError(f"WAL segment {segment} not archived within {timeout} s "
                             f"(pg_stat_archiver: {row})\nserver log:\n{self.log_tail()}")

    def wait_promoted(self, timeout=60):
        """Waits for a restored copy to finish recovery (recovery_target_action=promote)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql("select pg_is_in_recovery()") == "f":
                return
            time.sleep(0.1)
        raise AssertionError(f"still in recovery after {timeout} s\nserver log:\n{self.log_tail()}")


def quote(v):
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def tear_down(cluster, server, user):
    """Stops the cluster (if it started), the server and removes the OS user's leftovers."""
    if cluster is not None:
        try:
            cluster.stop("immediate")
        except Exception:
            pass
    server.kill()
    user.cleanup()
