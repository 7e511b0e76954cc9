#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Waiting migrators must not deadlock CREATE INDEX CONCURRENTLY (issue 11
# §1). CIC waits for every transaction that holds a snapshot; a migrator
# that waited for the migration lock inside a transaction (or in one long
# `SELECT pg_advisory_lock()`, which holds a snapshot) made the holder's
# CIC wait for the waiter, which waited for the holder: "deadlock
# detected", a dirty database and an invalid index.
#
# A three-revision chain whose middle revision is transaction=false:
# `SELECT pg_sleep(1.5); CREATE INDEX CONCURRENTLY ...`. The database is
# upgraded to the first revision; one `migrate upgrade head` starts, and
# once it is inside the sleep, 63 more start. Every run exits 0, every
# revision is applied exactly once, the index is valid, no dirty mark.
#
# usage: pg-harness.sh cic.sh PATH-TO-migrate
# env:   TORTURE_CIC_RUNS (default 64: the first plus 63 waiters)

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

RUNS=${TORTURE_CIC_RUNS:-64}
DB=torture_cic
DIR=$T_TMP/revs
mkdir -p "$DIR"
cat >"$DIR/001_items.sql" <<'SQL'
-- The table to index.
--
-- Revision ID: c001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE items (id integer PRIMARY KEY, v text);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 2000) g;

-- migrate:downgrade
DROP TABLE items;
SQL
cat >"$DIR/002_items_v.sql" <<'SQL'
-- An index built without blocking writers.
--
-- Revision ID: c002
-- Revises: c001
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
SELECT pg_sleep(1.5);
CREATE INDEX CONCURRENTLY items_v ON items (v);

-- migrate:downgrade transaction=false
DROP INDEX CONCURRENTLY items_v;
SQL
cat >"$DIR/003_after.sql" <<'SQL'
-- A transactional revision after the concurrent one.
--
-- Revision ID: c003
-- Revises: c002
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE after_cic (id integer);

-- migrate:downgrade
DROP TABLE after_cic;
SQL

# state: "VERSION|valid indexes|invalid indexes|c001:n c002:n c003:n"
state()
{
	q -d "$DB" -c "SELECT concat_ws('|',
		(SELECT string_agg(version_num, ',') FROM alembic_version),
		(SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('items_v')
		   AND indisvalid),
		(SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		   WHERE c.relname = 'items' AND NOT i.indisvalid),
		(SELECT string_agg(revision || ':' || n, ' ' ORDER BY revision)
		   FROM (SELECT revision, count(*) n FROM migrate_log
			 WHERE success AND operation = 'upgrade' GROUP BY revision) x))"
}

fresh_db "$DB"
run_migrate "$DB" "$T_TMP/setup" 60 --revisions "$DIR" upgrade c001
expect_rc 0 "upgrade c001 (setup)" "$T_TMP/setup"

# The first run: started alone, waited for until its CIC revision sleeps.
PGDATABASE=$DB timeout -k 5 120 "$MIGRATE" --revisions "$DIR" upgrade head \
	>"$T_TMP/run-0.out" 2>"$T_TMP/run-0.err" </dev/null &
pids=("$!")
t_track "$!"
for ((i = 0; i < 500; i++)); do
	n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'
		  AND application_name = 'migrate' AND query LIKE '%pg_sleep(1.5)%'
		  AND state = 'active'")
	[ "$n" = 1 ] && break
	kill -0 "${pids[0]}" 2>/dev/null || break
	sleep 0.01
done
[ "$n" = 1 ] || fail "the first run never reached its CIC revision"

# While it runs, its dirty mark is "in progress", not "interrupted".
run_migrate "$DB" "$T_TMP/inprogress" 60 --revisions "$DIR" check
expect_rc 1 "check while the CIC revision runs" "$T_TMP/inprogress"
if ! grep -q "is in progress (the migration lock is held by pid " "$T_TMP/inprogress.out" ||
	grep -q "resolve c002" "$T_TMP/inprogress.out"; then
	show stdout "$T_TMP/inprogress.out"
	fail "check during a running non-transactional revision must say 'in progress' with the pid, not advise resolve"
fi
note "check during the CIC revision: $(cat "$T_TMP/inprogress.out")"

t0=$(now_ms)
for ((i = 1; i < RUNS; i++)); do
	PGDATABASE=$DB timeout -k 5 120 "$MIGRATE" --revisions "$DIR" \
		--lock-wait 100s upgrade head \
		>"$T_TMP/run-$i.out" 2>"$T_TMP/run-$i.err" </dev/null &
	pids+=("$!")
	t_track "$!"
done
bad=0
for ((i = 0; i < RUNS; i++)); do
	rc=0
	wait "${pids[$i]}" || rc=$?
	check_no_crash "$rc" "$T_TMP/run-$i" "run $i"
	if [ "$rc" -ne 0 ]; then
		[ "$bad" -lt 3 ] && show "run $i (exit $rc) stderr" "$T_TMP/run-$i.err"
		bad=$((bad + 1))
	fi
done
el=$(($(now_ms) - t0))
st=$(state)
[ "$bad" -eq 0 ] || fail "$bad of $RUNS concurrent upgrades failed (state: $st)"
[ "$st" = "c003|1|0|c001:1 c002:1 c003:1" ] ||
	fail "all runs exit 0 but the state is '$st', expected 'c003|1|0|c001:1 c002:1 c003:1' (version|valid index|invalid indexes|upgrades per revision)"
run_migrate "$DB" "$T_TMP/check" 60 --revisions "$DIR" check
expect_rc 0 "check after the concurrent upgrades (not dirty, at head)" "$T_TMP/check"
note "$RUNS concurrent upgrades over a CIC revision: all exit 0 in ${el} ms, each revision once, index valid"

drop_db "$DB"
note "PASS"
