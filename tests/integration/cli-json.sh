#!/bin/bash
# SPDX-License-Identifier: MIT
#
# --format json on every command, validated against the shapes documented
# in docs/json.md (json-check.py reads them from there): one document on
# stdout and nothing else, errors as {"error", "exit_code", "sqlstate"}, and
# the values themselves (ids, statuses, counts, checksum findings). Also
# history -r FROM:TO, show and branches in text.
#
# usage: pg-harness.sh bash cli-json.sh   (MIGRATE, SRCDIR in the environment)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg
command -v python3 >/dev/null || skip "python3 is not installed"
T=$T_TMP
DOC=$SRCDIR/docs/json.md
CHECK=$SRCDIR/tests/integration/json-check.py
R=$T/revs
gen_chain "$R" 3
DB=cli_json
fresh_db "$DB"

# shape NAME [--with KEY...]: the last run's stdout has that documented shape.
shape()
{
	local name=$1
	shift
	if ! python3 "$CHECK" "$DOC" "$name" "$LAST.out" "$@" 2>"$T/check.err"; then
		show stdout "$LAST.out"
		show "json-check" "$T/check.err"
		fail "the output is not the documented '$name' shape"
	fi
	ok "$name: the documented shape"
}

# jq_ EXPR: evaluate a Python expression on the last document (as d).
jq_()
{
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$LAST.out" "$1"
}

J=(--revisions "$R" --format json)

# Before anything is applied.
m "$DB" "$T/cur0" "${J[@]}" current
expect 0 "current --format json at base"
shape current
same "$(jq_ 'd["current"]')" "[]" "at base: no current revision"
same "$(jq_ 'd["at_head"]')" "False" "at base: not at head"
m "$DB" "$T/chk0" "${J[@]}" check
expect 1 "check --format json on a new database"
shape check
same "$(jq_ 'd["status"], d["ok"], d["pending"]')" "('uninitialised', False, 3)" \
	"check: status, ok, pending"
m "$DB" "$T/plan0" "${J[@]}" plan
expect 0 "plan --format json"
shape plan
same "$(jq_ '[s["id"] for s in d["steps"]]')" "['r001', 'r002', 'r003']" "plan: the steps"
m "$DB" "$T/up" "${J[@]}" upgrade r002
expect 0 "upgrade --format json"
shape change
same "$(jq_ 'd["command"], d["current"], d["steps"]')" "('upgrade', ['r002'], 2)" \
	"upgrade: where it went, how many steps"
m "$DB" "$T/cur1" "${J[@]}" current
shape current
same "$(jq_ '[(c["id"], c["known"], c["head"]) for c in d["current"]]')" \
	"[('r002', True, False)]" "current: r002, known, not head"
m "$DB" "$T/chk1" "${J[@]}" check
expect 1 "check: behind"
shape check
same "$(jq_ 'd["status"], d["pending"], d["changed"]')" "('behind', 1, [])" "check: behind by 1"
m "$DB" "$T/pland" "${J[@]}" plan --down base
shape plan
same "$(jq_ 'd["direction"], [(s["direction"], s["id"]) for s in d["steps"]]')" \
	"('downgrade', [('downgrade', 'r002'), ('downgrade', 'r001')])" "plan --down"
m "$DB" "$T/up2" "${J[@]}" -q upgrade
expect 0 "upgrade -q --format json still writes the document"
shape change
m "$DB" "$T/hist" "${J[@]}" history
expect 0 "history --format json"
shape history
same "$(jq_ '[(r["id"], r["applied"], r["current"], r["head"]) for r in d["revisions"]]')" \
	"[('r001', True, False, False), ('r002', True, False, False), ('r003', True, True, True)]" \
	"history: applied/current/head"
m "$DB" "$T/histv" "${J[@]}" -v history
shape history --with log log_not_in_build
same "$(jq_ '[len(r["log"]) for r in d["revisions"]]')" "[1, 1, 1]" "history -v: one log row each"
same "$(jq_ 'd["revisions"][0]["log"][0]["operation"], d["revisions"][0]["log"][0]["success"]')" \
	"('upgrade', True)" "history -v: the row's fields"
m "$DB" "$T/histr" "${J[@]}" history -r r002:
shape history
same "$(jq_ '[r["id"] for r in d["revisions"]]')" "['r002', 'r003']" "history -r r002:"
m "$DB" "$T/histr2" "${J[@]}" history -r :r002
same "$(jq_ '[r["id"] for r in d["revisions"]]')" "['r001', 'r002']" "history -r :r002"
m "$DB" "$T/histr3" "${J[@]}" history -r base:current
same "$(jq_ '[r["id"] for r in d["revisions"]]')" "['r001', 'r002', 'r003']" "history -r base:current"
m "$DB" "$T/histr4" --revisions "$R" history -r r002:r002
expect 0 "history -r in text"
same "$(cut -c1-16 "$T/histr4.out")" "applied  r002  T" "history -r r002:r002: one line"
m "$DB" "$T/histr5" --revisions "$R" history -r r002
expect 2 "history -r without a colon"
m "$DB" "$T/histr6" "${J[@]}" history -r nosuch:
expect 2 "history -r with an unknown revision"
shape error

m "$DB" "$T/chk2" "${J[@]}" check
expect 0 "check at head"
shape check
same "$(jq_ 'd["status"], d["ok"], d["pending"]')" "('at head', True, 0)" "check: at head"

# A changed revision: the finding names it and both checksums.
R2=$T/revs2
cp -r "$R" "$R2"
sed -i 's/^DROP TABLE t_002;/DROP TABLE t_002; -- edited/' "$R2/002_r002.sql"
m "$DB" "$T/chk3" --revisions "$R2" --format json check
expect 1 "check: a changed revision"
shape check
same "$(jq_ 'd["status"], [c["id"] for c in d["changed"]]')" "('changed', ['r002'])" \
	"check: the changed revision is named"
m "$DB" "$T/show2" --revisions "$R2" --format json show r002
same "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print(a["changed"][0]["checksum"] == b["revision"]["checksum"], a["changed"][0]["applied_checksum"] != b["revision"]["checksum"])' "$T/chk3.out" "$T/show2.out")" \
	"True True" "check: this build's checksum and the applied one differ"
m "$DB" "$T/chk4" --revisions "$R2" --format json check --allow-changed
expect 0 "check --allow-changed accepts, and still reports"
same "$(jq_ '[c["id"] for c in d["changed"]]')" "['r002']" "the finding is still listed"

# Reads that need no database.
run "$T/heads" "$MIGRATE" "${J[@]}" heads
expect 0 "heads --format json"
shape heads
same "$(jq_ '[h["id"] for h in d["heads"]]')" "['r003']" "heads: r003"
run "$T/show" "$MIGRATE" "${J[@]}" show r002
expect 0 "show --format json"
shape show
same "$(jq_ 'd["revision"]["parents"], d["revision"]["children"], d["revision"]["reversible"]')" \
	"(['r001'], ['r003'], True)" "show: parents, children, reversible"
run "$T/showt" "$MIGRATE" --revisions "$R" show r00
expect 2 "show with an ambiguous prefix"
run "$T/showt2" "$MIGRATE" --revisions "$R" show head
expect 0 "show head"
has "$T/showt2.out" "Rev: r003 (head)" "show: the head's id"
has "$T/showt2.out" "Parent: r002" "show: its parent"
run "$T/showv" "$MIGRATE" --revisions "$R" -v show r001
has "$T/showv.out" "CREATE TABLE t_001" "show -v: the SQL"

# Branches: b002 and c002 both revise a001.
B=$T/branches
mkdir -p "$B"
for spec in a001: b002:a001 c002:a001 d003:b002; do
	id=${spec%%:*}
	parent=${spec#*:}
	printf -- '-- Rev %s\n-- Revision ID: %s\n-- Revises: %s\n-- migrate:upgrade\nCREATE TABLE %s ();\n-- migrate:downgrade\nDROP TABLE %s;\n' \
		"$id" "$id" "$parent" "$id" "$id" >"$B/$id.sql"
done
run "$T/br" "$MIGRATE" --revisions "$B" --format json branches
expect 0 "branches --format json"
shape branches
same "$(jq_ '[(b["id"], b["children"]) for b in d["branch_points"]]')" \
	"[('a001', ['b002', 'c002'])]" "branches: a001 branches into b002 and c002"
run "$T/brt" "$MIGRATE" --revisions "$B" branches
has "$T/brt.out" "a001 (branch point), Rev a001" "branches in text"
has "$T/brt.out" "    -> c002, Rev c002" "branches: the children in text"
run "$T/br1" "$MIGRATE" --revisions "$R" branches
same "$(cat "$T/br1.out")" "" "branches of a straight line: none"

# The change commands and wait.
m "$DB" "$T/down" "${J[@]}" downgrade r001
expect 0 "downgrade --format json"
shape change
same "$(jq_ 'd["command"], d["current"], d["steps"]')" "('downgrade', ['r001'], 2)" "downgrade: result"
m "$DB" "$T/stamp" "${J[@]}" stamp r003
expect 0 "stamp --format json"
shape change
same "$(jq_ 'd["command"], d["current"]')" "('stamp', ['r003'])" "stamp: result"
m "$DB" "$T/wait" "${J[@]}" wait
expect 0 "wait --format json"
shape wait
mkdir -p "$T/new"
run "$T/rev" "$MIGRATE" --revisions "$T/new" --format json revision -m "first one"
expect 0 "revision --format json"
shape revision
same "$(jq_ 'd["id"], d["parents"]')" "('001', [])" "revision: the new id"

# Errors: one document on stdout, the message on stderr too.
run "$T/e1" "$MIGRATE" --format json frobnicate
expect 2 "an unknown command"
shape error
same "$(jq_ 'd["exit_code"]')" 2 "error: exit_code 2"
has "$T/e1.err" "migrate: unknown command 'frobnicate'" "the error line on stderr too"
m "$DB" "$T/e2" "${J[@]}" upgrade nosuch
expect 2 "an unknown target"
shape error
run "$T/e3" "$MIGRATE" "${J[@]}" --database-url "host=$T/nowhere" current
expect 4 "no database"
shape error
same "$(jq_ 'd["exit_code"]')" 4 "error: exit_code 4"
m "$DB" "$T/e4" "${J[@]}" upgrade --sql head
expect 2 "--format json with --sql"
shape error
run "$T/e5" env MIGRATE_FORMAT=json "$MIGRATE" --revisions "$T/nonexistent" heads
expect 3 "MIGRATE_FORMAT=json: bad revisions"
shape error
run "$T/e6" env MIGRATE_FORMAT=json "$MIGRATE" --revisions "$R" --format text heads
expect 0 "--format text beats MIGRATE_FORMAT=json"
same "$(cat "$T/e6.out")" "r003 (head), Test revision 3" "text output"
run "$T/e7" "$MIGRATE" --format yaml heads
expect 2 "an unknown format"
q -d "$DB" -c "UPDATE alembic_version SET version_num = 'zzz'"
m "$DB" "$T/e8" "${J[@]}" upgrade
expect 4 "upgrade from an unknown revision"
shape error
m "$DB" "$T/cur9" "${J[@]}" current
shape current
same "$(jq_ '[(c["id"], c["known"], c["message"]) for c in d["current"]]')" \
	"[('zzz', False, None)]" "current: an unknown id"
m "$DB" "$T/hist9" "${J[@]}" history
shape history
same "$(jq_ 'd["unknown_current"]')" "['zzz']" "history: the unknown current id"

# resolve: a non-transactional revision that fails part-way leaves the
# database dirty; check says so, resolve --undo clears it.
X=$T/dirty
mkdir -p "$X"
printf -- '-- Half done\n-- Revision ID: x1\n-- Revises:\n-- migrate:upgrade transaction=false\nCREATE TABLE x1 ();\nSELECT 1/0;\n-- migrate:downgrade\nDROP TABLE x1;\n' >"$X/x1.sql"
fresh_db cli_json_dirty
m cli_json_dirty "$T/x0" --revisions "$X" --format json upgrade
expect 4 "a revision that fails part-way"
shape error
m cli_json_dirty "$T/x1" --revisions "$X" --format json check
expect 1 "check on a dirty database"
shape check
same "$(jq_ 'd["status"]')" "dirty" "check: dirty"
m cli_json_dirty "$T/x2" --revisions "$X" --format json resolve --undo x1
expect 0 "resolve --undo --format json"
shape resolve
same "$(jq_ 'd["command"], d["revision"], d["applied"]')" "('resolve', 'x1', False)" "resolve: the result"

# Strings are escaped: quotes, backslashes, control characters, UTF-8.
E=$T/escape
mkdir -p "$E"
printf -- '-- Say "hi" \\ to caf\xc3\xa9\t(tab)\n-- Revision ID: e1\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n' >"$E/e1.sql"
run "$T/esc" "$MIGRATE" --revisions "$E" --format json show e1
shape show
same "$(jq_ 'd["revision"]["message"] == "Say \"hi\" \\ to caf\u00e9\t(tab)"')" True \
	"quotes, backslash, tab and UTF-8 round-trip"

if [ -n "${HAVE_LINT:-}" ]; then
	run "$T/lint" "$MIGRATE" --revisions "$R" --format json lint
	expect 0 "lint --format json"
	shape lint
fi
