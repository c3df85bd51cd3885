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

# Reading visits.csv back refuses a row rather than drop it from every figure while
# quality.csv still counts it: a later --today (rows after it are future dates now), and a
# row an older version accepted (an id in scientific notation).
r="$tmp/reread"
printf 'patient_id,visit_date,pain\nA,2026-01-05,8\nA,2026-03-05,4\nB,2026-01-06,7\nB,2026-02-06,5\n' >"$tmp/rr.csv"
"$bin" ingest --quiet --today 2026-06-01 --out "$r" "$tmp/rr.csv"
set +e
"$bin" report --quiet --no-charts --today 2026-02-01 --out "$r" 2>"$tmp/rr.err"; rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "report with an earlier --today: exit $rc, want 3"; exit 1; }
grep -q "visits.csv:3:2: visit_date.*refused on reading it back" "$tmp/rr.err" || { cat "$tmp/rr.err"; exit 1; }
[ ! -e "$r/summary.json" ] || { echo "a report was written"; exit 1; }
"$bin" report --quiet --no-charts --today 2026-06-01 --out "$r"
grep -q '"read": 4, "accepted": 4, "rejected": 0' "$r/summary.json"
sed -i 's/^B,/1.23457E+11,/' "$r/visits.csv"
set +e
"$bin" patients --quiet --out "$r" 2>"$tmp/rr.err"; rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "patients on an old visits.csv: exit $rc, want 3"; exit 1; }
grep -q "visits.csv:4:1: patient_id: '1.23457E+11'.*refused on reading it back" "$tmp/rr.err" || { cat "$tmp/rr.err"; exit 1; }

# A file name that a spreadsheet would read as a formula is prefixed with ' in quality.csv
# and comes back without it: the staged report names the file as `run` does.
cp "$tmp/rr.csv" "$tmp/+v.csv"
abs=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
(cd "$tmp" && "$abs" run --quiet --no-charts --today 2026-06-01 --out pr +v.csv &&
    "$abs" ingest --quiet --today 2026-06-01 --out ps +v.csv &&
    "$abs" report --quiet --no-charts --today 2026-06-01 --out ps)
grep -q "'+v.csv" "$tmp/ps/quality.csv" || { echo "quality.csv: no ' prefix"; exit 1; }
grep -q '"path": "+v.csv"' "$tmp/pr/summary.json" || { echo "run: path"; exit 1; }
grep -q '"path": "+v.csv"' "$tmp/ps/summary.json" || { grep path "$tmp/ps/summary.json"; echo "staged: path"; exit 1; }

# A row near ingest's 1 MiB record limit grows in visits.csv (session, adverse_event and
# baseline columns, quoting): the later stages still read it, as `run` does.
python3 -c "
import sys
sys.stdout.write('patient_id,visit_date,pain,clinic\n')
sys.stdout.write('A,2026-01-05,8,' + 'x' * 1048559 + '\n')
sys.stdout.write('A,2026-03-05,4,\nB,2026-01-06,7,n\nB,2026-02-06,5,n\n')
" >"$tmp/wide_cell.csv"
"$bin" ingest --quiet --today 2026-06-01 --out "$tmp/big" "$tmp/wide_cell.csv"
[ "$(head -2 "$tmp/big/visits.csv" | tail -1 | wc -c)" -gt 1048576 ] || { echo "visits.csv row did not grow"; exit 1; }
"$bin" patients --quiet --out "$tmp/big"
