#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# local-db.sh: the local PostgreSQL that `make run` and `make migrate` use
# when no database is given (the Makefile decides that).
#
#   usage: local-db.sh start|stop|remove|where CHECKOUT
#
#   start  initdb once, start the server when it is not running, create the
#          database, make `CREATE EXTENSION vector` work (the real pgvector
#          when installed, else tools/install-vector-stand-in.sh's clearly
#          named stand-in); prints the conninfo on stdout, messages on
#          stderr. The server is left running.
#   stop   stop it (the data stays)
#   remove stop it and delete its directory (the data is gone)
#   where  print the directory that holds it
#
# Where the data lives (one directory per checkout, kept between runs):
#   - not root: CHECKOUT/.pgdata; the server runs as you.
#   - root: initdb refuses to run as root, so the server runs as user
#     postgres and its directory must be one postgres can reach, which a
#     checkout under /root is not: CHECKOUT/.pgdata when it already holds a
#     cluster (made while the checkout was reachable), else
#     /var/lib/libmigrate/NAME-HASH (NAME: the checkout's base name, HASH:
#     the first 12 hex digits of the SHA-256 of its absolute path).
# The server listens only on a unix socket in that directory (no TCP);
# PGLOCAL_PORT (default 54329) names the socket, PGLOCAL_DB (default mirage)
# is the database.
#
# Warm path: when DIR/ready says the database was set up and the postmaster
# in DIR/data/postmaster.pid is alive on the right socket, `start` prints
# the conninfo using shell builtins only (no process is started).
#
# Exit status: 0, 1 error, 2 usage.
set -euo pipefail

port=${PGLOCAL_PORT:-54329}
db=${PGLOCAL_DB:-mirage}

usage()
{
	echo "usage: local-db.sh start|stop|remove|where CHECKOUT" >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
checkout=$2
case $checkout in
/*) ;;
*) checkout=$(cd "$checkout" && pwd -P) ;;
esac
here=${BASH_SOURCE[0]%/*}

is_root=false
[ "$EUID" = 0 ] && is_root=true

# The one rule for where the data lives (see the header).
if ! $is_root || [ -f "$checkout/.pgdata/data/PG_VERSION" ]; then
	dir=$checkout/.pgdata
else
	hash=$(printf '%s' "$checkout" | sha256sum)
	name=${checkout##*/}
	dir=/var/lib/libmigrate/${name:-root}-${hash:0:12}
fi
data=$dir/data
url="host=$dir port=$port user=postgres dbname=$db"

as_pg=()
$is_root && as_pg=(runuser -u postgres --)

# Is the server of $data running on our socket? Builtins only.
running()
{
	local pm comm
	[ -r "$data/postmaster.pid" ] || return 1
	mapfile -t -n 5 pm <"$data/postmaster.pid" 2>/dev/null || return 1
	[ "${#pm[@]}" -ge 5 ] && [ "${pm[3]}" = "$port" ] &&
		[ "${pm[4]}" = "$dir" ] || return 1
	[ -r "/proc/${pm[0]}/comm" ] || return 1
	read -r comm <"/proc/${pm[0]}/comm" || return 1
	[ "$comm" = postgres ] && [ -S "$dir/.s.PGSQL.$port" ]
}

say_running()
{
	echo "database: local PostgreSQL in $dir (socket only, port $port)," \
		"left running; 'make stop' stops it" >&2
}

find_bindir()
{
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
		echo "local-db: no PostgreSQL server found (apt-get install postgresql)" >&2
		exit 1
	fi
}

case $cmd in
where)
	echo "$dir"
	exit 0
	;;
start)
	if [ -r "$dir/ready" ] && read -r ready <"$dir/ready" &&
		[ "$ready" = "$db" ] && running; then
		say_running
		echo "$url"
		exit 0
	fi
	;;
stop | remove)
	if [ "$cmd" = remove ] && [ ! -f "$data/PG_VERSION" ] && [ -d "$dir" ]; then
		rm -rf "$dir"
		exit 0
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		echo "no local database for $checkout (would be in $dir)"
		exit 0
	fi
	find_bindir
	cd /
	if "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop
		echo "stopped the local PostgreSQL (its data stays in $dir)"
	elif [ "$cmd" = stop ]; then
		echo "the local PostgreSQL in $dir is not running"
	fi
	if [ "$cmd" = remove ]; then
		rm -rf "$dir"
		echo "removed the local database ($dir)"
	fi
	exit 0
	;;
*)
	usage
	;;
esac

# start, cold path.
find_bindir
# The server user may not be able to enter the current directory.
cd /
if [ ! -d "$dir" ]; then
	mkdir -p -m 755 "${dir%/*}"
	mkdir -m 700 "$dir"
	echo "$checkout" >"$dir/checkout"
fi
if $is_root; then
	chown postgres: "$dir"
	chmod 700 "$dir"
	if ! "${as_pg[@]}" test -w "$dir"; then
		echo "local-db: user postgres cannot write to $dir;" \
			"set DATABASE_URL to a database of yours" >&2
		exit 1
	fi
fi
if [ ! -f "$data/PG_VERSION" ]; then
	echo "==> initdb $data" >&2
	"${as_pg[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres \
		-E UTF8 --locale=C >"$dir/initdb.log.tmp" 2>&1 || {
		cat "$dir/initdb.log.tmp" >&2
		exit 1
	}
	mv "$dir/initdb.log.tmp" "$dir/initdb.log"
	echo "note: Debian's postgresql package runs its own cluster" \
		"(port 5432, 'pg_lsclusters'); this one is separate" >&2
fi
if ! running; then
	echo "==> starting PostgreSQL in $dir (socket only, port $port)" >&2
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
		-o "-p $port -k '$dir' -c listen_addresses=''" start >/dev/null || {
		tail -n 20 "$dir/server.log" >&2
		exit 1
	}
fi
psql=("$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres
	-d postgres)
if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
	"${psql[@]}" -c "CREATE DATABASE \"$db\""
fi
if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" ]; then
	echo "==> no pgvector here: installing the test stand-in for 'vector'" >&2
	if $is_root; then
		sh "$here/install-vector-stand-in.sh" "$bindir/pg_config" >&2
	else
		sudo sh "$here/install-vector-stand-in.sh" "$bindir/pg_config" >&2
	fi
fi
echo "$db" >"$dir/ready"
say_running
echo "$url"
