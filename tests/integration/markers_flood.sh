#!/bin/sh
# Markers piped in faster than anyone types: thousands of lines (commands,
# abbreviations, notes longer than an event's text field, invalid lines)
# written in one go.  Every valid line becomes exactly one event with its
# text (a comment longer than 127 bytes stored cut at a character boundary,
# with one warning), every invalid line exactly one rejection; lines still
# waiting in the pipe when the recording is stopped are read before the
# file is closed.
. "$(dirname "$0")/../lib.sh"

"$PY" - "$T" <<'PYEOF' || fail "cannot make the marker input"
import json, sys
T = sys.argv[1]
for name, n, seed in (("flood", 6000, 1), ("queued", 900, 2)):
    lines, want, bad, long_ = [], [], 0, 0
    for i in range(n):
        k = (i * 7 + seed) % 13
        if k == 0:
            lines.append("bogus%d please" % i); bad += 1; continue
        if k == 1:
            lines.append("applied C9 v%d" % i); bad += 1; continue
        if k == 2:  # a long note: its comment does not fit in 127 bytes
            text = ("v%d " % i) + "é" * 70 + "x" * (i % 1500)
            lines.append("note " + text)
            # cut to 127 bytes, never inside a character
            want.append(("note", -1, text.encode()[:127].decode("utf-8", "ignore")))
            long_ += 1
            continue
        cmd = [("applied", "C%d" % (i % 3 + 1), i % 3), ("r", "%d" % (i % 3 + 1), i % 3),
               ("moved", "all", -1), ("p", "C3", 2), ("n", None, -1),
               ("released", None, -1)][k % 6]
        kind = {"r": "released", "p": "repumped", "n": "note"}.get(cmd[0], cmd[0])
        text = "v%d sat up" % i if k % 6 != 5 else ""
        lines.append(" ".join(x for x in (cmd[0], cmd[1], text) if x))
        want.append((kind, cmd[2], text))
    open("%s/%s.txt" % (T, name), "w").write("\n".join(lines) + "\n")
    json.dump({"want": want, "bad": bad, "long": long_}, open("%s/%s.json" % (T, name), "w"))
PYEOF

check() { # NAME
    "$PY" - "$T/$1.h5" "$T/$1.json" "$T/$1.err" <<'PYEOF' || fail "$1: marker events"
import json, sys, h5py
f = h5py.File(sys.argv[1], "r")
exp = json.load(open(sys.argv[2]))
err = open(sys.argv[3], encoding="utf-8", errors="replace").read().splitlines()
names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
got = [(names[int(e["kind"])], int(e["cup"]), e["text"].decode())
       for e in f["events"][:]
       if names[int(e["kind"])] in ("applied", "released", "moved", "repumped", "note")]
want = [tuple(w) for w in exp["want"]]
print("%s: %d events of %d, %d rejections of %d, %d truncation warnings of %d"
      % (sys.argv[1].split("/")[-1], len(got), len(want),
         sum("ignored" in l for l in err), exp["bad"], sum("truncated" in l for l in err),
         exp["long"]))
for i, (g, w) in enumerate(zip(got, want)):
    assert g == w, (i, g, w)
assert len(got) == len(want), (len(got), len(want))
assert sum("ignored" in l for l in err) == exp["bad"], err[:5]
assert sum("truncated" in l for l in err) == exp["long"], err[:5]
assert len(err) == exp["bad"] + exp["long"], [l for l in err if "ignored" not in l and "truncated" not in l][:5]
PYEOF
}

# All at once while recording.
start_sim flood --cups 3 --rate 100 --duration 600 --seed 3
{ sleep 1; cat "$T/flood.txt"; sleep 1; } |
    "$BIN/cuplab-acquire" -q -o "$T/flood.h5" --markers -d 6 "$PTY" 2>"$T/flood.err" ||
    fail "cuplab-acquire exited with $?: $(tail -n 3 "$T/flood.err")"
kill "$SIM_PID" 2>/dev/null; wait_sim
check flood

# Written just before a stop: still in the pipe when SIGTERM arrives.
start_sim queued --cups 3 --rate 100 --duration 600 --seed 4
mkfifo "$T/in"
"$BIN/cuplab-acquire" -q -o "$T/queued.h5" --markers "$PTY" <"$T/in" 2>"$T/queued.err" &
acq=$!
exec 3>"$T/in"
sleep 1.5
cat "$T/queued.txt" >&3
kill -TERM "$acq"
sleep 0.5
exec 3>&-
wait "$acq" || fail "cuplab-acquire exited with $?: $(tail -n 3 "$T/queued.err")"
kill "$SIM_PID" 2>/dev/null; wait_sim
check queued
