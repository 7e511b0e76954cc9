#!/bin/sh
# SPDX-License-Identifier: MIT
# Every exported function declared in include/libmigrate.h is named in
# libmigrate(3), so the man page cannot fall behind the API.
# usage: check-man-api.sh SOURCE_ROOT
set -eu
root=$1
header=$root/include/libmigrate.h
page=$root/docs/libmigrate.3.scd
missing=
for sym in $(sed -n '/global:/,/local:/p' "$root/libmigrate/libmigrate.sym" |
	grep -o 'migrate_[a-z0-9_]*'); do
	grep -q "[ *]$sym(" "$header" || continue
	# scdoc source escapes underscores.
	esc=$(printf '%s' "$sym" | sed 's/_/\\\\_/g')
	grep -q "$esc" "$page" || missing="$missing $sym"
done
if [ -n "$missing" ]; then
	echo "libmigrate(3) (docs/libmigrate.3.scd) does not name:$missing" >&2
	exit 1
fi
echo "libmigrate(3) names every function of libmigrate.h"
