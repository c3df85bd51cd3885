#!/usr/bin/env bash
# Privacy and escaping end to end: --pseudonymise replaces ids with keyed, stable pseudonyms;
# ids never reach report.html/report.md/summary.json; a clinic named <script> stays text in
# HTML; a clinic named =HYPERLINK(...) is neutralised in the CSV outputs.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
    echo 'patient_id,visit_date,clinic,pain'
    for i in 1 2 3 4 5 6; do
        c='<script>alert(1)</script>'; [ $((i % 2)) -eq 0 ] && c='"=HYPERLINK(""http://x"")"'
        echo "ID-SECRET-$i,2026-01-0$i,$c,$((3 + i))"
        echo "ID-SECRET-$i,2026-02-0$i,$c,$((1 + i))"
    done
} >"$tmp/v.csv"
printf 'first-key-0123456789abcdef\n' >"$tmp/k1"
printf 'second-key-0123456789abcdef\n' >"$tmp/k2"
run() { "$bin" run -q --today 2026-11-23 --min-cell 1 --by clinic --pseudonymise "$1" --out "$2" "$tmp/v.csv"; }
run "$tmp/k1" "$tmp/a"
run "$tmp/k1" "$tmp/b"
run "$tmp/k2" "$tmp/c"
if grep -rq 'ID-SECRET' "$tmp/a"/patients.csv "$tmp/a"/report.* "$tmp/a"/summary.json "$tmp/a"/cohort.csv; then
    echo "an id survived pseudonymisation"; exit 1
fi
cmp "$tmp/a/patients.csv" "$tmp/b/patients.csv"          # same key: same pseudonyms
if cmp -s "$tmp/a/patients.csv" "$tmp/c/patients.csv"; then echo "key did not matter"; exit 1; fi
grep -qE '^p[0-9a-f]{20},' "$tmp/a/patients.csv"
# HTML: the clinic name is text, not markup.
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$tmp/a/report.html"
if grep -q '<script>' "$tmp/a/report.html"; then echo "raw <script> in report.html"; exit 1; fi
# CSV: a formula-like clinic name gets the ' prefix in cohort.csv and patients.csv.
grep -q "\"'=HYPERLINK" "$tmp/a/cohort.csv"
grep -q "\"'=HYPERLINK" "$tmp/a/patients.csv"
