#!/usr/bin/env bash
# scripts/nightly: unchanged inputs skip, changed inputs regenerate, a failure or a killed run
# leaves the previous dashboard whole, and a second run while one holds the lock exits 75.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OUTCOMES="$root/build/outcomes"
cp tests/fixtures/e2e/tiny.csv "$tmp/visits.csv"
dest="$tmp/dash"
fail() { echo "FAIL: $*"; exit 1; }

scripts/nightly --dest "$dest" "$tmp/visits.csv" >"$tmp/log1"
[ -s "$dest/current/report.html" ] || fail "first run made no dashboard"
first=$(readlink "$dest/current")

scripts/nightly --dest "$dest" "$tmp/visits.csv" >"$tmp/log2"
grep -q 'unchanged' "$tmp/log2" || fail "unchanged inputs were not skipped"
[ "$(readlink "$dest/current")" = "$first" ] || fail "skip changed the dashboard"

sleep 1   # release names have one-second resolution
echo 'P8,2026-03-01,1,North,F,33,6,5' >>"$tmp/visits.csv"
scripts/nightly --dest "$dest" "$tmp/visits.csv" >"$tmp/log3"
second=$(readlink "$dest/current")
[ "$second" != "$first" ] || fail "changed inputs did not regenerate"
grep -q '"read": 15' "$dest/current/summary.json" || fail "new dashboard lacks the new row"

# A failing run (gnuplot missing is status 4; a fake program stands in) keeps the old one.
cat >"$tmp/failing" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo "outcomes fake"; exit 0; }
for a; do case $prev in --out) mkdir -p "$a"; echo half >"$a/report.html";; esac; prev=$a; done
exit 4
SH
chmod +x "$tmp/failing"
set +e
OUTCOMES="$tmp/failing" scripts/nightly --force --dest "$dest" "$tmp/visits.csv" >"$tmp/log4"
st=$?
set -e
[ "$st" -eq 4 ] || fail "failing run exited $st, want 4"
[ "$(readlink "$dest/current")" = "$second" ] || fail "a failed run replaced the dashboard"
grep -q '"read": 15' "$dest/current/summary.json" || fail "dashboard damaged"
ls "$dest/releases" | grep -q partial && fail "failed run left a partial release"

# A slow run holds the lock: a second run exits 75; killing the slow one leaves all whole.
cat >"$tmp/slow" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo "outcomes slow"; exit 0; }
for a; do case $prev in --out) mkdir -p "$a"; echo half >"$a/report.html";; esac; prev=$a; done
sleep 30
SH
chmod +x "$tmp/slow"
OUTCOMES="$tmp/slow" setsid scripts/nightly --force --dest "$dest" "$tmp/visits.csv" >"$tmp/log5" 2>&1 &
slow=$!
for _ in $(seq 50); do ls "$dest/releases" | grep -q partial && break; sleep 0.1; done
set +e
scripts/nightly --force --dest "$dest" "$tmp/visits.csv" >"$tmp/log6" 2>&1
st=$?
set -e
[ "$st" -eq 75 ] || fail "second concurrent run exited $st, want 75"
grep -q 'another run holds' "$tmp/log6" || fail "no message for the lock"
kill -KILL -- -"$slow" 2>/dev/null || kill -KILL "$slow"
wait "$slow" 2>/dev/null || true
[ "$(readlink "$dest/current")" = "$second" ] || fail "killed run replaced the dashboard"
grep -q 'Outcome report' "$dest/current/report.html" || fail "dashboard damaged by killed run"
# The next run cleans up what the killed one left.
scripts/nightly --dest "$dest" "$tmp/visits.csv" >"$tmp/log7"
ls "$dest/releases" | grep -q partial && fail "stale partial release not cleaned"
echo ok
