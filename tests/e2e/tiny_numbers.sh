#!/usr/bin/env bash
# End to end on a cohort small enough to check by hand: file in, every report file out,
# the headline numbers in summary.json equal to the values worked out below.
#
# tests/fixtures/e2e/tiny.csv: 14 data rows; P7's only row has pain 11 (outside 0-10) and is
# rejected, so 13 accepted, 1 rejected; 6 patients (P1-P6), P6 with a single visit.
# Pain, first -> last visit (lower is better), improvement = first - last:
#   P1 8->4: 4 (50%)   P2 6->6: 0 (0%)   P3 5->2: 3 (60%)   P4 10->7: 3 (30%)   P5 4->5: -1 (-25%)
#   n = 5, mean = 9/5 = 1.8
#   deviations 2.2 -1.8 1.2 1.2 -2.8; squares sum 4.84+3.24+1.44+1.44+7.84 = 18.8
#   SD = sqrt(18.8/4) = 2.167948; SE = SD/sqrt(5) = 0.969536; t(0.975, 4) = 2.776445
#   95% CI = 1.8 -/+ 2.691869 = (-0.891869, 4.491869)
#   >= 30% responders: P1, P3, P4 (30% exactly counts) = 3/5
#   Wilson 3/5: z^2 = 3.841459, denom = 1 + z^2/5 = 1.768292,
#   centre = (0.6 + z^2/10)/denom = 0.984146/1.768292 = 0.556552,
#   half = z*sqrt(0.6*0.4/5 + z^2/100)/denom = 1.959964*0.293963/1.768292 = 0.325827
#   -> (0.230724, 0.882379)
# Sleep quality (higher is better), improvement = last - first:
#   P1 3->6: 3  P2 5->5: 0  P3 2->6: 4  P4 4->5: 1  P5 6->5: -1; mean = 7/5 = 1.4
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" run --quiet --today 2026-11-23 --no-charts --out "$out" tests/fixtures/e2e/tiny.csv
for f in report.html report.md summary.json patients.csv rejects.csv cohort.csv; do
    [ -s "$out/$f" ] || { echo "missing $f"; exit 1; }
done
python3 - "$out/summary.json" <<'PY'
import json, math, sys
s = json.load(open(sys.argv[1]))
def near(got, want, tol, what):
    if got is None or abs(got - want) > tol:
        sys.exit(f"{what}: got {got}, want {want}")
assert s["rows"]["read"] == 14 and s["rows"]["accepted"] == 13 and s["rows"]["rejected"] == 1, s["rows"]
assert s["rows"]["rejected_by"]["out_of_range"] == 1
assert s["patients"] == 6, s["patients"]
g = {x["instrument"]: x for x in s["groups"] if x["by"] == ""}
c = g["pain"]["change"]
near(c["estimate"], 1.8, 1e-9, "pain mean change")
near(c["lo"], -0.891869, 1e-5, "pain CI lo")
near(c["hi"], 4.491869, 1e-5, "pain CI hi")
r = g["pain"]["responder_30"]
assert (r["k"], r["n"]) == (3, 5), r
near(r["lo"], 0.230724, 1e-5, "Wilson lo")
near(r["hi"], 0.882379, 1e-5, "Wilson hi")
near(g["sleep"]["change"]["estimate"], 1.4, 1e-9, "sleep mean change")
assert g["pain"]["single_visit"] == 1
PY
grep -q ',out_of_range,' "$out/rejects.csv"
grep -q "pain: '11' is outside" "$out/rejects.csv"
# Patient ids stay out of the shared outputs ("! grep" would be exempt from set -e).
if grep -qw 'P[1-7]' "$out/report.html" "$out/report.md" "$out/summary.json"; then
    echo "a patient id leaked into a shared output"; exit 1
fi
