#!/bin/sh
# SPDX-License-Identifier: MIT
#
# gen-revisions.sh DIR N: write N chained revision files into DIR (each
# creates a table and an index, and drops the table on downgrade), and the
# same upgrade SQL for the peers of bench/run.sh:
#   DIR.psql     psql script, one transaction per revision (BEGIN; sql; COMMIT;)
#   DIR.sql      the plain SQL of every revision, for `psql -1`
#   DIR.dbmate/  dbmate migrations (-- migrate:up / -- migrate:down)
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 DIR N" >&2
	exit 2
fi
dir=$1
n=$2
rm -rf "$dir" "$dir.psql" "$dir.sql" "$dir.dbmate"
mkdir -p "$dir" "$dir.dbmate"

awk -v dir="$dir" -v n="$n" 'BEGIN {
	script = dir ".psql"
	plain = dir ".sql"
	printf "\\set ON_ERROR_STOP on\n" > script
	printf "" > plain
	for (i = 1; i <= n; i++) {
		id = sprintf("%04d", i)
		file = sprintf("%s/%s_bench_%s.sql", dir, id, id)
		dbm = sprintf("%s.dbmate/%s_bench_%s.sql", dir, id, id)
		sql = sprintf("CREATE TABLE bench_%s (\n" \
			"    id bigint PRIMARY KEY,\n" \
			"    name text NOT NULL,\n" \
			"    created_at timestamptz NOT NULL DEFAULT now()\n" \
			");\n" \
			"CREATE INDEX bench_%s_name ON bench_%s (name);\n",
			id, id, id)
		printf "-- bench revision %d\n--\n", i > file
		printf "-- Revision ID: %s\n", id > file
		printf "-- Revises: %s\n", (i > 1 ? sprintf("%04d", i - 1) : "") > file
		printf "-- Create Date: 2026-01-31\n\n" > file
		printf "-- migrate:upgrade\n%s\n", sql > file
		printf "-- migrate:downgrade\nDROP TABLE bench_%s;\n", id > file
		close(file)
		printf "-- migrate:up\n%s\n-- migrate:down\nDROP TABLE bench_%s;\n", sql, id > dbm
		close(dbm)
		printf "BEGIN;\n%sCOMMIT;\n", sql > script
		printf "%s", sql > plain
	}
	close(script)
	close(plain)
}'
