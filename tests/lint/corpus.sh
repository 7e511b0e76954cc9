#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The lint corpus (issue 9, "Prove it"): `migrate lint` over the 44
# revisions of tests/lint/corpus/ gives exactly the findings listed in
# tests/lint/EXPECTED (file, line, rule, waived or not), exits 1 (there
# are errors), warnings fail only with --strict, an unknown REV is a usage
# error, and the built-in Mirage baseline lints clean (exit 0, no finding
# at all). No database.
#
# usage: corpus.sh   (MIGRATE and SRCDIR in the environment, from meson)
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
: "${MIGRATE:?run me through meson test}"
if ! "$MIGRATE" help lint >/dev/null 2>&1; then
	echo "corpus: SKIP: migrate was built without the lint component"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lint-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

rc=0
timeout 60 "$MIGRATE" --revisions "$here/corpus" lint -v --format json \
	>"$tmp/out.json" 2>"$tmp/err" || rc=$?
if [ "$rc" -ne 1 ]; then
	cat "$tmp/err" >&2
	echo "corpus: FAIL: migrate lint exited $rc, expected 1" >&2
	exit 1
fi
python3 - "$tmp/out.json" >"$tmp/got" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["findings"]:
    print("%s:%d %s%s" % (f["file"].rsplit("/", 1)[-1], f["line"], f["rule"],
                          " (waived)" if f["waived"] else ""))
PY
grep -v '^#' "$here/EXPECTED" | grep -v '^$' >"$tmp/want"
if ! diff -u "$tmp/want" "$tmp/got"; then
	echo "corpus: FAIL: findings differ from tests/lint/EXPECTED (- expected, + got)" >&2
	exit 1
fi
echo "ok 1 - $(wc -l <"$tmp/got") findings over the corpus, as expected"

rc=0
timeout 60 "$MIGRATE" lint >"$tmp/mirage" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || ! grep -Eqx 'lint: [0-9]+ revisions?, 0 errors, 0 warnings, 0 info' "$tmp/mirage"; then
	cat "$tmp/mirage" >&2
	echo "corpus: FAIL: the built-in Mirage baseline does not lint clean (exit $rc)" >&2
	exit 1
fi
echo "ok 2 - the Mirage baseline lints clean"

# c24 has one warning (ban-drop-column) and nothing else.
lint_rc()
{
	rc=0
	timeout 60 "$MIGRATE" --revisions "$here/corpus" lint "$@" >"$tmp/one" 2>&1 || rc=$?
}
lint_rc c24
[ "$rc" -eq 0 ] || { cat "$tmp/one" >&2; echo "corpus: FAIL: a warning alone exited $rc, expected 0" >&2; exit 1; }
grep -q 'warning: ban-drop-column' "$tmp/one" || { cat "$tmp/one" >&2; echo "corpus: FAIL: c24's warning not shown" >&2; exit 1; }
lint_rc --strict c24
[ "$rc" -eq 1 ] || { cat "$tmp/one" >&2; echo "corpus: FAIL: --strict with a warning exited $rc, expected 1" >&2; exit 1; }
lint_rc --strict c25
[ "$rc" -eq 0 ] || { cat "$tmp/one" >&2; echo "corpus: FAIL: --strict with a waived warning exited $rc, expected 0" >&2; exit 1; }
echo "ok 3 - warnings fail only with --strict; a waived one never"
lint_rc nosuchrev
[ "$rc" -eq 2 ] || { cat "$tmp/one" >&2; echo "corpus: FAIL: an unknown revision exited $rc, expected 2" >&2; exit 1; }
echo "ok 4 - an unknown revision is a usage error"
