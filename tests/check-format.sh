#!/bin/sh
# Usage: check-format.sh CLANG_FORMAT SOURCE_ROOT
# Every C file of the project must be as .clang-format says.
set -eu
cf=$1
cd "$2"
files=$(find include libmigrate cli tests examples tools bench \
	-name '*.c' -o -name '*.h' | sort)
# shellcheck disable=SC2086
"$cf" --dry-run -Werror $files
echo "$(echo "$files" | wc -l) files formatted"
