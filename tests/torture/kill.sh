#!/bin/bash
# SPDX-License-Identifier: MIT
#
# SIGKILL the CLI at random moments of a 50-revision upgrade. After every
# kill the version table must match the schema exactly (each applied
# revision's table, index and rows exist, no later revision's do, one
# successful history row per applied revision), and a rerun must reach head.
#
# usage: pg-harness.sh kill.sh PATH-TO-migrate
# env:   TORTURE_KILL_TRIALS (default 30, at least 25), TORTURE_SEED

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

N=50
TRIALS=${TORTURE_KILL_TRIALS:-30}
SLEEP=0.003
DB=torture_kill
DIR=$T_TMP/revs

[ "$TRIALS" -ge 25 ] || fail "TORTURE_KILL_TRIALS=$TRIALS: the spec asks for at least 25"
gen_chain "$DIR" "$N" "$SLEEP"

# Calibrate: how long does an undisturbed run take on this machine? The
# fastest of three runs (the first one warms the caches).
fresh_db "$DB"
run_ms=
for calib in 1 2 3; do
	reset_schema "$DB"
	t0=$(now_ms)
	run_migrate "$DB" "$T_TMP/calib" 120 --revisions "$DIR" upgrade head
	expect_rc 0 "calibration run $calib (upgrade head on an empty schema)" "$T_TMP/calib"
	ms=$(($(now_ms) - t0))
	if [ -z "$run_ms" ] || [ "$ms" -lt "$run_ms" ]; then
		run_ms=$ms
	fi
	check_chain "$DB" "$N" "after calibration run $calib"
	[ "$CHAIN_AT" -eq "$N" ] ||
		fail "calibration run $calib exited 0 but the database is at r$CHAIN_AT, not r$N"
done
note "an undisturbed run of $N revisions takes ${run_ms} ms; $TRIALS trials"

killed=0
finished=0
mid=0
declare -A seen=()
for ((trial = 0; trial < TRIALS; trial++)); do
	# Stratified: trial k kills somewhere in the k-th slice of the run
	# (a little shorter than the estimated run), so that the kills cover
	# it from connect to the last commit.
	delay_ms=$((run_ms * 95 * (trial * 1000 + RANDOM % 1000) / (TRIALS * 100000)))
	reset_schema "$DB"
	out=$T_TMP/trial-$trial
	t0=$(now_ms)
	PGDATABASE=$DB "$MIGRATE" --revisions "$DIR" upgrade head \
		>"$out.out" 2>"$out.err" </dev/null &
	pid=$!
	t_track "$pid"
	sleep_ms "$delay_ms"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	case $rc in
	137) killed=$((killed + 1)) ;;
	0)
		finished=$((finished + 1))
		# The machine got faster (other load went away): a whole
		# run took at most this long.
		sample=$(($(now_ms) - t0))
		run_ms=$(((3 * run_ms + sample) / 4))
		;;
	*)
		show stderr "$out.err"
		fail "trial $trial: migrate exited $rc on its own before the kill"
		;;
	esac
	check_no_crash 0 "$out" "trial $trial (killed run)"

	wait_sessions_gone "$DB" 20
	check_chain "$DB" "$N" "trial $trial, after SIGKILL at ${delay_ms} ms (exit $rc)"
	at=$CHAIN_AT
	seen[$at]=1
	if [ "$at" -gt 0 ] && [ "$at" -lt "$N" ]; then
		mid=$((mid + 1))
	fi

	t0=$(now_ms)
	run_migrate "$DB" "$out.rerun" 120 --revisions "$DIR" upgrade head
	expect_rc 0 "trial $trial: rerun after the kill at r$at" "$out.rerun"
	if [ "$rc" = 137 ]; then
		# Killed at delay_ms, then rerun_ms for the rest: re-estimate
		# the length of a whole run as the load of the machine varies.
		sample=$((delay_ms + $(now_ms) - t0))
		run_ms=$(((3 * run_ms + sample) / 4))
	fi
	check_chain "$DB" "$N" "trial $trial, after the rerun"
	[ "$CHAIN_AT" -eq "$N" ] ||
		fail "trial $trial: rerun exited 0 but the database is at r$CHAIN_AT"
	note "trial $trial: kill at ${delay_ms} ms -> r$at (exit $rc), rerun -> r$N; a run now takes ~${run_ms} ms"
done
drop_db "$DB"

note "$TRIALS trials: $killed killed mid-run, $finished finished first; $mid left an intermediate version; ${#seen[@]} distinct states"
# A kill that never lands between two revisions tests nothing.
[ "$mid" -ge 5 ] ||
	fail "only $mid of $TRIALS kills left the database between revisions: the run is too fast to hit (raise SLEEP)"
note "PASS"
