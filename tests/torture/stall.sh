#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every wait is bounded (issue 11 §3). A loopback proxy
# (tests/stall-proxy.py) forwards to the server until told to stall: then
# it keeps every TCP connection open and forwards nothing (keepalives are
# still answered, so only a deadline of our own can notice).
#   A. through the proxy, an upgrade works (the proxy is a stable session).
#   B. stall while `upgrade` polls for the migration lock (held by another
#      session): exit 4 within the I/O timeout, saying the server did not
#      answer; nothing changed.
#   C. stalled before the connect: `check`, a service (mirage-api) and
#      `upgrade` fail within their connect timeout.
#   E. stalled right after the connect (the first query gets no answer):
#      `check`, the service and `upgrade` fail within their I/O timeout,
#      saying the server did not answer.
#   D. stall while a revision with a statement_timeout runs: the client
#      gives up (exit 4); the server ends the stalled session once it is
#      idle (idle_session_timeout = the I/O timeout), so its migration
#      lock does not block the next run: a direct upgrade succeeds.
#
# usage: pg-harness.sh stall.sh PATH-TO-migrate

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

command -v python3 >/dev/null || skip "python3 not found (the stalling proxy)"
PROXY=$(cd "$(dirname "$0")/.." && pwd)/stall-proxy.py
DB=torture_stall
DIR=$T_TMP/revs
mkdir -p "$DIR"
rev()
{
	local n=$1 parent=$2 body=$3
	cat >"$DIR/00${n}_s.sql" <<SQL
-- stall test revision $n
--
-- Revision ID: s00$n
-- Revises: $parent
-- Create Date: 2026-01-31

-- migrate:upgrade
$body

-- migrate:downgrade
SELECT 1;
SQL
}
rev 1 "" "CREATE TABLE s1 (id integer);"
rev 2 s001 "CREATE TABLE s2 (id integer);"
rev 3 s002 "CREATE TABLE s3 (id integer);
SELECT pg_sleep(1.5);"

PROXY_PID=
start_proxy()
{
	local i
	rm -f "$T_TMP/pport"
	python3 "$PROXY" "$PGPORT" "$T_TMP/pport" "$@" 2>"$T_TMP/proxy.err" &
	PROXY_PID=$!
	t_track "$PROXY_PID"
	for ((i = 0; i < 500; i++)); do
		[ -s "$T_TMP/pport" ] && break
		sleep 0.02
	done
	[ -s "$T_TMP/pport" ] || fail "the stalling proxy did not start"
	URL="host=127.0.0.1 port=$(cat "$T_TMP/pport") user=postgres dbname=$DB"
}
stop_proxy()
{
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

version()
{
	q -d "$DB" -c "SELECT string_agg(version_num, ',') FROM alembic_version"
}

# timed NAME LIMIT ARGS...: migrate through the proxy, bounded by LIMIT s.
timed()
{
	local name=$1 limit=$2
	shift 2
	T0=$(now_ms)
	run_migrate "$DB" "$T_TMP/$name" "$limit" --database-url "$URL" "$@"
	EL=$(($(now_ms) - T0))
}

fresh_db "$DB"
start_proxy

# --- A ---------------------------------------------------------------------
timed a 60 --revisions "$DIR" upgrade s001
expect_rc 0 "A: upgrade through the (flowing) proxy" "$T_TMP/a"

# --- B: stall during the lock wait ---------------------------------------
key=$(q -d "$DB" -c "SELECT ('x' || left(encode(sha256(convert_to('public.alembic_version', 'UTF8')), 'hex'), 16))::bit(64)::bigint")
coproc HOLDER { PGAPPNAME=stall-holder psql -X -q -At -d "$DB" 2>&1; }
t_track "$HOLDER_PID"
echo "SELECT 'locked' FROM (SELECT pg_advisory_lock($key)) l;" >&"${HOLDER[1]}"
read -r -t 20 line <&"${HOLDER[0]}" || fail "B: could not take the lock in psql"
[ "$line" = locked ] || fail "B: psql said '$line'"
PGDATABASE=$DB timeout -k 5 60 "$MIGRATE" --database-url "$URL" --revisions "$DIR" \
	--io-timeout 2s --lock-wait 60s upgrade head >"$T_TMP/b.out" 2>"$T_TMP/b.err" </dev/null &
pid=$!
t_track "$pid"
for ((i = 0; i < 500; i++)); do
	n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND application_name = 'migrate'")
	[ "$n" -ge 1 ] && break
	sleep 0.02
done
sleep 0.5
kill -USR1 "$PROXY_PID"
t0=$(now_ms)
RC=0
wait "$pid" || RC=$?
el=$(($(now_ms) - t0))
check_no_crash "$RC" "$T_TMP/b" "B: upgrade stalled in the lock wait"
expect_rc 4 "B: upgrade whose connection stalls while it waits for the lock" "$T_TMP/b"
grep -q "no answer from the server" "$T_TMP/b.err" || {
	show stderr "$T_TMP/b.err"
	fail "B: the error does not say that the server did not answer"
}
echo "\\q" >&"${HOLDER[1]}"
wait "$HOLDER_PID" 2>/dev/null || true
[ "$(version)" = s001 ] || fail "B: version '$(version)', expected s001"
note "B: gave up ${el} ms after the stall: $(head -n 1 "$T_TMP/b.err")"

# --- C: stalled before the connect ----------------------------------------
timed c1 30 --revisions "$DIR" check
expect_rc 4 "C: check through a proxy that never answers" "$T_TMP/c1"
note "C: check gave up after ${EL} ms: $(head -n 1 "$T_TMP/c1.err")"
timed c2 30 --revisions "$DIR" --io-timeout 2s upgrade head
expect_rc 4 "C: upgrade through a proxy that never answers" "$T_TMP/c2"
note "C: upgrade gave up after ${EL} ms: $(head -n 1 "$T_TMP/c2.err")"
# A service's startup check (migrate_verify() on a read-only handle).
API=$(dirname "$MIGRATE")/../examples/mirage-api
if [ -x "$API" ]; then
	t0=$(now_ms)
	rc=0
	MIRAGE_DATABASE_URL=$URL timeout -k 5 30 "$API" --once \
		>"$T_TMP/c3.out" 2>"$T_TMP/c3.err" </dev/null || rc=$?
	check_no_crash "$rc" "$T_TMP/c3" "C: mirage-api through a stalled proxy"
	[ "$rc" = 1 ] || {
		show stderr "$T_TMP/c3.err"
		fail "C: mirage-api through a proxy that never answers: exit $rc, expected 1"
	}
	note "C: mirage-api gave up after $(($(now_ms) - t0)) ms: $(head -n 1 "$T_TMP/c3.err")"
else
	note "C: no examples/mirage-api next to migrate: service check skipped"
fi
stop_proxy

# --- D: stall in a revision; the stalled session's lock ------------------
start_proxy
run_migrate "$DB" "$T_TMP/d0" 60 --revisions "$DIR" upgrade s002
expect_rc 0 "D: upgrade s002 (setup)" "$T_TMP/d0"
PGDATABASE=$DB timeout -k 5 60 "$MIGRATE" --database-url "$URL" --revisions "$DIR" \
	--io-timeout 2s --statement-timeout 3s upgrade head \
	>"$T_TMP/d.out" 2>"$T_TMP/d.err" </dev/null &
pid=$!
t_track "$pid"
for ((i = 0; i < 500; i++)); do
	n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'
		  AND application_name = 'migrate' AND query LIKE '%pg_sleep(1.5)%'")
	[ "$n" = 1 ] && break
	sleep 0.02
done
[ "$n" = 1 ] || fail "D: the run never reached its pg_sleep"
kill -USR1 "$PROXY_PID"
RC=0
wait "$pid" || RC=$?
check_no_crash "$RC" "$T_TMP/d" "D: upgrade stalled in a revision"
expect_rc 4 "D: upgrade whose connection stalls during a revision" "$T_TMP/d"
for want in "no answer from the server" "lost during this revision" "committed or rolled back"; do
	grep -q "$want" "$T_TMP/d.err" || {
		show stderr "$T_TMP/d.err"
		fail "D: the error does not say '$want'"
	}
done
note "D: $(head -n 1 "$T_TMP/d.err")"
# The server finished the revision and went idle behind the stalled proxy,
# holding the lock; it ends that session after the idle timeout.
run_migrate "$DB" "$T_TMP/d2" 60 --revisions "$DIR" --lock-wait 30s upgrade head
expect_rc 0 "D: a direct upgrade after the stalled one (its lock must not block forever)" "$T_TMP/d2"
[ "$(version)" = s003 ] || fail "D: version '$(version)', expected s003"
n=$(q -d "$DB" -c "SELECT count(*) FROM migrate_log WHERE revision = 's003' AND success AND operation = 'upgrade'")
[ "$n" = 1 ] || fail "D: s003 was applied $n times"
stop_proxy

# --- E: stalled after the connect -----------------------------------------
start_proxy after-ready
timed e1 30 --revisions "$DIR" check
expect_rc 4 "E: check whose first query gets no answer" "$T_TMP/e1"
grep -q "no answer from the server" "$T_TMP/e1.err" || {
	show stderr "$T_TMP/e1.err"
	fail "E: check does not say that the server did not answer"
}
note "E: check gave up after ${EL} ms: $(head -n 1 "$T_TMP/e1.err")"
timed e2 30 --revisions "$DIR" --io-timeout 2s upgrade head
expect_rc 4 "E: upgrade whose first query gets no answer" "$T_TMP/e2"
note "E: upgrade gave up after ${EL} ms: $(head -n 1 "$T_TMP/e2.err")"
if [ -x "$API" ]; then
	rc=0
	MIRAGE_DATABASE_URL=$URL timeout -k 5 30 "$API" --once \
		>"$T_TMP/e3.out" 2>"$T_TMP/e3.err" </dev/null || rc=$?
	check_no_crash "$rc" "$T_TMP/e3" "E: mirage-api, first query unanswered"
	[ "$rc" = 1 ] && grep -q "no answer from the server" "$T_TMP/e3.err" || {
		show stderr "$T_TMP/e3.err"
		fail "E: mirage-api whose verify gets no answer: exit $rc (expected 1, 'no answer from the server')"
	}
	note "E: mirage-api: $(head -n 1 "$T_TMP/e3.err")"
fi
stop_proxy

drop_db "$DB"
note "PASS"
