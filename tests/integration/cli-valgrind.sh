#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The CLI under valgrind (memcheck, --leak-check=full): upgrade, current,
# history -v, check, plan, --sql, downgrade, and error paths (connection
# failure, SQL failure, bad revisions, usage) report no error and no leak.
#
# usage: pg-harness.sh bash cli-valgrind.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg
command -v valgrind >/dev/null || skip "valgrind is not installed"
# A sanitizer build has its own shadow memory; valgrind cannot run it (and
# ASan's leak checker already watches every other CLI test of that build).
if nm "$MIGRATE" 2>/dev/null | grep '__asan_init' >/dev/null; then
	skip "$MIGRATE is built with AddressSanitizer"
fi

T=$T_TMP
D=$T/revs
gen_chain "$D" 5
DB=vg_db
fresh_db "$DB"
VG_ERR=99

# vgp OUT WANT PROGRAM ARGS...: PROGRAM under valgrind must exit WANT,
# with no memcheck error and no definite or indirect leak.
vgp()
{
	local out=$1 want=$2 prog=$3
	shift 3
	RC=0
	PGDATABASE=$DB timeout -k 5 240 valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--error-exitcode=$VG_ERR --log-file="$out.vg" \
		"$prog" "$@" >"$out.out" 2>"$out.err" </dev/null || RC=$?
	LAST=$out
	if [ "$RC" -eq "$VG_ERR" ] || [ -s "$out.vg" ]; then
		show "valgrind log" "$out.vg"
		fail "valgrind ${prog##*/} $*: memcheck errors or leaks"
	fi
	expect "$want" "valgrind ${prog##*/} $*"
}

vg()
{
	local out=$1 want=$2
	shift 2
	vgp "$out" "$want" "$MIGRATE" "$@"
}

vg "$T/up" 0 --revisions "$D" -v upgrade r003
vg "$T/cur" 0 --revisions "$D" current
vg "$T/hist" 0 --revisions "$D" -v history
vg "$T/plan" 0 --revisions "$D" plan
vg "$T/up2" 0 --revisions "$D" upgrade head
vg "$T/chk" 0 --revisions "$D" check
vg "$T/heads" 0 --revisions "$D" heads
vg "$T/sql" 0 --revisions "$D" upgrade --sql r001:r005
vg "$T/down" 0 --revisions "$D" downgrade -2
vg "$T/chk1" 1 --revisions "$D" check
vg "$T/stamp" 0 --revisions "$D" stamp head
# Error paths.
vg "$T/noconn" 4 --revisions "$D" --database-url "postgresql://nobody:secret@127.0.0.1:1/x" upgrade head
vg "$T/badtarget" 2 --revisions "$D" upgrade nosuchrev
vg "$T/usage" 2 --revisions "$D" frobnicate
vg "$T/baddir" 3 --revisions "$T/nonexistent" current
cp -r "$D" "$T/revs-bad"
cat >"$T/revs-bad/006_bad.sql" <<'SQL'
-- Fails
--
-- Revision ID: r006
-- Revises: r005
-- Create Date: 2026-01-31

-- migrate:upgrade
SELECT nosuchcolumn FROM t_001;

-- migrate:downgrade
SELECT 1;
SQL
vg "$T/sqlfail" 4 --revisions "$T/revs-bad" upgrade head
# The lint component (libpg_query): lint with findings, as JSON, and the
# pre-flight refusing a syntax error (nothing applied).
if "$MIGRATE" help lint >/dev/null 2>&1; then
	vg "$T/lint" 1 --revisions "$SRCDIR/tests/lint/corpus" lint -v
	vg "$T/lintj" 1 --revisions "$SRCDIR/tests/lint/corpus" --format json lint
	sed -i 's/^SELECT nosuchcolumn FROM t_001;$/SELEC 1;/' "$T/revs-bad/006_bad.sql"
	vg "$T/preflight" 3 --revisions "$T/revs-bad" upgrade head
fi
mkdir -p "$T/revs-new"
vg "$T/rev" 0 --revisions "$T/revs-new" revision -m "first one"
# The JSON writer, show, branches, history -r, merge and stamp --purge.
vg "$T/jhist" 0 --revisions "$D" --format json -v history -r base:current
vg "$T/jcur" 0 --revisions "$D" --format json current
vg "$T/jchk" 0 --revisions "$D" --format json check
vg "$T/jplan" 0 --revisions "$D" --format json plan --down base
vg "$T/show" 0 --revisions "$D" -v show head
vg "$T/jshow" 0 --revisions "$D" --format json show head
vg "$T/branches" 0 --revisions "$D" --format json branches
vg "$T/jerr" 2 --revisions "$D" --format json upgrade nosuchrev
vg "$T/purge" 0 --revisions "$D" stamp --purge head
vg "$T/merge" 2 --revisions "$D" merge -m "join" heads
# The services: refusing (this database is not at the Mirage head), and
# starting when it is.
if [ -x "${MIRAGE_API:-}" ]; then
	vgp "$T/api1" 1 "$MIRAGE_API" --once
fi
if [ "${MIGRATE_TEST_VECTOR:-none}" != none ]; then
	fresh_db vg_mirage
	DB=vg_mirage vg "$T/emb" 0 upgrade head
	DB=vg_mirage vg "$T/embh" 0 -v history
	if [ -x "${MIRAGE_INDEXER:-}" ]; then
		DB=vg_mirage vgp "$T/idx" 0 "$MIRAGE_INDEXER" --once
	fi
fi
