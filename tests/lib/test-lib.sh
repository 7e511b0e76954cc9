# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # T_* are used by the scripts
# The one shell helper library of the test scripts: the CLI integration
# tests (tests/integration/cli-lib.sh) and the torture tests
# (tests/torture/lib.sh) source it for what they share: reporting, cleanup
# of our own children by pid, the server checks, psql and databases, and
# running a program with a hang/crash/sanitizer guard. Sourced, never run.
#
# Every loop is bounded, every child is ours and stopped by its pid, and
# only the harness's unix socket or 127.0.0.1 is used.

set -euo pipefail
export LC_ALL=C

T_NAME=${0##*/}
T_NAME=${T_NAME%.sh}
T_COUNT=0
T_PIDS=()
T_TMP=
T_MAINT=${T_MAINT:-}
RC=0

# The CLI picks its URL from these before libpq's PG* defaults: a caller's
# environment must never point a test at a real database.
unset MIRAGE_DATABASE_URL MIGRATE_DATABASE_URL DATABASE_URL PGSERVICE \
	PGSERVICEFILE PGPASSWORD PGPASSFILE PGAPPNAME PGOPTIONS \
	PGTARGETSESSIONATTRS || true

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

# show LABEL FILE: a file indented, for failure reports (60 lines at most).
show()
{
	local label=$1 file=$2
	printf -- '--- %s (%s) ---\n' "$label" "$file" >&2
	if [ -s "$file" ]; then
		head -n 60 "$file" | sed 's/^/  | /' >&2
	else
		echo '  | (empty)' >&2
	fi
}

# Milliseconds since the epoch (bash 5 EPOCHREALTIME, no fork).
now_ms()
{
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}

# sleep_ms MS: sleep MS milliseconds.
sleep_ms()
{
	sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

abs_path()
{
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

# Remember a background child so that cleanup stops it.
t_track()
{
	T_PIDS+=("$1")
}

t_cleanup()
{
	local rc=$? pid
	# Only the processes we started, by pid.
	for pid in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		{ wait "$pid"; } 2>/dev/null || true
	done
	if [ -n "$T_TMP" ] && [ -d "$T_TMP" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${TORTURE_KEEP:-}" ]; then
			note "keeping $T_TMP"
		else
			chmod -R u+rwX "$T_TMP" 2>/dev/null || true
			rm -rf "$T_TMP"
		fi
	fi
	if [ "$rc" = 0 ] && [ "$T_COUNT" -gt 0 ]; then
		printf '%s: %d checks passed\n' "$T_NAME" "$T_COUNT"
	fi
	exit "$rc"
}

# t_start PREFIX: a private temporary directory in T_TMP, removed (with
# our children stopped) on exit.
t_start()
{
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1-$T_NAME.XXXXXX")
	chmod 755 "$T_TMP"
	trap t_cleanup EXIT
	trap 'exit 130' INT TERM
}

# t_require_pg: PG* from tests/pg-harness.sh, on a unix socket or loopback.
t_require_pg()
{
	local v
	for v in PGHOST PGPORT PGUSER PGDATABASE; do
		[ -n "${!v:-}" ] ||
			fail "$v is not set: run me through tests/pg-harness.sh"
	done
	case $PGHOST in
	/* | 127.0.0.1 | localhost | ::1) ;;
	*) fail "PGHOST=$PGHOST is neither a unix socket nor loopback" ;;
	esac
	command -v psql >/dev/null || fail "psql not found"
}

# q [-d DB] ARGS...: psql, quiet, unaligned, stops on error, bounded. Our
# own sessions are named $T_APPNAME, never mistaken for migrate's.
q()
{
	local db=${T_MAINT:-$PGDATABASE}
	if [ "${1:-}" = -d ]; then
		db=$2
		shift 2
	fi
	PGAPPNAME=${T_APPNAME:-test} \
		PGOPTIONS='-c statement_timeout=60000 -c client_min_messages=warning' \
		PGCONNECT_TIMEOUT=10 timeout -k 5 90 \
		psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# fresh_db NAME: a fresh, empty database (dropped first when it exists).
fresh_db()
{
	q -d "${T_MAINT:-postgres}" \
		-c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$1\"" >/dev/null ||
		fail "cannot create database $1"
}

drop_db()
{
	q -d "${T_MAINT:-postgres}" \
		-c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null ||
		fail "cannot drop database $1"
}

# check_no_crash RC OUT WHAT: a finished run neither hung (timeout's 124 or
# 137), crashed, nor made a sanitizer speak.
check_no_crash()
{
	local rc=$1 out=$2 what=$3
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		show stderr "$out.err"
		fail "$what: did not finish in time (exit $rc)"
	fi
	if [ "$rc" -ge 128 ]; then
		show stderr "$out.err"
		fail "$what: crashed (exit $rc = signal $((rc - 128)))"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|ThreadSanitizer' \
		"$out.err" "$out.out" 2>/dev/null; then
		show stderr "$out.err"
		fail "$what: sanitizer report"
	fi
}

# t_run SECONDS OUT PROGRAM ARGS...: run with a time limit; stdout in
# OUT.out, stderr in OUT.err, exit status in RC; guarded by check_no_crash.
t_run()
{
	local limit=$1 out=$2
	shift 2
	RC=0
	timeout -k 5 "$limit" "$@" >"$out.out" 2>"$out.err" </dev/null || RC=$?
	check_no_crash "$RC" "$out" "$*"
}
