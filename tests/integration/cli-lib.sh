# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared helpers of the CLI integration tests (tests/integration/cli-*.sh);
# sourced, never run.
#
# The scripts are run by tests/pg-harness.sh (a throwaway PostgreSQL, PG*
# exported) except cli-usage.sh, which needs no server. meson passes the
# programs under test in the environment:
#   MIGRATE, MIRAGE_API, MIRAGE_INDEXER   built binaries
#   SRCDIR                                 the source tree
# Every loop is bounded, every child is ours and stopped by its pid, and
# only the harness's unix socket or 127.0.0.1 is used.

# shellcheck source=tests/lib/test-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/test-lib.sh"
T_APPNAME=cli-test

# cli_init [needs-pg]: check the environment; sets T_TMP.
cli_init()
{
	[ -n "${MIGRATE:-}" ] || fail "MIGRATE is not set (run me through meson test)"
	[ -x "$MIGRATE" ] || fail "MIGRATE=$MIGRATE is not executable"
	MIGRATE=$(abs_path "$MIGRATE")
	if [ -n "${MIRAGE_API:-}" ]; then
		MIRAGE_API=$(abs_path "$MIRAGE_API")
	fi
	if [ -n "${MIRAGE_INDEXER:-}" ]; then
		MIRAGE_INDEXER=$(abs_path "$MIRAGE_INDEXER")
	fi
	SRCDIR=$(abs_path "${SRCDIR:-.}")
	if [ "${1:-}" = needs-pg ]; then
		t_require_pg
	fi
	t_start cli
}

needs_vector()
{
	[ "${MIGRATE_TEST_VECTOR:-none}" != none ] ||
		skip "CREATE EXTENSION vector is not available here"
}

# run OUT PROGRAM ARGS...: run with a time limit; stdout in OUT.out,
# stderr in OUT.err, exit status in RC. Crashes and sanitizer reports fail.
run()
{
	local out=$1
	shift
	LAST=$out
	t_run 120 "$out" "$@"
}

# m DB OUT ARGS...: run migrate on database DB (through PGDATABASE).
m()
{
	local db=$1 out=$2
	shift 2
	PGDATABASE=$db run "$out" "$MIGRATE" "$@"
}

# expect WANT WHAT: the last run exited with WANT.
expect()
{
	local want=$1
	shift
	if [ "$RC" -ne "$want" ]; then
		show stdout "$LAST.out"
		show stderr "$LAST.err"
		fail "$*: exit $RC, expected $want"
	fi
	ok "$* (exit $want)"
}

# has FILE PATTERN WHAT: FILE holds the fixed string PATTERN.
has()
{
	if ! grep -qF -- "$2" "$1"; then
		show "$1" "$1"
		fail "$3: '$2' not found"
	fi
	ok "$3"
}

hasnt()
{
	if grep -qF -- "$2" "$1"; then
		show "$1" "$1"
		fail "$3: '$2' found"
	fi
	ok "$3"
}

# same GOT WANT WHAT
same()
{
	if [ "$1" != "$2" ]; then
		fail "$3: got [$1], expected [$2]"
	fi
	ok "$3"
}

# one_line FILE WHAT: FILE holds exactly one line starting "migrate: ".
one_line()
{
	local n
	n=$(wc -l <"$1")
	if [ "$n" -ne 1 ] || ! grep -q '^migrate: ' "$1"; then
		show "$1" "$1"
		fail "$2: expected one line 'migrate: ...', got $n"
	fi
	ok "$2"
}

version_of()
{
	q -d "$1" -c "SELECT coalesce(string_agg(version_num, ',' ORDER BY version_num), '')
		FROM ${2:-public}.alembic_version"
}

table_exists()
{
	[ "$(q -d "$1" -c "SELECT to_regclass('$2') IS NOT NULL")" = t ]
}

# gen_chain DIR N [PREFIX]: N chained revisions PREFIX001.. (default r; ""
# gives plain numbers),
# each creating table t_NNN with index i_NNN; downgrade drops the table.
gen_chain()
{
	local dir=$1 n=$2 p=${3-r} i id parent
	mkdir -p "$dir"
	for ((i = 1; i <= n; i++)); do
		id=$(printf '%s%03d' "$p" "$i")
		parent=
		[ "$i" -gt 1 ] && parent=$(printf '%s%03d' "$p" $((i - 1)))
		cat >"$dir/$(printf '%03d' "$i")_$id.sql" <<EOF
-- Test revision $i
--
-- Revision ID: $id
-- Revises: $parent
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE t_$(printf '%03d' "$i") (id integer PRIMARY KEY, v text);
CREATE INDEX i_$(printf '%03d' "$i") ON t_$(printf '%03d' "$i") (v);

-- migrate:downgrade
DROP TABLE t_$(printf '%03d' "$i");
EOF
	done
}
