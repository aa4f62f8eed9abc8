#!/bin/sh
# cuplab-analyze --group-by ... --report OUT.pdf: A4 pages, fonts embedded,
# no text overlapping (tests/report_check.py layout); every row of the tests
# (with the effect sizes and their intervals) and pairwise tables of the
# JSON output on the pages at the text table's precision, a table longer than a page going on over the next; the box
# plots and profiles drawn in; the cl_output rules before any work.
. "$(dirname "$0")/../lib.sh"
command -v pdftotext >/dev/null 2>&1 || skip "pdftotext (poppler-utils) not installed"
A="$BIN/cuplab-analyze"
chk() { "$PY" "$TOP/tests/report_check.py" "$@" || fail "$*"; }
pages() { pdfinfo "$1" | sed -n 's/^Pages: *//p'; }

# Three practitioners with pump cups of their own depth, one of them also
# with fire cups.
mkdir "$T/co"
for i in 1 2 3; do
    for p in X:300 Y:240 Z:200; do
        "$BIN/cuplab-sim" -q -o "$T/co/${p%:*}$i.h5" --seed "$i${#p}${p#*:}" --rate 20 \
            --technique pump --sites a:M,b:L --vacuum "${p#*:}:20" --strokes 2 --hold 90:5 \
            --practitioner "${p%:*}" || fail "cuplab-sim $p$i"
    done
    "$BIN/cuplab-sim" -q -o "$T/co/F$i.h5" --seed "7$i" --rate 20 --technique fire \
        --sites a:M,b:L --hold 90:5 --practitioner X || fail "cuplab-sim F$i"
done

# By practitioner within each technique, against a target.
"$A" -q --nominal-sensor -u mmHg --group-by practitioner,technique --target 300mmHg:90s \
    -f json --report "$T/c.pdf" "$T/co" >"$T/c.json" || fail "--report exited with $?"
chk layout "$T/c.pdf" 3 # the tables, the box plots; the profiles on the third page
chk cohort "$T/c.pdf" "$T/c.json"
for t in "Cohort report: 12 sessions by practitioner within each technique" \
    "Target 300mmHg:90s" "Peak vacuum (mmHg)" "Application (% from onset to release)"; do
    pdftotext "$T/c.pdf" - | tr -s ' \n' '  ' | grep -qF "$t" || fail "no '$t' on the pages"
done

# A table going on over a page (the effect sizes, above; its rows were all
# found there).
pdftotext "$T/c.pdf" - | grep -q "(continued)" || fail "no table goes on over a page"

# Every metric, one field: the report goes on over the pages.
"$A" -q --nominal-sensor --group-by practitioner --metrics all -f json \
    --report "$T/all.pdf" "$T/co" >"$T/all.json" || fail "--metrics all exited with $?"
chk layout "$T/all.pdf" 12
chk cohort "$T/all.pdf" "$T/all.json"
[ "$(pages "$T/all.pdf")" -ge 3 ] || fail "every metric on $(pages "$T/all.pdf") pages"

# Outputs before the work: an existing report refused (exit 2, nothing
# printed, untouched), replaced with --force; a missing folder exit 1.
sum=$(cksum <"$T/c.pdf")
"$A" -q --group-by practitioner --report "$T/c.pdf" "$T/co" >"$T/out" 2>"$T/err"
[ $? -eq 2 ] || fail "existing report not refused with exit 2"
grep -q "c.pdf exists (not replaced without --force)" "$T/err" || fail "message: $(cat "$T/err")"
[ -s "$T/out" ] && fail "results printed before the refusal"
[ "$(cksum <"$T/c.pdf")" = "$sum" ] || fail "the refused report was changed"
"$A" -q --nominal-sensor --group-by practitioner --report "$T/c.pdf" --force "$T/co" \
    >/dev/null || fail "--force exited with $?"
[ "$(cksum <"$T/c.pdf")" = "$sum" ] && fail "not replaced with --force"
"$A" -q --group-by practitioner --report "$T/no/such/c.pdf" "$T/co" >"$T/out" 2>&1
[ $? -eq 1 ] || fail "missing folder: not exit 1"
exit 0
