# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # CHAIN_AT, MIGRATE, T_SEED are used by the scripts
# Shared helpers of the torture tests; sourced, never run.
#
# Every script is run by tests/pg-harness.sh, which starts a throwaway
# PostgreSQL and exports PGHOST/PGPORT/PGUSER/PGDATABASE. The scripts take
# the path of the `migrate` binary as their first argument (or $MIGRATE).
#
# Conventions: every loop is bounded in count and in time, every child is
# started by us and stopped by its pid, and only the harness's unix socket or
# loopback port is used.

# shellcheck source=tests/lib/test-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/test-lib.sh"
T_APPNAME=torture

# torture_init "$@": checks the environment, sets MIGRATE, T_TMP, T_MAINT.
torture_init()
{
	MIGRATE=${1:-${MIGRATE:-}}
	[ -n "$MIGRATE" ] || fail "usage: $0 PATH-TO-migrate (or set MIGRATE)"
	[ -x "$MIGRATE" ] || fail "migrate binary '$MIGRATE' is not executable"
	case $MIGRATE in
	/*) ;;
	*) MIGRATE=$PWD/$MIGRATE ;;
	esac
	t_require_pg
	T_MAINT=$PGDATABASE
	t_start torture
	T_SEED=${TORTURE_SEED:-$(($$ ^ $(date +%s)))}
	RANDOM=$T_SEED
	note "seed $T_SEED (TORTURE_SEED=$T_SEED reproduces the random choices)"
}

# run_migrate DB OUT SECONDS ARGS...: run the CLI on DB with a time limit.
# stdout/stderr go to OUT.out/OUT.err; the exit status is left in RC.
# A crash, a hang or sanitizer output fails the test on the spot.
run_migrate()
{
	local db=$1 out=$2 limit=$3
	shift 3
	PGDATABASE=$db t_run "$limit" "$out" "$MIGRATE" "$@"
}

# expect_rc WANT WHAT OUT: fail unless RC is WANT.
expect_rc()
{
	local want=$1 what=$2 out=$3
	if [ "$RC" -ne "$want" ]; then
		show stdout "$out.out"
		show stderr "$out.err"
		fail "$what: exit $RC, expected $want"
	fi
}

# wait_sessions_gone DB SECONDS: wait until no other session is connected
# to DB. After a SIGKILL of the client, the server finishes the statement
# it was running (and may still commit!) before it notices: the state is
# only final once that backend is gone.
wait_sessions_gone()
{
	local db=$1 secs=${2:-20} i n=
	for ((i = 0; i < secs * 20; i++)); do
		n=$(q -c "SELECT count(*) FROM pg_stat_activity
			  WHERE datname = '$db' AND pid <> pg_backend_pid()") ||
			fail "cannot read pg_stat_activity"
		[ "$n" = 0 ] && return 0
		sleep 0.05
	done
	q -c "SELECT pid, application_name, state, left(query, 80)
	      FROM pg_stat_activity WHERE datname = '$db'" >&2 || true
	fail "$n session(s) still connected to $db after ${secs}s"
}

# wait_migrate_session DB SECONDS: print the pid of the backend of the
# migrate CLI (application_name 'migrate') connected to DB.
wait_migrate_session()
{
	local db=$1 secs=${2:-20} i pid
	for ((i = 0; i < secs * 50; i++)); do
		pid=$(q -c "SELECT pid FROM pg_stat_activity
			    WHERE datname = '$db' AND application_name = 'migrate'
			    ORDER BY backend_start LIMIT 1") ||
			fail "cannot read pg_stat_activity"
		if [ -n "$pid" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.02
	done
	q -c "SELECT pid, application_name, state, left(query, 80)
	      FROM pg_stat_activity WHERE datname = '$db'" >&2 || true
	fail "no session with application_name 'migrate' on $db after ${secs}s (does the CLI set application_name?)"
}

# ---------------------------------------------------------------------
# Generated revision chains
#
# Revision i (1-based) has id rNNN, creates table t_NNN with index i_NNN,
# and when i % 3 == 0 inserts i rows. Its downgrade drops the table.
# ---------------------------------------------------------------------

rev_id()
{
	printf 'r%03d' "$1"
}

# gen_chain DIR N SLEEP: write N revision files; SLEEP (seconds, may be 0)
# is slept in each upgrade so that a run lasts long enough to be hit.
gen_chain()
{
	local dir=$1 n=$2 sleep=$3 i id parent
	mkdir -p "$dir"
	for ((i = 1; i <= n; i++)); do
		id=$(rev_id "$i")
		parent=
		[ "$i" -gt 1 ] && parent=$(rev_id $((i - 1)))
		{
			printf -- '-- torture revision %d\n--\n' "$i"
			printf -- '-- Revision ID: %s\n' "$id"
			printf -- '-- Revises: %s\n' "$parent"
			printf -- '-- Create Date: 2026-01-31\n\n'
			printf -- '-- migrate:upgrade\n'
			printf 'CREATE TABLE t_%03d (id integer PRIMARY KEY, v text);\n' "$i"
			printf 'CREATE INDEX i_%03d ON t_%03d (v);\n' "$i" "$i"
			if [ "$sleep" != 0 ]; then
				printf 'SELECT pg_sleep(%s);\n' "$sleep"
			fi
			if ((i % 3 == 0)); then
				printf "INSERT INTO t_%03d SELECT g, 'row ' || g FROM generate_series(1, %d) g;\n" "$i" "$i"
			fi
			printf '\n-- migrate:downgrade\n'
			printf 'DROP TABLE t_%03d;\n' "$i"
		} >"$dir/$(printf '%03d' "$i")_t_$(printf '%03d' "$i").sql"
	done
}

# A query that describes a chain database in one line, in one round trip:
# VERSION|TABLES|INDEXES|COUNTS|HISTORY where VERSION is "none" (no version
# table) or the rows of alembic_version, TABLES and INDEXES the t_NNN tables
# and i_NNN indexes, COUNTS "N:rows" of every t_NNN with N % 3 = 0, HISTORY
# "rev:count" of successful upgrade rows in migrate_log (or "none").
# query_to_xml() runs the queries on tables that may not exist only when
# they do.
CHAIN_STATE_SQL="
WITH rel AS (
	SELECT c.relname, c.relkind FROM pg_class c
	JOIN pg_namespace s ON s.oid = c.relnamespace
	WHERE s.nspname = 'public')
SELECT concat_ws('|',
	CASE WHEN to_regclass('public.alembic_version') IS NULL THEN 'none'
	ELSE coalesce((xpath('/row/v/text()', query_to_xml(
		'SELECT string_agg(version_num, '','' ORDER BY version_num) AS v
		 FROM public.alembic_version', false, true, '')))[1]::text, '') END,
	(SELECT coalesce(string_agg(relname, ' ' ORDER BY relname), '') FROM rel
	 WHERE relkind = 'r' AND relname ~ '^t_[0-9]+\$'),
	(SELECT coalesce(string_agg(relname, ' ' ORDER BY relname), '') FROM rel
	 WHERE relkind = 'i' AND relname ~ '^i_[0-9]+\$'),
	(SELECT coalesce(string_agg(substr(relname, 3)::int || ':' ||
		(xpath('/row/c/text()', query_to_xml(format(
			'SELECT count(*) AS c FROM public.%I', relname),
			false, true, '')))[1]::text, ' ' ORDER BY relname), '')
	 FROM rel WHERE relkind = 'r' AND relname ~ '^t_[0-9]+\$'
	   AND substr(relname, 3)::int % 3 = 0),
	CASE WHEN to_regclass('public.migrate_log') IS NULL THEN 'none'
	ELSE coalesce((xpath('/row/h/text()', query_to_xml(
		'SELECT string_agg(revision || '':'' || n, '' '' ORDER BY revision) AS h
		 FROM (SELECT revision, count(*) AS n FROM public.migrate_log
		       WHERE success AND operation = ''upgrade''
		       GROUP BY revision) x', false, true, '')))[1]::text, '') END)"

# check_chain DB N CONTEXT: the version table and the schema agree exactly.
# Every revision <= the version has its table, index and rows; no later one
# has anything; the history table (when it exists) records exactly one
# successful upgrade of each applied revision and none of a later one.
# Sets CHAIN_AT (0 for no version table or no row).
check_chain()
{
	local db=$1 n=$2 ctx=$3 line v tables indexes counts hist at i
	local want_t='' want_i='' want_c='' want_h=''
	line=$(q -d "$db" -c "$CHAIN_STATE_SQL") || fail "$ctx: cannot query $db"
	IFS='|' read -r v tables indexes counts hist <<<"$line"
	case $v in
	none | '') at=0 ;;
	r[0-9][0-9][0-9]) at=$((10#${v#r})) ;;
	*) fail "$ctx: alembic_version holds '$v', not one chain revision" ;;
	esac
	[ "$at" -le "$n" ] || fail "$ctx: version r$at beyond the chain of $n"
	for ((i = 1; i <= at; i++)); do
		want_t+="${want_t:+ }$(printf 't_%03d' "$i")"
		want_i+="${want_i:+ }$(printf 'i_%03d' "$i")"
		((i % 3 == 0)) && want_c+="${want_c:+ }$i:$i"
		want_h+="${want_h:+ }$(rev_id "$i"):1"
	done
	[ "$tables" = "$want_t" ] ||
		fail "$ctx: version table says '$v' but the tables are [$tables], expected [$want_t]"
	[ "$indexes" = "$want_i" ] ||
		fail "$ctx: version table says '$v' but the indexes are [$indexes], expected [$want_i]"
	[ "$counts" = "$want_c" ] ||
		fail "$ctx: row counts [$counts], expected [$want_c] (a data insert was lost or doubled)"
	if [ "$hist" = none ]; then
		[ "$at" -eq 0 ] || fail "$ctx: at r$at but there is no migrate_log table"
	elif [ "$hist" != "$want_h" ]; then
		fail "$ctx: migrate_log successful upgrades [$hist], expected [$want_h]"
	fi
	CHAIN_AT=$at
}

# reset_schema DB: an empty public schema (faster than a new database).
reset_schema()
{
	q -d "$1" -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public" >/dev/null ||
		fail "cannot reset the public schema of $1"
}
