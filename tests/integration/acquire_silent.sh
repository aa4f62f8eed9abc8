#!/bin/sh
# A port that stays silent is reported as such, with the time actually
# waited; a port that sends bytes but no valid frame (the wrong protocol) is
# the one that asks about the baud rate or protocol.  No file either way.
. "$(dirname "$0")/../lib.sh"

# A pseudo-terminal nobody writes to.
"$PY" -c '
import os, sys, time
m, s = os.openpty()
print(os.ttyname(s), flush=True)
time.sleep(30)
' >"$T/pty.out" &
SIM_PID=$!
PTY=$(first_line "$T/pty.out") || fail "no pty"
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --probe-timeout 1.5 "$PTY" </dev/null 2>"$T/err"
rc=$?
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""
[ "$rc" -eq 3 ] || fail "silent port: exit status $rc, not 3"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "silent port: not one line: $(cat "$T/err")"
grep -Eq "^cuplab-acquire: $PTY: nothing received in 1\.[5-9] s" "$T/err" ||
    fail "silent port: $(cat "$T/err")"
grep -q "baud" "$T/err" && fail "silent port blamed on the baud rate: $(cat "$T/err")"
[ -e "$T/s.h5" ] && fail "silent port: a file was written"

# Text frames read as binary: bytes, but no valid frame.
start_sim w --cups 2 --rate 100 --duration 30 --seed 5
"$BIN/cuplab-acquire" -q -o "$T/w.h5" -P binary --probe-timeout 1.5 "$PTY" </dev/null 2>"$T/err"
rc=$?
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""
[ "$rc" -eq 3 ] || fail "wrong protocol: exit status $rc, not 3"
grep -Eq "no valid binary frame within 1\.[5-9] s \([1-9][0-9]* bytes.*wrong baud rate or protocol\?" "$T/err" ||
    fail "wrong protocol: $(cat "$T/err")"
[ -e "$T/w.h5" ] && fail "wrong protocol: a file was written"
exit 0
