#!/bin/sh
# SPDX-License-Identifier: MIT
#
# install-vector-stand-in.sh: install a TEST STAND-IN for the pgvector
# extension, for machines where the real one is not packaged.
#
#   usage: install-vector-stand-in.sh [--uninstall] [PG_CONFIG]
#
# PG_CONFIG is the pg_config of the server that should see the extension
# (default: the pg_config of the newest /usr/lib/postgresql/*/bin, else the
# one on PATH). The files go to `PG_CONFIG --sharedir`/extension:
#
#   vector.control                              (comment and version say
#   vector--0.0.0_libmigrate_test_stand_in.sql   "libmigrate TEST STAND-IN")
#
# The stand-in is a variable-length type `vector` whose values are stored
# as text and whose type modifier is a positive integer, built only from
# LANGUAGE internal functions (textin/textout, varchartypmodin/out), so no
# compiler and no server headers are needed. It makes
# `CREATE EXTENSION IF NOT EXISTS vector`, a column `embedding vector(768)`,
# inserting '[1,2,3]' and `DROP EXTENSION vector` work. It has no operators
# and no index support: it is not pgvector and is only fit for tests.
#
# Never replaces a real pgvector: when vector.control exists and is not the
# stand-in, nothing is written. --uninstall removes the stand-in's files
# (and only those).
#
# Exit status: 0 installed / already present / removed, 1 error,
# 2 usage, 77 not allowed to write into the extension directory (run it as
# root; 77 is meson's SKIP).
set -eu

MARK='libmigrate TEST STAND-IN for pgvector: not the real extension'
VERSION='0.0.0_libmigrate_test_stand_in'

uninstall=0
if [ "${1:-}" = --uninstall ]; then
	uninstall=1
	shift
fi
case "${1:-}" in
-h | --help)
	sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
-*)
	echo "usage: $0 [--uninstall] [PG_CONFIG]" >&2
	exit 2
	;;
esac

pg_config=${1:-}
if [ -z "$pg_config" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	if [ -n "$bindir" ] && [ -x "$bindir/pg_config" ]; then
		pg_config=$bindir/pg_config
	else
		pg_config=$(command -v pg_config || true)
	fi
fi
if [ -z "$pg_config" ] || ! "$pg_config" --sharedir >/dev/null 2>&1; then
	echo "install-vector-stand-in: no usable pg_config found" >&2
	exit 1
fi
extdir=$("$pg_config" --sharedir)/extension
control=$extdir/vector.control
script=$extdir/vector--$VERSION.sql

is_stand_in()
{
	[ -f "$control" ] && grep -q "libmigrate TEST STAND-IN" "$control"
}

if [ "$uninstall" = 1 ]; then
	if [ -f "$control" ] && ! is_stand_in; then
		echo "install-vector-stand-in: $control is the real pgvector; left alone"
		exit 0
	fi
	if [ -e "$control" ] || [ -e "$script" ]; then
		rm -f "$control" "$script" || exit 77
		echo "install-vector-stand-in: removed the stand-in from $extdir"
	fi
	exit 0
fi

if [ -f "$control" ]; then
	if is_stand_in; then
		echo "install-vector-stand-in: stand-in already installed in $extdir"
	else
		echo "install-vector-stand-in: a real vector extension is installed in $extdir; nothing to do"
	fi
	exit 0
fi

if [ ! -d "$extdir" ] || [ ! -w "$extdir" ]; then
	echo "install-vector-stand-in: cannot write to $extdir (run as root); skipping" >&2
	exit 77
fi

tmp_control=$control.tmp.$$
tmp_script=$script.tmp.$$
trap 'rm -f "$tmp_control" "$tmp_script"' EXIT INT TERM

cat >"$tmp_script" <<EOF
-- $MARK.
-- Installed by libmigrate's tools/install-vector-stand-in.sh for tests only:
-- values are stored as plain text; there are no operators, no distance
-- functions and no index support.
\\echo Use "CREATE EXTENSION vector" to load this file. \\quit

CREATE TYPE vector;

CREATE FUNCTION vector_in(cstring) RETURNS vector
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'textin';
CREATE FUNCTION vector_out(vector) RETURNS cstring
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'textout';
CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'varchartypmodin';
CREATE FUNCTION vector_typmod_out(integer) RETURNS cstring
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'varchartypmodout';

CREATE TYPE vector (
	INPUT = vector_in,
	OUTPUT = vector_out,
	TYPMOD_IN = vector_typmod_in,
	TYPMOD_OUT = vector_typmod_out,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = extended
);

COMMENT ON TYPE vector IS '$MARK';
EOF

cat >"$tmp_control" <<EOF
# $MARK.
# Installed by libmigrate's tools/install-vector-stand-in.sh; remove it with
# tools/install-vector-stand-in.sh --uninstall.
comment = '$MARK'
default_version = '$VERSION'
relocatable = true
superuser = true
EOF

chmod 644 "$tmp_control" "$tmp_script"
mv "$tmp_script" "$script"
mv "$tmp_control" "$control"
trap - EXIT INT TERM
echo "install-vector-stand-in: installed the TEST STAND-IN vector extension in $extdir"
