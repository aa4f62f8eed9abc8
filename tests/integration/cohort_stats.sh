#!/bin/sh
# Cohort comparison on the example cohort (datasets/generate.sh into a
# scratch folder): every statistic recomputed independently with scipy and
# numpy from the per-session values cuplab-analyze reports (--table
# sessions; the intervals of omega2 and Hedges' g by inverting scipy's
# noncentral F and t) and, for the ICC, from the per-cup results of the ordinary
# analysis; the generating differences recovered (the practitioner with the
# deepest target vacuum comes out deepest; the closest profile to a target
# is the practitioner who aimed at it); -j 1 and -j 2 give the same bytes.
# Agreement: 1e-9 relative, 1e-6 for the intervals found by root finding
# (printed: the worst digits seen).
. "$(dirname "$0")/../lib.sh"
"$PY" -c 'import scipy' 2>/dev/null || skip "python3-scipy not installed"

BUILD=$BUILD sh "$TOP/datasets/generate.sh" "$T/ds" 2>"$T/gen.err" || fail "generate.sh failed: $(cat "$T/gen.err")"
S=$T/ds/cohort/sessions
A="$BIN/cuplab-analyze"

"$A" -j 2 --group-by practitioner --metrics all -u mmHg --target 380mmHg:10min -f json "$S" \
    >"$T/p.json" 2>"$T/p.err" || fail "cohort run: $(cat "$T/p.err")"
"$A" -q -u mmHg -f csv "$S"/P2-*.h5 >"$T/cups.csv" || fail "per-cup run"
# Worker processes change nothing in the results.
for j in 1 3; do
    "$A" -q -j $j --group-by technique -f json "$S"/P1-*.h5 >"$T/j$j.json" || fail "-j $j"
done
cmp -s "$T/j1.json" "$T/j3.json" || fail "-j 1 and -j 3 differ"

"$PY" - "$T" <<'PY' || fail "statistics differ from scipy"
import csv, json, math, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from scipy import optimize, stats, special

T = sys.argv[1]
doc = json.load(open(f"{T}/p.json"))
worst = [0.0, ""]
worst_ci = [0.0, ""]  # the effect sizes' intervals

def close(a, b, what, tol=1e-9):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        assert a is None and (b is None or math.isnan(b)), (what, a, b)
        return
    err = abs(a - b) / max(abs(b), 1e-300)
    if abs(a - b) > 1e-12 and err > worst[0]:
        worst[0], worst[1] = err, what
    if what.startswith(("omega2_", "hedges_g_")) and abs(a - b) > worst_ci[0]:
        worst_ci[0], worst_ci[1] = abs(a - b), what
    assert err <= tol or abs(a - b) <= 1e-12, (what, a, b, err)

rows = doc["sessions"]["rows"]
metrics = [k for k in rows[0] if k not in ("file", "session_uuid", "practitioner", "subject", "cups")]
assert len(metrics) == 11, metrics
vals = {}
for r in rows:
    for m in metrics:
        vals.setdefault(m, {}).setdefault(r["practitioner"], [])
        if r[m] is not None:
            vals[m][r["practitioner"]].append(float(r[m]))
pracs = ["P1", "P2", "P3"]

def table(name):
    return doc[name]["rows"]

# groups: n, mean, SD, CV, median, quartiles (numpy's linear = R type 7)
for g in table("groups"):
    x = np.array(vals[g["metric"]][g["practitioner"]])
    assert g["n"] == len(x)
    if len(x) < 2:
        continue
    close(g["mean"], x.mean(), "mean")
    close(g["sd"], x.std(ddof=1), "sd")
    close(g["cv"], x.std(ddof=1) / abs(x.mean()), "cv")
    close(g["median"], float(np.median(x)), "median")
    q1, q3 = np.percentile(x, [25, 75])
    close(g["q1"], q1, "q1")
    close(g["q3"], q3, "q3")
    close(g["iqr"], q3 - q1, "iqr")

# Confidence intervals of the effect sizes by inverting scipy's noncentral
# F and t (scipy.stats.ncf, nct) in their noncentrality with brentq.
def nc_root(cdf, target, lo, hi, floor=None):
    """The noncentrality where cdf (falling in it) equals target."""
    while cdf(lo) < target:
        if floor is not None and lo <= floor:
            return floor
        lo = lo - (hi - lo) if floor is None else max(floor, lo - (hi - lo))
    while cdf(hi) > target:
        hi += hi - lo
    return optimize.brentq(lambda x: cdf(x) - target, lo, hi, xtol=1e-13, rtol=1e-13)

def omega2_ci(F, d1, d2, N):
    cdf = lambda l: stats.ncf.cdf(F, d1, d2, l) if l > 0 else stats.f.cdf(F, d1, d2)
    lam = [nc_root(cdf, q, 0.0, max(1.0, F * d1), floor=0.0) for q in (0.975, 0.025)]
    return [l / (l + N) for l in lam]

def g_ci(a, b, sp):
    scale = math.sqrt(1 / len(a) + 1 / len(b))
    t, df = (a.mean() - b.mean()) / sp / scale, len(a) + len(b) - 2
    cdf = lambda d: stats.nct.cdf(t, df, d)
    return [nc_root(cdf, q, t - 1, t + 1) * scale for q in (0.975, 0.025)]

def welch_anova(groups):
    k = len(groups)
    n = np.array([len(g) for g in groups], float)
    m = np.array([np.mean(g) for g in groups])
    v = np.array([np.var(g, ddof=1) for g in groups])
    w = n / v
    W = w.sum()
    mw = (w * m).sum() / W
    A = (w * (m - mw) ** 2).sum() / (k - 1)
    L = ((1 - w / W) ** 2 / (n - 1)).sum()
    F = A / (1 + 2 * (k - 2) * L / (k * k - 1))
    df2 = (k * k - 1) / (3 * L)
    return F, df2, stats.f.sf(F, k - 1, df2)

checked = set()
for t in table("tests"):
    groups = [np.array(vals[t["metric"]][p]) for p in pracs if len(vals[t["metric"]][p]) >= 2]
    assert t["groups"] == len(groups), t
    if len(groups) < 2 or np.ptp(np.concatenate(groups)) == 0:
        # Nothing to compare (tau_s rarely identifiable; no re-pumps at all).
        assert t["welch_p"] is None and t["kw_p"] is None, t
        continue
    checked.add(t["metric"])
    F, df2, p = welch_anova(groups)
    close(t["welch_f"], F, "welch_f")
    close(t["welch_df2"], df2, "welch_df2")
    close(t["welch_p"], p, "welch_p")
    fo = stats.f_oneway(*groups)
    close(t["anova_f"], fo.statistic, "anova_f")
    close(t["anova_p"], fo.pvalue, "anova_p")
    allx = np.concatenate(groups)
    ssb = sum(len(g) * (g.mean() - allx.mean()) ** 2 for g in groups)
    sst = ((allx - allx.mean()) ** 2).sum()
    msw = (sst - ssb) / (len(allx) - len(groups))
    close(t["eta2"], ssb / sst, "eta2")
    close(t["omega2"], (ssb - (len(groups) - 1) * msw) / (sst + msw), "omega2")
    lo, hi = omega2_ci(fo.statistic, len(groups) - 1, len(allx) - len(groups), len(allx))
    close(t["omega2_lo"], lo, "omega2_lo", 1e-6)
    close(t["omega2_hi"], hi, "omega2_hi", 1e-6)
    assert t["omega2_lo"] <= max(t["omega2"], 0) <= t["omega2_hi"], t
    kw = stats.kruskal(*groups)
    close(t["kw_h"], kw.statistic, "kw_h")
    close(t["kw_p"], kw.pvalue, "kw_p")
    close(t["epsilon2"], kw.statistic / (len(allx) - 1), "epsilon2")
    bf = stats.levene(*groups, center="median")
    close(t["bf_f"], bf.statistic, "bf_f")
    close(t["bf_p"], bf.pvalue, "bf_p")

def holm(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, run = [0.0] * len(ps), 0.0
    for r, i in enumerate(order):
        run = max(run, min(1.0, (len(ps) - r) * ps[i]))
        out[i] = run
    return out

assert len(checked) >= 8, checked
fam = {}
for pr in table("pairwise"):
    a, b = np.array(vals[pr["metric"]][pr["group_a"]]), np.array(vals[pr["metric"]][pr["group_b"]])
    if a.var() == 0 and b.var() == 0:
        assert pr["t"] is None and pr["p"] is None and pr["p_holm"] is None, pr
        continue
    tt = stats.ttest_ind(a, b, equal_var=False)
    close(pr["t"], tt.statistic, "t")
    close(pr["p"], tt.pvalue, "p")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    close(pr["df"], (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)), "df")
    close(pr["diff"], a.mean() - b.mean(), "diff")
    half = stats.t.ppf(0.975, pr["df"]) * math.sqrt(va + vb)
    close(pr["ci_lo"], a.mean() - b.mean() - half, "ci_lo")
    m = len(a) + len(b) - 2
    sp = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / m)
    J = math.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / math.sqrt(m / 2)
    close(pr["hedges_g"], (a.mean() - b.mean()) / sp * J, "hedges_g")
    lo, hi = g_ci(a, b, sp)
    close(pr["hedges_g_lo"], lo, "hedges_g_lo", 1e-6)
    close(pr["hedges_g_hi"], hi, "hedges_g_hi", 1e-6)
    fam.setdefault(pr["metric"], []).append(pr)
for m, prs in fam.items():
    for pr, adj in zip(prs, holm([p["p"] for p in prs])):
        close(pr["p_holm"], adj, "p_holm")

# The generating differences: the truth's target vacuum orders the peaks.
truth = {}
for p in pracs:
    for tech in ("pump", "fire"):
        t = json.load(open(f"{T}/ds/cohort/truth/{p}-{tech}-01.json"))
        truth.setdefault(p, []).append(t["style"]["vacuum_mmhg"])
aim = {p: sum(v) / len(v) for p, v in truth.items()}
peak = {g["practitioner"]: g["mean"] for g in table("groups") if g["metric"] == "peak_vacuum"}
assert sorted(pracs, key=aim.get) == sorted(pracs, key=peak.get), (aim, peak)
assert max(peak, key=peak.get) == "P1"
tp = [t for t in table("tests") if t["metric"] == "peak_vacuum"][0]
assert tp["welch_p"] < 1e-4 and tp["kw_p"] < 1e-3, tp
assert doc["closest"]["group"] == "P1", doc["closest"]
prof = {r["practitioner"]: r for r in table("profiles")}
assert prof["P1"]["closest"] == "yes" and prof["P2"]["closest"] == ""
assert min(prof, key=lambda p: prof[p]["rms_target"]) == "P1"

# ICC(2,1) of P2's pump sessions: sites x sessions of per-cup peaks.
rep = [r for r in table("repeatability")
       if r["practitioner"] == "P2" and r["metric"] == "peak_vacuum"][0]
cups = list(csv.DictReader(open(f"{T}/cups.csv")))
files = sorted({c["file"] for c in cups})
sites = sorted({c["site"] for c in cups})
Y = np.array([[float(next(c["peak_vacuum"] for c in cups if c["file"] == f and c["site"] == s))
               for f in files] for s in sites])
n, k = Y.shape
gm, rm, cm = Y.mean(), Y.mean(1), Y.mean(0)
msr = k * ((rm - gm) ** 2).sum() / (n - 1)
msc = n * ((cm - gm) ** 2).sum() / (k - 1)
mse = (((Y - gm) ** 2).sum() - msr * (n - 1) - msc * (k - 1)) / ((n - 1) * (k - 1))
icc = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
a = k * icc / (n * (1 - icc))
b = 1 + k * icc * (n - 1) / (n * (1 - icc))
v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
fu, fl = stats.f.ppf(0.975, n - 1, v), stats.f.ppf(0.975, v, n - 1)
lo = n * (msr - fu * mse) / (fu * (k * msc + (k * n - k - n) * mse) + n * msr)
hi = n * (fl * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fl * msr)
assert rep["sites"] == n == 6 and rep["sessions"] == k == 12, rep
close(rep["icc"], icc, "icc", 1e-8)
close(rep["icc_lo"], lo, "icc_lo", 1e-6)
close(rep["icc_hi"], hi, "icc_hi", 1e-6)
close(rep["icc_p"], stats.f.sf(msr / mse, n - 1, (n - 1) * (k - 1)), "icc_p", 1e-8)
close(rep["sem"], math.sqrt((msc - mse) / n + mse), "sem", 1e-8)  # no floor at sqrt(MSE)
cvw = math.sqrt(np.mean((Y.std(1, ddof=1) / Y.mean(1)) ** 2))
close(rep["cv_within"], cvw, "cv_within", 1e-8)
# Sites differ by cup size (L 10 % deeper than M): the ICC sees them.
assert icc > 0.2, icc
print(f"agreement with scipy/numpy: worst relative difference {worst[0]:.2g} in {worst[1]} "
      f"({-math.log10(worst[0]) if worst[0] else 16:.1f} digits); the intervals of omega2 "
      f"and g within {worst_ci[0]:.2g} ({worst_ci[1]})")
PY

# Practitioner aiming lowest is closest to a low target.
"$A" -q --group-by practitioner --target 220mmHg:6min -f json "$S" >"$T/low.json" ||
    fail "low target"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["closest"]["group"]=="P3", d["closest"]' \
    "$T/low.json" || fail "220 mmHg for 6 min is not closest to P3"
