#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The pre-flight parse of upgrade/downgrade (issue 9): a syntax error in
# revision 7 of 10 refuses the whole run before anything is applied (exit
# 3, FILE:LINE:COL of the error, the database exactly as it was: no version
# table, no table of revisions 1-6); a transaction=false section is
# checked too; --no-parse turns the check off (revisions 1-6 apply, 7 fails
# at the server); a downgrade parses its pending sections the same way;
# `migrate lint` reports the same position without any database; upgrade
# --sql writes no script for such a plan (--no-parse: it does). Against a
# server that says it is PostgreSQL 16 (tests/version-proxy.py in front of
# the real 15), the same error is only a warning: the run goes on, the
# server rejects revision 7 itself (exit 4, FILE:LINE:COL), and the
# database is left at revision 6.
#
# usage: pg-harness.sh bash cli-lint.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

if ! "$MIGRATE" help lint >/dev/null 2>&1; then
	skip "migrate was built without the lint component (-Dlint=disabled)"
fi

T=$T_TMP
D=$T/revs
gen_chain "$D" 10
# Revision 7: line 9 holds the syntax error ("CREAT"), column 1.
sed -i 's/^CREATE INDEX i_007 /CREAT INDEX i_007 /' "$D/007_r007.sql"
grep -n '^CREAT INDEX' "$D/007_r007.sql" | grep -q '^9:' ||
	fail "the generated revision does not have its error on line 9"

DB=lint_db
fresh_db "$DB"
q -d "$DB" -c "CREATE TABLE sentinel (x int)"
before=$(q -d "$DB" -c "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace")

m "$DB" "$T/u1" --revisions "$D" upgrade head
expect 3 "a syntax error in revision 7 of 10 refuses the upgrade"
has "$T/u1.err" "007_r007.sql:9:1: syntax error at or near \"CREAT\"" \
	"the error names FILE:LINE:COL and the token"
has "$T/u1.err" "nothing applied" "the message says nothing was applied"
after=$(q -d "$DB" -c "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
same "$after" "$before" "the database is untouched (no version table, no t_001..t_006)"

# The parse runs in a short-lived child process (issue 8: PostgreSQL's
# grammar tables stay out of the migrating process's memory): the child's
# exit status carries the verdict (100 + 2: refuse), its lines come
# through a pipe. Where no child can be made (strace makes fork fail),
# the parse runs in the process itself, with the same result.
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace; the rest of ASan does.
	nolsan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	PGDATABASE=$DB ASAN_OPTIONS=$nolsan run "$T/f1" strace -f -qq \
		-e trace=wait4,openat -o "$T/f1.trace" \
		"$MIGRATE" --revisions "$D" upgrade head
	expect 3 "under strace, the syntax error still refuses the upgrade"
	has "$T/f1.err" "007_r007.sql:9:1: syntax error at or near \"CREAT\"" \
		"the child's error line reaches stderr"
	has "$T/f1.trace" "WEXITSTATUS(s) == 102" \
		"the verdict came from a child process that parsed the plan"
	# The lint component (migrate-lint.so, with libpg_query) is loaded
	# by the child only.
	parent=$(awk 'NR == 1 { print $1 }' "$T/f1.trace")
	loaders=$(grep 'migrate-lint\.so' "$T/f1.trace" | grep -v ENOENT |
		awk '{ print $1 }' | sort -u)
	[ -n "$loaders" ] || fail "no process opened migrate-lint.so"
	grep -qx "$parent" <<<"$loaders" &&
		fail "the migrating process ($parent) loaded migrate-lint.so"
	ok "only the child loads the lint component"
	PGDATABASE=$DB ASAN_OPTIONS=$nolsan run "$T/f2" strace -f -qq -e trace=clone \
		-e inject=clone:error=EAGAIN -o "$T/f2.trace" \
		"$MIGRATE" --revisions "$D" upgrade head
	expect 3 "without a child, the syntax error still refuses the upgrade"
	has "$T/f2.trace" "EAGAIN" "fork failed (injected)"
	has "$T/f2.err" "007_r007.sql:9:1: syntax error at or near \"CREAT\"" \
		"the error line is the same when the parse runs in-process"
	has "$T/f2.err" "nothing applied" "and so is the refusal"
	# The child starts on the plan seen before the lock (the plan
	# preview), and parses while the lock is taken.
	PGDATABASE=$DB ASAN_OPTIONS=$nolsan run "$T/f3" strace -f -qq -s 80 \
		-e trace=clone,clone3,fork,vfork,sendto -o "$T/f3.trace" \
		"$MIGRATE" --revisions "$D" upgrade head
	expect 3 "traced again, the syntax error refuses the upgrade"
	order=$(grep -n -E 'clone|fork|pg_try_advisory_lock' "$T/f3.trace" |
		grep -v -E 'sendto.*BEGIN;$' | head -n 2 | tr '\n' ' ')
	[[ $order == *clone*pg_try_advisory_lock* ||
		$order == *fork*pg_try_advisory_lock* ]] ||
		{ show trace "$T/f3.trace"; fail "the pre-flight child was not started before the lock try: $order"; }
	ok "the pre-flight child starts before the lock try"
	# A child that dies before it says its verdict (killed as it opens
	# the lint component): the parent waits for its exit and says how
	# it ended.
	PGDATABASE=$DB ASAN_OPTIONS=$nolsan run "$T/f4" strace -f -qq \
		-P "$(dirname "$MIGRATE")/../libmigrate/lint/migrate-lint.so" \
		-e trace=openat -e inject=openat:signal=SIGKILL -o "$T/f4.trace" \
		"$MIGRATE" --revisions "$D" upgrade head
	expect 4 "a pre-flight child killed before its verdict fails the run"
	has "$T/f4.err" "pre-flight parse: the parser process ended by signal 9" \
		"the run says how the child ended"
	same "$(table_exists "$DB" alembic_version && echo yes || echo no)" no \
		"nothing applied"
else
	note "strace cannot trace here: the child process of the pre-flight is not checked"
fi

# Without the module (an incomplete install: migrate beside libmigrate
# only), lint and the pre-flight say why (exit 4) and nothing is applied.
nomod=$T/nomod
mkdir -p "$nomod/cli"
cp "$MIGRATE" "$nomod/cli/"
for f in "$(dirname "$MIGRATE")"/../libmigrate.so*; do
	[ -f "$f" ] && ln -s "$f" "$nomod/"
done
PGHOST=/nonexistent run "$T/nm1" env -u LD_LIBRARY_PATH "$nomod/cli/${MIGRATE##*/}" \
	--revisions "$D" lint
expect 4 "lint without the module"
has "$T/nm1.err" "lint: cannot load the lint component: " "it says so"
has "$T/nm1.err" "migrate-lint.so: cannot open shared object file" \
	"and names the module"
PGDATABASE=$DB run "$T/nm2" env -u LD_LIBRARY_PATH "$nomod/cli/${MIGRATE##*/}" \
	--revisions "$D" upgrade head
expect 4 "upgrade without the module"
has "$T/nm2.err" "pre-flight parse: cannot load the lint component: " \
	"the pre-flight says so"
has "$T/nm2.err" "(--no-parse skips this check)" "and what to do"
after=$(q -d "$DB" -c "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
same "$after" "$before" "the database is still untouched"

# The same position from `migrate lint`, without a database.
PGHOST=/nonexistent run "$T/l1" "$MIGRATE" --revisions "$D" lint
expect 1 "migrate lint reports the syntax error"
has "$T/l1.out" "007_r007.sql:9:1: syntax error at or near \"CREAT\"" \
	"lint gives the same FILE:LINE:COL"

# Offline: no script is written for a plan that does not parse.
PGHOST=/nonexistent run "$T/s1" "$MIGRATE" --revisions "$D" upgrade --sql head
expect 3 "upgrade --sql refuses a plan with a syntax error"
has "$T/s1.err" "007_r007.sql:9:1: syntax error at or near \"CREAT\"" \
	"the --sql refusal names FILE:LINE:COL"
[ -s "$T/s1.out" ] && fail "a script was written anyway"
ok "no script on stdout"
PGHOST=/nonexistent run "$T/s2" "$MIGRATE" --revisions "$D" upgrade --sql --no-parse head
expect 0 "upgrade --sql --no-parse writes the script"
has "$T/s2.out" "CREAT INDEX i_007" "the script holds the unparsed revision"

# --no-parse: the server finds it after revisions 1-6.
m "$DB" "$T/u2" --revisions "$D" upgrade --no-parse head
expect 4 "with --no-parse the server rejects revision 7"
same "$(version_of "$DB")" "r006" "revisions 1-6 applied without the pre-flight"
has "$T/u2.err" "007_r007.sql:9:1" "the server's position maps to the same place"

# A transaction=false section is parsed too.
sed -i 's/^CREAT INDEX i_007 /CREATE INDEX i_007 /' "$D/007_r007.sql"
sed -i 's/^-- migrate:upgrade$/-- migrate:upgrade transaction=false/; s/^CREATE INDEX i_008 /CREATE INDEX CONCURRENTLY i_008 /; s/^CREATE TABLE t_008 (id integer PRIMARY KEY, v text);$/SELECT 1 FRM t_007;/' \
	"$D/008_r008.sql"
m "$DB" "$T/u3" --revisions "$D" upgrade head
expect 3 "a syntax error in a transaction=false section refuses the upgrade"
has "$T/u3.err" "008_r008.sql:8:14: syntax error at or near \"t_007\"" \
	"the transaction=false section's error is located"
same "$(version_of "$DB")" "r006" "still at r006"

# Downgrade: the pending downgrade sections are parsed first.
sed -i 's/^SELECT 1 FRM t_007;$/CREATE TABLE t_008 (id integer PRIMARY KEY, v text);/' "$D/008_r008.sql"
m "$DB" "$T/u4" --revisions "$D" upgrade head
expect 0 "the fixed revisions apply"
sed -i 's/^DROP TABLE t_009;$/DROP TABEL t_009;/' "$D/009_r009.sql"
grep -q '^DROP TABEL t_009;$' "$D/009_r009.sql" || fail "could not break 009's downgrade"
m "$DB" "$T/d1" --revisions "$D" downgrade r006
expect 3 "a syntax error in a pending downgrade section refuses the downgrade"
has "$T/d1.err" "009_r009.sql:" "the downgrade error names the file"
same "$(version_of "$DB")" "r010" "nothing was downgraded (still at r010)"
m "$DB" "$T/d2" --revisions "$D" downgrade r009
expect 0 "a downgrade that does not reach the broken section runs"
same "$(version_of "$DB")" "r009" "at r009"

# The pre-flight that started before the lock counts only when the plan
# that runs is the same. A downgrade that waits for another migrator's
# upgrade: before the lock, its plan is r001's downgrade, which parses;
# under the lock, r002's comes first, whose downgrade does not: refused
# (exit 3), not run into the server's own syntax error (exit 4).
P=$T/prev
gen_chain "$P" 2
sed -i 's/^CREATE TABLE t_002 /SELECT pg_sleep(4);\nCREATE TABLE t_002 /; s/^DROP TABLE t_002;$/DRP TABLE t_002;/' \
	"$P/002_r002.sql"
grep -q '^DRP TABLE' "$P/002_r002.sql" || fail "could not break 002's downgrade"
DBP=lint_prev
fresh_db "$DBP"
m "$DBP" "$T/p0" --revisions "$P" upgrade r001
expect 0 "r001 applied"
PGDATABASE=$DBP "$MIGRATE" --revisions "$P" upgrade r002 \
	>"$T/p1.out" 2>"$T/p1.err" </dev/null &
holder=$!
t_track "$holder"
for ((i = 0; i < 500; i++)); do
	[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DBP' AND query LIKE '%pg_sleep(4)%' AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.02
done
[ "$i" -lt 500 ] || fail "the upgrade to r002 did not start its step"
m "$DBP" "$T/p2" --revisions "$P" downgrade base
expect 3 "the plan under the lock differs from the one seen before: parsed again, refused"
has "$T/p2.err" "002_r002.sql:" "the refusal names r002's file"
has "$T/p2.err" "syntax error at or near \"DRP\"" "and its syntax error"
wait "$holder" || fail "the upgrade to r002 failed: $(cat "$T/p1.err")"
same "$(version_of "$DBP")" "r002" "nothing was downgraded"

# A newer server (PostgreSQL 16+): libpg_query speaks 15's grammar, so a
# parse failure is only a warning and the run goes on to the server. With
# only PostgreSQL 15 here, tests/version-proxy.py sits between migrate and
# the real server and rewrites the server_version the server reports at
# connection start; the version the CLI acts on is the connection's
# (libpq's PQserverVersion()). Control first: through the proxy saying
# 15.8, the pre-flight refuses as without it.
command -v python3 >/dev/null || skip "python3 not found (the version proxy)"
PROXY=$(cd "$(dirname "$0")/.." && pwd)/version-proxy.py
PROXY_PID=
start_proxy()
{
	local i
	rm -f "$T/pport"
	python3 "$PROXY" "$PGPORT" "$T/pport" "$1" 2>"$T/proxy.err" &
	PROXY_PID=$!
	t_track "$PROXY_PID"
	for ((i = 0; i < 500; i++)); do
		[ -s "$T/pport" ] && break
		sleep 0.02
	done
	[ -s "$T/pport" ] || fail "the version proxy did not start"
}
stop_proxy()
{
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}
D16=$T/revs16
gen_chain "$D16" 10
sed -i 's/^CREATE INDEX i_007 /CREAT INDEX i_007 /' "$D16/007_r007.sql"
DB16=lint_db16
fresh_db "$DB16"

start_proxy 15.8
PGHOST=127.0.0.1 PGPORT=$(cat "$T/pport") m "$DB16" "$T/v15" --revisions "$D16" upgrade head
stop_proxy
expect 3 "through the proxy saying 15.8, the pre-flight refuses"
has "$T/v15.err" "nothing applied: 1 pending section does not parse" \
	"the refusal says nothing was applied"
same "$(table_exists "$DB16" alembic_version && echo yes || echo no)" no \
	"no version table"

start_proxy 16.4
PGHOST=127.0.0.1 PGPORT=$(cat "$T/pport") m "$DB16" "$T/v16" --revisions "$D16" upgrade head
stop_proxy
expect 4 "a server saying 16.4 gets the run: the server itself rejects revision 7"
has "$T/v16.err" "007_r007.sql:9:1: syntax error at or near \"CREAT\" (PostgreSQL 15's parser; the server is newer: going on)" \
	"the pre-flight only warns, with FILE:LINE:COL"
hasnt "$T/v16.err" "nothing applied" "no refusal"
same "$(version_of "$DB16")" "r006" "revisions 1-6 applied, the database at the last completed one"
grep -v '^migrate: warning: ' "$T/v16.err" >"$T/v16.server" || true
has "$T/v16.server" "007_r007.sql:9:1" "the server's own error names FILE:LINE:COL"
