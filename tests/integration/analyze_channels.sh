#!/bin/sh
# cuplab-analyze on damaged channels and on files with markers and gaps,
# made from a real recording with h5py: an all-NaN channel, a flat one,
# saturated and missing samples inside a hold, markers that agree and one
# that does not, a gap event, and a device that never announced its ADC
# resolution.  Flagged results, never a crash, never a silent use.
. "$(dirname "$0")/../lib.sh"

DUR=700
start_sim ch --cups 4 --rate 50 --duration $DUR --time-scale 100 --seed 5 --technique pump
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

"$PY" - "$T" <<'PY' || fail "h5py could not make the test files"
import json, shutil, sys
import h5py, numpy as np
d = sys.argv[1]
truth = json.load(open(f"{d}/ch.truth.json"))
c1 = truth["cups"][0]
shutil.copy(f"{d}/s.h5", f"{d}/m.h5")
with h5py.File(f"{d}/m.h5", "r+") as f:
    g = f["devices/dev0"]
    s = g["samples"][:]
    dev_t = g["device_time"][:] / 1000.0
    host = g["host_time"][:]
    row = lambda t: min(int(np.searchsorted(dev_t, t)), len(dev_t) - 1)
    h1, r1 = c1["hold_start_s"] + 20, c1["release_start_s"]
    s[row(h1):row(h1) + 25, 0] = np.nan          # C1: missing samples in the hold
    s[:, 1] = np.nan                             # C2: nothing at all
    s[:, 2] = 2000.0                             # C3: flat
    s[row(h1):row(h1) + 100, 3] = 0.0            # C4: saturated for 2 s
    g["samples"][...] = s
    ev = f["events"]
    n = ev.shape[0]
    new = [(host[row(c1["t_apply_s"]) + 50], 0, 1, b"applied"),   # 1 s late: agrees
           (host[row(r1 - 60)], 0, 2, b"released"),                # 60 s early: disagrees
           (host[row(h1 + 40)], -1, 7, b"frames missing")]         # gap during the hold
    ev.resize((n + len(new),))
    for i, e in enumerate(new):
        rec = ev[n + i]
        rec["t"], rec["cup"], rec["kind"], rec["text"] = e
        ev[n + i] = rec
shutil.copy(f"{d}/s.h5", f"{d}/noadc.h5")
with h5py.File(f"{d}/noadc.h5", "r+") as f:
    g = f["devices/dev0"]
    ann = g.attrs["announcement"]
    ann = ann.decode() if isinstance(ann, bytes) else ann
    g.attrs["announcement"] = "\n".join(l for l in ann.split("\n") if not l.startswith("adc_bits"))
PY

"$BIN/cuplab-analyze" --format json --nominal-sensor "$T/m.h5" >"$T/m.json" 2>"$T/m.err" ||
    fail "cuplab-analyze exited with $?: $(cat "$T/m.err")"
"$PY" - "$T/m.json" "$T/ch.truth.json" <<'PY' || fail "flags of the damaged channels"
import json, re, sys
r = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
rows = {x["cup"]: x for x in r["rows"]}
fl = {k: set(v["flags"].split(";")) for k, v in rows.items()}
c1, c2, c3, c4 = (rows[k] for k in ("C1", "C2", "C3", "C4"))
# C1: 25 missing samples, counted and flagged; the analysis still stands.
assert c1["missing"] == 25 and "missing" in fl["C1"], (c1["missing"], fl["C1"])
assert abs(c1["applied_s"] - t["cups"][0]["t_apply_s"]) < 0.3
assert abs(c1["peak_vacuum"] - t["sensors"][0]["gain"] * -t["cups"][0]["peak_kpa"]) < 0.5
# Markers: the late release disagrees and says so; the gap is flagged.
assert "markers_disagree" in fl["C1"], fl["C1"]
# (host time stamps a batch of rows at once: at 100x the batch spans ~2 s)
m = re.search(r"released marker at [0-9.]+ s is ([0-9.]+) s from the signal", c1["markers"])
assert m and 57 <= float(m.group(1)) <= 63, c1["markers"]
assert "applied" not in c1["markers"], c1["markers"]
assert "gap" in fl["C1"], fl["C1"]
assert rows["C2"]["markers"] == "none"
# C2: no data at all.
assert "no_data" in fl["C2"] and c2["peak_vacuum"] is None and c2["missing"] == c2["samples"]
# C3: flat, never applied.
assert {"flat", "no_application"} <= fl["C3"] and c3["peak_vacuum"] is None, fl["C3"]
# C4: saturated samples counted, flagged, left out.
assert c4["saturated"] == 100 and "saturated" in fl["C4"], (c4["saturated"], fl["C4"])
assert c4["min_raw"] == 0 and c4["peak_vacuum"] is not None
# Statistics use the applied cups only.
peak = [s for s in r["statistics"]["rows"] if s["metric"] == "peak_vacuum"][0]
assert peak["n"] == 2, peak
assert "no_data 1" in r["sessions"][0]["summary"], r["sessions"][0]["summary"]
PY

# No ADC resolution and no profile: no pressures, said so; --adc-bits helps.
"$BIN/cuplab-analyze" --format json "$T/noadc.h5" >"$T/n.json" 2>"$T/n.err" ||
    fail "noadc: exit $?"
grep -q "cup C1: no sensor profile and the ADC resolution is unknown" "$T/n.err" ||
    fail "noadc: no message: $(cat "$T/n.err")"
"$PY" - "$T/n.json" <<'PY' || fail "noadc flags"
import json, sys
for row in json.load(open(sys.argv[1]))["rows"]:
    assert {"uncalibrated", "no_transfer"} <= set(row["flags"].split(";")), row["flags"]
    assert row["peak_vacuum"] is None and row["calibration"].startswith("none")
PY
"$BIN/cuplab-analyze" --format json --adc-bits 12 --nominal-sensor "$T/noadc.h5" >"$T/n2.json" ||
    fail "--adc-bits: exit $?"
"$PY" "$TOP/tests/analyze_check.py" truth "$T/n2.json" "$T/ch.truth.json" $DUR ||
    fail "--adc-bits 12 results differ from the truth"
exit 0
