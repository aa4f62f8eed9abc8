#!/bin/sh
# A board reset in the middle of a recording (the reset button, no
# reconnect): the frames on both sides are kept in the same file, the
# sequence restart is a gap event, the device's clock going back is a device
# event, and the clock estimate starts again instead of mixing the two
# clocks.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_board rst --duration 12 --seed 3 --reset-at 6
"$BIN/cuplab-acquire" -q -o "$T/r.h5" --no-reconnect "$PTY:1000000:binary" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_board
"$PY" - "$T/r.h5" <<'PYEOF' || fail "the reset is not recorded as documented"
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f:
    g = f["devices/dev0"]
    seq = g["sequence"][:].astype(np.int64)
    clock = g["clock"][0]
    counters = {k: int(g["counters"][0][k]) for k in g["counters"].dtype.names}
    events = [e["text"].decode() if isinstance(e["text"], bytes) else e["text"]
              for e in f["events"][:]]
back = np.flatnonzero(np.diff(seq) < 0)
assert len(back) == 1, back
i = back[0]
assert seq[i + 1] == 0 and i > 400 and len(seq) - i > 400, (i, len(seq), seq[i + 1])
assert np.all(np.diff(seq[:i + 1]) == 1) and np.all(np.diff(seq[i + 1:]) == 1)
assert counters["lost_frames"] == 0 and counters["malformed"] == 0, counters
assert any(e.endswith(f"sequence restarted after {seq[i]}") for e in events), events
assert any("device clock went back" in e and e.endswith("device restarted") for e in events), events
# The estimate after the reset: the board's crystal, not a blend of two clocks.
assert abs(clock["drift_ppm"]) < 500 and clock["residual_sd_s"] < 0.01, clock
print(f"reset after frame {seq[i]}, {len(seq) - i - 1} frames after it; clock after the "
      f"reset: drift {clock['drift_ppm']:.1f} ppm, residual {clock['residual_sd_s'] * 1e3:.2f} ms")
PYEOF
echo "pass: reset mid-session"
