/*
 * cl_cohortplot: box plots and mean profiles of a cohort comparison (see
 * cl_cohortplot.h).  Streams, the driver and the trap for PLplot's fatal
 * errors come from cl_plot; everything here draws from the arrays
 * cl_cohort keeps, converted to the figure's pressure unit.
 */
#include "cohort/cl_cohortplot.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <plplot.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_plot.h"

#define NP CL_COHORTSESSION_POINTS
#define MAX_BOX_PANELS 12
#define MAX_PROFILE_PANELS 24

enum {
    COL_BOX = CL_PLOT_TINT_BLUE,
    COL_MEDIAN = CL_PLOT_VERMILION,
    COL_POINT = CL_PLOT_GREY,
    COL_BAND = CL_PLOT_TINT_BLUE,
    COL_MEAN = CL_PLOT_BLUE,
    COL_TARGET = CL_PLOT_ORANGE,
};

#define BOX_PANEL_MIN_MM 40.0     /* narrowest box-plot panel */
#define BOX_AXIS_MM 14.0          /* of its width, what the y axis takes */
#define PROFILE_PANEL_MIN_MM 55.0 /* narrowest profile panel */

/* Columns of a grid of n panels no narrower than min_mm across W mm. */
static size_t columns(size_t n, double W, double min_mm)
{
    size_t nx = (size_t)fmax(1, floor(W / min_mm));
    if (nx > 4)
        nx = 4;
    return n < nx ? n : nx;
}

/* A new figure of ny rows of panels under the title, the legend below;
 * sets the cell grid (after the caller's setjmp on cl_plot_trap).  Without
 * a device: drawn at the top of the frame of the open page, as high as the
 * figure wants or the frame allows (used: the height taken). */
typedef struct layout {
    size_t nx, ny;
    double top, bottom, cw, ch, used;
} layout;

static layout start_page(const char *dev, const char *path, const cl_figure_style *st,
                         const char *title, size_t n, double min_mm, const cl_plot_key *keys,
                         size_t nk)
{
    double W = dev ? cl_plot_width_mm(&st->size) : cl_plot_page_w();
    layout L = {.nx = columns(n, W, min_mm)};
    L.ny = (n + L.nx - 1) / L.nx;
    double lh = cl_plot_legend_h(keys, nk, W - 4);
    double th = title ? 2.0 * CL_PLOT_PT_TITLE * 25.4 / 72 : 0;
    double cellh = fmax(W / (double)L.nx * CL_PLOT_ASPECT, CL_PLOT_CELL_MIN_H);
    double wanted = th + (double)L.ny * cellh + lh + 1.5;
    if (dev)
        cl_plot_begin(dev, path, &st->size, wanted);
    double PW = cl_plot_page_w(), PH = cl_plot_page_h();
    L.used = dev ? PH : fmin(PH, wanted);
    if (title)
        cl_plot_text(PW / 2, PH - th / 2, 0.5, CL_PLOT_PT_TITLE, title);
    L.top = PH - th;
    L.bottom = PH - L.used + lh + 1.5;
    L.cw = PW / (double)L.nx;
    L.ch = (L.top - L.bottom) / (double)L.ny;
    return L;
}

static void cell(const layout *L, size_t i, const cl_plot_axes *ax)
{
    size_t cx = i % L->nx, cy = i / L->nx;
    cl_plot_open(ax, L->cw * (double)cx, L->top - L->ch * (double)(cy + 1),
                 L->cw * (double)(cx + 1), L->top - L->ch * (double)cy);
}

static void legend(const layout *L, const cl_plot_key *keys, size_t nk)
{
    cl_plot_legend(keys, nk, 2, L->bottom - 0.5, cl_plot_page_w() - 4);
}

/* ---------------------------------------------------------------- boxes */

typedef struct box {
    double q1, med, q3, lo, hi; /* whiskers lo/hi */
    size_t n;
} box;

/* Tukey box of sorted x[0..n). */
static box tukey(const double *x, size_t n)
{
    box b = {NAN, NAN, NAN, NAN, NAN, n};
    if (!n)
        return b;
    b.q1 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.25);
    b.med = gsl_stats_median_from_sorted_data(x, 1, n);
    b.q3 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.75);
    double f = 1.5 * (b.q3 - b.q1);
    b.lo = b.q3;
    b.hi = b.q1;
    for (size_t i = 0; i < n; i++) {
        if (x[i] >= b.q1 - f && x[i] < b.lo)
            b.lo = x[i];
        if (x[i] <= b.q3 + f && x[i] > b.hi)
            b.hi = x[i];
    }
    return b;
}

static const cl_plot_key box_keys[] = {
    {CL_PLOT_KEY_FILL, COL_BOX, 1, 0, "Quartiles"},
    {CL_PLOT_KEY_LINE, COL_MEDIAN, 1, 1.2, "Median"},
    {CL_PLOT_KEY_LINE, CL_PLOT_BLACK, 1, 0.6, "Whiskers: furthest within 1.5 IQR"},
    {CL_PLOT_KEY_POINT, COL_POINT, 17, 0.5, "Session"},
    {CL_PLOT_KEY_POINT, CL_PLOT_BLACK, 4, 0.7, "Outlier (beyond the whiskers)"},
};
enum { KEY_BOX, KEY_MEDIAN, KEY_WHISKER, KEY_POINT, KEY_OUTLIER };

static void draw_box(double xc, double w, const box *b, const double *x)
{
    PLFLT bx[5] = {xc - w, xc + w, xc + w, xc - w, xc - w};
    PLFLT by[5] = {b->q1, b->q1, b->q3, b->q3, b->q1};
    plcol0(COL_BOX);
    plfill(4, bx, by);
    cl_plot_pen(&box_keys[KEY_WHISKER]);
    plline(5, bx, by);
    pljoin(xc, b->q3, xc, b->hi);
    pljoin(xc, b->q1, xc, b->lo);
    pljoin(xc - w / 2, b->hi, xc + w / 2, b->hi);
    pljoin(xc - w / 2, b->lo, xc + w / 2, b->lo);
    cl_plot_pen(&box_keys[KEY_MEDIAN]);
    pljoin(xc - w, b->med, xc + w, b->med);
    for (size_t i = 0; i < b->n; i++) {
        PLFLT px = xc + w * 0.6 * ((double)(i % 7) / 3.0 - 1), py = x[i];
        const cl_plot_key *k = &box_keys[x[i] < b->lo || x[i] > b->hi ? KEY_OUTLIER : KEY_POINT];
        plcol0(k->colour);
        plssym(0, k->width);
        plpoin(1, &px, &py, k->style);
    }
}

/* Values of metric m of every group, converted and sorted, back to back in
 * one allocation; off[g], n[g] locate group g. */
static double *collect(const cl_cohort *c, cl_stat_metric m, cl_unit u, size_t *off, size_t *n)
{
    size_t ng = cl_cohort_group_count(c), total = 0;
    const double *x;
    for (size_t g = 0; g < ng; g++)
        total += cl_cohort_group_values(c, g, m, &x);
    double *v = malloc((total ? total : 1) * sizeof *v);
    if (!v)
        return NULL;
    total = 0;
    bool p = cl_stat_metric_dimension(m) != 0;
    for (size_t g = 0; g < ng; g++) {
        n[g] = cl_cohort_group_values(c, g, m, &x);
        off[g] = total;
        for (size_t i = 0; i < n[g]; i++)
            v[total + i] = p ? cl_unit_from_kpa(x[i], u) : x[i];
        gsl_sort(v + total, 1, n[g]);
        total += n[g];
    }
    return v;
}

/* Axis title of metric m in unit u: words, then the unit. */
static void metric_label(cl_stat_metric m, cl_unit u, char *buf, size_t cap)
{
    static const char *const words[CL_STAT_COUNT] = {
        [CL_STAT_PEAK] = "Peak vacuum",
        [CL_STAT_TIME_TO_PEAK] = "Time to peak",
        [CL_STAT_HOLD_DURATION] = "Hold duration",
        [CL_STAT_HOLD_MEAN] = "Mean hold vacuum",
        [CL_STAT_CHANGE] = "Hold change",
        [CL_STAT_LEAK] = "Decay slope",
        [CL_STAT_TAU] = "Time constant",
        [CL_STAT_DOSE] = "Pressure-time", /* integral: too long for a panel */
        [CL_STAT_STROKES] = "Pump strokes",
        [CL_STAT_REPUMPS] = "Re-pumps",
        [CL_STAT_LEAK_K] = "Leak rate constant",
    };
    const char *un = cl_unit_name(u), *name = cl_stat_metric_name(m);
    char word[64];
    if ((unsigned)m < CL_STAT_COUNT && words[m])
        snprintf(word, sizeof word, "%s", words[m]);
    else { /* a metric without words here: its name without underscores */
        snprintf(word, sizeof word, "%s", name ? name : "?");
        for (char *c = word; *c; c++)
            if (*c == '_')
                *c = ' ';
    }
    const char *fixed = cl_stat_metric_fixed_unit(m);
    switch (cl_stat_metric_dimension(m)) {
    case 1: snprintf(buf, cap, "%s (%s)", word, un); break;
    case 2: snprintf(buf, cap, "%s (%s/min)", word, un); break;
    case 3: snprintf(buf, cap, "%s (%s min)", word, un); break;
    default:
        snprintf(buf, cap, *fixed ? "%s (%s)" : "%s", word, fixed);
        break;
    }
}

/* Sorted values of every panel and group. */
typedef struct boxdata {
    size_t nm, ng;
    const cl_stat_metric *ms;
    double *v[MAX_BOX_PANELS];
    size_t *off[MAX_BOX_PANELS], *n[MAX_BOX_PANELS];
} boxdata;

/* Into path with dev, or into the frame of the open page (dev NULL). */
static int draw_boxes(const cl_cohort *c, const boxdata *d, const char *dev, const char *path,
                      const cl_figure_style *st, const char *title, double *used, cl_error *err)
{
    /* Lines of the group labels, and panels wide enough for them side by side. */
    volatile size_t lines = 1;
    volatile double label_w = 0;
    for (size_t g = 0; g < d->ng; g++) {
        char lab[CL_COHORTSESSION_STR * 2 + 8], *part = lab, *sep;
        size_t l = 1;
        snprintf(lab, sizeof lab, "%s", cl_cohort_group_label(c, g));
        for (; (sep = strstr(part, " / ")); part = sep + 3, l++) {
            *sep = '\0';
            label_w = fmax(label_w, cl_plot_text_w(part, CL_PLOT_PT_TICK));
        }
        label_w = fmax(label_w, cl_plot_text_w(part, CL_PLOT_PT_TICK));
        if (l > lines)
            lines = l;
    }
    double min_mm = fmax(BOX_PANEL_MIN_MM, (double)d->ng * (label_w + 1.5) + BOX_AXIS_MM);
    if (dev) {
        if (setjmp(*cl_plot_trap()))
            return cl_error_set(err, CL_ERR_IO, "%s: cannot draw the figure: %s", path,
                                cl_plot_abandon());
    }
    layout L = start_page(dev, path, st, title, d->nm, min_mm, box_keys,
                          sizeof box_keys / sizeof box_keys[0]);
    for (size_t k = 0; k < d->nm; k++) {
        double lo = INFINITY, hi = -INFINITY;
        char yl[96];
        for (size_t g = 0; g < d->ng; g++)
            if (d->n[k][g]) {
                lo = fmin(lo, d->v[k][d->off[k][g]]);
                hi = fmax(hi, d->v[k][d->off[k][g] + d->n[k][g] - 1]);
            }
        cl_plot_pad(&lo, &hi, 0.08);
        metric_label(d->ms[k], st->unit, yl, sizeof yl);
        cl_plot_axes ax = {0.4, (double)d->ng + 0.6, lo, hi, yl, NULL, NULL, (int)lines, NULL};
        cell(&L, k, &ax);
        for (size_t g = 0; g < d->ng; g++) {
            const double *x = d->v[k] + d->off[k][g];
            box b = tukey(x, d->n[k][g]);
            if (b.n)
                draw_box((double)g + 1, 0.3, &b, x);
        }
        cl_plot_close(&ax);
        /* The label's levels on lines of their own under the box. */
        for (size_t g = 0; g < d->ng; g++) {
            char lab[CL_COHORTSESSION_STR * 2 + 8], *part = lab, *sep;
            int line = 1;
            snprintf(lab, sizeof lab, "%s", cl_cohort_group_label(c, g));
            for (; (sep = strstr(part, " / ")); part = sep + 3, line++) {
                *sep = '\0';
                cl_plot_xtext((double)g + 1, line, part);
            }
            cl_plot_xtext((double)g + 1, line, part);
        }
    }
    legend(&L, box_keys, sizeof box_keys / sizeof box_keys[0]);
    if (dev)
        cl_plot_end();
    if (used)
        *used = L.used;
    return CL_OK;
}

/* The box plots into path, or into the frame of the open page (NULL). */
static int boxes(const cl_cohort *c, const cl_stat_metric *ms, size_t nm, const char *path,
                 const cl_figure_style *st, const char *title, double *used, cl_error *err)
{
    const char *dev = NULL;
    boxdata d = {.nm = nm < MAX_BOX_PANELS ? nm : MAX_BOX_PANELS,
                 .ng = cl_cohort_group_count(c),
                 .ms = ms};
    int rc = CL_OK;
    if (d.nm == 0 || d.ng == 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to draw", path ? path : "box plots");
    if (path && (rc = cl_plot_target(path, &dev, err)) != CL_OK)
        return rc;
    for (size_t k = 0; rc == CL_OK && k < d.nm; k++) {
        d.off[k] = malloc(d.ng * sizeof *d.off[k]);
        d.n[k] = malloc(d.ng * sizeof *d.n[k]);
        if (!d.off[k] || !d.n[k] || !(d.v[k] = collect(c, ms[k], st->unit, d.off[k], d.n[k])))
            rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    if (rc == CL_OK)
        rc = draw_boxes(c, &d, dev, path, st, title, used, err);
    for (size_t k = 0; k < d.nm; k++) {
        free(d.v[k]);
        free(d.off[k]);
        free(d.n[k]);
    }
    return rc;
}

int cl_cohortplot_boxes(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                        const char *path, const cl_figure_style *st, const char *title,
                        cl_error *err)
{
    return boxes(c, ms, nm, path, st, title, NULL, err);
}

int cl_cohortplot_boxes_paint(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                              const cl_figure_style *st, double *used, cl_error *err)
{
    return boxes(c, ms, nm, NULL, st, NULL, used, err);
}

/* ------------------------------------------------------------- profiles */

/* The profiles into path, or into the frame of the open page (NULL). */
static int profiles(const cl_cohort *c, const char *path, const cl_figure_style *st,
                    const char *title, double *used, cl_error *err)
{
    const char *dev = NULL;
    size_t ng = cl_cohort_group_count(c);
    const cl_cohorttarget *tg = cl_cohort_target_of(c);
    long closest = cl_cohort_closest(c);
    double lo = 0, hi = 0;
    int rc;
    if (ng == 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to draw", path ? path : "profiles");
    if (ng > MAX_PROFILE_PANELS)
        ng = MAX_PROFILE_PANELS;
    if (path && (rc = cl_plot_target(path, &dev, err)) != CL_OK)
        return rc;
    for (size_t g = 0; g < ng; g++) {
        cl_cohort_profile p;
        cl_cohort_group_profile(c, g, &p);
        for (int i = 0; i < NP && p.n; i++) {
            double a = isfinite(p.lo[i]) ? p.lo[i] : p.mean[i];
            double b = isfinite(p.hi[i]) ? p.hi[i] : p.mean[i];
            lo = fmin(lo, cl_unit_from_kpa(a, st->unit));
            hi = fmax(hi, cl_unit_from_kpa(b, st->unit));
            if (tg)
                hi = fmax(hi, cl_unit_from_kpa(cl_cohorttarget_at(tg, i / (NP - 1.0), p.span_s),
                                               st->unit));
        }
    }
    cl_plot_pad(&lo, &hi, 0.08);
    char yl[96];
    cl_plot_vacuum_title(st->unit, yl, sizeof yl);
    const cl_plot_key keys[] = {
        {CL_PLOT_KEY_LINE, COL_MEAN, 1, 1.4, "Mean vacuum of the sessions"},
        {CL_PLOT_KEY_FILL, COL_BAND, 1, 0, "95 % CI of the mean"},
        {CL_PLOT_KEY_LINE, COL_TARGET, 2, 1.2, "Target (over each group's application time)"},
    };
    size_t nk = tg ? 3 : 2;
    if (dev) {
        if (setjmp(*cl_plot_trap()))
            return cl_error_set(err, CL_ERR_IO, "%s: cannot draw the figure: %s", path,
                                cl_plot_abandon());
    }
    layout L = start_page(dev, path, st, title, ng, PROFILE_PANEL_MIN_MM, keys, nk);
    for (size_t g = 0; g < ng; g++) {
        cl_cohort_profile p;
        PLFLT x[NP], y[NP], bx[2 * NP], by[2 * NP];
        char tl[256];
        cl_cohort_group_profile(c, g, &p);
        if (p.n)
            snprintf(tl, sizeof tl, "%s: %zu session%s, %.1f min%s",
                     cl_cohort_group_label(c, g), p.n, p.n == 1 ? "" : "s", p.span_s / 60,
                     (long)g == closest ? " (closest)" : "");
        else
            snprintf(tl, sizeof tl, "%s: no released cup", cl_cohort_group_label(c, g));
        cl_plot_axes ax = {0, 100, lo, hi, tl,
                           g + L.nx >= ng ? "Application (% from onset to release)" : NULL,
                           g % L.nx ? NULL : yl, 0, cl_unit_name(st->unit)};
        cell(&L, g, &ax);
        if (!p.n) {
            cl_plot_close(&ax);
            continue;
        }
        size_t nb = 0;
        for (int i = 0; i < NP; i++) {
            x[i] = 100.0 * i / (NP - 1);
            y[i] = cl_unit_from_kpa(p.mean[i], st->unit);
            if (isfinite(p.lo[i]))
                nb++;
        }
        if (nb == NP) {
            for (int i = 0; i < NP; i++) {
                bx[i] = x[i];
                by[i] = cl_unit_from_kpa(p.hi[i], st->unit);
                bx[2 * NP - 1 - i] = x[i];
                by[2 * NP - 1 - i] = cl_unit_from_kpa(p.lo[i], st->unit);
            }
            plcol0(COL_BAND);
            plfill(2 * NP, bx, by);
        }
        if (tg) {
            PLFLT ty[NP];
            for (int i = 0; i < NP; i++)
                ty[i] = cl_unit_from_kpa(cl_cohorttarget_at(tg, i / (NP - 1.0), p.span_s),
                                         st->unit);
            cl_plot_pen(&keys[2]);
            plline(NP, x, ty);
            pllsty(1);
        }
        cl_plot_pen(&keys[0]);
        plline(NP, x, y);
        cl_plot_close(&ax);
    }
    legend(&L, keys, nk);
    if (dev)
        cl_plot_end();
    if (used)
        *used = L.used;
    return CL_OK;
}

int cl_cohortplot_profiles(const cl_cohort *c, const char *path, const cl_figure_style *st,
                           const char *title, cl_error *err)
{
    return profiles(c, path, st, title, NULL, err);
}

int cl_cohortplot_profiles_paint(const cl_cohort *c, const cl_figure_style *st, double *used,
                                 cl_error *err)
{
    return profiles(c, NULL, st, NULL, used, err);
}
