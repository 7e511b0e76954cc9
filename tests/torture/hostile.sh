#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Hostile and malformed revision sets. For every case of hostile/EXPECTED,
# run `migrate --revisions DIR upgrade head` (or the case's command) and
# check the outcome:
#  - never a crash (exit >= 128), a hang or sanitizer output;
#  - a rejected case exits 3 with a clear message holding the expected
#    FILE:LINE and cause, and the database is untouched (pg_dump, data
#    included, identical before and after);
#  - a legitimate case exits 0, on a fresh database whose sentinel table
#    survives.
#
# usage: pg-harness.sh hostile.sh PATH-TO-migrate [CASE...]

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
CORPUS=$HERE/hostile
ARG_MIGRATE=${1:-}
shift || true
ONLY=("$@")

VICTIM=torture_victim
LEGIT=torture_legit
BIG=$((10 * 1024 * 1024))

# --- helpers for the generators ---------------------------------------------

# header ID PARENTS [MESSAGE]: a valid header.
header()
{
	printf -- '-- %s\n--\n-- Revision ID: %s\n-- Revises:%s\n-- Create Date: 2026-01-31\n\n' \
		"${3:-A generated revision.}" "$1" "${2:+ $2}"
}

# valid_rev FILE ID TABLE: a complete valid root revision.
valid_rev()
{
	{
		header "$2" ''
		printf -- '-- migrate:upgrade\nCREATE TABLE %s (id integer);\n\n' "$3"
		printf -- '-- migrate:downgrade\nDROP TABLE %s;\n' "$3"
	} >"$1"
}

# to_crlf FILE: rewrite with CRLF line endings.
to_crlf()
{
	sed -i 's/$/\r/' "$1"
}

# A 100,000-revision chain, generated once (creating 100,000 files takes
# seconds) and shared by the chain_100k_* cases, which reset it and make
# their change in place: they use it as their revisions directory.
chain_link()
{
	{
		header "$(printf 'c%06d' "$1")" "$2" "Chain link $1."
		printf -- '-- migrate:upgrade\nSELECT %d;\n' "$1"
	} >"$CHAIN_100K/$(printf '%06d' "$1").sql"
}

chain_100k()
{
	CHAIN_100K=$T_TMP/chain-100k
	if [ ! -e "$CHAIN_100K.done" ]; then
		rm -rf "$CHAIN_100K"
		mkdir -p "$CHAIN_100K"
		awk -v dir="$CHAIN_100K" 'BEGIN {
			for (i = 1; i <= 100000; i++) {
				f = sprintf("%s/%06d.sql", dir, i)
				p = i > 1 ? sprintf(" c%06d", i - 1) : ""
				printf "-- Chain link %d.\n--\n-- Revision ID: c%06d\n-- Revises:%s\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT %d;\n", i, i, p, i > f
				close(f)
			}
		}' || fail "cannot generate the 100,000-revision chain"
		touch "$CHAIN_100K.done"
	fi
	# Undo the other cases' changes.
	rm -f "$CHAIN_100K/100001.sql"
	chain_link 1 ''
	CASE_DIR=$CHAIN_100K
}

# --- generated cases: gen_CASE DIR (may set CASE_DIR to another path) ------

gen_id_with_tab()
{
	{
		printf -- '-- A tab inside the id.\n--\n-- Revision ID: h0\t1\n-- Revises:\n-- Create Date: 2026-01-31\n\n'
		printf -- '-- migrate:upgrade\nCREATE TABLE hostile_t (id integer);\n'
	} >"$1/001_tab.sql"
}

gen_id_trailing_blanks()
{
	{
		printf -- '-- Blanks after the id and the parents are not part of them.\n--\n'
		printf -- '-- Revision ID: h001 \t \n-- Revises:   \n-- Create Date: 2026-01-31  \n\n'
		printf -- '-- migrate:upgrade  \nCREATE TABLE hostile_t (id integer);\n'
	} >"$1/001_blanks.sql"
}

gen_message_terminal_escapes()
{
	header h001 '' $'\e[31mred\e[0m \e]0;title\a bell\a' >"$1/001_esc.sql"
	printf -- '-- migrate:upgrade\nCREATE TABLE hostile_t (id integer);\n' >>"$1/001_esc.sql"
}

gen_empty_dir()
{
	:
}

gen_crlf()
{
	valid_rev "$1/001_crlf.sql" h001 hostile_t
	to_crlf "$1/001_crlf.sql"
	{
		header h002 h001
		printf -- '-- migrate:upgrade transaction=false\nCREATE TABLE hostile_u (id integer);\n'
		printf -- "INSERT INTO hostile_u VALUES (1);\nSELECT 'a;b';\n"
		printf -- '-- migrate:downgrade\nDROP TABLE hostile_u;\n'
	} >"$1/002_crlf.sql"
	to_crlf "$1/002_crlf.sql"
}

gen_bom()
{
	printf '\xef\xbb\xbf' >"$1/001_bom.sql"
	header h001 '' >>"$1/001_bom.sql"
	printf -- '-- migrate:upgrade\nCREATE TABLE hostile_t (id integer);\n' >>"$1/001_bom.sql"
}

gen_bom_crlf()
{
	gen_bom "$1"
	to_crlf "$1/001_bom.sql"
}

gen_crlf_with_error()
{
	{
		header h001 ''
		printf -- '-- migrate:upgrade frobnicate=1\nCREATE TABLE hostile_t (id integer);\n'
	} >"$1/001_crlf.sql"
	to_crlf "$1/001_crlf.sql"
}

gen_bom_with_error()
{
	{
		printf '\xef\xbb\xbf-- BOM, then two ids.\n--\n'
		printf -- '-- Revision ID: h001\n-- Revision ID: h002\n-- Revises:\n-- Create Date: 2026-01-31\n\n'
		printf -- '-- migrate:upgrade\nCREATE TABLE hostile_t (id integer);\n'
	} >"$1/001_bom.sql"
}

gen_cr_only()
{
	valid_rev "$1/001_cr.sql" h001 hostile_t
	sed -i -z 's/\n/\r/g' "$1/001_cr.sql"
}

gen_nul_in_body()
{
	{
		header h001 ''
		printf -- '-- migrate:upgrade\nCREATE TABLE hostile_t (id integer);\n'
		printf 'SELECT 1;\0DROP TABLE victim;\n'
	} >"$1/001_nul.sql"
}

gen_nul_in_header()
{
	printf -- '-- NUL in the id.\n--\n-- Revision ID: h0\x001\n-- Revises:\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT 1;\n' \
		>"$1/001_nul.sql"
}

gen_bad_utf8()
{
	{
		header h001 ''
		printf -- "-- migrate:upgrade\nSELECT 'caf\xff';\n"
	} >"$1/001_utf8.sql"
}

gen_overlong_utf8()
{
	{
		printf -- '-- overlong slash \xc0\xaf\n--\n'
		printf -- '-- Revision ID: h001\n-- Revises:\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT 1;\n'
	} >"$1/001_utf8.sql"
}

gen_surrogate_utf8()
{
	{
		printf -- '-- A surrogate half.\n-- \xed\xa0\x80\n'
		printf -- '-- Revision ID: h001\n-- Revises:\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT 1;\n'
	} >"$1/001_utf8.sql"
}

gen_truncated_utf8_at_eof()
{
	{
		header h001 ''
		printf -- '-- migrate:upgrade\nSELECT 1;\n-- euro sign cut: \xe2\x82'
	} >"$1/001_utf8.sql"
}

gen_utf16()
{
	{
		header h001 ''
		printf -- '-- migrate:upgrade\nSELECT 1;\n'
	} | iconv -f UTF-8 -t UTF-16 >"$1/001_utf16.sql" ||
		fail "iconv failed"
}

# pad_lines COUNT: COUNT bytes of 100-byte comment lines on stdout.
pad_lines()
{
	head -c $(($1 * 99 / 100)) /dev/zero | tr '\0' 'x' | fold -w 99
}

gen_big_10mb_comment()
{
	{
		header h001 ''
		printf -- '-- migrate:upgrade\nCREATE TABLE hostile_big (id integer);\n'
		pad_lines "$BIG" | sed 's/^/-- /'
		printf 'INSERT INTO hostile_big VALUES (1);\n\n-- migrate:downgrade\nDROP TABLE hostile_big;\n'
	} >"$1/001_big.sql"
}

gen_big_10mb_literal()
{
	{
		header h001 ''
		printf -- '-- migrate:upgrade\nCREATE TABLE hostile_big (v text);\n'
		printf "INSERT INTO hostile_big VALUES ('"
		head -c "$BIG" /dev/zero | tr '\0' 'y'
		printf "');\n"
	} >"$1/001_big.sql"
}

gen_big_10mb_message()
{
	{
		printf -- '-- '
		head -c "$BIG" /dev/zero | tr '\0' 'm'
		printf -- '\n--\n-- Revision ID: h001\n-- Revises:\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT 1;\n'
	} >"$1/001_big.sql"
}

gen_big_10mb_garbage()
{
	# Deterministic garbage that is not UTF-8 on its first line.
	{
		printf '\xfe\xff\n'
		head -c "$BIG" /dev/zero | tr '\0' '\377'
	} >"$1/001_garbage.sql"
}

gen_big_10mb_one_line()
{
	{
		printf -- '-- '
		head -c "$BIG" /dev/zero | tr '\0' 'z'
	} >"$1/001_oneline.sql"
}

gen_big_10mb_unterminated_dollar_notx()
{
	# shellcheck disable=SC2016 # dollar quotes, not expansions
	{
		header h001 ''
		printf -- '-- migrate:upgrade transaction=false\nSELECT 1;\nDO $body$\n'
		pad_lines "$BIG"
		printf '$bodx$;\n'
	} >"$1/001_big.sql"
}

gen_chain_100k_plan()
{
	chain_100k
}

# One more revision, whose parent does not exist.
gen_chain_100k_unknown_parent()
{
	chain_100k
	chain_link 100001 nothere
}

# The root revises the last link: one cycle through 100,000 revisions.
gen_chain_100k_cycle()
{
	chain_100k
	chain_link 1 c100000
}

gen_dir_named_x_sql()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	mkdir "$1/x.sql"
	valid_rev "$1/x.sql/002_inside.sql" h002 hostile_u
}

gen_fifo_named_x_sql()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	mkfifo "$1/fifo.sql"
}

gen_devzero_symlink()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	ln -s /dev/zero "$1/zero.sql"
}

gen_symlink_dir_loop()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	ln -s . "$1/sub"
	ln -s . "$1/loop.sql"
}

gen_symlink_loop_pair()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	ln -s b.sql "$1/a.sql"
	ln -s a.sql "$1/b.sql"
}

gen_symlink_self_loop()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	ln -s self.sql "$1/self.sql"
}

gen_dangling_symlink()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	ln -s nowhere/at/all.sql "$1/gone.sql"
}

gen_unreadable_file()
{
	valid_rev "$1/001_ok.sql" h001 hostile_t
	valid_rev "$1/002_secret.sql" h002 hostile_u
	chmod 000 "$1/002_secret.sql"
}

gen_revisions_dir_symlink_loop()
{
	ln -s loop "$1/loop"
	CASE_DIR=$1/loop
}

gen_revisions_dir_missing()
{
	CASE_DIR=$1/does-not-exist
}

gen_revisions_dir_is_file()
{
	valid_rev "$1/001_file.sql" h001 hostile_t
	CASE_DIR=$1/001_file.sql
}

gen_filename_quote_space()
{
	valid_rev "$1/001 it's a \"file\" \$(id).sql" h001 hostile_t
}

gen_filename_format_specifiers()
{
	printf -- '-- printf directives in the name; no id.\n--\n-- Revises:\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT 1;\n' \
		>"$1/%s%n%x%p.sql"
}

gen_filename_newline()
{
	printf -- '-- A newline in the file name; no id.\n--\n-- Revises:\n-- Create Date: 2026-01-31\n\n-- migrate:upgrade\nSELECT 1;\n' \
		>"$1/bad"$'\n'"name.sql"
}

gen_filename_255_bytes()
{
	valid_rev "$1/$(printf 'n%.0s' $(seq 251)).sql" h001 hostile_t
}

# --- the run ---------------------------------------------------------------

# db_fingerprint DB FILE: everything an upgrade could have changed.
db_fingerprint()
{
	# \restrict lines (pg_dump >= 15.14) carry a random key.
	PGAPPNAME=torture timeout -k 5 60 pg_dump --no-owner -d "$1" >"$2.raw" ||
		fail "pg_dump of $1 failed"
	grep -Ev '^\\(un)?restrict ' "$2.raw" >"$2"
	q -d "$1" -c "SELECT 'alembic_version=' || coalesce(string_agg(version_num, ','), '')
		FROM alembic_version" >>"$2" || fail "cannot read alembic_version of $1"
}

# seed DB [legit]: an empty public schema with the sentinel table, plus
# (unless legit) a version table no hostile set knows.
seed()
{
	reset_schema "$1"
	q -d "$1" -c "CREATE TABLE victim (id integer PRIMARY KEY, secret text);
		INSERT INTO victim VALUES (1, 'a'), (2, 'b'), (3, 'c');" >/dev/null ||
		fail "cannot seed $1"
	[ -n "${2:-}" ] && return 0
	q -d "$1" -c "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL,
			CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));" >/dev/null ||
		fail "cannot seed $1"
}

# build_case NAME DIR: copy or generate case NAME into DIR; sets CASE_DIR.
build_case()
{
	mkdir -p "$2"
	CASE_DIR=$2
	if [ -d "$CORPUS/$1" ]; then
		cp -R "$CORPUS/$1/." "$2/"
	elif declare -F "gen_$1" >/dev/null; then
		"gen_$1" "$2"
	else
		fail "case $1: no directory hostile/$1 and no gen_$1"
	fi
}

[ -f "$CORPUS/EXPECTED" ] || fail "no $CORPUS/EXPECTED"

# HOSTILE_GEN_ONLY=DIR: only build every case into DIR/CASE, for a look.
if [ -n "${HOSTILE_GEN_ONLY:-}" ]; then
	mkdir -p "$HOSTILE_GEN_ONLY"
	T_TMP=$(cd "$HOSTILE_GEN_ONLY" && pwd)
	while IFS='|' read -r -u 3 name _; do
		name=${name//[[:space:]]/}
		case $name in '' | '#'*) continue ;; esac
		build_case "$name" "$T_TMP/$name"
	done 3<"$CORPUS/EXPECTED"
	exit 0
fi

torture_init "$ARG_MIGRATE"
command -v pg_dump >/dev/null || fail "pg_dump not found"

fresh_db "$VICTIM"
fresh_db "$LEGIT"
seed "$VICTIM"
db_fingerprint "$VICTIM" "$T_TMP/victim.before"

# run_case NAME WANT CMD SUBS: one case; runs in a subshell, so that fail()
# ends only this case. Exit 0: as expected; 77: skipped; else failed.
run_case()
{
	local name=$1 want=$2 cmd=$3 subs=$4 dir out db where rest sub n size t0
	dir=$T_TMP/cases/$name
	t0=$(now_ms)
	build_case "$name" "$dir"
	if [ "$name" = unreadable_file ] && [ "$(id -u)" = 0 ]; then
		note "skip $name: root reads any file"
		exit 77
	fi
	out=$T_TMP/out-$name
	db=$VICTIM
	if [ "$want" = 0 ]; then
		db=$LEGIT
		seed "$db" legit
	fi
	# shellcheck disable=SC2086 # the command is words
	run_migrate "$db" "$out" 120 --revisions "$CASE_DIR" $cmd
	cat "$out.out" "$out.err" >"$out.all"
	if [ "$RC" -ne "$want" ]; then
		show stdout "$out.out"
		show stderr "$out.err"
		fail "case $name: exit $RC, expected $want"
	fi
	# Every expected substring, case-insensitively.
	where=$out.all
	[ "$want" = 0 ] || where=$out.err
	rest=$subs
	while [ -n "${rest//[[:space:]]/}" ]; do
		sub=${rest%%&&*}
		if [ "$sub" = "$rest" ]; then rest=; else rest=${rest#*&&}; fi
		sub=$(echo "$sub" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		[ -n "$sub" ] || continue
		if ! grep -qiF -- "$sub" "$where"; then
			show stdout "$out.out"
			show stderr "$out.err"
			fail "case $name: the output does not contain '$sub'"
		fi
	done
	if [ "$want" = 0 ]; then
		n=$(q -d "$db" -c "SELECT count(*) FROM victim") ||
			fail "case $name: the sentinel table is gone"
		[ "$n" = 3 ] || fail "case $name: the sentinel table holds $n rows, not 3"
	else
		# A clear message: one "migrate: " line first, not a dump.
		if ! head -n 1 "$out.err" | grep -q '^migrate: '; then
			show stderr "$out.err"
			fail "case $name: the error does not start with 'migrate: '"
		fi
		size=$(wc -c <"$out.err")
		[ "$size" -le 4096 ] ||
			fail "case $name: a $size-byte error message is not a clear message"
		if grep -q '(null)' "$out.err"; then
			show stderr "$out.err"
			fail "case $name: '(null)' in the message"
		fi
		db_fingerprint "$VICTIM" "$T_TMP/victim.after"
		if ! cmp -s "$T_TMP/victim.before" "$T_TMP/victim.after"; then
			diff -u "$T_TMP/victim.before" "$T_TMP/victim.after" | head -n 40 >&2 || true
			fail "case $name: a rejected revision set changed the database"
		fi
	fi
	note "ok $name (exit $RC, $(($(now_ms) - t0)) ms): $(head -n 1 "$out.err" | cut -c1-160)"
	chmod -R u+rwX "$dir" 2>/dev/null || true
	rm -rf "$dir" "$out".*
}

# The 100,000-file chain goes as soon as its cases are done (they are
# next to each other in EXPECTED), in the test's own time and with a note
# of how long it took: deleting 100,000 files can take minutes on a
# loaded machine, and at exit (t_cleanup) that went unreported while the
# meson timeout still counted it.
drop_chain_100k()
{
	local t0
	[ -d "$T_TMP/chain-100k" ] || return 0
	t0=$(now_ms)
	rm -f "$T_TMP/chain-100k.done"
	rm -rf "$T_TMP/chain-100k"
	note "removed the 100,000-file chain in $(($(now_ms) - t0)) ms"
}

ncases=0
nrejected=0
nlegit=0
nskipped=0
failed=()
start=$(now_ms)
declare -A done_case=()
while IFS='|' read -r -u 3 name want cmd subs; do
	name=${name//[[:space:]]/}
	want=${want//[[:space:]]/}
	case $name in '' | '#'*) continue ;; esac
	[ -z "${done_case[$name]:-}" ] || fail "EXPECTED lists $name twice"
	done_case[$name]=1
	case $want in 0 | 3) ;; *) fail "EXPECTED: case $name: exit '$want' is neither 0 nor 3" ;; esac
	if [ "${#ONLY[@]}" -gt 0 ] && [[ " ${ONLY[*]} " != *" $name "* ]]; then
		continue
	fi
	cmd=$(echo "$cmd" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	[ -n "$cmd" ] || cmd="upgrade head"
	case $name in chain_100k_*) ;; *) drop_chain_100k ;; esac

	# Not "( ... ) || rc=$?": that would turn off set -e inside.
	set +e
	(
		set -e
		run_case "$name" "$want" "$cmd" "$subs"
	)
	rc=$?
	set -e
	case $rc in
	0)
		ncases=$((ncases + 1))
		if [ "$want" = 0 ]; then
			nlegit=$((nlegit + 1))
		else
			nrejected=$((nrejected + 1))
		fi
		;;
	77) nskipped=$((nskipped + 1)) ;;
	*)
		ncases=$((ncases + 1))
		failed+=("$name")
		# Go on with an intact victim for the next cases.
		seed "$VICTIM"
		db_fingerprint "$VICTIM" "$T_TMP/victim.before"
		;;
	esac
done 3<"$CORPUS/EXPECTED"
drop_chain_100k

drop_db "$VICTIM"
drop_db "$LEGIT"
if [ "${#ONLY[@]}" -eq 0 ] && [ $((ncases + nskipped)) -lt 40 ]; then
	fail "only $ncases cases: the corpus must hold at least 40"
fi
note "$ncases cases in $(($(now_ms) - start)) ms: $nrejected rejected cleanly, $nlegit legitimate, $nskipped skipped, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ] || fail "${#failed[@]} case(s) failed: ${failed[*]}"
note "PASS"
