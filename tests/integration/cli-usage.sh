#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The CLI without a database: help (global and per command), --version,
# usage errors (exit 2), bad revisions (exit 3), the embedded revisions
# (heads, --sql), option checks. Needs no PostgreSQL server.
#
# usage: bash cli-usage.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init
T=$T_TMP
# Nothing here may reach a server: point libpq at nothing.
export PGHOST=/nonexistent PGPORT=1

run "$T/help" "$MIGRATE" --help
expect 0 "migrate --help"
for w in upgrade downgrade current history heads check stamp plan revision resolve \
	--database-url --revisions --version-table --schema --lock-wait --lock-timeout \
	--statement-timeout --retries --single-transaction --verbose --quiet \
	MIRAGE_DATABASE_URL DATABASE_URL "Exit status" "5  the migration lock"; do
	grep -qF -- "$w" "$T/help.out" || fail "--help does not mention '$w'"
done
ok "--help lists the commands, options, environment and exit codes"
run "$T/help2" "$MIGRATE" help
expect 0 "migrate help"
for c in upgrade downgrade current history heads check stamp plan revision resolve; do
	run "$T/h-$c" "$MIGRATE" "$c" --help
	[ "$RC" -eq 0 ] || fail "migrate $c --help: exit $RC"
	grep -q "^usage: migrate \[OPTIONS\] $c" "$T/h-$c.out" ||
		fail "migrate $c --help: no usage line"
done
ok "every command has --help"
run "$T/h-up" "$MIGRATE" help upgrade
has "$T/h-up.out" "--sql" "migrate help upgrade mentions --sql"
run "$T/ver" "$MIGRATE" --version
expect 0 "migrate --version"
grep -Eq '^migrate \(libmigrate\) [0-9]+\.[0-9]+\.[0-9]+$' "$T/ver.out" || fail "--version output"
ok "--version prints the version"

# Usage errors: exit 2, a message, a hint.
usage_error()
{
	local what=$1
	shift
	run "$T/u" "$MIGRATE" "$@"
	expect 2 "$what"
	grep -q '^migrate: ' "$T/u.err" || { show stderr "$T/u.err"; fail "$what: no message"; }
}
usage_error "no command"
usage_error "an unknown command" frobnicate
usage_error "an unknown option" --frobnicate current
usage_error "a missing option value" current --schema
usage_error "downgrade without target" downgrade
usage_error "too many arguments" upgrade head extra
usage_error "--sql on check" check --sql
usage_error "--down on upgrade" upgrade --down
usage_error "--undo on upgrade" upgrade --undo head
usage_error "-m on upgrade" upgrade -m x
usage_error "--allow-ahead on current" current --allow-ahead
usage_error "a bad --lock-wait" --lock-wait soon upgrade
usage_error "a negative --lock-timeout" --lock-timeout -5 upgrade
usage_error "a bad --retries" --retries many upgrade
usage_error "-v with -q" -v -q current
usage_error "revision without -m" revision
usage_error "FROM:TO without --sql" upgrade 001:001
ok "usage errors exit 2 with a message"

# The embedded revisions: heads and offline mode need no database.
run "$T/heads" "$MIGRATE" heads
expect 0 "heads from the embedded revisions"
same "$(cat "$T/heads.out")" "001 (head), Baseline: create all tables." "the embedded head is 001"
run "$T/headsq" "$MIGRATE" -q heads
same "$(cat "$T/headsq.out")" "001" "heads -q"
run "$T/sql" "$MIGRATE" upgrade --sql head
expect 0 "upgrade --sql head, offline"
has "$T/sql.out" "CREATE TABLE projects" "the script holds the baseline"
has "$T/sql.out" "alembic_version" "the script keeps the version table"
run "$T/sqld" "$MIGRATE" downgrade --sql 001:base
expect 0 "downgrade --sql 001:base, offline"
has "$T/sqld.out" "DROP TABLE indexing_tasks" "the downgrade script drops the tables"
run "$T/sqlv" "$MIGRATE" --version-table my_versions --schema app upgrade --sql head
expect 0 "--sql with --version-table and --schema"
has "$T/sqlv.out" "my_versions" "the script uses the version table name"
# Options may follow the command, and "--" ends them.
run "$T/sqlo" "$MIGRATE" upgrade head --sql
expect 0 "options after the command"
run "$T/sqlneg" "$MIGRATE" downgrade --sql -- 001:base
expect 0 "-- before the target"

# A database command that cannot connect: exit 4, one line.
run "$T/noconn" "$MIGRATE" current
expect 4 "current without a reachable server"
one_line "$T/noconn.err" "one line for a connection failure"

# Bad revisions: exit 3 with file:line.
B=$T/bad
mkdir -p "$B"
printf -- '-- Bad\n--\n-- Revision ID: 001\n-- Revises:\n\n-- migrate:upgrade\nSELECT 1;\n-- migrate:upgrade\nSELECT 2;\n' \
	>"$B/001_bad.sql"
run "$T/bad" "$MIGRATE" --revisions "$B" heads
expect 3 "a malformed revision file"
has "$T/bad.err" "001_bad.sql:" "the error names the file and line"
printf -- '-- Dup\n--\n-- Revision ID: 001\n-- Revises:\n\n-- migrate:upgrade\nSELECT 1;\n' \
	>"$B/002_dup.sql"
run "$T/bad2" "$MIGRATE" --revisions "$B" upgrade --sql head
expect 3 "bad revisions in offline mode"
run "$T/nodir" "$MIGRATE" --revisions "$T/nonexistent" heads
expect 3 "a missing revisions directory"
