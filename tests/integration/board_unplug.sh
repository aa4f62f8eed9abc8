#!/bin/sh
# The board's cable pulled in the middle of a recording and plugged in again:
# its pty goes away, the board is off for a while, and it comes back on
# another pty (as a replugged board may get another /dev name) behind the
# same stable name, like the links udev makes.  Both halves land in the same
# file, every frame equal to what the emulated converter made of the
# model's voltages; the unplug and the reconnect are events; the frames the
# board never sent while off are not counted as lost.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_board unp --seed 5 --unplug-at 4:1.5
ln -s "$PTY" "$T/uno"
# udev's part: point the stable name at each new pty the board announces
(
    for _ in $(seq 1 400); do
        next=$(sed -n 2p "$T/unp.board.out")
        if [ -n "$next" ]; then ln -sfn "$next" "$T/uno"; exit 0; fi
        sleep 0.05
    done
    exit 1
) &
RELINK=$!
"$BIN/cuplab-acquire" -q -o "$T/u.h5" -d 11 "$T/uno:1000000:binary" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait "$RELINK" || fail "the board announced no second pty"
kill "$SIM_PID"
wait_board
[ "$(sed -n 1p "$T/unp.board.out")" != "$(sed -n 2p "$T/unp.board.out")" ] ||
    fail "the board came back on the same pty"
"$PY" "$TOP/tests/board_check.py" binary "$T/u.h5" "$T/unp.log.csv" --rate 100 \
    --channels 8 --min-frames 700 --restarts 1 || fail "the frames do not match the board"
"$PY" - "$T/u.h5" <<'PYEOF' || fail "the unplug is not recorded as documented"
import sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    ev = f["events"][:]
    kinds = dict(zip(*map(list, zip(*[(v, k) for k, v in
                                      h5py.check_enum_dtype(ev.dtype["kind"]).items()]))))
    text = [(kinds[e["kind"]], e["text"].decode() if isinstance(e["text"], bytes) else e["text"])
            for e in ev]
names = [k for k, _ in text]
assert "disconnect" in names and "reconnect" in names, text
assert names.index("disconnect") < names.index("reconnect"), text
print("events:", [t for t in text if t[0] in ("disconnect", "reconnect", "gap")])
PYEOF
echo "pass: unplug and replug mid-session"
