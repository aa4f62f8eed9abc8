#!/bin/sh
# Two devices in one session, one text and one binary at different rates and
# baud settings, mapped to cups by the command line: each is recorded exactly,
# neither disturbs the other, and a port cannot be opened twice.
. "$(dirname "$0")/../lib.sh"

start_sim a --cups 2 --rate 100 --duration 60 --time-scale 10 --seed 21 --checksum
pty_a=$PTY; pid_a=$SIM_PID
start_sim b --protocol binary --cups 3 --rate 500 --duration 60 --time-scale 10 --seed 22
pty_b=$PTY; pid_b=$SIM_PID

# a second recorder on a port already in use is refused
"$BIN/cuplab-acquire" -q -o "$T/p.h5" --no-reconnect \
    --cup neck=0:1,site=neck,material=glass --cup L=1:0,site=left-shoulder --cup R=1:2 \
    "$pty_a:9600:text" "$pty_b:921600:binary" </dev/null &
acq=$!
sleep 0.5
"$BIN/cuplab-acquire" -o "$T/busy.h5" "$pty_a" </dev/null 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "second opener: exit $rc, expected 3"
grep -q busy "$T/err" || fail "second opener: $(cat "$T/err")"
[ -e "$T/busy.h5" ] && fail "busy port created a file"

wait $acq || fail "cuplab-acquire exited with $?"
SIM_PID=$pid_a; wait_sim
SIM_PID=$pid_b; wait_sim
h5check values "$T/p.h5" "$T/a.log.csv" --dev 0 || fail "device 0"
h5check values "$T/p.h5" "$T/b.log.csv" --dev 1 || fail "device 1"
"$PY" - "$T/p.h5" <<'PYEOF' || fail "device settings or cup table"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
d0, d1 = f["devices/dev0"].attrs, f["devices/dev1"].attrs
assert (d0["protocol"], d0["baud"], d0["channels"]) == ("text", 9600, 2), dict(d0)
assert (d1["protocol"], d1["baud"], d1["channels"]) == ("binary", 921600, 3), dict(d1)
cups = [(c["cup_id"].decode() if isinstance(c["cup_id"], bytes) else c["cup_id"], int(c["device"]), int(c["channel"])) for c in f["cups"][:]]
assert cups == [("neck", 0, 1), ("L", 1, 0), ("R", 1, 2)], cups
site = f["cups"][0]["site"]
assert (site.decode() if isinstance(site, bytes) else site) == "neck"
PYEOF
