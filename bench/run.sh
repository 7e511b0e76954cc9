#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Benchmark (issue 8): `migrate` against its peers on a durable server.
#
#  1. upgrade empty -> head, N generated revisions (a table and an index
#     each), a fresh database every run: psql -1, psql with one transaction
#     per revision, dbmate (its native binary from the npm package
#     @dbmate/linux-x64, fetched at run time; skipped with a message when
#     npm cannot get it), migrate, migrate --single-transaction;
#  2. no-op upgrade and `check` at head (N revision files, and the built-in
#     Mirage revisions) against the floor `psql -c 'SELECT 1'` (and a bare
#     libpq connect + SELECT 1, bench/connect-select1.c);
#  3. in-process migrate_verify() on an open connection (bench/verify-loop.c);
#  4. deterministic costs of one upgrade, which do not swing with the load:
#     queries sent (round trips), statements executed by the server
#     (pg_stat_statements, nested ones included), commits, WAL bytes
#     (pg_current_wal_lsn() around the run, after a CHECKPOINT), and the
#     peak RSS of the client (/usr/bin/time).
# Wall times are medians of repeated runs, the tools interleaved in a
# rotating order (the same method as hyperfine, by hand, so that drift of
# the machine's load hits every tool alike). All clients connect over TCP
# to 127.0.0.1. Writes bench/RESULTS.md, keeping its hand-written Notes.
#
# usage: make bench
#    or: bench/run.sh [BUILD_DIR]            (default: build)
# It starts its own throwaway server through tests/pg-harness.sh with
# production durability (fsync, synchronous_commit, full_page_writes on)
# and pg_stat_statements.
# env:   BENCH_NS ("1 100 1000"; add 10000 on request), BENCH_REPEAT (5),
#        BENCH_CHECK_REPEAT (21), BENCH_COUNT_NS (= BENCH_NS),
#        BENCH_VERIFY_ITERS (2000), BENCH_DBMATE (1; 0 skips dbmate),
#        BENCH_OUT (bench/RESULTS.md), BENCH_DBMATE_BIN (a dbmate
#        binary to use instead of fetching one),
#        BENCH_SMOKE=1: a tiny run (N=2, one repeat, no dbmate) into a
#        temporary file, accepted on a non-durable server (the test suite).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
case $build in
/*) ;;
*) build=$PWD/$build ;;
esac

if [ -z "${PGHOST:-}" ]; then
	durable_server=1
	[ "${BENCH_SMOKE:-0}" = 1 ] && durable_server=0
	exec env PG_HARNESS_DURABLE=$durable_server \
		PG_HARNESS_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" \
		"$here/../tests/pg-harness.sh" bash "$0" "$build"
fi

MIGRATE=$build/cli/mirage-migrate
CONNECT=$build/bench/connect-select1
VERIFY=$build/bench/verify-loop
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	NS=${BENCH_NS:-2}
	REPEAT=1
	CHECK_REPEAT=1
	VERIFY_ITERS=5
	DBMATE_WANTED=${BENCH_DBMATE:-0}
else
	NS=${BENCH_NS:-"1 100 1000"}
	REPEAT=${BENCH_REPEAT:-5}
	CHECK_REPEAT=${BENCH_CHECK_REPEAT:-21}
	VERIFY_ITERS=${BENCH_VERIFY_ITERS:-2000}
	DBMATE_WANTED=${BENCH_DBMATE:-1}
fi
COUNT_NS=${BENCH_COUNT_NS:-$NS}
OUT=${BENCH_OUT:-$here/RESULTS.md}

for x in "$MIGRATE" "$CONNECT" "$VERIFY"; do
	[ -x "$x" ] || { echo "bench: no $x (build first)" >&2; exit 2; }
done
unset MIRAGE_DATABASE_URL DATABASE_URL

pgdir=$PGHOST
serverlog=$pgdir/server.log
# Every client goes over TCP loopback, as a service would.
export PGHOST=${MIGRATE_TEST_TCP_HOST:-127.0.0.1}
dburl() { echo "postgres://postgres@$PGHOST:$PGPORT/$1?sslmode=disable"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/libmigrate-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The server's own psql: Debian's /usr/bin/psql is a Perl wrapper that
# costs ~25 ms a start, which would flatter everything measured against it.
PSQL=psql
[ -x "${MIGRATE_TEST_PGBIN:-}/psql" ] && PSQL=$MIGRATE_TEST_PGBIN/psql
export PSQL
q() { PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }

durable=$(q -c "SELECT current_setting('fsync') || current_setting('synchronous_commit') || current_setting('full_page_writes')")
if [ "$durable" != ononon ] && [ "${BENCH_SMOKE:-0}" != 1 ]; then
	echo "bench: the server is not durable (fsync/synchronous_commit/full_page_writes: $durable); run bench/run.sh without PGHOST" >&2
	exit 2
fi
have_pgss=0
if q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 &&
	q -c "SELECT pg_stat_statements_reset()" >/dev/null 2>&1; then
	have_pgss=1
fi

# dbmate: the native binary of the npm package, fetched now (or the one
# in BENCH_DBMATE_BIN, fetched earlier: bench/device.sh, no network there).
DBMATE=""
dbmate_note=""
if [ "$DBMATE_WANTED" = 1 ]; then
	if [ -n "${BENCH_DBMATE_BIN:-}" ] && [ -x "$BENCH_DBMATE_BIN" ]; then
		DBMATE=$BENCH_DBMATE_BIN
		dbmate_ver=$("$DBMATE" --version 2>/dev/null | awk '{ print $NF }')
		dbmate_note="dbmate $dbmate_ver (npm @dbmate/linux-x64)"
	elif command -v npm >/dev/null &&
		(cd "$work" && timeout 120 npm pack --silent @dbmate/linux-x64 >npm.log 2>&1); then
		tar -xzf "$work"/dbmate-linux-x64-*.tgz -C "$work"
		DBMATE=$(find "$work/package" -type f -name dbmate | head -n1)
		chmod +x "$DBMATE" 2>/dev/null || true
		dbmate_ver=$("$DBMATE" --version 2>/dev/null | awk '{ print $NF }')
		dbmate_note="dbmate $dbmate_ver (npm @dbmate/linux-x64)"
	else
		echo "bench: npm cannot fetch @dbmate/linux-x64; dbmate skipped" >&2
		dbmate_note="dbmate skipped (npm unreachable)"
		DBMATE=""
	fi
fi

fresh_db() {
	q -c "DROP DATABASE IF EXISTS ${1:-bench} WITH (FORCE)" \
		-c "CREATE DATABASE ${1:-bench}" -c "CHECKPOINT" >/dev/null
}
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}
# median of the numbers (microseconds) on stdin, in ms with one decimal
median_ms() {
	sort -n | awk '{ a[NR] = $1 }
		END { if (NR == 0) { printf "-"; exit }
		      m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
		      printf "%.1f", m / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) printf "-"; else printf "%.2f", a / b }'; }

# The tools, as functions of the revisions directory (the database is
# bench, freshly created by the caller).
up_psql1() { "$PSQL" -X -q -1 -v ON_ERROR_STOP=1 -d bench -f "$1.sql" >/dev/null; }
up_psqltx() { "$PSQL" -X -q -d bench -f "$1.psql" >/dev/null; }
up_dbmate() {
	DATABASE_URL=$(dburl bench) "$DBMATE" --no-dump-schema \
		--migrations-dir "$1.dbmate" up >/dev/null
}
up_migrate() { PGDATABASE=bench "$MIGRATE" -q --revisions "$1" upgrade head; }
up_migrate1() {
	PGDATABASE=bench "$MIGRATE" -q --single-transaction --revisions "$1" \
		upgrade head
}
tools=(psql1 psqltx migrate migrate1)
[ -n "$DBMATE" ] && tools=(psql1 psqltx dbmate migrate migrate1)

pgver=$(q -c "SHOW server_version")
up_rows=()
noop_rows=()
count_rows=()
declare -A med

for n in $NS; do
	dir=$work/revs_$n
	sh "$here/gen-revisions.sh" "$dir" "$n"
	for t in "${tools[@]}"; do : >"$work/t_$t"; done
	for ((r = 0; r < REPEAT; r++)); do
		# A rotating order: no tool always runs first or last.
		k=${#tools[@]}
		for ((j = 0; j < k; j++)); do
			t=${tools[$(((j + r) % k))]}
			fresh_db
			t0=$(now_us)
			"up_$t" "$dir"
			t1=$(now_us)
			echo $((t1 - t0)) >>"$work/t_$t"
		done
	done
	line="| $n"
	for t in psql1 psqltx dbmate migrate migrate1; do
		if [ -f "$work/t_$t" ] && { [ "$t" != dbmate ] || [ -n "$DBMATE" ]; }; then
			med[$t]=$(median_ms <"$work/t_$t")
		else
			med[$t]="-"
		fi
		line="$line | ${med[$t]}"
	done
	line="$line | $(ratio "${med[migrate]}" "${med[psqltx]}") | $(ratio "${med[migrate1]}" "${med[psql1]}") | $(ratio "${med[migrate]}" "${med[dbmate]}") |"
	up_rows+=("$line")
	echo "bench: upgrade N=$n: psql -1 ${med[psql1]}, psql/tx ${med[psqltx]}, dbmate ${med[dbmate]}, migrate ${med[migrate]}, migrate -1 ${med[migrate1]} ms"

	# No-op upgrade and check at head, against the floor.
	fresh_db
	up_migrate "$dir"
	PGDATABASE=bench "$MIGRATE" -q --revisions "$dir" check
	if [ -n "$DBMATE" ]; then
		fresh_db benchd
		DATABASE_URL=$(dburl benchd) "$DBMATE" --no-dump-schema \
			--migrations-dir "$dir.dbmate" up >/dev/null
	fi
	checks=(floor connect noop check)
	[ -n "$DBMATE" ] && checks+=(dnoop dstatus)
	for c in "${checks[@]}"; do : >"$work/c_$c"; done
	for ((r = 0; r < CHECK_REPEAT; r++)); do
		k=${#checks[@]}
		for ((j = 0; j < k; j++)); do
			c=${checks[$(((j + r) % k))]}
			t0=$(now_us)
			case $c in
			floor) "$PSQL" -X -q -d bench -c 'SELECT 1' >/dev/null ;;
			connect) PGDATABASE=bench "$CONNECT" ;;
			noop) PGDATABASE=bench "$MIGRATE" -q --revisions "$dir" upgrade head ;;
			check) PGDATABASE=bench "$MIGRATE" -q --revisions "$dir" check ;;
			dnoop) DATABASE_URL=$(dburl benchd) "$DBMATE" --no-dump-schema \
				--migrations-dir "$dir.dbmate" up >/dev/null ;;
			dstatus) DATABASE_URL=$(dburl benchd) "$DBMATE" \
				--migrations-dir "$dir.dbmate" status --exit-code >/dev/null ;;
			esac
			t1=$(now_us)
			echo $((t1 - t0)) >>"$work/c_$c"
		done
	done
	for c in floor connect noop check dnoop dstatus; do
		if [ -s "$work/c_$c" ] && { [ "${c#d}" = "$c" ] || [ -n "$DBMATE" ]; }; then
			med[$c]=$(median_ms <"$work/c_$c")
		else
			med[$c]="-"
		fi
	done
	noop_rows+=("| $n files | ${med[floor]} | ${med[connect]} | ${med[dnoop]} | ${med[dstatus]} | ${med[noop]} | ${med[check]} | $(ratio "${med[noop]}" "${med[floor]}") | $(ratio "${med[check]}" "${med[floor]}") |")
	echo "bench: at head, $n files: floor ${med[floor]}, no-op ${med[noop]}, check ${med[check]} ms"
done

# The built-in Mirage revisions, as the services run them (needs
# `CREATE EXTENSION vector`, real or stand-in).
if [ "${MIGRATE_TEST_VECTOR:-none}" != none ]; then
	fresh_db
	PGDATABASE=bench "$MIGRATE" -q upgrade head
	for c in floor connect noop check; do : >"$work/c_$c"; done
	builtin_checks=(floor connect noop check)
	for ((r = 0; r < CHECK_REPEAT; r++)); do
		# The same rotating order as above.
		for ((j = 0; j < 4; j++)); do
			c=${builtin_checks[$(((j + r) % 4))]}
			t0=$(now_us)
			case $c in
			floor) "$PSQL" -X -q -d bench -c 'SELECT 1' >/dev/null ;;
			connect) PGDATABASE=bench "$CONNECT" ;;
			noop) PGDATABASE=bench "$MIGRATE" -q upgrade head ;;
			check) PGDATABASE=bench "$MIGRATE" -q check ;;
			esac
			t1=$(now_us)
			echo $((t1 - t0)) >>"$work/c_$c"
		done
	done
	for c in floor connect noop check; do med[$c]=$(median_ms <"$work/c_$c"); done
	noop_rows+=("| built in (Mirage 001) | ${med[floor]} | ${med[connect]} | - | - | ${med[noop]} | ${med[check]} | $(ratio "${med[noop]}" "${med[floor]}") | $(ratio "${med[check]}" "${med[floor]}") |")
	echo "bench: built in: floor ${med[floor]}, no-op ${med[noop]}, check ${med[check]} ms"
fi

# migrate_verify() in process, on the database at head (the last N).
fresh_db
up_migrate "$work/revs_$(echo "$NS" | awk '{ print $1 }')"
verify_line=$(PGDATABASE=bench "$VERIFY" "$work/revs_$(echo "$NS" | awk '{ print $1 }')" "$VERIFY_ITERS" 2>&1 || true)
echo "bench: $verify_line"

# Deterministic costs of one upgrade from empty.
log_size() { stat -c %s "$serverlog" 2>/dev/null || echo 0; }
bench_idle() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench'")" = 0 ] && return
		sleep 0.05
	done
}
names() {
	case $1 in
	psql1) echo "psql -1" ;;
	psqltx) echo "psql, one transaction per revision" ;;
	dbmate) echo "dbmate" ;;
	migrate) echo "migrate" ;;
	migrate1) echo "migrate --single-transaction" ;;
	esac
}

declare -A cnt
export MIGRATE DBMATE
export -f dburl up_psql1 up_psqltx up_dbmate up_migrate up_migrate1
for n in $COUNT_NS; do
	dir=$work/revs_$n
	[ -d "$dir" ] || sh "$here/gen-revisions.sh" "$dir" "$n"
	for t in "${tools[@]}"; do
		# A checkpoint that falls inside the run (checkpoint_timeout
		# passes) makes every page touched after it a full-page image:
		# WAL bytes that belong to the clock, not to the tool. Such a
		# run is repeated (three tries).
		for ((try = 1; try <= 3; try++)); do
			fresh_db
			q -c "ALTER DATABASE bench SET log_statement = 'all'" >/dev/null
			[ "$have_pgss" = 1 ] && q -c "SELECT pg_stat_statements_reset()" >/dev/null
			ckpt0=$(q -c "SELECT checkpoint_lsn FROM pg_control_checkpoint()")
			lsn0=$(q -c "SELECT pg_current_wal_lsn()")
			sz0=$(log_size)
			/usr/bin/time -f %M -o "$work/rss" bash -c 'up_'"$t"' "$1"' _ "$dir"
			bench_idle
			lsn1=$(q -c "SELECT pg_current_wal_lsn()")
			[ "$(q -c "SELECT checkpoint_lsn FROM pg_control_checkpoint()")" = "$ckpt0" ] && break
			echo "bench: counts $t N=$n: a checkpoint fell inside the run; again" >&2
		done
		wal=$(q -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
		commits=$(q -c "SELECT pg_stat_clear_snapshot()" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'" | tail -n1)
		if [ "$have_pgss" = 1 ]; then
			stmts=$(q -c "SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0) || ' / ' || coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench')")
		else
			stmts="-"
		fi
		if [ -r "$serverlog" ]; then
			rts=$(tail -c +"$((sz0 + 1))" "$serverlog" | grep -c 'LOG:  \(statement\|execute [^ ]*\): ' || true)
		else
			rts="-"
		fi
		rss=$(tail -n1 "$work/rss")
		cnt[$t,$n]="$rts|$stmts|$commits|$wal|$rss"
		count_rows+=("| $(names "$t") | $n | $rts | $stmts | $commits | $wal | $rss |")
		echo "bench: counts $t N=$n: queries $rts, statements $stmts, commits $commits, WAL $wal B, RSS $rss KB"
	done
done
q -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "DROP DATABASE IF EXISTS benchd WITH (FORCE)" >/dev/null

# Per revision: the difference between the largest and the smallest N.
per_rev_rows=()
nmin=$(echo "$COUNT_NS" | tr ' ' '\n' | sort -n | head -n1)
nmax=$(echo "$COUNT_NS" | tr ' ' '\n' | sort -n | tail -n1)
if [ "$nmax" != "$nmin" ]; then
	for t in "${tools[@]}"; do
		per_rev_rows+=("$(awk -F'|' -v n="$(names "$t")" -v a="${cnt[$t,$nmin]}" -v b="${cnt[$t,$nmax]}" -v d="$((nmax - nmin))" '
			function f(x, y) { if (x == "-" || y == "-") return "-"; return sprintf("%.2f", (y - x) / d) }
			function top(s) { split(s, p, " / "); return p[1] }
			function all(s) { split(s, p, " / "); return p[2] }
			BEGIN { split(a, x, "|"); split(b, y, "|");
				printf "| %s | %s | %s / %s | %s | %s |", n, f(x[1], y[1]),
					f(top(x[2]), top(y[2])), f(all(x[2]), all(y[2])),
					f(x[3], y[3]), (x[4] == "" ? "-" : sprintf("%.0f", (y[4] - x[4]) / d)) }')")
	done
fi


[ "${BENCH_SMOKE:-0}" = 1 ] && [ -z "${BENCH_OUT:-}" ] && OUT=$work/RESULTS.md
{
	echo "# Benchmark results"
	echo
	echo "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores"
	echo "($(uname -m)), PostgreSQL $pgver with production durability"
	echo "(fsync, synchronous_commit, full_page_writes: $durable), every client over"
	echo "TCP to 127.0.0.1. Wall clock of the whole process in ms (start, connect,"
	echo "work, exit), medians of $REPEAT runs (upgrade) and $CHECK_REPEAT runs (at head),"
	echo "the tools interleaved in a rotating order; ${dbmate_note:-dbmate not run}."
	echo "Every upgrade starts from a fresh, empty database (after a CHECKPOINT)."
	echo "Each revision creates a table and an index."
	echo
	echo "## Upgrade empty -> head"
	echo
	echo "| N | psql -1 | psql, one transaction per revision | dbmate | migrate | migrate --single-transaction | migrate / psql per-tx | single / psql -1 | migrate / dbmate |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${up_rows[@]}"
	echo
	echo "## At head: no-op upgrade and \`check\`"
	echo
	echo "Floor: \`psql -c 'SELECT 1'\` (start, connect, one round trip); also a bare"
	echo "libpq connect + SELECT 1 (bench/connect-select1.c). dbmate: \`up\` with nothing"
	echo "to do and \`status --exit-code\`."
	echo
	echo "| revisions | floor psql | libpq connect + SELECT 1 | dbmate up (no-op) | dbmate status | migrate upgrade (no-op) | migrate check | no-op / floor | check / floor |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${noop_rows[@]}"
	echo
	echo "## In-process \`migrate_verify()\` on an open connection"
	echo
	echo "bench/verify-loop.c, $VERIFY_ITERS calls, read-only handle, database at head:"
	echo
	echo "    $verify_line"
	echo
	echo "## Deterministic costs of one upgrade (do not swing with the load)"
	echo
	echo "Queries sent = simple or extended-protocol queries the server logged"
	echo "(log_statement = all), i.e. round trips; statements = pg_stat_statements"
	echo "calls (track = all), top-level / including those run inside DO blocks;"
	echo "commits = pg_stat_database.xact_commit; WAL = bytes between"
	echo "pg_current_wal_lsn() before and after; RSS = peak resident set of the"
	echo "client process tree (/usr/bin/time, KB)."
	echo
	echo "| tool | N | queries sent | statements (top / all) | commits | WAL bytes | peak RSS KB |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${count_rows[@]}"
	if [ ${#per_rev_rows[@]} -gt 0 ]; then
		echo
		echo "Per revision (difference between N = $nmax and N = $nmin, divided by $((nmax - nmin))):"
		echo
		echo "| tool | queries sent | statements (top / all) | commits | WAL bytes |"
		echo "|---|---:|---:|---:|---:|"
		printf '%s\n' "${per_rev_rows[@]}"
	fi
	# The analysis written by hand below the tables survives a rerun.
	if [ -f "$OUT" ] && grep -q '^## Notes' "$OUT"; then
		echo
		sed -n '/^## Notes/,$p' "$OUT"
	fi
} >"$OUT.new"
mv "$OUT.new" "$OUT"
echo "bench: wrote $OUT"
[ "${BENCH_SMOKE:-0}" = 1 ] && cat "$OUT"
exit 0
