#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `migrate check` (verify) for every status it can meet, with its exit
# codes; plan, stamp, relative targets and `revision` on a generated chain;
# the services' check on an uninitialised and an unknown database.
#
# usage: pg-harness.sh bash cli-check.sh   (MIGRATE etc. in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

T=$T_TMP
D=$T/revs
gen_chain "$D" 3
DB=check_db
fresh_db "$DB"

mr()
{
	local out=$1
	shift
	m "$DB" "$out" --revisions "$D" "$@"
}

# --- no version table -----------------------------------------------------
mr "$T/c0" check
expect 1 "check on a never-migrated database"
[ -s "$T/c0.out" ] || fail "check printed no message"
ok "check says why"
table_exists "$DB" public.alembic_version &&
	fail "check created the version table"
table_exists "$DB" public.migrate_log && fail "check created the history table"
ok "check created nothing"
mr "$T/cur0" current
expect 0 "current on a never-migrated database"
same "$(cat "$T/cur0.out")" "<base>" "current prints <base>"
if [ -x "${MIRAGE_API:-}" ]; then
	PGDATABASE=$DB run "$T/api0" "$MIRAGE_API" --once
	expect 1 "mirage-api on a never-migrated database"
	has "$T/api0.err" "mirage-api: " "mirage-api says why"
fi

# --- plan, behind, relative targets -----------------------------------------
mr "$T/plan0" plan
expect 0 "plan head"
same "$(grep -c . "$T/plan0.out")" 3 "plan lists three steps"
has "$T/plan0.out" "r003" "plan names the last revision"
table_exists "$DB" public.alembic_version && fail "plan created the version table"
ok "plan created nothing"

mr "$T/up1" upgrade r001
expect 0 "upgrade to r001"
same "$(version_of "$DB")" "r001" "at r001"
mr "$T/c1" check
expect 1 "check when behind"
has "$T/c1.out" "r003" "the message names the head"
mr "$T/c1v" -v check
has "$T/c1v.out" "2 pending" "check -v counts pending revisions"
mr "$T/up2" upgrade +1
expect 0 "upgrade +1"
same "$(version_of "$DB")" "r002" "at r002"
mr "$T/up3" upgrade
expect 0 "upgrade (default head)"
same "$(version_of "$DB")" "r003" "at r003"

# --- at head ----------------------------------------------------------------
mr "$T/c2" check
expect 0 "check at head"
[ -s "$T/c2.out" ] || fail "check at head printed nothing"
mr "$T/c2q" -q check
expect 0 "check -q at head"
same "$(cat "$T/c2q.out")" "" "check -q prints nothing at head"
mr "$T/plan1" plan
has "$T/plan1.out" "nothing to do" "plan at head: nothing to do"
mr "$T/pd" plan --down -1
expect 0 "plan --down -1"
has "$T/pd.out" "r003" "plan --down names r003"
mr "$T/pdn" plan --down
expect 2 "plan --down without a target"

# --- relative downgrade (a negative number is a target, not an option) ------
mr "$T/d1" downgrade -1
expect 0 "downgrade -1"
same "$(version_of "$DB")" "r002" "at r002 after downgrade -1"
table_exists "$DB" public.t_003 && fail "t_003 still exists"
ok "t_003 dropped"
mr "$T/u1" upgrade head
expect 0 "upgrade head"

# --- ahead: the database has a revision this build does not -----------------
D4=$T/revs4
gen_chain "$D4" 4
m "$DB" "$T/up4" --revisions "$D4" upgrade head
expect 0 "upgrade to r004 with a newer build"
mr "$T/c3" check
expect 1 "check when ahead"
mr "$T/c3a" check --allow-ahead
expect 0 "check --allow-ahead when ahead"
m "$DB" "$T/dn4" --revisions "$D4" downgrade r003
expect 0 "the newer build downgrades back to r003"

# --- changed revisions (checksums) -----------------------------------------
DC=$T/revs-changed
cp -r "$D" "$DC"
sed -i 's/^CREATE INDEX i_002 ON t_002 (v);/CREATE INDEX i_002 ON t_002 (v, id);/' \
	"$DC/002_r002.sql"
m "$DB" "$T/c4" --revisions "$DC" check
expect 1 "check when an applied revision was edited"
has "$T/c4.out" "r002" "the message names the changed revision"
m "$DB" "$T/c4a" --revisions "$DC" check --allow-changed
expect 0 "check --allow-changed accepts it"
DW=$T/revs-ws
cp -r "$D" "$DW"
sed -i '/^--/!s/$/  /; s/$/\r/' "$DW/002_r002.sql"
m "$DB" "$T/c5" --revisions "$DW" check
expect 0 "trailing white space and CRLF are not a change"

# --- unknown revision ---------------------------------------------------------
q -d "$DB" -c "UPDATE alembic_version SET version_num = 'zzz999'"
mr "$T/c6" check
expect 1 "check at an unknown revision"
has "$T/c6.out" "zzz999" "the message names the unknown revision"
mr "$T/cur6" current
expect 0 "current at an unknown revision"
has "$T/cur6.out" "zzz999 (not in this build)" "current marks it unknown"
mr "$T/h6" history
expect 0 "history at an unknown revision"
has "$T/h6.out" "zzz999" "history shows it"
mr "$T/u6" upgrade head
expect 4 "upgrade refuses an unknown database state"
q -d "$DB" -c "UPDATE alembic_version SET version_num = 'r003'"

# --- stamp ----------------------------------------------------------------------
DB2=stamp_db
fresh_db "$DB2"
m "$DB2" "$T/s1" --revisions "$D" stamp head
expect 0 "stamp head on an empty database"
same "$(version_of "$DB2")" "r003" "stamp wrote the version table"
table_exists "$DB2" public.t_001 && fail "stamp ran revision SQL"
ok "stamp ran no revision SQL"
same "$(q -d "$DB2" -c "SELECT count(*) FROM migrate_log WHERE operation = 'stamp'")" 3 \
	"stamp recorded one history row per step"
m "$DB2" "$T/s2" --revisions "$D" stamp base
expect 0 "stamp base"
same "$(version_of "$DB2")" "" "the version table is empty after stamp base"

# --- bad targets, bad revisions ------------------------------------------------
mr "$T/b1" upgrade nosuchrev
expect 2 "upgrade to an unknown revision"
one_line "$T/b1.err" "one error line for an unknown target"
mr "$T/b2" downgrade r00
expect 2 "an ambiguous prefix"
DB3=$T/broken
mkdir -p "$DB3"
cp "$D"/*.sql "$DB3"/
printf -- '-- Broken\n--\n-- Revision ID: r009\n-- Revises: nosuchparent\n\n-- migrate:upgrade\nSELECT 1;\n' \
	>"$DB3/009_broken.sql"
m "$DB" "$T/b3" --revisions "$DB3" upgrade head
expect 3 "an unknown parent"
has "$T/b3.err" "nosuchparent" "the error names the unknown parent"
m "$DB" "$T/b4" --revisions "$T/nonexistent" check
expect 3 "a missing revisions directory"

# --- revision: new files from the template -----------------------------------
DN=$T/revs-new
gen_chain "$DN" 3 ""
m "$DB" "$T/n1" --revisions "$DN" revision -m "Add foo column!"
expect 0 "revision -m"
f=$DN/004_add_foo_column.sql
[ -f "$f" ] || { ls "$DN" >&2; fail "revision did not write $f"; }
ok "revision wrote 004_add_foo_column.sql"
has "$f" "-- Add foo column!" "the message is the first line"
has "$f" "-- Revision ID: 004" "the next numeric id"
has "$f" "-- Revises: 003" "revises the current head"
has "$f" "-- Create Date: $(date +%Y-%m-%d)" "today's date"
has "$f" "-- migrate:upgrade" "an upgrade section"
has "$f" "-- migrate:downgrade" "a downgrade section"
m "$DB" "$T/n1b" --revisions "$DN" heads
expect 3 "the unedited template does not load (empty upgrade)"
has "$T/n1b.err" "004_add_foo_column.sql:" "the error names the new file"
# Fill it in; the chain grows by one.
sed -i 's/^-- migrate:upgrade$/-- migrate:upgrade\nALTER TABLE t_001 ADD COLUMN foo text;/; s/^-- migrate:downgrade$/-- migrate:downgrade\nALTER TABLE t_001 DROP COLUMN foo;/' "$f"
m "$DB" "$T/n2" --revisions "$DN" heads
expect 0 "heads with the new revision"
has "$T/n2.out" "004 (head)" "the new revision is the head"
DB4=new_db
fresh_db "$DB4"
m "$DB4" "$T/n3" --revisions "$DN" upgrade head
expect 0 "the new revision applies"
same "$(version_of "$DB4")" "004" "at the new revision"
m "$DB4" "$T/n3d" --revisions "$DN" downgrade -1
expect 4 "the template's unwritten downgrade fails when run"
has "$T/n3d.err" "not written yet" "it says the downgrade is not written"
same "$(version_of "$DB4")" "004" "and changes nothing"
sed -i '/^DO \$\$ BEGIN RAISE EXCEPTION/d' "$f"
m "$DB4" "$T/n3e" --revisions "$DN" downgrade -1
expect 0 "the written downgrade runs"
same "$(table_exists "$DB4" public.t_001 && q -d "$DB4" -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 't_001' AND column_name = 'foo'")" \
	0 "the column is gone"
# Never overwrite: the next file name is taken (by a directory).
mkdir "$DN/005_again.sql"
m "$DB" "$T/n4" --revisions "$DN" revision -m "again"
expect 3 "revision refuses an existing file"
has "$T/n4.err" "cannot create" "it says it cannot create the file"
[ -d "$DN/005_again.sql" ] || fail "the existing entry was touched"
ok "the existing entry is untouched"
m "$DB" "$T/n5" --revisions "$DN" revision
expect 2 "revision without -m"
# Non-numeric ids: a random 12-digit hex id.
DH=$T/revs-hex
mkdir -p "$DH"
printf -- '-- Hex\n--\n-- Revision ID: ae1027a6acf1\n-- Revises:\n\n-- migrate:upgrade\nSELECT 1;\n' \
	>"$DH/ae1027a6acf1_hex.sql"
m "$DB" "$T/n6" --revisions "$DH" revision -m "next one"
expect 0 "revision with hex ids"
nf=
for x in "$DH"/*.sql; do
	x=${x##*/}
	[ "$x" = ae1027a6acf1_hex.sql ] || nf=$x
done
[[ $nf =~ ^[0-9a-f]{12}_next_one\.sql$ ]] || fail "unexpected new file name '$nf'"
ok "a random 12-digit hex id ($nf)"
has "$DH/$nf" "-- Revises: ae1027a6acf1" "revises the hex head"
DE=$T/revs-empty
mkdir -p "$DE"
m "$DB" "$T/n7" --revisions "$DE" revision -m "Baseline"
expect 0 "revision in an empty directory"
[ -f "$DE/001_baseline.sql" ] || fail "expected 001_baseline.sql"
ok "the first revision is 001"

# --- cannot connect --------------------------------------------------------------
run "$T/x1" "$MIGRATE" --revisions "$D" --database-url "postgresql://postgres@127.0.0.1:1/nodb" check
expect 4 "check when the database cannot be reached"
one_line "$T/x1.err" "one error line"
