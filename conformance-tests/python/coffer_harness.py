"""Starts the real cofferd binary for pytest, the same way the Rust test kit does.

cofferd is found at $COFFER_BIN or <repo>/target/debug/cofferd; it listens on
127.0.0.1:0 with its own data dir and fixed root credentials, and its start-up
lines are read by parse_startup_lines, the Python twin of the server's own reader
(server/src/startup_lines.rs): same prefixes, same fields. Both are pinned to
conformance-tests/fixtures/startup_lines.txt (test_startup_lines.py here, the
kit's unit test in Rust). The credentials repeat conformance-tests/src/credentials.rs.
"""

import json
import os
import queue
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

ACCESS_KEY = "COFFERTESTROOTKEY001"
SECRET_KEY = "cofferTestRootSecret0000000000000000000001"
REGION = "us-east-1"
REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# The start-up line prefixes, as server/src/startup_lines.rs prints them.
INITIALISED = "coffer: initialised a new repository in "
MASTER_KEY_FILE = "coffer: master key file "
MASTER_KEY_WARNING = " — BACK IT UP: without it nothing stored can be read"
ROOT_ACCESS_KEY = "coffer: root access key id: "
ROOT_SECRET_KEY = "coffer: root secret access key: "
SAVE_ROOT_SECRET = "coffer: save the root secret access key now: it is printed only this once"
ROOT_SECRET_NOT_PRINTED = "coffer: root secret access key: as configured (not printed)"
ADMIN_TOKEN_FILE = "coffer: admin token file "
ADMIN_LISTENING = "coffer: admin API listening on "
S3_LISTENING = "coffer: S3 listening on "


class StartupReader:
    """Reads start-up lines one at a time; feed() returns the whole start-up as a
    dict once the S3 line (always the last) is read: s3_url, admin_url,
    first_start (None, or data_dir, master_key_file, root_access_key,
    root_secret_key: None when the operator supplied it) and admin_token_file (None unless this start created it)."""

    def __init__(self):
        self.fields = {}

    def feed(self, line):
        line = line.rstrip()
        if line == ROOT_SECRET_NOT_PRINTED:
            # A supplied secret is never printed: it reads as None.
            self.fields["root_secret_key"] = None
            return None
        if line.startswith(S3_LISTENING):
            return self._finish(_checked_url(line, line[len(S3_LISTENING):]))
        for prefix, field in ((ADMIN_LISTENING, "admin_url"), (INITIALISED, "data_dir"),
                              (MASTER_KEY_FILE, "master_key_file"),
                              (ROOT_ACCESS_KEY, "root_access_key"),
                              (ROOT_SECRET_KEY, "root_secret_key"),
                              (ADMIN_TOKEN_FILE, "admin_token_file")):
            if line.startswith(prefix):
                value = line[len(prefix):]
                if field == "admin_url":
                    value = _checked_url(line, value)
                elif field == "master_key_file" and value.endswith(MASTER_KEY_WARNING):
                    value = value[:-len(MASTER_KEY_WARNING)]
                self.fields[field] = value
                break
        return None

    def _finish(self, s3_url):
        f, self.fields = self.fields, {}
        if "admin_url" not in f:
            raise ValueError(f"the '{S3_LISTENING}' line came before any '{ADMIN_LISTENING}' line")
        first_keys = ("data_dir", "master_key_file", "root_access_key", "root_secret_key")
        present = [k for k in first_keys if k in f]
        if present and len(present) != len(first_keys):
            raise ValueError(f"the first start's lines are incomplete: {present}")
        return {
            "s3_url": s3_url,
            "admin_url": f["admin_url"],
            "first_start": {k: f[k] for k in first_keys} if present else None,
            "admin_token_file": f.get("admin_token_file"),
        }


def _checked_url(line, url):
    url = url.strip().rstrip("/")
    hostport = url.split("://", 1)[1] if "://" in url else ""
    if not url.startswith(("http://", "https://")) or not hostport.rsplit(":", 1)[-1].isdigit():
        raise ValueError(f"'{line}' has no http:// or https:// URL with a port")
    return url


def parse_startup_lines(text):
    """The start-up of a whole text, as StartupReader.feed returns it."""
    reader = StartupReader()
    for line in text.splitlines():
        done = reader.feed(line)
        if done is not None:
            return done
    raise ValueError(f"no '{S3_LISTENING}URL' line")


def cofferd_bin() -> Path:
    env = os.environ.get("COFFER_BIN")
    return Path(env) if env else REPO_ROOT / "target" / "debug" / "cofferd"


def coffer_bin() -> Path:
    env = os.environ.get("COFFER_CLI_BIN")
    return Path(env) if env else cofferd_bin().with_name("coffer")


def self_signed_cert(directory: Path, san="IP:127.0.0.1,DNS:localhost"):
    """A self-signed certificate for 127.0.0.1/localhost (or the subjectAltName `san`), made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", f"subjectAltName={san}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


class Cofferd:
    """A running cofferd; kill() sends SIGKILL, restart() starts again on the same data dir."""

    def __init__(self, root: Path, tls=None, extra_env=None):
        self.root = root
        self.data_dir = root / "data"
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.tls = tls
        self.extra_env = dict(extra_env or {})
        self.proc = None
        self.endpoint = None
        self.port = None
        self.startup_lines = []
        self._start()

    def _start(self):
        binary = cofferd_bin()
        if not binary.exists():
            raise RuntimeError(f"cofferd not found at {binary} (cargo build -p coffer-server --bins, or set COFFER_BIN)")
        env = {
            "PATH": CLIENT_PATH,
            "HOME": str(self.log_dir),
            "COFFER_LISTEN": "127.0.0.1:0",
            "COFFER_DATA_DIR": str(self.data_dir),
            "COFFER_ROOT_ACCESS_KEY": ACCESS_KEY,
            "COFFER_ROOT_SECRET_KEY": SECRET_KEY,
            "COFFER_REGION": REGION,
            "COFFER_LOG": "info",
        }
        env.update(self.extra_env)
        if self.tls:
            env["COFFER_TLS_CERT"], env["COFFER_TLS_KEY"] = str(self.tls[0]), str(self.tls[1])
        self.stderr_path = self.log_dir / "cofferd.stderr"
        stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([str(binary)], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=stderr)
        stderr.close()
        lines = queue.Queue()

        def drain(out):
            # Keeps reading for the server's whole life so it never blocks on a full pipe.
            for raw in iter(out.readline, b""):
                lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
            lines.put(None)

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        self.startup_lines = []
        self.startup = None
        reader = StartupReader()
        deadline = time.monotonic() + 60
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self._fail("no 'coffer: S3 listening on' line within 60 s")
            if line is None:
                time.sleep(0.2)
                self._fail("cofferd closed stdout before printing 'S3 listening on'")
            self.startup_lines.append(line)
            try:
                startup = reader.feed(line)
            except ValueError as e:
                self._fail(f"unreadable start-up lines: {e}")
            if startup is not None:
                self.startup = startup
                self.endpoint = startup["s3_url"]
                self.port = int(self.endpoint.rsplit(":", 1)[1])
                return
            if time.monotonic() > deadline:
                self._fail("no 'coffer: S3 listening on' line within 60 s")

    def _fail(self, why):
        status = self.proc.poll()
        self.kill()
        raise RuntimeError(f"cofferd start failed: {why}\nexit status: {status}\nstdout:\n"
                           + "\n".join(self.startup_lines) + "\nstderr:\n" + self.log_tail())

    def log_tail(self, n=8000) -> str:
        try:
            return self.stderr_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.kill()
        self._start()

    def admin(self, method, path, body=None):
        """One admin API call with the server's token; the decoded JSON answer."""
        token = (self.data_dir / "admin.token").read_text().strip()
        req = urllib.request.Request(self.startup["admin_url"].rstrip("/") + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def coffer(self, *args, ok=True):
        """The `coffer` admin CLI against this server with --json; (exit code, parsed JSON or
        stdout, stderr). With ok=True a non-zero exit fails the test."""
        out = subprocess.run([str(coffer_bin()), "--url", self.startup["admin_url"],
                              "--token-file", str(self.data_dir / "admin.token"), "--json", *args],
                             env={"PATH": CLIENT_PATH, "HOME": str(self.log_dir), "LANG": "C.UTF-8"},
                             capture_output=True, text=True, timeout=120)
        if ok:
            assert out.returncode == 0, f"coffer {' '.join(args)}: {out.stderr}"
        try:
            body = json.loads(out.stdout) if out.stdout.strip() else None
        except json.JSONDecodeError:
            body = out.stdout
        return out.returncode, body, out.stderr

    @property
    def ca_bundle(self):
        return str(self.tls[0]) if self.tls else None

    def client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, **config):
        """A boto3 S3 client for this server (path style, no retries so errors show as they are)."""
        cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"},
                     signature_version="s3v4", **config)
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                            verify=self.ca_bundle if self.tls else None, config=cfg)
