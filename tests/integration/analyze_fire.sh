#!/bin/sh
# Fire cups: virtual device -> cuplab-acquire -> cuplab-analyze --format json,
# checked cup by cup against the simulator's ground truth.  Tolerances (see
# tests/analyze_check.py): onset 0.3 s, hold start 0.6 s, release 0.4 s,
# strokes exact, peak 0.5 kPa, hold mean 0.15 kPa, dose 1 %, leak rate
# 3 SE + 10 %, tau within 0.25-1.25 x the effective cooling time constant;
# truth scaled by the sensor gain (nominal transfer).  The recording ends
# while some cups are still on: they must say not_released.
. "$(dirname "$0")/../lib.sh"

DUR=420
start_sim fire --cups 6 --rate 50 --duration $DUR --time-scale 100 --seed 12 --technique fire
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect --technique fire "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

"$BIN/cuplab-analyze" --format json --unit kPa --nominal-sensor "$T/s.h5" >"$T/r.json" \
    2>"$T/err" || fail "cuplab-analyze exited with $?"
[ -s "$T/err" ] && fail "unexpected diagnostics: $(cat "$T/err")"
"$PY" "$TOP/tests/analyze_check.py" truth "$T/r.json" "$T/fire.truth.json" $DUR ||
    fail "results differ from the truth"

grep -q '"not_released' "$T/r.json" || grep -q ';not_released' "$T/r.json" ||
    fail "no cup still on at the end: choose a shorter --duration"
