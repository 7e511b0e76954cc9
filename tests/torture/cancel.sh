#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Ctrl-C and SIGTERM cancel the work (issue 11 §4). A revision sleeps on
# the server; `migrate upgrade` gets the signal while the statement runs:
#   A. SIGINT during a transactional revision: exit 130, one line naming
#      the revision, "rolled back" and where the database is; the server
#      statement is gone (cancelled, not left running), the lock is free
#      (an upgrade with --lock-wait 0 runs at once), nothing of the
#      revision remains.
#   B. SIGTERM during a transaction=false revision: exit 143, one line
#      saying the database is dirty with the resolve hint; `check` reports
#      it dirty; the lock is free.
#
# usage: pg-harness.sh cancel.sh PATH-TO-migrate

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

DB=torture_cancel
DIR=$T_TMP/revs
mkdir -p "$DIR"
cat >"$DIR/001_base.sql" <<'SQL'
-- Base table.
--
-- Revision ID: k001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE base_t (id integer);

-- migrate:downgrade
DROP TABLE base_t;
SQL
cat >"$DIR/002_slow.sql" <<'SQL'
-- A slow transactional revision.
--
-- Revision ID: k002
-- Revises: k001
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE slow_t (id integer);
SELECT pg_sleep(60);

-- migrate:downgrade
DROP TABLE slow_t;
SQL
cat >"$DIR/003_slow_nontx.sql" <<'SQL'
-- A slow non-transactional revision.
--
-- Revision ID: k003
-- Revises: k002
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE INDEX CONCURRENTLY slow_t_id ON slow_t (id);
SELECT pg_sleep(60);

-- migrate:downgrade transaction=false
DROP INDEX CONCURRENTLY slow_t_id;
SQL

version()
{
	q -d "$DB" -c "SELECT string_agg(version_num, ',') FROM alembic_version"
}

# wait_sleeping: until the migrate session runs pg_sleep(60).
wait_sleeping()
{
	local i n=0
	for ((i = 0; i < 1000; i++)); do
		n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'
			  AND application_name = 'migrate' AND state = 'active'
			  AND query LIKE '%pg_sleep(60)%'")
		[ "$n" = 1 ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.02
	done
	show stderr "$T_TMP/$1.err"
	fail "$1: the run never reached its pg_sleep(60)"
}

# interrupt NAME SIGNAL: start an upgrade, signal it inside the sleep, and
# wait for it (at most 30 s: the sleep is 60 s, so a run that ignored the
# signal is caught).
interrupt()
{
	local name=$1 sig=$2 i
	PGDATABASE=$DB "$MIGRATE" --revisions "$DIR" upgrade head \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" </dev/null &
	PID=$!
	t_track "$PID"
	wait_sleeping "$name"
	kill "-$sig" "$PID"
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$PID" 2>/dev/null; then
		show stderr "$T_TMP/$name.err"
		fail "$name: still running 30 s after SIG$sig"
	fi
	RC=0
	wait "$PID" || RC=$?
}

no_sleeper()
{
	local n
	n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'
		  AND query LIKE '%pg_sleep(60)%' AND state = 'active'
		  AND pid <> pg_backend_pid()")
	[ "$n" = 0 ] || fail "$1: the interrupted statement still runs on the server"
}

fresh_db "$DB"
run_migrate "$DB" "$T_TMP/setup" 60 --revisions "$DIR" upgrade k001
expect_rc 0 "upgrade k001 (setup)" "$T_TMP/setup"

# --- A: SIGINT in a transactional revision -------------------------------
interrupt a INT
expect_rc 130 "A: SIGINT during revision k002" "$T_TMP/a"
[ "$(wc -l <"$T_TMP/a.err")" -eq 1 ] || {
	show stderr "$T_TMP/a.err"
	fail "A: expected one line on stderr"
}
for want in k002 "rolled back" "the database is at k001"; do
	grep -qF "$want" "$T_TMP/a.err" || {
		show stderr "$T_TMP/a.err"
		fail "A: the message does not say '$want'"
	}
done
no_sleeper A
[ "$(version)" = k001 ] || fail "A: version is '$(version)', expected k001"
[ "$(q -d "$DB" -c "SELECT to_regclass('slow_t') IS NULL")" = t ] ||
	fail "A: slow_t exists after the rollback"
run_migrate "$DB" "$T_TMP/a2" 60 --revisions "$DIR" --lock-wait 0 upgrade k001
expect_rc 0 "A: the lock is free after the cancel (--lock-wait 0)" "$T_TMP/a2"
note "A: $(cat "$T_TMP/a.err")"

# --- B: SIGTERM in a non-transactional revision ---------------------------
# k002 is not under test here: make it quick.
sed -i 's/^SELECT pg_sleep(60);$/SELECT pg_sleep(0.1);/' "$DIR/002_slow.sql"
run_migrate "$DB" "$T_TMP/b0" 60 --revisions "$DIR" upgrade k002
expect_rc 0 "B: upgrade k002 (setup)" "$T_TMP/b0"
interrupt b TERM
expect_rc 143 "B: SIGTERM during the non-transactional revision k003" "$T_TMP/b"
[ "$(wc -l <"$T_TMP/b.err")" -eq 1 ] || {
	show stderr "$T_TMP/b.err"
	fail "B: expected one line on stderr"
}
for want in k003 dirty "migrate resolve"; do
	grep -qF "$want" "$T_TMP/b.err" || {
		show stderr "$T_TMP/b.err"
		fail "B: the message does not say '$want'"
	}
done
no_sleeper B
run_migrate "$DB" "$T_TMP/b2" 60 --revisions "$DIR" --lock-wait 0 upgrade head
expect_rc 4 "B: the database is dirty after the cancel (and the lock is free)" "$T_TMP/b2"
grep -q dirty "$T_TMP/b2.err" || {
	show stderr "$T_TMP/b2.err"
	fail "B: the rerun does not say dirty"
}
run_migrate "$DB" "$T_TMP/b3" 60 --revisions "$DIR" check
expect_rc 1 "B: check after the interrupted non-transactional revision" "$T_TMP/b3"
grep -q "stopped part-way" "$T_TMP/b3.out" && ! grep -q "in progress" "$T_TMP/b3.out" || {
	show stdout "$T_TMP/b3.out"
	fail "B: check must say the interrupted revision stopped part-way (its session is gone)"
}
note "B: $(cat "$T_TMP/b.err")"

drop_db "$DB"
note "PASS"
