#!/usr/bin/env bash
# Installs the peers coffer-bench compares Coffer with, by package name:
#   crates.io: s3s-fs 0.14.1 (feature `binary`), garage 2.5.0   (cargo install --locked, into ~/.cargo/bin)
#   PyPI:      moto[server]                                     (moto_server)
#   Debian:    postgresql (initdb, pg_ctl, pgbench, pg_dump), restic, linux-perf, valgrind
# Garage takes ~10 minutes to build on 2 cores; it is built at low priority.
# Pass --no-garage to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

with_garage=1
for arg in "$@"; do
    case "$arg" in
        --no-garage) with_garage=0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends postgresql restic linux-perf valgrind

python3 -m pip install -q --disable-pip-version-check 'moto[server]'

if ! command -v s3s-fs >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/s3s-fs" ]; then
    nice -n 19 cargo install s3s-fs --version 0.14.1 --locked --features binary
fi
if [ "$with_garage" = 1 ] && ! command -v garage >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/garage" ]; then
    nice -n 19 cargo install garage --version 2.5.0 --locked
fi

echo "peers installed:"
for p in s3s-fs garage moto_server restic pgbench pg_dump; do
    printf '  %-12s %s\n' "$p" "$(command -v "$p" || ls "$HOME/.cargo/bin/$p" 2>/dev/null || echo 'NOT INSTALLED')"
done
