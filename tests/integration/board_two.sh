#!/bin/sh
# Two emulated boards, 16 cups, one session: each board is configured with
# its own device serial and a sensor serial per channel, and recorded over
# its own port; a sensor profile per serial is copied into the session.  No
# --cup option names a sensor: each cup must get the serial its channel
# announced and the analysis must apply that sensor's profile.  The profiles
# differ in gain by a known factor per sensor, so the per-cup results show
# which profile was applied where.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

RATE=250
start_two_boards "--seed 6" "--seed 7"

for r in a b; do
    if [ $r = a ]; then pty=$PTY_A; else pty=$PTY_B; fi
    spec="serial=rig-$r,rate=$RATE"
    for ch in 1 2 3 4 5 6 7 8; do spec="$spec,sensor$ch=MPX-$r$ch"; done
    "$BIN/cuplab-acquire" --configure "$spec" "$pty:1000000:binary" >"$T/cfg-$r.out" \
        2>&1 || fail "--configure rig-$r: $(cat "$T/cfg-$r.out")"
done

# A profile per sensor: the nominal MPXV6115V transfer read by the firmware
# (11-bit counts against AVCC: raw = 2046 (0.007652 p + 0.92), p in kPa),
# scaled by a gain factor of its own.
"$PY" - "$T" <<'PYEOF' || fail "points files"
import sys
T = sys.argv[1]
sensors = [(f"MPX-{r}{ch}", 1 + 0.01 * (8 * i + ch)) for i, r in enumerate("ab")
           for ch in range(1, 9)]
for serial, k in sensors + [("NOMINAL", 1.0)]:
    with open(f"{T}/{serial}.csv", "w") as f:
        f.write("ref_kpa,raw,raw_sd,n,direction\n")
        for d, kpas in (("up", range(0, -91, -10)), ("down", range(-90, 1, 10))):
            for p in kpas:
                raw = 2046 * (0.007652 * p / k + 0.92)
                f.write(f"{p},{raw:.4f},0.5,50,{d}\n")
PYEOF
PROFILES="" NOMINAL="" cup=0
for sn in $(for r in a b; do for ch in 1 2 3 4 5 6 7 8; do echo MPX-$r$ch; done; done) NOMINAL; do
    "$BIN/cuplab-calibrate" sensor -q --serial "$sn" --model MPXV6115V --ref-u 0.05kPa \
        --reference "test gauge" --degree 1 -o "$T/$sn.json" "$T/$sn.csv" >/dev/null \
        2>"$T/cal.err" || fail "calibrate $sn: $(cat "$T/cal.err")"
    [ $sn = NOMINAL ] && break
    cup=$((cup + 1))
    PROFILES="$PROFILES --profile $T/$sn.json"
    NOMINAL="$NOMINAL --sensor C$cup=$T/NOMINAL.json"
done

# shellcheck disable=SC2086 # one word per option
"$BIN/cuplab-acquire" -q -o "$T/two.h5" -d 14 $PROFILES --technique pump \
    "$PTY_A:1000000:binary" "$PTY_B:1000000:binary" </dev/null ||
    fail "cuplab-acquire exited with $?"
kill $PID_A $PID_B
wait $PID_A $PID_B 2>/dev/null

for dev in 0 1; do
    r=$(echo ab | cut -c$((dev + 1)))
    "$PY" "$TOP/tests/board_check.py" binary "$T/two.h5" "$T/$r.log.csv" --rate $RATE \
        --channels 8 --min-frames 2500 --dev $dev --device "rig-$r" ||
        fail "device $dev differs from board $r"
done

"$BIN/cuplab-analyze" -q -f json "$T/two.h5" >"$T/an.json" 2>"$T/an.err" ||
    fail "cuplab-analyze: $(cat "$T/an.err")"
# shellcheck disable=SC2086 # one word per option
"$BIN/cuplab-analyze" -q -f json $NOMINAL "$T/two.h5" >"$T/nom.json" 2>"$T/an.err" ||
    fail "cuplab-analyze with the nominal profile: $(cat "$T/an.err")"
"$PY" - "$T/two.h5" "$T/an.json" "$T/nom.json" <<'PYEOF' || fail "sensor serials or profiles not applied"
import json, sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    cups = f["cups"][:]
    serials = [c["sensor_serial"].decode() for c in cups]
    where = [(int(c["device"]), int(c["channel"])) for c in cups]
want = [f"MPX-{r}{ch}" for r in "ab" for ch in range(1, 9)]
assert serials == want, serials
assert where == [(d, c) for d in range(2) for c in range(8)], where
rows = json.load(open(sys.argv[2]))["rows"]
assert [r["sensor_serial"] for r in rows] == want, [r["sensor_serial"] for r in rows]
nominal = json.load(open(sys.argv[3]))["rows"]
for i, (r, n) in enumerate(zip(rows, nominal)):
    assert r["calibration"].startswith("profile " + r["sensor_serial"]), r["calibration"]
    assert n["calibration"].startswith("profile NOMINAL"), n["calibration"]
    # this sensor's gain over the nominal one, as its profile says
    k = 1 + 0.01 * (i + 1)
    assert n["peak_vacuum"] > 10, n["peak_vacuum"]
    assert abs(r["peak_vacuum"] / n["peak_vacuum"] - k) < 1e-3, (r["cup"], r["peak_vacuum"],
                                                                 n["peak_vacuum"], k)
print("16 cups, each with its channel's sensor serial and profile:",
      ", ".join(f"{r['cup']} {r['sensor_serial']}" for r in rows[::5]))
PYEOF
echo "pass: two boards, 16 cups, profiles from the announced serials"
