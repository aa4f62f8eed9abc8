#!/bin/sh
# The firmware on the emulated ATmega328P, binary protocol at 1 Mbaud,
# 8 channels x 1 kHz: no frame lost, the device clock steps by exactly the
# period and follows the 16 MHz clock, every count is what the ADC makes of
# the voltage the board applied.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_board bin --duration 12 --seed 4
# Opening the port resets the board (as on a real Uno): the rate must be saved.
board_cmd "rate 1000" save >"$T/cmd.out" || fail "rate command"
grep -qx "ok: rate 1000" "$T/cmd.out" || fail "no ok for the rate command"
grep -qx "protocol_version: 2" "$T/cmd.out" || fail "no identity at boot: $(cat "$T/cmd.out")"
"$BIN/cuplab-acquire" -q -o "$T/b.h5" --no-reconnect "$PTY:1000000:binary" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_board

"$PY" "$TOP/tests/board_check.py" binary "$T/b.h5" "$T/bin.log.csv" \
    --rate 1000 --channels 8 --min-frames 9000 || fail "recording differs from the board"
# The interrupt times docs/firmware.md states (the emulator's speed on this
# machine is only reported: a slower emulation loses no frame).
"$PY" - "$T/bin.stats.json" <<'PYEOF' || fail "interrupt times above the documented ones"
import json, sys
s = json.load(open(sys.argv[1]))
isr = s["isr_cycles"]
print("realtime factor %.3f, CPU asleep %.3f, stack %d bytes, ISR cycles: %s"
      % (s["realtime_factor"], s["cpu_asleep"], s["stack_bytes_max"], isr))
assert isr["ADC"]["max"] <= 111, isr
assert isr["TIMER1_COMPA"]["max"] <= 248, isr
assert isr["USART_UDRE"]["max"] <= 57, isr
assert s["stack_bytes_max"] <= 256, s
PYEOF
