#!/bin/sh
# The firmware in text mode (Serial Plotter lines with # metadata), set up by
# host commands: 4 channels at 200 Hz; the sensor serials and the device
# serial it announces land in the session file, every count is the ADC's.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_board txt --duration 8 --seed 9
board_cmd "protocol text" "serial rig-7" "channels 4" "rate 200" "sensor 1 MPX-A1" \
    "sensor 2 MPX-B2" "sensor 3 MPX-C3" "sensor 4 MPX-D4" save >"$T/cmd.out" ||
    fail "commands failed: $(cat "$T/cmd.out")"
"$BIN/cuplab-acquire" -q -o "$T/t.h5" --no-reconnect "$PTY:1000000:text" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_board

"$PY" "$TOP/tests/board_check.py" text "$T/t.h5" "$T/txt.log.csv" --rate 200 --channels 4 \
    --min-frames 1300 --device rig-7 --serials MPX-A1,MPX-B2,MPX-C3,MPX-D4 || fail "recording differs"
"$PY" - "$T/t.h5" <<'PYEOF' || fail "announcement not recorded"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    a = f["devices/dev0"].attrs["announcement"]
a = a.decode() if isinstance(a, bytes) else a
print(a)
for line in ("device: rig-7", "channels: 4", "rate_hz: 200", "adc_bits: 11",
             "protocol: text", "protocol_version: 2", "sensor1: MPX-A1", "sensor2: MPX-B2",
             "sensor3: MPX-C3", "sensor4: MPX-D4"):
    assert line in a.splitlines(), line
PYEOF
