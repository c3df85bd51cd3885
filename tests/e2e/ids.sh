#!/usr/bin/env bash
# Spreadsheet-mangled ids end to end (pitfalls.md): an id in scientific notation is rejected
# as mangled_patient_id; ids that differ only in leading zeros are counted (on the ids as
# read, so under --pseudonymise too) and the count reaches the terminal, report.md and
# summary.json, in one `run` and through the stages (ingest writes it to quality.csv).
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Hand count: 007, 07 and 7 are one group (3 ids); 42 and 0042 another (2); P07 is text.
cat >"$tmp/v.csv" <<'CSV'
patient_id,visit_date,pain
007,2026-01-05,8
007,2026-02-05,4
7,2026-01-12,6
07,2026-01-19,5
42,2026-01-05,8
0042,2026-03-05,3
P07,2026-01-05,4
1.23457E+11,2026-01-05,4
CSV
fail() { echo "ids.sh: $*"; exit 1; }
"$bin" run --today 2026-06-01 --no-charts --out "$tmp/r" "$tmp/v.csv" >"$tmp/term"
grep -q '^ids       5 differ from another only in leading zeros' "$tmp/term" || fail "terminal: $(cat "$tmp/term")"
grep -q '"ids_differing_only_in_leading_zeros": 5,' "$tmp/r/summary.json" || fail "summary.json"
grep -q '"mangled_patient_id": 1' "$tmp/r/summary.json" || fail "summary.json reject count"
grep -q '^5 patient ids equal another id once leading zeros are dropped' "$tmp/r/report.md" ||
    grep -q '> 5 patient ids equal another id once leading zeros are dropped' "$tmp/r/report.md" ||
    fail "report.md"
grep -q "v.csv,9,1,mangled_patient_id,patient_id: '1.23457E+11' is a number" "$tmp/r/rejects.csv" ||
    fail "rejects.csv: $(cat "$tmp/r/rejects.csv")"
# The stages: ingest counts, quality.csv carries, report reads.
"$bin" ingest -q --today 2026-06-01 --out "$tmp/s" "$tmp/v.csv"
grep -qx 'ids,leading_zeros,,5,,,,' "$tmp/s/quality.csv" || fail "quality.csv: $(cat "$tmp/s/quality.csv")"
"$bin" report -q --no-charts --out "$tmp/s"
grep -q '"ids_differing_only_in_leading_zeros": 5,' "$tmp/s/summary.json" || fail "staged summary.json"
# A quality.csv from before the count (no ids row): unknown, said so, never "none".
grep -v '^ids,' "$tmp/s/quality.csv" >"$tmp/q" && mv "$tmp/q" "$tmp/s/quality.csv"
"$bin" report --no-charts --out "$tmp/s" >"$tmp/term3"
grep -q '^ids       not checked for leading zeros (quality.csv from an earlier version' "$tmp/term3" ||
    fail "old quality.csv, terminal: $(cat "$tmp/term3")"
grep -q '"ids_differing_only_in_leading_zeros": null,' "$tmp/s/summary.json" || fail "old quality.csv, summary.json"
grep -q 'did not check for patient ids that differ only in leading zeros' "$tmp/s/report.md" ||
    fail "old quality.csv, report.md"
# Pseudonyms hide the zeros, so the count must come from the ids as read.
printf 'a-key-for-the-test-0123456789\n' >"$tmp/k"
"$bin" run -q --today 2026-06-01 --no-charts --pseudonymise "$tmp/k" --out "$tmp/p" "$tmp/v.csv"
grep -q '"ids_differing_only_in_leading_zeros": 5,' "$tmp/p/summary.json" || fail "pseudonymised summary.json"
# No such ids: no line, no paragraph, a zero in summary.json.
printf 'patient_id,visit_date,pain\n7,2026-01-05,8\n8,2026-01-05,8\n' >"$tmp/c.csv"
"$bin" run --today 2026-06-01 --no-charts --out "$tmp/c" "$tmp/c.csv" >"$tmp/term2"
if grep -q 'leading zeros' "$tmp/term2" "$tmp/c/report.md"; then fail "a warning without cause"; fi
grep -q '"ids_differing_only_in_leading_zeros": 0,' "$tmp/c/summary.json" || fail "zero count"
echo ok
