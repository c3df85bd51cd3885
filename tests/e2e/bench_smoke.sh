#!/usr/bin/env bash
# `make bench` keeps working: scripts/bench on its smallest size (5,000 simulated patients)
# must measure every step on sorted and shuffled input, take the in-run stage times from
# `run --timings` (a renamed or reformatted timing line would leave them empty), and print
# the targets. The figures themselves are not checked: a benchmark, not a timed test.
set -eu
cd "$(dirname "$0")/../.."
[ -x /usr/bin/time ] || { echo "needs GNU time (scripts/install-deps --test installs it)"; exit 1; }
make -s build/outcomes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BENCH_DIR="$tmp" scripts/bench smoke >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
fail() { echo "bench_smoke: $*"; cat "$tmp/log"; exit 1; }
num='[0-9]+\.[0-9]+'
rows=$(( $(wc -l <"$tmp/visits-smoke-core-sorted.csv") - 1 ))
[ "$rows" -gt 10000 ] || fail "only $rows rows simulated"
for order in sorted shuffled; do
    for step in csvparse ingest patients ingest+patients run; do
        grep -Eq "^smoke +$order +$(sed 's/+/\\+/' <<<"$step") +$num +$num +$num +[0-9]+ +$num\$" "$tmp/log" ||
            fail "no $order $step line"
    done
    l=$(grep -E "^smoke +$order +run:ingest\+pat " "$tmp/log") || fail "no $order run:ingest+pat line"
    # The in-run figure is ingest (+ reingest) + patients from the timing lines: not 0.
    w=$(awk '{print $4}' <<<"$l")
    awk -v w="$w" 'BEGIN{exit !(w > 0)}' || fail "$order run:ingest+pat wall is $w"
    grep -q "ingest [0-9.]*  .*total [0-9.]*" <<<"$l" || fail "$order: no --timings stages"
    grep -Eq "^  smoke $order +ingest\+patients / libcsv parse-only = ($num|n/a) inside run" "$tmp/log" ||
        fail "no $order ratio line"
    grep -Eq "^  smoke $order +run peak memory $num MiB for 5000 patients" "$tmp/log" ||
        fail "no $order memory line"
done
# Shuffled input is read twice inside run (a streaming try, then the whole table).
grep -E "^smoke +shuffled +run:ingest\+pat " "$tmp/log" | grep -q "reingest" || fail "no reingest"
