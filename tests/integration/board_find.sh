#!/bin/sh
# Ports by who is on them: two emulated boards configured as rig-a and
# rig-b, reachable through names in a folder (as udev's links are).
# --list-ports --identify shows which board is where; --identify and the
# recording name the boards by device serial only, in the other order than
# their links; rig-a is unplugged mid-session and comes back under another
# name, and the recording finds it there.  A device serial nobody announces
# is a one-line error naming what was found instead.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_two_boards "--seed 8 --unplug-at 10:1.5" "--seed 9"
mkdir "$T/ports"
ln -s "$PTY_A" "$T/ports/pa"
ln -s "$PTY_B" "$T/ports/pb"
ACQ="$BIN/cuplab-acquire"
SEARCH="--search=$T/ports/*"

"$ACQ" --configure serial=rig-a,channels=4,rate=200 "$T/ports/pa:1000000:binary" >"$T/cfg-a" \
    2>&1 || fail "configure rig-a: $(cat "$T/cfg-a")"
"$ACQ" --configure serial=rig-b,channels=4,rate=200 "$T/ports/pb:1000000:binary" >"$T/cfg-b" \
    2>&1 || fail "configure rig-b: $(cat "$T/cfg-b")"

"$ACQ" --list-ports --identify -b 1000000 -P binary "$SEARCH" >"$T/list" 2>"$T/list.err" ||
    fail "--list-ports --identify exited with $?: $(cat "$T/list.err")"
grep -A1 "^$T/ports/pa " "$T/list" | grep -q " device=rig-a firmware=cuplab-uno" ||
    fail "--list-ports --identify: rig-a not on pa: $(cat "$T/list")"
grep -A1 "^$T/ports/pb " "$T/list" | grep -q " device=rig-b firmware=cuplab-uno" ||
    fail "--list-ports --identify: rig-b not on pb: $(cat "$T/list")"

"$ACQ" --identify "$SEARCH" device=rig-b:1000000:binary >"$T/id-b" 2>&1 ||
    fail "--identify device=rig-b: $(cat "$T/id-b")"
grep -qx "device: rig-b" "$T/id-b" || fail "--identify device=rig-b: $(cat "$T/id-b")"

if "$ACQ" --identify --probe-timeout 3 "$SEARCH" device=rig-x:1000000:binary >"$T/x.out" \
    2>"$T/x.err"; then
    fail "a device serial nobody announces was found"
fi
[ "$(wc -l <"$T/x.err")" -eq 1 ] && grep -q "device=rig-x: no device announced it" "$T/x.err" &&
    grep -q "pa announced rig-a" "$T/x.err" && grep -q "pb announced rig-b" "$T/x.err" ||
    fail "not one line naming what was found: $(cat "$T/x.err")"

# udev's part on the replug: the old name goes, the board appears under another
(
    for _ in $(seq 1 600); do
        next=$(sed -n 2p "$T/a.board.out")
        if [ -n "$next" ]; then rm -f "$T/ports/pa"; ln -s "$next" "$T/ports/pc"; exit 0; fi
        sleep 0.05
    done
    exit 1
) &
RELINK=$!
"$ACQ" -q -o "$T/f.h5" -d 16 "$SEARCH" device=rig-b:1000000:binary device=rig-a:1000000:binary \
    </dev/null 2>"$T/acq.err" || fail "cuplab-acquire exited with $?: $(cat "$T/acq.err")"
wait "$RELINK" || fail "board a announced no second pty"
kill $PID_A $PID_B
wait $PID_A $PID_B 2>/dev/null

"$PY" "$TOP/tests/board_check.py" binary "$T/f.h5" "$T/b.log.csv" --rate 200 --channels 4 \
    --min-frames 1500 --dev 0 --device rig-b || fail "device 0 is not board b"
"$PY" "$TOP/tests/board_check.py" binary "$T/f.h5" "$T/a.log.csv" --rate 200 --channels 4 \
    --min-frames 1000 --dev 1 --device rig-a --restarts 1 || fail "device 1 is not board a"
"$PY" - "$T/f.h5" "$T/ports" <<'PYEOF' || fail "ports not recorded as documented"
import sys
import h5py
def s(v):
    return v.decode() if isinstance(v, bytes) else v
ports = sys.argv[2]
with h5py.File(sys.argv[1], "r") as f:
    d0, d1 = (dict(f[f"devices/dev{i}"].attrs) for i in (0, 1))
    events = [s(e["text"]) for e in f["events"][:]]
assert s(d0["port"]) == "device=rig-b" and s(d1["port"]) == "device=rig-a", (d0["port"], d1["port"])
assert s(d0["port_path"]) == ports + "/pb" and s(d1["port_path"]) == ports + "/pa", \
    (d0["port_path"], d1["port_path"])
assert "device=rig-a: device disconnected" in events, events
assert f"device=rig-a: reconnected on {ports}/pc" in events, events
print("rig-b on pb, rig-a on pa, then found again on pc")
PYEOF
echo "pass: ports by device serial, across a replug under another name"
