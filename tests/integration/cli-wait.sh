#!/bin/bash
# SPDX-License-Identifier: MIT
#
# --wait[=DURATION], MIGRATE_WAIT and the `wait` command: a database whose
# socket appears only later is waited for (then the command runs), an
# unreachable one is given up on within the bound (exit 4, the last
# connection error named), a malformed URL is not waited for (exit 2), a
# terminal gets one progress line. Also the environment against a real
# database: MIGRATE_* settings reach the database, the command line wins.
#
# usage: pg-harness.sh bash cli-wait.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg
T=$T_TMP
R=$T/revs
gen_chain "$R" 3
DB=cli_wait
fresh_db "$DB"
[ -S "$PGHOST/.s.PGSQL.$PGPORT" ] || skip "the harness's server has no unix socket"

# The `wait` command against a running server.
m "$DB" "$T/w1" wait
expect 0 "wait: the database is up"
same "$(cat "$T/w1.out")" "the database accepts connections" "wait says so on stdout"
m "$DB" "$T/w2" -q wait
same "$(cat "$T/w2.out")" "" "wait -q prints nothing"

# Nothing listens at $LATE yet: give up within the bound, exit 4.
LATE=$T/late
mkdir -p "$LATE"
LATE_URL="host=$LATE port=$PGPORT dbname=$DB"
run "$T/w3" "$MIGRATE" --database-url "$LATE_URL" --wait=1s --revisions "$R" upgrade
expect 4 "--wait=1s on a database that never comes"
has "$T/w3.err" "the database did not accept connections within 1.0 s" "the bound is named"
has "$T/w3.err" "$LATE/.s.PGSQL.$PGPORT" "the last connection error is named"
run "$T/w4" env MIGRATE_WAIT=1s "$MIGRATE" --database-url "$LATE_URL" wait
expect 4 "MIGRATE_WAIT=1s: wait gives up"
run "$T/w5" env MIGRATE_WAIT=soon "$MIGRATE" --database-url "$LATE_URL" wait
expect 2 "a bad MIGRATE_WAIT"
has "$T/w5.err" "MIGRATE_WAIT: invalid duration 'soon'" "MIGRATE_WAIT named"
run "$T/w6" "$MIGRATE" --database-url 'postgresql://u@[::1' --wait=30s current
expect 2 "a malformed URL is not waited for"

# SIGTERM ends the wait at once (exit 128 + 15), not at the bound.
"$MIGRATE" --database-url "$LATE_URL" --wait=100s wait >"$T/sig.out" 2>"$T/sig.err" &
pid=$!
T_PIDS+=("$pid")
# Not before migrate catches SIGTERM (SigCgt, bit 15): on a loaded
# machine a fixed pause may end before the process got that far, and the
# signal would kill it without a word.
for ((i = 0; i < 600; i++)); do
	cgt=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
	[ -n "$cgt" ] && (((16#$cgt >> 14) & 1)) && break
	sleep 0.05
done
if [ -z "$cgt" ] || ! (((16#$cgt >> 14) & 1)); then
	fail "migrate never caught SIGTERM"
fi
sleep 1
kill -TERM "$pid"
RC=0
timeout -k 5 20 tail --pid="$pid" -f /dev/null || fail "SIGTERM did not end the wait"
wait "$pid" || RC=$?
LAST=$T/sig
expect 143 "SIGTERM during --wait"
has "$T/sig.err" "interrupted while waiting for the database" "says it was interrupted"

# The socket appears after a while (a symbolic link to the harness's):
# the command waits, then runs.
late_upgrade()
{
	local out=$1
	shift
	rm -f "$LATE/.s.PGSQL.$PGPORT"
	timeout -k 5 120 "$@" >"$out.out" 2>"$out.err" </dev/null &
	local pid=$!
	T_PIDS+=("$pid")
	sleep 1
	kill -0 "$pid" 2>/dev/null || { show stderr "$out.err"; fail "$*: did not wait"; }
	ln -s "$PGHOST/.s.PGSQL.$PGPORT" "$LATE/.s.PGSQL.$PGPORT"
	RC=0
	wait "$pid" || RC=$?
	LAST=$out
}
late_upgrade "$T/w7" "$MIGRATE" --database-url "$LATE_URL" --wait --revisions "$R" upgrade
expect 0 "--wait: upgrade once the database comes"
same "$(version_of "$DB")" r003 "the upgrade ran after the wait"
late_upgrade "$T/w8" env MIGRATE_WAIT=60s "$MIGRATE" --database-url "$LATE_URL" wait
expect 0 "MIGRATE_WAIT=60s: wait until the database comes"
late_upgrade "$T/w9" env MIGRATE_WAIT=0 "$MIGRATE" --database-url "$LATE_URL" --wait=60s \
	--revisions "$R" current
expect 0 "--wait beats MIGRATE_WAIT=0"

# On a terminal: one progress line, rewritten in place, gone at the end.
if script -q -c true /dev/null >/dev/null 2>&1; then
	rm -f "$LATE/.s.PGSQL.$PGPORT"
	run "$T/tty" script -q -e -c "'$MIGRATE' --database-url '$LATE_URL' --wait=2s wait" /dev/null
	expect 4 "--wait on a terminal"
	has "$T/tty.out" "waiting for the database: " "a progress line on the terminal"
	n=$(tr '\r' '\n' <"$T/tty.out" | grep -c "waiting for the database: " || true)
	[ "$n" -ge 1 ] || fail "no progress line"
	[ "$(grep -c "waiting for the database" "$T/tty.out")" -eq 1 ] ||
		fail "the progress line is written more than once (not in place)"
	ok "the progress line is rewritten in place"
	hasnt "$T/w3.err" "waiting for the database" "no progress line when not on a terminal"
else
	note "SKIP: script(1) cannot make a terminal here; no progress-line check"
fi

# The environment against a real database: MIGRATE_* options reach it.
DB2=cli_env
fresh_db "$DB2"
run "$T/e1" env MIGRATE_REVISIONS="$R" MIGRATE_VERSION_TABLE=env_versions \
	MIGRATE_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$DB2" \
	MIRAGE_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=nonexistent_db" \
	"$MIGRATE" upgrade r002
expect 0 "upgrade configured from the environment"
same "$(q -d "$DB2" -c "SELECT version_num FROM env_versions")" r002 \
	"MIGRATE_DATABASE_URL, MIGRATE_REVISIONS and MIGRATE_VERSION_TABLE used"
run "$T/e2" env MIGRATE_REVISIONS="$T/nonexistent" MIGRATE_VERSION_TABLE=other_versions \
	MIGRATE_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=nonexistent_db" \
	"$MIGRATE" --database-url "host=$PGHOST port=$PGPORT dbname=$DB2" \
	--revisions "$R" --version-table env_versions -q current
expect 0 "the command line beats the environment"
same "$(cat "$T/e2.out")" r002 "--database-url, --revisions and --version-table used"
