/*
 * cl_metrics: per-application numbers (see cl_metrics.h).  Works on one
 * cup's arrays; allocates copies of the application for its running
 * median and the block means of the fitted stretch.
 */
#include "cl_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_filter.h"

void cl_metrics_defaults(cl_metrics_params *p)
{
    p->settle_s = 3.0;
    p->release_guard_s = 1.0;
    p->fit_bin_s = 1.0;
    p->peak_smooth_s = 0.5;
    p->change_edge_s = 10.0;
    p->peak_noise_s = 5.0;
}

const cl_decay_fit *cl_metrics_exp_fit(const cl_cup_metrics *m)
{
    if (m->cooling)
        return &m->all[CL_DECAY_EXP_SLOPE - 1];
    if (m->best.model != CL_DECAY_LINEAR)
        return &m->best;
    return &m->all[CL_DECAY_EXP - 1];
}

/* First index with t >= x (n if none); t non-decreasing. */
static size_t lower(const double *t, size_t stride, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid * stride] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void reset(cl_cup_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->peak_kpa = m->peak_t_s = m->time_to_peak_s = m->peak_noise_u_kpa = NAN;
    m->hold_duration_s = m->win_start_s = m->win_end_s = NAN;
    m->hold_mean_kpa = m->hold_sd_kpa = m->hold_min_kpa = m->hold_max_kpa = NAN;
    m->fit_start_s = m->fit_end_s = NAN;
    m->change_kpa = m->change_pct = NAN;
    m->leak_kpa_min = m->leak_se_kpa_min = NAN;
    m->k_per_min = m->k_se_per_min = m->fit_mean_kpa = NAN;
    m->rel_pct_min = m->rel_se_pct_min = NAN;
    m->dose_kpa_min = NAN;
    m->gap_s = 0;
    for (int k = 0; k < 3; k++) {
        m->all[k].model = (cl_decay_model)(k + 1);
        m->all[k].ok = false;
    }
    m->best = m->all[0];
}

/* Peak of the running median over [i0, i1). */
static int peak(const double *t, const double *v, size_t stride, size_t i0, size_t i1,
                double smooth_s, double dt, cl_cup_metrics *m, cl_error *err)
{
    size_t w = dt > 0 ? (size_t)llround(smooth_s / dt) : 1, at;
    double max;
    int rc = cl_filter_median_max(v + i0 * stride, stride, i1 - i0, w < 1 ? 1 : w, &max, &at,
                                  err);
    if (rc == CL_OK && isfinite(max)) {
        m->peak_kpa = max;
        m->peak_t_s = t[(i0 + at) * stride];
    }
    return rc;
}

/* Expanded noise uncertainty of the peak at index ip (see cl_metrics.h):
 * samples of [i0, i1) within span_s of it, around their moving average. */
static int peak_noise(const double *v, size_t stride, size_t i0, size_t i1, size_t ip,
                      double span_s, double dt, cl_cup_metrics *m, cl_error *err)
{
    size_t w = dt > 0 ? (size_t)llround(span_s / dt) : 1;
    if (w < 3)
        w = 3;
    if (ip < i0)
        ip = i0;
    size_t a = ip > i0 + w ? ip - w : i0, b = ip + w + 1 < i1 ? ip + w + 1 : i1;
    if (b <= a + w)
        return CL_OK;
    double *y = malloc((b - a) * sizeof *y);
    if (!y)
        return cl_error_set(err, CL_ERR_NOMEM, "metrics: out of memory");
    int rc = cl_filter_mean(v + a * stride, stride, b - a, w, y, err);
    if (rc == CL_OK) {
        double s2 = 0;
        size_t c = 0;
        for (size_t i = a; i < b; i++) {
            double r = v[i * stride] - y[i - a];
            if (isfinite(r)) {
                s2 += r * r;
                c++;
            }
        }
        if (c > 1)
            m->peak_noise_u_kpa = 2 * sqrt(s2 / (double)(c - 1));
    }
    free(y);
    return rc;
}

int cl_metrics_blocks(const double *t, const double *v, size_t stride, size_t i0, size_t i1,
                      double t0, double bin_s, double **bt, double **bv, size_t *nb)
{
    size_t cap = i1 - i0 + 1, k = 0;
    *bt = malloc(cap * sizeof **bt);
    *bv = malloc(cap * sizeof **bv);
    if (!*bt || !*bv)
        return CL_ERR_NOMEM;
    size_t i = i0;
    while (i < i1) {
        double st = 0, sv = 0;
        size_t c = 0, j = i;
        double edge = bin_s > 0 ? t[i * stride] + bin_s : -INFINITY;
        do {
            double tj = t[j * stride], vj = v[j * stride];
            if (isfinite(vj)) {
                st += tj;
                sv += vj;
                c++;
            }
            j++;
        } while (j < i1 && t[j * stride] < edge);
        if (c) {
            (*bt)[k] = st / (double)c - t0;
            (*bv)[k] = sv / (double)c;
            k++;
        }
        i = j;
    }
    *nb = k;
    return CL_OK;
}

/* Mean of the finite samples of [f0, f1) on the side of `cut` nearer the
 * stretch's start (cut after t[f0]) or end (cut before it). */
static double edge_mean(const double *t, const double *v, size_t stride, size_t f0, size_t f1,
                        double cut)
{
    double mid = 0.5 * (t[f0 * stride] + t[(f1 - 1) * stride]), s = 0;
    size_t c = 0;
    for (size_t i = f0; i < f1; i++) {
        double ti = t[i * stride], vi = v[i * stride];
        bool in = cut <= mid ? ti <= cut : ti >= cut;
        if (in && isfinite(vi)) {
            s += vi;
            c++;
        }
    }
    return c ? s / (double)c : NAN;
}

/* The longest stretch of [w0, w1] not interrupted by a re-pump. */
static void fit_stretch(const cl_segment_app *a, double w0, double w1, double settle_s,
                        double *f0, double *f1)
{
    double s0 = w0, best = -1;
    size_t nr = a->repumps < CL_SEGMENT_MAX_EVENTS ? a->repumps : CL_SEGMENT_MAX_EVENTS;
    *f0 = w0;
    *f1 = w1;
    for (size_t k = 0; k <= nr; k++) {
        double s1 = k < nr ? a->repump_s[k] : w1;
        if (s1 > w1)
            s1 = w1;
        if (s1 - s0 > best) {
            best = s1 - s0;
            *f0 = s0;
            *f1 = s1;
        }
        if (k < nr && a->repump_end_s[k] + settle_s > s0)
            s0 = a->repump_end_s[k] + settle_s;
    }
}

/* Pressure-time integral and the longest step between samples, over rows
 * [i_on, i_end). */
static void dose_and_gap(const double *t, const double *v, size_t stride, size_t i_on,
                         size_t i_end, cl_cup_metrics *m)
{
    double dose = 0, tp = NAN, vp = NAN, gap = 0;
    for (size_t i = i_on; i < i_end; i++) {
        double ti = t[i * stride], vi = v[i * stride];
        if (i > i_on && ti - t[(i - 1) * stride] > gap)
            gap = ti - t[(i - 1) * stride];
        if (!isfinite(vi))
            continue;
        if (isfinite(tp))
            dose += 0.5 * (vi + vp) * (ti - tp);
        tp = ti;
        vp = vi;
    }
    m->dose_kpa_min = dose / 60;
    m->gap_s = gap;
}

/* Mean, SD, minimum and maximum over the rows [w0, w1); false if none is
 * finite. */
static bool hold_stats(const double *v, size_t stride, size_t w0, size_t w1, cl_cup_metrics *m)
{
    double sum = 0, sum2 = 0;
    size_t c = 0;
    for (size_t i = w0; i < w1; i++) {
        double vi = v[i * stride];
        if (!isfinite(vi))
            continue;
        sum += vi;
        c++;
        if (c == 1 || vi < m->hold_min_kpa)
            m->hold_min_kpa = vi;
        if (c == 1 || vi > m->hold_max_kpa)
            m->hold_max_kpa = vi;
    }
    m->hold_n = c;
    if (c == 0)
        return false;
    m->hold_mean_kpa = sum / (double)c;
    for (size_t i = w0; i < w1; i++) {
        double vi = v[i * stride];
        if (isfinite(vi))
            sum2 += (vi - m->hold_mean_kpa) * (vi - m->hold_mean_kpa);
    }
    m->hold_sd_kpa = c > 1 ? sqrt(sum2 / (double)(c - 1)) : NAN;
    return true;
}

/* The decay models fitted to the blocks (bt, bv)[0..nb), the reported one
 * chosen, and the leak figures that follow from them. */
static void decay_figures(const double *bt, const double *bv, size_t nb, cl_cup_metrics *m)
{
    m->fit_points = nb;
    if (cl_decay_fit_best(bt, bv, 1, nb, &m->best, m->all, NULL) != CL_OK)
        return;
    m->fitted = true;
    const cl_decay_fit *lin = &m->all[CL_DECAY_LINEAR - 1], *ex = &m->all[CL_DECAY_EXP - 1];
    const cl_decay_fit *exs = &m->all[CL_DECAY_EXP_SLOPE - 1];
    m->cooling = exs->ok ? exs->p_inf_kpa > exs->p0_kpa : ex->ok && ex->p_inf_kpa > ex->p0_kpa;
    if (m->cooling)
        m->best = exs->ok && exs->identifiable ? *exs : *lin;
    const cl_decay_fit *e = cl_metrics_exp_fit(m);
    if (!m->cooling && e->ok) {
        m->k_per_min = e->k_per_min;
        m->k_se_per_min = e->k_se_per_min;
    }
    m->leak_kpa_min = -lin->slope_kpa_s * 60;
    m->leak_se_kpa_min = lin->slope_se * 60;
    double mean = 0;
    for (size_t i = 0; i < nb; i++)
        mean += bv[i];
    m->fit_mean_kpa = mean / (double)nb;
    if (m->fit_mean_kpa != 0) {
        m->rel_pct_min = 100 * m->leak_kpa_min / m->fit_mean_kpa;
        m->rel_se_pct_min = 100 * m->leak_se_kpa_min / fabs(m->fit_mean_kpa);
    }
}

/* Fits over the longest stretch of the hold window without re-pumps. */
static int fit_hold(const double *t, const double *v, size_t stride, size_t n,
                    const cl_segment_app *a, const cl_metrics_params *p, cl_cup_metrics *m,
                    cl_error *err)
{
    double *bt = NULL, *bv = NULL;
    size_t nb = 0;
    fit_stretch(a, m->win_start_s, m->win_end_s, p->settle_s, &m->fit_start_s, &m->fit_end_s);
    size_t f0 = lower(t, stride, n, m->fit_start_s), f1 = lower(t, stride, n, m->fit_end_s);
    if (f1 <= f0)
        return CL_OK;
    if (cl_metrics_blocks(t, v, stride, f0, f1, m->fit_start_s, p->fit_bin_s, &bt, &bv, &nb) !=
        CL_OK) {
        free(bt);
        free(bv);
        return cl_error_set(err, CL_ERR_NOMEM, "metrics: out of memory");
    }
    decay_figures(bt, bv, nb, m);
    free(bt);
    free(bv);
    if (!m->fitted)
        return CL_OK;
    double v0 = edge_mean(t, v, stride, f0, f1, m->fit_start_s + p->change_edge_s),
           v1 = edge_mean(t, v, stride, f0, f1, m->fit_end_s - p->change_edge_s);
    m->change_kpa = v1 - v0;
    m->change_pct = v0 != 0 ? 100 * (v1 - v0) / v0 : NAN;
    return CL_OK;
}

int cl_metrics_compute(const double *t, const double *v, size_t stride, size_t n,
                       const cl_segment_app *a, const cl_metrics_params *p,
                       cl_cup_metrics *m, cl_error *err)
{
    cl_metrics_params def;
    int rc;

    if (!m || !a || (n && (!t || !v)) || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "metrics: invalid arguments");
    reset(m);
    if (!p) {
        cl_metrics_defaults(&def);
        p = &def;
    }
    if (n < 2)
        return CL_OK;
    double t_end = t[(n - 1) * stride];
    double rel = a->released ? a->release_start_s : t_end;
    size_t i_on = lower(t, stride, n, a->onset_s);
    size_t i_rel = a->released ? lower(t, stride, n, a->release_start_s) : n;
    size_t i_end = a->released ? lower(t, stride, n, a->release_end_s) + 1 : n;
    if (i_end > n)
        i_end = n;
    double dt = (t_end - t[0]) / (double)(n - 1);

    /* Peak and time to peak. */
    if (i_rel > i_on) {
        if ((rc = peak(t, v, stride, i_on, i_rel, p->peak_smooth_s, dt, m, err)) != CL_OK)
            return rc;
        m->time_to_peak_s = m->peak_t_s - a->onset_s;
        if (isfinite(m->peak_t_s)) {
            size_t i_hold = lower(t, stride, n, a->hold_start_s);
            rc = peak_noise(v, stride, i_hold > i_on ? i_hold : i_on, i_rel,
                            lower(t, stride, n, m->peak_t_s), p->peak_noise_s, dt, m, err);
            if (rc != CL_OK)
                return rc;
        }
    }
    dose_and_gap(t, v, stride, i_on, i_end, m);

    /* The hold window. */
    m->hold_duration_s = rel - a->hold_start_s;
    m->win_start_s = a->hold_start_s + p->settle_s;
    m->win_end_s = a->released ? rel - p->release_guard_s : t_end;
    if (!(m->win_end_s > m->win_start_s)) {
        m->win_start_s = m->win_end_s = NAN;
        return CL_OK;
    }
    if (!hold_stats(v, stride, lower(t, stride, n, m->win_start_s),
                    lower(t, stride, n, m->win_end_s), m))
        return CL_OK;
    return fit_hold(t, v, stride, n, a, p, m, err);
}
