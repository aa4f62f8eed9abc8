#!/bin/sh
# Device clock against host clock: the virtual device runs its clock 5x
# faster than real time (time scale 5), so the stored estimate must say
# host seconds = offset + 0.2 * device seconds; at time scale 1 the drift of
# two clocks on the same machine is ~0 ppm.
. "$(dirname "$0")/../lib.sh"

start_sim c5 --protocol binary --cups 2 --rate 500 --duration 60 --time-scale 5 --seed 41
"$BIN/cuplab-acquire" -q -o "$T/c5.h5" --no-reconnect -P binary "$PTY" </dev/null || fail "acquire"
wait_sim
start_sim c1 --cups 2 --rate 200 --duration 8 --seed 42
"$BIN/cuplab-acquire" -q -o "$T/c1.h5" --no-reconnect "$PTY" </dev/null || fail "acquire"
wait_sim
"$PY" - "$T/c5.h5" "$T/c1.h5" <<'PYEOF' || fail "clock estimates"
import sys, h5py
c5 = h5py.File(sys.argv[1], "r")["devices/dev0/clock"][0]
c1 = h5py.File(sys.argv[2], "r")["devices/dev0/clock"][0]
print("time scale 5:", c5)
print("time scale 1:", c1)
assert abs(c5["slope"] - 0.2) < 0.2 * 2e-3, c5            # within 0.2 %
# host time at device time 0 (the offset is given at device time ref_device_s)
assert c5["points"] > 50 and abs(c5["offset_s"] - c5["slope"] * c5["ref_device_s"]) < 0.5, c5
assert abs(c1["drift_ppm"]) < 2000, c1                     # text: ms timestamps, 8 s
PYEOF
