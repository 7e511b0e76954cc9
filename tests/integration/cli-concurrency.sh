#!/bin/bash
# SPDX-License-Identifier: MIT
#
# 8 concurrent `migrate upgrade head` runs on a 20-revision chain: all exit
# 0, and each revision is applied exactly once (one successful upgrade row
# per revision in migrate_log, every table once).
#
# usage: pg-harness.sh bash cli-concurrency.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

T=$T_TMP
D=$T/revs
N=20
RUNS=8
gen_chain "$D" "$N"
DB=conc_db
fresh_db "$DB"

pids=()
for ((i = 0; i < RUNS; i++)); do
	PGDATABASE=$DB timeout -k 5 120 "$MIGRATE" --revisions "$D" upgrade head \
		>"$T/run$i.out" 2>"$T/run$i.err" </dev/null &
	pids+=("$!")
	T_PIDS+=("$!")
done
for ((i = 0; i < RUNS; i++)); do
	rc=0
	wait "${pids[$i]}" || rc=$?
	if [ "$rc" -ne 0 ]; then
		show "stderr of run $i" "$T/run$i.err"
		fail "run $i exited $rc"
	fi
done
T_PIDS=()
ok "all $RUNS concurrent runs exited 0"

same "$(version_of "$DB")" "r020" "the database is at r020"
same "$(q -d "$DB" -c "SELECT count(*) FROM migrate_log WHERE success AND operation = 'upgrade'")" \
	"$N" "$N successful upgrade rows in migrate_log"
same "$(q -d "$DB" -c "SELECT count(*) FROM (SELECT revision FROM migrate_log
	WHERE success AND operation = 'upgrade' GROUP BY revision HAVING count(*) = 1) x")" \
	"$N" "each revision applied exactly once"
same "$(q -d "$DB" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname ~ '^t_[0-9]+$'")" \
	"$N" "$N tables"
nothing=$(grep -l "nothing to do" "$T"/run*.out | wc -l)
note "$nothing of $RUNS runs found nothing left to do"
m "$DB" "$T/chk" --revisions "$D" check
expect 0 "check after the concurrent runs"
