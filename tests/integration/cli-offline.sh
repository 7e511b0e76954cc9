#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Offline mode: `migrate upgrade/downgrade --sql` prints a psql script that
# touches no database and, applied with psql, gives the same schema
# (pg_dump --schema-only) and the same bookkeeping as an online run; the
# script refuses to run on a database that is not where it starts from.
#
# usage: pg-harness.sh bash cli-offline.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

T=$T_TMP
D=$T/revs
gen_chain "$D" 3

psql_file()
{
	local db=$1 file=$2 out=$3
	RC=0
	PGAPPNAME=cli-test timeout -k 5 60 psql -X -q -v ON_ERROR_STOP=1 \
		-d "$db" -f "$file" >"$out.out" 2>"$out.err" </dev/null || RC=$?
	LAST=$out
}

dump()
{
	# \restrict carries a random key (PostgreSQL 15.14 and later).
	pg_dump --schema-only --no-owner -d "$1" |
		grep -Ev '^(-- Dumped|\\restrict|\\unrestrict)'
}

bookkeeping()
{
	echo "version: $(version_of "$1")"
	q -d "$1" -c "SELECT revision || ' ' || direction || ' ' || operation || ' ' ||
		coalesce(checksum, '-') || ' ' || success FROM migrate_log ORDER BY id"
}

# same_db A B WHAT: same schema and same bookkeeping.
same_db()
{
	dump "$1" >"$T/$1.dump"
	dump "$2" >"$T/$2.dump"
	if ! diff -u "$T/$1.dump" "$T/$2.dump" >"$T/dump.diff"; then
		show "schema diff $1 vs $2" "$T/dump.diff"
		fail "$3: the schemas differ"
	fi
	ok "$3: same schema (pg_dump --schema-only)"
	bookkeeping "$1" >"$T/$1.bk"
	bookkeeping "$2" >"$T/$2.bk"
	if ! diff -u "$T/$1.bk" "$T/$2.bk" >"$T/bk.diff"; then
		show "bookkeeping diff $1 vs $2" "$T/bk.diff"
		fail "$3: the bookkeeping differs"
	fi
	ok "$3: same alembic_version and migrate_log rows"
}

# --- the script touches no database ------------------------------------------
run "$T/s0" "$MIGRATE" --revisions "$D" \
	--database-url "postgresql://nobody:secret@127.0.0.1:1/none" upgrade --sql head
expect 0 "upgrade --sql with an unreachable database URL"
cp "$T/s0.out" "$T/up.sql"
has "$T/up.sql" "t_003" "the script holds the revisions' SQL"

# --- upgrade: online vs script -------------------------------------------------
fresh_db online
fresh_db offline
m online "$T/on1" --revisions "$D" upgrade head
expect 0 "online upgrade head"
psql_file offline "$T/up.sql" "$T/p1"
expect 0 "psql runs the upgrade script"
same "$(version_of offline)" "r003" "the script moved the database to r003"
same_db online offline "upgrade head"
m offline "$T/c1" --revisions "$D" check
expect 0 "migrate check accepts the scripted database"

# The guard: the same script on a database that is not at base.
psql_file offline "$T/up.sql" "$T/p2"
[ "$RC" -ne 0 ] || fail "the script ran twice"
ok "the script refuses a database that is not where it starts from"
same "$(version_of offline)" "r003" "the refused script changed nothing"

# --- FROM:TO -------------------------------------------------------------------
fresh_db partial
m partial "$T/on2" --revisions "$D" upgrade r001
expect 0 "online upgrade to r001"
run "$T/s2" "$MIGRATE" --revisions "$D" upgrade --sql r001:r003
expect 0 "upgrade --sql r001:r003"
psql_file partial "$T/s2.out" "$T/p3"
expect 0 "psql runs the r001:r003 script"
same "$(version_of partial)" "r003" "r001:r003 reaches r003"
psql_file partial "$T/up.sql" "$T/p4"
[ "$RC" -ne 0 ] || fail "the base:r003 script ran on a database at r003"
ok "the base script refuses a database at r003"

# --- downgrade: online vs script --------------------------------------------------
run "$T/s3" "$MIGRATE" --revisions "$D" downgrade --sql r003:r001
expect 0 "downgrade --sql r003:r001"
m online "$T/on3" --revisions "$D" downgrade r001
expect 0 "online downgrade to r001"
psql_file offline "$T/s3.out" "$T/p5"
expect 0 "psql runs the downgrade script"
same_db online offline "downgrade to r001"
run "$T/s4" "$MIGRATE" --revisions "$D" downgrade --sql base
expect 0 "downgrade --sql base (from this build's head)"
run "$T/s5" "$MIGRATE" --revisions "$D" upgrade r001:r003
expect 2 "FROM:TO without --sql"

# --- the built-in Mirage baseline -------------------------------------------------
if [ "${MIGRATE_TEST_VECTOR:-none}" != none ]; then
	fresh_db mirage_online
	fresh_db mirage_offline
	m mirage_online "$T/mon" upgrade head
	expect 0 "online upgrade of the built-in revisions"
	run "$T/ms" "$MIGRATE" upgrade --sql head
	expect 0 "upgrade --sql of the built-in revisions"
	psql_file mirage_offline "$T/ms.out" "$T/mp"
	expect 0 "psql runs the Mirage script"
	same_db mirage_online mirage_offline "Mirage baseline"
else
	note "no vector extension: the built-in baseline part is skipped"
fi
