"""The harness reads cofferd's start-up lines as the server's own reader does:
both are pinned to conformance-tests/fixtures/startup_lines.txt, which the Rust
kit's unit test renders with the server's printing functions."""

from pathlib import Path

import pytest

from coffer_harness import parse_startup_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "startup_lines.txt"


def test_the_fixture_reads_as_the_server_printed_it():
    startup = parse_startup_lines(FIXTURE.read_text(encoding="utf-8"))
    assert startup == {
        "s3_url": "https://127.0.0.1:40002",
        "admin_url": "http://127.0.0.1:40001",
        "first_start": {
            "data_dir": "/srv/coffer-data",
            "master_key_file": "/srv/coffer-data/master.key",
            "root_access_key": "AKFIXTURE000000000001",
            "root_secret_key": "fixtureSecret0000000000000000000000000001",
        },
        "admin_token_file": "/srv/coffer-data/admin.token",
    }


def test_a_later_start_prints_only_the_listeners():
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()[-2:]
    startup = parse_startup_lines("\n".join(["noise"] + lines))
    assert startup["first_start"] is None and startup["admin_token_file"] is None


def test_broken_start_ups_are_refused():
    with pytest.raises(ValueError):
        parse_startup_lines("coffer: S3 listening on http://127.0.0.1:2")
    with pytest.raises(ValueError):
        parse_startup_lines("")
    with pytest.raises(ValueError):
        parse_startup_lines("coffer: admin API listening on http://h:1\ncoffer: S3 listening on 127.0.0.1:2")
