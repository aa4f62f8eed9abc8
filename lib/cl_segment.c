/*
 * cl_segment: phase segmentation of one cup's vacuum trace (see
 * cl_segment.h for the rules).  Works on whole arrays of one cup; two work
 * arrays of n doubles are allocated (despiked, derivative); the smoothed
 * trace is needed only around the edges and computed there alone.
 */
#include "cl_segment.h"

#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_filter.h"
#include "cl_units.h"

#define NOISE_SDS 8.0      /* edge threshold in robust SDs of the derivative */
#define SETTLE_FRACTION 20 /* a rising edge has settled at peak rate / 20 */
#define MERGE_S 0.2        /* same-sign edges closer than this are one */
#define LEVEL_MARGIN_S 0.3 /* levels before/after an edge are read this far out */

void cl_segment_defaults(cl_segment_params *p)
{
    p->on_kpa = 20 * CL_KPA_PER_MMHG;
    p->off_kpa = 10 * CL_KPA_PER_MMHG;
    p->dwell_s = 0.5;
    p->deriv_sigma_s = 0.05;
    p->stroke_rate_kpa_s = 3.0;
    p->stroke_min_kpa = 5 * CL_KPA_PER_MMHG;
    p->evac_gap_s = 8.0;
    p->stroke_max_s = 1.5;
}

void cl_segmentation_release(cl_segmentation *s)
{
    if (!s)
        return;
    free(s->apps);
    s->apps = NULL;
    s->napps = 0;
}

typedef struct edge {
    size_t start, peak, end; /* sample indexes */
    size_t half_end;         /* half-maximum crossing after the peak */
    int sign;                /* +1 rising vacuum, -1 falling */
    double rise_kpa;         /* level after minus level before */
} edge;

typedef struct work {
    const double *t;
    size_t stride, n;
    double *m, *d; /* despiked, derivative (kPa/s) */
    double dt, sigma; /* median step; Gaussian sigma in samples */
    edge *edges;
    size_t nedges, capedges;
} work;

static double T(const work *w, size_t i) { return w->t[i * w->stride]; }

/* Median of the positive steps of t. */
static double median_step(const double *t, size_t stride, size_t n, cl_error *err, int *rc)
{
    double *dt = malloc((n ? n : 1) * sizeof *dt);
    size_t k = 0;
    *rc = CL_OK;
    if (!dt) {
        *rc = cl_error_set(err, CL_ERR_NOMEM, "segmentation: out of memory");
        return NAN;
    }
    for (size_t i = 1; i < n; i++) {
        double d = t[i * stride] - t[(i - 1) * stride];
        if (d > 0 && isfinite(d))
            dt[k++] = d;
    }
    double med = NAN;
    if (k) {
        med = gsl_stats_median(dt, 1, k); /* quickselect: as sorting, in O(k) */
    } else {
        *rc = cl_error_set(err, CL_ERR_ARG, "segmentation: time never advances");
    }
    free(dt);
    return med;
}

/* Robust SD (1.4826 MAD) of the finite values of x[0], x[step], ... */
static double robust_sd(const double *x, size_t n, size_t step)
{
    double *c = malloc((n ? n / step + 1 : 1) * sizeof *c);
    size_t k = 0;
    if (!c)
        return NAN;
    for (size_t i = 0; i < n; i += step)
        if (isfinite(x[i]))
            c[k++] = x[i];
    double sd = NAN;
    if (k) {
        /* Medians by quickselect: the values sorting gives, in O(k). */
        double med = gsl_stats_median(c, 1, k);
        for (size_t i = 0; i < k; i++)
            c[i] = fabs(c[i] - med);
        sd = 1.4826 * gsl_stats_median(c, 1, k);
    }
    free(c);
    return sd;
}

/* Index of the sample `sec` seconds before (dir -1) or after (+1) i,
 * clipped to the trace. */
static size_t offset_index(const work *w, size_t i, double sec, int dir)
{
    double target = T(w, i) + dir * sec;
    if (dir < 0) {
        while (i > 0 && T(w, i - 1) >= target)
            i--;
    } else {
        while (i + 1 < w->n && T(w, i + 1) <= target)
            i++;
    }
    return i;
}

/* First sample at or beyond i in direction dir where the smoothed trace
 * is finite (where the despiked one is: the filter sets aside nothing
 * else); n if none. */
static size_t level_index(const work *w, size_t i, int dir)
{
    for (;;) {
        if (isfinite(w->m[i]))
            return i;
        if ((dir < 0 && i == 0) || (dir > 0 && i + 1 >= w->n))
            return w->n;
        i = dir < 0 ? i - 1 : i + 1;
    }
}

static int push_edge(work *w, const edge *e)
{
    if (w->nedges == w->capedges) {
        size_t cap = w->capedges ? 2 * w->capedges : 32;
        edge *ne = realloc(w->edges, cap * sizeof *ne);
        if (!ne)
            return CL_ERR_NOMEM;
        w->edges = ne;
        w->capedges = cap;
    }
    w->edges[w->nedges++] = *e;
    return CL_OK;
}

/* All runs of |d| above thr, bounded and measured; same-sign runs closer
 * than MERGE_S merged. */
static int find_edges(work *w, double thr, cl_error *err)
{
    size_t i = 0, n = w->n;
    while (i < n) {
        double di = w->d[i];
        if (!(fabs(di) > thr)) {
            i++;
            continue;
        }
        int sign = di > 0 ? 1 : -1;
        size_t peak = i;
        while (i < n && isfinite(w->d[i]) && sign * w->d[i] > thr) {
            if (sign * w->d[i] > sign * w->d[peak])
                peak = i;
            i++;
        }
        double pk = fabs(w->d[peak]);
        /* Start: half-maximum crossing before the peak. */
        size_t s = peak;
        while (s > 0 && isfinite(w->d[s - 1]) && sign * w->d[s - 1] >= pk / 2)
            s--;
        /* End: rising edges settle to pk/SETTLE_FRACTION, falling ones end
         * at their half-maximum crossing. */
        double stop = sign > 0 ? pk / SETTLE_FRACTION : pk / 2;
        size_t e = peak, h = peak;
        while (e + 1 < n && isfinite(w->d[e + 1]) && sign * w->d[e + 1] >= stop)
            e++;
        while (h + 1 < n && isfinite(w->d[h + 1]) && sign * w->d[h + 1] >= pk / 2)
            h++;
        edge ed = {.start = s, .peak = peak, .end = e, .half_end = h, .sign = sign};
        if (w->nedges && w->edges[w->nedges - 1].sign == sign &&
            T(w, s) - T(w, w->edges[w->nedges - 1].end) < MERGE_S) {
            edge *prev = &w->edges[w->nedges - 1];
            if (e > prev->end)
                prev->end = e;
            if (h > prev->half_end)
                prev->half_end = h;
            if (fabs(w->d[peak]) > fabs(w->d[prev->peak]))
                prev->peak = peak;
        } else if (push_edge(w, &ed) != CL_OK) {
            return cl_error_set(err, CL_ERR_NOMEM, "segmentation: out of memory");
        }
        if (e + 1 > i)
            i = e + 1;
    }
    /* Rise: the smoothed level after minus the level before, read
     * LEVEL_MARGIN_S out (at the nearest finite sample beyond). */
    size_t nlev = 2 * w->nedges, cap = nlev ? nlev : 1, npick = 0;
    size_t *at = malloc(cap * sizeof *at), *pick = malloc(cap * sizeof *pick);
    double *lev = malloc(cap * sizeof *lev);
    int rc = CL_OK;
    if (!at || !pick || !lev) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "segmentation: out of memory");
        goto out;
    }
    for (size_t k = 0; k < w->nedges; k++) {
        const edge *ed = &w->edges[k];
        at[2 * k] = level_index(w, offset_index(w, ed->start, LEVEL_MARGIN_S, -1), -1);
        at[2 * k + 1] = level_index(w, offset_index(w, ed->end, LEVEL_MARGIN_S, +1), +1);
    }
    for (size_t k = 0; k < nlev; k++)
        if (at[k] < w->n)
            pick[npick++] = at[k];
    rc = cl_filter_gaussian_at(w->m, 1, w->n, w->sigma, 0, pick, npick, lev, err);
    if (rc != CL_OK)
        goto out;
    npick = 0;
    for (size_t k = 0; k < w->nedges; k++) {
        double before = at[2 * k] < w->n ? lev[npick++] : NAN;
        double after = at[2 * k + 1] < w->n ? lev[npick++] : NAN;
        w->edges[k].rise_kpa = after - before;
    }
out:
    free(at);
    free(pick);
    free(lev);
    return rc;
}

/* Hysteresis state machine on the despiked trace: engaged intervals
 * [on, off) as sample indexes; off = n when still engaged at the end. */
typedef struct interval {
    size_t on, off;
} interval;

static int find_intervals(const work *w, const cl_segment_params *p, interval **out,
                          size_t *nout)
{
    interval *iv = NULL;
    size_t niv = 0, cap = 0, cand = (size_t)-1, on = 0;
    int engaged = 0;
    for (size_t i = 0; i < w->n; i++) {
        double v = w->m[i];
        if (!isfinite(v))
            continue;
        int beyond = engaged ? v < p->off_kpa : v > p->on_kpa;
        if (!beyond) {
            cand = (size_t)-1;
            continue;
        }
        if (cand == (size_t)-1)
            cand = i;
        if (T(w, i) - T(w, cand) < p->dwell_s)
            continue;
        if (!engaged) {
            on = cand;
            engaged = 1;
        } else {
            if (niv == cap) {
                cap = cap ? 2 * cap : 4;
                interval *ni = realloc(iv, cap * sizeof *ni);
                if (!ni) {
                    free(iv);
                    return CL_ERR_NOMEM;
                }
                iv = ni;
            }
            iv[niv++] = (interval){on, cand};
            engaged = 0;
        }
        cand = (size_t)-1;
    }
    if (engaged) {
        interval *ni = realloc(iv, (niv + 1) * sizeof *ni);
        if (!ni) {
            free(iv);
            return CL_ERR_NOMEM;
        }
        iv = ni;
        iv[niv++] = (interval){on, w->n};
    }
    *out = iv;
    *nout = niv;
    return CL_OK;
}

/* A stroke gains at least stroke_min_kpa, quickly: slow swings (moving
 * cupping, breathing, cooling) are not strokes. */
static bool is_stroke(const work *w, const edge *e, const cl_segment_params *p)
{
    return e->sign > 0 && e->rise_kpa >= p->stroke_min_kpa &&
           T(w, e->half_end) - T(w, e->start) <= p->stroke_max_s;
}

/* Walk back from index i while the despiked vacuum stays above `level`. */
static size_t walk_back(const work *w, size_t i, size_t lo, double level)
{
    while (i > lo && !(isfinite(w->m[i - 1]) && w->m[i - 1] <= level))
        i--;
    return i;
}

static void build_app(const work *w, const cl_segment_params *p, const interval *iv,
                      size_t lo, cl_segment_app *a)
{
    size_t n = w->n;
    *a = (cl_segment_app){.release_start_s = NAN, .release_end_s = NAN,
                          .disengaged_s = NAN, .i_release = n, .i_release_end = n};
    a->engaged_s = T(w, iv->on);
    a->released = iv->off < n;
    if (a->released)
        a->disengaged_s = T(w, iv->off);
    size_t hi = a->released ? iv->off : n;

    /* Release: the last falling edge starting before the disengage
     * crossing (and after the cup engaged). */
    const edge *rel = NULL;
    if (a->released) {
        for (size_t k = 0; k < w->nedges; k++) {
            const edge *e = &w->edges[k];
            if (e->sign < 0 && e->start > iv->on && e->start <= iv->off &&
                -e->rise_kpa >= p->stroke_min_kpa)
                rel = e;
        }
        a->i_release = rel ? rel->start : iv->off;
        a->i_release_end = rel ? (rel->end > iv->off ? rel->end : iv->off) : iv->off;
        a->release_start_s = T(w, a->i_release);
        a->release_end_s = T(w, a->i_release_end);
        hi = a->i_release;
    }

    /* Evacuation: the first stroke starting at most evac_gap_s before the
     * engage crossing, and the strokes chained to it. */
    size_t k0 = w->nedges, last = w->nedges;
    for (size_t k = 0; k < w->nedges; k++) {
        const edge *e = &w->edges[k];
        if (e->start < lo || e->start >= hi || !is_stroke(w, e, p))
            continue;
        if (T(w, e->start) >= a->engaged_s - p->evac_gap_s &&
            T(w, e->start) <= a->engaged_s + p->evac_gap_s) {
            k0 = k;
            break;
        }
    }
    if (k0 < w->nedges) {
        last = k0;
        for (size_t k = k0; k < w->nedges; k++) {
            const edge *e = &w->edges[k];
            if (e->start >= hi)
                break;
            if (!is_stroke(w, e, p))
                continue;
            if (k != k0 && T(w, e->start) - T(w, w->edges[last].end) > p->evac_gap_s)
                break;
            if (a->strokes < CL_SEGMENT_MAX_EVENTS) {
                a->stroke_s[a->strokes] = T(w, e->start);
                a->stroke_kpa[a->strokes] = e->rise_kpa;
            }
            a->strokes++;
            last = k;
        }
        a->i_onset = w->edges[k0].start;
        a->i_hold = w->edges[last].end;
    } else {
        /* No edge: a slow application.  Onset where the vacuum first left
         * the baseline, hold after the dwell. */
        a->i_onset = walk_back(w, iv->on, lo, p->off_kpa / 2);
        a->i_hold = offset_index(w, iv->on, p->dwell_s, +1);
    }
    if (a->i_hold > hi)
        a->i_hold = hi;
    a->onset_s = T(w, a->i_onset);
    a->hold_start_s = T(w, a->i_hold);

    /* Re-pumps: strokes during the hold. */
    for (size_t k = (k0 < w->nedges ? last + 1 : 0); k < w->nedges; k++) {
        const edge *e = &w->edges[k];
        if (e->start <= a->i_hold || e->start < lo)
            continue;
        if (e->start >= hi)
            break;
        if (!is_stroke(w, e, p))
            continue;
        if (a->repumps < CL_SEGMENT_MAX_EVENTS) {
            a->repump_s[a->repumps] = T(w, e->start);
            a->repump_kpa[a->repumps] = e->rise_kpa;
            a->repump_end_s[a->repumps] = T(w, e->end);
        }
        a->repumps++;
    }
}

int cl_segment(const double *t_s, const double *vac_kpa, size_t stride, size_t n,
               const cl_segment_params *p, cl_segmentation *out, cl_error *err)
{
    cl_segment_params def;
    work w = {.t = t_s, .stride = stride, .n = n};
    interval *iv = NULL;
    size_t niv = 0;
    int rc = CL_OK;

    if (!out || (n && (!t_s || !vac_kpa)) || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "segmentation: invalid arguments");
    *out = (cl_segmentation){.dt_s = NAN, .rate_threshold_kpa_s = NAN};
    if (!p) {
        cl_segment_defaults(&def);
        p = &def;
    }
    if (n < 3)
        return CL_OK;
    w.dt = median_step(t_s, stride, n, err, &rc);
    if (rc != CL_OK)
        return rc;
    out->dt_s = w.dt;
    w.m = malloc(n * sizeof *w.m);
    w.d = malloc(n * sizeof *w.d);
    if (!w.m || !w.d) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "segmentation: out of memory for %zu samples", n);
        goto out;
    }
    /* Despike over about 0.1 s (at least 5 samples), then the smoothed
     * derivative (the smoothed levels come in find_edges). */
    size_t med = (size_t)llround(0.1 / w.dt);
    rc = cl_filter_median(vac_kpa, stride, n, med < 5 ? 5 : med, w.m, err);
    if (rc != CL_OK)
        goto out;
    w.sigma = p->deriv_sigma_s / w.dt;
    if (w.sigma < 1)
        w.sigma = 1;
    rc = cl_filter_gaussian(w.m, 1, n, w.sigma, 1, w.d, err);
    if (rc != CL_OK)
        goto out;
    for (size_t i = 0; i < n; i++)
        w.d[i] /= w.dt;
    /* The noise of the derivative, from samples half a sigma apart: its
     * neighbours within that distance carry the same information. */
    double sd = robust_sd(w.d, n, w.sigma >= 2 ? (size_t)(w.sigma / 2) : 1);
    double thr = p->stroke_rate_kpa_s;
    if (isfinite(sd) && NOISE_SDS * sd > thr)
        thr = NOISE_SDS * sd;
    out->rate_threshold_kpa_s = thr;
    rc = find_edges(&w, thr, err);
    if (rc != CL_OK)
        goto out;
    if (find_intervals(&w, p, &iv, &niv) != CL_OK) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "segmentation: out of memory");
        goto out;
    }
    if (niv) {
        out->apps = calloc(niv, sizeof *out->apps);
        if (!out->apps) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "segmentation: out of memory");
            goto out;
        }
    }
    size_t lo = 0;
    double longest = -1;
    for (size_t k = 0; k < niv; k++) {
        cl_segment_app *a = &out->apps[k];
        build_app(&w, p, &iv[k], lo, a);
        lo = a->released ? a->i_release_end : n;
        double end = a->released ? a->release_start_s : T(&w, n - 1);
        if (end - a->onset_s > longest) {
            longest = end - a->onset_s;
            out->main = k;
        }
    }
    out->napps = niv;
out:
    free(iv);
    free(w.edges);
    free(w.d);
    free(w.m);
    return rc;
}

const char *cl_segment_phase_name(int phase)
{
    static const char *const names[CL_SEGMENT_PHASES] = {"baseline", "evacuation", "hold",
                                                         "release"};
    return phase >= 0 && phase < CL_SEGMENT_PHASES ? names[phase] : NULL;
}

void cl_segment_phases(const cl_segmentation *s, size_t n, unsigned char *out)
{
    memset(out, CL_SEGMENT_BASELINE, n);
    for (size_t a = 0; s && a < s->napps; a++) {
        const cl_segment_app *ap = &s->apps[a];
        size_t hold = ap->i_hold < n ? ap->i_hold : n;
        size_t rel = ap->i_release < n ? ap->i_release : n;
        size_t end = ap->i_release_end < n ? ap->i_release_end : rel;
        for (size_t i = ap->i_onset; i < n && i < end; i++)
            out[i] = i < hold ? CL_SEGMENT_EVACUATION : i < rel ? CL_SEGMENT_HOLD : CL_SEGMENT_RELEASE;
    }
}
