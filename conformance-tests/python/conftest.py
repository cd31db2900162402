"""pytest fixtures: a real cofferd per test module (plain HTTP and HTTPS), boto3 clients, fresh buckets."""

import itertools
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from coffer_harness import Cofferd, self_signed_cert  # noqa: E402

_names = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    s = Cofferd(tmp_path_factory.mktemp(f"cofferd-{request.module.__name__}"))
    yield s
    s.kill()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, request):
    root = tmp_path_factory.mktemp(f"cofferd-tls-{request.module.__name__}")
    s = Cofferd(root, tls=self_signed_cert(root / "tls"))
    yield s
    s.kill()


@pytest.fixture
def s3(server):
    return server.client()


@pytest.fixture
def s3_tls(tls_server):
    return tls_server.client()


def _fresh_bucket(client, request):
    name = f"t{next(_names):03d}-" + request.node.name.lower().replace("_", "-")[:40].strip("-[]")
    name = "".join(c for c in name if c.isalnum() or c == "-").rstrip("-")
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(s3, request):
    return _fresh_bucket(s3, request)


@pytest.fixture
def tls_bucket(s3_tls, request):
    return _fresh_bucket(s3_tls, request)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the end of the server's log to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name in ("server", "tls_server"):
            srv = item.funcargs.get(name)
            if srv is not None:
                report.sections.append((f"cofferd log ({name}, {srv.stderr_path})", srv.log_tail(4000)))
