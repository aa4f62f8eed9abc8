#!/bin/sh
# A writer that cannot keep up never stalls the reader and never loses a
# frame silently: with a tiny ring buffer and a device sending as fast as it
# can, frames are dropped, counted as overruns and recorded as events, and
# every frame sent is either in the file (exactly) or counted.
. "$(dirname "$0")/../lib.sh"

start_sim ov --protocol binary --cups 8 --rate 1000 --duration 30 --time-scale 0 --seed 8
"$BIN/cuplab-acquire" -q -o "$T/o.h5" --no-reconnect --buffer 16 -P binary "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim
h5check values "$T/o.h5" "$T/ov.log.csv" --min-fraction 0 || fail "values"
h5check counter "$T/o.h5" 0 overruns gt 0 || fail "no overrun with a 16-frame ring"
h5check events "$T/o.h5" overrun 1 || fail "no overrun event"
"$PY" - "$T/o.h5" "$T/ov.log.csv" <<'PYEOF' || fail "frames unaccounted for"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
rows = len(f["devices/dev0/samples"])
c = f["devices/dev0/counters"][0]
sent = sum(1 for _ in open(sys.argv[2])) - 1
print(f"sent {sent}, recorded {rows}, overruns {c['overruns']}")
assert c["frames"] == sent and rows + c["overruns"] == sent, (rows, c)
PYEOF
