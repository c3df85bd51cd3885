#!/usr/bin/env bash
# What the trajectory and baseline-against-final charts plot, worked out by hand for five
# patients whose three visits are listed out of date order: without session numbers a
# visit's session is its rank by date; with session numbers in the file those are used as
# they are; each instrument counts only its own scores (sleep is not scored at the middle
# visit, so that session is left out of its chart: fewer than 5 patients).
set -u
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v gnuplot >/dev/null || fail "gnuplot not installed"

# Scores by date (1, 3 and 5 March) for P1..P5:
#   pain  8 7 9 8 8 | 6 5 7 6 6 | 4 3 5 4 4   means 8, 6, 4
#   sleep 3 4 5 4 4 | (none)    | 6 7 8 7 7   means 4, 7
# mode none: no session column; rank: sessions 1-3 by date; spaced: sessions 2, 4, 6.
visits() {
    local pain1=(8 7 9 8 8) pain3=(6 5 7 6 6) pain5=(4 3 5 4 4) sleep1=(3 4 5 4 4)
    local sleep5=(6 7 8 7 7) i d pain sleep rank s
    if [ "$1" = none ]; then echo "patient_id,visit_date,pain,sleep"
    else echo "patient_id,visit_date,session,pain,sleep"; fi
    for i in 0 1 2 3 4; do
        for d in 5 1 3; do   # last visit first
            case $d in
            1) pain=${pain1[$i]} sleep=${sleep1[$i]} rank=1 ;;
            3) pain=${pain3[$i]} sleep= rank=2 ;;
            5) pain=${pain5[$i]} sleep=${sleep5[$i]} rank=3 ;;
            esac
            case $1 in none) s= ;; rank) s=",$rank" ;; spaced) s=",$((2 * rank))" ;; esac
            echo "P$((i + 1)),2025-03-0$d$s,$pain,$sleep"
        done
    done
}

# session, mean and n of each plotted session, one per line
points() { grep -v '^#' "$1" | awk '{ print $1, $2, $5 }'; }

for mode in none rank spaced; do
    visits $mode >"$tmp/$mode.csv"
    "$bin" run -q --today 2026-11-23 --out "$tmp/$mode" "$tmp/$mode.csv" >/dev/null 2>"$tmp/err" ||
        { cat "$tmp/err"; fail "$mode: run failed"; }
    if [ $mode = spaced ]; then
        want_pain=$'2 8 5\n4 6 5\n6 4 5' want_sleep=$'2 4 5\n6 7 5'
    else
        want_pain=$'1 8 5\n2 6 5\n3 4 5' want_sleep=$'1 4 5\n3 7 5'
    fi
    got=$(points "$tmp/$mode/trajectory_pain.dat")
    [ "$got" = "$want_pain" ] || fail "$mode: pain trajectory: got '$got', want '$want_pain'"
    got=$(points "$tmp/$mode/trajectory_sleep.dat")
    [ "$got" = "$want_sleep" ] || fail "$mode: sleep trajectory: got '$got', want '$want_sleep'"
    # first and last score of each patient, one circle per distinct pair with its count
    got=$(grep -v '^#' "$tmp/$mode/scatter_pain.dat")
    [ "$got" = $'7 3 1\n8 4 3\n9 5 1' ] || fail "$mode: pain pairs: got '$got'"
    got=$(grep -v '^#' "$tmp/$mode/scatter_sleep.dat")
    [ "$got" = $'3 6 1\n4 7 3\n5 8 1' ] || fail "$mode: sleep pairs: got '$got'"
done
echo ok
