#!/usr/bin/python3
"""Checks cuplab-analyze's JSON output against the virtual device's ground
truth (cuplab-sim --truth), and the figures it writes.

  analyze_check.py truth RESULT.json TRUTH.json DURATION_S [--calibrated CUP,...]
      Per cup, against the noise-free model of cl_sim.h (re-implemented here
      from its documentation).  Cups not listed after --calibrated used the
      nominal sensor transfer, which after zeroing reads gain * the true
      vacuum: the truth is scaled by the sensor's gain from TRUTH.json (the
      gain error itself, up to +-3 %, is what 'uncalibrated' warns of, and
      the cup must carry that flag).  Tolerances:
        applied_s              0.3 s of t_apply_s
        hold_start_s           0.6 s of hold_start_s
        release_start/end_s    0.4 s (cups released before the end)
        strokes                exact (pump: pump_strokes; fire: 1), repumps 0
        peak_vacuum            0.5 kPa of the model's deepest vacuum
        hold_mean              0.15 kPa of the model's mean over the window
        dose                   1 % of the model integrated at 1 ms
        leak_rate              3 SE + 2 % (pump) or 10 % (fire) of the
                               least-squares slope of the model over the
                               fitted stretch (the decay slope's estimand)
        leak_k (pump)          3 leak_k_se of the truth's hold.leak_k_per_min
        leak_rel_rate          3 SE + 2 % of the truth's
                               hold.leak_rel_rate_pct_min (pump: its window,
                               the hold as simulated less settling and
                               guard, is the one detected); fire: 3 SE + 10 %
                               of the model's LS slope over its mean, both
                               over the fitted stretch
        tau_s (pump)           3 tau_se of tau_s whenever reported
        tau_s (fire)           0.25 to 1.25 x the effective cooling time
                               constant 1/(1/cool_tau_s + 1/tau_s): one
                               exponential only approximates cooling + leak
        fitted curve           a chosen exponential within 0.5 kPa (pump) or
                               1.5 kPa (fire) of the model over the stretch
      Cups still on at the end must say not_released and have no release.
  analyze_check.py image FILE WIDTH HEIGHT
      FILE is a PNG of that size (signature and IHDR), an SVG (an <svg>
      element with that viewBox; 0 0: any) or a PDF (%PDF- header, %%EOF
      trailer).
"""
import json
import math
import struct
import sys

import numpy as np

KPA_PER_MMHG = 0.133322387415
STROKE_RATIO = 100.0 / 135.0
STROKE_TAU = 0.1
STROKE_SETTLE = 0.5
FIRE_DROP = 1.0
FIRE_DROP_TAU = 0.25
trapezoid = getattr(np, "trapezoid", None) or np.trapz


def die(msg):
    print("analyze_check: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- the model of cl_sim.h, vectorised --------------------------------------

def settle(x, tau, window):
    x = np.asarray(x, dtype=float)
    y = -np.expm1(-np.clip(x, 0, None) / tau) / -math.expm1(-window / tau)
    return np.where(x <= 0, 0.0, np.where(x >= window, 1.0, y))


def stroke_kpa(c, k):
    n = c["pump_strokes"]
    k = np.asarray(k)
    a = STROKE_RATIO
    v = c["peak_kpa"] * (1 - a ** k) / (1 - a ** n)
    v = np.where(k == n, c["peak_kpa"], v)
    return np.where((k < 1) | (k > n), 0.0, v)


def hold_kpa(c, u):
    pc = c["peak_kpa"]
    if c["technique"] == "fire":
        cool = -np.expm1(-u / c["cool_tau_s"]) if c["cool_tau_s"] > 0 else 1.0
        pc = c["fire_initial_kpa"] + (c["peak_kpa"] - c["fire_initial_kpa"]) * cool
    leak = np.exp(-u / c["tau_s"])
    return c["p_inf_kpa"] + (pc - c["p_inf_kpa"]) * leak


def pressure(c, t):
    """Noise-free gauge pressure (kPa, negative under suction) at times t."""
    t = np.asarray(t, dtype=float)
    x = t - c["t_apply_s"]
    th, tr, rs = c["hold_start_s"], c["release_start_s"], c["release_s"]
    if c["technique"] == "fire":
        evac = c["fire_initial_kpa"] * settle(x, FIRE_DROP_TAU, FIRE_DROP)
    else:
        n = max(1, c["pump_strokes"])
        j = np.minimum(np.floor(x / c["stroke_interval_s"]), n - 1)
        frm, to = stroke_kpa(c, j), stroke_kpa(c, j + 1)
        xs = x - j * c["stroke_interval_s"]
        evac = frm + (to - frm) * settle(xs, STROKE_TAU, STROKE_SETTLE)
    hold = hold_kpa(c, np.clip(t - th, 0, None))
    end = hold_kpa(c, c["hold_s"])
    rel = end * (1 - (t - tr) / rs)
    p = np.where(t < th, evac, np.where(t < tr, hold, np.where(t < tr + rs, rel, 0.0)))
    return np.where(x >= 0, p, 0.0)


def vacuum(c, t):
    return -pressure(c, t)


def integral(c, a, b):
    t = np.arange(a, b, 1e-3)
    t = np.append(t, b)
    return trapezoid(vacuum(c, t), t)


# ---- checks ------------------------------------------------------------------

def check_truth(result_path, truth_path, duration, calibrated_cups):
    with open(result_path) as f:
        res = json.load(f)
    with open(truth_path) as f:
        truth = json.load(f)
    rows = res["rows"]
    if res.get("pressure_unit") != "kPa":
        die("run the analysis with --unit kPa for this check")
    if res.get("vacuum_sign") != "positive below ambient":
        die("sign convention not stated")
    if len(rows) != len(truth["cups"]):
        die(f"{len(rows)} rows for {len(truth['cups'])} cups")
    failures, tau_checked, lines = [], 0, []

    def expect(ok, cup, what):
        if not ok:
            failures.append(f"{cup}: {what}")

    for row, c, s in zip(rows, truth["cups"], truth["sensors"]):
        cup = row["cup"]
        calibrated = cup in calibrated_cups
        g = 1.0 if calibrated else s["gain"]
        flags = row["flags"].split(";") if row["flags"] else []
        expect(("uncalibrated" in flags) != calibrated, cup, f"calibration flag: {flags}")
        released = c["release_end_s"] < duration - 1.0
        e_app = row["applied_s"] - c["t_apply_s"]
        e_hold = row["hold_start_s"] - c["hold_start_s"]
        expect(abs(e_app) <= 0.3, cup, f"applied_s {row['applied_s']} vs {c['t_apply_s']}")
        expect(abs(e_hold) <= 0.6, cup, f"hold_start_s {row['hold_start_s']} vs {c['hold_start_s']}")
        want_strokes = c["pump_strokes"] if c["technique"] == "pump" else 1
        expect(row["strokes"] == want_strokes, cup, f"strokes {row['strokes']} vs {want_strokes}")
        expect(row["repumps"] == 0, cup, f"repumps {row['repumps']}")
        end = c["release_start_s"] if released else duration
        t = np.arange(c["t_apply_s"], min(end, duration), 0.01)
        want_peak = g * vacuum(c, t).max()
        expect(abs(row["peak_vacuum"] - want_peak) <= 0.5, cup,
               f"peak {row['peak_vacuum']:.3f} vs {want_peak:.3f}")
        if released:
            for key, want in (("release_start_s", c["release_start_s"]),
                              ("release_end_s", c["release_end_s"])):
                expect(row[key] is not None and abs(row[key] - want) <= 0.4, cup,
                       f"{key} {row[key]} vs {want}")
            want_dose = g * integral(c, c["t_apply_s"], c["release_end_s"]) / 60
            expect(abs(row["dose"] - want_dose) <= 0.01 * want_dose, cup,
                   f"dose {row['dose']:.3f} vs {want_dose:.3f} kPa*min")
        else:
            expect("not_released" in flags, cup, "not flagged not_released")
            expect(row["release_start_s"] is None, cup, "release reported")
        w0, w1 = row["window_start_s"], row["window_end_s"]
        if w0 is not None:
            tw = np.linspace(w0, w1, 20001)
            want_mean = g * trapezoid(vacuum(c, tw), tw) / (w1 - w0)
            expect(abs(row["hold_mean"] - want_mean) <= 0.15, cup,
                   f"hold_mean {row['hold_mean']:.3f} vs {want_mean:.3f}")
        f0, f1 = row["fit_start_s"], row["fit_end_s"]
        if f0 is not None:
            tf = np.linspace(f0, f1, 4001)
            slope = -g * np.polyfit(tf - f0, vacuum(c, tf), 1)[0] * 60
            allow = 0.02 if c["technique"] == "pump" else 0.10
            tol = 3 * row["leak_rate_se"] + allow * abs(slope)
            expect(abs(row["leak_rate"] - slope) <= tol, cup,
                   f"leak_rate {row['leak_rate']:.4f} vs LS slope {slope:.4f} (tol {tol:.4f})")
            expect(row["decay_slope"] == row["leak_rate"], cup, "decay_slope is not leak_rate")
            h = c["hold"]
            if c["technique"] == "pump":
                expect(row["leak_k"] is not None and
                       abs(row["leak_k"] - h["leak_k_per_min"]) <= 3 * row["leak_k_se"], cup,
                       f"leak_k {row['leak_k']} vs {h['leak_k_per_min']:.5f}")
            else:
                expect(row["leak_k"] is None, cup, "leak_k reported for a cooling cup")
            if c["technique"] == "pump":
                want_rel = h["leak_rel_rate_pct_min"]
            else:
                want_rel = 100 * slope / (g * trapezoid(vacuum(c, tf), tf) / (f1 - f0))
            tol = 3 * row["leak_rel_rate_se"] + allow * abs(want_rel)
            expect(abs(row["leak_rel_rate"] - want_rel) <= tol, cup,
                   f"leak_rel_rate {row['leak_rel_rate']:.4f} vs {want_rel:.4f} (tol {tol:.4f})")
            if row["model"] != "linear":
                u = np.linspace(0, f1 - f0, 400)
                fit = row["p_inf"] + (row["p0"] - row["p_inf"]) * np.exp(-u / row["tau_s"]) \
                    + row["exp_c"] / 60 * u
                dev = np.abs(fit - g * vacuum(c, f0 + u)).max()
                limit = 0.5 if c["technique"] == "pump" else 1.5
                expect(dev <= limit, cup, f"fitted {row['model']} is {dev:.3f} kPa off the model")
        if c["technique"] == "pump" and row["tau_s"] is not None:
            expect(abs(row["tau_s"] - c["tau_s"]) <= 3 * row["tau_se"], cup,
                   f"tau {row['tau_s']:.1f} +- {row['tau_se']:.1f} vs {c['tau_s']:.1f}")
            tau_checked += 1
        if c["technique"] == "fire" and row["tau_s"] is not None:
            eff = 1 / (1 / c["cool_tau_s"] + 1 / c["tau_s"])
            expect(0.25 * eff <= row["tau_s"] <= 1.25 * eff, cup,
                   f"fire tau {row['tau_s']:.1f} vs effective {eff:.1f}")
            tau_checked += 1
        lines.append(f"{cup} {c['technique']}: applied {e_app:+.3f} s, hold {e_hold:+.3f} s, "
                     f"peak {row['peak_vacuum'] - want_peak:+.3f} kPa, model {row['model']}, "
                     f"tau {row['tau_s']} (true {c['tau_s']:.0f})")
    print("\n".join(lines))
    techniques = {c["technique"] for c in truth["cups"]}
    if tau_checked == 0:
        failures.append("no cup had its tau checked")
    if failures:
        die("; ".join(failures))
    print(f"analyze_check: {len(rows)} cups match the truth ({tau_checked} tau checked)")


def check_image(path, width, height):
    with open(path, "rb") as f:
        data = f.read()
    if path.lower().endswith(".png"):
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            die(f"{path}: not a PNG")
        w, h = struct.unpack(">II", data[16:24])
        if (w, h) != (width, height):
            die(f"{path}: {w}x{h}, expected {width}x{height}")
    elif path.lower().endswith(".svg"):
        text = data.decode("utf-8", "replace")
        if "<svg" not in text or "</svg>" not in text:
            die(f"{path}: not an SVG")
        if width and f'viewBox="0 0 {width} {height}"' not in text:
            die(f"{path}: not {width}x{height}")
    elif path.lower().endswith(".pdf"):
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
            die(f"{path}: not a PDF")
    else:
        die(f"{path}: unknown image type")
    if len(data) < 1000:
        die(f"{path}: only {len(data)} bytes")


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    if argv[1] == "truth" and len(argv) >= 5:
        cal = argv[6].split(",") if len(argv) > 6 and argv[5] == "--calibrated" else []
        check_truth(argv[2], argv[3], float(argv[4]), set(cal))
    elif argv[1] == "image" and len(argv) == 5:
        check_image(argv[2], int(argv[3]), int(argv[4]))
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
