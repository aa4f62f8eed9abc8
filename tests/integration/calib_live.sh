#!/bin/sh
# Live sensor calibration against the virtual device: cuplab-sim streams a
# pump cup on channel 1; tests/calib_operator.py answers the prompts on a
# pipe, giving as reference value the true mean pressure over exactly the
# frames each reading averaged (from the device's ground truth).  The fitted
# transfer function must be the sensor's true one within the profile's own
# uncertainty, the serial must come from the device's announcement, and the
# saved points must reproduce the fit.
. "$(dirname "$0")/../lib.sh"

OPTS="--cups 2 --technique pump --start 20 --seed 2"

# The ground truth of this seed, known before the session (cup and sensor
# parameters do not depend on the duration).
start_sim pre $OPTS --duration 0.05 --time-scale 0
cat "$PTY" >/dev/null 2>&1
wait_sim

start_sim live $OPTS --duration 260 --time-scale 20
"$PY" "$TOP/tests/calib_operator.py" "$T/pre.truth.json" 1 20 "$T/operator.log" -- \
    "$BIN/cuplab-calibrate" sensor --live "$PTY" --channel 1 --samples 30 --stable-sd 4 \
    --settle-timeout 20 --ref-u 0.01 --reference "sim truth" --operator "operator.py" \
    --tolerance 1 -o "$T/live.json" --save-points "$T/points.csv" -f json \
    >"$T/report.json" || { cat "$T/operator.log" >&2; fail "live calibration exited with $?"; }
wait_sim

"$PY" - "$T/live.json" "$T/pre.truth.json" "$T/report.json" <<'EOF' || fail "live profile"
import json, math, sys
p = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))
report = json.load(open(sys.argv[3]))
s = truth["sensors"][1]
assert p["format"] == "cuplab-profile" and p["version"] == 1 and p["kind"] == "sensor", p
assert p["sensor"]["serial"] == s["serial"] == "SIM-2-02", p["sensor"]
assert p["sensor"]["channel"] == 1
assert p["pass"] is True and p["transfer"]["degree"] == 1, (p["pass"], p["transfer"])
assert p["figures"]["points"] == 12, p["figures"]
assert p["procedure"]["setpoints"] >= 6 and p["procedure"]["complete"], p["procedure"]
assert p["source"].startswith("live:"), p["source"]
# The sensor's true transfer: raw = max (gain 0.007652 p + offset).
k = s["adc_max"] * s["gain"] * s["sensitivity_per_kpa"]
c_true = [-s["offset"] * s["adc_max"] / k, 1 / k]
c = p["transfer"]["coefficients"]
cov = p["transfer"]["covariance"]
for i in range(2):
    se = math.sqrt(cov[i][i])
    assert abs(c[i] - c_true[i]) <= 3 * se, (i, c[i], c_true[i], se)
u = p["uncertainty"]
def U(raw):
    g = [1, raw]
    v = sum(g[i] * cov[i][j] * g[j] for i in range(2) for j in range(2))
    return u["k"] * math.sqrt(v + u["u_repeatability_kpa"] ** 2 + u["u_hysteresis_kpa"] ** 2
                              + u["u_reference_kpa"] ** 2)
lo, hi = p["transfer"]["raw_min"], p["transfer"]["raw_max"]
for i in range(21):
    raw = lo + (hi - lo) * i / 20
    err = c[0] + c[1] * raw - (c_true[0] + c_true[1] * raw)
    assert abs(err) <= U(raw), (raw, err, U(raw))
assert abs(U(lo) - p["points"][3]["U_kpa"]) < 0.1 * U(lo)
# every point: up at ambient and the first hold reading, down afterwards
dirs = [q["direction"] for q in p["points"]]
assert dirs[:4] == ["up"] * 4 and set(dirs[4:]) == {"down"}, dirs
assert set(report) == {"summary", "setpoints", "points"}, list(report)
assert len(report["points"]["rows"]) == 12
print("live calibration: c1 %.9g (true %.9g), U max %.4f kPa" % (c[1], c_true[1],
      p["uncertainty"]["U_max_kpa"]))
EOF

# The saved points give the same profile again, offline.
"$BIN/cuplab-calibrate" sensor -q --serial SIM-2-02 --ref-u 0.01 --tolerance 1 \
    -o "$T/again.json" "$T/points.csv" >/dev/null || fail "refit of the saved points"
"$PY" - "$T/live.json" "$T/again.json" <<'EOF' || fail "saved points do not reproduce the fit"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for x, y in zip(a["transfer"]["coefficients"], b["transfer"]["coefficients"]):
    assert abs(x - y) <= 1e-12 * abs(x), (x, y)
assert len(b["points"]) == 12
EOF

# An operator who stops at once: nothing taken, nothing written, exit 1.
start_sim quit $OPTS --duration 60 --time-scale 20
echo q | "$BIN/cuplab-calibrate" sensor --live "$PTY" --ref-u 0.01 -o "$T/none.json" \
    >/dev/null 2>"$T/err"
rc=$?
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""
[ $rc -eq 1 ] || fail "no points should exit 1, got $rc"
grep -q "no calibration points" "$T/err" || fail "no-points message: $(cat "$T/err")"
[ -e "$T/none.json" ] && fail "a profile was written without points"
true
