#!/usr/bin/env bash
# make install PREFIX=... puts the program, the nightly script, the man page and the sample
# registry in place; make uninstall removes them.
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s install PREFIX="$tmp/usr" >/dev/null
[ -x "$tmp/usr/bin/outcomes" ] && [ -x "$tmp/usr/bin/outcomes-nightly" ]
"$tmp/usr/bin/outcomes" --version | grep -q '^outcomes '
man -l "$tmp/usr/share/man/man1/outcomes.1" 2>/dev/null | grep -q 'EXIT STATUS' ||
    grep -q '^.SH EXIT STATUS' "$tmp/usr/share/man/man1/outcomes.1"
[ -f "$tmp/usr/share/outcomes/claims.tsv" ]
make -s uninstall PREFIX="$tmp/usr" >/dev/null
[ -z "$(find "$tmp/usr" -type f)" ] || { find "$tmp/usr" -type f; exit 1; }
