#!/usr/bin/env bash
# The shipped sample in, every report file out, the numbers checked against independent
# counts: rows read counted here with Python's csv module, reconciliation of
# read = accepted + rejected against rejects.csv, the cohort's headline numbers recomputed
# from patients.csv, every registry claim present, no nan/inf anywhere, no patient id in the
# shared outputs, and report.html rendered by headless Chromium with no external reference.
set -eu
cd "$(dirname "$0")/../.."
bin=${OUTCOMES:-build/san/outcomes}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" run --quiet --today 2026-11-23 --claims samples/claims.tsv --out "$out" samples/visits.csv
for f in report.html report.md summary.json patients.csv rejects.csv cohort.csv audit.csv \
         km_pain.svg km_pain.png km_pain.gp km_pain.dat waterfall_pain.png forest_shares.png; do
    [ -s "$out/$f" ] || { echo "missing $f"; exit 1; }
done
python3 - "$out" <<'PY'
import csv, json, math, sys
from statistics import mean
out = sys.argv[1]
s = json.load(open(f"{out}/summary.json"))
# Rows read: every non-blank record of the input, counted independently.
with open("samples/visits.csv", newline="") as f:
    recs = [r for r in csv.reader(f) if any(c.strip() for c in r)]
read = len(recs) - 1
rows = s["rows"]
assert rows["read"] == read, (rows, read)
assert rows["read"] == rows["accepted"] + rows["rejected"], rows
assert sum(rows["rejected_by"].values()) == rows["rejected"], rows
with open(f"{out}/rejects.csv", newline="") as f:
    rej = list(csv.DictReader(f))
assert len(rej) == rows["rejected"], (len(rej), rows)
for r in rej:
    assert r["file"] and int(r["line"]) > 1 and r["reason"] and r["message"], r
# Headline numbers recomputed from patients.csv (what the cohort stage reads).
with open(f"{out}/patients.csv", newline="") as f:
    P = [r for r in csv.DictReader(f) if r["instrument"] == "pain"]
chg = [float(r["change"]) for r in P if r["change"] != ""]
g = next(x for x in s["groups"] if x["by"] == "" and x["instrument"] == "pain")
assert g["change"]["n"] == len(chg), (g["change"]["n"], len(chg))
assert abs(g["change"]["estimate"] - mean(chg)) < 1e-9, (g["change"]["estimate"], mean(chg))
pct = [float(r["pct"]) for r in P if r["pct"] != ""]
k = sum(1 for x in pct if x >= 30 - 1e-9)
assert (g["responder_30"]["k"], g["responder_30"]["n"]) == (k, len(pct)), (g["responder_30"], k, len(pct))
assert s["patients"] == len({(r["patient_id"], r["episode"]) for r in P}), s["patients"]
# Every claim of the registry is in the audit, none silently skipped.
with open("samples/claims.tsv", newline="") as f:
    ids = {r["id"] for r in csv.DictReader(f, delimiter="\t")}
assert ids == {c["id"] for c in s["claims"]}, ids ^ {c["id"] for c in s["claims"]}
assert all(c["verdict"] in ("supported", "contradicted", "inconclusive", "insufficient_data",
                            "not_auditable") for c in s["claims"])
assert all(c["needs"] for c in s["claims"] if c["verdict"] == "not_auditable")
# A subgroup of two conditions (E01a: chronic low back pain), counted from patients.csv.
sub = [float(r["pct"]) for r in P if r["pct"] != "" and r["condition"].lower() == "low back pain"
       and r["chronicity"].lower() == "chronic"]
e = next(c for c in s["claims"] if c["id"] == "E01a")
assert 20 <= e["n"] == len(sub) < len(pct), (e["n"], len(sub), len(pct))
with open(f"{out}/audit.csv", newline="") as f:
    a = next(r for r in csv.DictReader(f) if r["id"] == "E01a")
assert int(a["k"]) == sum(1 for x in sub if x >= 30 - 1e-9), (a["k"], sub)
assert a["subgroup"] == "condition=low back pain & chronicity=chronic", a["subgroup"]
# The durability sentence's two shares, recounted: both responses over those with both
# known, and the end-of-course responders who kept it.
with open(f"{out}/patients.csv", newline="") as f:
    pain = [r for r in csv.DictReader(f) if r["instrument"] == "pain" and r["durable"] != ""]
dk = sum(r["durable"] == "1" for r in pain)
ends = [r for r in pain if r["resp_end"] == "1"]
kk = sum(r["resp_m12"] == "1" for r in ends)
html = open(f"{out}/report.html").read()
want = f"both at the end of the course and at 12 months: {dk}/{len(pain)} = "
assert want in html, want
want = f"still responding at 12 months: {kk}/{len(ends)} = "
assert want in html, want
assert len(ends) < len(pain), (len(ends), len(pain))
# Hodges-Lehmann drops zero changes (as R's wilcox.test): the report names the n it used,
# recounted here as the pain changes that are not 0.
with open(f"{out}/patients.csv", newline="") as f:
    ch = [float(r["change"]) for r in csv.DictReader(f)
          if r["instrument"] == "pain" and r["change"] != ""]
nz = sum(c != 0 for c in ch)
assert nz < len(ch), (nz, len(ch))
assert f"; n = {nz} non-zero</td>" in html, nz
PY
grep -q '\[subgroup condition=low back pain &amp; chronicity=chronic\]' "$out/report.html" ||
    { echo "E01a's subgroup is not shown in report.html"; exit 1; }
# "Up to 60%" is a maximum: the claimed column says so, not only the ">= 60" it is audited as.
grep -q '<td>up to 60 % improvement: median &gt;= 60</td>' "$out/report.html" ||
    { echo "E06a's claimed column lost its 'up to'"; exit 1; }
grep -q '<td>up to 60 % improvement: some patient reaches it</td>' "$out/report.html" ||
    { echo "E06a reach's claimed column lost its 'up to'"; exit 1; }
for f in report.html report.md summary.json cohort.csv audit.csv; do
    if grep -qiwE 'nan|-?inf' "$out/$f"; then echo "nan/inf in $f"; grep -niwE 'nan|-?inf' "$out/$f" | head -3; exit 1; fi
done
if grep -qE 'P[0-9]{6}' "$out/report.html" "$out/report.md" "$out/summary.json"; then
    echo "patient id in a shared output"; exit 1
fi
# Self-contained: no external scripts, stylesheets, images or fonts.
if grep -qiE '(src|href)="(https?:)?//|url\((https?:)?//|@import' "$out/report.html"; then
    echo "report.html references something outside itself"; exit 1
fi
# Rendered by a real browser: the DOM holds the audit section and an inline chart, the
# console shows no error, and the page makes no network request (Chromium's net log, less the
# browser's own background calls to Google's hosts). The detector is first run on a page
# that does fetch and does fail, so this check is known to be able to fail.
command -v chromium >/dev/null || { echo "chromium missing (scripts/install-deps --test installs it)"; exit 1; }
render() {   # render FILE.html TAG -> $out/TAG.dom, $out/TAG.log, $out/TAG.net
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$out/.chromium-$2" --enable-logging=stderr --v=0 \
        --log-net-log="$out/$2.net" --proxy-server=http://127.0.0.1:9 \
        --dump-dom "file://$1" >"$out/$2.dom" 2>"$out/$2.log" || true
}
problems() {   # print what a rendering did wrong
    grep -h 'CONSOLE' "$out/$1.log" | grep -iE 'error|uncaught' || true
    grep -o '"url":"[^"]*"' "$out/$1.net" 2>/dev/null | grep -E '"url":"(https?|wss?|ftp):' |
        grep -vE '://([a-z0-9.-]+\.)?(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)[/:"]' || true
}
printf '<html><body><img src="http://example.invalid/x.png"><script>nosuchfn()</script></body></html>' >"$out/bad.html"
render "$out/bad.html" bad
[ "$(problems bad | wc -l)" -ge 2 ] || { echo "browser check cannot see requests or errors"; problems bad; exit 1; }
render "$out/report.html" report
grep -q 'Claims audit' "$out/report.dom" || { echo "chromium did not render the report"; exit 1; }
grep -q '<svg' "$out/report.dom" || { echo "no inline chart in the rendered report"; exit 1; }
p=$(problems report)
[ -z "$p" ] || { echo "report.html: $p"; exit 1; }
