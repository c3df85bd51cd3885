#!/usr/bin/env bash
# One number, one interval: the cohort table's median percent improvement and the claims
# audit's estimate of the same median (claim E02a, the typical improvement of all patients)
# must agree exactly, including above 500 patients, where the audit once switched to another
# interval method than the cohort stage.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" simulate --patients 700 --seed 3 --start 2025-01-01 --months 12 -o "$tmp/v.csv"
"$bin" run -q --no-charts --today 2026-11-23 --claims samples/claims.tsv --out "$tmp/o" "$tmp/v.csv"
python3 - "$tmp/o/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
g = next(x for x in s["groups"] if x["by"] == "" and x["instrument"] == "pain")
c = next(x for x in s["claims"] if x["id"] == "E02a")
m = g["pct_median"]
assert m["n"] == c["n"] and m["n"] >= 500, (m, c)
assert (m["estimate"], m["lo"], m["hi"]) == (c["estimate"], c["lo"], c["hi"]), (m, c)
PY
