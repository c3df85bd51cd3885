#!/usr/bin/env bash
# Charts render side by side, yet a run reports what one-at-a-time rendering would: with two
# charts failing, the later one failing first, the error names the one drawn first; failed
# charts are neither listed in the report nor left half-written; the others are all there.
set -u
cd "$(dirname "$0")/../.."
bin=$(cd "$(dirname "${OUTCOMES:-build/san/outcomes}")" && pwd)/$(basename "${OUTCOMES:-build/san/outcomes}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
real=$(command -v gnuplot) || fail "gnuplot not installed"
mkdir "$tmp/bin"
cat >"$tmp/bin/gnuplot" <<EOS
#!/bin/sh
case "\$1" in
forest_sessions.gp) sleep 1; exec "$real" -e 'plot drawn_first_fails_last' "\$@";;
km_sleep.gp) exec "$real" -e 'plot drawn_later_fails_first' "\$@";;
*) exec "$real" "\$@";;
esac
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
echo ok
