#!/bin/bash
# SPDX-License-Identifier: MIT
#
# migrate lint vs squawk 2.66 (npm squawk-cli), issue 9 "Prove it": over
# the 44 revisions of tests/lint/corpus/, for every rule that both tools
# have (same intent; the MAP below), the findings on upgrade sections agree
# statement by statement, and every disagreement is listed in EXPLAINED
# with the reason. A disagreement that is not explained fails; so does an
# explanation that no longer applies.
#
# squawk sees each upgrade section alone (the other lines blanked, so line
# numbers stay), with --assume-in-transaction unless the section says
# transaction=false, and --pg-version 15. squawk's rules without a
# counterpart here (prefer-robust-stmts, prefer-bigint-over-int,
# prefer-text-field, prefer-timestamptz, prefer-identity, ban-char-field,
# require-lock-timeout / require-statement-timeout: migrate sets
# lock_timeout on every step itself, ...) and ours without one in squawk
# (dml-without-where, session-timeout, mixed-non-transactional,
# irreversible, incomplete-downgrade, the waiver rules) are not compared.
#
# Needs npm and the registry: installs squawk-cli@2.66.0 into a temporary
# directory, removed afterwards. Without them it skips (exit 77) and says
# why.
#
# usage: squawk.sh   (MIGRATE in the environment, from meson)
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
: "${MIGRATE:?run me through meson test}"
if ! "$MIGRATE" help lint >/dev/null 2>&1; then
	echo "squawk: SKIP: migrate was built without the lint component"
	exit 77
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
	echo "squawk: SKIP: npm/node not installed (apt-get install npm)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lint-squawk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! timeout 180 npm install --no-audit --no-fund --silent --prefix "$tmp/npm" \
	squawk-cli@2.66.0 >"$tmp/npm.log" 2>&1 ||
	! "$tmp/npm/node_modules/.bin/squawk" --version >/dev/null 2>&1; then
	tail -n 5 "$tmp/npm.log"
	echo "squawk: SKIP: cannot install squawk-cli@2.66.0 from npm (registry unreachable?)"
	exit 77
fi
echo "squawk: $("$tmp/npm/node_modules/.bin/squawk" --version)"

rc=0
timeout 60 "$MIGRATE" --revisions "$here/corpus" lint -v --format json \
	>"$tmp/ours.json" 2>"$tmp/err" || rc=$?
if [ "$rc" -ne 1 ]; then
	cat "$tmp/err" >&2
	echo "squawk: FAIL: migrate lint exited $rc, expected 1" >&2
	exit 1
fi
mkdir "$tmp/up"
SQ_TMP=$tmp/up python3 - "$tmp/npm/node_modules/.bin/squawk" "$here/corpus" \
	"$tmp/ours.json" <<'PY'
import json, os, re, subprocess, sys
squawk, corpus, ours_json = sys.argv[1:4]
MAP = {  # our rule -> squawk rule with the same intent
    "require-concurrent-index-creation": "require-concurrent-index-creation",
    "require-concurrent-index-deletion": "require-concurrent-index-deletion",
    "adding-required-field": "adding-required-field",
    "adding-field-with-default": "adding-field-with-default",
    "changing-column-type": "changing-column-type",
    "adding-not-nullable-field": "adding-not-nullable-field",
    "constraint-missing-not-valid": "constraint-missing-not-valid",
    "adding-foreign-key-constraint": "adding-foreign-key-constraint",
    "disallowed-unique-constraint": "disallowed-unique-constraint",
    "ban-drop-column": "ban-drop-column",
    "ban-drop-table": "ban-drop-table",
    "renaming-column": "renaming-column",
    "renaming-table": "renaming-table",
    "transaction-nesting": "transaction-nesting",
    "transaction-incompatible": "ban-concurrent-index-creation-in-transaction",
    "ban-truncate": "ban-truncate-cascade",
}
squawk_rules = set(MAP.values())
ours = set()
d = json.load(open(ours_json))
texts = {}
for name in sorted(os.listdir(corpus)):
    texts[name] = open(os.path.join(corpus, name)).read().split("\n")
def upgrade_lines(lines):
    out, on, notx = [], False, False
    for l in lines:
        if l.startswith("-- migrate:upgrade"):
            on = True; notx = "transaction=false" in l; out.append(""); continue
        if l.startswith("-- migrate:downgrade"):
            on = False
        out.append(l if on else "")
    return out, notx
def stmt_start(lines, line):  # 1-based line -> first line of its statement
    start, prev_end = None, True
    for i, l in enumerate(lines, 1):
        s = l.strip()
        if prev_end and s and not s.startswith("--"):
            start = i; prev_end = False
        if s.endswith(";"):
            prev_end = True
        if i == line:
            return start or line
    return line
for f in d["findings"]:
    if f["direction"] != "upgrade" or f["rule"] not in MAP or not f["column"]:
        continue
    r = MAP[f["rule"]]
    st = f["statement"].upper()
    if f["rule"] == "transaction-incompatible" and not st.startswith("CREATE INDEX CONCURRENTLY") and not st.startswith("CREATE UNIQUE INDEX CONCURRENTLY"):
        continue
    if f["rule"] == "ban-truncate" and "CASCADE" not in st:
        continue
    ours.add((f["file"].rsplit("/", 1)[-1], f["line"], r))
theirs = set()
tmp = os.environ["SQ_TMP"]
for name, lines in texts.items():
    up, notx = upgrade_lines(lines)
    p = os.path.join(tmp, name)
    open(p, "w").write("\n".join(up))
    args = [squawk, "--reporter", "json", "--pg-version", "15"]
    if not notx:
        args.append("--assume-in-transaction")
    out = subprocess.run(args + [p], capture_output=True, text=True, timeout=60).stdout
    for v in json.loads(out or "[]"):
        if v["rule_name"] in squawk_rules:
            theirs.add((name, stmt_start(up, v["line"] + 1), v["rule_name"]))

# Every disagreement, and why. (side, file, statement line, squawk rule)
EXPLAINED = {
    ("migrate", "06_sessions_exp_idx.sql", 8,
     "ban-concurrent-index-creation-in-transaction"):
        "migrate knows the section runs in a transaction (the default); "
        "squawk 2.66 flags CREATE INDEX CONCURRENTLY only inside an explicit "
        "BEGIN, even with --assume-in-transaction",
    ("squawk", "11_projects.sql", 9, "changing-column-type"):
        "table created in this revision: nobody uses it yet, no rewrite cost",
    ("squawk", "12_project_name_wider.sql", 8, "changing-column-type"):
        "safe widening varchar(100) -> varchar(200), no rewrite; migrate knows "
        "the old type from revision c11 (the revision graph)",
    ("squawk", "38_invoice_total_wider.sql", 8, "changing-column-type"):
        "safe widening numeric(10,2) -> numeric(12,2), no rewrite; the old "
        "type comes from revision c37",
    ("squawk", "17_org_slug_not_null.sql", 8, "adding-not-nullable-field"):
        "a validated CHECK (slug IS NOT NULL) exists (added NOT VALID in c15, "
        "validated in c16): PostgreSQL 12+ skips the scan; squawk only sees "
        "one file",
    ("squawk", "21_org_slug_unique.sql", 8, "constraint-missing-not-valid"):
        "a UNIQUE constraint cannot be NOT VALID in PostgreSQL; both tools "
        "report disallowed-unique-constraint on it, migrate only that",
}
got = {("migrate",) + k for k in ours - theirs} | {("squawk",) + k for k in theirs - ours}
bad = False
for k in sorted(got - set(EXPLAINED)):
    print("squawk: FAIL: unexplained: %s-only %s:%d %s" % k, file=sys.stderr)
    bad = True
for k in sorted(set(EXPLAINED) - got):
    print("squawk: FAIL: explained but no longer a disagreement: %s-only %s:%d %s" % k,
          file=sys.stderr)
    bad = True
for k in sorted(got & set(EXPLAINED)):
    print("  %s-only %s:%d %s: %s" % (k + (EXPLAINED[k],)))
print("ok - %d findings agree, %d disagreements, each explained" %
      (len(ours & theirs), len(got)))
sys.exit(1 if bad else 0)
PY
