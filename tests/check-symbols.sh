#!/bin/sh
# Usage: check-symbols.sh MAPFILE SRCDIR LIBRARY [STATIC-ARCHIVE]
# The version script, the MIGRATE_EXPORT-tagged definitions and the
# library's dynamic symbol table must list the same functions (libinput's
# symbols-leak-test): an export missing from one of them is a bug.
set -eu
map=$1 src=$2 lib=$3 archive=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -oE '^[[:space:]]+migrate_[a-z0-9_]+;' "$map" | tr -d ' \t;' | sort -u >"$tmp/map"
# MIGRATE_EXPORT sits on the line before the return type; the name follows.
awk '/^MIGRATE_EXPORT$/ { want = 1; next }
     want && match($0, /migrate_[a-z0-9_]+\(/) {
	print substr($0, RSTART, RLENGTH - 1); want = 0 }' "$src"/*.c | sort -u >"$tmp/src"
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' |
	grep '^migrate_' | sort -u >"$tmp/lib"
status=0
if ! diff -u "$tmp/map" "$tmp/src" >"$tmp/d1"; then
	echo "version script vs MIGRATE_EXPORT definitions differ:"; cat "$tmp/d1"; status=1
fi
if ! diff -u "$tmp/map" "$tmp/lib" >"$tmp/d2"; then
	echo "version script vs exported symbols differ:"; cat "$tmp/d2"; status=1
fi
# A static link sees every global symbol of the archive: they must all carry
# the library's prefix (migrate_ or migrate__), or they may collide with the
# application's own.
if [ -n "$archive" ]; then
	nm -g --defined-only "$archive" | awk 'NF == 3 { print $3 }' |
		grep -v '^migrate_' >"$tmp/stray" || true
	if [ -s "$tmp/stray" ]; then
		echo "unprefixed global symbols in $archive:"; cat "$tmp/stray"; status=1
	fi
fi
[ $status -eq 0 ] && echo "$(wc -l <"$tmp/map") exported symbols agree"
exit $status
