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
