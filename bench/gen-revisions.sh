#!/bin/sh
# SPDX-License-Identifier: MIT
#
# gen-revisions.sh DIR N: write N chained revision files into DIR (each
# creates a table and an index, and drops the table on downgrade), plus
# DIR.psql: the same upgrade SQL as a psql script with one transaction per
# revision (BEGIN; sql; COMMIT;), for the comparison in bench/run.sh.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 DIR N" >&2
	exit 2
fi
dir=$1
n=$2
rm -rf "$dir" "$dir.psql"
mkdir -p "$dir"

awk -v dir="$dir" -v n="$n" 'BEGIN {
	script = dir ".psql"
	printf "\\set ON_ERROR_STOP on\n" > script
	for (i = 1; i <= n; i++) {
		id = sprintf("%04d", i)
		file = sprintf("%s/%s_bench_%s.sql", dir, id, id)
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
		printf "BEGIN;\n%sCOMMIT;\n", sql > script
	}
	close(script)
}'
