#!/bin/sh
# cuplab-analyze --sensor CUP=SERIAL|PROFILE: a sensor profile assigned to a
# cup at analysis time, for a session whose cup table lacks (or has a wrong)
# sensor serial, gives the same results as when the serial was recorded; a
# cup the session does not have is reported.
. "$(dirname "$0")/../lib.sh"
P="$TOP/datasets/calibration/profiles"

"$BIN/cuplab-sim" -o "$T/s.h5" --cups 2 --rate 20 --duration 300 --hold 120 --seed 4 \
    --sensor-seed 100 2>"$T/sim.err" || fail "cuplab-sim: $(cat "$T/sim.err")"
# The same session with its sensor serials lost (and a wrong one).
cp "$T/s.h5" "$T/lost.h5"
"$PY" - "$T/lost.h5" <<'PY' || fail "h5py"
import sys
import h5py
with h5py.File(sys.argv[1], "r+") as f:
    cups = f["cups"][:]
    cups["sensor_serial"][0] = b""
    cups["sensor_serial"][1] = b"WRONG-1"
    f["cups"][...] = cups
    del f["calibration/profiles"]
    f.create_dataset("calibration/profiles", shape=(0,), dtype=h5py.string_dtype())
PY

A="$BIN/cuplab-analyze -q -f json -p $P/SIMS-100-01.json -p $P/SIMS-100-02.json"
$A "$T/s.h5" >"$T/want.json" || fail "analysis of the original"
$A --sensor C1=SIMS-100-01 --sensor C2="$P/SIMS-100-02.json" "$T/lost.h5" >"$T/got.json" \
    2>"$T/got.err" || fail "analysis with --sensor: $(cat "$T/got.err")"
"$BIN/cuplab-analyze" -q -f json --sensor C1="$P/SIMS-100-01.json" \
    --sensor C2="$P/SIMS-100-02.json" "$T/lost.h5" >"$T/files.json" || fail "profiles by file"
"$PY" - "$T/want.json" "$T/got.json" "$T/files.json" <<'PY' || fail "results differ"
import json, sys
want, got, files = (json.load(open(p))["rows"] for p in sys.argv[1:])
for w, g, f in zip(want, got, files):
    assert w["calibration"].startswith("profile SIMS-100-0"), w["calibration"]
    assert g["sensor_serial"] == w["sensor_serial"] == f["sensor_serial"], (g, w)
    assert g["calibration"].startswith("profile " + w["sensor_serial"]), g["calibration"]
    assert "assigned at analysis" in g["calibration"] and "assigned at analysis" in f["calibration"]
    for k in ("peak_vacuum", "hold_mean", "leak_rate", "zero_offset"):
        assert w[k] == g[k] == f[k], (k, w[k], g[k], f[k])
print("--sensor gives the results of the recorded serials")
PY
# Without --sensor the lost serials leave the cups uncalibrated (the control).
$A "$T/lost.h5" 2>/dev/null | grep -q '"uncalibrated' || fail "control: the lost file was calibrated"
# A cup the session does not have.
"$BIN/cuplab-analyze" -f csv --nominal-sensor --sensor C9=SIMS-100-01 "$T/s.h5" \
    >/dev/null 2>"$T/c9.err" || fail "--sensor of an unknown cup failed the analysis"
grep -q "C9: the session has no such cup" "$T/c9.err" || fail "unknown cup: $(cat "$T/c9.err")"
"$BIN/cuplab-analyze" --sensor C1 "$T/s.h5" 2>/dev/null; [ $? -eq 2 ] || fail "bad --sensor accepted"
exit 0
