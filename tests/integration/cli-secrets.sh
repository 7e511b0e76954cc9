#!/bin/bash
# SPDX-License-Identifier: MIT
#
# No fragment of a password in any output (issue 11 §7): a corpus of
# malformed URLs and conninfo strings that carry a marker password goes
# through every command that connects, with and without -v, as JSON
# (--format json), given as --database-url, $MIGRATE_DATABASE_URL,
# $MIRAGE_DATABASE_URL and $DATABASE_URL; stdout and stderr
# must not hold the marker. Then the password of --database-url must be
# gone from /proc/PID/cmdline of a running migrate (one busy in a
# revision, one blocked on the migration lock).
#
# Every host in the corpus is 127.0.0.1 (port 1: refused at once) or the
# harness's own server.
#
# usage: pg-harness.sh bash cli-secrets.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

T=$T_TMP
D=$T/revs
gen_chain "$D" 2
MARK=Zq9w # the marker: part of every password below

# Each line one database URL or conninfo; each holds the marker only in
# (what a reader would take for) its password.
cat >"$T/corpus" <<'EOF'
host=127.0.0.1 dbname=x user=u password=abc Zq9w/rd?#x=1
host=127.0.0.1 dbname=x user=u password=abc Zq9w
host=127.0.0.1 dbname=x user=u password=abc Zq9w=1
host=127.0.0.1 dbname=x user=u password='abc Zq9w
host=127.0.0.1 port=1 dbname=x user=u password=abcZq9w
host=127.0.0.1 port=notaport user=u password=abcZq9w
host=127.0.0.1 port=1 user=u password=abcZq9w sslmode=bogus
host=127.0.0.1 port=1 user=u password=abcZq9w connect_timeout=x
dbname='host=127.0.0.1 port=1 user=u password=abc Zq9w'
dbname='host=127.0.0.1 port=1 user=u password=abc Zq9w=1'
dbname='postgresql://u:abc Zq9w@127.0.0.1:1/x'
dbname='postgresql://u:abc%zzZq9w@127.0.0.1:1/x'
dbname=postgresql://u:abcZq9w@127.0.0.1:1/x?bogus=1
password=abc Zq9w dbname=x
postgresql://u:abcZq9w@127.0.0.1:notaport/x
postgresql://u:abc Zq9w@127.0.0.1:1/x
postgresql://u:abc%zzZq9w@127.0.0.1:1/x
postgresql://u:abc@Zq9w@127.0.0.1:1/x
postgresql://u:abc@def:Zq9w@127.0.0.1:1/x
postgresql://u:abcZq9w@[::1/x
postgresql://u:abcZq9w@127.0.0.1:1/x?sslmode=bogus
postgresql://u:abcZq9w@127.0.0.1:1/x?bogus=1
postgresql://u:abcZq9w@127.0.0.1:1/x?connect_timeout=x
postgresql://127.0.0.1:1/x?user=u&password=abc&Zq9w=1
postgresql://127.0.0.1:1/x?user=u&password=abc%zzZq9w
postgresql+asyncpg://u:abcZq9w@127.0.0.1:1/x?ssl=maybe
postgresql+asyncpg://u:abcZq9w@127.0.0.1:1/x?server_settings=a
postgresql+nosuch-driver://u:abcZq9w@127.0.0.1:1/x
postgres://u:abc:Zq9w@127.0.0.1:1/x
postgres://u:abcZq9w@127.0.0.1:1:2/x
EOF

leaks=0
runs=0
try_one()
{
	local label=$1 out=$T/run
	shift
	runs=$((runs + 1))
	RC=0
	env -u PGPASSWORD PGCONNECT_TIMEOUT=5 timeout -k 5 60 "$@" \
		>"$out.out" 2>"$out.err" </dev/null || RC=$?
	if [ "$RC" -ge 124 ]; then
		show stderr "$out.err"
		fail "$label: exit $RC (hang or crash)"
	fi
	if grep -qF "$MARK" "$out.out" "$out.err"; then
		leaks=$((leaks + 1))
		printf '%s: LEAK (%s): %s\n' "$T_NAME" "$label" \
			"$(cat "$out.out" "$out.err" | tr '\n' ' ')" >&2
	fi
}

while IFS= read -r url; do
	for cmd in current history check "upgrade head" "downgrade base" \
		"stamp head" plan "resolve r001"; do
		# shellcheck disable=SC2086 # $cmd is a command and its argument
		try_one "$cmd, --database-url" "$MIGRATE" --revisions "$D" \
			--database-url "$url" $cmd
		# shellcheck disable=SC2086
		try_one "$cmd -v, --database-url" "$MIGRATE" --revisions "$D" \
			-v --database-url "$url" $cmd
	done
	for cmd in current history check "upgrade head" "resolve r001"; do
		# shellcheck disable=SC2086
		try_one "$cmd --format json" "$MIGRATE" --revisions "$D" \
			--format json -v --database-url "$url" $cmd
	done
	try_one "wait" "$MIGRATE" --database-url "$url" --wait=200ms wait
	try_one "check, MIGRATE_DATABASE_URL" env MIGRATE_DATABASE_URL="$url" \
		"$MIGRATE" --revisions "$D" check
	try_one "check, MIRAGE_DATABASE_URL" env MIRAGE_DATABASE_URL="$url" \
		"$MIGRATE" --revisions "$D" check
	try_one "history -v, DATABASE_URL" env DATABASE_URL="$url" \
		"$MIGRATE" --revisions "$D" -v history
	if [ -x "${MIRAGE_API:-}" ]; then
		try_one "mirage-api --once" env MIRAGE_DATABASE_URL="$url" \
			"$MIRAGE_API" --once
	fi
done <"$T/corpus"
[ "$leaks" -eq 0 ] || fail "$leaks of $runs runs printed a part of the password"
ok "$runs runs over $(wc -l <"$T/corpus") malformed URLs and conninfos: no part of the password printed"

# /proc/PID/cmdline: the password of --database-url is overwritten as soon
# as the options are parsed. Over TCP with the harness's password role.
[ -n "${MIGRATE_TEST_PW_URL:-}" ] || skip "the harness has no password role"
U=$MIGRATE_TEST_PW_USER
PW=$MIGRATE_TEST_PW_PASSWORD
ENC=${MIGRATE_TEST_PW_URL#postgresql://$U:}
ENC=${ENC%%@*}
SECRET=${PW##*-}
DB=secrettest
q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
	-c "CREATE DATABASE $DB OWNER $U" >/dev/null
URL="postgresql://$U:$ENC@$MIGRATE_TEST_TCP_HOST:$MIGRATE_TEST_PORT/$DB"
S=$T/slow
mkdir -p "$S"
cat >"$S/001_slow.sql" <<'EOF'
-- Slow
--
-- Revision ID: s001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
SELECT pg_advisory_xact_lock(424242);
CREATE TABLE slow_done (id int);

-- migrate:downgrade
DROP TABLE slow_done;
EOF

cmdline_of()
{
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# The revision waits for a lock this session holds (no lock_timeout) until
# both migrate processes have been looked at: not a fixed sleep, which on
# a loaded machine may end before the second one has started.
coproc GATE { PGAPPNAME=cli-test psql -X -q -At -d "$DB" 2>&1; }
T_PIDS+=("$GATE_PID")
echo "SELECT 'held' FROM (SELECT pg_advisory_lock(424242)) l;" >&"${GATE[1]}"
read -r -t 60 line <&"${GATE[0]}" || fail "could not take the gate lock in psql"
same "$line" "held" "the gate of the slow revision is closed"
"$MIGRATE" --revisions "$S" --lock-timeout 0 --database-url "$URL" \
	upgrade head >"$T/a.out" 2>"$T/a.err" </dev/null &
A=$!
T_PIDS+=("$A")
# Wait (bounded) until the revision waits at the gate: migrate has parsed
# its options.
for ((i = 0; i < 200; i++)); do
	n=$(q -d "$DB" -c "SELECT count(*) FROM pg_stat_activity
		WHERE datname = '$DB' AND usename = '$U' AND wait_event = 'advisory'")
	[ "$n" = 1 ] && break
	kill -0 "$A" 2>/dev/null || break
	sleep 0.05
done
if [ "$n" != 1 ]; then
	show stderr "$T/a.err"
	fail "the slow revision never started"
fi
"$MIGRATE" --revisions "$S" --lock-wait 30s --database-url "$URL" \
	upgrade head >"$T/b.out" 2>"$T/b.err" </dev/null &
B=$!
T_PIDS+=("$B")
for ((i = 0; i < 200; i++)); do
	n=$(q -d "$DB" -c "SELECT count(*) FROM pg_stat_activity
		WHERE datname = '$DB' AND usename = '$U'")
	[ "$n" -ge 2 ] && break
	sleep 0.05
done
[ "$n" -ge 2 ] || fail "the second migrate never connected"
a=$(cmdline_of "$A")
b=$(cmdline_of "$B")
[ -n "$a" ] && [ -n "$b" ] || fail "the migrate processes ended too early"
case $a$b in
*"$SECRET"* | *"$ENC"*)
	fail "the password is readable in /proc/PID/cmdline" ;;
esac
ok "no password in /proc/PID/cmdline of a migrate running a revision"
ok "no password in /proc/PID/cmdline of a migrate waiting for the lock"
case $a in
*--database-url*) ok "the option itself is still shown" ;;
*) fail "argv lost more than the URL: $a" ;;
esac
echo "\\q" >&"${GATE[1]}"
wait "$GATE_PID" 2>/dev/null || true
wait "$A" || fail "the first upgrade failed: $(cat "$T/a.err")"
wait "$B" || fail "the second upgrade failed: $(cat "$T/b.err")"
ok "both upgrades finished (exit 0)"
