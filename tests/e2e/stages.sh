#!/usr/bin/env bash
# Each stage alone, through the documented files in one directory, gives the same numbers as
# `outcomes run` in one process.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--quiet --today 2026-11-23 --claims samples/claims.tsv)
"$bin" run "${args[@]}" --no-charts --out "$tmp/run" samples/visits.csv
s="$tmp/stage"
"$bin" ingest "${args[@]}" --out "$s" samples/visits.csv
for f in visits.csv rejects.csv quality.csv; do [ -s "$s/$f" ] || { echo "ingest: no $f"; exit 1; }; done
"$bin" patients "${args[@]}" --out "$s"
"$bin" cohort "${args[@]}" --out "$s"
"$bin" audit "${args[@]}" --out "$s"
"$bin" report "${args[@]}" --no-charts --out "$s"
cmp "$tmp/run/rejects.csv" "$s/rejects.csv"
cmp "$tmp/run/patients.csv" "$s/patients.csv"
cmp "$tmp/run/cohort.csv" "$s/cohort.csv"
cmp "$tmp/run/audit.csv" "$s/audit.csv"
# summary.json differs only in the command line and the time stamp.
diff <(grep -vE '"(command|generated)"' "$tmp/run/summary.json") \
     <(grep -vE '"(command|generated)"' "$s/summary.json")
# The cohort stage reads only patients.csv: it works on a copy of that file alone.
mkdir "$tmp/alone"
cp "$s/patients.csv" "$tmp/alone/"
"$bin" cohort --quiet --out "$tmp/alone"
cmp "$s/cohort.csv" "$tmp/alone/cohort.csv"
