#!/usr/bin/env bash
# Trial data with a control arm: the report has an arms section, an arms chart, and the
# difference in mean improvement equals mean(treatment) - mean(control) recomputed here from
# patients.csv; the Newcombe difference equals the difference of the two responder shares.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" simulate --patients 120 --seed 11 --start 2025-01-01 --months 12 --control 0.5 -o "$tmp/trial.csv"
"$bin" run -q --today 2026-11-23 --out "$tmp/out" "$tmp/trial.csv"
[ -s "$tmp/out/arms_pain.png" ] || { echo "no arms chart"; exit 1; }
grep -q 'Arms compared' "$tmp/out/report.md"
python3 - "$tmp/out" <<'PY'
import csv, json, sys
from statistics import mean
out = sys.argv[1]
s = json.load(open(f"{out}/summary.json"))
a = next(x for x in s["arms"] if x["instrument"] == "pain")
assert a["control"] == "control" and a["treatment"] == "treatment", a
with open(f"{out}/patients.csv", newline="") as f:
    P = [r for r in csv.DictReader(f) if r["instrument"] == "pain" and r["change"] != ""]
t = [float(r["change"]) for r in P if r["arm"] == "treatment"]
c = [float(r["change"]) for r in P if r["arm"] == "control"]
d = a["change_difference"]
assert abs(d["estimate"] - (mean(t) - mean(c))) < 1e-9, (d, mean(t) - mean(c))
assert d["lo"] < d["estimate"] < d["hi"]
rt = [r for r in P if r["arm"] == "treatment" and r["pct"] != ""]
rc = [r for r in P if r["arm"] == "control" and r["pct"] != ""]
pt = sum(float(r["pct"]) >= 30 - 1e-9 for r in rt) / len(rt)
pc = sum(float(r["pct"]) >= 30 - 1e-9 for r in rc) / len(rc)
rd = a["responder_30_difference"]
assert abs(rd["estimate"] - (pt - pc)) < 1e-9, (rd, pt - pc)
PY

# More arms than the chart draws (16): its title says how many of how many, the caption
# where the rest are; 26 arms of 12 patients (A..Z), 8 -> 4 each.
python3 - "$tmp/many.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("patient_id,visit_date,arm,pain\n")
    for a in range(26):
        for i in range(12):
            pid = f"{chr(65 + a)}{i:02d}"
            f.write(f"{pid},2025-01-01,arm {chr(65 + a)},8\n{pid},2025-02-01,arm {chr(65 + a)},4\n")
PY
"$bin" run -q --today 2026-01-01 --out "$tmp/many" "$tmp/many.csv"
grep -q "Mean improvement by arm (pain): the first 16 of 26 arms" "$tmp/many/arms_pain.gp" ||
    { echo "arms chart does not say it shows 16 of 26"; exit 1; }
grep -q "the others are in cohort.csv" "$tmp/many/report.html" ||
    { echo "arms caption does not say where the rest are"; exit 1; }
[ "$(grep -c '^pain,arm,arm [A-Z],patients,12,' "$tmp/many/cohort.csv")" = 26 ] ||
    { echo "cohort.csv lacks some of the 26 arms"; exit 1; }
