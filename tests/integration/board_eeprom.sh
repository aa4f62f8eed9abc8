#!/bin/sh
# The settings in EEPROM: saved ones come back after a power cycle (a new run
# of the board with the same EEPROM image), the record has the layout
# docs/firmware.md gives (offsets, CRC-16), and a damaged record gives the
# defaults.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

ee="$T/eeprom.bin"
power_cycle() { # NAME COMMAND...: run the board with $ee, send the commands, stop it
    start_board "$1" --eeprom "$ee"; shift
    board_cmd "$@" >"$T/out.txt" || fail "commands failed: $(cat "$T/out.txt")"
    kill "$SIM_PID"
    wait_board
}

power_cycle a "serial rig-3" "protocol text" "channels 2" "rate 500" "sensor 2 S-22" \
    "model 2 MPXV6115V" save
[ -s "$ee" ] || fail "no EEPROM image written"
"$PY" - "$ee" <<'PYEOF' || fail "EEPROM record differs from docs/firmware.md"
import struct, sys
ee = open(sys.argv[1], "rb").read()
assert len(ee) == 1024, len(ee)
magic, layout, channels, rate, protocol, reserved = struct.unpack_from("<HBBHBB", ee, 0)
assert (magic, layout, channels, rate, protocol, reserved) == (0xC0B1, 2, 2, 500, 1, 0), \
    (hex(magic), layout, channels, rate, protocol, reserved)
cstr = lambda off: ee[off:off + 16].split(b"\0")[0].decode()
assert cstr(8) == "rig-3", cstr(8)
assert [cstr(24 + 16 * i) for i in range(8)] == ["", "S-22", "", "", "", "", "", ""]
assert [cstr(152 + 16 * i) for i in range(8)] == ["", "MPXV6115V", "", "", "", "", "", ""]
crc = 0xFFFF
for b in ee[:280]:
    crc ^= b
    for _ in range(8):
        crc = (crc >> 1) ^ (0xA001 if crc & 1 else 0)
stored, = struct.unpack_from("<H", ee, 280)
assert stored == crc, (hex(stored), hex(crc))
assert ee[282:] == b"\xff" * (1024 - 282)
print("EEPROM record as documented, CRC-16 0x%04X" % crc)
PYEOF

power_cycle b id
for line in "device: rig-3" "channels: 2" "rate_hz: 500" "protocol: text" "sensor1:" "sensor2: S-22" \
    "sensor2_model: MPXV6115V"; do
    grep -qx "$line" "$T/out.txt" || fail "after a power cycle: no '$line': $(cat "$T/out.txt")"
done

# A layout-1 record (the firmware before the sensor models: 152 bytes, its
# CRC-16 at 152) is taken over, with no models.
cp "$ee" "$T/eeprom2.bin"
"$PY" - "$ee" <<'PYEOF' || fail "cannot write a layout-1 record"
import struct, sys
p = sys.argv[1]
ee = bytearray(open(p, "rb").read())
ee[2] = 1
crc = 0xFFFF
for b in ee[:152]:
    crc ^= b
    for _ in range(8):
        crc = (crc >> 1) ^ (0xA001 if crc & 1 else 0)
ee[152:154] = struct.pack("<H", crc)
ee[154:] = b"\xff" * (1024 - 154)
open(p, "wb").write(ee)
PYEOF
power_cycle l1 id
for line in "device: rig-3" "channels: 2" "rate_hz: 500" "sensor2: S-22" "sensor2_model:"; do
    grep -qx "$line" "$T/out.txt" || fail "layout-1 record: no '$line': $(cat "$T/out.txt")"
done
cp "$T/eeprom2.bin" "$ee"

# one byte of the serial changed: the CRC no longer matches
"$PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[9] ^= 1; open(p, "wb").write(b)' "$ee"
power_cycle c id
for line in "device: cuplab-uno" "channels: 8" "rate_hz: 100" "protocol: binary" "sensor1:" "sensor8:"; do
    grep -qx "$line" "$T/out.txt" || fail "damaged record: no default '$line': $(cat "$T/out.txt")"
done
