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
FUZZ_SECONDS ?= 20
MIGRATE    := $(BUILD)/cli/mirage-migrate
API        := $(BUILD)/examples/mirage-api
INDEXER    := $(BUILD)/examples/mirage-indexer

# Debian 12 packages: to build and run, and in addition to test.
RUN_DEBS  := build-essential meson ninja-build pkg-config libpq-dev \
	     libpg-query-dev libprotobuf-c-dev postgresql postgresql-contrib
TEST_DEBS := $(RUN_DEBS) check libsubunit-dev clang libclang-rt-14-dev scdoc \
	     valgrind iproute2 procps bash-completion python3-yaml pgbouncer python3 time \
	     locales

# The database of run/migrate: the CLI's precedence (cli/main.c owns it):
# --database-url (make migrate ARGS='--database-url URL'),
# $MIGRATE_DATABASE_URL, $MIRAGE_DATABASE_URL, $DATABASE_URL, libpq's PG*
# variables. Only when none
# is given, the local PostgreSQL of tools/local-db.sh is started and used
# (its header says where it lives: .pgdata/ or, as root, /var/lib/libmigrate/).
ARGS ?=
DB_GIVEN := $(strip $(findstring --database-url,$(ARGS))$(MIGRATE_DATABASE_URL)\
	$(MIRAGE_DATABASE_URL)$(DATABASE_URL)$(PGHOST)$(PGHOSTADDR)$(PGPORT)\
	$(PGDATABASE)$(PGUSER)$(PGSERVICE))
ifeq ($(DB_GIVEN),)
DB_SETUP := url=$$(tools/local-db.sh start '$(CURDIR)'); \
	export MIRAGE_DATABASE_URL="$$url"
else
DB_SETUP := echo "database: yours (from ARGS, MIGRATE_DATABASE_URL, MIRAGE_DATABASE_URL, DATABASE_URL or PG*)"
endif

.PHONY: help run test build migrate migration stop db-start db-remove psql bench \
	clean deps-run deps-test deps-locale

help: ## List the targets
	@echo "libmigrate: make TARGET   (start with 'make run' or 'make test')"
	echo
	grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) |
		sed -E 's/^([a-z-]+):.*## (.*)/\1|\2/' |
		awk -F'|' '{ printf "  %-12s %s\n", $$1, $$2 }'
	echo
	echo "Database: --database-url (ARGS=...), \$$MIGRATE_DATABASE_URL,"
	echo "\$$MIRAGE_DATABASE_URL, \$$DATABASE_URL"
	echo "or PG* when given, else a local PostgreSQL started on demand and left"
	echo "running, data kept between runs (tools/local-db.sh; make stop)."

# deps-*: install what is missing (a no-op when everything is there). A
# stamp in the build directory remembers a complete check, so the warm path
# of `make run` runs no dpkg-query (`make clean` forgets it). DEPS=no skips
# the step (a machine whose packages you manage yourself).
DEPS ?= check
deps-run: ## Install the Debian packages needed to build and run
	@$(call install_debs,$(RUN_DEBS),$(BUILD)/.deps-run)

deps-test: ## Install the Debian packages needed to build and test
	@$(call install_debs,$(TEST_DEBS),$(BUILD)/.deps-test)

deps-locale: deps-test
	@$(call gen_locale,de_DE.UTF-8)

# Generate locale $(1) when it is missing and we may (root or sudo): a unit
# test needs a decimal-comma locale (it says SKIP without one).
define gen_locale
[ "$(DEPS)" != no ] || exit 0
if command -v locale-gen >/dev/null && [ -w /etc/locale.gen -o -n "$$(command -v sudo)" ] &&
   ! locale -a 2>/dev/null | grep -qi '^$(subst .UTF-8,,$(1))\.utf-\?8$$'; then
	if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
	echo "make: generating the $(1) locale"
	echo "$(1) UTF-8" | $$sudo tee -a /etc/locale.gen >/dev/null &&
		$$sudo locale-gen >/dev/null || echo "make: could not generate $(1)" >&2
fi
endef

define install_debs
[ "$(DEPS)" != no ] || exit 0
want="$(strip $(1))"
if [ -r "$(2)" ] && read -r have <"$(2)" && [ "$$have" = "$$want" ]; then
	exit 0
fi
if ! command -v dpkg-query >/dev/null; then
	echo "make: not a Debian system; install by hand: $(1)" >&2
	exit 0
fi
missing=$$(dpkg-query -W -f='$${Package} $${Status}\n' $(1) 2>/dev/null |
	awk '/ install ok installed$$/ { ok[$$1] = 1 }
	     END { n = split("'"$$want"'", w, " ");
		   for (i = 1; i <= n; i++) if (!(w[i] in ok)) printf " %s", w[i] }')
if [ -n "$$missing" ]; then
	echo "make: installing$$missing"
	case " $$missing " in *" postgresql "*)
		echo "make: note: Debian's postgresql package creates (and, under" \
			"systemd, starts) its own cluster on port 5432; make run does" \
			"not use it (pg_lsclusters shows it)";;
	esac
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "make: need root or sudo to install:$$missing" >&2; exit 1; fi
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $$missing
fi
mkdir -p "$(dir $(2))"
echo "$$want" >"$(2)"
endef

# Only what run/migrate need (the test suites are built by `make test`).
build: deps-run ## Build mirage-migrate, the library and the services into build/
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	ninja -C $(BUILD) --quiet $(MIGRATE:$(BUILD)/%=%) $(API:$(BUILD)/%=%) \
		$(INDEXER:$(BUILD)/%=%) | { grep -v '^ninja: no work to do\.$$' || true; }

run: build ## Build, migrate the database to head, show it, check the services
	@$(DB_SETUP)
	echo "==> migrate upgrade head"
	$(MIGRATE) -v upgrade head
	echo "==> migrate current"
	$(MIGRATE) current
	echo "==> migrate history"
	$(MIGRATE) history
	echo "==> services' startup check"
	$(API) --once
	$(INDEXER) --once

migrate: build ## migrate upgrade head on your database (see make help), else the local one
	@$(DB_SETUP)
	$(MIGRATE) -v $(ARGS) upgrade head

migration: build ## New revision file: make migration msg="add foo column"
	@if [ -z "$${msg:-}" ]; then
		echo 'usage: make migration msg="add foo column"' >&2
		exit 2
	fi
	$(MIGRATE) --revisions revisions revision -m "$$msg"

# The local PostgreSQL (tools/local-db.sh says where it lives and how).
db-start: deps-run ## Start the local PostgreSQL (make run does; left running)
	@tools/local-db.sh start '$(CURDIR)' >/dev/null

stop: ## Stop the local PostgreSQL (its data stays)
	@tools/local-db.sh stop '$(CURDIR)'

db-remove: ## Stop the local PostgreSQL and delete its data
	@tools/local-db.sh remove '$(CURDIR)'

psql: deps-run ## psql on the local database
	@url=$$(tools/local-db.sh start '$(CURDIR)')
	psql -X "$$url"

# make test: a -Dwerror=true build running every suite (unit, integration,
# examples, torture, static...) and the unit and examples suites again under
# valgrind, then an ASan+UBSan build (clang, with the
# libFuzzer targets) running the unit, integration, examples and fuzz
# (corpus replay) suites, then
# each fuzz target for FUZZ_SECONDS. Ends with one "failed (RUN): TEST"
# line per failed test (RUN: werror, valgrind, asan or libFuzzer), then one
# "test: N passed, N failed" line, so that the tail of a CI log names them.
test: deps-test deps-locale ## Install, build (-Dwerror=true), run every suite, ASan+UBSan, fuzz
	@log=$$(mktemp)
	trap 'rm -f "$$log" "$$log.fuzz"' EXIT
	if [ -f $(BUILD)/build.ninja ]; then
		meson configure $(BUILD) -Dwerror=true -Dtests=enabled
	else
		meson setup $(BUILD) -Dwerror=true -Dtests=enabled
	fi
	meson compile -C $(BUILD)
	status=0
	echo "==> meson test (all suites)"
	echo "== run: werror" >>"$$log"
	meson test -C $(BUILD) --print-errorlogs 2>&1 | tee -a "$$log" || status=1
	if command -v valgrind >/dev/null; then
		echo "==> valgrind (memcheck, leak check): unit and examples suites"
		echo "== run: valgrind" >>"$$log"
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
	echo "== run: asan" >>"$$log"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(BUILD_ASAN) --print-errorlogs "$${suites[@]}" 2>&1 |
		tee -a "$$log" || status=1
	if command -v clang >/dev/null; then
		echo "==> libFuzzer targets, $(FUZZ_SECONDS)s each (tests/fuzz/run.sh)"
		if sh tests/fuzz/run.sh $(BUILD_ASAN) $(FUZZ_SECONDS) 2>&1 | tee "$$log.fuzz"; then
			echo "Ok: 1" >>"$$log"
		else
			echo "Fail: 1" >>"$$log"
			echo "== fuzz failed: tests/fuzz/run.sh: $$(grep -a '^fuzz: failures in:' "$$log.fuzz" | tail -n 1)" >>"$$log"
			status=1
		fi
	fi
	awk '/^== run: / { run = $$3 }
	     /^ *[0-9]+\/[0-9]+ .* (FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS) / {
		sub(/^ */, ""); printf "failed (%s): %s\n", run, $$0 }
	     /^== fuzz failed: / { printf "failed (libFuzzer): %s\n", substr($$0, 17) }' "$$log"
	awk '/^Ok:/ { ok += $$2 } /^Expected Fail:/ { ok += $$3 }
	     /^Fail:/ { bad += $$2 } /^Unexpected Pass:/ { bad += $$3 }
	     /^Timeout:/ { bad += $$2 } /^Skipped:/ { skip += $$2 }
	     END { printf "test: %d passed, %d failed, %d skipped\n", ok, bad, skip }' "$$log"
	exit $$status

bench: build ## Benchmark migrate vs psql, dbmate (N = 1, 100, 1000) into bench/RESULTS.md
	@ninja -C $(BUILD) --quiet bench/connect-select1 bench/verify-loop
	bench/run.sh $(BUILD)

clean: ## Remove the build directories (keeps the local database)
	@rm -rf $(BUILD) $(BUILD_ASAN)
