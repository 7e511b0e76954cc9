# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# cli-generic.sh: where `migrate` takes its revisions from
# (cli/revisions-source.c), and the stale-binary trap.
#
#   generic migrate ($MIGRATE_GENERIC, no embedded revisions):
#     --revisions DIR, else $MIGRATE_REVISIONS, else ./revisions, else a
#     refusal (exit 2) that says how to give them.
#   mirage-migrate ($MIGRATE, revisions/ embedded): run where ./revisions
#     holds a file it does not embed (new or edited), reads warn and name
#     the fix, writes (upgrade, --sql, stamp) refuse with exit 3 and leave
#     the database untouched; --revisions revisions works.
# Run by pg-harness.sh.
source "${SRCDIR:?}/tests/integration/cli-lib.sh"
cli_init needs-pg
[ -x "${MIGRATE_GENERIC:-}" ] || fail "MIGRATE_GENERIC is not set (run me through meson test)"
gen=$MIGRATE_GENERIC

mkrev()
{
	local dir=$1 id=$2 parent=$3 table=$4
	mkdir -p "$dir"
	cat >"$dir/${id}_$table.sql" <<SQL
-- Create $table
--
-- Revision ID: $id
-- Revises: $parent
-- Create Date: 2026-01-01

-- migrate:upgrade
CREATE TABLE $table (id int);

-- migrate:downgrade
DROP TABLE $table;
SQL
}

# g DIR OUT ARGS...: generic migrate in DIR.
g()
{
	local dir=$1 out=$2
	shift 2
	run "$out" env -C "$dir" "$gen" "$@"
}

w=$T_TMP/work
mkdir -p "$w/empty"
g "$w/empty" "$T_TMP/none" heads
expect 2 "generic migrate without revisions"
has "$T_TMP/none.err" "no revisions: pass --revisions DIR or set MIGRATE_REVISIONS, or run where ./revisions is" "the refusal says how to give them"
hasnt "$T_TMP/none.out" "001" "it shows no built-in revision"

mkrev "$w/a" 101 "" alpha
mkrev "$w/b" 201 "" beta
mkrev "$w/cwd/revisions" 301 "" gamma
g "$w/cwd" "$T_TMP/dot" heads
expect 0 "generic migrate with ./revisions"
has "$T_TMP/dot.out" "301" "it reads ./revisions"
MIGRATE_REVISIONS=$w/a g "$w/cwd" "$T_TMP/env" heads
expect 0 "generic migrate with MIGRATE_REVISIONS"
has "$T_TMP/env.out" "101" "MIGRATE_REVISIONS wins over ./revisions"
MIGRATE_REVISIONS=$w/a g "$w/cwd" "$T_TMP/flag" --revisions "$w/b" heads
expect 0 "generic migrate with --revisions and MIGRATE_REVISIONS"
has "$T_TMP/flag.out" "201" "--revisions wins over MIGRATE_REVISIONS"

fresh_db gen_db
PGDATABASE=gen_db g "$w/cwd" "$T_TMP/up" upgrade head
expect 0 "generic migrate upgrade from ./revisions"
[ "$(q -d gen_db -c 'SELECT version_num FROM alembic_version')" = 301 ] ||
	fail "gen_db is not at 301"
ok "the database is at ./revisions' head"

# The stale-binary trap.
needs_vector
s=$T_TMP/stale
mkdir -p "$s/revisions"
cp "$SRCDIR"/revisions/*.sql "$s/revisions/"
fresh_db stale_db
PGDATABASE=stale_db run "$T_TMP/same" env -C "$s" "$MIGRATE" heads
expect 0 "mirage-migrate where ./revisions matches the build"
hasnt "$T_TMP/same.err" "warning" "no warning when ./revisions is what it embeds"

head=$(PGDATABASE=stale_db "$MIGRATE" heads | awk '{ print $1; exit }')
mkrev "$s/revisions" 999 "$head" stale_t
PGDATABASE=stale_db run "$T_TMP/read" env -C "$s" "$MIGRATE" heads
expect 0 "mirage-migrate heads with a new ./revisions file"
has "$T_TMP/read.err" "warning: revisions/999_stale_t.sql is not built into this binary" "reads warn, naming the file"
has "$T_TMP/read.err" "rebuild it (make migrate) or pass --revisions revisions" "and the fix"
PGDATABASE=stale_db run "$T_TMP/write" env -C "$s" "$MIGRATE" upgrade head
expect 3 "mirage-migrate upgrade with a new ./revisions file"
has "$T_TMP/write.err" "revisions/999_stale_t.sql is not built into this binary: rebuild it (make migrate) or pass --revisions revisions" "upgrade refuses, naming the fix"
[ -z "$(q -d stale_db -c "SELECT 1 FROM pg_tables WHERE tablename = 'alembic_version'")" ] ||
	fail "the refused upgrade touched the database"
ok "the refused upgrade left the database untouched"
PGDATABASE=stale_db run "$T_TMP/sql" env -C "$s" "$MIGRATE" upgrade --sql head
expect 3 "mirage-migrate upgrade --sql with a new ./revisions file"
PGDATABASE=stale_db run "$T_TMP/stamp" env -C "$s" "$MIGRATE" stamp head
expect 3 "mirage-migrate stamp with a new ./revisions file"
PGDATABASE=stale_db run "$T_TMP/q" env -C "$s" "$MIGRATE" -q heads
expect 0 "mirage-migrate -q heads"
hasnt "$T_TMP/q.err" "warning" "-q drops the warning"
PGDATABASE=stale_db run "$T_TMP/fix" env -C "$s" "$MIGRATE" --revisions revisions upgrade head
expect 0 "mirage-migrate --revisions revisions upgrade head"
[ "$(q -d stale_db -c 'SELECT version_num FROM alembic_version')" = 999 ] ||
	fail "stale_db is not at 999"
ok "--revisions revisions applies the new revision"

# An edited file (same name, other bytes) is stale too.
rm "$s/revisions/999_stale_t.sql"
f=$(ls "$s"/revisions/*.sql | head -n1)
echo "-- edited" >>"$f"
PGDATABASE=stale_db run "$T_TMP/edit" env -C "$s" "$MIGRATE" upgrade head
expect 3 "mirage-migrate upgrade with an edited ./revisions file"
has "$T_TMP/edit.err" "revisions/${f##*/} is not built into this binary" "an edited file is named"

# A shortened copy (the same bytes as far as it goes) is stale too; a
# symbolic link to the very file is not.
cp "$SRCDIR/revisions/${f##*/}" "$f"
head -c 100 "$SRCDIR/revisions/${f##*/}" >"$f"
PGDATABASE=stale_db run "$T_TMP/short" env -C "$s" "$MIGRATE" upgrade head
expect 3 "mirage-migrate upgrade with a shortened ./revisions file"
has "$T_TMP/short.err" "revisions/${f##*/} is not built into this binary" "a shortened file is named"
rm "$f"
ln -s "$SRCDIR/revisions/${f##*/}" "$f"
PGDATABASE=stale_db run "$T_TMP/link" env -C "$s" "$MIGRATE" heads
expect 0 "mirage-migrate where ./revisions links to the built files"
hasnt "$T_TMP/link.err" "warning" "no warning for a link to the same bytes"
