#!/usr/bin/env bash
# Progress on stderr: silent when stderr is not a terminal (cron, pipes, files) and under
# --quiet; on a terminal (faked with util-linux `script`), a run of more than a second shows
# the ingest line ("ingest: 42% 3.1M rows 85 MB/s"), the stage names and "done in"; simulate
# --plan shows its data-set count the same way, and never in a table written to the terminal.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" simulate --patients 1500 --seed 3 --start 2024-01-01 --months 12 -o "$tmp/v.csv"

# Not a terminal: stderr stays empty (stdout still gets the summary).
"$bin" run --today 2026-11-23 --no-charts --claims samples/claims.tsv --out "$tmp/a" \
    "$tmp/v.csv" >"$tmp/a.out" 2>"$tmp/a.err"
[ ! -s "$tmp/a.err" ] || { echo "stderr not empty without a terminal:"; cat "$tmp/a.err"; exit 1; }
[ -s "$tmp/a.out" ] || { echo "no summary on stdout"; exit 1; }
"$bin" ingest --today 2026-11-23 --out "$tmp/b" "$tmp/v.csv" >/dev/null 2>"$tmp/b.err"
"$bin" patients --today 2026-11-23 --out "$tmp/b" >/dev/null 2>>"$tmp/b.err"
[ ! -s "$tmp/b.err" ] || { echo "stage commands wrote to stderr:"; cat "$tmp/b.err"; exit 1; }

# A terminal, faked: only when `script` is there.
command -v script >/dev/null || { echo "no script(1): terminal case skipped"; exit 0; }
quote() { printf '%q ' "$@"; }
# --quiet on a terminal: nothing at all on it (stdout to a file, stderr on the terminal).
script -qec "$(quote "$bin" ingest --quiet --today 2026-11-23 --out "$tmp/q" "$tmp/v.csv") >/dev/null" /dev/null >"$tmp/q.tty"
[ ! -s "$tmp/q.tty" ] || { echo "--quiet printed on the terminal:"; cat -v "$tmp/q.tty"; exit 1; }
# stderr on the terminal, stdout to a file.
start=$(date +%s%N)
script -qec "$(quote "$bin" run --today 2026-11-23 --no-charts --out "$tmp/t" "$tmp/v.csv") >/dev/null" /dev/null >"$tmp/t.tty"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
# Identical outputs with and without the terminal.
cmp "$tmp/a/patients.csv" "$tmp/t/patients.csv"
if [ "$ms" -ge 2000 ]; then
    # Long enough that the one-second grace has passed before the report stage.
    grep -q 'stage: report' "$tmp/t.tty" || { echo "no stage line on a terminal:"; cat -v "$tmp/t.tty"; exit 1; }
    grep -q 'done in [0-9.]* s' "$tmp/t.tty" || { echo "no final line:"; cat -v "$tmp/t.tty"; exit 1; }
else
    echo "run took ${ms} ms: too quick to expect progress (terminal case not checked)"
fi

# simulate --plan: the same rules. Not a terminal: nothing on stderr.
plan=(simulate --plan samples/claims.tsv --patients 300 --reps 100)
"$bin" "${plan[@]}" -o "$tmp/p.csv" 2>"$tmp/p.err"
[ ! -s "$tmp/p.err" ] || { echo "plan wrote to stderr without a terminal:"; cat "$tmp/p.err"; exit 1; }
# The table on the terminal itself: no progress line in it.
script -qec "$(quote "$bin" "${plan[@]}")" /dev/null >"$tmp/pt.tty"
! grep -q 'plan:' "$tmp/pt.tty" || { echo "progress mixed into the table on the terminal"; exit 1; }
grep -q '^300,E01a,' "$tmp/pt.tty"
# The table to a file, stderr on the terminal: the line, ending at 100%, and the same table.
start=$(date +%s%N)
script -qec "$(quote "$bin" "${plan[@]}" -o "$tmp/pf.csv")" /dev/null >"$tmp/pf.tty"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cmp "$tmp/p.csv" "$tmp/pf.csv"
if [ "$ms" -ge 1500 ]; then
    grep -q 'plan: 300 patients (size 1 of 1), data set 100 of 100, 100%' "$tmp/pf.tty" ||
        { echo "no plan progress on a terminal:"; cat -v "$tmp/pf.tty"; exit 1; }
    # The table to the terminal by name: no progress line in it either (it showed above,
    # so its absence here is the rule, not a quick run).
    for dev in /dev/stdout /dev/tty; do
        script -qec "$(quote "$bin" "${plan[@]}" -o "$dev")" /dev/null >"$tmp/pd.tty"
        grep -q '^300,E01a,' "$tmp/pd.tty" || { echo "-o $dev: no table"; cat -v "$tmp/pd.tty"; exit 1; }
        ! grep -q 'plan:' "$tmp/pd.tty" ||
            { echo "-o $dev: progress mixed into the table on the terminal"; exit 1; }
    done
else
    echo "plan took ${ms} ms: too quick to expect progress (terminal case not checked)"
fi
