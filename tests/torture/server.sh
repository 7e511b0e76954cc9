#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The server goes away mid-run:
#   1. pg_terminate_backend() of the migrating session (found by
#      application_name 'migrate' in pg_stat_activity), three times at
#      different moments;
#   2. a PostgreSQL fast restart (pg_ctl restart -m fast).
# Each time: the CLI exits 4 with a clear one-line error, the version table
# matches the schema exactly, and a rerun reaches head.
#
# usage: pg-harness.sh server.sh PATH-TO-migrate
# Needs pg-harness.sh's layout: the cluster's data directory is
# $PGHOST/data (override with MIGRATE_TEST_PGDATA), owned by postgres when
# we run as root; pg_ctl is in $MIGRATE_TEST_PGBIN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

N=20
SLEEP=0.1
DB=torture_server
DIR=$T_TMP/revs
gen_chain "$DIR" "$N" "$SLEEP"

# The last revision waits at a gate (an advisory lock a session of ours
# holds while a run is to be hit), so that a run cannot finish before the
# test hits it, however slow the machine: the runs last about N * SLEEP,
# and the latest hit (1.5 s) left a margin of under a second for the
# test's sleep and psql. The runs have no lock_timeout (start_run).
GATE_KEY=4242
sed -i "/^-- migrate:upgrade\$/a SELECT pg_advisory_xact_lock($GATE_KEY);" \
	"$DIR/$(printf '%03d' "$N")_t_$(printf '%03d' "$N").sql"
grep -q "pg_advisory_xact_lock($GATE_KEY)" "$DIR"/*.sql || fail "no gate in the last revision"

# close_gate: hold the gate's lock in a session on $DB.
close_gate()
{
	local line
	coproc GATE { PGAPPNAME=torture-gate psql -X -q -At -d "$DB" 2>&1; }
	t_track "$GATE_PID"
	echo "SELECT 'closed' FROM (SELECT pg_advisory_lock($GATE_KEY)) l;" >&"${GATE[1]}"
	read -r -t 60 line <&"${GATE[0]}" || fail "the gate session did not answer"
	[ "$line" = closed ] || fail "cannot close the gate: $line"
}

# open_gate: end that session (its lock goes with it).
open_gate()
{
	echo '\q' >&"${GATE[1]}" || true
	wait "$GATE_PID" 2>/dev/null || true
}

PGDATA_DIR=${MIGRATE_TEST_PGDATA:-$PGHOST/data}
PGBIN=${MIGRATE_TEST_PGBIN:-$(pg_config --bindir 2>/dev/null || true)}

# check_one_line_error OUT WHAT: exit 4 and a single, clear line on stderr.
check_one_line_error()
{
	local out=$1 what=$2 lines
	expect_rc 4 "$what" "$out"
	lines=$(grep -c . "$out.err" || true)
	if [ "$lines" -ne 1 ]; then
		show stderr "$out.err"
		fail "$what: $lines lines on stderr, expected one clear line"
	fi
	if ! grep -q '^migrate: ' "$out.err" || grep -q '(null)' "$out.err"; then
		show stderr "$out.err"
		fail "$what: the error is not a clear 'migrate: ...' line"
	fi
	if ! grep -Eqi 'terminat|connection|server|closed|shut' "$out.err"; then
		show stderr "$out.err"
		fail "$what: the error does not say that the connection or server went away"
	fi
}

# start_run OUT: migrate upgrade head in the background; sets RUN_PID.
start_run()
{
	PGDATABASE=$DB timeout -k 5 120 "$MIGRATE" --revisions "$DIR" \
		--lock-timeout 0 upgrade head >"$1.out" 2>"$1.err" </dev/null &
	RUN_PID=$!
	t_track "$RUN_PID"
}

# finish_run OUT WHAT: wait for the background run; sets RC.
finish_run()
{
	RC=0
	wait "$RUN_PID" || RC=$?
	check_no_crash "$RC" "$1" "$2"
}

rerun_to_head()
{
	local what=$1
	wait_sessions_gone "$DB" 20
	check_chain "$DB" "$N" "$what"
	local at=$CHAIN_AT
	run_migrate "$DB" "$T_TMP/rerun" 120 --revisions "$DIR" upgrade head
	expect_rc 0 "$what: rerun" "$T_TMP/rerun"
	check_chain "$DB" "$N" "$what: after the rerun"
	[ "$CHAIN_AT" -eq "$N" ] || fail "$what: rerun exited 0 but the database is at r$CHAIN_AT"
	note "$what: stopped at r$at; rerun reached r$N"
}

# --- 1. pg_terminate_backend ------------------------------------------------
# The whole run lasts about N * SLEEP = 2 s; terminate after 0.3 s to 1.5 s.
for trial in 0 1 2; do
	fresh_db "$DB"
	out=$T_TMP/term-$trial
	close_gate
	start_run "$out"
	bpid=$(wait_migrate_session "$DB" 20)
	delay_ms=$((300 + trial * 500 + RANDOM % 200))
	sleep_ms "$delay_ms"
	sig=$(q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		    WHERE pid = $bpid AND application_name = 'migrate'")
	finish_run "$out" "terminate trial $trial"
	open_gate
	if [ "$sig" != t ]; then
		show stderr "$out.err"
		fail "terminate trial $trial: the migrate session $bpid was gone before ${delay_ms} ms (exit $RC); the run is too short"
	fi
	check_one_line_error "$out" "terminate trial $trial: pg_terminate_backend after ${delay_ms} ms"
	note "terminate trial $trial: exit 4: $(head -n 1 "$out.err")"
	rerun_to_head "terminate trial $trial"
done

# --- 2. fast restart ----------------------------------------------------------
{ [ -n "$PGBIN" ] && [ -x "$PGBIN/pg_ctl" ]; } || fail "no pg_ctl (MIGRATE_TEST_PGBIN=$PGBIN)"
[ -f "$PGDATA_DIR/PG_VERSION" ] ||
	fail "no cluster in $PGDATA_DIR (set MIGRATE_TEST_PGDATA to the harness's data directory)"
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)

fresh_db "$DB"
out=$T_TMP/restart
close_gate
start_run "$out"
wait_migrate_session "$DB" 20 >/dev/null
sleep_ms $((500 + RANDOM % 400))
# -l: the restarted server must not inherit our stdout.
if ! timeout -k 5 120 "${as_pg[@]}" "$PGBIN/pg_ctl" restart -D "$PGDATA_DIR" -m fast -w -t 60 \
	-l "$PGHOST/server.log" >"$T_TMP/pg_ctl.log" 2>&1; then
	show "pg_ctl" "$T_TMP/pg_ctl.log"
	fail "pg_ctl restart -m fast failed"
fi
finish_run "$out" "fast restart"
open_gate
check_one_line_error "$out" "fast restart during the upgrade"
note "fast restart: exit 4: $(head -n 1 "$out.err")"
for ((i = 0; i < 100; i++)); do
	q -c 'SELECT 1' >/dev/null 2>&1 && break
	sleep 0.1
done
q -c 'SELECT 1' >/dev/null || fail "the server does not answer after the restart"
rerun_to_head "fast restart"

drop_db "$DB"
note "PASS"
