#!/bin/sh
# Live sensor calibration against the virtual device: cuplab-sim streams a
# pump cup on channel 1; tests/calib_operator.py answers the prompts on a
# pipe, giving as reference value the true mean pressure over exactly the
# frames each reading averaged (from the device's ground truth).  The fitted
# transfer function must be the sensor's true one within the profile's own
# uncertainty, the serial must come from the device's announcement, and the
# saved points must reproduce the fit.  A device that goes away costs no
# point: they are in the points file, and --resume continues from it.
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
    --settle-timeout 20 --ref-u 0.01kPa --reference "sim truth" --operator "operator.py" \
    --tolerance 1kPa -o "$T/live.json" --save-points "$T/points.csv" -f json \
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
"$BIN/cuplab-calibrate" sensor -q --serial SIM-2-02 --ref-u 0.01kPa --tolerance 1kPa \
    -o "$T/again.json" "$T/points.csv" >/dev/null || fail "refit of the saved points"
"$PY" - "$T/live.json" "$T/again.json" <<'EOF' || fail "saved points do not reproduce the fit"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for x, y in zip(a["transfer"]["coefficients"], b["transfer"]["coefficients"]):
    assert abs(x - y) <= 1e-12 * abs(x), (x, y)
assert len(b["points"]) == 12
EOF

# The device goes away mid-calibration (the session ends after 100 s, along
# the hold): exit 3, and every point taken so far is in the points file,
# which names itself in the one error line.
start_sim gone $OPTS --duration 100 --time-scale 20
"$PY" "$TOP/tests/calib_operator.py" "$T/pre.truth.json" 1 20 "$T/gone.log" -- \
    "$BIN/cuplab-calibrate" sensor --live "$PTY" --channel 1 --samples 30 --stable-sd 4 \
    --settle-timeout 20 --ref-u 0.01kPa --tolerance 1kPa -o "$T/gone.json" \
    --save-points "$T/gone.csv" >/dev/null
rc=$?
wait_sim
[ $rc -eq 3 ] || { cat "$T/gone.log" >&2; fail "device gone: exit $rc, expected 3"; }
[ -e "$T/gone.json" ] && fail "a profile was written from an interrupted calibration"
"$PY" - "$T/gone.log" "$T/gone.csv" <<'EOF' || { cat "$T/gone.log" >&2; fail "points lost"; }
import re, sys
log, rows = open(sys.argv[1]).read(), open(sys.argv[2]).read().splitlines()
m = re.search(r"cuplab-calibrate: .*; the (\d+) points taken are kept in (\S+) "
              r"\(continue with --resume\)\n", log)
assert m and m.group(2) == sys.argv[2], log[-500:]
answered = int(re.search(r"\[exit 3 after (\d+) points\]", log).group(1))
raws = [float(x) for x in re.findall(r"raw ([-0-9.]+) counts", log)]
assert rows[0] == "ref_kPa,raw,raw_sd,n,direction,temperature_c", rows[0]
assert len(rows) - 1 == int(m.group(1)) == answered >= 4, (len(rows), m.group(1), answered)
for row, raw in zip(rows[1:], raws):
    assert abs(float(row.split(",")[1]) - raw) < 1e-4, (row, raw)
EOF
cp "$T/gone.csv" "$T/gone.before.csv"
k=$(($(wc -l <"$T/gone.csv") - 1))

# ... and a later run continues from them (--resume), on a new session of
# the device: the profile is fitted from both runs' points, all kept in the file.
start_sim resume $OPTS --duration 260 --time-scale 20
"$PY" "$TOP/tests/calib_operator.py" "$T/pre.truth.json" 1 20 "$T/resume.log" -- \
    "$BIN/cuplab-calibrate" sensor --live "$PTY" --channel 1 --samples 30 --stable-sd 4 \
    --settle-timeout 20 --ref-u 0.01kPa --tolerance 1kPa -o "$T/resumed.json" \
    --save-points "$T/gone.csv" --resume >/dev/null ||
    { cat "$T/resume.log" >&2; fail "resumed calibration exited with $?"; }
wait_sim
grep -q "Resuming with the $k points of $T/gone.csv" "$T/resume.log" || fail "no resume line"
head -n $((k + 1)) "$T/gone.csv" | cmp -s - "$T/gone.before.csv" ||
    fail "--resume changed the points taken before"
[ "$(wc -l <"$T/gone.csv")" -eq $((k + 13)) ] || fail "resumed points file: $(wc -l <"$T/gone.csv")"
"$PY" -c "import json,sys; p=json.load(open(sys.argv[1])); \
assert p['pass'] and p['figures']['points'] == int(sys.argv[2]), p['figures']" \
    "$T/resumed.json" $((k + 12)) || fail "resumed profile"
"$BIN/cuplab-calibrate" sensor -q --serial SIM-2-02 --ref-u 0.01kPa --tolerance 1kPa \
    -o "$T/refit.json" "$T/gone.csv" >/dev/null || fail "fit of the resumed points file"

# An operator who stops at once: nothing taken, nothing written, exit 1.
start_sim quit $OPTS --duration 60 --time-scale 20
echo q | "$BIN/cuplab-calibrate" sensor --live "$PTY" --ref-u 0.01kPa -o "$T/none.json" \
    --save-points "$T/none.csv" >/dev/null 2>"$T/err"
rc=$?
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""
[ $rc -eq 1 ] || fail "no points should exit 1, got $rc"
grep -q "no calibration points" "$T/err" || fail "no-points message: $(cat "$T/err")"
[ -e "$T/none.json" ] && fail "a profile was written without points"
[ -e "$T/none.csv" ] && fail "a points file was left without points"
true
