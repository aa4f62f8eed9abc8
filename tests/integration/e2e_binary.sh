#!/bin/sh
# Binary (COBS + CRC-32) protocol end to end at 1 kHz, 8 channels: values,
# sequence numbers and device times recorded exactly; h5dump reads the file.
. "$(dirname "$0")/../lib.sh"

start_sim bin --protocol binary --cups 8 --rate 1000 --duration 30 --time-scale 5 --seed 3
"$BIN/cuplab-acquire" -q -o "$T/b.h5" --no-reconnect -P binary "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

h5check values "$T/b.h5" "$T/bin.log.csv" || fail "recorded values differ from the sent ones"
h5check counter "$T/b.h5" 0 seq_gaps eq 0 || fail "sequence gaps"
h5check counter "$T/b.h5" 0 frames eq 30000 || fail "frame count"
if command -v h5dump >/dev/null; then
    h5dump -A "$T/b.h5" | grep -q '"cuplab-session"' || fail "h5dump cannot read the file"
fi
