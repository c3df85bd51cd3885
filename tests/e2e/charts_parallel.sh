#!/usr/bin/env bash
# Charts render side by side, several to a gnuplot session, yet a run reports what
# one-at-a-time rendering would: with two charts failing, the later one failing first, the
# error names the one drawn first; failed charts are neither listed in the report nor left
# half-written; the others are all there, including those drawn after a failure in the same
# session; and the run starts far fewer gnuplots than it draws charts.
set -u
cd "$(dirname "$0")/../.."
bin=$(cd "$(dirname "${OUTCOMES:-build/san/outcomes}")" && pwd)/$(basename "${OUTCOMES:-build/san/outcomes}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
real=$(command -v gnuplot) || fail "gnuplot not installed"
mkdir "$tmp/bin"
# A session gets each chart as `cd '...'; load 'NAME.gp'; ...` on stdin: the stand-in logs
# its start and makes two charts fail after loading them, the first one slowly.
cat >"$tmp/bin/gnuplot" <<EOS
#!/bin/sh
echo started >>"$tmp/starts"
sed -u -e "s/load 'forest_sessions.gp'/pause 1; &; plot drawn_first_fails_last/" \\
       -e "s/load 'km_sleep.gp'/&; plot drawn_later_fails_first/" | "$real"
EOS
chmod +x "$tmp/bin/gnuplot"
PATH="$tmp/bin:$PATH" "$bin" run -q --claims samples/claims.tsv --today 2026-11-23 \
    --out "$tmp/o" samples/visits.csv >/dev/null 2>"$tmp/err"
st=$?
[ "$st" -eq 4 ] || { cat "$tmp/err"; fail "exit $st, want 4"; }
grep -q 'chart forest_sessions: gnuplot failed.*drawn_first_fails_last' "$tmp/err" ||
    { cat "$tmp/err"; fail "error does not name the first failing chart"; }
grep -q 'drawn_later_fails_first' "$tmp/err" && fail "the later chart's error was reported"
for c in forest_sessions km_sleep; do
    [ -e "$tmp/o/$c.svg" ] && fail "$c.svg written although its render failed"
    grep -q "$c.png" "$tmp/o/report.md" && fail "$c listed in the report"
done
grep -q "km_pain.png" "$tmp/o/report.md" || fail "km_pain not listed in the report"
for c in forest_shares waterfall_pain km_pain trajectory_sleep pchart_pain; do
    for x in gp dat svg png; do [ -s "$tmp/o/$c.$x" ] || fail "$c.$x missing"; done
done
ls -a "$tmp/o" | grep -q '\.render\.' && fail "staging directory left behind"
# A failing chart does not end its session, so at most one gnuplot per CPU (8 at most).
charts=$(ls "$tmp/o"/*.svg | wc -l)
starts=$(wc -l <"$tmp/starts")
[ "$charts" -ge 15 ] || fail "only $charts charts drawn"
[ "$starts" -ge 1 ] && [ "$starts" -le 8 ] || fail "$starts gnuplot sessions for $charts charts"
echo ok
