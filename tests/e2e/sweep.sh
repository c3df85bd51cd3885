#!/usr/bin/env bash
# A run removes what the last run in its directory wrote and this one did not, so a report
# never sits beside charts or an audit of other data (a run with --no-charts or without
# --claims after a full one). It removes only names its own list (.outcomes-files) holds:
# a user's file in the directory, or a listed name outside it, is never touched; a failed
# run removes nothing.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
o=$tmp/out
"$bin" run -q --today 2026-11-23 --claims samples/claims.tsv --out "$o" samples/visits.csv
for f in audit.csv km_pain.png km_pain.svg km_pain.gp km_pain.dat report.html; do
    [ -f "$o/$f" ] || fail "first run wrote no $f"
    grep -qx "$f" "$o/.outcomes-files" || fail "$f not listed"
done
echo mine >"$o/logo.png"; echo mine >"$o/notes.txt"; echo mine >"$tmp/outside.csv"
printf '../outside.csv\n%s\n' "$tmp/outside.csv" >>"$o/.outcomes-files"

# A failed run (a --by the data cannot give) removes nothing.
"$bin" run -q --today 2026-11-23 --no-charts --by clnic --out "$o" samples/visits.csv 2>/dev/null &&
    fail "--by clnic ran"
[ -f "$o/km_pain.png" ] && [ -f "$o/audit.csv" ] || fail "a failed run removed outputs"

"$bin" run -q --today 2026-11-23 --no-charts --out "$o" samples/visits.csv
[ -e "$o/audit.csv" ] && fail "audit.csv of the last run's claims left beside a report without"
left=$(ls "$o" | grep -E '\.(gp|dat|svg|png)$' | grep -vx logo.png || true)
[ -z "$left" ] || fail "charts of the last run left: $(echo $left | cut -c1-80)"
for f in logo.png notes.txt; do [ -f "$o/$f" ] || fail "removed the user's $f"; done
[ -f "$tmp/outside.csv" ] || fail "removed a file outside the directory"
for f in report.html report.md summary.json patients.csv cohort.csv rejects.csv; do
    [ -f "$o/$f" ] || fail "no $f"
done
grep -q audit.csv "$o/.outcomes-files" && fail "audit.csv still listed"
grep -q '\.\./' "$o/.outcomes-files" && fail "the list keeps a name outside"
grep -q 'km_pain' "$o/.outcomes-files" && fail "charts still listed"
exit 0
