# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# install.sh: what `meson install` gives, used from outside this tree.
#
#   - a fresh build of this source (library + generic migrate + embedder
#     + documentation: -Dexamples/-Dmirage/-Dtests disabled, unoptimised so
#     that it builds fast) installed to a temporary prefix, with the bash
#     completion and (when scdoc is there) migrate(1);
#   - the installed `migrate` runs without LD_LIBRARY_PATH (install_rpath),
#     refuses without revisions, and migrates the harness's database with
#     --revisions; it embeds none;
#   - examples/consumer (notes) is built against the installed prefix
#     through pkg-config, embeds its own revisions with the installed
#     embedder (pkg-config --variable=embed_revisions), and runs against
#     the memory backend and against the harness's database; the same with
#     plain cc;
#   - as a meson subproject, libmigrate brings neither tests, examples nor
#     binaries (other than the embedder) into the parent project.
# Run by pg-harness.sh.
source "${SRCDIR:?}/tests/integration/cli-lib.sh"
cli_init needs-pg
command -v meson >/dev/null || skip "meson is not installed"
command -v pkg-config >/dev/null || skip "pkg-config is not installed"

prefix=$T_TMP/prefix
b=$T_TMP/build

run "$T_TMP/setup" meson setup "$b" "$SRCDIR" --prefix "$prefix" \
	--buildtype plain -Ddefault_library=shared -Dtests=disabled \
	-Dexamples=disabled -Dmirage=disabled -Dfuzz=false
expect 0 "meson setup of the library alone"
run "$T_TMP/compile" timeout -k 5 240 ninja -C "$b"
expect 0 "build"
run "$T_TMP/install" meson install -C "$b" --quiet
expect 0 "meson install to $prefix"

mig=$prefix/bin/migrate
[ -x "$mig" ] || fail "no $mig"
[ -x "$prefix/bin/migrate-embed-revisions" ] || fail "no migrate-embed-revisions installed"
ok "migrate and migrate-embed-revisions installed"
[ ! -e "$prefix/bin/mirage-migrate" ] || fail "mirage-migrate was installed"
ok "Mirage's binary is not installed"

# The documentation that comes with it.
comp=$(find "$prefix" -path '*bash-completion/completions/migrate' | head -n1)
[ -n "$comp" ] || fail "no bash completion installed"
ok "bash completion installed ($comp)"
if command -v scdoc >/dev/null; then
	[ -f "$prefix/share/man/man1/migrate.1" ] || fail "no migrate(1) installed"
	ok "migrate(1) installed"
else
	note "SKIP: no scdoc, so no man page to look for"
fi

# install_rpath: no loader path needed.
run "$T_TMP/version" env -u LD_LIBRARY_PATH "$mig" --version
expect 0 "installed migrate runs without LD_LIBRARY_PATH"

mkdir -p "$T_TMP/empty"
run "$T_TMP/norev" env -C "$T_TMP/empty" "$mig" upgrade
expect 2 "installed migrate without revisions"
has "$T_TMP/norev.err" "no revisions: pass --revisions DIR or set MIGRATE_REVISIONS" "it says how to give them"

revs=$SRCDIR/examples/consumer/revisions
fresh_db inst_cli
PGDATABASE=inst_cli run "$T_TMP/up" "$mig" --revisions "$revs" upgrade head
expect 0 "installed migrate --revisions upgrade head"
[ "$(q -d inst_cli -c 'SELECT version_num FROM alembic_version')" = 002 ] ||
	fail "database inst_cli is not at 002"
ok "the database is at the consumer's head"

# The lint component is a module that migrate loads when it parses
# (issue 8): installed in LIBDIR/libmigrate, found through the RUNPATH.
if PGHOST=/nonexistent "$mig" help lint >/dev/null 2>&1; then
	mod=$(find "$prefix" -path '*/libmigrate/migrate-lint.so' | head -n1)
	[ -n "$mod" ] || fail "no libmigrate/migrate-lint.so installed"
	ok "the lint module is installed ($mod)"
	PGHOST=/nonexistent run "$T_TMP/lint" env -u LD_LIBRARY_PATH "$mig" \
		--revisions "$revs" lint
	expect 0 "installed migrate lint loads the module"
	has "$T_TMP/lint.out" "lint: 2 revisions" "and lints the revisions"
else
	note "SKIP: migrate was built without the lint component"
fi

pcdir=$(dirname "$(find "$prefix" -name libmigrate.pc | head -n1)")
[ -f "$pcdir/libmigrate.pc" ] || fail "no libmigrate.pc installed"
export PKG_CONFIG_PATH=$pcdir
embed=$(pkg-config --variable=embed_revisions libmigrate)
[ "$embed" = "$prefix/bin/migrate-embed-revisions" ] ||
	fail "pkg-config embed_revisions is '$embed'"
ok "pkg-config --variable=embed_revisions names the installed embedder"

# The consumer with meson.
cp -R "$SRCDIR/examples/consumer" "$T_TMP/notes"
run "$T_TMP/csetup" meson setup "$T_TMP/notes/b" "$T_TMP/notes"
expect 0 "consumer: meson setup against the installed prefix"
run "$T_TMP/ccompile" timeout -k 5 120 ninja -C "$T_TMP/notes/b"
expect 0 "consumer: build"
run "$T_TMP/cmem" env -u LD_LIBRARY_PATH "$T_TMP/notes/b/notes"
expect 0 "consumer on the memory backend"
has "$T_TMP/cmem.out" "notes: 2 embedded revisions, schema at head (memory)" "it verified its own revisions"
fresh_db inst_notes
run "$T_TMP/cpg" env -u LD_LIBRARY_PATH "$T_TMP/notes/b/notes" \
	"host=$PGHOST port=$PGPORT user=postgres dbname=inst_notes"
expect 0 "consumer on PostgreSQL"
[ "$(q -d inst_notes -c 'SELECT version_num FROM alembic_version')" = 002 ] ||
	fail "database inst_notes is not at 002"
ok "the consumer migrated its database"

# The consumer with plain cc (examples/README.md).
(
	cd "$T_TMP/notes" &&
		"$embed" embedded-revisions.c embedded-revisions.h revisions &&
		cc -std=c11 -o notes-cc notes.c embedded-revisions.c \
			$(pkg-config --cflags --libs libmigrate) \
			-Wl,-rpath,"$(pkg-config --variable=libdir libmigrate)"
) >"$T_TMP/cc.out" 2>&1 || { show cc "$T_TMP/cc.out"; fail "consumer: cc build"; }
run "$T_TMP/ccmem" "$T_TMP/notes/notes-cc"
expect 0 "consumer built with cc"

# As a subproject: only the library and the embedder.
p=$T_TMP/parent
mkdir -p "$p/subprojects"
cp "$T_TMP/notes/meson.build" "$T_TMP/notes/notes.c" "$p/"
cp -R "$T_TMP/notes/revisions" "$p/"
ln -s "$SRCDIR" "$p/subprojects/libmigrate"
run "$T_TMP/psetup" env -u PKG_CONFIG_PATH meson setup "$p/b" "$p" \
	--force-fallback-for=libmigrate
expect 0 "a parent project with libmigrate as a subproject"
run "$T_TMP/ptests" meson introspect "$p/b" --tests
expect 0 "meson introspect --tests"
[ "$(tr -d ' \n' <"$T_TMP/ptests.out")" = "[]" ] ||
	{ show tests "$T_TMP/ptests.out"; fail "the subproject registered tests"; }
ok "the subproject registers no tests"
run "$T_TMP/ptargets" meson introspect "$p/b" --targets
expect 0 "meson introspect --targets"
python3 -c '
import json, sys
print("\n".join(t["name"] for t in json.load(open(sys.argv[1]))
                if t["type"] == "executable"))' "$T_TMP/ptargets.out" >"$T_TMP/pexes" ||
	fail "cannot read the targets"
[ "$(tr '\n' ' ' <"$T_TMP/pexes")" = "migrate-embed-revisions notes " ] ||
	{ show executables "$T_TMP/pexes"; fail "the subproject builds programs"; }
ok "the subproject builds no program but the embedder (no migrate, tests, examples)"
run "$T_TMP/pinstall" meson introspect "$p/b" --installed
expect 0 "meson introspect --installed"
hasnt "$T_TMP/pinstall.out" "migrate-embed-revisions" "the subproject installs no embedder"
run "$T_TMP/pbuild" timeout -k 5 240 ninja -C "$p/b" notes
expect 0 "the parent builds notes with the subproject's embedder"
run "$T_TMP/pmem" "$p/b/notes"
expect 0 "the parent's notes runs"
