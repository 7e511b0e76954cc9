#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The CLI under valgrind: upgrade, current, history -v, check (at head and
# behind), heads, plan, upgrade --sql, downgrade base, a run whose SQL fails,
# a run on invalid revisions, a run that cannot connect. Each must exit with
# its documented code, without any invalid access, use of uninitialised
# memory, or leak (definite, indirect or possible).
#
# usage: pg-harness.sh valgrind.sh PATH-TO-migrate

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
torture_init "$@"

command -v valgrind >/dev/null || skip "valgrind is not installed"

DB=torture_valgrind
DIR=$T_TMP/revs
BAD=$T_TMP/bad
INVALID=$T_TMP/invalid
gen_chain "$DIR" 5 0

# A chain whose third revision fails on the server.
gen_chain "$BAD" 3 0
sed -i 's/^CREATE INDEX i_003 ON t_003 (v);$/CREATE INDEX i_003 ON t_003 (no_such_column);/' \
	"$BAD/003_t_003.sql"
grep -q no_such_column "$BAD/003_t_003.sql" || fail "cannot make the failing revision"

# Invalid revisions: a parent that does not exist.
gen_chain "$INVALID" 3 0
sed -i 's/^-- Revises: r002$/-- Revises: r999/' "$INVALID/003_t_003.sql"

runs=0

# vg WANT DB NAME ARGS...: run the CLI under valgrind, expect exit WANT.
vg()
{
	local want=$1 db=$2 name=$3 out
	shift 3
	out=$T_TMP/vg-$name
	RC=0
	PGDATABASE=$db timeout -k 5 180 valgrind -q --leak-check=full \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		--track-origins=yes --error-exitcode=99 --log-file="$out.vg" \
		"$MIGRATE" "$@" >"$out.out" 2>"$out.err" </dev/null || RC=$?
	runs=$((runs + 1))
	if [ "$RC" -eq 99 ] || [ -s "$out.vg" ]; then
		show "valgrind" "$out.vg"
		show stderr "$out.err"
		fail "$name (migrate $*): valgrind found errors"
	fi
	check_no_crash "$RC" "$out" "$name (migrate $*)"
	if [ "$RC" -ne "$want" ]; then
		show stdout "$out.out"
		show stderr "$out.err"
		fail "$name (migrate $*): exit $RC, expected $want"
	fi
	note "ok $name: exit $RC, valgrind clean"
}

fresh_db "$DB"
vg 1 "$DB" check-uninitialised --revisions "$DIR" check
vg 0 "$DB" upgrade-sql --revisions "$DIR" upgrade head --sql
vg 0 "$DB" plan --revisions "$DIR" plan head
vg 0 "$DB" upgrade-part --revisions "$DIR" upgrade r002
vg 1 "$DB" check-behind --revisions "$DIR" check
vg 0 "$DB" upgrade --revisions "$DIR" upgrade head
vg 0 "$DB" current --revisions "$DIR" current
vg 0 "$DB" history-v --revisions "$DIR" history -v
vg 0 "$DB" heads --revisions "$DIR" heads
vg 0 "$DB" check --revisions "$DIR" check
vg 0 "$DB" downgrade-base --revisions "$DIR" downgrade base
check_chain "$DB" 5 "after downgrade base"
[ "$CHAIN_AT" -eq 0 ] || fail "downgrade base left the database at r$CHAIN_AT"

fresh_db "$DB"
vg 4 "$DB" failing-sql --revisions "$BAD" upgrade head
grep -q '003_t_003.sql' "$T_TMP/vg-failing-sql.err" ||
	fail "failing-sql: the error does not name 003_t_003.sql: $(head -n 1 "$T_TMP/vg-failing-sql.err")"
vg 3 "$DB" invalid-revisions --revisions "$INVALID" upgrade head
vg 4 "$DB" cannot-connect --revisions "$DIR" \
	--database-url "postgresql://nobody@127.0.0.1:1/nowhere?connect_timeout=5" current

drop_db "$DB"
note "$runs runs valgrind-clean"
note "PASS"
