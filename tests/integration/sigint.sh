#!/bin/sh
# SIGINT in the middle of a recording leaves a complete, readable file whose
# rows are exactly the frames sent so far.
. "$(dirname "$0")/../lib.sh"

start_sim int --cups 4 --rate 200 --duration 600 --time-scale 1 --seed 11
"$BIN/cuplab-acquire" -q -o "$T/i.h5" "$PTY" </dev/null &
acq=$!
sleep 3
kill -INT $acq
wait $acq || fail "cuplab-acquire exited with $? after SIGINT"
kill "$SIM_PID" 2>/dev/null; wait_sim

h5check attr "$T/i.h5" status complete || fail "status after SIGINT"
h5check values "$T/i.h5" "$T/int.log.csv" --min-fraction 0 || fail "values"
h5check counter "$T/i.h5" 0 frames ge 200 || fail "too few frames for 3 s at 200 Hz"
"$PY" - "$T/i.h5" "$T/int.log.csv" <<'PYEOF' || fail "recording is not a prefix of what was sent"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
n = len(f["devices/dev0/samples"])
log = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
assert np.array_equal(f["devices/dev0/samples"][:], log[:n, 2:]), "not a prefix"
PYEOF
