#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every database URL form, over TCP on 127.0.0.1 with the harness's
# password role (its password needs percent-encoding); the precedence
# --database-url > MIRAGE_DATABASE_URL > DATABASE_URL > PG*; and a wrong
# password, an unreachable server, an unknown database: one clear line,
# exit 4, never the password.
#
# usage: pg-harness.sh bash cli-urls.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg
[ -n "${MIGRATE_TEST_PW_URL:-}" ] || skip "the harness has no password role"

T=$T_TMP
D=$T/revs
gen_chain "$D" 2
H=$MIGRATE_TEST_TCP_HOST
P=$MIGRATE_TEST_PORT
U=$MIGRATE_TEST_PW_USER
PW=$MIGRATE_TEST_PW_PASSWORD
# The harness's URL, pointed at our database.
ENC=${MIGRATE_TEST_PW_URL#postgresql://$U:}
ENC=${ENC%%@*}
SECRET=${PW##*-} # the random part: must never be printed
DB=urltest
q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
	-c "CREATE DATABASE $DB OWNER $U" >/dev/null

no_secret()
{
	if grep -qF -e "$SECRET" -e "$ENC" -e "WrongPw_$SECRET" "$1.out" "$1.err"; then
		show stderr "$1.err"
		fail "$2: the password appears in the output"
	fi
	ok "$2: no password in the output"
}

# Run migrate with a clean PG* environment (only what the form needs).
mu()
{
	local out=$1
	shift
	RC=0
	env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD \
		timeout -k 5 60 "$@" >"$out.out" 2>"$out.err" </dev/null || RC=$?
	LAST=$out
	[ "$RC" -lt 128 ] || { show stderr "$out.err"; fail "$*: crashed"; }
}

URL="postgresql://$U:$ENC@$H:$P/$DB"
mu "$T/setup" "$MIGRATE" --revisions "$D" --database-url "$URL" -v upgrade head
expect 0 "upgrade head over TCP as $U"
no_secret "$T/setup" "upgrade -v"

i=0
check_form()
{
	local what=$1
	shift
	i=$((i + 1))
	mu "$T/f$i" "$@"
	expect 0 "check with $what"
	no_secret "$T/f$i" "$what"
}

check_form "postgresql://" "$MIGRATE" --revisions "$D" --database-url "$URL" check
check_form "postgres://" "$MIGRATE" --revisions "$D" \
	--database-url "postgres://$U:$ENC@$H:$P/$DB" check
check_form "postgresql+asyncpg://" "$MIGRATE" --revisions "$D" \
	--database-url "postgresql+asyncpg://$U:$ENC@$H:$P/$DB" check
check_form "postgresql+psycopg2://" "$MIGRATE" --revisions "$D" \
	--database-url "postgresql+psycopg2://$U:$ENC@$H:$P/$DB" check
check_form "a URL with query parameters" "$MIGRATE" --revisions "$D" \
	--database-url "postgresql://$H:$P/$DB?user=$U&password=$ENC&connect_timeout=10" check
check_form "a libpq conninfo string" "$MIGRATE" --revisions "$D" \
	--database-url "host=$H port=$P user=$U password='$PW' dbname=$DB" check
check_form "a URL without password plus PGPASSWORD" env PGPASSWORD="$PW" \
	"$MIGRATE" --revisions "$D" --database-url "postgresql://$U@$H:$P/$DB" check
check_form "PG* variables only" env PGHOST="$H" PGPORT="$P" PGUSER="$U" \
	PGPASSWORD="$PW" PGDATABASE="$DB" "$MIGRATE" --revisions "$D" check
check_form "MIRAGE_DATABASE_URL" env MIRAGE_DATABASE_URL="$URL" \
	"$MIGRATE" --revisions "$D" check
check_form "DATABASE_URL" env DATABASE_URL="$URL" "$MIGRATE" --revisions "$D" check

# Precedence.
BAD="postgresql://$U:WrongPw_$SECRET@$H:$P/$DB"
check_form "--database-url over MIRAGE_DATABASE_URL" env MIRAGE_DATABASE_URL="$BAD" \
	"$MIGRATE" --revisions "$D" --database-url "$URL" check
check_form "MIRAGE_DATABASE_URL over DATABASE_URL" env MIRAGE_DATABASE_URL="$URL" \
	DATABASE_URL="$BAD" "$MIGRATE" --revisions "$D" check
check_form "DATABASE_URL over PG*" env DATABASE_URL="$URL" PGHOST="$H" PGPORT="$P" \
	PGDATABASE=nosuchdb PGUSER=nosuchuser "$MIGRATE" --revisions "$D" check
mu "$T/prec" env MIRAGE_DATABASE_URL="$BAD" DATABASE_URL="$URL" \
	"$MIGRATE" --revisions "$D" check
expect 4 "MIRAGE_DATABASE_URL wins over DATABASE_URL (a wrong password there fails)"
no_secret "$T/prec" "precedence failure"

# Failures: one line, exit 4, no password.
for cmd in check upgrade current; do
	mu "$T/wp-$cmd" "$MIGRATE" --revisions "$D" --database-url "$BAD" "$cmd"
	expect 4 "$cmd with a wrong password"
	one_line "$T/wp-$cmd.err" "$cmd with a wrong password: one line"
	no_secret "$T/wp-$cmd" "$cmd with a wrong password"
done
has "$T/wp-check.err" "password authentication failed" "the line says what failed"

mu "$T/unreach" "$MIGRATE" --revisions "$D" -v \
	--database-url "postgresql://$U:$ENC@$H:1/$DB" upgrade head
expect 4 "an unreachable server"
one_line "$T/unreach.err" "an unreachable server: one line"
no_secret "$T/unreach" "an unreachable server"

mu "$T/nodb" "$MIGRATE" --revisions "$D" \
	--database-url "postgresql://$U:$ENC@$H:$P/nosuchdb_$SECRET" current
expect 4 "an unknown database"
one_line "$T/nodb.err" "an unknown database: one line"
has "$T/nodb.err" "nosuchdb_" "the line names the database"
if grep -qF -e "$ENC" -e "$PW" "$T/nodb.out" "$T/nodb.err"; then
	fail "the password appears for an unknown database"
fi
ok "an unknown database: no password in the output"

mu "$T/conninfo-bad" "$MIGRATE" --revisions "$D" \
	--database-url "host=$H port=$P user=$U password='WrongPw_$SECRET' dbname=$DB" check
expect 4 "a conninfo string with a wrong password"
no_secret "$T/conninfo-bad" "a conninfo string with a wrong password"

mu "$T/malformed" "$MIGRATE" --revisions "$D" \
	--database-url "postgresql://$U:WrongPw_$SECRET@$H:notaport/$DB" check
case $RC in
2 | 4) ok "a malformed URL is refused (exit $RC)" ;;
*) show stderr "$T/malformed.err"; fail "a malformed URL: exit $RC" ;;
esac
one_line "$T/malformed.err" "a malformed URL: one line"
no_secret "$T/malformed" "a malformed URL"

if [ -x "${MIRAGE_API:-}" ]; then
	mu "$T/api" env MIRAGE_DATABASE_URL="$BAD" "$MIRAGE_API" --once
	expect 1 "mirage-api with a wrong password"
	no_secret "$T/api" "mirage-api with a wrong password"
fi
