#!/usr/bin/env bash
# Progress on stderr: silent when stderr is not a terminal (cron, pipes, files) and under
# --quiet; on a terminal (faked with util-linux `script`), a run of more than a second shows
# the ingest line ("ingest: 42% 3.1M rows 85 MB/s"), the stage names and "done in".
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
