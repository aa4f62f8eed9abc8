#!/bin/sh
# The device-identity examples of docs/wire-protocols.md, fed to
# cuplab-acquire as a device would send them: the text example's identity
# and the binary metadata frame land in the device group's attributes, and
# each cup gets the sensor serial its channel announced.
. "$(dirname "$0")/../lib.sh"

for proto in text binary; do
    "$PY" "$TOP/tests/identity_device.py" $proto "$TOP/docs" "$T/dev-$proto" &
    DEV_PID=$!
    i=0
    while [ ! -e "$T/dev-$proto" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    "$BIN/cuplab-acquire" -q -o "$T/$proto.h5" -d 2 "$T/dev-$proto::$proto" </dev/null 2>"$T/err" ||
        fail "$proto: cuplab-acquire: $(cat "$T/err")"
    kill $DEV_PID 2>/dev/null
    wait $DEV_PID 2>/dev/null
done

"$PY" - "$T/text.h5" "$T/binary.h5" <<'PYEOF' || fail "identity not recorded as documented"
import sys, math, h5py
t, b = (h5py.File(p, "r") for p in sys.argv[1:3])
d = t["devices/dev0"].attrs
def s(v):
    return v.decode() if isinstance(v, bytes) else v
assert int(d["protocol_version"]) == 2, d["protocol_version"]
assert s(d["device_serial"]) == "uno-7" and s(d["firmware"]) == "cuplab-uno 0.1.0"
assert float(d["rate_hz"]) == 100 and int(d["adc_bits"]) == 11
assert s(d["adc_reference"]) == "AVCC" and float(d["adc_reference_mv"]) == 5000
assert [s(x) for x in d["sensor_serials"]] == ["MPX-0001", "MPX-0002"], d["sensor_serials"]
assert [s(x) for x in d["sensor_models"]] == ["MPXV6115V"] * 2, d["sensor_models"]
assert [s(c["sensor_serial"]) for c in t["cups"][:]] == ["MPX-0001", "MPX-0002"]
assert s(t["devices/dev0/device_time"].attrs["units"]) == "us", t["devices/dev0/device_time"].attrs["units"]
x = t["devices/dev0/samples"][:]
assert len(x) > 50 and set(map(tuple, x)) <= {(1881, 1880), (1882, 1879)}, (len(x), x[:4])

d = b["devices/dev0"].attrs
assert s(d["device_serial"]) == "uno-7", d["device_serial"]
assert int(d["protocol_version"]) == 1  # the example frame says only who it is
assert math.isnan(float(d["rate_hz"])) and int(d["adc_bits"]) == -1
c = b["devices/dev0/counters"][0]
assert c["malformed"] == 0 and c["checksum_errors"] == 0, c
x = b["devices/dev0/samples"][:]
assert len(x) > 50 and (x == [1881, 1880]).all(), (len(x), x[:4])
PYEOF
