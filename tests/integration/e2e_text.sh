#!/bin/sh
# Virtual device (text protocol, Arduino style) -> pty -> cuplab-acquire ->
# HDF5 -> h5py and cuplab-analyze: every value recorded equals what was sent.
. "$(dirname "$0")/../lib.sh"

start_sim text --cups 4 --rate 100 --duration 120 --time-scale 40 --seed 7 --checksum
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect --practitioner "P. One" \
    --technique pump --subject S1 "$PTY" </dev/null || fail "cuplab-acquire exited with $?"
wait_sim

h5check values "$T/s.h5" "$T/text.log.csv" || fail "recorded values differ from the sent ones"
h5check attr "$T/s.h5" status complete || fail "status"
h5check attr "$T/s.h5" practitioner "P. One" || fail "practitioner"
h5check attr "$T/s.h5" format cuplab-session || fail "format"
h5check counter "$T/s.h5" 0 malformed eq 0 || fail "malformed"
h5check counter "$T/s.h5" 0 checksum_errors eq 0 || fail "checksum errors"
h5check events "$T/s.h5" start 1 || fail "start event"
h5check events "$T/s.h5" stop 1 || fail "stop event"

"$BIN/cuplab-analyze" --format csv "$T/s.h5" >"$T/summary.csv" || fail "cuplab-analyze"
h5check summary "$T/summary.csv" "$T/text.log.csv" || fail "summary differs from the log"
"$BIN/cuplab-analyze" --format json "$T/s.h5" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert [r["cup"] for r in d["rows"]] == ["C1", "C2", "C3", "C4"], d
assert d["units"]["mean_raw"] == "counts"
' || fail "JSON output"
