#!/usr/bin/env bash
# `make fuzz` keeps building: scripts/fuzz --smoke compiles the libFuzzer target against every
# library module and runs it once over the committed corpus. (Its source list was kept by hand
# and went stale twice; the replay test, test_fuzz_replay, links through the Makefile and
# could not notice.) The target must have run every corpus file, not just started.
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FUZZ_OUT="$tmp" scripts/fuzz --smoke >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
# libFuzzer counts the non-empty files (it always runs the empty input as well).
n=$(find tests/fuzz/corpus -type f -size +0 | wc -l)
grep -Eq "^INFO: +$n files found in tests/fuzz/corpus" "$tmp/log" || { cat "$tmp/log"; exit 1; }
grep -Eq '^Done [0-9]+ runs' "$tmp/log" || { cat "$tmp/log"; exit 1; }
