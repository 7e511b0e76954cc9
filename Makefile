# libmigrate: versioned PostgreSQL schema migrations (library + `migrate`).
#
# The two commands:   make run    (install, build, migrate a local database)
#                     make test   (install, build, run every test suite)
# `make help` lists every target. Targets that need packages install the
# missing Debian packages first (as root, or through sudo).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

BUILD      ?= build
BUILD_ASAN ?= build-asan
FUZZ_SECONDS ?= 30
MIGRATE    := $(BUILD)/cli/migrate
API        := $(BUILD)/examples/mirage-api
INDEXER    := $(BUILD)/examples/mirage-indexer

# The local PostgreSQL of `make run` (only when MIRAGE_DATABASE_URL is
# unset): data, log and unix socket under .pgdata/ in the checkout, no TCP.
PGLOCAL    := $(CURDIR)/.pgdata
PGLOCAL_PORT ?= 54329
PGLOCAL_DB ?= mirage
LOCAL_URL  := host=$(PGLOCAL) port=$(PGLOCAL_PORT) user=postgres dbname=$(PGLOCAL_DB)

# Debian 12 packages: to build and run, and in addition to test.
RUN_DEBS  := build-essential meson ninja-build pkg-config libpq-dev \
	     postgresql postgresql-contrib
TEST_DEBS := $(RUN_DEBS) check libsubunit-dev clang libclang-rt-14-dev \
	     valgrind iproute2 procps

# The database the run/migrate targets use: yours, else the local one.
ifeq ($(strip $(MIRAGE_DATABASE_URL)),)
DB_TARGET := db-start
DB_ENV    := MIRAGE_DATABASE_URL='$(LOCAL_URL)'
else
DB_TARGET :=
DB_ENV    :=
endif

.PHONY: help run test build migrate migration stop db-start psql bench \
	clean deps-run deps-test

help: ## List the targets
	@echo "libmigrate: make TARGET   (start with 'make run' or 'make test')"
	echo
	grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) |
		sed -E 's/^([a-z-]+):.*## (.*)/\1|\2/' |
		awk -F'|' '{ printf "  %-12s %s\n", $$1, $$2 }'
	echo
	echo "Database: \$$MIRAGE_DATABASE_URL when set, else a local PostgreSQL"
	echo "under .pgdata/ (started on demand, kept between runs; make stop)."

# deps-*: install what is missing (a no-op when everything is there).
deps-run: ## Install the Debian packages needed to build and run
	@$(call install_debs,$(RUN_DEBS))

deps-test: ## Install the Debian packages needed to build and test
	@$(call install_debs,$(TEST_DEBS))

define install_debs
missing=""
if ! command -v dpkg-query >/dev/null; then
	echo "make: not a Debian system; install by hand: $(1)" >&2
	exit 0
fi
for p in $(1); do
	dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$$missing $$p"
done
if [ -n "$$missing" ]; then
	echo "make: installing$$missing"
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "make: need root or sudo to install:$$missing" >&2; exit 1; fi
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $$missing
fi
endef

# Only what run/migrate need (the test suites are built by `make test`).
build: deps-run ## Build migrate, the library and the services into build/
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	meson compile -C $(BUILD) cli/migrate:executable mirage-api mirage-indexer \
		connect-select1

run: build $(DB_TARGET) ## Build, migrate the database to head, show it, check the services
	@$(if $(DB_ENV),export $(DB_ENV),:)
	echo "==> migrate upgrade head"
	$(MIGRATE) -v upgrade head
	echo "==> migrate current"
	$(MIGRATE) current
	echo "==> migrate history"
	$(MIGRATE) history
	echo "==> services' startup check"
	$(API) --once
	$(INDEXER) --once

migrate: build $(DB_TARGET) ## migrate upgrade head on $MIRAGE_DATABASE_URL (or the local database)
	@$(if $(DB_ENV),export $(DB_ENV),:)
	$(MIGRATE) -v upgrade head

migration: build ## New revision file: make migration msg="add foo column"
	@if [ -z "$${msg:-}" ]; then
		echo 'usage: make migration msg="add foo column"' >&2
		exit 2
	fi
	$(MIGRATE) --revisions revisions revision -m "$$msg"

# The local PostgreSQL: initdb once, start when not running, create the
# database, make `CREATE EXTENSION vector` work (the real pgvector when it is
# installed, else the clearly named test stand-in).
db-start: deps-run ## Start the local PostgreSQL under .pgdata/ (make run does)
	@bindir=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[ -x "$$bindir/initdb" ] || { echo "make: no PostgreSQL server found" >&2; exit 1; }
	as_pg=""
	mkdir -p "$(PGLOCAL)"
	if [ "$$(id -u)" = 0 ]; then
		as_pg="runuser -u postgres --"
		chown postgres "$(PGLOCAL)"
		chmod 700 "$(PGLOCAL)"
		if ! $$as_pg test -w "$(PGLOCAL)"; then
			echo "make: user postgres cannot reach $(PGLOCAL): a parent" \
			     "directory is closed to it (e.g. chmod o+x on it), or set" \
			     "MIRAGE_DATABASE_URL to a database of yours" >&2
			exit 1
		fi
	fi
	if [ ! -f "$(PGLOCAL)/data/PG_VERSION" ]; then
		echo "==> initdb $(PGLOCAL)/data"
		$$as_pg "$$bindir/initdb" -D "$(PGLOCAL)/data" -A trust -U postgres \
			-E UTF8 --locale=C >"$(PGLOCAL)/initdb.log" 2>&1 ||
			{ cat "$(PGLOCAL)/initdb.log" >&2; exit 1; }
	fi
	if ! $$as_pg "$$bindir/pg_ctl" -D "$(PGLOCAL)/data" status >/dev/null 2>&1; then
		echo "==> starting PostgreSQL (socket in $(PGLOCAL), port $(PGLOCAL_PORT))"
		$$as_pg "$$bindir/pg_ctl" -D "$(PGLOCAL)/data" -l "$(PGLOCAL)/server.log" \
			-w -t 60 -o "-p $(PGLOCAL_PORT) -k '$(PGLOCAL)' -c listen_addresses=''" \
			start >/dev/null ||
			{ tail -n 20 "$(PGLOCAL)/server.log" >&2; exit 1; }
	fi
	psql=("$$bindir/psql" -X -q -At -h "$(PGLOCAL)" -p $(PGLOCAL_PORT) -U postgres)
	if [ -z "$$("$${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$(PGLOCAL_DB)'")" ]; then
		"$${psql[@]}" -d postgres -c 'CREATE DATABASE "$(PGLOCAL_DB)"'
	fi
	if [ -z "$$("$${psql[@]}" -d postgres -c "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" ]; then
		echo "==> no pgvector here: installing the test stand-in for 'vector'"
		if [ "$$(id -u)" = 0 ]; then
			sh tools/install-vector-stand-in.sh "$$bindir/pg_config"
		else
			sudo sh tools/install-vector-stand-in.sh "$$bindir/pg_config"
		fi
	fi

stop: ## Stop the local PostgreSQL (its data stays in .pgdata/)
	@bindir=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	if [ ! -f "$(PGLOCAL)/data/PG_VERSION" ]; then
		echo "no local database in $(PGLOCAL)"
		exit 0
	fi
	as_pg=""
	[ "$$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
	if $$as_pg "$$bindir/pg_ctl" -D "$(PGLOCAL)/data" status >/dev/null 2>&1; then
		$$as_pg "$$bindir/pg_ctl" -D "$(PGLOCAL)/data" -m fast -w stop
	else
		echo "the local PostgreSQL is not running"
	fi

psql: db-start ## psql on the local database
	@psql -X -h "$(PGLOCAL)" -p $(PGLOCAL_PORT) -U postgres -d $(PGLOCAL_DB)

# make test: a -Dwerror=true build running every suite (unit, integration,
# examples, torture, static...) and the unit and examples suites again under
# valgrind, then an ASan+UBSan build (clang, with the
# libFuzzer targets) running the unit, integration, examples and fuzz
# (corpus replay) suites, then
# each fuzz target for FUZZ_SECONDS. Ends with one "test: N passed, N failed"
# line.
test: deps-test ## Install, build (-Dwerror=true), run every suite, ASan+UBSan, fuzz
	@log=$$(mktemp)
	trap 'rm -f "$$log"' EXIT
	if [ -f $(BUILD)/build.ninja ]; then
		meson configure $(BUILD) -Dwerror=true -Dtests=enabled
	else
		meson setup $(BUILD) -Dwerror=true -Dtests=enabled
	fi
	meson compile -C $(BUILD)
	status=0
	echo "==> meson test (all suites)"
	meson test -C $(BUILD) --print-errorlogs 2>&1 | tee -a "$$log" || status=1
	if command -v valgrind >/dev/null; then
		echo "==> valgrind (memcheck, leak check): unit and examples suites"
		meson test -C $(BUILD) --setup=valgrind --print-errorlogs \
			--suite unit --suite examples 2>&1 | tee -a "$$log" || status=1
	fi
	echo "==> ASan+UBSan build: unit, integration, examples and fuzz suites"
	if [ ! -f $(BUILD_ASAN)/build.ninja ]; then
		fuzz=false; command -v clang >/dev/null && fuzz=true
		cc=cc; $$fuzz && cc=clang
		CC=$$cc meson setup $(BUILD_ASAN) -Dtests=enabled \
			-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=$$fuzz
	fi
	meson compile -C $(BUILD_ASAN)
	suites=(--suite unit --suite integration --suite examples)
	list=$$(meson test -C $(BUILD_ASAN) --list 2>/dev/null || true)
	if grep -q '^libmigrate:fuzz' <<<"$$list"; then suites+=(--suite fuzz); fi
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(BUILD_ASAN) --print-errorlogs "$${suites[@]}" 2>&1 |
		tee -a "$$log" || status=1
	if command -v clang >/dev/null; then
		echo "==> libFuzzer targets, $(FUZZ_SECONDS)s each (tests/fuzz/run.sh)"
		if sh tests/fuzz/run.sh $(BUILD_ASAN) $(FUZZ_SECONDS); then
			echo "Ok: 1" >>"$$log"
		else
			echo "Fail: 1" >>"$$log"
			status=1
		fi
	fi
	awk '/^Ok:/ { ok += $$2 } /^Expected Fail:/ { ok += $$3 }
	     /^Fail:/ { bad += $$2 } /^Unexpected Pass:/ { bad += $$3 }
	     /^Timeout:/ { bad += $$2 } /^Skipped:/ { skip += $$2 }
	     END { printf "test: %d passed, %d failed, %d skipped\n", ok, bad, skip }' "$$log"
	exit $$status

bench: build ## Benchmark migrate vs psql, dbmate (N = 1, 100, 1000) into bench/RESULTS.md
	@bench/run.sh $(BUILD)

clean: ## Remove the build directories (keeps .pgdata/)
	@rm -rf $(BUILD) $(BUILD_ASAN)
