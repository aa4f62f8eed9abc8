#!/bin/sh
# Every figure kind at journal widths (85 and 180 mm), in PDF and PNG: the
# PDF's text read back with pdftotext (axis titles and legend entries there,
# 7-9 pt, no snake_case identifier, no two text boxes overlapping, fonts
# embedded), the PNG 300 dpi at that width.
. "$(dirname "$0")/../lib.sh"
command -v pdftotext >/dev/null 2>&1 || skip "pdftotext (poppler-utils) not installed"
chk() { "$PY" "$TOP/tests/figure_check.py" "$@" || fail "$2"; }
A="$BIN/cuplab-analyze"
CAL="$BIN/cuplab-calibrate"

# A session of three pump cups (10 min: minutes on the time axis), a cohort
# of two practitioners and two techniques (labels of two lines), sensor
# points, a cup decay as CSV.
"$BIN/cuplab-sim" -q -o "$T/s.h5" --seed 3 --rate 20 --technique pump --cups 3 ||
    fail "cuplab-sim"
mkdir "$T/co"
for i in 1 2 3; do
    for p in X Y; do
        "$BIN/cuplab-sim" -q -o "$T/co/$p$i.h5" --seed "$i$i" --rate 20 --technique pump \
            --sites a:M,b:L --vacuum 300:20 --strokes 2 --hold 90:5 --practitioner $p ||
            fail "cuplab-sim $p$i"
    done
    "$BIN/cuplab-sim" -q -o "$T/co/F$i.h5" --seed "$i$i$i" --rate 20 --technique fire \
        --sites a:M,b:L --hold 90:5 --practitioner X || fail "cuplab-sim F$i"
done
"$BIN/cuplab-sim" -q --sensor-seed 7 --cups 1 --calibration-points "$T/pts" || fail "points"
"$PY" - "$T" <<'PYEOF' || fail "decay input"
import math, sys
d = sys.argv[1]
with open(d + "/c2.csv", "w") as f:
    f.write("t_s,p_mmHg\n")
    for i in range(601):
        p = -10 - 20 * math.exp(-i / 150.0) + 0.02 * math.sin(i)
        f.write("%d,%.6f\n" % (i, p / 0.133322387415))
with open(d + "/cups.csv", "w") as f:
    f.write("cup,material,size,volume_ml,volume_u_ml,decay\nC2,silicone,L,85,1,c2.csv\n")
PYEOF

V="Vacuum below ambient (mmHg)"
for w in 85 180; do
    for ext in pdf png; do
        o="$T/$w/$ext"
        mkdir -p "$o"
        "$A" -q --nominal-sensor -u mmHg --plot-dir "$o/a" --plot-format $ext \
            --figure-width ${w}mm "$T/s.h5" >/dev/null || fail "cup figures $w $ext"
        "$A" -q --nominal-sensor -u mmHg --group-by practitioner,technique --target 300mmHg:90s \
            --plot-dir "$o/c" --plot-format $ext --figure-width ${w}mm "$T/co" >/dev/null ||
            fail "cohort figures $w $ext"
        "$CAL" sensor -q --serial SIMS-7-01 --ref-u 0.1mmHg -u mmHg --figure "$o/res.$ext" \
            --figure-width ${w}mm "$T/pts/SIMS-7-01.csv" >/dev/null || fail "residuals $w $ext"
        (cd "$T" && "$CAL" cupset -q --id SET-A --operator t -u mmHg --figure-dir "$o/d" \
            --figure-width ${w}mm --figure-format $ext cups.csv >/dev/null) || fail "decay $w $ext"
    done
    # PNG: 300 dpi at the width
    for f in a/s_C1 a/s_overview c/cohort_boxplots c/cohort_profiles res; do
        chk png "$T/$w/png/$f.png" $w
    done
    p="$T/$w/pdf"
    chk pdf "$p/a/s_C1.pdf" $w "$V" "Time (min)" "Fitted decay" "Pump stroke" "Hold"
    chk pdf "$p/a/s_overview.pdf" $w "Time (min)" "Vacuum below ambient" "Evacuation"
    chk pdf "$p/c/cohort_boxplots.pdf" $w "Peak vacuum (mmHg)" "Time to peak (s)" \
        "Decay slope (mmHg/min)" "Pressure-time (mmHg min)" "Median" "Outlier (beyond the whiskers)"
    chk pdf "$p/c/cohort_profiles.pdf" $w "Application (% from onset to release)" \
        "Mean vacuum of the sessions" "95 % CI of the mean" "Target"
    chk pdf "$p/res.pdf" $w "Reference vacuum below ambient (mmHg)" \
        "Indicated - reference (mmHg)" "Ascending" "Descending" "Tolerance"
    chk png "$T/$w/png/d/C2-decay.png" $w
    chk pdf "$p/d/C2-decay.pdf" $w "$V" "Time (min)" "Recording" "Exponential fit"
done

# SVG: a page of the width, in points.
"$A" -q --nominal-sensor --plot "$T/o.svg" --figure-width 85mm "$T/s.h5" >/dev/null ||
    fail "svg at 85 mm"
grep -q 'width="241pt"' "$T/o.svg" || fail "svg not 85 mm wide: $(grep -o '<svg[^>]*>' "$T/o.svg")"

# A height of one's own; a vector page without a width is 180 mm wide.
"$A" -q --nominal-sensor --plot "$T/h.pdf" --figure-width 85mm --figure-height 120mm \
    "$T/s.h5" >/dev/null || fail "--figure-height"
pdfinfo "$T/h.pdf" | grep -q "Page size: *241 x 340 pts" || fail "85 x 120 mm: $(pdfinfo "$T/h.pdf" | grep 'Page size')"
chk pdf "$T/h.pdf" 85 "Time (min)"
"$A" -q --nominal-sensor --plot "$T/v.pdf" "$T/s.h5" >/dev/null || fail "default pdf"
chk pdf "$T/v.pdf" 180 "Time (min)"
"$A" -q --figure-width 5mm --plot "$T/x.pdf" "$T/s.h5" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--figure-width 5mm not a usage error"
exit 0
