# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# make-run.sh: `make run` / `make migrate` / `make stop` from a checkout in a
# directory other users cannot enter (as root: what /root is to user
# postgres), the local database kept between runs, and the database
# precedence (ARGS='--database-url', MIGRATE_DATABASE_URL,
# MIRAGE_DATABASE_URL, DATABASE_URL,
# PG*: the local server is started only when none is given).
#
# Run by pg-harness.sh (the "given" databases are the harness's). The
# checkout is a copy of the Makefile and tools/ using this build directory
# (BUILD=, DEPS=no: nothing is installed). The local server it starts is
# stopped by its data directory and removed at the end.
source "${SRCDIR:?}/tests/integration/cli-lib.sh"
cli_init needs-pg
needs_vector
command -v make >/dev/null || skip "make is not installed"

build=${BUILDDIR:?BUILDDIR is not set (run me through meson test)}
closed=$T_TMP/home
co=$closed/project
mkdir -p "$co"
chmod 700 "$closed"
cp "$SRCDIR/Makefile" "$co/"
cp -R "$SRCDIR/tools" "$co/"
local_dir=$("$co/tools/local-db.sh" where "$co")

cleanup_local()
{
	if [ -f "$local_dir/data/PG_VERSION" ]; then
		timeout -k 5 60 "$co/tools/local-db.sh" stop "$co" >/dev/null 2>&1 || true
	fi
	case $local_dir in
	"$co"/* | /var/lib/libmigrate/project-*) rm -rf "$local_dir" ;;
	esac
}
trap 'rc=$?; cleanup_local; (exit $rc); t_cleanup' EXIT

# mk OUT ARGS...: make in the checkout, bounded, without the harness's PG*
# variables (so that no database is given unless ARGS give one).
mk()
{
	local out=$1
	shift
	run "$out" env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
		-u MIGRATE_DATABASE_URL \
		timeout -k 5 150 make -C "$co" --no-print-directory \
		BUILD="$build" DEPS=no "$@"
}

if [ "$(id -u)" = 0 ]; then
	case $local_dir in
	/var/lib/libmigrate/project-*) ok "as root the data lives where postgres can reach it: $local_dir" ;;
	*) fail "as root the local database would live in $local_dir" ;;
	esac
else
	[ "$local_dir" = "$co/.pgdata" ] || fail "local database in $local_dir"
	ok "as $(id -un) the data lives in the checkout"
fi

mk "$T_TMP/run1" run
expect 0 "make run (first) in a closed directory"
has "$T_TMP/run1.err" "database: local PostgreSQL in $local_dir" "it says where the database lives"
has "$T_TMP/run1.err" "left running; 'make stop' stops it" "it says the server is left running"
has "$T_TMP/run1.err" "port 5432" "it names Debian's own cluster on 5432"
has "$T_TMP/run1.out" "001 (head)" "the local database is at head"
has "$T_TMP/run1.err" "mirage-api: schema at 001 (head)" "the services' check passes"

local_q()
{
	PGCONNECT_TIMEOUT=10 timeout -k 5 60 psql -X -q -At -v ON_ERROR_STOP=1 \
		-h "$local_dir" -p 54329 -U postgres -d mirage "$@"
}
local_q -c "CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (42)" ||
	fail "cannot write to the local database"

mk "$T_TMP/run2" run
expect 0 "make run (second, warm)"
hasnt "$T_TMP/run2.err" "starting PostgreSQL" "the warm run starts nothing"
hasnt "$T_TMP/run2.err" "initdb" "the warm run runs no initdb"
has "$T_TMP/run2.out" "nothing to do" "the warm run has nothing to do"

mk "$T_TMP/stop" stop
expect 0 "make stop"
has "$T_TMP/stop.out" "stopped the local PostgreSQL" "make stop stops it"
[ ! -f "$local_dir/data/postmaster.pid" ] || fail "the server still runs after make stop"
ok "no postmaster.pid after make stop"
mk "$T_TMP/stop2" stop
expect 0 "make stop (not running)"
has "$T_TMP/stop2.out" "is not running" "a second make stop says so"

mk "$T_TMP/run3" run
expect 0 "make run after make stop"
has "$T_TMP/run3.err" "starting PostgreSQL" "it starts the server again"
[ "$(local_q -c 'SELECT x FROM keep_me')" = 42 ] || fail "data lost across make stop / make run"
ok "the data is kept"
mk "$T_TMP/stop3" stop
expect 0 "make stop"

# Given databases: each migrates that database and starts no local server.
given()
{
	local what=$1 db=$2
	shift 2
	fresh_db "$db"
	mk "$T_TMP/$db" "$@" migrate
	expect 0 "make migrate with $what"
	[ ! -f "$local_dir/data/postmaster.pid" ] ||
		fail "$what: the local server was started"
	[ "$(q -d "$db" -c 'SELECT version_num FROM alembic_version')" = 001 ] ||
		fail "$what: database $db was not migrated"
	ok "$what: migrated $db, no local server"
}
url_of()
{
	echo "host=$PGHOST port=$PGPORT user=postgres dbname=$1"
}

given DATABASE_URL mk_dburl DATABASE_URL="$(url_of mk_dburl)"
given MIRAGE_DATABASE_URL mk_mirage MIRAGE_DATABASE_URL="$(url_of mk_mirage)"
given MIGRATE_DATABASE_URL mk_migrate MIGRATE_DATABASE_URL="$(url_of mk_migrate)"
given "ARGS=--database-url" mk_args ARGS="--database-url '$(url_of mk_args)'"

# The harness's PG* variables in the environment.
fresh_db mk_pgenv
PGDATABASE=mk_pgenv run "$T_TMP/pgenv" timeout -k 5 150 make -C "$co" \
	--no-print-directory BUILD="$build" DEPS=no migrate
expect 0 "make migrate with PG* variables"
[ ! -f "$local_dir/data/postmaster.pid" ] || fail "PG*: the local server was started"
[ "$(q -d mk_pgenv -c 'SELECT version_num FROM alembic_version')" = 001 ] ||
	fail "PG*: database mk_pgenv was not migrated"
ok "PG*: migrated that database, no local server"

mk "$T_TMP/remove" db-remove
expect 0 "make db-remove"
[ ! -e "$local_dir" ] || fail "make db-remove left $local_dir"
ok "make db-remove deletes the local database"
