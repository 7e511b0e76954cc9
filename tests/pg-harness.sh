#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pg-harness.sh: run a command against a throwaway PostgreSQL cluster.
#
#   usage: pg-harness.sh COMMAND [ARGS...]
#
# initdb's a cluster into a fresh `mktemp -d` directory (as user postgres
# when run as root), starts it with fsync off on a unix socket in that
# directory plus a TCP listener on 127.0.0.1 (a free private port), runs
# COMMAND, then always stops the server and removes the directory. The
# exit status is COMMAND's; 77 (meson's SKIP) when no server binaries are
# installed. On failure the tail of the server log goes to stderr.
#
# Authentication: the unix socket trusts everyone; over TCP the role
# migrate_pw must give its password (scram-sha-256), every other role is
# trusted.
#
# Environment given to COMMAND:
#   PGHOST, PGPORT, PGUSER=postgres, PGDATABASE=postgres
#                              the unix socket, as superuser (libpq and psql
#                              need nothing else)
#   MIGRATE_TEST_PORT          the port (unix socket and TCP)
#   MIGRATE_TEST_TCP_HOST      127.0.0.1
#   MIGRATE_TEST_PW_USER       migrate_pw: LOGIN, CREATE on database postgres
#   MIGRATE_TEST_PW_PASSWORD   its password (holds : / @ %, random part)
#   MIGRATE_TEST_PW_URL        postgresql://migrate_pw:<percent-encoded
#                              password>@127.0.0.1:PORT/postgres
#   MIGRATE_TEST_PGBIN         the server's bin directory (psql, pg_ctl...)
#   MIGRATE_TEST_PGDATA        the cluster's data directory ($PGHOST/data;
#                              owned by postgres when run as root), for
#                              tests that restart the server with pg_ctl
#                              (its log is $PGHOST/server.log)
#   MIGRATE_TEST_VECTOR        real | stand-in | none: what
#                              `CREATE EXTENSION vector` gives (the harness
#                              installs tools/install-vector-stand-in.sh's
#                              stand-in when the real one is missing and it
#                              runs as root)
# MIRAGE_DATABASE_URL, DATABASE_URL, PGPASSWORD, PGSERVICE and other PG*
# variables of the caller are removed, so that nothing reaches a real
# database.
#
# Input: PG_HARNESS_BINDIR overrides the server bin directory;
# PG_HARNESS_DURABLE=1 keeps the server's durable defaults (fsync,
# synchronous_commit, full_page_writes on: the benchmark); PG_HARNESS_OPTS
# adds server options (e.g. "-c shared_preload_libraries=pg_stat_statements").
set -eu

if [ $# -eq 0 ]; then
	echo "usage: $0 COMMAND [ARGS...]" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)

bindir=${PG_HARNESS_BINDIR:-}
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	bindir=$(pg_config --bindir 2>/dev/null || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "pg-harness: no PostgreSQL server binaries (initdb, pg_ctl); skipping"
	exit 77
fi

unset MIRAGE_DATABASE_URL DATABASE_URL PGPASSWORD PGPASSFILE PGSERVICE \
	PGSERVICEFILE PGHOSTADDR PGOPTIONS PGAPPNAME PGSSLMODE PGREQUIRESSL \
	PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT PGCLIENTENCODING PGSYSCONFDIR \
	PGCHANNELBINDING PGGSSENCMODE PGREQUIREAUTH PGDATESTYLE PGTZ || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libmigrate-pg.XXXXXX")
as_pg=""
if [ "$(id -u)" = 0 ]; then
	as_pg="runuser -u postgres --"
	chown postgres "$tmp"
fi
started=0

cleanup()
{
	if [ "$started" = 1 ]; then
		$as_pg "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop \
			>/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

$as_pg "$bindir/initdb" -D "$tmp/data" -A trust -U postgres -E UTF8 \
	--locale=C --no-sync >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 1
}

cat >"$tmp/pg_hba.conf" <<EOF
# pg-harness: unix socket trusted; over TCP migrate_pw needs its password.
local all all trust
host all migrate_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
EOF
$as_pg cp "$tmp/pg_hba.conf" "$tmp/data/pg_hba.conf"

random_u16()
{
	od -An -N2 -tu2 /dev/urandom | tr -d ' '
}

port_busy()
{
	command -v ss >/dev/null 2>&1 || return 1
	[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# Tests trade durability for speed; the benchmark may not.
if [ "${PG_HARNESS_DURABLE:-0}" = 1 ]; then
	durability=""
else
	durability="-F -c synchronous_commit=off -c full_page_writes=off"
fi

# Pick a free port: a random one in 20000-59999 not listened on, and retry
# when the server still cannot bind it (a race with another process).
tries=0
while :; do
	tries=$((tries + 1))
	port=$((20000 + $(random_u16) % 40000))
	if [ "$tries" -lt 50 ] && port_busy "$port"; then
		continue
	fi
	if $as_pg "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
		-o "-p $port -k $tmp -c listen_addresses=127.0.0.1 $durability \
-c max_locks_per_transaction=1024 -c max_connections=200 ${PG_HARNESS_OPTS:-}" \
		start >"$tmp/pg_ctl.log" 2>&1; then
		started=1
		break
	fi
	if [ "$tries" -ge 10 ] || ! grep -q "could not bind\|could not create any TCP/IP sockets\|already in use" "$tmp/server.log" 2>/dev/null; then
		echo "pg-harness: cannot start PostgreSQL:" >&2
		cat "$tmp/pg_ctl.log" "$tmp/server.log" >&2 2>/dev/null || true
		exit 1
	fi
	$as_pg "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
	: >"$tmp/server.log" 2>/dev/null || true
done

export PGHOST="$tmp" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
export MIGRATE_TEST_PORT="$port" MIGRATE_TEST_TCP_HOST=127.0.0.1
export MIGRATE_TEST_PGBIN="$bindir" MIGRATE_TEST_PGDATA="$tmp/data"

psql_q()
{
	"$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"
}

# A password that needs percent-encoding in a URL, with a random part so
# that a test can grep for it in every output.
rnd=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
pw="Pw:/@%-$rnd"
pw_enc="Pw%3A%2F%40%25-$rnd"
psql_q -c "CREATE ROLE migrate_pw LOGIN PASSWORD '$pw'" \
	-c "GRANT CREATE ON DATABASE postgres TO migrate_pw" >/dev/null
export MIGRATE_TEST_PW_USER=migrate_pw MIGRATE_TEST_PW_PASSWORD="$pw"
export MIGRATE_TEST_PW_URL="postgresql://migrate_pw:$pw_enc@127.0.0.1:$port/postgres"

vector_works()
{
	psql_q -c "BEGIN" -c "CREATE EXTENSION vector" -c "ROLLBACK" \
		>/dev/null 2>&1
}

if vector_works; then
	if psql_q -c "SELECT comment FROM pg_available_extensions WHERE name = 'vector'" |
		grep -q "libmigrate TEST STAND-IN"; then
		MIGRATE_TEST_VECTOR=stand-in
	else
		MIGRATE_TEST_VECTOR=real
	fi
else
	rc=0
	sh "$here/../tools/install-vector-stand-in.sh" "$bindir/pg_config" || rc=$?
	if [ "$rc" = 0 ] && vector_works; then
		MIGRATE_TEST_VECTOR=stand-in
	else
		echo "pg-harness: no vector extension (the stand-in needs root); tests that need it skip"
		MIGRATE_TEST_VECTOR=none
	fi
fi
export MIGRATE_TEST_VECTOR

rc=0
"$@" || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
	echo "pg-harness: '$1' exited with $rc; server log (tail):" >&2
	tail -n 30 "$tmp/server.log" >&2 2>/dev/null || true
fi
exit "$rc"
