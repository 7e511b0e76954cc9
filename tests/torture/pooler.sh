#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Through PgBouncer in transaction pooling mode (issue 11 §2). PgBouncer
# runs on 127.0.0.1 (a free port) in front of the harness's server, with
# pool_mode=transaction. The session advisory lock cannot work there (it
# stays on a pooled server connection, and other clients' transactions run
# on the session that holds it), so writers must refuse before changing
# anything, naming the pooler and the fix:
#   A. one upgrade through the pool: exit 4, "transaction pooler", nothing
#      created; the same through PgBouncer's unix socket (a unix socket at
#      both ends: only the port tells the pooler apart).
#   B. four concurrent upgrades through the pool: all refused the same way,
#      nothing created.
#   C. no lock is left behind: a direct upgrade with --lock-wait 0 runs.
#   D. read-only commands (check, current) work through the pool.
#
# usage: pg-harness.sh pooler.sh PATH-TO-migrate
# Skips when pgbouncer is not installed.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

PGB=$(command -v pgbouncer || true)
[ -n "$PGB" ] || [ ! -x /usr/sbin/pgbouncer ] || PGB=/usr/sbin/pgbouncer
[ -n "$PGB" ] || skip "pgbouncer is not installed"
command -v python3 >/dev/null || skip "python3 not found (free port)"

DB=torture_pool
DIR=$T_TMP/revs
gen_chain "$DIR" 3 0
fresh_db "$DB"

# --- PgBouncer --------------------------------------------------------------
PGB_DIR=$T_TMP/pgbouncer
mkdir -p "$PGB_DIR"
as_user=()
if [ "$(id -u)" = 0 ]; then
	chown postgres "$PGB_DIR"
	as_user=(-u postgres) # pgbouncer refuses to run as root
fi
PGB_PID=
for ((try = 0; try < 10; try++)); do
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$PGB_DIR/pgbouncer.ini" <<INI
[databases]
$DB = host=$PGHOST port=$PGPORT dbname=$DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $PGB_DIR
auth_type = trust
auth_file = $PGB_DIR/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 100
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_DIR/pgbouncer.pid
INI
	echo '"postgres" ""' >"$PGB_DIR/users.txt"
	chmod 644 "$PGB_DIR"/*
	"$PGB" "${as_user[@]}" "$PGB_DIR/pgbouncer.ini" >"$PGB_DIR/stdout" 2>&1 &
	PGB_PID=$!
	t_track "$PGB_PID"
	for ((i = 0; i < 250; i++)); do
		if PGCONNECT_TIMEOUT=5 psql -X -q -At -h 127.0.0.1 -p "$port" -d "$DB" \
			-c "SELECT 1" >/dev/null 2>&1; then
			break 2
		fi
		kill -0 "$PGB_PID" 2>/dev/null || break
		sleep 0.02
	done
	kill "$PGB_PID" 2>/dev/null || true
	wait "$PGB_PID" 2>/dev/null || true
	PGB_PID=
done
if [ -z "$PGB_PID" ]; then
	show "pgbouncer output" "$PGB_DIR/stdout"
	show "pgbouncer log" "$PGB_DIR/pgbouncer.log"
	fail "PgBouncer did not start"
fi
POOL_URL="postgresql://postgres@127.0.0.1:$port/$DB"
note "PgBouncer (pool_mode=transaction) on 127.0.0.1:$port"

nothing_created()
{
	local v
	v=$(q -d "$DB" -c "SELECT to_regclass('public.alembic_version') IS NULL
		AND to_regclass('public.t_001') IS NULL")
	[ "$v" = t ] || fail "$1: a refused run created tables"
}

expect_refused()
{
	local what=$1 out=$2
	expect_rc 4 "$what" "$out"
	grep -q "transaction pooler" "$out.err" && grep -q "nothing was changed" "$out.err" || {
		show stderr "$out.err"
		fail "$what: the error does not name the transaction pooler and that nothing changed"
	}
}

# --- A ------------------------------------------------------------------
run_migrate "$DB" "$T_TMP/a" 60 --database-url "$POOL_URL" --revisions "$DIR" upgrade head
expect_refused "A: upgrade through PgBouncer (transaction pooling)" "$T_TMP/a"
nothing_created A
note "A: $(head -n 1 "$T_TMP/a.err")"
run_migrate "$DB" "$T_TMP/a2" 60 --database-url "host=$PGB_DIR port=$port dbname=$DB user=postgres" \
	--revisions "$DIR" upgrade head
expect_refused "A: upgrade through PgBouncer's unix socket" "$T_TMP/a2"
nothing_created A2

# --- B ------------------------------------------------------------------
pids=()
for i in 0 1 2 3; do
	PGDATABASE=$DB timeout -k 5 60 "$MIGRATE" --database-url "$POOL_URL" \
		--revisions "$DIR" upgrade head >"$T_TMP/b$i.out" 2>"$T_TMP/b$i.err" </dev/null &
	pids+=("$!")
	t_track "$!"
done
for i in 0 1 2 3; do
	RC=0
	wait "${pids[$i]}" || RC=$?
	check_no_crash "$RC" "$T_TMP/b$i" "B: run $i"
	expect_refused "B: concurrent upgrade $i through PgBouncer" "$T_TMP/b$i"
done
nothing_created B

# --- C ------------------------------------------------------------------
run_migrate "$DB" "$T_TMP/c" 60 --revisions "$DIR" --lock-wait 0 upgrade head
expect_rc 0 "C: a direct upgrade after the pooled ones (no lock left behind)" "$T_TMP/c"
check_chain "$DB" 3 "C"
[ "$CHAIN_AT" = 3 ] || fail "C: at r$CHAIN_AT, expected r003"

# --- D ------------------------------------------------------------------
run_migrate "$DB" "$T_TMP/d1" 60 --database-url "$POOL_URL" --revisions "$DIR" check
expect_rc 0 "D: check through PgBouncer" "$T_TMP/d1"
run_migrate "$DB" "$T_TMP/d2" 60 --database-url "$POOL_URL" --revisions "$DIR" current
expect_rc 0 "D: current through PgBouncer" "$T_TMP/d2"

kill "$PGB_PID" 2>/dev/null || true
wait "$PGB_PID" 2>/dev/null || true
drop_db "$DB"
note "PASS"
