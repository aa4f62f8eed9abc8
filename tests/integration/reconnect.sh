#!/bin/sh
# Unplug and return: the virtual device vanishes twice (its pty closes, the
# symlink the recorder opens disappears) and comes back on a new pty.  The
# session goes on, records disconnect/reconnect events, counts reconnects,
# and every frame the device sent while connected is recorded exactly.  While
# the device is gone the recorder must not spin: it uses little CPU.
. "$(dirname "$0")/../lib.sh"

start_sim rc --protocol binary --cups 4 --rate 200 --duration 120 --time-scale 10 --seed 4 \
    --link "$T/dev" --disconnect 30:1.5 --disconnect 80:1.5
"$BIN/cuplab-acquire" -q -o "$T/r.h5" -P binary "$T/dev" </dev/null &
acq=$!
wait_sim
sleep 1
kill -INT $acq
wait $acq || fail "cuplab-acquire exited with $?"

h5check values "$T/r.h5" "$T/rc.log.csv" || fail "values across reconnects"
h5check counter "$T/r.h5" 0 reconnects eq 2 || fail "reconnect count"
h5check events "$T/r.h5" disconnect 2 || fail "disconnect events"
h5check events "$T/r.h5" reconnect 2 || fail "reconnect events"
# the frames lost while unplugged show up as a sequence gap, not as garbage
h5check counter "$T/r.h5" 0 seq_gaps eq 2 || fail "gaps"
"$PY" - "$T/r.h5" "$T/rc.truth.json" <<'PYEOF' || fail "lost frames disagree with the truth"
import sys, json, h5py
c = h5py.File(sys.argv[1], "r")["devices/dev0/counters"][0]
t = json.load(open(sys.argv[2]))
lost = sum(d["frames_lost"] for d in t["disconnects"])
assert c["lost_frames"] == lost, (c["lost_frames"], lost)
PYEOF

# CPU used while the device is gone for 3 s: well under 10 % of a core
start_sim gone --cups 2 --rate 50 --duration 600 --link "$T/dev2" --disconnect 2:3
"$BIN/cuplab-acquire" -q -o "$T/g.h5" "$T/dev2" </dev/null &
acq=$!
sleep 2.5
t0=$(awk '{print $14 + $15}' /proc/$acq/stat)
sleep 2
t1=$(awk '{print $14 + $15}' /proc/$acq/stat)
kill -INT $acq; wait $acq
kill "$SIM_PID" 2>/dev/null; wait_sim
ticks=$((t1 - t0))
hz=$(getconf CLK_TCK)
echo "CPU while unplugged: $ticks ticks in 2 s (CLK_TCK $hz)"
[ $((ticks * 100)) -le $((hz * 2 * 10)) ] || fail "recorder used $ticks ticks in 2 s while the device was gone"
