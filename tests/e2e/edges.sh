#!/usr/bin/env bash
# Edge cases a review found printing numbers that were not there: Kaplan-Meier quantiles
# of a group nobody could be followed in, a Hodges-Lehmann interval below the asked level
# labelled as if at it, and a --new-episode-after that wrapped around.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "edges.sh: $*"; exit 1; }

# Two single-visit patients: no time to response at all, so the quartiles are empty cells,
# not 0 (0 to 0).
printf 'patient_id,visit_date,session,pain\nA,2025-01-01,1,6\nB,2025-01-01,1,7\n' >"$tmp/one.csv"
"$bin" run -q --today 2026-01-01 --no-charts --out "$tmp/o" "$tmp/one.csv"
grep -q '^pain,,,sessions_to_response_median,0,,,,' "$tmp/o/cohort.csv" ||
    fail "KM median: $(grep sessions_to_response_median "$tmp/o/cohort.csv")"

# Two changes (A 6 -> 3: +3, B 0 -> 2: -2). The exact signed-rank interval from two
# differences is [min, max] of the Walsh averages, at level 1 - 2 P(V = 0) = 1 - 2/4 = 50%.
printf 'patient_id,visit_date,session,pain\nA,2025-01-01,1,6\nA,2025-02-01,2,3\nB,2025-01-01,1,0\nB,2025-02-01,2,2\n' >"$tmp/two.csv"
"$bin" run -q --today 2026-01-01 --no-charts --out "$tmp/t" "$tmp/two.csv"
grep '^pain,,,change_hodges_lehmann,' "$tmp/t/cohort.csv" |
    grep -q 'interval at 50%, as the 95% level is not attainable' ||
    fail "HL level: $(grep change_hodges_lehmann "$tmp/t/cohort.csv")"
grep -q '| 0.50 (50% CI -2.00 to 3.00; 95% not attainable) |' "$tmp/t/report.md" ||
    fail "HL level in report.md: $(grep -i 'not attainable' "$tmp/t/report.md")"

# 4294967297 days would wrap to 1 in an int: refused as a usage error (exit 2).
rc=0
"$bin" run -q --today 2026-01-01 --no-charts --new-episode-after 4294967297 --out "$tmp/e" \
    "$tmp/two.csv" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "--new-episode-after 4294967297: exit $rc"
grep -q "is not a number of days" "$tmp/err" || fail "message: $(cat "$tmp/err")"
echo ok
