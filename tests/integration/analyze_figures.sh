#!/bin/sh
# Figures of cuplab-analyze: one per cup and an overview, in PNG (size
# checked in the IHDR chunk), SVG and PDF; bad targets give an error, not a
# crash.
. "$(dirname "$0")/../lib.sh"

start_sim mixed --cups 3 --rate 50 --duration 300 --time-scale 100 --seed 21
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim
chk() { "$PY" "$TOP/tests/analyze_check.py" image "$@"; }

"$BIN/cuplab-analyze" -q --nominal-sensor --plot-dir "$T/fig" "$T/s.h5" >/dev/null ||
    fail "--plot-dir exited with $?"
for c in C1 C2 C3 overview; do
    chk "$T/fig/s_$c.png" 1200 800 || fail "figure $c"
done
[ "$(ls "$T/fig" | wc -l)" -eq 4 ] || fail "unexpected files: $(ls "$T/fig")"

"$BIN/cuplab-analyze" -q --nominal-sensor --plot-dir "$T/svg" --plot-format svg \
    --unit mmHg "$T/s.h5" >/dev/null || fail "svg figures"
for c in C1 C2 C3 overview; do
    chk "$T/svg/s_$c.svg" 510 340 || fail "svg figure $c" # 180 mm, the pixels' aspect
done

"$BIN/cuplab-analyze" -q --nominal-sensor --plot "$T/o.pdf" "$T/s.h5" >/dev/null ||
    fail "--plot pdf"
chk "$T/o.pdf" 0 0 || fail "pdf overview"
"$BIN/cuplab-analyze" -q --nominal-sensor --plot "$T/o.png" --plot-size 640x480 "$T/s.h5" \
    >/dev/null || fail "--plot png"
chk "$T/o.png" 640 480 || fail "png overview size"

# Bad targets: unknown type, unwritable directory; bad sizes are usage errors.
"$BIN/cuplab-analyze" -q --plot "$T/o.gif" "$T/s.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "gif accepted"
grep -q "o.gif: figure type not known" "$T/err" || fail "gif message: $(cat "$T/err")"
"$BIN/cuplab-analyze" -q --plot "$T/no/such/dir/o.png" "$T/s.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "unwritable figure accepted"
grep -q "cannot create" "$T/err" || fail "unwritable message: $(cat "$T/err")"
"$BIN/cuplab-analyze" --plot-size 10x10 "$T/s.h5" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--plot-size 10x10 not a usage error"
"$BIN/cuplab-analyze" --plot-format gif "$T/s.h5" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--plot-format gif not a usage error"
exit 0
