#!/usr/bin/env bash
# Two visits on one day are put in order by their session numbers. When one of them has
# none there is no order, and the baseline could be either: patient A below, 8 at session 1
# and 2 unnumbered on 2025-01-01, then 4 a month later, was once read 2 -> 4, -100%. The
# second of the pair is rejected instead (duplicate_conflict, naming the first, as for
# any duplicate: the first is kept), so A is 8 -> 4, 50% better. Checked in both directions (unnumbered first or second), streamed
# and whole-table, shuffled, and for a patient with more visits than the streaming scan
# holds (the duplicate table's path).
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

printf '%s\n' 'patient_id,visit_date,session,pain' \
    'A,2025-01-01,1,8' 'A,2025-01-01,,2' 'A,2025-02-01,2,4' \
    'B,2025-01-01,,2' 'B,2025-01-01,1,8' 'B,2025-02-01,2,4' \
    'C,2025-01-01,1,8' 'C,2025-01-01,2,7' 'C,2025-02-01,3,4' >"$out/v.csv"
# D: 40 numbered visits, then an unnumbered one on the day of session 35.
{
    echo 'patient_id,visit_date,session,pain'
    for i in $(seq 1 40); do printf 'D,2025-%02d-%02d,%d,%d\n' $(( (i - 1) / 28 + 3 )) $(( (i - 1) % 28 + 1 )) "$i" $(( i < 40 ? 8 : 4 )); done
    echo 'D,2025-04-07,,1'
} >"$out/d.csv"
(head -1 "$out/v.csv"; tail -n +2 "$out/v.csv" | sort -r) >"$out/shuffled.csv"

check() {   # dir, file name as written in rejects.csv
    local o=$1 f=$2
    python3 - "$o" "$f" <<'PY'
import csv, json, sys
o, f = sys.argv[1], sys.argv[2]
rej = list(csv.DictReader(open(f"{o}/rejects.csv")))
pats = {r["patient_id"]: r for r in csv.DictReader(open(f"{o}/patients.csv"))
        if r["instrument"] == "pain"}
s = json.load(open(f"{o}/summary.json"))
assert s["rows"]["read"] == s["rows"]["accepted"] + s["rows"]["rejected"], s["rows"]
if f.endswith("/d.csv"):
    assert len(rej) == 1 and rej[0]["reason"] == "duplicate_conflict", rej
    assert "this one has no session number" in rej[0]["message"], rej[0]
    assert pats["D"]["final"] == "4" and pats["D"]["baseline"] == "8", pats["D"]
    sys.exit(0)
# Of each same-day pair (A and B), the one earlier in the file is kept and the other
# rejected with the reason; C's pair is numbered, so both are kept and ordered.
rows = list(csv.DictReader(open(f)))
assert len(rej) == 2, rej
for p in "AB":
    pair = [r for r in rows if r["patient_id"] == p and r["visit_date"] == "2025-01-01"]
    kept, dropped = pair[0], pair[1]
    r = next(x for x in rej if x["raw"].startswith(p + ","))
    assert r["reason"] == "duplicate_conflict", r
    assert ("this one" if dropped["session"] == "" else "that row") in r["message"], r
    assert r["raw"] == ",".join(dropped.values()), (r, dropped)
    assert pats[p]["baseline"] == kept["pain"] and pats[p]["final"] == "4", (pats[p], kept)
assert pats["C"]["baseline"] == "8" and pats["C"]["final"] == "4", pats["C"]
assert pats["C"]["n_visits"] == "3", pats["C"]
PY
}
for mode in "" --no-stream; do
    for f in v.csv shuffled.csv d.csv; do
        rm -rf "$out/o"
        "$bin" run --quiet --today 2026-01-01 --no-charts $mode --out "$out/o" "$out/$f"
        check "$out/o" "$out/$f" || { echo "failed: $f $mode"; exit 1; }
    done
done
