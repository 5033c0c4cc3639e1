#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server for the tests:
#
#     tools/postgres.sh COMMAND [ARG...]
#
# Installs Debian's `postgresql` package when its server binaries are missing (as root only), makes a
# cluster in a new temporary directory, starts it on a free loopback port (its unix socket in that
# directory too), creates the database `parley_test`, and runs COMMAND with
# PARLEY_TEST_POSTGRES_URL set to it. The server is stopped and the directory removed when the
# command ends, whatever its outcome; the command's exit status is returned. Every run makes its own
# cluster, so running it again (or twice at once) is harmless.
#
# When PostgreSQL cannot be had, COMMAND still runs, without the URL: the PostgreSQL tests then fail
# when PARLEY_REQUIRE_POSTGRES=1 (as `make test` sets it) and are skipped otherwise.
set -euo pipefail

DATABASE=parley_test
SUPERUSER=parley

warn() { echo "tools/postgres.sh: $*" >&2; }

# Debian's own binaries (not the /usr/local/bin links or wrappers some machines have), newest first.
find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_postgresql() {
    if [[ $(id -u) -ne 0 ]]; then
        warn "PostgreSQL is not installed and only root may install it (apt-get install postgresql)"
        return 1
    fi
    warn "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends postgresql >&2
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run a server binary as the cluster's owner: PostgreSQL refuses to run as root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_server() {
    local bindir port
    bindir=$(find_bindir) || { install_postgresql && bindir=$(find_bindir); } || return 1
    WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-postgres.XXXXXX")
    if [[ $(id -u) -eq 0 ]]; then
        id -u postgres >/dev/null 2>&1 || { warn "no postgres system user"; return 1; }
        chown postgres: "$WORKDIR"
    fi
    chmod 700 "$WORKDIR"
    as_owner "$bindir/initdb" --pgdata="$WORKDIR/data" --username="$SUPERUSER" --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$WORKDIR/initdb.log" 2>&1 \
        || { warn "initdb failed:"; cat "$WORKDIR/initdb.log" >&2; return 1; }
    port=$(free_port)
    as_owner "$bindir/pg_ctl" --pgdata="$WORKDIR/data" --log="$WORKDIR/server.log" --wait \
        --options="-c listen_addresses=127.0.0.1 -p $port -k $WORKDIR" start >/dev/null \
        || { warn "the server did not start:"; cat "$WORKDIR/server.log" >&2; return 1; }
    BINDIR=$bindir
    "$bindir/createdb" --host=127.0.0.1 --port="$port" --username="$SUPERUSER" "$DATABASE"
    export PARLEY_TEST_POSTGRES_URL="postgresql+psycopg://$SUPERUSER@127.0.0.1:$port/$DATABASE"
    warn "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') at $PARLEY_TEST_POSTGRES_URL"
}

stop_server() {
    if [[ -n ${BINDIR:-} && -d ${WORKDIR:-}/data ]]; then
        as_owner "$BINDIR/pg_ctl" --pgdata="$WORKDIR/data" --mode=immediate stop >/dev/null 2>&1 || true
    fi
    if [[ -n ${WORKDIR:-} ]]; then
        rm -rf "$WORKDIR"
    fi
}

if [[ $# -eq 0 ]]; then
    echo "usage: tools/postgres.sh COMMAND [ARG...]" >&2
    exit 2
fi

WORKDIR=
BINDIR=
trap stop_server EXIT
trap 'exit 130' INT TERM
start_server || warn "no PostgreSQL server: its tests will fail (or skip without PARLEY_REQUIRE_POSTGRES=1)"
status=0
"$@" || status=$?
exit "$status"
