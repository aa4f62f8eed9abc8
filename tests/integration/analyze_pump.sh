#!/bin/sh
# Pump cups: virtual device -> cuplab-acquire -> cuplab-analyze --format json,
# checked cup by cup against the simulator's ground truth.  Tolerances (see
# tests/analyze_check.py): onset 0.3 s, hold start 0.6 s, release 0.4 s,
# strokes exact, peak 0.5 kPa, hold mean 0.15 kPa, dose 1 %, leak rate
# 3 SE + 10 %, tau 3 SE; truth scaled by the sensor gain (nominal transfer).
. "$(dirname "$0")/../lib.sh"

DUR=700
start_sim pump --cups 6 --rate 50 --duration $DUR --time-scale 100 --seed 11 --technique pump
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect --technique pump "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

"$BIN/cuplab-analyze" --format json --unit kPa --nominal-sensor "$T/s.h5" >"$T/r.json" \
    2>"$T/err" || fail "cuplab-analyze exited with $?"
[ -s "$T/err" ] && fail "unexpected diagnostics: $(cat "$T/err")"
"$PY" "$TOP/tests/analyze_check.py" truth "$T/r.json" "$T/pump.truth.json" $DUR ||
    fail "results differ from the truth"

# Without --nominal-sensor the fallback is announced, naming the cups.
"$BIN/cuplab-analyze" --format csv "$T/s.h5" >"$T/r.csv" 2>"$T/err" || fail "csv run"
grep -q "no sensor profile for cups C1, C2, C3, C4, C5, C6: nominal" "$T/err" ||
    fail "no warning about the nominal transfer: $(cat "$T/err")"
# CSV: one row per cup, the documented columns, the convention in every row.
"$PY" - "$T/r.csv" "$TOP/docs/analysis.md" <<'PY' || fail "CSV output"
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 6, len(rows)
doc = open(sys.argv[2]).read().split("## Per-cup columns")[1].split("\n## ")[0]
documented = re.findall(r"^\| `([a-z0-9_]+)` \|", doc, re.M)
assert list(rows[0].keys()) == documented, (list(rows[0].keys()), documented)
for r in rows:
    assert r["vacuum_sign"] == "positive below ambient" and r["pressure_unit"] == "kPa", r
    assert "uncalibrated" in r["flags"].split(";"), r["flags"]
PY
# Units: mmHg is kPa / 0.133322387415, per minute and dose alike.
"$BIN/cuplab-analyze" --format json --unit mmHg --nominal-sensor "$T/s.h5" >"$T/mm.json" ||
    fail "mmHg run"
"$PY" - "$T/r.json" "$T/mm.json" <<'PY' || fail "unit conversion"
import json, sys
k, m = (json.load(open(p)) for p in sys.argv[1:3])
f = 0.133322387415
assert m["pressure_unit"] == "mmHg" and m["units"]["dose"] == "mmHg*min"
assert m["units"]["leak_rate"] == "mmHg/min" and m["units"]["tau_s"] == "s"
for a, b in zip(k["rows"], m["rows"]):
    for key in ("peak_vacuum", "hold_mean", "dose", "leak_rate", "p_inf"):
        if a[key] is not None:
            assert abs(b[key] * f - a[key]) <= 1e-9 * abs(a[key]) + 1e-12, (key, a[key], b[key])
    assert a["tau_s"] == b["tau_s"] and a["applied_s"] == b["applied_s"]
PY
# The readable table states the convention and ends with the session summary.
"$BIN/cuplab-analyze" -q "$T/s.h5" >"$T/r.txt" || fail "table run"
grep -q "^# cuplab-analyze: per-cup results; vacuum in kPa, positive below ambient" "$T/r.txt" ||
    fail "no convention line"
tail -n 1 "$T/r.txt" | grep -q "complete, pump, 6 cups, 6 applied, peak .* kPa" ||
    fail "summary line: $(tail -n 1 "$T/r.txt")"
