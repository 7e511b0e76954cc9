#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Lock contention. Another session holds a lock on a table that a revision
# alters:
#   A. LOCK TABLE ... ACCESS EXCLUSIVE, released after ~1.5 s; with
#      --lock-timeout 500ms --retries 3 the step times out, is retried, and
#      the run succeeds.
#   B. an open transaction that read the table and never ends: the run fails
#      cleanly (exit 4, the message names the lock timeout and the revision
#      file), the database stays at the previous revision, a rerun succeeds
#      once the lock is gone.
#   C. the default settings (lock timeout 5 s, 3 retries), lock released
#      after ~6.5 s: retried, succeeds.
# In B and C, other sessions keep running SELECTs on the table the whole
# time; each must complete within the lock timeout plus a margin: that is
# what lock_timeout is for (a waiting ACCESS EXCLUSIVE request queues every
# later reader behind it).
#
# usage: pg-harness.sh lock.sh PATH-TO-migrate
# env:   TORTURE_LOCK_DEFAULTS=0 skips C.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

DB=torture_lock
DIR=$T_TMP/revs
ALTER_FILE=002_alter_locked.sql
MARGIN_MS=1500

mkdir -p "$DIR"
cat >"$DIR/001_locked.sql" <<'EOF'
-- Create the table the lock tests fight over.
--
-- Revision ID: l001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE locked_t (id integer PRIMARY KEY, v text);
INSERT INTO locked_t SELECT g, 'row ' || g FROM generate_series(1, 1000) g;

-- migrate:downgrade
DROP TABLE locked_t;
EOF
cat >"$DIR/$ALTER_FILE" <<'EOF'
-- Alter the contended table (needs ACCESS EXCLUSIVE).
--
-- Revision ID: l002
-- Revises: l001
-- Create Date: 2026-01-31

-- migrate:upgrade
ALTER TABLE locked_t ADD COLUMN c2 integer;

-- migrate:downgrade
ALTER TABLE locked_t DROP COLUMN c2;
EOF
cat >"$DIR/003_after.sql" <<'EOF'
-- A revision after the contended one.
--
-- Revision ID: l003
-- Revises: l002
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE after_t (id integer);

-- migrate:downgrade
DROP TABLE after_t;
EOF

# state DB: "VERSION c2=(t|f) after=(t|f)"
state()
{
	q -d "$1" -c "SELECT (SELECT string_agg(version_num, ',') FROM alembic_version)
		|| ' c2=' || EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_name = 'locked_t' AND column_name = 'c2')
		|| ' after=' || (to_regclass('after_t') IS NOT NULL)"
}

HOLDER_PID=
HOLDER_BPID=

# start_holder DB LOCKSQL SECONDS: a session that runs LOCKSQL in a
# transaction and keeps it open SECONDS; returns once the lock is granted.
start_holder()
{
	local db=$1 locksql=$2 secs=$3 i
	PGAPPNAME=torture-holder timeout -k 5 300 \
		psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
		-c "BEGIN; $locksql; SELECT pg_sleep($secs); COMMIT;" \
		>/dev/null 2>"$T_TMP/holder.err" </dev/null &
	HOLDER_PID=$!
	t_track "$HOLDER_PID"
	HOLDER_BPID=
	for ((i = 0; i < 500; i++)); do
		HOLDER_BPID=$(q -d "$db" -c "SELECT l.pid FROM pg_locks l
			JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE a.application_name = 'torture-holder' AND l.granted
			  AND l.relation = 'locked_t'::regclass LIMIT 1")
		[ -n "$HOLDER_BPID" ] && return 0
		kill -0 "$HOLDER_PID" 2>/dev/null || break
		sleep 0.02
	done
	show "holder stderr" "$T_TMP/holder.err"
	fail "the holder session did not get its lock ($locksql)"
}

# stop_holder: end the holder's transaction now (if still running).
stop_holder()
{
	[ -n "$HOLDER_PID" ] || return 0
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	      WHERE pid = $HOLDER_BPID" >/dev/null || true
	wait "$HOLDER_PID" 2>/dev/null || true
	HOLDER_PID=
}

READER_PID=

# reader_loop DB OUT STOPFILE: SELECTs on locked_t, one session each, until
# STOPFILE exists (at most 600 queries, 120 s). Writes "start_ms ms rc",
# ms the time of the SELECT as psql's \timing measures it: what a waiting
# lock request adds to a reader's query, not the start of psql and its
# connection, which lock_timeout does not bound and which on a loaded
# machine take what they take (without a Time: line, psql's whole run).
reader_loop()
{
	local db=$1 out=$2 stop=$3 i t0 t1 rc deadline ms
	deadline=$(($(now_ms) + 120000))
	for ((i = 0; i < 600; i++)); do
		[ -e "$stop" ] && break
		(($(now_ms) < deadline)) || break
		t0=$(now_ms)
		rc=0
		PGAPPNAME=torture-reader timeout -k 5 60 \
			psql -X -q -At -d "$db" -c '\timing on' \
			-c 'SELECT count(*) FROM locked_t' \
			>"$out.one" 2>>"$out.err" </dev/null || rc=$?
		t1=$(now_ms)
		ms=$(sed -n 's/^Time: \([0-9]*\)\..*/\1/p' "$out.one")
		echo "$t0 ${ms:-$((t1 - t0))} $rc" >>"$out"
		sleep 0.05
	done
}

start_readers()
{
	rm -f "$T_TMP/readers" "$T_TMP/readers.err" "$T_TMP/readers.stop"
	: >"$T_TMP/readers"
	reader_loop "$1" "$T_TMP/readers" "$T_TMP/readers.stop" &
	READER_PID=$!
	t_track "$READER_PID"
}

# stop_readers FROM_MS TO_MS LIMIT_MS MIN WHAT: every SELECT finished within
# LIMIT_MS, and at least MIN ran while migrate was waiting (FROM..TO).
stop_readers()
{
	local from=$1 to=$2 limit=$3 min=$4 what=$5 n=0 during=0 max=0 t0 ms rc
	touch "$T_TMP/readers.stop"
	wait "$READER_PID" || fail "$what: reader loop failed"
	while read -r t0 ms rc; do
		n=$((n + 1))
		if [ "$rc" -ne 0 ]; then
			show "reader stderr" "$T_TMP/readers.err"
			fail "$what: a reader's SELECT failed (exit $rc)"
		fi
		if [ "$t0" -ge "$from" ] && [ "$t0" -le "$to" ]; then
			during=$((during + 1))
		fi
		[ "$ms" -gt "$max" ] && max=$ms
	done <"$T_TMP/readers"
	[ "$during" -ge "$min" ] ||
		fail "$what: only $during reader queries ran while migrate was waiting; the test proves nothing"
	[ "$max" -le "$limit" ] ||
		fail "$what: a reader's SELECT took ${max} ms while migrate waited for its lock (limit ${limit} ms): lock_timeout does not protect readers"
	note "$what: $n reader SELECTs ($during while migrate ran), slowest ${max} ms (limit ${limit} ms)"
}

setup_db()
{
	fresh_db "$DB"
	run_migrate "$DB" "$T_TMP/setup" 60 --revisions "$DIR" upgrade l001
	expect_rc 0 "upgrade l001 (setup)" "$T_TMP/setup"
	[ "$(state "$DB")" = "l001 c2=false after=false" ] ||
		fail "setup: state is '$(state "$DB")'"
}

# --- A: ACCESS EXCLUSIVE held ~1.5 s, short lock timeout, retried --------
setup_db
start_holder "$DB" "LOCK TABLE locked_t IN ACCESS EXCLUSIVE MODE" 1.5
t0=$(now_ms)
run_migrate "$DB" "$T_TMP/a" 60 --revisions "$DIR" \
	--lock-timeout 500ms --retries 3 upgrade head
el=$(($(now_ms) - t0))
stop_holder
expect_rc 0 "A: upgrade while ACCESS EXCLUSIVE is held for 1.5 s (--lock-timeout 500ms --retries 3)" "$T_TMP/a"
st=$(state "$DB")
[ "$st" = "l003 c2=true after=true" ] || fail "A: exit 0 but state '$st'"
[ "$el" -ge 700 ] ||
	fail "A: the run took ${el} ms although the table was locked for ~1.5 s: did it wait at all?"
cat "$T_TMP/a.out" "$T_TMP/a.err" >"$T_TMP/a.all"
if ! grep -qi 'lock' "$T_TMP/a.all"; then
	show stdout "$T_TMP/a.out"
	show stderr "$T_TMP/a.err"
	fail "A: the run was retried after a lock timeout but printed nothing about what it waited on"
fi
note "A: lock released during the retries: exit 0 after ${el} ms; said: $(grep -i 'lock' "$T_TMP/a.all" | head -n 1)"

# --- B: never released, readers keep reading -----------------------------
setup_db
start_holder "$DB" "SELECT count(*) FROM locked_t" 120
start_readers "$DB"
sleep 0.3
t0=$(now_ms)
run_migrate "$DB" "$T_TMP/b" 90 --revisions "$DIR" \
	--lock-timeout 500ms --retries 3 upgrade head
t1=$(now_ms)
sleep 0.3
stop_readers "$t0" "$t1" $((500 + MARGIN_MS)) 3 "B"
st=$(state "$DB")
stop_holder
expect_rc 4 "B: upgrade while a transaction holding a lock on locked_t never ends" "$T_TMP/b"
if ! grep -Eqi 'lock[ _]timeout' "$T_TMP/b.err" || ! grep -qF "$ALTER_FILE" "$T_TMP/b.err"; then
	show stderr "$T_TMP/b.err"
	fail "B: the error does not name the lock timeout and $ALTER_FILE"
fi
[ "$st" = "l001 c2=false after=false" ] ||
	fail "B: a failed run changed the database: state '$st', expected l001 unchanged"
note "B: gave up after $((t1 - t0)) ms: $(grep -Ei 'lock[ _]timeout' "$T_TMP/b.err" | tail -n 1)"
run_migrate "$DB" "$T_TMP/b2" 60 --revisions "$DIR" --lock-timeout 500ms upgrade head
expect_rc 0 "B: rerun once the lock is gone" "$T_TMP/b2"
st=$(state "$DB")
[ "$st" = "l003 c2=true after=true" ] || fail "B: rerun exit 0 but state '$st'"

# --- C: defaults (lock timeout 5 s, 3 retries) -----------------------------
if [ "${TORTURE_LOCK_DEFAULTS:-1}" = 0 ]; then
	note "C: skipped (TORTURE_LOCK_DEFAULTS=0)"
else
	setup_db
	start_holder "$DB" "SELECT count(*) FROM locked_t" 6.5
	start_readers "$DB"
	sleep 0.3
	t0=$(now_ms)
	run_migrate "$DB" "$T_TMP/c" 90 --revisions "$DIR" upgrade head
	t1=$(now_ms)
	sleep 0.3
	stop_readers "$t0" "$t1" $((5000 + MARGIN_MS)) 2 "C"
	stop_holder
	expect_rc 0 "C: upgrade with the default lock settings, lock released after ~6.5 s" "$T_TMP/c"
	st=$(state "$DB")
	[ "$st" = "l003 c2=true after=true" ] || fail "C: exit 0 but state '$st'"
	[ $((t1 - t0)) -ge 5000 ] ||
		fail "C: finished in $((t1 - t0)) ms although the lock was held ~6.5 s"
	note "C: default settings: retried and succeeded after $((t1 - t0)) ms"
fi

drop_db "$DB"
note "PASS"
