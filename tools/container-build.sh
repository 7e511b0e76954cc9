#!/bin/sh
# SPDX-License-Identifier: MIT
#
# container-build.sh: the build stage of the Dockerfile, as one script so
# that the test suite runs exactly the same commands (tests/integration/
# container.sh, in the build tree) and the recipe cannot rot.
#
#   usage: container-build.sh SRC BUILD OUT
#
# Configures SRC into BUILD (release, libmigrate linked statically, no
# tests, no documentation, no lint component: the job only migrates),
# builds Mirage's mirage-migrate and the services,
# checks that they run, and copies them to OUT/usr/local/bin. At run time
# they need only libpq (Debian: libpq5).
#
# The build stage needs the Debian packages listed in BUILD_DEBS below;
# the runtime stage RUNTIME_DEBS (the Dockerfile installs both lists; the
# test checks that it names them).
#
# BUILD_DEBS: build-essential meson ninja-build pkg-config libpq-dev
# RUNTIME_DEBS: libpq5 ca-certificates
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 SRC BUILD OUT" >&2
	exit 2
fi
src=$1
build=$2
out=$3

meson setup "$build" "$src" --buildtype=release -Ddefault_library=static \
	-Dtests=disabled -Ddocumentation=disabled -Dcli=enabled \
	-Dexamples=enabled -Dmirage=enabled -Dlint=disabled
meson compile -C "$build" cli/mirage-migrate examples/mirage-api \
	examples/mirage-indexer

for p in cli/mirage-migrate examples/mirage-api examples/mirage-indexer; do
	# Statically linked against libmigrate: no libmigrate.so needed.
	if command -v ldd >/dev/null && ldd "$build/$p" | grep -q libmigrate; then
		echo "container-build: $p links libmigrate.so" >&2
		exit 1
	fi
	install -D -m 755 "$build/$p" "$out/usr/local/bin/${p##*/}"
done
"$out/usr/local/bin/mirage-migrate" --version
"$out/usr/local/bin/mirage-migrate" heads
