#!/bin/sh
# The reader checks the schema against the data when a file is opened:
# datatype class and rank of each row dataset, the "channels" attribute
# against the width of samples, host_time finite and non-decreasing (NaN
# only at the end: rows a write never filled, left out).  Each damaged
# variant, analysed as a table, as JSON and with --write, exits 1 with one
# line naming the file and the problem, and --write leaves it unchanged.
# Rows claimed beyond what the storage holds are left out.  Stored profiles
# that cannot be used are named in a warning, and a profile whose evaluation
# overflows is refused by cuplab-calibrate and cuplab-analyze -p.
. "$(dirname "$0")/../lib.sh"

start_sim sch --cups 2 --rate 50 --duration 30 --time-scale 30 --seed 5
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

"$PY" - "$T" <<'PY' || fail "h5py could not make the test files"
import shutil, sys
import h5py, numpy as np
d = sys.argv[1]
def variant(name, change):
    shutil.copy(f"{d}/s.h5", f"{d}/{name}.h5")
    with h5py.File(f"{d}/{name}.h5", "r+") as f:
        change(f["devices/dev0"])
def replace(g, name, data):
    units = g[name].attrs["units"]
    del g[name]
    g.create_dataset(name, data=data, maxshape=(None,) + np.shape(data)[1:], chunks=True)
    g[name].attrs["units"] = units
def host(g, change):
    t = g["host_time"][:]
    change(t)
    g["host_time"][...] = t
variant("seqstr", lambda g: replace(g, "sequence", np.array([b"%d" % i for i in g["sequence"][:]])))
variant("seqfloat", lambda g: replace(g, "sequence", g["sequence"][:].astype(float)))
variant("samples1d", lambda g: replace(g, "samples", g["samples"][:, 0]))
variant("samplesint", lambda g: replace(g, "samples", g["samples"][:].astype(np.int32)))
variant("host2d", lambda g: replace(g, "host_time", np.stack([g["host_time"][:]] * 2, axis=1)))
variant("hoststr", lambda g: replace(g, "host_time", np.array([b"x"] * g["host_time"].shape[0])))
variant("devtime2d", lambda g: replace(g, "device_time", np.stack([g["device_time"][:]] * 2, axis=1)))
variant("hostrev", lambda g: host(g, lambda t: t.__setitem__(slice(None), np.linspace(60, 0, len(t)))))
variant("hostback", lambda g: host(g, lambda t: t.__setitem__(700, t[700] - 5)))
variant("hostnan", lambda g: host(g, lambda t: t.__setitem__(300, np.nan)))
variant("hostinf", lambda g: host(g, lambda t: t.__setitem__(10, np.inf)))
for name, v in (("ch0", 0), ("chneg", -1), ("ch33", 33), ("chbig", 10**9), ("ch3", 3)):
    variant(name, lambda g, v=v: g.attrs.create("channels", v, dtype="i4"))
variant("chstr", lambda g: g.attrs.__setitem__("channels", "two"))
variant("chnone", lambda g: g.attrs.__delitem__("channels"))
# the rows a write never filled: NaN to the end, left out
variant("hosttail", lambda g: host(g, lambda t: t.__setitem__(slice(-25, None), np.nan)))
# rows claimed beyond the storage: no data behind them, left out
def grow(g):
    for k in ("samples", "device_time", "host_time", "sequence"):
        g[k].resize(2**40, axis=0)
variant("claimed", grow)
PY

expect() {
    name=$1 what=$2
    for mode in table json write; do
        cp "$T/$name.h5" "$T/w.h5"
        case $mode in
        table) "$BIN/cuplab-analyze" -q "$T/w.h5" >"$T/out" 2>"$T/err" ;;
        json) "$BIN/cuplab-analyze" -q --format json "$T/w.h5" >"$T/out" 2>"$T/err" ;;
        write) "$BIN/cuplab-analyze" -q --write "$T/w.h5" >"$T/out" 2>"$T/err" ;;
        esac
        rc=$?
        [ $rc -eq 1 ] || fail "$name ($mode): exit status $rc (expected 1): $(cat "$T/err")"
        [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$name ($mode): not one line: $(cat "$T/err")"
        grep -qF "w.h5: damaged session file (/devices/dev0$what" "$T/err" ||
            fail "$name ($mode): message: $(cat "$T/err")"
        [ -s "$T/out" ] && fail "$name ($mode): results printed for a bad file"
        cmp -s "$T/w.h5" "$T/$name.h5" || fail "$name ($mode): the file was changed"
    done
    echo "$name: $(cat "$T/err")"
}
expect seqstr "/sequence: string data, integer expected)"
expect seqfloat "/sequence: floating-point data, integer expected)"
expect samples1d "/samples: 1-dimensional, 2-dimensional expected)"
expect samplesint "/samples: integer data, floating-point expected)"
expect host2d "/host_time: 2-dimensional, 1-dimensional expected)"
expect hoststr "/host_time: string data, floating-point expected)"
expect devtime2d "/device_time: 2-dimensional, 1-dimensional expected)"
expect hostrev "/host_time: row 1 goes back from 60.000000 s to 59.9"
expect hostback "/host_time: row 700 goes back from"
expect hostnan "/host_time: row 300 is NaN, row 301 is not)"
expect hostinf "/host_time: row 10 is infinite)"
expect ch0 ": \"channels\" attribute is 0, samples has 2 columns)"
expect chneg ": \"channels\" attribute is -1, samples has 2 columns)"
expect ch33 ": \"channels\" attribute is 33, samples has 2 columns)"
expect chbig ": \"channels\" attribute is 1000000000, samples has 2 columns)"
expect ch3 ": \"channels\" attribute is 3, samples has 2 columns)"
expect chstr ": no integer \"channels\" attribute)"
expect chnone ": no integer \"channels\" attribute)"

"$BIN/cuplab-analyze" -q --format json "$T/hosttail.h5" >"$T/tail.json" 2>"$T/err" ||
    fail "NaN rows at the end: exit $?: $(cat "$T/err")"
"$BIN/cuplab-analyze" -q --format json "$T/s.h5" >"$T/intact.json" || fail "intact file"
"$PY" - "$T/tail.json" "$T/intact.json" <<'PY' || fail "NaN rows at the end: wrong results"
import json, sys
tail, intact = (json.load(open(p))["rows"] for p in sys.argv[1:])
assert len(tail) == len(intact) == 2
for a, b in zip(tail, intact):
    assert a["samples"] == b["samples"] - 25, (a["samples"], b["samples"])
PY

timeout 60 "$BIN/cuplab-analyze" -q --format json "$T/claimed.h5" >"$T/claimed.json" 2>"$T/err" ||
    fail "rows claimed beyond the storage: exit $?: $(cat "$T/err")"
"$PY" - "$T/claimed.json" "$T/intact.json" <<'PY' || fail "rows claimed beyond the storage: results"
import json, sys
a, b = (json.load(open(p))["rows"] for p in sys.argv[1:])
assert [x["samples"] for x in a] == [x["samples"] for x in b], (a, b)
PY

# Stored profiles that cannot be used: each named with what is wrong.
"$PY" - "$T" <<'PY' || fail "h5py could not store the profiles"
import shutil, sys
import h5py
d = sys.argv[1]
shutil.copy(f"{d}/s.h5", f"{d}/profiles.h5")
head = '{"format": "cuplab-profile", "version": 1, "kind": "sensor", "sensor": {"serial": "SIM-5-01"}, '
texts = [head + '"transfer": {"coefficients": [1, 2]',
         head + '"transfer": {"coefficients": [NaN, 0.03]}}',
         head + '"x": ' + "[" * 200000 + "]" * 200000 + "}",
         head + '"transfer": {"coefficients": [1e308, 1e308], "raw_min": 0, "raw_max": 4095}}']
with h5py.File(f"{d}/profiles.h5", "r+") as f:
    if "calibration/profiles" in f:
        del f["calibration/profiles"]
    f.create_dataset("calibration/profiles", data=texts, dtype=h5py.string_dtype())
PY
"$BIN/cuplab-analyze" --format json "$T/profiles.h5" >"$T/out" 2>"$T/err" ||
    fail "stored profiles: exit $?: $(cat "$T/err")"
for c in "0 (/calibration/profiles[0]) skipped: not valid JSON (line 1, column" \
    "1 (/calibration/profiles[1]) skipped: not valid JSON (line 1, column" \
    "2 (/calibration/profiles[2]) skipped: not valid JSON (line 1, column" \
    "maximum parsing depth" \
    "3 (/calibration/profiles[3]) skipped: transfer function gives"; do
    grep -qF "profiles.h5: stored profile $c" "$T/err" || grep -qF "$c" "$T/err" ||
        fail "stored profiles: no '$c': $(cat "$T/err")"
done

# A profile whose evaluation overflows: refused with its name, not "inf".
printf '%s\n' '{"format": "cuplab-profile", "version": 1, "kind": "sensor",' \
    ' "sensor": {"serial": "SIM-5-01"}, "valid_until": "2099-12-31",' \
    ' "transfer": {"coefficients": [1e308, 1e308], "raw_min": 0, "raw_max": 4095}}' >"$T/huge.json"
"$BIN/cuplab-calibrate" apply "$T/huge.json" 2000 >"$T/out" 2>"$T/err"
rc=$?
[ $rc -ne 0 ] || fail "calibrate apply with 1e308 coefficients: exit 0: $(cat "$T/out")"
grep -qF "huge.json: transfer function gives" "$T/err" || fail "apply: $(cat "$T/err")"
grep -q inf "$T/out" && fail "apply printed inf"
"$BIN/cuplab-analyze" -q -p "$T/huge.json" "$T/s.h5" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -ne 0 ] || fail "analyze -p with 1e308 coefficients: exit 0"
grep -qF "huge.json: transfer function gives" "$T/err" || fail "analyze -p: $(cat "$T/err")"
true
