#!/bin/sh
# --raw keeps every byte read from the ports (and every typed marker); a
# recording replayed from that capture gives the same rows, counters and
# markers as the live one.  A damaged capture is refused with one line.
. "$(dirname "$0")/../lib.sh"

start_sim rp --cups 4 --rate 200 --duration 60 --time-scale 10 --seed 13 --garbage 0.01
{ sleep 2; echo "applied C3 replay me"; sleep 6; } |
    "$BIN/cuplab-acquire" -q -o "$T/live.h5" --raw "$T/cap.raw" --markers --no-reconnect "$PTY" ||
    fail "live recording exited with $?"
wait_sim
"$BIN/cuplab-acquire" -q -o "$T/again.h5" --replay "$T/cap.raw" </dev/null || fail "replay exited with $?"

h5check values "$T/again.h5" "$T/rp.log.csv" --min-fraction 0.95 || fail "replayed values"
"$PY" - "$T/live.h5" "$T/again.h5" <<'PYEOF' || fail "replay differs from the live recording"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for k in ("samples", "device_time", "host_time", "sequence"):
    x, y = a["devices/dev0/" + k][:], b["devices/dev0/" + k][:]
    assert np.array_equal(x, y), (k, x.shape, y.shape)
ca, cb = a["devices/dev0/counters"][0], b["devices/dev0/counters"][0]
for k in ("bytes", "frames", "malformed", "checksum_errors", "skipped_bytes"):
    assert ca[k] == cb[k], (k, ca, cb)
def marks(f):
    names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
    return [(names[int(e["kind"])], int(e["cup"]), e["text"]) for e in f["events"][:]
            if names[int(e["kind"])] == "applied"]
assert marks(a) == marks(b) == [("applied", 2, b"replay me")], (marks(a), marks(b))
PYEOF

head -c 100 "$T/cap.raw" >"$T/short.raw"
printf 'nonsense\n' >"$T/bad.raw"
"$BIN/cuplab-acquire" -o "$T/bad.h5" --replay "$T/bad.raw" 2>"$T/err"
[ $? -eq 3 ] || fail "damaged capture should exit 3"
grep -q "bad.raw" "$T/err" || fail "message does not name the capture: $(cat "$T/err")"
[ -e "$T/bad.h5" ] && fail "a session was created from a damaged capture"
true
