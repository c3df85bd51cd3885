#!/usr/bin/env bash
# Input grouped by patient is streamed (the visit table is not kept); input that is not is
# read a second time the plain way. Either way every output must be what --no-stream gives,
# byte for byte, rejects included (generation time and output directory aside).
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" simulate --patients 1500 --seed 11 --dirty 0.03 --tricky 0.05 --control 0.3 \
    -o "$tmp/sorted.csv"
"$bin" simulate --patients 1500 --seed 11 --dirty 0.03 --order shuffled -o "$tmp/shuffled.csv"

same_outputs() {   # dir1 dir2 (the command line, with its options, is not compared)
    local f
    for f in $(cd "$1" && find . -type f ! -name '*.png' ! -name '*.svg' | sort); do
        cmp -s <(sed -e "/ommand/d; s#[0-9-]*T[0-9:]*Z#TS#g" "$1/$f") \
               <(sed -e "/ommand/d; s#[0-9-]*T[0-9:]*Z#TS#g" "$2/$f") ||
            { echo "differs: $f"; return 1; }
    done
    [ "$(cd "$1" && find . -type f | wc -l)" = "$(cd "$2" && find . -type f | wc -l)" ]
}

for input in sorted shuffled; do
    common=(--today 2026-11-23 --claims samples/claims.tsv --by clinic)
    # Only the sorted file has arms (--control), and a --by the input cannot give is an error.
    [ "$input" = sorted ] && common+=(--by arm)
    "$bin" run -q --timings "${common[@]}" --out "$tmp/$input-s" "$tmp/$input.csv" 2>"$tmp/t"
    "$bin" run -q --no-stream "${common[@]}" --out "$tmp/$input-n" "$tmp/$input.csv"
    same_outputs "$tmp/$input-s" "$tmp/$input-n"
    # The sorted file streams in one read; the shuffled one is found out and read again.
    if [ $input = sorted ]; then
        ! grep -q "reingest" "$tmp/t"
    else
        grep -q "reingest" "$tmp/t"
    fi
done

# A file whose last row comes back to the first patient: streamed until then, then read
# again; the row is a duplicate and must be rejected as one, as without streaming.
{ cat "$tmp/sorted.csv"; sed -n 2p "$tmp/sorted.csv"; } > "$tmp/late.csv"
"$bin" run -q --timings --no-charts --today 2026-11-23 --out "$tmp/late-s" "$tmp/late.csv" \
    2>"$tmp/t"
grep -q "reingest" "$tmp/t"
"$bin" run -q --no-charts --no-stream --today 2026-11-23 --out "$tmp/late-n" "$tmp/late.csv"
same_outputs "$tmp/late-s" "$tmp/late-n"
grep -q "duplicate_exact" "$tmp/late-s/rejects.csv"
lines=$(wc -l < "$tmp/late.csv")
tail -n 1 "$tmp/late-s/rejects.csv" | grep -q "late.csv,$lines,"

# --strict stops on the first rejected row, streamed or not, with the same message.
set +e
"$bin" run -q --strict --no-charts --today 2026-11-23 --out "$tmp/st-s" "$tmp/sorted.csv" 2>"$tmp/e1"
r1=$?
"$bin" run -q --strict --no-charts --no-stream --today 2026-11-23 --out "$tmp/st-n" \
    "$tmp/sorted.csv" 2>"$tmp/e2"
r2=$?
set -e
[ $r1 = 3 ] && [ $r2 = 3 ]
cmp "$tmp/e1" "$tmp/e2"

# The later stages read visits.csv back the same way: streamed when it is in patient order
# (as ingest writes a grouped input), read again when not, and patients.csv is what
# --no-stream gives either way.
for input in sorted shuffled; do
    "$bin" ingest -q --today 2026-11-23 --out "$tmp/stage-$input" "$tmp/$input.csv"
    cp -r "$tmp/stage-$input" "$tmp/stage-$input-n"
    "$bin" patients -q --timings --out "$tmp/stage-$input" 2>"$tmp/t"
    "$bin" patients -q --no-stream --out "$tmp/stage-$input-n"
    cmp "$tmp/stage-$input/patients.csv" "$tmp/stage-$input-n/patients.csv"
    if [ $input = sorted ]; then
        ! grep -q "reingest" "$tmp/t"
    else
        grep -q "reingest" "$tmp/t"
    fi
    # audit and charts also compute the patients (and the visit digest) from visits.csv.
    "$bin" audit -q --claims samples/claims.tsv --out "$tmp/stage-$input"
    "$bin" audit -q --no-stream --claims samples/claims.tsv --out "$tmp/stage-$input-n"
    cmp "$tmp/stage-$input/audit.csv" "$tmp/stage-$input-n/audit.csv"
done
