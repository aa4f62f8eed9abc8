#!/bin/sh
# Null differences: 100 runs (seeds), each with two practitioners A and B of
# the same style, 4 sessions each (800 short session files from the virtual
# device).  Compared with --group-by practitioner,subject, where the subject
# names the run, every run is one stratum: 100 independent tests of A
# against B.  With no true difference, p < 0.05 should happen in about 5 %
# of them: Welch's test and Kruskal-Wallis must reject in 2..10 of 100.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/null"
gen() { # first-run last-run
    r=$1
    while [ "$r" -le "$2" ]; do
        for g in A B; do
            for i in 1 2 3 4; do
                off=0
                [ $g = B ] && off=50
                "$BIN/cuplab-sim" -q -o "$T/null/run$r-$g$i.h5" --seed $((r * 100 + off + i)) \
                    --rate 20 --technique pump --sites left:M,right:M --vacuum 300:20 \
                    --strokes 2 --hold 60:5 --variability 0.05 --practitioner $g \
                    --subject "run$r" || exit 1
            done
        done
        r=$((r + 1))
    done
}
gen 0 49 &
p1=$!
gen 50 99 || fail "cuplab-sim failed"
wait $p1 || fail "cuplab-sim failed"
[ "$(ls "$T/null" | wc -l)" -eq 800 ] || fail "expected 800 session files"

"$BIN/cuplab-analyze" -q --group-by practitioner,subject --metrics peak_vacuum,hold_mean \
    -f json "$T/null" >"$T/null.json" || fail "cohort run failed"
"$PY" - "$T/null.json" <<'PY' || fail "null rejection rate outside 2..10 %"
import json, sys
d = json.load(open(sys.argv[1]))
for metric in ("peak_vacuum", "hold_mean"):
    rows = [r for r in d["tests"]["rows"] if r["metric"] == metric]
    assert len(rows) == 100 and all(r["groups"] == 2 and r["n"] == 8 for r in rows), rows[:2]
    for key in ("welch_p", "kw_p"):
        hits = sum(r[key] < 0.05 for r in rows)
        print(f"{metric}: {key} < 0.05 in {hits} of 100 runs")
        assert 2 <= hits <= 10, (metric, key, hits)
    # Pairwise Welch t of two groups is the same test as Welch's ANOVA.
    pw = {r["subject"]: r for r in d["pairwise"]["rows"] if r["metric"] == metric}
    for r in rows:
        assert abs(pw[r["subject"]]["p"] - r["welch_p"]) <= 1e-9 * r["welch_p"], r
PY
