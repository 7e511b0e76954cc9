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

set -euo pipefail
export LC_ALL=C

T_NAME=${0##*/}
T_NAME=${T_NAME%.sh}
T_COUNT=0
T_PIDS=()
T_TMP=

# Never let a caller's environment point a test at a real database.
unset MIRAGE_DATABASE_URL DATABASE_URL PGSERVICE PGSERVICEFILE PGPASSWORD \
	PGPASSFILE PGOPTIONS || true

fail()
{
	printf '%s: FAIL: %s\n' "$T_NAME" "$*" >&2
	exit 1
}

skip()
{
	printf '%s: SKIP: %s\n' "$T_NAME" "$*"
	exit 77
}

note()
{
	printf '%s: %s\n' "$T_NAME" "$*"
}

ok()
{
	T_COUNT=$((T_COUNT + 1))
	printf 'ok %d - %s\n' "$T_COUNT" "$*"
}

show()
{
	local label=$1 file=$2
	printf -- '--- %s ---\n' "$label" >&2
	if [ -s "$file" ]; then
		head -n 60 "$file" | sed 's/^/  | /' >&2
	else
		echo '  | (empty)' >&2
	fi
}

t_cleanup()
{
	local rc=$? pid
	for pid in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$T_TMP" ] && [ -d "$T_TMP" ]; then
		rm -rf "$T_TMP"
	fi
	if [ "$rc" = 0 ]; then
		printf '%s: %d checks passed\n' "$T_NAME" "$T_COUNT"
	fi
	exit "$rc"
}

abs_path()
{
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

# cli_init [needs-pg]: check the environment; sets T_TMP.
cli_init()
{
	local v
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
		for v in PGHOST PGPORT PGUSER PGDATABASE; do
			[ -n "${!v:-}" ] ||
				fail "$v is not set: run me through tests/pg-harness.sh"
		done
		case $PGHOST in
		/* | 127.0.0.1 | localhost | ::1) ;;
		*) fail "PGHOST=$PGHOST is neither a unix socket nor loopback" ;;
		esac
		command -v psql >/dev/null || fail "psql not found"
	fi
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cli-$T_NAME.XXXXXX")
	chmod 755 "$T_TMP"
	trap t_cleanup EXIT
	trap 'exit 130' INT TERM
}

needs_vector()
{
	[ "${MIGRATE_TEST_VECTOR:-none}" != none ] ||
		skip "CREATE EXTENSION vector is not available here"
}

# q [-d DB] ARGS...: psql, quiet, unaligned, stops on error, bounded.
q()
{
	local db=$PGDATABASE
	if [ "${1:-}" = -d ]; then
		db=$2
		shift 2
	fi
	PGAPPNAME=cli-test PGCONNECT_TIMEOUT=10 timeout -k 5 60 \
		psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

fresh_db()
{
	q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$1\"" >/dev/null ||
		fail "cannot create database $1"
}

# run OUT PROGRAM ARGS...: run with a time limit; stdout in OUT.out,
# stderr in OUT.err, exit status in RC. Crashes and sanitizer reports fail.
run()
{
	local out=$1
	shift
	RC=0
	timeout -k 5 120 "$@" >"$out.out" 2>"$out.err" </dev/null || RC=$?
	LAST=$out
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		show stderr "$out.err"
		fail "$*: did not finish in time"
	fi
	if [ "$RC" -ge 128 ]; then
		show stderr "$out.err"
		fail "$*: crashed (signal $((RC - 128)))"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' \
		"$out.out" "$out.err"; then
		show stderr "$out.err"
		fail "$*: sanitizer report"
	fi
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
