#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The bookkeeping names (issue 11 §6): a version table, schema or history
# table name longer than PostgreSQL keeps (63 bytes, UTF-8 counted in
# bytes) is a usage error, online and offline; a 63-byte version table
# works (its primary key name is shortened instead of colliding with the
# table).
#
# usage: pg-harness.sh bash cli-bookkeeping.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg

T=$T_TMP
D=$T/revs
gen_chain "$D" 2
DB=bookkeeping
fresh_db "$DB"

n63=$(printf 'v%.0s' $(seq 63))
n64=$(printf 'v%.0s' $(seq 64))
s63=$(printf 's%.0s' $(seq 63))
# 32 characters, 64 bytes
utf64=$(printf '\303\251%.0s' $(seq 32))

# A 63-byte version table: Alembic's "<table>_pkc" would be cut onto the
# table's own name (42P07); the key gets a shortened name instead.
m "$DB" "$T/v63" --revisions "$D" --version-table "$n63" upgrade head
expect 0 "upgrade with a 63-byte version table"
pkc=$(q -d "$DB" -c "SELECT conname FROM pg_constraint
	WHERE conrelid = to_regclass('public.\"$n63\"') AND contype = 'p'")
same "$pkc" "$(printf 'v%.0s' $(seq 59))_pkc" "its primary key name fits in 63 bytes"
m "$DB" "$T/v63c" --revisions "$D" --version-table "$n63" check
expect 0 "check with the 63-byte version table"

for args in "--version-table $n64" "--schema ${s63}x" "--schema $utf64" \
	"--version-table $utf64"; do
	# shellcheck disable=SC2086 # option and value
	m "$DB" "$T/long" --revisions "$D" $args upgrade head
	expect 2 "upgrade ${args%% *} with a name of 64 bytes"
	one_line "$T/long.err" "${args%% *}: one line"
	has "$T/long.err" "63 bytes" "${args%% *}: the message says the limit"
	# shellcheck disable=SC2086
	m "$DB" "$T/long-sql" --revisions "$D" $args upgrade --sql head
	expect 2 "upgrade --sql ${args%% *} with a name of 64 bytes"
	[ ! -s "$T/long-sql.out" ] || fail "the refused script printed SQL"
	ok "no script printed"
done
same "$(q -d "$DB" -c "SELECT count(*) FROM pg_namespace
	WHERE nspname LIKE 'sss%'")" 0 "no schema was created"

# ---------------------------------------------------------------------
# History belongs to its version table (issue 11 §5): two applications
# with their own version table in one schema share migrate_log.

# app_revs DIR TAG: revisions r001, r002 of application TAG (same ids in
# both applications, different SQL and so different checksums).
app_revs()
{
	local dir=$1 tag=$2 i parent
	mkdir -p "$dir"
	for i in 1 2; do
		parent=
		[ "$i" -gt 1 ] && parent=r00$((i - 1))
		cat >"$dir/00${i}_r00$i.sql" <<EOF
-- $tag revision $i
--
-- Revision ID: r00$i
-- Revises: $parent
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE ${tag}_$i (id integer PRIMARY KEY);

-- migrate:downgrade
DROP TABLE ${tag}_$i;
EOF
	done
}

# add_rev DIR ID PARENT OPTIONS SQL
add_rev()
{
	cat >"$1/$2.sql" <<EOF
-- $2
--
-- Revision ID: $2
-- Revises: $3
-- Create Date: 2026-01-31

-- migrate:upgrade $4
$5

-- migrate:downgrade
SELECT 1;
EOF
}

A=$T/app_a
B=$T/app_b
app_revs "$A" a
app_revs "$B" b
DB=scoped
fresh_db "$DB"
m "$DB" "$T/a-up" --revisions "$A" upgrade head
expect 0 "A (alembic_version) upgrades"
m "$DB" "$T/b-up" --revisions "$B" --version-table b_version upgrade head
expect 0 "B (b_version) upgrades in the same schema"
m "$DB" "$T/b-check" --revisions "$B" --version-table b_version check
expect 0 "B's check does not take A's r001 for a changed revision"
m "$DB" "$T/a-check" --revisions "$A" check
expect 0 "A's check does not take B's r001 for a changed revision"
same "$(q -d "$DB" -c "SELECT version_table || ':' || count(*) FROM migrate_log
	GROUP BY version_table ORDER BY version_table" | tr '\n' ' ')" "alembic_version:2 b_version:2 " \
	"each history row names its version table"

# A fails part-way through a non-transactional revision: A is dirty, B
# is not.
add_rev "$A" r003 r002 "transaction=false" \
	"CREATE INDEX CONCURRENTLY a_bad ON no_such_table (id);"
m "$DB" "$T/a-fail" --revisions "$A" upgrade head
expect 4 "A's non-transactional revision fails"
m "$DB" "$T/a-dirty" --revisions "$A" check
expect 1 "A is dirty"
has "$T/a-dirty.out" "r003" "A's check names its failed revision"
m "$DB" "$T/b-check2" --revisions "$B" --version-table b_version check
expect 0 "A's dirty mark does not make B dirty"
add_rev "$B" r003 r002 "" "CREATE TABLE b_3 (id int);"
m "$DB" "$T/b-up3" --revisions "$B" --version-table b_version upgrade head
expect 0 "B upgrades while A is dirty"
m "$DB" "$T/b-undo" --revisions "$B" --version-table b_version resolve --undo r003
[ "$RC" -ne 0 ] || fail "B's resolve --undo r003 succeeded on A's dirty mark"
ok "B's resolve --undo finds no dirty mark of its own (exit $RC)"
m "$DB" "$T/a-dirty2" --revisions "$A" check
expect 1 "A's dirty mark is still there after B's resolve --undo"
has "$T/a-dirty2.out" "r003" "A's check still names r003"
m "$DB" "$T/b-hist" --revisions "$B" --version-table b_version -v history
expect 0 "B's history"
hasnt "$T/b-hist.out" "no_such_table" "B's history holds none of A's rows"

# Offline: B's script is refused by neither A's dirty mark nor A's rows.
add_rev "$B" r004 r003 "" "CREATE TABLE b_4 (id int);"
m "$DB" "$T/b-sql" --revisions "$B" --version-table b_version \
	upgrade --sql r003:head
expect 0 "B's offline script"
run "$T/b-psql" env PGDATABASE="$DB" psql -X -q -v ON_ERROR_STOP=1 -f "$T/b-sql.out"
expect 0 "B's offline script runs while A is dirty"
m "$DB" "$T/b-check3" --revisions "$B" --version-table b_version check
expect 0 "B is at head after its script"
same "$(q -d "$DB" -c "SELECT count(*) FROM migrate_log
	WHERE version_table = 'b_version' AND revision = 'r004' AND success")" 1 \
	"the script's history row names B's version table"
# Ids order each application's rows (the history table has no sequence):
# online and script rows of B count on from the largest of B's own.
same "$(q -d "$DB" -c "SELECT string_agg(revision || '/' || id, ' ' ORDER BY
	id) FROM migrate_log WHERE version_table = 'b_version'")" \
	"r001/1 r002/2 r003/3 r004/4" "B's rows have the ids 1 to 4, in order"
m "$DB" "$T/a-dirty3" --revisions "$A" check
expect 1 "A is still dirty after B's script"

# ---------------------------------------------------------------------
# A history table of the format before version_table (written by the
# previous libmigrate) is carried over by the tool itself, under the
# migration lock, idempotently; online and offline alike.

# to_old_format DB: rewrite migrate_log as the previous format wrote it
# (its exact DDL), keeping the rows.
to_old_format()
{
	q -d "$1" -c "ALTER TABLE migrate_log RENAME TO new_log" \
		-c "CREATE TABLE migrate_log (
			id bigserial PRIMARY KEY,
			revision varchar(32) NOT NULL,
			direction text NOT NULL CHECK (direction IN ('up', 'down')),
			operation text NOT NULL,
			checksum text,
			started_at timestamptz,
			duration_ms double precision,
			db_user text DEFAULT current_user,
			success boolean NOT NULL,
			error text)" \
		-c "INSERT INTO migrate_log SELECT id, revision, direction,
			operation, checksum, started_at, duration_ms, db_user,
			success, error FROM new_log" \
		-c "SELECT setval(pg_get_serial_sequence('migrate_log', 'id'), (SELECT max(id) FROM migrate_log))" \
		-c "DROP TABLE new_log" >/dev/null
}

scoped_col()
{
	q -d "$1" -c "SELECT count(*) FROM pg_attribute WHERE attrelid =
		'migrate_log'::regclass AND attname = 'version_table'
		AND NOT attisdropped AND attnotnull"
}

L=$T/app_l
app_revs "$L" l
for mode in online offline; do
	DB=legacy_$mode
	fresh_db "$DB"
	rm -f "$L/r003.sql"
	m "$DB" "$T/l-up" --revisions "$L" upgrade head
	expect 0 "$mode: the application upgrades"
	to_old_format "$DB"
	same "$(scoped_col "$DB")" 0 "$mode: the history table is in the old format"
	m "$DB" "$T/l-check" --revisions "$L" check
	expect 0 "$mode: check reads the old format"
	sed -i 's/CREATE TABLE l_1 /CREATE TABLE  l_1 /' "$L/001_r001.sql"
	m "$DB" "$T/l-changed" --revisions "$L" check
	expect 1 "$mode: the old format's checksums are compared"
	sed -i 's/CREATE TABLE  l_1 /CREATE TABLE l_1 /' "$L/001_r001.sql"
	add_rev "$L" r003 r002 "" "CREATE TABLE l_3_$mode (id int);"
	if [ "$mode" = online ]; then
		m "$DB" "$T/l-up3" --revisions "$L" upgrade head
		expect 0 "online: an upgrade on the old format"
	else
		m "$DB" "$T/l-sql" --revisions "$L" upgrade --sql r002:head
		expect 0 "offline: the script"
		run "$T/l-psql" env PGDATABASE="$DB" psql -X -q \
			-v ON_ERROR_STOP=1 -f "$T/l-sql.out"
		expect 0 "offline: the script runs on the old format"
	fi
	same "$(scoped_col "$DB")" 1 "$mode: the history table was converted"
	same "$(q -d "$DB" -c "SELECT count(*) FILTER (WHERE version_table =
		'alembic_version') || '/' || count(*) FROM migrate_log")" "3/3" \
		"$mode: the old rows are the application's"
	m "$DB" "$T/l-again" --revisions "$L" upgrade head
	expect 0 "$mode: upgrading again (nothing to do)"
	m "$DB" "$T/l-check2" --revisions "$L" check
	expect 0 "$mode: check after the conversion"
	m "$DB" "$T/l-b" --revisions "$B" --version-table b_version upgrade head
	expect 0 "$mode: a second application joins the converted history table"
	m "$DB" "$T/l-bcheck" --revisions "$B" --version-table b_version check
	expect 0 "$mode: and sees none of the first's rows"
	same "$(q -d "$DB" -c "SELECT (SELECT last_value FROM
		migrate_log_id_seq) = max(id) AND count(*) = count(DISTINCT id)
		FROM migrate_log")" t \
		"$mode: the old format's rows still take their ids from its sequence"
done

# A first run (no version table of its own yet) on a history table of the
# old format converts it too: only an absent history table gets a first
# run's plain CREATE TABLE.
DB=legacy_first
fresh_db "$DB"
rm -f "$L/r003.sql"
m "$DB" "$T/lf-up" --revisions "$L" upgrade head
expect 0 "first run: the application upgrades"
to_old_format "$DB"
m "$DB" "$T/lf-b" --revisions "$B" --version-table b_version upgrade head
expect 0 "first run: a second application's first run on the old format"
same "$(scoped_col "$DB")" 1 "first run: the history table was converted"
