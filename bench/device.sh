#!/bin/bash
# SPDX-License-Identifier: MIT
#
# device.sh: `make bench` on a borrowed machine with no PostgreSQL and no
# network, such as the quiet 16-core machine that issue 8's targets were
# set on (the project's device tool lends one to some sessions only).
#
#   bench/device.sh pack [BUILD_DIR]   on the build machine: write
#                                      .device/bundle.tar.gz (git ignores
#                                      .device/)
#   bench/device.sh run                on the borrowed machine, as root, in
#                                      a copy of the checkout: unpack the
#                                      bundle, run bench/run.sh, write
#                                      RESULTS.md and machine.txt into $OUT
#                                      (default .device/out)
#
# With the device tool: `bench/device.sh pack`, then one call with
# carry [".device"] and command "bash bench/device.sh run" (about 5 min for
# the default N = 1, 100, 1000; timeout_s 600).
#
# pack bundles PostgreSQL 15, hyperfine, GNU time, migrate, the bench
# programs, the lint module and dbmate (fetched here with npm) through the
# team's bundler, whose every binary loads its libraries from /tmp/devb:
# DEVICE_BUNDLE names it (default ../shared/tools/device-bundle.sh beside
# the checkout). It needs patchelf, hyperfine, time and postgresql-15.
# run takes BENCH_NS and the other BENCH_* settings of bench/run.sh.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
stage=$root/.device
devb=/tmp/devb
work=""

pack() {
	local build=${1:-build} bundler dbmate="" extras
	case $build in /*) ;; *) build=$root/$build ;; esac
	bundler=${DEVICE_BUNDLE:-$root/../shared/tools/device-bundle.sh}
	if [ ! -f "$bundler" ]; then
		echo "device.sh: no bundler at $bundler (set DEVICE_BUNDLE)" >&2
		exit 2
	fi
	ninja -C "$build" cli/mirage-migrate bench/connect-select1 \
		bench/verify-loop libmigrate/lint/migrate-lint.so >/dev/null
	work=$(mktemp -d "${TMPDIR:-/tmp}/libmigrate-device.XXXXXX")
	trap 'rm -rf "${work:?}"' EXIT
	if (cd "$work" && timeout 120 npm pack --silent @dbmate/linux-x64 \
		>npm.log 2>&1); then
		tar -xzf "$work"/dbmate-linux-x64-*.tgz -C "$work"
		dbmate=$(find "$work/package" -type f -name dbmate | head -n1)
		chmod +x "$dbmate"
	else
		echo "device.sh: npm cannot fetch @dbmate/linux-x64; the bench there runs without dbmate" >&2
	fi
	extras=("$build/cli/mirage-migrate" "$build/bench/connect-select1"
		"$build/bench/verify-loop"
		"$build/libmigrate/lint/migrate-lint.so")
	[ -n "$dbmate" ] && extras+=("$dbmate")
	mkdir -p "$stage"
	bash "$bundler" "$stage/bundle.tar.gz" "${extras[@]}"
	git -C "$root" rev-parse --short HEAD >"$stage/commit" 2>/dev/null || true
	du -h "$stage/bundle.tar.gz"
}

run() {
	local out=${OUT:-$stage/out} build=$devb/build
	if [ "$(id -u)" != 0 ]; then
		echo "device.sh run: run it as root (it creates the user postgres)" >&2
		exit 2
	fi
	if [ ! -f "$stage/bundle.tar.gz" ]; then
		echo "device.sh run: no $stage/bundle.tar.gz (bench/device.sh pack, then carry .device)" >&2
		exit 2
	fi
	mkdir -p "$devb" "$out"
	tar -C "$devb" -xzf "$stage/bundle.tar.gz"
	# The bundle's top directory was a private mktemp -d: the server runs
	# as postgres.
	chmod -R go+rX "$devb"
	mkdir -p /usr/lib/postgresql
	[ -e /usr/lib/postgresql/15 ] ||
		ln -sfn "$devb/usr/lib/postgresql/15" /usr/lib/postgresql/15
	[ -x /usr/bin/time ] || ln -sfn "$devb/bin/time" /usr/bin/time
	id postgres >/dev/null 2>&1 || useradd -r -M -d /nonexistent postgres
	export PATH=$devb/bin:/usr/lib/postgresql/15/bin:$PATH
	# bench/run.sh wants a build directory; migrate finds the lint module
	# beside its real path (bin/../libmigrate/lint).
	mkdir -p "$build/cli" "$build/bench" "$devb/libmigrate/lint"
	mv -f "$devb/bin/migrate-lint.so" "$devb/libmigrate/lint/" 2>/dev/null || true
	ln -sfn "$devb/bin/mirage-migrate" "$build/cli/mirage-migrate"
	ln -sfn "$devb/bin/connect-select1" "$build/bench/connect-select1"
	ln -sfn "$devb/bin/verify-loop" "$build/bench/verify-loop"
	[ -x "$devb/bin/dbmate" ] && export BENCH_DBMATE_BIN=$devb/bin/dbmate
	{
		echo "commit: $(cat "$stage/commit" 2>/dev/null || echo unknown)"
		echo "cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo || true)"
		echo "kernel: $(uname -r)"
		echo "memory: $(grep -m1 MemTotal /proc/meminfo || true)"
		echo "disk of /tmp: $(df -h /tmp | tail -n1)"
		"$build/cli/mirage-migrate" --version
	} >"$out/machine.txt" 2>&1
	BENCH_OUT=$out/RESULTS.md PG_HARNESS_BINDIR=/usr/lib/postgresql/15/bin \
		bash "$root/bench/run.sh" "$build" 2>&1 | tee "$out/bench.log"
}

case ${1:-} in
pack) shift; pack "$@" ;;
run) run ;;
*)
	echo "usage: bench/device.sh pack [BUILD_DIR] | run" >&2
	exit 2
	;;
esac
