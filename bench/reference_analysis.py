#!/usr/bin/python3
"""Reference implementation of cuplab-analyze's per-cup metrics in Python,
for the analysis benchmark (bench/analysis.sh).

The pipeline of docs/analysis.md written the way a researcher would with
h5py, numpy and scipy: each cup's channel read whole, the nominal
MPXV6115V transfer, zero on the first 2 s, a 0.1 s running median, the
hysteresis thresholds (20 / 10 mmHg for 0.5 s) for application and
release, pump strokes from a Gaussian-smoothed derivative, peak (0.5 s
running median), hold window after settling, linear (numpy.polyfit) and
exponential (scipy.optimize.curve_fit) fits on 1 s block means, dose
(numpy.trapz).

    reference_analysis.py [--adc-bits B] FILE > ref.csv
    reference_analysis.py --compare ref.csv cuplab.csv

The first form prints one CSV row per cup (kPa, s, kPa*min); the second
compares such a file with the CSV of `cuplab-analyze --format csv` and
prints one line with the largest differences.
"""
import csv
import math
import sys
import warnings

import h5py
import numpy as np
from scipy import ndimage, optimize

KPA_PER_MMHG = 0.133322387415
ON_KPA = 20 * KPA_PER_MMHG
OFF_KPA = 10 * KPA_PER_MMHG
DWELL_S = 0.5
STROKE_KPA = 5 * KPA_PER_MMHG
STROKE_RATE = 3.0      # kPa/s, least edge threshold
STROKE_MAX_S = 1.5     # half-maximum width of a stroke
EVAC_GAP_S = 8.0
SETTLE_S = 3.0
GUARD_S = 1.0
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
COLUMNS = ["cup", "peak_kpa", "tau_s", "dose_kpa_min", "applied_s", "hold_start_s",
           "release_start_s", "strokes", "repumps", "leak_kpa_min"]


def odd(k):
    k = max(int(round(k)), 1)
    return k if k % 2 else k + 1


def runs(mask):
    """Start and end (exclusive) indexes of the runs of True in mask."""
    m = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.flatnonzero(np.diff(m))
    return d[0::2], d[1::2]


def fill_nan(v):
    ok = np.isfinite(v)
    if ok.all() or not ok.any():
        return v
    idx = np.arange(len(v))
    return np.interp(idx, idx[ok], v[ok])


def engaged_intervals(t, med):
    """Hysteresis: on after staying above ON for the dwell, off after
    staying below OFF as long."""
    out = []
    above_s, above_e = runs(med > ON_KPA)
    below_s, below_e = runs(med < OFF_KPA)
    pos = 0
    while True:
        ok = (above_s >= pos) & (t[np.minimum(above_e, len(t)) - 1] - t[above_s] >= DWELL_S)
        cand = np.flatnonzero(ok)
        if not len(cand):
            break
        on = above_s[cand[0]]
        ok = (below_s > on) & (t[np.minimum(below_e, len(t)) - 1] - t[below_s] >= DWELL_S)
        cand = np.flatnonzero(ok)
        if not len(cand):
            out.append((on, len(t)))
            break
        off = below_s[cand[0]]
        out.append((on, off))
        pos = off
    return out


def edges(t, d, sm, thr, sign):
    """Runs of sign*d above thr: (start, end, half_end, rise)."""
    dt = t[1] - t[0]
    margin = int(round(0.3 / dt))
    n = len(d)
    found = []
    for s, e in zip(*runs(sign * d > thr)):
        peak = s + int(np.argmax(sign * d[s:e]))
        pk = sign * d[peak]
        before = np.flatnonzero(sign * d[:peak] < pk / 2)
        start = before[-1] + 1 if len(before) else 0
        stop = pk / 20 if sign > 0 else pk / 2
        after = np.flatnonzero(sign * d[peak:] < stop)
        end = peak + after[0] - 1 if len(after) else n - 1
        after = np.flatnonzero(sign * d[peak:] < pk / 2)
        half = peak + after[0] - 1 if len(after) else n - 1
        if found and t[start] - t[found[-1][1]] < 0.2:
            ps, pe, ph, _ = found[-1]
            found[-1] = (ps, max(pe, end), max(ph, half), 0)
        else:
            found.append((start, end, half, 0))
    out = []
    for start, end, half, _ in found:
        rise = sm[min(end + margin, n - 1)] - sm[max(start - margin, 0)]
        out.append((start, end, half, rise))
    return out


def exp_model(x, p_inf, p0, tau):
    return p_inf + (p0 - p_inf) * np.exp(-x / tau)


def analyse(t, raw, adc_max):
    res = dict.fromkeys(COLUMNS[1:], math.nan)
    ok = np.isfinite(raw) & (raw > 0) & (raw < adc_max)
    vac = np.where(ok, -((raw / adc_max - 0.92) / 0.007652), np.nan)
    if not ok.any():
        return res
    zero = np.nanmedian(vac[t <= t[0] + 2.0])
    if not abs(zero) <= 3.0:
        zero = np.nanmedian(vac[t >= t[-1] - 2.0])
        if not abs(zero) <= 3.0:
            zero = 0.0
    vac = vac - zero
    dt = float(np.median(np.diff(t)))

    # Phases: despiked trace, hysteresis, edges of the smoothed derivative.
    med = ndimage.median_filter(fill_nan(vac), size=odd(max(0.1 / dt, 5)), mode="nearest")
    sigma = max(0.05 / dt, 1.0)
    sm = ndimage.gaussian_filter1d(med, sigma, order=0, mode="nearest", truncate=3.0)
    d = ndimage.gaussian_filter1d(med, sigma, order=1, mode="nearest", truncate=3.0) / dt
    mad = np.median(np.abs(d - np.median(d)))
    thr = max(STROKE_RATE, 8 * 1.4826 * mad)
    apps = engaged_intervals(t, med)
    if not apps:
        return res
    rising = [e for e in edges(t, d, sm, thr, +1)
              if e[3] >= STROKE_KPA and t[e[2]] - t[e[0]] <= STROKE_MAX_S]
    falling = [e for e in edges(t, d, sm, thr, -1) if -e[3] >= STROKE_KPA]

    best = None
    for on, off in apps:
        released = off < len(t)
        rel = [e for e in falling if on < e[0] <= off] if released else []
        i_rel = rel[-1][0] if rel else (off if released else len(t))
        i_rel_end = max(rel[-1][2], off) if rel else (off if released else len(t) - 1)
        strokes = [e for e in rising if e[0] < i_rel]
        evac = [e for e in strokes if abs(t[e[0]] - t[on]) <= EVAC_GAP_S][:1]
        if evac:
            for e in strokes:
                if e[0] > evac[-1][0] and t[e[0]] - t[evac[-1][1]] <= EVAC_GAP_S:
                    evac.append(e)
                elif e[0] > evac[-1][0]:
                    break
            i_on, i_hold = evac[0][0], evac[-1][1]
        else:
            i_on, i_hold = on, min(on + int(round(DWELL_S / dt)), len(t) - 1)
        repumps = [e for e in strokes if e[0] > i_hold and e not in evac]
        length = t[min(i_rel, len(t) - 1)] - t[i_on]
        if best is None or length > best[0]:
            best = (length, i_on, i_hold, i_rel, i_rel_end, released, evac, repumps)
    _, i_on, i_hold, i_rel, i_rel_end, released, evac, repumps = best

    res["applied_s"] = t[i_on]
    res["hold_start_s"] = t[i_hold]
    res["release_start_s"] = t[i_rel] if released else math.nan
    res["strokes"] = len(evac) if evac else 1
    res["repumps"] = len(repumps)
    app = fill_nan(vac[i_on:i_rel])
    if len(app):
        res["peak_kpa"] = float(np.max(ndimage.median_filter(app, size=odd(0.5 / dt),
                                                             mode="nearest")))
    fin = np.isfinite(vac[i_on:i_rel_end + 1])
    res["dose_kpa_min"] = float(np.trapz(vac[i_on:i_rel_end + 1][fin],
                                         t[i_on:i_rel_end + 1][fin])) / 60

    # Hold window, the longest stretch between re-pumps, 1 s block means.
    w0 = t[i_hold] + SETTLE_S
    w1 = t[i_rel] - GUARD_S if released else t[-1]
    if not w1 > w0:
        return res
    cuts = [(t[e[0]], t[e[1]] + SETTLE_S) for e in repumps]
    f0, f1, s0 = w0, w1, w0
    best_len = -1
    for k in range(len(cuts) + 1):
        s1 = min(cuts[k][0], w1) if k < len(cuts) else w1
        if s1 - s0 > best_len:
            best_len, f0, f1 = s1 - s0, s0, s1
        if k < len(cuts):
            s0 = max(s0, cuts[k][1])
    sel = (t >= f0) & (t < f1) & np.isfinite(vac)
    bins = ((t[sel] - f0) // 1.0).astype(np.int64)
    cnt = np.bincount(bins)
    keep = cnt > 0
    bt = (np.bincount(bins, weights=t[sel] - f0)[keep]) / cnt[keep]
    bv = (np.bincount(bins, weights=vac[sel])[keep]) / cnt[keep]
    if len(bt) < 4:
        return res
    slope, _ = np.polyfit(bt, bv, 1)
    res["leak_kpa_min"] = -slope * 60
    try:
        p, _ = optimize.curve_fit(exp_model, bt, bv,
                                  p0=(bv[-1], bv[0], max((bt[-1] - bt[0]) / 3, 1.0)),
                                  maxfev=2000)
        res["tau_s"] = float(p[2])
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        pass
    return res


def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def run(path, adc_bits):
    warnings.simplefilter("ignore")  # curve_fit's covariance, exp overflow
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    with h5py.File(path, "r") as f:
        times = {}
        for cup in f["cups"][:]:
            cup_id = text(cup["cup_id"])
            dev = int(cup["device"])
            g = f["devices/dev%d" % dev]
            if dev not in times:
                host = g["host_time"][:]
                scale = UNITS.get(text(g["device_time"].attrs.get("units", "")))
                if scale:
                    dev_t = g["device_time"][:]
                    times[dev] = host[0] + (dev_t - dev_t[0]) * scale
                else:
                    times[dev] = host
            bits = adc_bits
            if not bits:
                for line in text(g.attrs.get("announcement", "")).splitlines():
                    if line.startswith("adc_bits:"):
                        bits = int(line.split(":", 1)[1])
            raw = g["samples"][:, int(cup["channel"])]
            r = analyse(times[dev], raw, float(2 ** bits - 1))
            out.writerow([cup_id] + [r[c] for c in COLUMNS[1:]])


def compare(ref_path, cuplab_path):
    ref = {r["cup"]: r for r in csv.DictReader(open(ref_path))}
    worst = {"peak": (0.0, "-"), "dose": (0.0, "-")}
    taus = []
    n = 0
    for row in csv.DictReader(open(cuplab_path)):
        r = ref.get(row["cup"])
        if r is None:
            continue
        n += 1
        for key, a, b in (("peak", row["peak_vacuum"], r["peak_kpa"]),
                          ("dose", row["dose"], r["dose_kpa_min"])):
            a, b = float(a or "nan"), float(b or "nan")
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            rel = abs(b - a) / abs(a) * 100 if a else 0.0
            if rel >= worst[key][0]:
                worst[key] = (rel, row["cup"])
        a, b = float(row["tau_s"] or "nan"), float(r["tau_s"] or "nan")
        if row.get("exp_model") == "exp" and math.isfinite(a) and math.isfinite(b) and a:
            taus.append(abs(b - a) / abs(a) * 100)
    tau = ("median difference %.1f %% over %d cups" % (float(np.median(taus)), len(taus))
           if taus else "no comparable fits")
    print("reference check: %d cups; largest difference peak %.3f %% (%s), dose %.3f %% (%s); "
          "tau %s" % (n, worst["peak"][0], worst["peak"][1], worst["dose"][0],
                      worst["dose"][1], tau))


def main(argv):
    if len(argv) == 4 and argv[1] == "--compare":
        compare(argv[2], argv[3])
        return 0
    adc_bits = 0
    args = argv[1:]
    if len(args) == 3 and args[0] == "--adc-bits":
        adc_bits = int(args[1])
        args = args[2:]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    run(args[0], adc_bits)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
