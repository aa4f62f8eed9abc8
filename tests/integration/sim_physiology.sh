#!/bin/sh
# The simulator's irregular breathing and AR noise (cuplab-sim(1),
# "Physiology and noise"): the truth file states them; their own generator
# leaves the cups and the sensor noise of a seed as they were, so that
# before the first cup goes on (no ripple yet) the two recordings differ by
# the AR noise alone: its SD and its lag-1 autocorrelation exp(-dt/TAU) are
# checked on that difference.  Bad values are usage errors.
. "$(dirname "$0")/../lib.sh"

S="$BIN/cuplab-sim"
common="-q --seed 5 --cups 2 --rate 20 --duration 400 --start 300"
# shellcheck disable=SC2086 # one word per option
"$S" $common -o "$T/plain.h5" --truth "$T/plain.json" || fail "plain session"
# shellcheck disable=SC2086
"$S" $common -o "$T/irr.h5" --truth "$T/irr.json" --breathing irregular \
    --ar-noise 0.5:2.5 || fail "irregular session"
"$PY" - "$T" <<'PYEOF' || fail "the AR noise or the truth is not as asked"
import json, sys
import h5py
import numpy as np
T = sys.argv[1]
plain, irr = (json.load(open(f"{T}/{n}.json")) for n in ("plain", "irr"))
kpa_per_mmhg = 0.133322387415
for cp, ci in zip(plain["cups"], irr["cups"]):
    assert ci["breath_drift"] == 0.2 and cp["breath_drift"] == 0, (ci, cp)
    assert abs(ci["ar_noise_kpa"] - 0.5 * kpa_per_mmhg) < 1e-12, ci
    assert ci["ar_noise_tau_s"] == 2.5 and cp["ar_noise_kpa"] == 0
    assert 1 / 200 <= ci["breath_mod1_hz"] <= 1 / 50, ci
    for k in ("peak_kpa", "tau_s", "t_apply_s", "breath_hz", "noise_kpa"):
        assert cp[k] == ci[k], (k, cp[k], ci[k])
with h5py.File(f"{T}/plain.h5") as a, h5py.File(f"{T}/irr.h5") as b:
    t = a["devices/dev0/host_time"][:]
    d = b["devices/dev0/samples"][:] - a["devices/dev0/samples"][:]
first = min(c["t_apply_s"] for c in plain["cups"])
keep = t < first - 1
for i, s in enumerate(plain["sensors"]):
    counts_per_kpa = s["adc_max"] * s["gain"] * s["sensitivity_per_kpa"]
    x = d[keep, i] - d[keep, i].mean()
    # each recording is rounded to counts: the difference carries white
    # rounding noise of variance 2/12 counts^2 on top of the AR noise
    g0 = np.dot(x, x) / len(x) - 2 / 12
    sd = np.sqrt(g0) / counts_per_kpa / kpa_per_mmhg
    r1 = np.dot(x[1:], x[:-1]) / len(x) / g0
    print(f"cup {i + 1}: AR noise SD {sd:.3f} mmHg (0.5 asked), lag-1 autocorrelation "
          f"{r1:.4f} (exp(-0.05/2.5) = {np.exp(-0.05 / 2.5):.4f}), {keep.sum()} samples")
    assert 0.35 < sd < 0.65, sd
    assert abs(r1 - np.exp(-0.05 / 2.5)) < 0.01, r1
PYEOF
for bad in "--breathing wobbly" "--ar-noise 0.5:0" "--ar-noise 900" "--ar-noise :2"; do
    # shellcheck disable=SC2086
    "$S" -q -o "$T/bad.h5" $bad 2>"$T/err"
    [ $? -eq 2 ] || fail "$bad: expected exit 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$bad: not one line: $(cat "$T/err")"
done
echo "pass: irregular breathing and AR noise as the simulator states them"
