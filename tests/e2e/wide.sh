#!/usr/bin/env bash
# A trial file in wide format through the command line: --wide-map, the same spec inside a
# --config file, and the staged commands (which read the normalised long visits.csv back).
# samples/wide-trial.csv has 40 rows (20 verum, 20 control); T01 (control) is 78 -> 44 -> 18
# on pain VAS, so its improvement is 78 - 18 = 60 points = 76.9%.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" run -q --no-charts --today 2026-11-23 --wide-map samples/wide-trial.map --out "$tmp/a" samples/wide-trial.csv
printf 'wide = %s\n' "$(cat samples/wide-trial.map)" >"$tmp/trial.conf"
"$bin" run -q --no-charts --today 2026-11-23 --config "$tmp/trial.conf" --out "$tmp/b" samples/wide-trial.csv
cmp "$tmp/a/patients.csv" "$tmp/b/patients.csv"
"$bin" ingest -q --today 2026-11-23 --wide-map samples/wide-trial.map --out "$tmp/c" samples/wide-trial.csv
"$bin" patients -q --today 2026-11-23 --out "$tmp/c"
cmp "$tmp/a/patients.csv" "$tmp/c/patients.csv"
python3 - "$tmp/a" <<'PY'
import csv, json, sys
out = sys.argv[1]
s = json.load(open(f"{out}/summary.json"))
assert s["rows"]["read"] == 40 and s["rows"]["accepted"] == 40, s["rows"]
with open(f"{out}/patients.csv", newline="") as f:
    t01 = next(r for r in csv.DictReader(f) if r["patient_id"] == "T01")
assert (float(t01["baseline"]), float(t01["final"]), float(t01["change"])) == (78, 18, 60), t01
assert abs(float(t01["pct"]) - 100 * 60 / 78) < 1e-9 and t01["arm"] == "control"
a = next(x for x in s["arms"] if x["instrument"] == "pain_vas")
assert (a["treatment"], a["control"]) == ("verum", "control"), a
PY
# A spec naming a column the file lacks stops with a clear message (usage or input error).
set +e
"$bin" run -q --no-charts --wide 'pain_vas: pk1@0d, pk9@3m; patient_id=id' --out "$tmp/d" samples/wide-trial.csv 2>"$tmp/err"
st=$?
set -e
[ "$st" -eq 3 ] || [ "$st" -eq 2 ] || { echo "exit $st"; exit 1; }
grep -q 'pk9' "$tmp/err"
