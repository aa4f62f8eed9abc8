#!/bin/sh
# Above what the board sustains frames are lost, and never silently.  The
# firmware refuses such settings (board_commands.sh); built with its limits
# raised, it takes binary 4 x 2000 Hz and text 8 x 1000 Hz (docs/firmware.md:
# past what the CPU encodes), and then:
# binary frames skip their sequence numbers (gap events, lost_frames), both
# protocols say "dropped: N" (the total) as device events, the device time
# skips exactly the ticks of the frames left out, and every frame that came
# is still exactly what the converter made.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

make -s -C "$TOP" BUILD="$T/fw" FW_DEFS="-DFW_BINARY_BYTES_MAX=200000 \
    -DFW_TEXT_RATE_X_CHANNELS_MAX=16000" firmware >"$T/fw.out" 2>&1 ||
    { cat "$T/fw.out" >&2; fail "the firmware with raised limits does not build"; }
FW="$T/fw/firmware/cuplab-uno.elf"

run() { # NAME PROTOCOL CHANNELS RATE
    start_board "$1" --duration 6 --seed 11
    board_cmd "protocol $2" "channels $3" "rate $4" save >"$T/$1.cmd" ||
        fail "$1: commands failed: $(cat "$T/$1.cmd")"
    "$BIN/cuplab-acquire" -q -o "$T/$1.h5" --no-reconnect "$PTY:1000000:$2" </dev/null ||
        fail "$1: cuplab-acquire exited with $?"
    wait_board
    "$PY" "$TOP/tests/board_check.py" "$2" "$T/$1.h5" "$T/$1.log.csv" --rate "$4" \
        --channels "$3" --min-frames 1000 --gaps || fail "$1: recording differs from the board"
    "$PY" - "$T/$1.h5" "$2" "$4" <<'PYEOF' || fail "$1: the loss is not recorded"
import sys
import h5py
import numpy as np
path, protocol, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
with h5py.File(path, "r") as f:
    g = f["devices/dev0"]
    c = {k: int(g["counters"][0][k]) for k in g["counters"].dtype.names}
    dtime = g["device_time"][:]
    host = g["host_time"][:]
    ev = f["events"][:]
    text = [e["text"].decode() for e in ev]
    start = min(e["t"] for e, t in zip(ev, text) if t == "recording started")
told = [int(t.split(": ")[1]) for t in text if t.startswith("dropped: ")]
period = round(250000 / rate) * 4
missing = int(np.sum(np.diff(dtime) // period - 1))  # ticks without a frame
assert told and told == sorted(told) and told[-1] > 0, told
# the firmware's total trails by at most a second's drops, never exceeds
# what is missing (frames it dropped before the first one recorded aside)
assert missing >= told[-1] - told[0] and told[-1] <= missing + told[0] + rate, (missing, told)
if protocol == "binary":
    # every gap counted; each one after the start is an event saying how many
    skipped = np.diff(dtime) // period - 1
    after = skipped[host[1:] > start]  # those before came with the first read
    said = sum(int(t.split(" frames missing")[0].rsplit(" ", 1)[1]) for t in text
               if " frames missing after sequence " in t)
    assert c["lost_frames"] == missing and c["seq_gaps"] == np.count_nonzero(skipped), (c, missing)
    assert said == after.sum() > 0, (said, after.sum())
print(f"{protocol}: {missing} of {len(dtime) + missing} frames lost, the firmware said "
      f"dropped: {told[-1]} ({len(told)} reports); counters {c['seq_gaps']} gaps, "
      f"{c['lost_frames']} lost")
PYEOF
}
run bin binary 4 2000
run txt text 8 1000
echo "pass: frames lost above the board's limits are recorded"
