#!/bin/sh
# A wrong-baud-rate burst, junk bytes and corrupted frames in the stream are
# skipped and counted; everything recorded is exactly what was sent.
. "$(dirname "$0")/../lib.sh"

# text protocol with NMEA checksums
start_sim gt --cups 4 --rate 100 --duration 60 --time-scale 20 --seed 5 \
    --baud-garbage --garbage 0.05 --checksum
"$BIN/cuplab-acquire" -q -o "$T/gt.h5" --no-reconnect "$PTY" </dev/null || fail "acquire (text)"
wait_sim
h5check values "$T/gt.h5" "$T/gt.log.csv" --min-fraction 0.9 || fail "text values"
"$PY" - "$T/gt.h5" <<'PYEOF' || fail "text errors were not counted"
import sys, h5py
c = h5py.File(sys.argv[1], "r")["devices/dev0/counters"][0]
assert c["malformed"] + c["checksum_errors"] > 0 and c["skipped_bytes"] > 0, c
PYEOF

# binary protocol: corrupted frames fail their CRC, dropped ones are gaps
start_sim gb --protocol binary --cups 4 --rate 500 --duration 60 --time-scale 20 --seed 9 \
    --baud-garbage --garbage 0.02 --drop 25
"$BIN/cuplab-acquire" -q -o "$T/gb.h5" --no-reconnect -P binary "$PTY" </dev/null ||
    fail "acquire (binary)"
wait_sim
h5check values "$T/gb.h5" "$T/gb.log.csv" --min-fraction 0.95 || fail "binary values"
h5check counter "$T/gb.h5" 0 seq_gaps gt 0 || fail "gaps not counted"
h5check counter "$T/gb.h5" 0 lost_frames ge 25 || fail "dropped frames not counted"
h5check events "$T/gb.h5" gap 1 || fail "no gap event"
"$PY" - "$T/gb.h5" "$T/gb.truth.json" <<'PYEOF' || fail "counters disagree with the truth"
import sys, json, h5py
c = h5py.File(sys.argv[1], "r")["devices/dev0/counters"][0]
truth = json.load(open(sys.argv[2]))
print("counters", c, "truth faults", {k: v for k, v in truth.items() if not isinstance(v, (list, dict))})
assert c["checksum_errors"] + c["malformed"] > 0, c
PYEOF
