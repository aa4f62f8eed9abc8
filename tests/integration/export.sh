#!/bin/sh
# cuplab-analyze --export: the calibrated series leave in CSV (long and wide),
# MATLAB, EDF+ and BDF+ files, each read back by a second reader (pandas,
# scipy.io.loadmat, MNE) and compared value by value: the MATLAB series with
# the nominal sensor transfer applied to the raw counts in the session file,
# the CSV, EDF and BDF series with the MATLAB one (EDF and BDF within
# 0.01 mmHg, also for a vacuum deeper than 750 mmHg).  The output is checked
# before any work, and a failed export leaves nothing under the name.
. "$(dirname "$0")/../lib.sh"
"$PY" -c 'import pandas, scipy.io, mne' 2>/dev/null || skip "python3-pandas, -scipy or -mne not installed"

for i in 1 2; do
    "$BIN/cuplab-sim" -o "$T/s$i.h5" --cups 3 --rate 20 --duration 400 --hold 120:10 --seed $i --markers \
        --practitioner P$i --subject S$i 2>"$T/sim.err" || fail "cuplab-sim: $(cat "$T/sim.err")"
done
A="$BIN/cuplab-analyze -q --nominal-sensor --unit mmHg"
$A --format json "$T/s1.h5" "$T/s2.h5" >"$T/r.json" || fail "analysis failed"
$A --export mat -o "$T/e.mat" "$T/s1.h5" "$T/s2.h5" >/dev/null || fail "--export mat failed"
$A --export csv -o "$T/e.csv" "$T/s1.h5" "$T/s2.h5" >/dev/null || fail "--export csv failed"
$A --export csv --wide -o "$T/w.csv" "$T/s1.h5" "$T/s2.h5" >/dev/null || fail "--export csv --wide failed"
$A --export edf -o "$T/edf" "$T/s1.h5" "$T/s2.h5" >/dev/null || fail "--export edf (folder) failed"
$A --export edf -o "$T/one.edf" "$T/s1.h5" >/dev/null || fail "--export edf failed"
$A --export bdf -o "$T/bdf" "$T/s1.h5" "$T/s2.h5" >/dev/null || fail "--export bdf (folder) failed"
$A --export bdf -o "$T/one.bdf" "$T/s1.h5" >/dev/null || fail "--export bdf failed"
# The deep session: large cups at 650 mmHg, their counts' distance from each
# channel's baseline stretched by 1.2, to beyond 750 mmHg.
"$BIN/cuplab-sim" -o "$T/deep.h5" --sites back:L,thigh:L,calf:L --rate 20 --duration 300 --hold 120:10 \
    --vacuum 650:5 --seed 3 2>"$T/sim.err" || fail "cuplab-sim: $(cat "$T/sim.err")"
"$PY" - "$T/deep.h5" <<'PY' || fail "h5py"
import sys
import h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    s = f["devices/dev0/samples"]
    x = s[:]
    base = np.median(x[:80], axis=0)  # before the first cup is applied at 5 s
    s[...] = np.clip(np.round(base + (x - base) * 1.2), 0, 2 ** 12 - 1)
PY
for f in mat edf bdf; do
    $A --export $f -o "$T/deep.$f" "$T/deep.h5" >/dev/null || fail "--export $f of the deep session failed"
done

"$PY" - "$T" <<'PY' || fail "exports disagree"
import json, sys
import h5py, mne, numpy as np, pandas as pd, scipy.io as sio
d = sys.argv[1]
KPA_PER_MMHG = 0.133322387415
sessions = sio.loadmat(f"{d}/e.mat", simplify_cells=True)["sessions"]
assert len(sessions) == 2
report = json.load(open(f"{d}/r.json"))
by_cup = {(r["file"].split("/")[-1].split(".")[0], r["cup"]): r for r in report["rows"]}
total = 0
for s in sessions:
    stem = s["file"].split("/")[-1].split(".")[0]
    assert s["vacuum_sign"] == "positive below ambient"
    assert s["practitioner"] == "P" + stem[1] and s["subject"] == "S" + stem[1]
    with h5py.File(s["file"], "r") as f:
        raw = f["devices/dev0/samples"][:]
        host = f["devices/dev0/host_time"][:]
    for c in s["cups"]:
        r = by_cup[(stem, c["cup"])]
        assert c["unit"] == "mmHg" and list(c["phase_names"]) == ["baseline", "evacuation", "hold", "release"]
        # the nominal transfer (docs/analysis.md), zeroed, positive below ambient
        gauge = (raw[:, int(c["channel"])] / (2 ** 12 - 1) - 0.92) / 0.007652
        want = (-gauge - r["zero_offset"] * KPA_PER_MMHG) / KPA_PER_MMHG
        assert np.allclose(c["vacuum"], want, rtol=1e-12, atol=1e-9), c["cup"]
        assert np.allclose(c["time_s"], host, atol=1e-9)
        ph = np.asarray(c["phase"])
        assert set(ph) == {0, 1, 2, 3}, set(ph)
        hold = c["vacuum"][ph == 2]
        assert abs(np.median(hold) - r["hold_mean"]) < 0.05 * r["hold_mean"], (np.median(hold), r["hold_mean"])
        assert list(c["markers"]["kind"]) == ["applied", "released"], c["markers"]
        total += len(c["vacuum"])

# CSV long: pandas, one row per sample, values to 9 significant digits
csv = pd.read_csv(f"{d}/e.csv", parse_dates=["iso_time"])
assert list(csv.columns) == ["session", "cup", "time_s", "iso_time", "vacuum", "unit", "phase"]
assert len(csv) == total, (len(csv), total)
assert set(csv["unit"]) == {"mmHg"} and set(csv["phase"]) == {"baseline", "evacuation", "hold", "release"}
for s in sessions:
    stem = s["file"].split("/")[-1].split(".")[0]
    for c in s["cups"]:
        part = csv[(csv.session == stem) & (csv.cup == c["cup"])]
        assert np.allclose(part.vacuum.to_numpy(), c["vacuum"], rtol=1e-9, atol=1e-12)
        assert np.allclose(part.time_s.to_numpy(), c["time_s"], atol=1e-6)
        names = np.array(c["phase_names"])[c["phase"]]
        assert (part.phase.to_numpy() == names).all()
        t0 = pd.Timestamp(s["created_utc"])
        dt = (part.iso_time - t0).dt.total_seconds().to_numpy()
        assert np.allclose(dt, c["time_s"], atol=6e-4)
# CSV wide: one column per cup
wide = pd.read_csv(f"{d}/w.csv")
assert list(wide.columns) == ["session", "device", "time_s", "iso_time", "unit", "C1", "C2", "C3"]
for s in sessions:
    stem = s["file"].split("/")[-1].split(".")[0]
    part = wide[wide.session == stem]
    for c in s["cups"]:
        assert np.allclose(part[c["cup"]].to_numpy(), c["vacuum"], rtol=1e-9, atol=1e-12)

# EDF+ and BDF+: MNE; one signal per cup at the device rate, its physical
# range whole units around the series' range and 1 % beyond it, values
# within half a digital step of the series at the EDF sample times, and
# within 0.01 mmHg; annotations
def edf_header(path, k):
    """Signal k's physical and digital minimum and maximum, as the header's
    8-character fields say."""
    h = open(path, "rb").read(256 * 257)
    ns = int(h[252:256])
    at = 256 + ns * (16 + 80 + 8)  # past the labels, transducers and units
    return [float(h[at + (f * ns + k) * 8:at + (f * ns + k + 1) * 8]) for f in range(4)]
def edf_values(raw, path, c, k, digital):
    data = raw.get_data()
    t = np.arange(data.shape[1]) / raw.info["sfreq"]
    ok = t <= c["time_s"][-1]
    want = np.interp(t[ok], c["time_s"], c["vacuum"])
    lo, hi, dmin, dmax = edf_header(path, k)
    v = c["vacuum"][np.isfinite(c["vacuum"])]
    pad = (v.max() - v.min()) * 0.01
    assert lo == np.floor(v.min() - pad) and hi == np.ceil(v.max() + pad), (c["cup"], lo, hi)
    assert dmin == -digital - 1 and dmax == digital, (dmin, dmax)
    step = (hi - lo) / (2 * digital + 1)
    err = np.abs(data[k, ok] - want).max()
    assert err <= step / 2 + 1e-9 and err <= 0.01, (c["cup"], err, step)
    return err, v.max() - v.min()
worst = 0
for path, s in [(f"{d}/edf/s1.edf", sessions[0]), (f"{d}/edf/s2.edf", sessions[1]), (f"{d}/one.edf", sessions[0]),
                (f"{d}/bdf/s1.bdf", sessions[0]), (f"{d}/one.bdf", sessions[0])]:
    bdf = path.endswith(".bdf")
    raw = (mne.io.read_raw_bdf if bdf else mne.io.read_raw_edf)(path, preload=True, verbose="error")
    assert raw.ch_names == [c["cup"] for c in s["cups"]], raw.ch_names
    assert raw.info["sfreq"] == 20.0
    assert raw.info["meas_date"] == pd.Timestamp(s["created_utc"]).to_pydatetime()
    for k, c in enumerate(s["cups"]):
        worst = max(worst, edf_values(raw, path, c, k, 8388607 if bdf else 32767)[0])
    desc = list(raw.annotations.description)
    for c in s["cups"]:
        for what in ("applied", "released", "evacuation", "hold", "release"):
            assert any(x.startswith(f"{c['cup']} {what}") for x in desc), (c["cup"], what, desc)
print(f"exports agree: {total} samples, 2 sessions, CSV long and wide, MATLAB, EDF+ and BDF+ "
      f"(within {worst:.4f} mmHg)")

# A vacuum deeper than 750 mmHg (large cups, their counts' distance from the
# baseline stretched by 1.2): EDF's 16 bits still hold it to 0.01 mmHg.
deep = sio.loadmat(f"{d}/deep.mat", simplify_cells=True)["sessions"]["cups"]
for path, digital in [(f"{d}/deep.edf", 32767), (f"{d}/deep.bdf", 8388607)]:
    raw = (mne.io.read_raw_bdf if digital > 32767 else mne.io.read_raw_edf)(path, preload=True, verbose="error")
    got = [edf_values(raw, path, c, k, digital) for k, c in enumerate(deep)]
    assert max(span for _, span in got) > 750, got
    print(f"{path.split('/')[-1]}: vacuum spans up to {max(s for _, s in got):.1f} mmHg, "
          f"read back within {max(e for e, _ in got):.5f} mmHg")
PY

# A range EDF cannot hold to 0.01 mmHg (a profile that reads 2.2 times the
# vacuum: beyond 1311 mmHg with the margin) is refused, with BDF named; BDF
# holds it.
"$BIN/cuplab-sim" -o "$T/hi.h5" --sites back:L --rate 20 --duration 200 --hold 120:10 --vacuum 650:5 \
    --seed 3 --sensor-seed 100 2>"$T/sim.err" || fail "cuplab-sim: $(cat "$T/sim.err")"
"$PY" - "$TOP/datasets/calibration/profiles/SIMS-100-01.json" "$T/x2.json" <<'PY' || fail "profile"
import json, sys
p = json.load(open(sys.argv[1]))
p["transfer"]["coefficients"] = [c * 2.2 for c in p["transfer"]["coefficients"]]
json.dump(p, open(sys.argv[2], "w"))
PY
H="$BIN/cuplab-analyze -q -p $T/x2.json --unit mmHg"
$H --export edf -o "$T/hi.edf" "$T/hi.h5" >/dev/null 2>"$T/hi.err" && fail "EDF took a range it cannot hold"
grep -q "hi.h5: cup L1: its vacuum spans .* mmHg with its margin, more than the 16-bit samples of EDF hold to 0.01 mmHg (1311 mmHg): export it as BDF (--export bdf)" \
    "$T/hi.err" || fail "EDF refusal: $(cat "$T/hi.err")"
[ -e "$T/hi.edf" ] || [ -e "$T/.hi.edf.cuplab-tmp" ] && fail "a refused EDF export left a file"
$H --export bdf -o "$T/hi.bdf" "$T/hi.h5" >/dev/null || fail "--export bdf of the wide range failed"
$H --export mat -o "$T/hi.mat" "$T/hi.h5" >/dev/null || fail "--export mat of the wide range failed"
"$PY" - "$T" <<'PY' || fail "BDF of the wide range"
import sys
import mne, numpy as np, scipy.io as sio
d = sys.argv[1]
c = sio.loadmat(f"{d}/hi.mat", simplify_cells=True)["sessions"]["cups"]
raw = mne.io.read_raw_bdf(f"{d}/hi.bdf", preload=True, verbose="error")
data = raw.get_data()[0]
t = np.arange(len(data)) / raw.info["sfreq"]
ok = t <= c["time_s"][-1]
err = np.abs(data[ok] - np.interp(t[ok], c["time_s"], c["vacuum"])).max()
span = np.nanmax(c["vacuum"]) - np.nanmin(c["vacuum"])
assert span > 1300 and err <= 0.01, (span, err)
print(f"hi.bdf: vacuum spans {span:.1f} mmHg, read back within {err:.5f} mmHg")
PY

# Every per-cup row carries its context: session metadata and the cup table.
"$BIN/cuplab-sim" -o "$T/ctx.h5" --sites neck:S,back:L --cup-set glass-A --technique fire \
    --duration 60 --practitioner P9 --subject S3 2>/dev/null || fail "cuplab-sim"
$A -f csv "$T/ctx.h5" >"$T/ctx.csv" || fail "analysis failed"
"$PY" - "$T/ctx.csv" <<'PY' || fail "context columns"
import sys
import pandas as pd
t = pd.read_csv(sys.argv[1])
want = {"practitioner": ["P9"] * 2, "subject": ["S3"] * 2, "technique": ["fire"] * 2,
        "cup": ["S1", "L1"], "site": ["neck", "back"], "cup_set": ["glass-A"] * 2,
        "material": ["glass"] * 2, "size": ["S", "L"]}
for k, v in want.items():
    assert list(t[k]) == v, (k, list(t[k]))
PY

# Octave, the other reader MATLAB files meet: every session's cups, their
# sample count, sum, maximum and unit, as scipy.io reads them.
command -v octave-cli >/dev/null 2>&1 || fail "octave-cli not installed (scripts/install-deps.sh)"
(cd "$T" && octave-cli --no-gui --quiet --no-init-file --eval '
    x = load("e.mat").sessions;
    for i = 1:numel(x)
      if iscell(x), s = x{i}; else, s = x(i); end
      for k = 1:numel(s.cups)
        if iscell(s.cups), c = s.cups{k}; else, c = s.cups(k); end
        v = c.vacuum(isfinite(c.vacuum));
        printf("%s|%s|%d|%.17g|%.17g|%s\n", s.file, c.cup, numel(c.vacuum), sum(v), max(v), c.unit);
      end
    end' >"$T/octave.txt" 2>"$T/octave.err") || fail "Octave cannot read the .mat: $(cat "$T/octave.err")"
"$PY" - "$T/e.mat" "$T/octave.txt" <<'PY' || fail "Octave reads other values than scipy.io"
import sys
import numpy as np, scipy.io as sio
want = []
for s in sio.loadmat(sys.argv[1], simplify_cells=True)["sessions"]:
    for c in s["cups"]:
        v = np.asarray(c["vacuum"], dtype=float)
        v = v[np.isfinite(v)]
        want.append((s["file"], c["cup"], len(c["vacuum"]), v.sum(), v.max(), c["unit"]))
got = [l.split("|") for l in open(sys.argv[2]).read().splitlines()]
assert len(got) == len(want) == 6, (got, want)  # 2 sessions of 3 cups
for g, w in zip(got, want):
    assert g[0] == w[0] and g[1] == w[1] and int(g[2]) == w[2] and g[5] == w[5], (g, w)
    assert np.isclose(float(g[3]), w[3], rtol=1e-12) and float(g[4]) == w[4], (g, w)
print("Octave and scipy.io agree on", len(got), "cups")
PY

# The examples of docs/analysis.md run as written.
cp "$T/s1.h5" "$T/session.h5"
cp "$T/s2.h5" "$T/other.h5"
awk '/<!-- example: exports -->/ { on = 1; next } on && /^```/ { if (++fence == 2) exit; next }
     on' "$TOP/docs/analysis.md" | sed 's/ *#.*//' >"$T/examples.sh"
[ "$(wc -l <"$T/examples.sh")" -eq 6 ] || fail "documented examples not found: $(cat "$T/examples.sh")"
(cd "$T" && PATH="$BIN:$PATH" sh -e examples.sh >/dev/null 2>&1) || fail "a documented example failed"
for f in series.csv wide.csv series.mat session.edf edf/session.edf edf/other.edf session.bdf; do
    [ -s "$T/$f" ] || fail "documented example: no $f"
done

# Outputs are checked before the work; a failed export leaves no file.
$A --export csv -o "$T/e.csv" "$T/s1.h5" >"$T/o.out" 2>"$T/o.err"
[ $? -eq 2 ] || fail "an existing export was replaced (or not a usage error)"
[ -s "$T/o.out" ] && fail "analysed before refusing the export"
grep -q "e.csv exists (not replaced without --force)" "$T/o.err" || fail "refusal: $(cat "$T/o.err")"
$A --export csv --force -o "$T/e.csv" "$T/s1.h5" >/dev/null || fail "--force did not replace"
$A --export mat -o "$T/nowhere/e.mat" "$T/s1.h5" >"$T/o.out" 2>"$T/o.err"
[ $? -eq 1 ] && [ ! -s "$T/o.out" ] || fail "missing folder: not refused before the work"
grep -q "does not exist" "$T/o.err" || fail "missing folder: $(cat "$T/o.err")"
echo "garbage" >"$T/bad.h5"
$A --export csv -o "$T/bad.csv" "$T/bad.h5" >/dev/null 2>&1 && fail "exported a damaged file"
[ -e "$T/bad.csv" ] || [ -e "$T/.bad.csv.cuplab-tmp" ] && fail "a failed export left a file"
"$BIN/cuplab-analyze" --export xls -o "$T/x" "$T/s1.h5" 2>/dev/null; [ $? -eq 2 ] || fail "unknown format accepted"
"$BIN/cuplab-analyze" --export csv "$T/s1.h5" 2>/dev/null; [ $? -eq 2 ] || fail "--export without -o accepted"
exit 0
