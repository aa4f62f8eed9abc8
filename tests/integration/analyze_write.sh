#!/bin/sh
# cuplab-analyze --write: the results go into /analysis of a finished session
# file and nothing else changes; a second --write replaces them; a file being
# recorded, one without a final status and a foreign file are refused with a
# one-line error, untouched.
. "$(dirname "$0")/../lib.sh"

start_sim w --cups 3 --rate 50 --duration 300 --time-scale 100 --seed 8
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim
cp "$T/s.h5" "$T/orig.h5"

"$BIN/cuplab-analyze" -q --nominal-sensor --format json --write "$T/s.h5" >"$T/r.json" ||
    fail "--write exited with $?"
"$BIN/cuplab-analyze" -q --nominal-sensor --format json --write "$T/s.h5" >"$T/r2.json" ||
    fail "second --write exited with $?"
h5check values "$T/s.h5" "$T/w.log.csv" || fail "recording changed"
"$PY" - "$T/s.h5" "$T/orig.h5" "$T/r2.json" <<'PY' || fail "/analysis contents"
import json, sys
import h5py, numpy as np
new, orig, printed = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r"), json.load(open(sys.argv[3]))
# Everything but /analysis is as recorded.
def walk(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o) if not n.startswith("analysis") else None)
    return out
a, b = walk(new), walk(orig)
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
conversion = {"unit", "conversion", "offset", "channel_conversion", "channel_offset"}
for name, obj in b.items():
    if isinstance(obj, h5py.Dataset):
        assert np.array_equal(obj[()], a[name][()]), name
    x, y = dict(obj.attrs), dict(a[name].attrs)
    if name.endswith("/samples"):  # but for the conversion of the raw samples
        assert conversion <= y.keys(), (name, y.keys())
        y = {k: v for k, v in y.items() if k not in conversion}
    assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=x[k].dtype.kind == "f")
                                        if isinstance(x[k], np.ndarray) or isinstance(x[k], np.floating)
                                        else x[k] == y[k] for k in x), name
assert {k: v for k, v in new.attrs.items()} == {k: v for k, v in orig.attrs.items()}
# One /analysis group: the JSON document and one dataset per column.
g = new["analysis"]
assert set(g.keys()) == {"results", "cups", "series"}, list(g.keys())
doc = json.loads(g["results"][()])
assert doc["format"] == "cuplab-analysis" and doc["rows"] == printed["rows"]
assert doc["vacuum_sign"] == "positive below ambient"
cups = g["cups"]
assert list(cups.keys()) == sorted(printed["rows"][0].keys()), list(cups.keys())
assert [c.decode() for c in cups["cup"][:]] == ["C1", "C2", "C3"]
assert cups["peak_vacuum"].attrs["units"] == "kPa"
assert np.allclose(cups["peak_vacuum"][:], [r["peak_vacuum"] for r in printed["rows"]])
assert "software_version" in g.attrs and "created_utc" in g.attrs
# One calibrated series per cup, in cup-table order, on the device clock's
# time axis (the recording ran 100 times faster than real time, so host
# times are bunched), whose peak is the reported one.
series = g["series"]
assert sorted(series.keys(), key=int) == ["0", "1", "2"], list(series.keys())
for i, row in enumerate(printed["rows"]):
    s = series[str(i)]
    assert s.attrs["cup"] == row["cup"] and s.attrs["calibration"] == row["calibration"]
    assert s["vacuum"].attrs["units"] == "kPa" and s["time_s"].attrs["units"] == "s"
    assert s["vacuum"].attrs["sign"] == "positive below ambient"
    assert s["phase"].attrs["names"] == "baseline,evacuation,hold,release"
    v, t, ph = s["vacuum"][:], s["time_s"][:], s["phase"][:]
    assert len(v) == len(t) == len(ph) == row["samples"]
    dev = new["devices/dev0/device_time"]
    dev_s = (dev[:] - dev[0]) * {"us": 1e-6, "ms": 1e-3}[dev.attrs["units"]]
    assert np.allclose(t - t[0], dev_s, rtol=1e-3, atol=1e-6)
    assert abs(np.nanmax(v) - row["peak_vacuum"]) < 0.03 * row["peak_vacuum"]
    assert set(np.unique(ph)) <= {0, 1, 2, 3} and 2 in ph
# The raw samples say how they become gauge kPa: the nominal transfer of
# docs/analysis.md, the same for every channel (so also as scalars); the
# stored series is that, as vacuum, less the cup's zero offset.
smp = new["devices/dev0/samples"]
adc_max = 2 ** int(new["devices/dev0"].attrs["adc_bits"]) - 1
k, o = 1 / (adc_max * 0.007652), -0.92 / 0.007652
assert smp.attrs["unit"] == "kPa"
assert np.allclose(smp.attrs["channel_conversion"], k, rtol=1e-12, atol=0)
assert np.allclose(smp.attrs["channel_offset"], o, rtol=1e-12, atol=0)
assert np.isclose(smp.attrs["conversion"], k, rtol=1e-12) and np.isclose(smp.attrs["offset"], o, rtol=1e-12)
for i, row in enumerate(printed["rows"]):
    v = series[str(i)]["vacuum"][:]
    kpa = smp[:len(v), i] * smp.attrs["channel_conversion"][i] + smp.attrs["channel_offset"][i]
    ok = np.isfinite(v)
    assert ok.mean() > 0.9 and np.allclose(v[ok], -kpa[ok] - row["zero_offset"], atol=1e-9), i
PY

# A linear profile assigned to C2 at analysis time: its channel gets the
# profile's coefficients, the others stay nominal, and the scalars of the
# first --write (one transfer for all) are gone.
printf '%s\n' '{"format": "cuplab-profile", "version": 1, "kind": "sensor",' \
    ' "sensor": {"serial": "HAND-2"}, "transfer": {"coefficients": [-130.5, 0.0315]}}' \
    >"$T/hand.json"
"$BIN/cuplab-analyze" -q --nominal-sensor --sensor "C2=$T/hand.json" --write "$T/s.h5" \
    >/dev/null || fail "--write with --sensor exited with $?"
"$PY" - "$T/s.h5" <<'PY' || fail "conversion with one profile"
import sys
import h5py, numpy as np
smp = h5py.File(sys.argv[1], "r")["devices/dev0/samples"]
k, o = smp.attrs["channel_conversion"], smp.attrs["channel_offset"]
assert np.isclose(k[1], 0.0315, rtol=1e-12) and np.isclose(o[1], -130.5, rtol=1e-12), (k, o)
assert k[0] == k[2] != k[1] and o[0] == o[2] != o[1], (k, o)
assert "conversion" not in smp.attrs and "offset" not in smp.attrs, dict(smp.attrs)
PY
# The h5py example of docs/session-format.md runs as written.
"$PY" - "$TOP/docs/session-format.md" "$T/s.h5" "$T/example.png" <<'PY' || fail "documented h5py example"
import re, sys
doc, session, png = sys.argv[1:]
code = re.search(r"<!-- example: h5py -->\n```python\n(.*?)```", open(doc).read(), re.S).group(1)
assert len(code.strip().splitlines()) <= 12, "the example is meant to be short"
import matplotlib
matplotlib.use("Agg")
exec(code.replace("session.h5", session).replace("cup.png", png))
PY
[ -s "$T/example.png" ] || fail "the documented example drew nothing"

# Refusals: a foreign HDF5 file, a file without a final status.
"$PY" - "$T" <<'PY' || fail "h5py"
import shutil, sys
import h5py
d = sys.argv[1]
with h5py.File(f"{d}/foreign.h5", "w") as f:
    f["x"] = [1.0]
shutil.copy(f"{d}/orig.h5", f"{d}/open.h5")
with h5py.File(f"{d}/open.h5", "r+") as f:
    f.attrs.modify("status", "")
PY
for name in foreign open; do
    cp "$T/$name.h5" "$T/$name.before"
    "$BIN/cuplab-analyze" -q --write "$T/$name.h5" >/dev/null 2>"$T/$name.err"
    [ $? -eq 1 ] || fail "$name: --write accepted"
    cmp -s "$T/$name.h5" "$T/$name.before" || fail "$name: file changed"
    [ "$(wc -l <"$T/$name.err")" -eq 1 ] || fail "$name: $(cat "$T/$name.err")"
done
grep -q "no final status" "$T/open.err" || fail "open: $(cat "$T/open.err")"

# A file being recorded: refused, and the recording completes untouched.
start_sim live --cups 2 --rate 50 --duration 60 --time-scale 15 --seed 9
"$BIN/cuplab-acquire" -q -o "$T/live.h5" --no-reconnect "$PTY" </dev/null &
ACQ=$!
for _ in $(seq 1 50); do [ -s "$T/live.h5" ] && break; sleep 0.1; done
sleep 1
"$BIN/cuplab-analyze" -q --write "$T/live.h5" >"$T/live.out" 2>"$T/live.err"
rc=$?
wait $ACQ || fail "cuplab-acquire exited with $?"
wait_sim
[ $rc -eq 1 ] || fail "--write on a live recording: exit $rc"
grep -q "still being recorded" "$T/live.err" || fail "live: $(cat "$T/live.err")"
[ -s "$T/live.out" ] && fail "live: analysed before refusing: $(head -n 2 "$T/live.out")"
h5check values "$T/live.h5" "$T/live.log.csv" || fail "live recording disturbed"
h5check attr "$T/live.h5" status complete || fail "live recording not complete"
"$PY" -c 'import h5py,sys; assert "analysis" not in h5py.File(sys.argv[1],"r")' "$T/live.h5" ||
    fail "live recording got an /analysis group"
exit 0
