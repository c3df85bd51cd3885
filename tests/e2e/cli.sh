#!/usr/bin/env bash
# CLI conventions: --help/--version on stdout with status 0, documented exit codes, errors on
# stderr as file:line: message, nothing but results on stdout.
set -u
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() {   # expect STATUS CMD... ; leaves stdout/stderr in $tmp/out $tmp/err
    local want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    [ "$got" -eq "$want" ] || { cat "$tmp/err"; fail "'$*' exited $got, want $want"; }
}
expect 0 "$bin" --help;        grep -q '^usage: outcomes' "$tmp/out" || fail "--help"
grep -q 'exit codes' "$tmp/out" || fail "--help lacks exit codes"
expect 0 "$bin" --version;     grep -qE '^outcomes [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "--version"
for c in run ingest patients cohort audit charts report; do
    expect 0 "$bin" "$c" --help; grep -q "^usage: outcomes $c" "$tmp/out" || fail "$c --help"
done
expect 0 "$bin" simulate --help
expect 2 "$bin"
expect 2 "$bin" frobnicate;    grep -q "unknown command 'frobnicate'" "$tmp/err" || fail "unknown command message"
expect 2 "$bin" run;           grep -q 'no input files' "$tmp/err" || fail "no files message"
expect 2 "$bin" run --bogus x.csv
expect 2 "$bin" run --min-cell zero x.csv
expect 2 "$bin" run --today 2026-02-30 x.csv
expect 2 "$bin" audit --out "$tmp/o"
expect 2 "$bin" run --seed "" x.csv;  grep -q -- "--seed" "$tmp/err" || fail "empty --seed accepted"
expect 2 "$bin" run --seed " 5" x.csv
expect 2 "$bin" run --seed +5 x.csv
# A --by the data cannot give is a usage error naming what they can, and leaves the last
# good outputs in place; the defaults (clinic, sex, arm) may be absent without a word.
printf 'patient_id,visit_date,clinic,pain\nA,2026-01-01,North,8\nA,2026-01-08,North,4\n' >"$tmp/by.csv"
expect 0 "$bin" run -q --no-charts --today 2026-02-01 --out "$tmp/by" "$tmp/by.csv"
cp "$tmp/by/patients.csv" "$tmp/by_before.csv"
printf 'patient_id,visit_date,clinic,pain\nA,2026-01-01,North,8\nA,2026-01-08,North,6\n' >"$tmp/by2.csv"
expect 2 "$bin" run -q --no-charts --today 2026-02-01 --by clnic --out "$tmp/by" "$tmp/by2.csv"
grep -q "^outcomes: --by clnic: the input has no 'clnic' column (covariates: clinic;" "$tmp/err" ||
    { cat "$tmp/err"; fail "--by clnic message"; }
cmp -s "$tmp/by/patients.csv" "$tmp/by_before.csv" || fail "a --by typo replaced patients.csv"
expect 2 "$bin" cohort -q --by sex --out "$tmp/by"
grep -q -- "--by sex: the input has no 'sex' column" "$tmp/err" || fail "cohort --by sex"
expect 2 "$bin" run -q --no-charts --today 2026-02-01 --by age_band --out "$tmp/by" "$tmp/by.csv"
grep -q -- "--by age_band: the input has no 'age' column" "$tmp/err" || fail "--by age_band"
expect 0 "$bin" run -q --no-charts --today 2026-02-01 --by baseline_band --by clinic --out "$tmp/by" "$tmp/by.csv"
# Missing file: I/O failure, named.
expect 4 "$bin" run -q --out "$tmp/o" "$tmp/nope.csv"
grep -q "nope.csv" "$tmp/err" || fail "missing file not named"
[ -s "$tmp/out" ] && fail "stdout not empty on error"
# File-level input problem: exit 3, file and line in the message.
printf 'patient_id,visit_date,pain\nA,2026-01-01,5\nB,"2026-01-02,6\n' >"$tmp/unterminated.csv"
expect 3 "$bin" run -q --no-charts --out "$tmp/o" "$tmp/unterminated.csv"
grep -qE 'unterminated.csv:[0-9]+' "$tmp/err" || { cat "$tmp/err"; fail "no file:line"; }
printf 'patient_id,pain\nA,5\n' >"$tmp/nodate.csv"
expect 3 "$bin" run -q --no-charts --out "$tmp/o" "$tmp/nodate.csv"
grep -q 'visit_date' "$tmp/err" || fail "missing column not named"
# A rename whose source is missing names the source; one source given two meanings is a
# usage error (the second silently replaced the first).
printf 'patient_id,when,pain,x\nA,2026-01-01,5,3\n' >"$tmp/when.csv"
expect 3 "$bin" run -q --no-charts --column visit_date=nope --out "$tmp/o" "$tmp/when.csv"
grep -q "missing column 'nope' (renamed to visit_date" "$tmp/err" || { cat "$tmp/err"; fail "rename source not named"; }
# A config file and --column each rename a different missing source to visit_date: both named.
printf 'column = visit_date=seen_on\n' >"$tmp/ren.conf"
expect 3 "$bin" run -q --no-charts --config "$tmp/ren.conf" --column visit_date=nope --out "$tmp/o" "$tmp/when.csv"
grep -q "missing column 'seen_on' or 'nope' (renamed to visit_date" "$tmp/err" || { cat "$tmp/err"; fail "second rename source not named"; }
expect 2 "$bin" run -q --no-charts --column sleep=x --column stress=x --out "$tmp/o" "$tmp/when.csv"
grep -q "'sleep=x' and 'stress=x' both rename column 'x'" "$tmp/err" || { cat "$tmp/err"; fail "double rename"; }
expect 0 "$bin" run -q --no-charts --today 2026-11-23 --column visit_date=when --column sleep=x --column SLEEP=X --out "$tmp/o" "$tmp/when.csv"
# --strict: a rejected row fails the run with exit 3, and rejects.csv says why.
printf 'patient_id,visit_date,pain\nA,2026-01-01,5\nA,2026-01-08,11\nA,2026-01-15,3\n' >"$tmp/bad.csv"
expect 0 "$bin" run -q --no-charts --today 2026-11-23 --out "$tmp/o1" "$tmp/bad.csv"
expect 3 "$bin" run -q --no-charts --strict --today 2026-11-23 --out "$tmp/o2" "$tmp/bad.csv"
grep -q "bad.csv:3" "$tmp/err" || { cat "$tmp/err"; fail "strict error lacks file:line"; }
grep -q "out_of_range" "$tmp/o2/rejects.csv" || fail "strict run lost rejects.csv"
# A file-level error (a NUL byte on line 3) fails the run with exit 3 and leaves the last
# good run's outputs as they were, rejects.csv included (it was replaced by a partial one).
printf 'patient_id,visit_date,pain\nA,2026-01-01,5\nB,2026-01-0\0008,4\n' >"$tmp/nul.csv"
for cmd in run ingest; do
    expect 0 "$bin" $cmd -q --today 2026-11-23 --no-charts --out "$tmp/o5$cmd" "$tmp/bad.csv"
    cp -r "$tmp/o5$cmd" "$tmp/o5$cmd.before"
    expect 3 "$bin" $cmd -q --today 2026-11-23 --no-charts --out "$tmp/o5$cmd" "$tmp/nul.csv"
    grep -q "nul.csv:3" "$tmp/err" || { cat "$tmp/err"; fail "$cmd: NUL error lacks file:line"; }
    diff -r "$tmp/o5$cmd.before" "$tmp/o5$cmd" >/dev/null ||
        fail "$cmd: a file-level error changed the last good outputs"
    # Under --strict as well: a rejected row (line 3) then a file-level error (line 4) is
    # the file-level error, and rejects.csv stays too.
    printf 'patient_id,visit_date,pain\nA,2026-01-01,5\nA,2026-01-08,11\nA,2026-01-15,"3\n' >"$tmp/sq.csv"
    expect 3 "$bin" $cmd -q --strict --today 2026-11-23 --no-charts --out "$tmp/o5$cmd" "$tmp/sq.csv"
    grep -q "sq.csv:4: unterminated" "$tmp/err" || { cat "$tmp/err"; fail "$cmd: no quoting error"; }
    diff -r "$tmp/o5$cmd.before" "$tmp/o5$cmd" >/dev/null ||
        fail "$cmd --strict: a file-level error changed the last good outputs"
done
# A registry or benchmarks file in error (exit 3) is found before any output is replaced: a
# run on other data with a header-only registry, or a bad benchmarks file, changes nothing.
expect 0 "$bin" run -q --today 2026-11-23 --no-charts --claims samples/claims.tsv --out "$tmp/o6" "$tmp/bad.csv"
cp -r "$tmp/o6" "$tmp/o6.before"
head -1 samples/claims.tsv >"$tmp/hdr.tsv"
expect 3 "$bin" run -q --today 2026-11-23 --no-charts --claims "$tmp/hdr.tsv" --out "$tmp/o6" "$tmp/when.csv"
grep -q "hdr.tsv: no claims" "$tmp/err" || { cat "$tmp/err"; fail "header-only registry not refused"; }
printf 'not a benchmarks file\n' >"$tmp/bench.tsv"
expect 3 "$bin" run -q --today 2026-11-23 --no-charts --claims samples/claims.tsv --benchmarks "$tmp/bench.tsv" --out "$tmp/o6" "$tmp/when.csv"
diff -r "$tmp/o6.before" "$tmp/o6" >/dev/null || fail "a registry error changed the last good outputs"
# Without gnuplot on PATH the numbers still land, the run says why and exits 4.
mkdir "$tmp/emptypath"
PATH="$tmp/emptypath" expect 4 "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" run -q --out "$tmp/o3" "$tmp/bad.csv" --today 2026-11-23
grep -q 'gnuplot' "$tmp/err" || fail "gnuplot failure not reported"
[ -s "$tmp/o3/report.html" ] || fail "report not written when charts failed"
# --timings: one line per stage on stderr (stdout unchanged), stages in order, and a total.
expect 0 "$bin" run -q --timings --no-charts --out "$tmp/o4" samples/visits.csv --today 2026-11-23
[ -s "$tmp/out" ] && fail "--timings wrote to stdout"
got=$(sed -n 's/^timing: \([a-z.]*\) .*/\1/p' "$tmp/err" | tr '\n' ' ')
[ "$got" = "ingest patients cohort patients.csv report total writer " ] || fail "--timings stages: '$got'"
[ "$(grep -c '^timing:' "$tmp/err")" = 7 ] || fail "--timings: a line not matched"
grep -qE '^timing: total +[0-9]+\.[0-9]{3} s$' "$tmp/err" || fail "--timings total line"
# The patients.csv thread's own time (its stage line is only the wait for it), within the
# run's total.
grep -qE '^timing: writer +[0-9]+\.[0-9]{3} s +cpu +[0-9]+\.[0-9]{3} s +patients\.csv on its own thread' "$tmp/err" ||
    fail "--timings writer line"
awk '$2 == "total" {t = $3} $2 == "writer" {w = $3} END {exit !(w > 0 && w <= t)}' "$tmp/err" ||
    fail "--timings: writer time not within the total"
# Each stage's line ends with the peak memory so far, which never falls from stage to stage.
peaks=$(sed -nE 's/^timing: [a-z.]+ +[0-9.]+ s +peak +([0-9]+) MiB$/\1/p' "$tmp/err")
[ "$(wc -l <<<"$peaks")" = 5 ] || fail "--timings: peak memory missing on a stage line"
sort -n -c <<<"$peaks" || fail "--timings: peak memory fell between stages"
# patients.csv is written on a second thread: its failure still fails the run (exit 4),
# names the file, and leaves no report claiming success.
mkdir -p "$tmp/o5/patients.csv"
expect 4 "$bin" run -q --no-charts --out "$tmp/o5" samples/visits.csv --today 2026-11-23
grep -q 'patients.csv' "$tmp/err" || { cat "$tmp/err"; fail "patients.csv failure not named"; }
[ -e "$tmp/o5/report.html" ] && fail "report written although patients.csv failed"
# Outputs follow the umask, also those written while patients.csv is written on a second
# thread (reading the umask means setting it: two threads doing so could leave it at 0).
(umask 027 && "$bin" run -q --out "$tmp/o6" samples/visits.csv --today 2026-11-23 --claims samples/claims.tsv) \
    >/dev/null 2>&1 || fail "run under umask 027"
bad=$(find "$tmp/o6" -type f ! -perm 640 | head -3)
[ -z "$bad" ] || fail "files not 0640 under umask 027: $bad"
echo ok
