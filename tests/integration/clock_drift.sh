#!/bin/sh
# Clock drift of a 1 kHz device over 10 s, its clock running 500 ppm fast
# (time scale 1.0005: true drift -499.75 ppm) or at the host's rate (0 ppm):
# the stored estimate is within 20 ppm of the truth and within 3 standard
# errors of it, although the last batch before the device stops is read tens
# of ms late; the offset, given at the points' mean device time, has an SE
# far below a millisecond.
. "$(dirname "$0")/../lib.sh"

# Both recordings at once: two simulator/recorder pairs on two ptys.
record() { # NAME TIME_SCALE SEED
    "$BIN/cuplab-sim" -p binary --cups 2 --rate 1000 --duration 10 --time-scale "$2" \
        --seed "$3" >"$T/$1.sim.out" 2>"$T/$1.sim.err" &
    sim=$!
    pty=$(first_line "$T/$1.sim.out")
    "$BIN/cuplab-acquire" -q -o "$T/$1.h5" --no-reconnect -P binary "$pty" </dev/null ||
        echo "acquire $1 failed" >>"$T/failed"
    wait "$sim" || echo "sim $1 failed" >>"$T/failed"
}
record fast 1.0005 11 &
pair=$!
record same 1 12
wait "$pair"
[ -s "$T/failed" ] && fail "$(cat "$T/failed")"

"$PY" - "$T/fast.h5" 1.0005 "$T/same.h5" 1 <<'PYEOF' || fail "clock estimates"
import sys, h5py, numpy as np
for path, scale in zip(sys.argv[1::2], sys.argv[2::2]):
    f = h5py.File(path, "r")
    c = f["devices/dev0/clock"][0]
    truth = (1 / float(scale) - 1) * 1e6
    err, se = c["drift_ppm"] - truth, c["slope_se"] * 1e6
    print("%s: drift %.1f ppm (truth %.1f, error %.1f, SE %.1f), %d points, offset SE %.2g s"
          % (path.split("/")[-1], c["drift_ppm"], truth, err, se, c["points"], c["offset_se_s"]))
    assert abs(err) < 20 and abs(err) < 3 * se, c
    assert c["offset_se_s"] < 1e-3, c
    dev = f["devices/dev0/device_time"][:] * 1e-6
    host = f["devices/dev0/host_time"][:]
    # the offset refers to the middle of the recording, on the device clock
    assert abs(c["ref_device_s"] - (dev[0] + dev[-1]) / 2) < 0.5, c
    # and it is the host time of the least delayed frames there
    late = host - (c["offset_s"] + c["slope"] * (dev - c["ref_device_s"]))
    assert -2e-3 < np.percentile(late, 1) and np.median(late) < 0.05, np.percentile(late, [1, 50])
PYEOF
