#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Benchmark: `migrate upgrade head` against psql running the same SQL with
# the same transaction structure (BEGIN; revision; COMMIT; per revision, one
# `psql -f`), for N = 1, 100, 1000 generated revisions (a table and an index
# each), on a fresh database each time; and `migrate check` against a bare
# libpq connect + SELECT 1 (bench/connect-select1.c). Medians of repeated
# runs; writes bench/RESULTS.md.
#
# usage: make bench
#    or: tests/pg-harness.sh bench/run.sh [BUILD_DIR]      (default: build)
# env:   BENCH_NS ("1 100 1000"), BENCH_REPEAT (5), BENCH_CHECK_REPEAT (31),
#        BENCH_OUT (bench/RESULTS.md)
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
case $build in
/*) ;;
*) build=$PWD/$build ;;
esac
MIGRATE=$build/cli/migrate
CONNECT=$build/bench/connect-select1
NS=${BENCH_NS:-"1 100 1000"}
REPEAT=${BENCH_REPEAT:-5}
CHECK_REPEAT=${BENCH_CHECK_REPEAT:-31}
OUT=${BENCH_OUT:-$here/RESULTS.md}

if [ -z "${PGHOST:-}" ]; then
	echo "bench: run me through tests/pg-harness.sh (or: make bench)" >&2
	exit 2
fi
[ -x "$MIGRATE" ] || { echo "bench: no $MIGRATE (build first)" >&2; exit 2; }
[ -x "$CONNECT" ] || { echo "bench: no $CONNECT (build first)" >&2; exit 2; }
unset MIRAGE_DATABASE_URL DATABASE_URL

work=$(mktemp -d "${TMPDIR:-/tmp}/libmigrate-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }
fresh_db() {
	q -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench" >/dev/null
}
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}
# median of the numbers on stdin, in ms with one decimal
median_ms() {
	sort -n | awk '{ a[NR] = $1 }
		END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
		      printf "%.1f", m / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

run_migrate_upgrade() {
	local dir=$1 t0 t1
	fresh_db
	t0=$(now_us)
	PGDATABASE=bench "$MIGRATE" -q --revisions "$dir" upgrade head
	t1=$(now_us)
	echo $((t1 - t0))
}
run_psql_script() {
	local script=$1 t0 t1
	fresh_db
	t0=$(now_us)
	psql -X -q -d bench -f "$script" >/dev/null
	t1=$(now_us)
	echo $((t1 - t0))
}

pgver=$(q -c "SHOW server_version")
rows=()
check_rows=()
for n in $NS; do
	dir=$work/revs_$n
	sh "$here/gen-revisions.sh" "$dir" "$n"
	: >"$work/m" && : >"$work/p"
	for ((r = 0; r < REPEAT; r++)); do
		# Alternate the order so neither side always runs on a warmer
		# server.
		if ((r % 2)); then
			run_psql_script "$dir.psql" >>"$work/p"
			run_migrate_upgrade "$dir" >>"$work/m"
		else
			run_migrate_upgrade "$dir" >>"$work/m"
			run_psql_script "$dir.psql" >>"$work/p"
		fi
	done
	m=$(median_ms <"$work/m")
	p=$(median_ms <"$work/p")
	rows+=("| $n | $m | $p | $(ratio "$m" "$p") |")
	echo "bench: N=$n: migrate upgrade head $m ms, psql $p ms"

	# migrate check on the database at head vs connect + SELECT 1.
	run_migrate_upgrade "$dir" >/dev/null
	PGDATABASE=bench "$MIGRATE" -q --revisions "$dir" check
	: >"$work/c" && : >"$work/s"
	for ((r = 0; r < CHECK_REPEAT; r++)); do
		t0=$(now_us)
		PGDATABASE=bench "$MIGRATE" -q --revisions "$dir" check
		t1=$(now_us)
		echo $((t1 - t0)) >>"$work/c"
		t0=$(now_us)
		PGDATABASE=bench "$CONNECT"
		t1=$(now_us)
		echo $((t1 - t0)) >>"$work/s"
	done
	c=$(median_ms <"$work/c")
	s=$(median_ms <"$work/s")
	check_rows+=("| $n (--revisions) | $c | $s | $(ratio "$c" "$s") |")
	echo "bench: N=$n: migrate check $c ms, connect + SELECT 1 $s ms"
done

# The real thing: the embedded Mirage baseline, as the services run it
# (needs `CREATE EXTENSION vector`, real or stand-in).
if [ "${MIGRATE_TEST_VECTOR:-none}" != none ]; then
	fresh_db
	PGDATABASE=bench "$MIGRATE" -q upgrade head
	: >"$work/c" && : >"$work/s"
	for ((r = 0; r < CHECK_REPEAT; r++)); do
		t0=$(now_us)
		PGDATABASE=bench "$MIGRATE" -q check
		t1=$(now_us)
		echo $((t1 - t0)) >>"$work/c"
		t0=$(now_us)
		PGDATABASE=bench "$CONNECT"
		t1=$(now_us)
		echo $((t1 - t0)) >>"$work/s"
	done
	c=$(median_ms <"$work/c")
	s=$(median_ms <"$work/s")
	check_rows+=("| Mirage 001 (built in) | $c | $s | $(ratio "$c" "$s") |")
	echo "bench: built-in revisions: migrate check $c ms, connect + SELECT 1 $s ms"
fi
q -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" >/dev/null

{
	echo "# Benchmark results"
	echo
	echo "Produced by \`make bench\` (bench/run.sh through tests/pg-harness.sh) on"
	echo "$(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $pgver on a unix socket"
	echo "(the harness runs the server with fsync off; both sides get the same server)."
	echo "Medians of $REPEAT runs (upgrade) and $CHECK_REPEAT runs (check); every"
	echo "upgrade starts from a fresh, empty database. Times in milliseconds, wall"
	echo "clock, including process start and connection."
	echo
	echo "## \`migrate upgrade head\` vs psql, one transaction per revision"
	echo
	echo "Each revision creates a table and an index. psql runs the same SQL as one"
	echo "script of \`BEGIN; ...; COMMIT;\` blocks; migrate also takes its advisory lock,"
	echo "creates its two bookkeeping tables and writes \`alembic_version\` and one"
	echo "\`migrate_log\` row inside each revision's transaction. Target: ratio <= 1.10"
	echo "at N = 1000."
	echo
	echo "| N | migrate (ms) | psql (ms) | ratio |"
	echo "|---:|---:|---:|---:|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "## \`migrate check\` vs connect + \`SELECT 1\`"
	echo
	echo "\`migrate check\` loads and checks the revisions, connects, and reads the"
	echo "version and history tables in one round trip (checksums compared); the"
	echo "baseline is bench/connect-select1.c (libpq connect, SELECT 1, disconnect)."
	echo "Target: ratio <= 1.10."
	echo
	echo "| revisions | migrate check (ms) | connect + SELECT 1 (ms) | ratio |"
	echo "|---|---:|---:|---:|"
	printf '%s\n' "${check_rows[@]}"
	# The analysis written by hand below the tables survives a rerun.
	if [ -f "$OUT" ] && grep -q '^## Notes' "$OUT"; then
		echo
		sed -n '/^## Notes/,$p' "$OUT"
	fi
} >"$OUT.new"
mv "$OUT.new" "$OUT"
echo "bench: wrote $OUT"
