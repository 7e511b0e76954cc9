#!/bin/sh
# SPDX-License-Identifier: MIT
# `meson install` puts migrate(1), libmigrate(3), the bash completion and
# json.md where they belong (into a throw-away DESTDIR).
# usage: check-install-docs.sh MESON BUILDDIR PREFIX MANDIR DATADIR WITH_MAN
set -eu
meson=$1 build=$2 prefix=$3 mandir=$4 datadir=$5 with_man=$6
dest=$(mktemp -d "${TMPDIR:-/tmp}/install-docs.XXXXXX")
trap 'rm -rf "$dest"' EXIT
# Relative directories are under the prefix.
case $mandir in /*) ;; *) mandir=$prefix/$mandir ;; esac
case $datadir in /*) ;; *) datadir=$prefix/$datadir ;; esac
"$meson" install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
comp=$(find "$dest" -path '*/bash-completion/completions/migrate' | head -n 1)
[ -n "$comp" ] || { echo "no bash completion installed" >&2; exit 1; }
case $comp in
"$dest$prefix"/*) ;;
*) echo "the completion is outside the prefix: ${comp#"$dest"}" >&2; exit 1 ;;
esac
bash -n "$comp" || { echo "the completion is not valid bash" >&2; exit 1; }
[ -f "$dest$datadir/doc/libmigrate/json.md" ] || { echo "json.md not installed" >&2; exit 1; }
if [ "$with_man" = yes ]; then
	for page in man1/migrate.1 man3/libmigrate.3; do
		[ -s "$dest$mandir/$page" ] || { echo "$page not installed" >&2; exit 1; }
		head -n 20 "$dest$mandir/$page" | grep -q '^\.TH' ||
			{ echo "$page is not a man page" >&2; exit 1; }
	done
fi
echo "installed: completion ${comp#"$dest"}, json.md, man pages: $with_man"
