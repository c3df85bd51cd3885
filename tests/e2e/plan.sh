#!/usr/bin/env bash
# `outcomes simulate --plan` tallies, per cohort size, exactly the verdicts that `outcomes run`
# gives on the data sets the simulator writes for seeds SEED, SEED+1, ... (the reproduction
# recipe in docs/simulator.md), and the plan file is written atomically.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'id\tsource\tseed\tquote\tinstrument\tstatistic\tparam\tsubgroup\tcomparison\tvalue\tvalue_lo\tvalue_hi\treading\tneeds\n' >"$tmp/claims.tsv"
{
    printf 'S62\ts\tx\tq\tpain\tresponder_share_pct\t30\t\tge\t62\t\t\tr\t\n'
    printf 'M50\ts\tx\tq\tpain\tmedian_pct_improvement\t\t\tge\t50\t\t\tr\t\n'
    printf 'U60\ts\tx\tq\tsleep\tmedian_pct_improvement\t\t\tupto\t60\t\t\tr\t\n'
    printf 'D5\ts\tx\tq\tpain\tmean_pct_improvement\t\tvs=control\tge\t5\t\t\tr\t\n'
} >>"$tmp/claims.tsv"
sim=(--control 0.4 --effect 0.3 --months 6)
: >"$tmp/all_verdicts"
"$bin" simulate --plan "$tmp/claims.tsv" --patients 60,150 --reps 4 --seed 5 "${sim[@]}" \
    -o "$tmp/plan.csv"
[ "$(head -1 "$tmp/plan.csv")" = "patients,claim,part,statistic,reps,supported,contradicted,inconclusive,insufficient_data,not_auditable,share_supported,supported_lo,supported_hi,share_contradicted,contradicted_lo,contradicted_hi,median_estimate" ]
[ "$(wc -l <"$tmp/plan.csv")" -eq $((1 + 2 * 5)) ]   # U60 is two rows: median and reach
# compare PLAN SEED [RUN OPTION]...: for each size, the plan's counts equal the verdicts of
# `run` (with those options) on the data sets of seeds SEED .. SEED+3.
compare() {
    local plan=$1 seed=$2 n r; shift 2
    for n in 60 150; do
        : >"$tmp/verdicts"
        for r in 0 1 2 3; do
            "$bin" simulate --patients "$n" --seed $((seed + r)) "${sim[@]}" -o "$tmp/v.csv"
            "$bin" run --quiet --no-charts "$@" --claims "$tmp/claims.tsv" --out "$tmp/run" "$tmp/v.csv"
            # Quoted fields (a CI method "Welch t, 54.3 df", notes) become one token, so the
            # commas split the columns; the verdict column is found by name.
            awk 'NR == 1 { n = split($0, h, ","); for (i = 1; i <= n; i++) { if (h[i] == "verdict") v = i
                                                                            if (h[i] == "estimate") x = i }
                           next }
                 { gsub(/"([^"]|"")*"/, "Q"); split($0, f, ","); print f[1] "," f[2] "," f[v] "," f[x] }' \
                "$tmp/run/audit.csv" >>"$tmp/verdicts"
        done
        cat "$tmp/verdicts" >>"$tmp/all_verdicts"
        # median_estimate (column 17): the median of the estimates of the data sets the audit
        # decided on; an insufficient data set's estimate (it may have one) is left out.
        awk -F, '$3 ~ /^(supported|contradicted|inconclusive)$/ && $4 != "n/a" && $4 != "" {
                     k = $1 "," $2; e[k, ++m[k]] = $4 + 0 }
                 END { for (k in m) { n = m[k]
                           for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                               if (e[k, j] < e[k, i]) { t = e[k, i]; e[k, i] = e[k, j]; e[k, j] = t }
                           printf "%s,%.6g\n", k, n % 2 ? e[k, (n + 1) / 2] : (e[k, n / 2] + e[k, n / 2 + 1]) / 2 } }' \
            "$tmp/verdicts" | sort >"$tmp/want_med"
        awk -F, -v n="$n" '$1 == n && $17 != "" { printf "%s,%s,%.6g\n", $2, $3, $17 }' "$plan" |
            sort >"$tmp/got_med"
        # audit.csv rounds estimates to 6 significant digits; the plan keeps them whole.
        paste -d, "$tmp/want_med" "$tmp/got_med" | awk -F, '
            { d = $3 - $6; if (d < 0) d = -d; m = $3 < 0 ? -$3 : $3
              if ($1 != $4 || $2 != $5 || d > 1e-4 * (m > 1 ? m : 1)) { print "median: " $0; bad = 1 } }
            END { exit bad }'
        [ "$(wc -l <"$tmp/want_med")" -eq "$(wc -l <"$tmp/got_med")" ]
        cut -d, -f1-3 "$tmp/verdicts" >"$tmp/v3" && mv "$tmp/v3" "$tmp/verdicts"
        # Tally as the plan does, and compare with its counts columns (6-10).
        awk -F, -v n="$n" '{ c[$1 "," $2 "," $3]++; k[$1 "," $2] = 1 }
            END { split("supported contradicted inconclusive insufficient_data not_auditable", vs, " ")
                  for (key in k) { line = n "," key
                                   for (i = 1; i <= 5; i++) line = line "," (c[key "," vs[i]] + 0)
                                   print line } }' "$tmp/verdicts" | sort >"$tmp/want"
        awk -F, -v n="$n" '$1 == n { print $1 "," $2 "," $3 "," $6 "," $7 "," $8 "," $9 "," $10 }' \
            "$plan" | sort >"$tmp/got"
        diff "$tmp/want" "$tmp/got"
    done
}
compare "$tmp/plan.csv" 5
# A study still to start: its window runs past today. The plan reads each data set as on
# the window's last day, as `run --today LAST` does; with today's date the later visits
# would be rejected as in the future and the plan would count too few.
start=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%F)
last=$(date -u -d "$start +6 months -1 day" +%F)
sim=(--control 0.4 --effect 0.3 --months 6 --start "$start")
"$bin" simulate --plan "$tmp/claims.tsv" --patients 60,150 --reps 4 --seed 9 "${sim[@]}" \
    -o "$tmp/future.csv"
compare "$tmp/future.csv" 9 --today "$last"
[ "$(wc -l <"$tmp/run/rejects.csv")" -eq 1 ]    # LAST is the window's last day: nothing rejected
"$bin" run --quiet --no-charts --claims "$tmp/claims.tsv" --out "$tmp/run" "$tmp/v.csv"
grep -q future_date "$tmp/run/rejects.csv"      # ... and without it the data do lose visits
# Some insufficient data set had an estimate, or the median check above could not fail.
grep -Eq ',insufficient_data,[-0-9.]+$' "$tmp/all_verdicts"
# The claims must not all have the same verdict in every data set, or the comparison above
# would pass with the seeds mixed up.
[ "$(cut -d, -f6-10 "$tmp/plan.csv" | sort -u | wc -l)" -gt 3 ]
# A comparison names its arms: with the simulator's default names the claim's 'usual care'
# arm is empty (not auditable in every data set); --arms names them as the claim does.
{ head -1 "$tmp/claims.tsv"
  printf 'G\ts\tx\tq\tpain\tmean_pct_improvement\t\tvs=usual care\tge\t0\t\t\tr\t\n'; } >"$tmp/uc.tsv"
"$bin" simulate --plan "$tmp/uc.tsv" --patients 80 --reps 3 --control 0.5 >"$tmp/uc0.csv"
[ "$(cut -d, -f10 "$tmp/uc0.csv" | tail -1)" = 3 ]
"$bin" simulate --plan "$tmp/uc.tsv" --patients 80 --reps 3 --control 0.5 \
    --arms 'acupuncture,usual care' >"$tmp/uc1.csv"
[ "$(cut -d, -f10 "$tmp/uc1.csv" | tail -1)" = 0 ]
[ "$(tail -1 "$tmp/uc1.csv" | awk -F, '{ print $6 + $7 + $8 }')" = 3 ]
# A failing plan (a registry that does not load) leaves the previous file in place.
cp "$tmp/plan.csv" "$tmp/before.csv"
printf 'not a registry\n' >"$tmp/bad.tsv"
if "$bin" simulate --plan "$tmp/bad.tsv" -o "$tmp/plan.csv" 2>"$tmp/err"; then exit 1; fi
cmp "$tmp/plan.csv" "$tmp/before.csv"
grep -q "bad.tsv" "$tmp/err"
