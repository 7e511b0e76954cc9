#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A failing revision: the error names file:line and what the server said,
# the exit code is 4, the database stays at the previous revision with
# nothing of the failed one left (all of the plan with
# --single-transaction). A revision without downgrade section refuses a
# downgrade (exit 3). A lock not obtained exits 5. A non-transactional
# revision that fails part-way leaves the database dirty until
# `migrate resolve`.
#
# usage: pg-harness.sh bash cli-failure.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

T=$T_TMP
D=$T/revs
gen_chain "$D" 2
# Line 9 of the file holds the failing statement.
cat >"$D/003_bad.sql" <<'SQL'
-- A revision that fails half-way
--
-- Revision ID: r003
-- Revises: r002
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE t_003 (id integer PRIMARY KEY);
SELECT nosuchcolumn FROM t_003;

-- migrate:downgrade
DROP TABLE t_003;
SQL
DB=fail_db
fresh_db "$DB"

m "$DB" "$T/u1" --revisions "$D" upgrade head
expect 4 "upgrade through a failing revision"
has "$T/u1.err" "003_bad.sql:9" "the error names file:line"
has "$T/u1.err" "nosuchcolumn" "the error says what the server said"
has "$T/u1.err" "42703" "the error carries the SQLSTATE"
same "$(head -c 9 "$T/u1.err")" "migrate: " "the error starts with 'migrate: '"
same "$(version_of "$DB")" "r002" "the database stays at r002"
table_exists "$DB" public.t_003 && fail "t_003 of the failed revision exists"
ok "nothing of the failed revision is left"
table_exists "$DB" public.t_002 || fail "t_002 is gone"
ok "the previous revisions are intact"

# Fixed: the rerun goes on from r002.
sed -i 's/^SELECT nosuchcolumn FROM t_003;$/SELECT id FROM t_003;/' "$D/003_bad.sql"
m "$DB" "$T/u2" --revisions "$D" upgrade head
expect 0 "the fixed revision applies"
same "$(version_of "$DB")" "r003" "at r003"

# Irreversible: no downgrade section.
DI=$T/revs-irrev
gen_chain "$DI" 1
cat >"$DI/002_irrev.sql" <<'SQL'
-- Irreversible
--
-- Revision ID: r002
-- Revises: r001
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE t_irrev (id integer);
SQL
DB2=irrev_db
fresh_db "$DB2"
m "$DB2" "$T/i1" --revisions "$DI" upgrade head
expect 0 "upgrade with an irreversible revision"
m "$DB2" "$T/i2" --revisions "$DI" downgrade base
expect 3 "downgrade through an irreversible revision"
has "$T/i2.err" "r002" "the error names the irreversible revision"
same "$(version_of "$DB2")" "r002" "the refused downgrade changed nothing"

# The migration lock held by someone else: exit 5 after --lock-wait.
key=$(q -d "$DB" -c "SELECT ('x' || left(encode(sha256(convert_to(current_schema() || '.alembic_version', 'UTF8')), 'hex'), 16))::bit(64)::bigint")
coproc HOLDER { PGAPPNAME=cli-test psql -X -q -At -d "$DB" 2>&1; }
T_PIDS+=("$HOLDER_PID")
echo "SELECT 'locked' FROM (SELECT pg_advisory_lock($key)) l;" >&"${HOLDER[1]}"
read -r -t 20 line <&"${HOLDER[0]}" || fail "could not take the lock in psql"
same "$line" "locked" "another session holds the migration lock"
m "$DB" "$T/l1" --revisions "$D" --lock-wait 1s downgrade -1
expect 5 "downgrade while the lock is held elsewhere"
one_line "$T/l1.err" "one error line for the lock"
has "$T/l1.err" 'application "cli-test"' "the lock error names the holder's application"
has "$T/l1.err" "held by pid " "the lock error names the holder's pid"
same "$(version_of "$DB")" "r003" "nothing changed while locked"
m "$DB" "$T/l1c" --revisions "$D" check
expect 0 "check does not wait for the lock"
m "$DB" "$T/l1n" --revisions "$D" --lock-wait 1s upgrade r003
expect 0 "an upgrade with nothing to do does not wait for the lock"
m "$DB" "$T/l1j" --revisions "$D" --lock-wait 1s --format json upgrade r003
expect 0 "nor does it with --json"
has "$T/l1n.out" "nothing to do" "the summary says there was nothing to do"
has "$T/l1j.out" '"current":["r003"]' "the JSON says where the database is"
has "$T/l1j.out" '"steps":0' "and that nothing ran"
echo "\\q" >&"${HOLDER[1]}"
wait "$HOLDER_PID" 2>/dev/null || true
T_PIDS=()
m "$DB" "$T/l2" --revisions "$D" --lock-wait 10s downgrade -1
expect 0 "the downgrade runs once the lock is free"
same "$(version_of "$DB")" "r002" "at r002"

# --single-transaction: a failure rolls the whole plan back.
DS=$T/revs-single
gen_chain "$DS" 2
cp "$D/003_bad.sql" "$DS/003_bad.sql"
sed -i 's/^SELECT id FROM t_003;$/SELECT nosuchcolumn FROM t_003;/' "$DS/003_bad.sql"
DB3=single_db
fresh_db "$DB3"
m "$DB3" "$T/st" --revisions "$DS" --single-transaction upgrade head
expect 4 "--single-transaction upgrade through a failing revision"
table_exists "$DB3" public.t_001 && fail "t_001 survived the rolled-back plan"
ok "--single-transaction: nothing of the plan is left"
m "$DB3" "$T/stc" --revisions "$DS" current
same "$(cat "$T/stc.out")" "<base>" "--single-transaction: still at base"

# A non-transactional revision that fails part-way leaves the database
# dirty: check says so, upgrade refuses, resolve --undo clears it once the
# operator has cleaned up.
DD=$T/revs-dirty
gen_chain "$DD" 1
cat >"$DD/002_notx.sql" <<'SQL'
-- Non-transactional, fails at its second statement
--
-- Revision ID: r002
-- Revises: r001
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE t_notx (id integer);
CREATE INDEX CONCURRENTLY i_notx ON t_notx (nosuchcolumn);

-- migrate:downgrade
DROP TABLE t_notx;
SQL
DB4=dirty_db
fresh_db "$DB4"
m "$DB4" "$T/nt1" --revisions "$DD" upgrade head
expect 4 "a non-transactional revision fails part-way"
has "$T/nt1.err" "002_notx.sql:9" "the error names file:line"
m "$DB4" "$T/nt2" --revisions "$DD" check
expect 1 "check on a dirty database"
has "$T/nt2.out" "r002" "check names the dirty revision"
m "$DB4" "$T/nt3" --revisions "$DD" upgrade head
expect 4 "upgrade refuses a dirty database"
q -d "$DB4" -c "DROP TABLE t_notx"
m "$DB4" "$T/nt4" --revisions "$DD" resolve --undo r002
expect 0 "resolve --undo r002"
sed -i 's/(nosuchcolumn)/(id)/' "$DD/002_notx.sql"
m "$DB4" "$T/nt5" --revisions "$DD" upgrade head
expect 0 "the fixed revision applies after resolve"
same "$(version_of "$DB4")" "r002" "at r002"
m "$DB4" "$T/nt6" --revisions "$DD" check
expect 0 "check after the fix"

# A bad revision file is reported as ever (the text of a command that
# does not connect, exit 3), also where the server never answers: the
# connection begun while the files load is dropped at once, not waited
# for (PGCONNECT_TIMEOUT is far past run's limit). A good directory
# still connects.
DBAD=$T/badrevs
gen_chain "$DBAD" 1
cat >"$DBAD/002_bad.sql" <<'SQL'
-- A revision with an unknown section
--
-- Revision ID: r002
-- Revises: r001
-- Create Date: 2026-01-31

-- migrate:sideways
SELECT 1;
SQL
DB5=badfile_db
fresh_db "$DB5"
m "$DB5" "$T/bf0" --revisions "$DBAD" heads
expect 3 "heads on a bad revision file"
has "$T/bf0.err" "002_bad.sql:7" "the error names file:line"
for cmd in "upgrade head" check; do
	# shellcheck disable=SC2086 # the command's words
	m "$DB5" "$T/bf1" --revisions "$DBAD" $cmd
	expect 3 "$cmd on a bad revision file"
	same "$(cat "$T/bf1.err")" "$(cat "$T/bf0.err")" \
		"$cmd reports it as heads does"
	m "$DB5" "$T/bf2" --revisions "$DBAD" --format json $cmd
	expect 3 "$cmd --format json on a bad revision file"
	has "$T/bf2.out" "002_bad.sql:7" "the JSON error names file:line"
done
python3 - "$T/silent" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    while c.recv(4096):
        pass  # never answer; EOF when the client drops it
    open(sys.argv[1] + ".closed", "a").write("closed\n")
    c.close()
PY
t_track $!
for ((i = 0; i < 500; i++)); do
	[ -s "$T/silent" ] && break
	sleep_ms 10
done
[ -s "$T/silent" ] || fail "the silent listener did not start"
SILENT="postgresql://postgres@127.0.0.1:$(cat "$T/silent")/$DB5"
PGCONNECT_TIMEOUT=100000 run "$T/bf3" "$MIGRATE" --database-url "$SILENT" \
	--revisions "$DBAD" upgrade head
expect 3 "a bad revision file with a server that never answers"
same "$(cat "$T/bf3.err")" "$(cat "$T/bf0.err")" \
	"the revision error, no connection error"
PGCONNECT_TIMEOUT=100000 run "$T/bf4" "$MIGRATE" --database-url "$SILENT" \
	--revisions "$DBAD" check
expect 3 "check: a bad revision file with a server that never answers"
for ((i = 0; i < 500; i++)); do
	[ "$(wc -l <"$T/silent.closed" 2>/dev/null || echo 0)" -ge 2 ] && break
	sleep_ms 10
done
same "$(head -n 2 "$T/silent.closed" | wc -l)" 2 "both connections were begun and dropped"
rm "$DBAD/002_bad.sql"
# Several servers: the one that never answers is given up after
# connect_timeout and the next one used, as libpq does. The timeout is
# also all that the real server gets to fork a backend and answer: 5 s,
# not libpq's least (2 s), which is thin on a loaded machine.
PGCONNECT_TIMEOUT=5 run "$T/bf7" "$MIGRATE" --database-url \
	"postgresql://postgres@127.0.0.1:$(cat "$T/silent"),$MIGRATE_TEST_TCP_HOST:$PGPORT/$DB5" \
	--revisions "$DBAD" check
expect 1 "check through a server list whose first never answers"
has "$T/bf7.out" "r001" "check names the pending revision"
m "$DB5" "$T/bf5" --revisions "$DBAD" upgrade head
expect 0 "the good directory applies"
same "$(version_of "$DB5")" "r001" "at r001"
m "$DB5" "$T/bf6" --revisions "$DBAD" check
expect 0 "check on the good directory"
