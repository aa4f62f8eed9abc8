#!/bin/sh
# Cup-set characterisation end to end.  Cup C1: volume by gas expansion (a
# known 120 mL), leak from a sealed-plate decay recorded from the virtual
# device by cuplab-acquire and calibrated through a sensor profile made from
# the device's true transfer; tau must be the simulator's within 3 standard
# errors.  Cup C2: volume entered, leak from a t,p CSV with a known tau.
. "$(dirname "$0")/../lib.sh"

OPTS="--cups 1 --technique pump --start 20 --seed 3"
start_sim plate $OPTS --rate 20 --duration 560 --time-scale 50
"$BIN/cuplab-acquire" -q -o "$T/plate.h5" --no-reconnect \
    --cup "C1=0:0,sensor=SIM-3-01,set=SET-A,material=glass" "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim
# The recording must hold the whole decay and the release (the device time,
# in ms, of the last frame recorded).
"$PY" - "$T/plate.h5" "$T/plate.truth.json" <<'EOF' || fail "the recording is incomplete"
import h5py, json, sys
t = h5py.File(sys.argv[1], "r")["devices/dev0/device_time"][-1] / 1000
end = json.load(open(sys.argv[2]))["cups"][0]["release_end_s"]
if t < end:
    sys.exit("recording ends at %.2f s, before the release at %.2f s" % (t, end))
EOF

# Inputs: sensor points on the device's true transfer (with a little
# scatter), the cup list, C2's decay.
"$PY" - "$T/plate.truth.json" "$T" <<'EOF' || fail "writing the inputs"
import json, math, random, sys
truth = json.load(open(sys.argv[1]))
d = sys.argv[2]
s = truth["sensors"][0]
assert s["serial"] == "SIM-3-01"
with open(d + "/sensor.csv", "w") as f:
    f.write("ref_kPa,raw,direction\n")
    for cycle in range(2):
        seq = list(range(0, 11)) + list(range(10, -1, -1))
        for i, j in enumerate(seq):
            p = -10.0 * j
            raw = s["adc_max"] * (s["gain"] * s["sensitivity_per_kpa"] * p + s["offset"])
            raw += 0.3 * ((i + cycle) % 3 - 1)
            f.write("%.3f,%.6f,%s\n" % (p, raw, "up" if i < 11 else "down"))
# gas expansion: 50 mL at ambient onto a 120 mL cup at -40 kPa gauge
amb, vr, vc = 101.325, 50.0, 120.0
pf = (amb * vr + (amb - 40) * vc) / (vr + vc) - amb
random.seed(5)
with open(d + "/c2.csv", "w") as f:
    f.write("t_s,p_mmHg\n")
    for i in range(601):
        p = -10 + (-30 + 10) * math.exp(-i / 150.0) + random.gauss(0, 0.02)
        f.write("%d,%.6f\n" % (i, p / 0.133322387415))
with open(d + "/cups.csv", "w") as f:
    f.write("cup,material,size,volume_ml,volume_u_ml,vref_ml,vref_u_ml,p_ref,p_cup,p_final,"
            "p_u,unit,decay,decay_cup\n")
    f.write("C1,glass,M,,,50,0.1,0,-40,%.12f,0.01,kPa,plate.h5,C1\n" % pf)
    f.write("C2,silicone,L,85,1,,,,,,,,c2.csv,\n")
EOF

"$BIN/cuplab-calibrate" sensor -q --serial SIM-3-01 --ref-u 0.02kPa -o "$T/sensor.json" \
    "$T/sensor.csv" >/dev/null || fail "sensor profile"
mkdir "$T/figs"
"$BIN/cuplab-calibrate" cupset --id SET-A --operator tester --sensor-profile "$T/sensor.json" \
    --figure-dir "$T/figs" -o "$T/cupset.json" -f json "$T/cups.csv" >"$T/report.json" ||
    fail "cupset exited with $?"

"$PY" - "$T/cupset.json" "$T/plate.truth.json" "$T/report.json" "$T/figs" <<'EOF' || fail "cup set"
import json, math, sys
c = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))["cups"][0]
report = json.load(open(sys.argv[3]))
assert c["format"] == "cuplab-profile" and c["version"] == 1 and c["kind"] == "cupset"
assert c["cupset"]["id"] == "SET-A" and c["operator"] == "tester"
assert c["conditions"]["ambient_kpa"] == 101.325
cups = {x["id"]: x for x in c["cups"]}
assert list(cups) == ["C1", "C2"]
c1, c2 = cups["C1"], cups["C2"]
# volume by gas expansion
v = c1["volume"]
assert v["method"] == "gas-expansion" and abs(v["ml"] - 120) < 1e-6, v
assert 0 < v["u_ml"] < 2, v
assert abs(v["expansion"]["p_cup_abs_kpa"] - 61.325) < 1e-9, v
# sealed-plate leak of the simulated cup
lk = c1["leak"]
assert lk["model"] == "exp", lk
assert lk["source"].endswith("plate.h5")
assert abs(lk["tau_s"] - truth["tau_s"]) <= 3 * lk["tau_se_s"], (lk["tau_s"], truth["tau_s"],
                                                                   lk["tau_se_s"])
assert lk["tau_se_s"] < 0.1 * truth["tau_s"]
assert abs(lk["p_inf_kpa"] - truth["p_inf_kpa"]) <= 3 * lk["p_inf_se_kpa"] + 0.05, lk
# the window starts after the hold began and ends before the release
assert truth["hold_start_s"] < lk["t_from_s"] < truth["hold_start_s"] + 7, lk
assert truth["release_start_s"] - 3 < lk["t_to_s"] < truth["release_start_s"], lk
# Q = V dp/dt at the stated vacuum, mbar L/s, and the simulator's own value there
q = v["ml"] * (lk["p_inf_kpa"] - lk["at_kpa"]) / lk["tau_s"] / 100
assert abs(lk["q_mbarl_s"] - q) < 1e-12, (lk["q_mbarl_s"], q)
q_true = 120 * (truth["p_inf_kpa"] - lk["at_kpa"]) / truth["tau_s"] / 100
assert abs(lk["q_mbarl_s"] - q_true) <= 3 * lk["q_u_mbarl_s"], (lk["q_mbarl_s"], q_true)
assert q > 0
# C2: entered volume, CSV decay with tau 150 s
assert c2["volume"]["method"] == "entered" and c2["volume"]["ml"] == 85
l2 = c2["leak"]
assert abs(l2["tau_s"] - 150) <= 3 * l2["tau_se_s"], l2
assert abs(l2["p_inf_kpa"] + 10) <= 3 * l2["p_inf_se_kpa"] + 1e-3, l2
assert [r["cup"] for r in report["cups"]["rows"]] == ["C1", "C2"]
for cup in ("C1", "C2"):
    b = open("%s/%s-decay.png" % (sys.argv[4], cup), "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", cup
print("sealed plate: tau %.1f +- %.1f s (true %.1f), Q %.5f +- %.5f mbar L/s (true %.5f)"
      % (lk["tau_s"], lk["tau_se_s"], truth["tau_s"], lk["q_mbarl_s"], lk["q_u_mbarl_s"],
         q_true))
EOF

# The profile reads back.
"$BIN/cuplab-calibrate" show -f csv "$T/cupset.json" >"$T/show.csv" || fail "show cupset"
grep -Eq "^C1,glass,M,1(20|19\.9999)[0-9.]*,[0-9.]+,gas-expansion,exp,30[0-9.]+," "$T/show.csv" ||
    fail "show: $(cat "$T/show.csv")"

# A sensor profile of another sensor is refused, naming the file.
sed 's/"SIM-3-01"/"OTHER-1"/' "$T/sensor.json" >"$T/other.json"
"$BIN/cuplab-calibrate" cupset --sensor-profile "$T/other.json" "$T/cups.csv" \
    >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "wrong sensor should exit 1"
grep -q "plate.h5: cup C1 has sensor SIM-3-01, the profile is for sensor OTHER-1" "$T/err" ||
    fail "wrong sensor message: $(cat "$T/err")"
# An expired one too (checked at the time of the recording).
sed 's/"valid_until": "[0-9-]*"/"valid_until": "2001-01-01"/' "$T/sensor.json" >"$T/old.json"
"$BIN/cuplab-calibrate" cupset -o "$T/x.json" --sensor-profile "$T/old.json" "$T/cups.csv" \
    >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "expired profile should exit 1"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "expired: not one line: $(cat "$T/err")"
grep -q "plate.h5: sensor SIM-3-01: calibration expired (valid until 2001-01-01)" "$T/err" ||
    fail "expired message: $(cat "$T/err")"
[ -e "$T/x.json" ] && fail "a cup-set profile was written with an expired sensor profile"
true
