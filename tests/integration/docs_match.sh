#!/bin/sh
# What docs/session-format.md and docs/wire-protocols.md say about a recorded
# file holds for a real recording: the counters and clock compounds have the
# documented fields in the documented order (the wire counters minus `meta`,
# plus the recorder's), the announcement is `key: value` lines joined with
# "\n" and none after the last, text-protocol labels stay in it while the
# cups keep their C1, C2 names, and frames read while waiting for the first
# frame are stamped no later than the `start` event.
. "$(dirname "$0")/../lib.sh"

start_sim lab --cups 2 --rate 100 --duration 600 --labels --seed 8
"$BIN/cuplab-acquire" -q -o "$T/l.h5" -d 2 "$PTY" </dev/null 2>"$T/err" ||
    fail "cuplab-acquire: $(cat "$T/err")"
kill "$SIM_PID" 2>/dev/null; wait_sim

"$PY" - "$T/l.h5" "$TOP/docs" <<'PYEOF' || fail "file and documents disagree"
import re, sys, h5py
f, docs = h5py.File(sys.argv[1], "r"), sys.argv[2]

def table_after(path, marker):
    """First column of the table that follows `marker` in a document."""
    text = open("%s/%s" % (docs, path), encoding="utf-8").read()
    rows, started = [], False
    for line in text[text.index(marker):].splitlines()[1:]:
        if line.startswith("|"):
            started = True
            cell = line.split("|")[1].strip()
            if cell not in ("field", "counter") and not cell.startswith("---"):
                rows += re.findall(r"`([a-z_]+)`", cell)
        elif started:
            return rows
    return rows

dev = f["devices/dev0"]
counters = list(dev["counters"].dtype.names)
assert counters == table_after("session-format.md", "The `counters` compound"), counters
wire = table_after("wire-protocols.md", "The decoder keeps")
assert [c for c in wire if c != "meta"] + ["reconnects", "overruns"] == counters, (wire, counters)
clock = list(dev["clock"].dtype.names)
assert clock == table_after("session-format.md", "The `clock` compound"), clock

ann = dev.attrs["announcement"]
lines = ann.split("\n")
assert ann and not ann.endswith("\n") and all(re.match(r"^[^#\s][^:]*: ", l) for l in lines), repr(ann)
assert "labels: c1,c2" in lines, lines
assert [c["cup_id"].decode() if isinstance(c["cup_id"], bytes) else c["cup_id"]
        for c in f["cups"][:]] == ["C1", "C2"]

names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
start = [e["t"] for e in f["events"][:] if names[int(e["kind"])] == "start"][0]
assert dev["host_time"][0] <= start, (dev["host_time"][0], start)
PYEOF
