#!/usr/bin/env bash
# Installs everything the conformance tests drive, by package name:
#   Debian: restic rclone s3cmd awscli (v2) duplicity python3-boto3 (duplicity's and barman-cloud's boto3 backend)
#           pgbackrest barman-cli-cloud (barman-cloud-*) postgresql (initdb, pg_ctl, psql for those two)
#           python3-venv openssl gnupg curl (presigned-URL tests) procps (kill)
#   PyPI (into <repo>/.venv, gitignored): boto3 awscrt awscli (v1) pytest requests
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
    restic rclone s3cmd awscli duplicity python3-boto3 \
    pgbackrest barman-cli-cloud postgresql \
    python3-venv python3-pip openssl gnupg ca-certificates curl procps

# /usr/bin/python3 explicitly: a pyenv or conda python on PATH must not decide the venv's interpreter.
if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r conformance-tests/python/requirements.txt
