#!/bin/bash
# SPDX-License-Identifier: MIT
#
# 16 concurrent `migrate upgrade head` runs on a 20-revision chain, while 16
# loops run `migrate check` against the same database. Every upgrade exits
# 0, every revision is applied exactly once (one successful upgrade row per
# revision in migrate_log, schema = version table), and a check only ever
# answers 0 (at head) or 1 (not at head), never an error.
#
# usage: pg-harness.sh concurrency.sh PATH-TO-migrate
# env:   TORTURE_CONC_ROUNDS (default 2)

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

N=20
UPGRADERS=16
CHECKERS=16
ROUNDS=${TORTURE_CONC_ROUNDS:-2}
DB=torture_conc
DIR=$T_TMP/revs
gen_chain "$DIR" "$N" 0.02

# check_loop I STOPFILE: at most 100 checks or 90 s, until STOPFILE exists.
check_loop()
{
	local i=$1 stop=$2 k rc out deadline
	out=$T_TMP/check-$i
	: >"$out.rcs"
	deadline=$(($(now_ms) + 90000))
	for ((k = 0; k < 100; k++)); do
		[ -e "$stop" ] && break
		(($(now_ms) < deadline)) || break
		rc=0
		PGDATABASE=$DB timeout -k 5 30 "$MIGRATE" --revisions "$DIR" check \
			>"$out.out" 2>"$out.err" </dev/null || rc=$?
		echo "$rc" >>"$out.rcs"
		if [ "$rc" -gt 1 ] ||
			grep -Eq 'Sanitizer|runtime error:' "$out.err"; then
			cp "$out.err" "$out.bad-$k.err"
			cp "$out.out" "$out.bad-$k.out"
		fi
		sleep 0.0$((RANDOM % 5))
	done
}

for ((round = 1; round <= ROUNDS; round++)); do
	fresh_db "$DB"
	stop=$T_TMP/stop-$round
	rm -f "$T_TMP"/check-*
	cpids=()
	for ((i = 0; i < CHECKERS; i++)); do
		check_loop "$i" "$stop" &
		cpids+=($!)
		t_track "$!"
	done
	upids=()
	t0=$(now_ms)
	for ((i = 0; i < UPGRADERS; i++)); do
		PGDATABASE=$DB timeout -k 5 120 "$MIGRATE" --revisions "$DIR" upgrade head \
			>"$T_TMP/up-$round-$i.out" 2>"$T_TMP/up-$round-$i.err" </dev/null &
		upids+=($!)
		t_track "$!"
	done
	ok=0
	for ((i = 0; i < UPGRADERS; i++)); do
		rc=0
		wait "${upids[$i]}" || rc=$?
		check_no_crash "$rc" "$T_TMP/up-$round-$i" "round $round, upgrader $i"
		if [ "$rc" -ne 0 ]; then
			show stdout "$T_TMP/up-$round-$i.out"
			show stderr "$T_TMP/up-$round-$i.err"
			fail "round $round: upgrader $i of $UPGRADERS exited $rc"
		fi
		ok=$((ok + 1))
	done
	el=$(($(now_ms) - t0))
	sleep 0.3
	touch "$stop"
	for pid in "${cpids[@]}"; do
		wait "$pid" || fail "round $round: a check loop failed"
	done

	# Checks: only 0 or 1.
	n0=0
	n1=0
	for ((i = 0; i < CHECKERS; i++)); do
		for bad in "$T_TMP/check-$i".bad-*.err; do
			[ -e "$bad" ] || continue
			show stdout "${bad%.err}.out"
			show stderr "$bad"
			fail "round $round: a concurrent 'migrate check' returned an error (see above)"
		done
		while read -r rc; do
			case $rc in
			0) n0=$((n0 + 1)) ;;
			1) n1=$((n1 + 1)) ;;
			*) fail "round $round: 'migrate check' exited $rc" ;;
			esac
		done <"$T_TMP/check-$i.rcs"
	done
	[ $((n0 + n1)) -ge "$CHECKERS" ] ||
		fail "round $round: only $((n0 + n1)) checks ran"

	wait_sessions_gone "$DB" 20
	check_chain "$DB" "$N" "round $round, after $UPGRADERS concurrent upgrades"
	[ "$CHAIN_AT" -eq "$N" ] ||
		fail "round $round: all upgrades exited 0 but the database is at r$CHAIN_AT"
	run_migrate "$DB" "$T_TMP/final-$round" 30 --revisions "$DIR" check
	expect_rc 0 "round $round: check after the upgrades" "$T_TMP/final-$round"
	note "round $round: $ok/$UPGRADERS upgrades exited 0 in ${el} ms; each revision applied once; checks: $n0 at head, $n1 not at head, 0 errors"
done
drop_db "$DB"
note "PASS"
