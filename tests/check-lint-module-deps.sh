#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-lint-module-deps.sh BUILDDIR PROGRAM...: each PROGRAM (a ninja
# target such as cli/mirage-migrate) must have the lint module among its
# build inputs. The programs load migrate-lint.so with dlopen() and refuse
# to migrate without it (exit 4), so building only a program (`make run`
# builds cli/mirage-migrate and the services, not `all`) must build the
# module too.
set -eu
build=$1
shift
ninja=$(command -v ninja || command -v samu || true)
[ -n "$ninja" ] || { echo "SKIP: no ninja"; exit 77; }
rc=0
for prog in "$@"; do
	if "$ninja" -C "$build" -t inputs "$prog" | grep -qx 'libmigrate/lint/migrate-lint.so'; then
		echo "ok: building $prog builds libmigrate/lint/migrate-lint.so"
	else
		echo "FAIL: building $prog does not build libmigrate/lint/migrate-lint.so, which it loads" >&2
		rc=1
	fi
done
exit $rc
