#!/bin/sh
# cuplab-analyze with calibration profiles made by cuplab-calibrate: sensor
# profiles for two of three cups (from reference points on the simulated
# sensors' true transfer), one of them expired, and a cup set with volumes
# and one cup's baseline leak.  Calibrated cups match the truth without the
# gain error (same tolerances as analyze_pump.sh: peak 0.5 kPa, dose 1 %,
# ...); the third falls back to the nominal transfer, flagged; the volumetric
# leak rate is V * leak; the leak far above the baseline is flagged.
. "$(dirname "$0")/../lib.sh"

DUR=700
start_sim cal --cups 3 --rate 50 --duration $DUR --time-scale 100 --seed 31 --technique pump
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

"$PY" - "$T" <<'PY' || fail "could not write the calibration inputs"
import json, math, sys
d = sys.argv[1]
t = json.load(open(f"{d}/cal.truth.json"))
for s in t["sensors"][:2]:
    with open(f"{d}/p{s['channel']}.csv", "w") as f:
        f.write("ref_kPa,raw,direction\n")
        refs = [0, -10, -20, -30, -40, -50, -60, -70]
        for direction, seq in (("up", refs), ("down", refs[::-1])):
            for p in seq:
                raw = s["adc_max"] * (s["gain"] * s["sensitivity_per_kpa"] * p + s["offset"])
                f.write(f"{p},{raw:.3f},{direction}\n")
with open(f"{d}/cups.csv", "w") as f:
    f.write("cup,volume_ml,decay\nC1,100,\nC2,150,plate.csv\nC3,200,\n")
with open(f"{d}/plate.csv", "w") as f:
    f.write("t_s,p_kPa\n")
    for i in range(601):
        f.write(f"{i},{-40 * math.exp(-i / 20000.0):.5f}\n")
PY
"$BIN/cuplab-calibrate" sensor -q --serial SIM-31-01 --ref-u 0.05kPa -o "$T/p1.json" "$T/p1.csv" >/dev/null ||
    fail "cuplab-calibrate sensor 1"
"$BIN/cuplab-calibrate" sensor -q --serial SIM-31-02 --ref-u 0.05kPa --date 2019-01-01 \
    --valid-until 2020-01-01 -o "$T/p2.json" "$T/p2.csv" >/dev/null || fail "cuplab-calibrate sensor 2"
"$BIN/cuplab-calibrate" cupset -q --id SET1 -o "$T/set.json" "$T/cups.csv" >/dev/null ||
    fail "cuplab-calibrate cupset"

"$BIN/cuplab-analyze" --format json --profile "$T/p1.json" --profile "$T/p2.json" \
    --cupset "$T/set.json" "$T/s.h5" >"$T/r.json" 2>"$T/err" || fail "cuplab-analyze exited with $?"
grep -q "no sensor profile for cup C3: nominal" "$T/err" || fail "warning: $(cat "$T/err")"
"$PY" "$TOP/tests/analyze_check.py" truth "$T/r.json" "$T/cal.truth.json" $DUR \
    --calibrated C1,C2 || fail "results differ from the truth"
"$PY" - "$T/r.json" <<'PY' || fail "calibration, volumes and flags"
import json, sys
rows = {r["cup"]: r for r in json.load(open(sys.argv[1]))["rows"]}
fl = {k: set(r["flags"].split(";")) - {""} for k, r in rows.items()}
assert rows["C1"]["calibration"].startswith("profile SIM-31-01 (") and "p1.json" in rows["C1"]["calibration"]
assert "uncalibrated" not in fl["C1"] and "uncalibrated" not in fl["C2"] and "uncalibrated" in fl["C3"]
assert "out_of_calibrated_range" not in fl["C1"], fl["C1"]
assert "profile_expired" in fl["C2"] and "profile_expired" not in fl["C1"], fl
# Uncertainty of the peak: the profile's U (k = 2, 0.05 kPa) or 3 % nominal,
# in quadrature with the noise part (k = 2; values rounded to 0.01 kPa).
un = {k: rows[k]["peak_vacuum_u_noise"] for k in ("C1", "C3")}
assert all(0 < u < 1 for u in un.values()), un
assert abs(rows["C1"]["peak_vacuum_u"] - (0.05**2 + un["C1"]**2) ** 0.5) < 0.01, rows["C1"]
assert abs(rows["C3"]["peak_vacuum_u"] - ((0.03 * rows["C3"]["peak_vacuum"])**2 + un["C3"]**2) ** 0.5) < 0.01
# Volumetric leak rate: V [L] * leak [kPa/min] * 10 mbar/kPa / 60 s/min.
for cup, v in (("C1", 100), ("C2", 150), ("C3", 200)):
    r = rows[cup]
    assert r["volume_ml"] == v
    q = v / 1000 * r["leak_rate"] * 10 / 60
    assert abs(r["q_leak"] - q) <= 1e-12 + 1e-9 * abs(q), (cup, r["q_leak"], q)
    assert abs(r["q_leak_se"] - v / 1000 * r["leak_rate_se"] / 6) < 1e-12
# C2's sealed-plate baseline leaks far slower than on skin.
assert "leak_high" in fl["C2"] and "leak_high" not in fl["C1"], fl
PY
grep -q "cup-set profile" "$T/err" && fail "cup-set warning for a set that matches: $(cat "$T/err")"
# A cup set whose cup ids are not the session's: said so, one line naming the
# profile and the cups left without volume and q_leak.
printf 'cup,volume_ml\nC1,100\nX2,150\nX3,200\n' >"$T/other.csv"
"$BIN/cuplab-calibrate" cupset -q --id SET1 -o "$T/other.json" "$T/other.csv" >/dev/null ||
    fail "cuplab-calibrate cupset (other ids)"
"$BIN/cuplab-analyze" -f csv --nominal-sensor --cupset "$T/other.json" "$T/s.h5" \
    >/dev/null 2>"$T/err" || fail "cuplab-analyze with unmatched cup ids exited with $?"
[ "$(grep -c "cup-set profile" "$T/err")" -eq 1 ] || fail "cup-set warning: $(cat "$T/err")"
grep -q "^cuplab-analyze: $T/s.h5: cup-set profile $T/other.json (set SET1) has no cups C2, C3 of this session: no volume and no q_leak for them$" \
    "$T/err" || fail "cup-set warning: $(cat "$T/err")"
# ... and cups naming no cup set when two sets are given: they belong to neither.
"$BIN/cuplab-analyze" -f csv --nominal-sensor --cupset "$T/other.json" --cupset "$T/set.json" \
    "$T/s.h5" >/dev/null 2>"$T/err" || fail "cuplab-analyze with two cup sets exited with $?"
grep -q "^cuplab-analyze: $T/s.h5: cups C1, C2, C3 of this session belong to none of the cup-set profiles given by their cup set ($T/other.json (set SET1), $T/set.json (set SET1)): no volume and no q_leak for them$" \
    "$T/err" || fail "two cup sets warning: $(cat "$T/err")"
# ... which -q keeps quiet.
"$BIN/cuplab-analyze" -q -f csv --nominal-sensor --cupset "$T/other.json" "$T/s.h5" \
    >/dev/null 2>"$T/err" && [ ! -s "$T/err" ] || fail "-q still warns: $(cat "$T/err")"

# A profile that is not a sensor profile, or not JSON: a clear error.
echo '{"format": "nonsense"}' >"$T/bad.json"
"$BIN/cuplab-analyze" -q --profile "$T/bad.json" "$T/s.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "bad profile accepted"
grep -q "bad.json" "$T/err" || fail "bad profile message: $(cat "$T/err")"
"$BIN/cuplab-analyze" -q --cupset "$T/p1.json" "$T/s.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "sensor profile accepted as a cup set"

# Profiles carried by the session file (cuplab-acquire --profile; the same
# seed gives the same sensors) are used without --profile; a profile given
# on the command line wins over the stored one.
start_sim cal2 --cups 3 --rate 50 --duration 60 --time-scale 60 --seed 31 --technique pump
"$BIN/cuplab-acquire" -q -o "$T/s2.h5" --no-reconnect --profile "$T/p1.json" \
    --profile "$T/set.json" "$PTY" </dev/null || fail "cuplab-acquire --profile exited with $?"
wait_sim
sed 's/"serial": "SIM-31-02"/"serial": "SIM-31-01"/' "$T/p2.json" >"$T/p1b.json"
"$BIN/cuplab-analyze" -q --format json "$T/s2.h5" >"$T/s2.json" || fail "stored profiles"
"$BIN/cuplab-analyze" -q --format json --profile "$T/p1b.json" "$T/s2.h5" >"$T/s2b.json" ||
    fail "user profile over a stored one"
"$PY" - "$T/s2.json" "$T/s2b.json" <<'PY' || fail "stored profiles"
import json, sys
a = {r["cup"]: r for r in json.load(open(sys.argv[1]))["rows"]}
b = {r["cup"]: r for r in json.load(open(sys.argv[2]))["rows"]}
assert a["C1"]["calibration"] == "profile SIM-31-01 (stored in the session)", a["C1"]["calibration"]
assert "uncalibrated" not in a["C1"]["flags"] and "uncalibrated" in a["C2"]["flags"]
assert a["C2"]["volume_ml"] == 150, a["C2"]["volume_ml"]
assert b["C1"]["calibration"].endswith("p1b.json)"), b["C1"]["calibration"]
assert "profile_expired" in b["C1"]["flags"] and "profile_expired" not in a["C1"]["flags"]
assert a["C1"]["zero_offset"] != b["C1"]["zero_offset"]
PY
exit 0
