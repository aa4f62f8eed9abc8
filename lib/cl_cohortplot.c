/*
 * cl_cohortplot: box plots and mean profiles of a cohort comparison (see
 * cl_cohortplot.h).  Streams, the driver and the trap for PLplot's fatal
 * errors come from cl_plot; everything here draws from the arrays
 * cl_cohort keeps, converted to the figure's pressure unit.
 */
#include "cl_cohortplot.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <plplot.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_plot.h"

#define MAX_BOX_PANELS 12
#define MAX_PROFILE_PANELS 24

enum {
    COL_BG,
    COL_FG,
    COL_BOX,
    COL_MEDIAN,
    COL_POINT,
    COL_BAND,
    COL_MEAN,
    COL_TARGET,
    COL_GRID
};

static void palette(void)
{
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    plscol0a(COL_BOX, 70, 130, 200, 0.35);
    plscol0(COL_MEDIAN, 200, 40, 30);
    plscol0a(COL_POINT, 40, 40, 40, 0.6);
    plscol0a(COL_BAND, 70, 130, 200, 0.3);
    plscol0(COL_MEAN, 25, 80, 170);
    plscol0(COL_TARGET, 220, 120, 0);
    plscol0(COL_GRID, 220, 220, 220);
}

static int prepare(const char *path, const char **dev, cl_error *err)
{
    *dev = cl_plot_device(path);
    if (!*dev)
        return cl_error_set(err, CL_ERR_ARG, "%s: figure type not known (.png, .svg or .pdf)",
                            path);
    return cl_plot_check_writable(path, err);
}

/* Panels in a grid of at most `cols` columns. */
static void grid_of(size_t n, size_t cols, PLINT *nx, PLINT *ny)
{
    *nx = (PLINT)(n < cols ? n : cols);
    *ny = (PLINT)((n + cols - 1) / cols);
}

/* Widen [lo, hi] by a margin (a degenerate range gets one). */
static void pad(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    double w = *hi - *lo;
    if (w <= 0)
        w = fabs(*lo) > 0 ? fabs(*lo) * 0.2 : 1;
    *lo -= 0.08 * w;
    *hi += 0.08 * w;
}

/* The title across the top of the page. */
static void page_title(const char *title)
{
    plvpor(0, 1, 0.965, 1);
    plwind(0, 1, 0, 1);
    plschr(0, 0.9);
    plcol0(COL_FG);
    plmtex("t", -1.6, 0.5, 0.5, title);
}

/* A new figure with its title (after the caller's setjmp on cl_plot_trap). */
static void start_page(const char *dev, const char *path, const cl_figure_style *st,
                       const char *title)
{
    cl_plot_begin(dev, path, st->width_px, st->height_px, palette);
    pladv(0);
    page_title(title);
}

/* Panel i of an nx by ny grid between the title and `bottom` (fraction of
 * the page kept free below), with room for the axis labels. */
static void panel_viewport(PLINT nx, PLINT ny, PLINT i, double bottom)
{
    double w = 1.0 / nx, h = (0.95 - bottom) / ny;
    PLINT col = i % nx, row = i / nx;
    double x0 = col * w, y1 = 0.95 - row * h;
    plvpor(x0 + 0.065 * (nx > 2 ? 1.4 : 1), x0 + w - 0.015, y1 - h + 0.075, y1 - 0.045);
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

static void draw_box(double xc, double w, const box *b, const double *x)
{
    PLFLT bx[5] = {xc - w, xc + w, xc + w, xc - w, xc - w};
    PLFLT by[5] = {b->q1, b->q1, b->q3, b->q3, b->q1};
    plcol0(COL_BOX);
    plfill(4, bx, by);
    plcol0(COL_FG);
    plline(5, bx, by);
    pljoin(xc, b->q3, xc, b->hi);
    pljoin(xc, b->q1, xc, b->lo);
    pljoin(xc - w / 2, b->hi, xc + w / 2, b->hi);
    pljoin(xc - w / 2, b->lo, xc + w / 2, b->lo);
    plcol0(COL_MEDIAN);
    plwidth(2);
    pljoin(xc - w, b->med, xc + w, b->med);
    plwidth(1);
    for (size_t i = 0; i < b->n; i++) {
        PLFLT px = xc + w * 0.6 * ((double)(i % 7) / 3.0 - 1), py = x[i];
        bool out = x[i] < b->lo || x[i] > b->hi;
        plcol0(out ? COL_FG : COL_POINT);
        plssym(0, out ? 0.7 : 0.45);
        plpoin(1, &px, &py, out ? 4 : 17);
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

/* Axis label of metric m in unit u. */
static void metric_label(cl_stat_metric m, cl_unit u, char *buf, size_t cap)
{
    const char *name = cl_stat_metric_name(m), *un = cl_unit_name(u);
    size_t len = strlen(name);
    switch (cl_stat_metric_dimension(m)) {
    case 1:
        snprintf(buf, cap, "%s [%s]", name, un);
        break;
    case 2:
        snprintf(buf, cap, "%s [%s/min]", name, un);
        break;
    case 3:
        snprintf(buf, cap, "%s [%s*min]", name, un);
        break;
    default:
        snprintf(buf, cap, "%s%s", name,
                 len > 2 && !strcmp(name + len - 2, "_s") ? " [s]" : "");
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

static int draw_boxes(const cl_cohort *c, const boxdata *d, const char *dev, const char *path,
                      const cl_figure_style *st, const char *title, cl_error *err)
{
    PLINT nx, ny;
    grid_of(d->nm, d->nm <= 4 ? 2 : d->nm <= 9 ? 3 : 4, &nx, &ny);
    if (setjmp(*cl_plot_trap()))
        return cl_error_set(err, CL_ERR_IO, "%s: cannot draw the figure: %s", path,
                            cl_plot_abandon());
    start_page(dev, path, st, title);
    for (size_t k = 0; k < d->nm; k++) {
        double lo = INFINITY, hi = -INFINITY;
        char yl[96];
        for (size_t g = 0; g < d->ng; g++)
            if (d->n[k][g]) {
                lo = fmin(lo, d->v[k][d->off[k][g]]);
                hi = fmax(hi, d->v[k][d->off[k][g] + d->n[k][g] - 1]);
            }
        pad(&lo, &hi);
        panel_viewport(nx, ny, (PLINT)k, 0);
        plwind(0.4, (double)d->ng + 0.6, lo, hi);
        plschr(0, d->nm > 4 ? 0.6 : 0.75);
        plcol0(COL_GRID);
        plbox("", 0, 0, "g", 0, 0);
        plcol0(COL_FG);
        plbox("bc", 0, 0, "bcnstv", 0, 0);
        metric_label(d->ms[k], st->unit, yl, sizeof yl);
        plmtex("t", 0.6, 0.5, 0.5, yl);
        for (size_t g = 0; g < d->ng; g++) {
            const double *x = d->v[k] + d->off[k][g];
            box b = tukey(x, d->n[k][g]);
            if (b.n)
                draw_box((double)g + 1, 0.3, &b, x);
            /* The label's levels on lines of their own under the box. */
            char lab[CL_COHORT_STR * 2 + 8], *part = lab, *sep;
            double pos = ((double)g + 0.6) / ((double)d->ng + 0.2), line = 1.1;
            snprintf(lab, sizeof lab, "%s", cl_cohort_group_label(c, g));
            plcol0(COL_FG);
            plschr(0, d->nm > 4 ? 0.5 : 0.65);
            for (; (sep = strstr(part, " / ")); part = sep + 3, line += 1.1) {
                *sep = '\0';
                plmtex("b", line, pos, 0.5, part);
            }
            plmtex("b", line, pos, 0.5, part);
        }
    }
    cl_plot_end();
    return CL_OK;
}

int cl_cohortplot_boxes(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                        const char *path, const cl_figure_style *st, const char *title,
                        cl_error *err)
{
    const char *dev;
    boxdata d = {.nm = nm < MAX_BOX_PANELS ? nm : MAX_BOX_PANELS,
                 .ng = cl_cohort_group_count(c),
                 .ms = ms};
    int rc;
    if (d.nm == 0 || d.ng == 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to draw", path);
    if ((rc = prepare(path, &dev, err)) != CL_OK)
        return rc;
    for (size_t k = 0; rc == CL_OK && k < d.nm; k++) {
        d.off[k] = malloc(d.ng * sizeof *d.off[k]);
        d.n[k] = malloc(d.ng * sizeof *d.n[k]);
        if (!d.off[k] || !d.n[k] || !(d.v[k] = collect(c, ms[k], st->unit, d.off[k], d.n[k])))
            rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    if (rc == CL_OK)
        rc = draw_boxes(c, &d, dev, path, st, title, err);
    for (size_t k = 0; k < d.nm; k++) {
        free(d.v[k]);
        free(d.off[k]);
        free(d.n[k]);
    }
    return rc;
}

/* ------------------------------------------------------------- profiles */

int cl_cohortplot_profiles(const cl_cohort *c, const char *path, const cl_figure_style *st,
                           const char *title, cl_error *err)
{
    const char *dev;
    size_t ng = cl_cohort_group_count(c);
    const cl_cohort_target *tg = cl_cohort_target_of(c);
    long closest = cl_cohort_closest(c);
    double lo = 0, hi = 0;
    int rc;
    if (ng == 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to draw", path);
    if (ng > MAX_PROFILE_PANELS)
        ng = MAX_PROFILE_PANELS;
    if ((rc = prepare(path, &dev, err)) != CL_OK)
        return rc;
    for (size_t g = 0; g < ng; g++) {
        cl_cohort_profile p;
        cl_cohort_group_profile(c, g, &p);
        for (int i = 0; i < CL_COHORT_POINTS && p.n; i++) {
            double a = isfinite(p.lo[i]) ? p.lo[i] : p.mean[i];
            double b = isfinite(p.hi[i]) ? p.hi[i] : p.mean[i];
            lo = fmin(lo, cl_unit_from_kpa(a, st->unit));
            hi = fmax(hi, cl_unit_from_kpa(b, st->unit));
            if (tg)
                hi = fmax(hi, cl_unit_from_kpa(cl_cohort_target_at(
                                                   tg, i / (CL_COHORT_POINTS - 1.0), p.span_s),
                                               st->unit));
        }
    }
    pad(&lo, &hi);
    PLINT nx, ny;
    grid_of(ng, ng <= 4 ? ng : ng <= 9 ? 3 : 4, &nx, &ny);
    if (setjmp(*cl_plot_trap()))
        return cl_error_set(err, CL_ERR_IO, "%s: cannot draw the figure: %s", path,
                            cl_plot_abandon());
    start_page(dev, path, st, title);
    for (size_t g = 0; g < ng; g++) {
        cl_cohort_profile p;
        PLFLT x[CL_COHORT_POINTS], y[CL_COHORT_POINTS], bx[2 * CL_COHORT_POINTS],
            by[2 * CL_COHORT_POINTS];
        char yl[64], tl[256];
        cl_cohort_group_profile(c, g, &p);
        panel_viewport(nx, ny, (PLINT)g, 0.04);
        plwind(0, 100, lo, hi);
        plschr(0, ng > 4 ? 0.6 : 0.75);
        plcol0(COL_GRID);
        plbox("g", 0, 0, "g", 0, 0);
        plcol0(COL_FG);
        plbox("bcnst", 0, 0, "bcnstv", 0, 0);
        snprintf(yl, sizeof yl, "vacuum [%s]", cl_unit_name(st->unit));
        pllab("% of application (onset to release)", g % nx ? "" : yl, "");
        if (p.n)
            snprintf(tl, sizeof tl, "%s: %zu session%s, %.1f min%s",
                     cl_cohort_group_label(c, g), p.n, p.n == 1 ? "" : "s", p.span_s / 60,
                     (long)g == closest ? " (closest)" : "");
        else
            snprintf(tl, sizeof tl, "%s: no released cup", cl_cohort_group_label(c, g));
        plmtex("t", 0.6, 0.5, 0.5, tl);
        if (!p.n)
            continue;
        size_t nb = 0;
        for (int i = 0; i < CL_COHORT_POINTS; i++) {
            x[i] = 100.0 * i / (CL_COHORT_POINTS - 1);
            y[i] = cl_unit_from_kpa(p.mean[i], st->unit);
            if (isfinite(p.lo[i]))
                nb++;
        }
        if (nb == CL_COHORT_POINTS) {
            for (int i = 0; i < CL_COHORT_POINTS; i++) {
                bx[i] = x[i];
                by[i] = cl_unit_from_kpa(p.hi[i], st->unit);
                bx[2 * CL_COHORT_POINTS - 1 - i] = x[i];
                by[2 * CL_COHORT_POINTS - 1 - i] = cl_unit_from_kpa(p.lo[i], st->unit);
            }
            plcol0(COL_BAND);
            plfill(2 * CL_COHORT_POINTS, bx, by);
        }
        if (tg) {
            PLFLT ty[CL_COHORT_POINTS];
            for (int i = 0; i < CL_COHORT_POINTS; i++)
                ty[i] = cl_unit_from_kpa(
                    cl_cohort_target_at(tg, i / (CL_COHORT_POINTS - 1.0), p.span_s), st->unit);
            plcol0(COL_TARGET);
            pllsty(2);
            plwidth(2);
            plline(CL_COHORT_POINTS, x, ty);
            pllsty(1);
        }
        plcol0(COL_MEAN);
        plwidth(2.5);
        plline(CL_COHORT_POINTS, x, y);
        plwidth(1);
    }
    plschr(0, 0.7);
    plcol0(COL_FG);
    plvpor(0, 1, 0, 0.03);
    plwind(0, 1, 0, 1);
    plmtex("b", -0.8, 0.5, 0.5,
           tg ? "line: mean of the sessions   band: 95 % CI of the mean   dashed: target "
                "(over each group's own application time)"
              : "line: mean of the sessions   band: 95 % CI of the mean");
    cl_plot_end();
    return CL_OK;
}
