#!/bin/sh
# A writer that cannot keep up never stalls the reader and never loses a
# frame silently: with a small ring buffer and a device sending as fast as it
# can, frames are dropped, counted as overruns and recorded in overrun events
# that add up to the counter (the frames dropped at the very end included);
# every frame sent is either a row (exactly) or counted; the recording ends
# with exit status 4 and a one-line warning.
. "$(dirname "$0")/../lib.sh"

for ring in 16 256; do
    start_sim ov$ring --protocol binary --cups 8 --rate 1000 --duration 30 --time-scale 0 --seed 8
    "$BIN/cuplab-acquire" -q -o "$T/o$ring.h5" --no-reconnect --buffer $ring -P binary "$PTY" \
        </dev/null 2>"$T/err$ring"
    rc=$?
    wait_sim
    cat "$T/err$ring"
    h5check attr "$T/o$ring.h5" status complete || fail "ring $ring: status"
    h5check values "$T/o$ring.h5" "$T/ov$ring.log.csv" --min-fraction 0 || fail "ring $ring: values"
    [ $ring -gt 16 ] || h5check counter "$T/o$ring.h5" 0 overruns gt 0 || fail "no overrun with a 16-frame ring"
    "$PY" - "$T/o$ring.h5" "$T/ov$ring.log.csv" "$T/err$ring" $rc <<'PYEOF' || fail "ring $ring: frames unaccounted for"
import re, sys, h5py
f = h5py.File(sys.argv[1], "r")
rows = len(f["devices/dev0/samples"])
c = f["devices/dev0/counters"][0]
sent = sum(1 for _ in open(sys.argv[2])) - 1
codes = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
evented = 0
for e in f["events"][:]:
    if codes[int(e["kind"])] == "overrun":
        evented += int(re.search(r": (\d+) frames dropped", e["text"].decode()).group(1))
err = open(sys.argv[3]).read()
warning = re.fullmatch(r"cuplab-acquire: warning: .*\.h5: (\d+) frames \(.*\) dropped, .*\n", err)
warned = int(warning.group(1)) if warning else 0
rc = int(sys.argv[4])
print(f"sent {sent}, rows {rows}, frames {c['frames']}, overruns {c['overruns']}, "
      f"in overrun events {evented}, in the warning {warned}")
assert c["frames"] == rows, "frames counts the rows stored"
assert rows + c["overruns"] == sent, "every frame is a row or an overrun"
assert evented == c["overruns"], "overrun events add up to the counter"
assert warned == c["overruns"], f"the warning must say how many: {err!r}"
assert rc == (4 if c["overruns"] else 0), f"exit status {rc}"
assert err == "" or warning, f"stderr: {err!r}"
PYEOF
done
