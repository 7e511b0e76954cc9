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

# Every global option also from the environment (MIGRATE_*); the command
# line wins. The database precedence: --database-url, MIGRATE_DATABASE_URL,
# MIRAGE_DATABASE_URL, DATABASE_URL, libpq's PG* (here: unreachable unix
# sockets whose path the error names).
# url_used LABEL WANT [VAR=VALUE...] [-- MIGRATE-OPTIONS...]
url_used()
{
	local label=$1 want=$2
	local -a vars=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	run "$T/url" env "${vars[@]}" "$MIGRATE" "$@" current
	expect 4 "$label: cannot connect"
	has "$T/url.err" "\"$want/.s.PGSQL" "$label"
}
url_used "--database-url beats every variable" /nx-flag \
	MIGRATE_DATABASE_URL=host=/nx-migrate MIRAGE_DATABASE_URL=host=/nx-mirage \
	DATABASE_URL=host=/nx-db -- --database-url host=/nx-flag
url_used "MIGRATE_DATABASE_URL beats MIRAGE_DATABASE_URL" /nx-migrate \
	MIGRATE_DATABASE_URL=host=/nx-migrate MIRAGE_DATABASE_URL=host=/nx-mirage \
	DATABASE_URL=host=/nx-db
url_used "MIRAGE_DATABASE_URL beats DATABASE_URL" /nx-mirage \
	MIRAGE_DATABASE_URL=host=/nx-mirage DATABASE_URL=host=/nx-db
url_used "DATABASE_URL beats PGHOST" /nx-db DATABASE_URL=host=/nx-db PGHOST=/nx-pg
url_used "PGHOST without any URL" /nx-pg PGHOST=/nx-pg
url_used "an empty MIGRATE_DATABASE_URL counts as unset" /nx-db \
	MIGRATE_DATABASE_URL= DATABASE_URL=host=/nx-db

G=$T/good
gen_chain "$G" 2
run "$T/envrev" env MIGRATE_REVISIONS="$G" "$MIGRATE" -q heads
expect 0 "MIGRATE_REVISIONS"
same "$(cat "$T/envrev.out")" r002 "MIGRATE_REVISIONS picks the directory"
run "$T/envrev2" env MIGRATE_REVISIONS="$G" "$MIGRATE" --revisions "$T/nonexistent" heads
expect 3 "--revisions beats MIGRATE_REVISIONS"
run "$T/envq" env MIGRATE_QUIET=yes "$MIGRATE" heads
same "$(cat "$T/envq.out")" 001 "MIGRATE_QUIET=yes: bare ids"
run "$T/envqv" env MIGRATE_QUIET=1 "$MIGRATE" -v heads
expect 0 "-v on the command line beats MIGRATE_QUIET"
has "$T/envqv.out" "(head)" "-v beats MIGRATE_QUIET: full lines"
run "$T/envq0" env MIGRATE_QUIET=off "$MIGRATE" heads
has "$T/envq0.out" "(head)" "MIGRATE_QUIET=off"
run "$T/envvq" env MIGRATE_QUIET=1 MIGRATE_VERBOSE=1 "$MIGRATE" heads
expect 2 "MIGRATE_QUIET with MIGRATE_VERBOSE"
has "$T/envvq.err" "MIGRATE_VERBOSE and MIGRATE_QUIET exclude each other" "both named"
run "$T/envst" env MIGRATE_SINGLE_TRANSACTION=maybe "$MIGRATE" heads
expect 2 "a bad switch value in the environment"
has "$T/envst.err" "MIGRATE_SINGLE_TRANSACTION: expected 1/true/yes/on" "the variable is named"
run "$T/envlw" env MIGRATE_LOCK_WAIT=soon "$MIGRATE" heads
expect 2 "a bad duration in the environment"
has "$T/envlw.err" "MIGRATE_LOCK_WAIT: invalid duration 'soon'" "the variable is named"
run "$T/envlw2" env MIGRATE_LOCK_WAIT=soon "$MIGRATE" --lock-wait 3s heads
expect 0 "--lock-wait means MIGRATE_LOCK_WAIT is not read"
run "$T/envrt" env MIGRATE_RETRIES=many "$MIGRATE" heads
expect 2 "a bad MIGRATE_RETRIES"
run "$T/envsql" env MIGRATE_LOCK_WAIT=11s MIGRATE_LOCK_TIMEOUT=7s \
	MIGRATE_STATEMENT_TIMEOUT=9s MIGRATE_VERSION_TABLE=env_versions \
	MIGRATE_SCHEMA=env_schema "$MIGRATE" upgrade --sql head
expect 0 "offline script from environment settings"
has "$T/envsql.out" "'lock_timeout', '11000ms'" "MIGRATE_LOCK_WAIT"
has "$T/envsql.out" "lock_timeout = '7000ms'" "MIGRATE_LOCK_TIMEOUT"
has "$T/envsql.out" "statement_timeout = '9000ms'" "MIGRATE_STATEMENT_TIMEOUT"
has "$T/envsql.out" "env_versions" "MIGRATE_VERSION_TABLE"
has "$T/envsql.out" "env_schema" "MIGRATE_SCHEMA"
run "$T/envsql2" env MIGRATE_LOCK_TIMEOUT=7s MIGRATE_VERSION_TABLE=env_versions \
	"$MIGRATE" --lock-timeout 3s --version-table cli_versions upgrade --sql head
has "$T/envsql2.out" "lock_timeout = '3000ms'" "--lock-timeout beats MIGRATE_LOCK_TIMEOUT"
has "$T/envsql2.out" "cli_versions" "--version-table beats MIGRATE_VERSION_TABLE"
hasnt "$T/envsql2.out" "env_versions" "MIGRATE_VERSION_TABLE not used"

# One source: the README's option table is what cli-doc writes from the
# option table; --help, the man page and the completion name every option
# and every variable of that table.
[ -n "${CLI_ENV_TABLE:-}" ] || fail "CLI_ENV_TABLE is not set (run me through meson test)"
sed -n '/^<!-- generated from cli\/table.c/,/^<!-- end of generated table -->/p' \
	"$SRCDIR/README.md" | sed '1d;$d' >"$T/readme-table"
if ! cmp -s "$T/readme-table" "$CLI_ENV_TABLE"; then
	diff -u "$T/readme-table" "$CLI_ENV_TABLE" >&2 || true
	fail "README.md's option table differs from 'cli-doc env-table' (paste the new one)"
fi
ok "README's option table is the generated one"
# Every global option has its MIGRATE_* variable (but --help, --version).
noenv=$(awk -F'|' 'NR > 2 && $3 ~ /^ *$/ { print $2 }' "$CLI_ENV_TABLE" |
	grep -v -e '--help' -e '--version' || true)
[ -z "$noenv" ] || fail "global options without a MIGRATE_* variable: $noenv"
ok "every global option can come from the environment"
sed -n '/^Commands:$/,/^$/p' "$T/help.out" | sed '1d;$d;/^  help /d' | sed 's/^  //' >"$T/help-cmds"
sed -n '/^migrate \[OPTIONS\] COMMAND \[ARGS\]$/,/^```$/p' "$SRCDIR/README.md" |
	sed '1,2d;$d' >"$T/readme-cmds"
if ! cmp -s "$T/readme-cmds" "$T/help-cmds"; then
	diff -u "$T/readme-cmds" "$T/help-cmds" >&2 || true
	fail "README.md's command list differs from 'migrate --help'"
fi
ok "README's command list is the one of --help"
for v in $(grep -o 'MIGRATE_[A-Z_]*' "$CLI_ENV_TABLE" | sort -u); do
	grep -qF "\$$v]" "$T/help.out" || fail "--help does not name $v"
done
ok "--help names every MIGRATE_* variable"
if [ -n "${MIGRATE_MAN:-}" ]; then
	sed 's/\\\(.\)/\1/g' "$MIGRATE_MAN_SCD" >"$T/man.txt" # scdoc escapes
	for w in $(grep -o -- '--[a-z][a-z-]*' "$CLI_ENV_TABLE" | sort -u) \
		$(grep -o 'MIGRATE_[A-Z_]*' "$CLI_ENV_TABLE" | sort -u) \
		upgrade downgrade current history heads check stamp plan revision resolve; do
		grep -qF -- "$w" "$T/man.txt" || fail "migrate(1) does not mention $w"
	done
	grep -q '^\.TH' "$MIGRATE_MAN" || fail "migrate.1 is not roff"
	ok "migrate(1) documents every option, variable and command"
else
	note "SKIP: man page not built (no scdoc)"
fi
if [ -r /usr/share/bash-completion/bash_completion ]; then
	cat >"$T/comp.bash" <<'EOS'
. /usr/share/bash-completion/bash_completion
. "$MIGRATE_BASH_COMPLETION"
complete_words()
{
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_migrate migrate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
echo "cmds: $(complete_words migrate up | tr '\n' ' ')"
echo "opts: $(complete_words migrate --lock- | tr '\n' ' ')"
echo "cmdopts: $(complete_words migrate check --allow- | tr '\n' ' ')"
echo "revs: $(complete_words migrate --revisions "$G" upgrade r0 | tr '\n' ' ')"
EOS
	run "$T/comp" env G="$G" MIGRATE_BASH_COMPLETION="$MIGRATE_BASH_COMPLETION" \
		bash "$T/comp.bash"
	expect 0 "the bash completion loads"
	has "$T/comp.out" "cmds: upgrade " "completes commands"
	has "$T/comp.out" "opts: --lock-timeout --lock-wait " "completes global options"
	has "$T/comp.out" "cmdopts: --allow-ahead --allow-changed " "completes a command's options"
	has "$T/comp.out" "revs: r001 r002 " "completes revision ids from --revisions"
else
	note "SKIP: bash-completion is not installed; completion not tried"
fi
