#!/bin/sh
# Marker commands typed while recording become events on the host clock;
# each is confirmed with one line, and a line that is not a command is
# reported and ignored.
. "$(dirname "$0")/../lib.sh"

start_sim mk --cups 3 --rate 100 --duration 600 --seed 2
{
    sleep 1.5
    echo "applied C2 first cup on"
    echo "bogus command"
    echo "released all"
    echo "note subject reports warmth"
    sleep 1
} | "$BIN/cuplab-acquire" -o "$T/m.h5" --markers -d 4 "$PTY" 2>"$T/err" ||
    fail "cuplab-acquire exited with $?"
kill "$SIM_PID" 2>/dev/null; wait_sim
grep -q "ignored 'bogus command'" "$T/err" || fail "bad command not reported: $(cat "$T/err")"
grep "marker recorded: " "$T/err" >"$T/ok"
printf "cuplab-acquire: marker recorded: '%s'\n" "applied C2 first cup on" "released all" \
    "note subject reports warmth" | cmp -s - "$T/ok" || fail "confirmations: $(cat "$T/err")"
"$PY" - "$T/m.h5" <<'PYEOF' || fail "marker events"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
ev = [(names[int(e["kind"])], int(e["cup"]), e["text"].decode(), float(e["t"])) for e in f["events"][:]]
marks = [e for e in ev if e[0] in ("applied", "released", "note")]
assert [(k, c, t) for k, c, t, _ in marks] == [
    ("applied", 1, "first cup on"), ("released", -1, ""), ("note", -1, "subject reports warmth")], ev
assert all(1.0 < e[3] < 4.0 for e in marks), marks
PYEOF
