#!/usr/bin/env bash
# outcomes run --month M: describes the patients whose course ended in M (counted here from
# the whole run's patients.csv, end_date column), writes reports/M by default, and its monthly
# series spans M and the twelve months before; a malformed month is a usage error.
set -eu
cd "$(dirname "$0")/../.."
bin=$(pwd)/${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp samples/visits.csv samples/claims.tsv samples/benchmarks.tsv "$tmp/"
cd "$tmp"
"$bin" run -q --no-charts --today 2026-11-23 --out all visits.csv
"$bin" run -q --no-charts --today 2026-11-23 --month 2026-10 --claims claims.tsv visits.csv
[ -s reports/2026-10/report.html ] || { echo "no reports/2026-10"; exit 1; }
grep -q 'course ended in 2026-10' reports/2026-10/report.md
python3 - <<'PY'
import csv, json
with open("all/patients.csv", newline="") as f:
    rows = list(csv.DictReader(f))
want = {(r["patient_id"], r["episode"]) for r in rows if r["end_date"].startswith("2026-10")}
s = json.load(open("reports/2026-10/summary.json"))
assert s["month"] == "2026-10"
assert s["patients"] == len(want), (s["patients"], len(want))
pain = [r for r in rows if r["instrument"] == "pain" and r["end_date"].startswith("2026-10")
        and r["change"] != ""]
g = next(x for x in s["groups"] if x["by"] == "" and x["instrument"] == "pain")
assert g["change"]["n"] == len(pain), (g["change"]["n"], len(pain))
months = sorted({m["month"] for m in s["months"]})
assert months[0] >= "2025-10" and months[-1] == "2026-10", months
PY
set +e
"$bin" run -q --month 2026-13 visits.csv 2>err; st=$?
set -e
[ "$st" -eq 2 ] && grep -q "not a month" err
# A sign or a blank is not a digit (sscanf's %d took "2026-+1" as January, then no month matched).
for bad in 2026-+1 "2026- 1" " 2026-1" 2026-1x 2026_01; do
    set +e
    "$bin" run -q --month "$bad" visits.csv 2>err; st=$?
    set -e
    [ "$st" -eq 2 ] && grep -q "not a month" err || { echo "--month '$bad' accepted ($st)"; exit 1; }
done
