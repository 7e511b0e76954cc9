#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Alembic parity: merge -m MSG REV REV... writes a merge revision (sections
# marked empty=true) that upgrade runs and downgrade undoes, while an
# unfinished ordinary revision is still refused; "upgrade base" at base and
# "downgrade head" at head do nothing (elsewhere: usage errors); a database
# at an id this build does not know, without history of it, is "unknown",
# not "newer"; progress lines are not error-like ("migrate: ...").
#
# usage: pg-harness.sh bash cli-parity.sh   (MIGRATE in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg
T=$T_TMP
DB=cli_parity
fresh_db "$DB"

B=$T/revs
mkdir -p "$B"
for spec in a001: b002:a001 c002:a001; do
	id=${spec%%:*}
	parent=${spec#*:}
	printf -- '-- Rev %s\n-- Revision ID: %s\n-- Revises: %s\n-- migrate:upgrade\nCREATE TABLE %s ();\n-- migrate:downgrade\nDROP TABLE %s;\n' \
		"$id" "$id" "$parent" "$id" "$id" >"$B/$id.sql"
done
M=(--revisions "$B")

# No-ops as in Alembic.
m "$DB" "$T/n1" "${M[@]}" upgrade base
expect 0 "upgrade base at base"
has "$T/n1.out" "nothing to do" "upgrade base at base: nothing to do"
m "$DB" "$T/n2" "${M[@]}" downgrade heads
expect 2 "downgrade heads at base is still refused"
m "$DB" "$T/u1" "${M[@]}" upgrade heads
expect 0 "upgrade heads (two branches)"
same "$(version_of "$DB")" "b002,c002" "two heads"
m "$DB" "$T/n3" "${M[@]}" downgrade heads
expect 0 "downgrade heads at heads"
has "$T/n3.out" "nothing to do" "downgrade heads at heads: nothing to do"
same "$(version_of "$DB")" "b002,c002" "still at both heads"
m "$DB" "$T/n4" "${M[@]}" upgrade base
expect 2 "upgrade base above base is still refused"

# merge: usage errors first.
m "$DB" "$T/m0" "${M[@]}" merge -m "join" b002
expect 2 "merge of one revision"
has "$T/m0.err" "merge needs two or more different revisions" "says why"
m "$DB" "$T/m1" "${M[@]}" merge -m "join" b002 nosuch
expect 2 "merge of an unknown revision"
m "$DB" "$T/m2" "${M[@]}" merge b002 c002
expect 2 "merge without -m"
m "$DB" "$T/m3" "${M[@]}" --format json merge -m "join the branches" heads
expect 0 "merge heads"
MID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/m3.out")
MFILE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["file"])' "$T/m3.out")
[ -f "$MFILE" ] || fail "merge: no file $MFILE"
has "$MFILE" "-- Revises: b002, c002" "the merge revises both heads"
has "$MFILE" "-- migrate:upgrade empty=true" "the upgrade section is marked empty"
run "$T/h1" "$MIGRATE" "${M[@]}" -q heads
same "$(cat "$T/h1.out")" "$MID" "one head after the merge"
m "$DB" "$T/m4" "${M[@]}" upgrade
expect 0 "upgrade through the merge revision"
same "$(version_of "$DB")" "$MID" "the version table holds the merge"
m "$DB" "$T/m5" "${M[@]}" downgrade b002
expect 0 "downgrade the merge"
same "$(version_of "$DB")" "b002,c002" "back to both heads"
m "$DB" "$T/m6" "${M[@]}" upgrade
expect 0 "upgrade again"

# An unfinished ordinary revision is still refused.
m "$DB" "$T/r1" "${M[@]}" revision -m "not written yet"
expect 0 "revision -m"
m "$DB" "$T/r2" "${M[@]}" upgrade
expect 3 "an unfinished revision is refused"
has "$T/r2.err" "empty upgrade section" "the parser says the section is empty"
rm -f "$B"/*_not_written_yet.sql

# downgrade head at head; then behind head it is refused.
m "$DB" "$T/n5" "${M[@]}" downgrade head
expect 0 "downgrade head at head"
m "$DB" "$T/n6" "${M[@]}" downgrade b002
expect 0 "downgrade to b002"
m "$DB" "$T/n7" "${M[@]}" downgrade head
expect 2 "downgrade head below head is refused"

# An id the build does not know, with no history of it: unknown.
m "$DB" "$T/k0" "${M[@]}" upgrade
q -d "$DB" -c "UPDATE alembic_version SET version_num = 'zzz'"
m "$DB" "$T/k1" "${M[@]}" check
expect 1 "check at an unrecorded unknown id"
has "$T/k1.out" "database is at 'zzz', which this build does not know" "unknown revision"
hasnt "$T/k1.out" "newer than" "not called newer"
m "$DB" "$T/k2" "${M[@]}" --format json check
same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$T/k2.out")" \
	"unknown revision" "check --format json: unknown revision"

# stamp --purge: from an unknown id (where a plain stamp cannot start), in
# one transaction, with history rows for what went and what came.
m "$DB" "$T/s1" "${M[@]}" stamp a001
expect 4 "a plain stamp from an unknown id"
same "$(version_of "$DB")" "zzz" "the version table untouched"
m "$DB" "$T/s2" "${M[@]}" stamp --purge c002
expect 0 "stamp --purge"
has "$T/s2.out" "stamped: the database is at c002" "stamp --purge: the summary"
same "$(version_of "$DB")" "c002" "the version table holds only c002"
same "$(q -d "$DB" -c "SELECT string_agg(revision || ':' || direction, ' ' ORDER BY id)
	FROM (SELECT * FROM migrate_log WHERE operation = 'stamp' ORDER BY id DESC LIMIT 3) t")" \
	"zzz:down a001:up c002:up" "history: zzz removed, a001 and c002 stamped"
q -d "$DB" -c "INSERT INTO alembic_version VALUES ('yyy')"
m "$DB" "$T/s3" "${M[@]}" --format json stamp --purge base
expect 0 "stamp --purge base"
same "$(version_of "$DB")" "" "the version table is empty"
m "$DB" "$T/s4" "${M[@]}" upgrade --purge
expect 2 "--purge applies to stamp only"

# Progress: -v lines and the summary are not prefixed like errors; the
# count is i/N; on a terminal one line shows i/N and the elapsed time.
DB2=cli_progress
fresh_db "$DB2"
P=$T/chain
gen_chain "$P" 3
m "$DB2" "$T/p1" --revisions "$P" -v upgrade r002
expect 0 "upgrade -v"
has "$T/p1.err" "upgrade 1/2 r001: Test revision 1 ..." "progress line 1/2"
has "$T/p1.err" "upgrade 2/2 r002: Test revision 2 ..." "progress line 2/2"
has "$T/p1.err" "upgrade r002 done in " "a done line"
hasnt "$T/p1.err" "migrate:" "no progress line reads like an error"
has "$T/p1.out" "upgraded to r002: 2 revisions in " "the summary on stdout"
hasnt "$T/p1.out" "migrate:" "the summary is not prefixed"
m "$DB2" "$T/p2" --revisions "$P" upgrade
same "$(cat "$T/p2.err")" "" "no progress on stderr when not on a terminal"
m "$DB2" "$T/p3" --revisions "$P" downgrade base
if script -q -c true /dev/null >/dev/null 2>&1; then
	run "$T/tty" env PGDATABASE="$DB2" script -q -e -c "'$MIGRATE' --revisions '$P' upgrade" /dev/null
	expect 0 "upgrade on a terminal"
	tr '\r' '\n' <"$T/tty.out" >"$T/tty.lines"
	has "$T/tty.lines" "upgrade 1/3 r001, " "the terminal line: 1/3"
	has "$T/tty.lines" "upgrade 3/3 r003, " "the terminal line: 3/3"
	grep -Eq 'upgrade 3/3 r003, [0-9]+\.[0-9] s: Test revision 3' "$T/tty.lines" ||
		fail "the terminal line shows the elapsed time"
	ok "the terminal line shows the elapsed time"
	has "$T/tty.out" $'\r\033[Kupgraded to r003' "the line is cleared before the summary"
	# A slow revision: the line is redrawn while it runs (its time
	# passes), not only when the next one starts.
	S=$T/slow
	mkdir -p "$S"
	printf -- '-- Slow one\n-- Revision ID: s1\n-- Revises:\n-- migrate:upgrade\nSELECT pg_sleep(3);\n' >"$S/s1.sql"
	fresh_db cli_slow
	run "$T/tty2" env PGDATABASE=cli_slow script -q -e -c "'$MIGRATE' --revisions '$S' upgrade" /dev/null
	expect 0 "a slow revision on a terminal"
	n=$(tr '\r' '\n' <"$T/tty2.out" | grep -o 'upgrade 1/1 s1, [0-9.]* s' | sort -u | wc -l)
	[ "$n" -ge 2 ] || { show stdout "$T/tty2.out"; fail "the line was not redrawn while the revision ran ($n)"; }
	ok "the terminal line is redrawn while a revision runs ($n times)"
else
	note "SKIP: script(1) cannot make a terminal here; no terminal-line check"
fi
