#!/usr/bin/env bash
# The README's command 2: installs what the tests need, builds cofferd, runs every test.
#   scripts/test.sh              install deps, then run everything
#   scripts/test.sh --no-install run everything with what is already installed
# Fails if any test fails (or if pytest collects nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

if [ "${1:-}" != "--no-install" ]; then
    scripts/install-test-deps.sh
fi

# The conformance tests start target/debug/cofferd; build it (and every other binary) first.
cargo build --workspace --bins

failed=()

# Rust: unit tests of every crate and the conformance suite (real clients against real cofferd).
# Conformance tests mostly wait on client processes, so run a few side by side even on 2 cores.
if ! RUST_TEST_THREADS="${RUST_TEST_THREADS:-3}" cargo test --workspace --no-fail-fast; then
    failed+=("cargo test")
fi

# Python: boto3 and hand-made HTTP requests against real cofferd. Exit code 5 (nothing collected) fails too.
# The venv is $COFFER_VENV when set (as for the Rust kit, conformance-tests/src/paths.rs), else .venv.
rc=0
"${COFFER_VENV:-.venv}/bin/python" -m pytest -q -p no:cacheprovider conformance-tests/python || rc=$?
if [ "$rc" -ne 0 ]; then
    failed+=("pytest (exit $rc)")
fi

elapsed=$(( $(date +%s) - start ))
if [ "${#failed[@]}" -ne 0 ]; then
    echo "FAILED after ${elapsed} s: ${failed[*]}" >&2
    exit 1
fi
echo "all tests passed in ${elapsed} s"
