/*
 * cl_calplot: the calibration figures, drawn with the plot plumbing of
 * cl_plot: a sensor's residuals against the reference, and a cup's decay
 * recording with its fitted model.
 */
#include "engine/cl_calplot.h"

#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#define GRID 200

static void hline(double xmin, double xmax, double y)
{
    PLFLT x[2] = {xmin, xmax}, yy[2] = {y, y};
    plline(2, x, yy);
}

/* One panel filling the page above its legend; opens it. */
static void single(const cl_plot_axes *a, const cl_plot_key *keys, size_t nk, double *legend_y)
{
    double lh = cl_plot_legend_h(keys, nk, cl_plot_page_w() - 4);
    cl_plot_open(a, 0, lh + 1.5, cl_plot_page_w(), cl_plot_page_h());
    *legend_y = lh + 1.0;
}

/* Height a one-panel figure wants at width w, with its legend. */
static double single_h(double w, const cl_plot_key *keys, size_t nk)
{
    return w * CL_PLOT_ASPECT + cl_plot_legend_h(keys, nk, w - 4);
}

/* The points of the residual figure, by direction of approach. */
static const struct {
    cl_direction dir;
    int col, sym;
    const char *text;
} residual_kinds[] = {{CL_DIR_UP, CL_PLOT_BLUE, 4, "Ascending"},
                      {CL_DIR_DOWN, CL_PLOT_VERMILION, 7, "Descending"},
                      {CL_DIR_UNKNOWN, CL_PLOT_PURPLE, 5, "Direction unknown"}};
#define RESIDUAL_KINDS (sizeof residual_kinds / sizeof residual_kinds[0])

/* Vacuum (positive below ambient) on both axes: the error of the indicated
 * vacuum is minus the gauge residual.  The band +-U along the curve into
 * (bx, bu, bl); r the extent of points and band: xmin, xmax, ymin, ymax. */
static void residual_extent(const cl_sensor_calibration *d, cl_unit unit, PLFLT *bx, PLFLT *bu,
                            PLFLT *bl, double r[4])
{
    r[0] = INFINITY, r[1] = -INFINITY, r[2] = 0, r[3] = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        double px = -cl_unit_from_kpa(d->points[i].ref_kpa, unit);
        double py = -cl_unit_from_kpa(d->points[i].residual_kpa, unit);
        r[0] = fmin(r[0], px);
        r[1] = fmax(r[1], px);
        if (isfinite(py)) {
            r[2] = fmin(r[2], py);
            r[3] = fmax(r[3], py);
        }
    }
    for (int i = 0; i <= GRID; i++) {
        double raw = d->raw_min + (d->raw_max - d->raw_min) * i / GRID;
        double u = cl_sensor_calibration_u_kpa(d, raw);
        bx[i] = -cl_unit_from_kpa(cl_sensor_calibration_kpa(d, raw), unit);
        bu[i] = isfinite(u) ? cl_unit_from_kpa(u, unit) : 0;
        bl[i] = -bu[i];
        r[2] = fmin(r[2], bl[i]);
        r[3] = fmax(r[3], bu[i]);
    }
}

/* The legend: the directions present, the band, the tolerance if any. */
static size_t residual_keys(const cl_sensor_calibration *d, bool tolerance, const char *band,
                            const char *toltext, cl_plot_key *keys)
{
    size_t nk = 0;
    for (size_t k = 0; k < RESIDUAL_KINDS; k++)
        for (size_t i = 0; i < d->npoints; i++)
            if (d->points[i].direction == residual_kinds[k].dir) {
                keys[nk++] = (cl_plot_key){CL_PLOT_KEY_POINT, residual_kinds[k].col,
                                           residual_kinds[k].sym, 0.8, residual_kinds[k].text};
                break;
            }
    keys[nk++] = (cl_plot_key){CL_PLOT_KEY_LINE, CL_PLOT_GREEN, 2, 1.2, band};
    if (tolerance)
        keys[nk++] = (cl_plot_key){CL_PLOT_KEY_LINE, CL_PLOT_GREY, 3, 0.8, toltext};
    return nk;
}

/* The points, by direction, with x and y (npoints each) as room. */
static void residual_points(const cl_sensor_calibration *d, cl_unit unit, PLFLT *x, PLFLT *y)
{
    for (size_t k = 0; k < RESIDUAL_KINDS; k++) {
        PLINT m = 0;
        for (size_t i = 0; i < d->npoints; i++)
            if (d->points[i].direction == residual_kinds[k].dir) {
                x[m] = -cl_unit_from_kpa(d->points[i].ref_kpa, unit);
                y[m] = -cl_unit_from_kpa(d->points[i].residual_kpa, unit);
                m++;
            }
        if (m) {
            plcol0(residual_kinds[k].col);
            plssym(0, 0.8);
            plpoin(m, x, y, residual_kinds[k].sym);
        }
    }
}

int cl_calplot_residuals(const cl_sensor_calibration *d, cl_unit unit, const cl_plot_size *sz,
                         const char *path, cl_error *err)
{
    const char *dev;
    const char *un = cl_unit_name(unit);
    PLFLT *x = NULL, *y = NULL, bx[GRID + 1], bu[GRID + 1], bl[GRID + 1];
    char xl[96], yl[96], title[256], band[64], toltext[96];
    double r[4];
    volatile int rc = CL_OK;

    if (!d->npoints || d->degree < 1)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to plot", path);
    int trc = cl_plot_target(path, &dev, err);
    if (trc != CL_OK)
        return trc;
    x = malloc(d->npoints * sizeof *x);
    y = malloc(d->npoints * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    /* The residual axis holds the points and the band; tolerance lines
     * only when near. */
    residual_extent(d, unit, bx, bu, bl, r);
    double tol = cl_unit_from_kpa(d->tolerance_kpa, unit);
    bool tol_shown = isfinite(tol) && tol <= 3 * fmax(fabs(r[2]), fabs(r[3]));
    if (tol_shown) {
        r[2] = fmin(r[2], -tol);
        r[3] = fmax(r[3], tol);
    }
    cl_plot_pad(&r[0], &r[1], 0.04);
    cl_plot_pad(&r[2], &r[3], 0.08);

    snprintf(xl, sizeof xl, "Reference vacuum below ambient (%s)", un);
    snprintf(yl, sizeof yl, "Indicated - reference (%s)", un);
    snprintf(title, sizeof title, "%s: degree %d, U max %.3g %s, %s",
             d->serial && *d->serial ? d->serial : "?", d->degree,
             cl_unit_from_kpa(d->u_max_kpa, unit), un,
             !isfinite(d->tolerance_kpa) ? "no tolerance"
             : d->pass                   ? "pass"
                                         : "FAIL");
    snprintf(band, sizeof band, "\u00b1U (k = 2)");
    snprintf(toltext, sizeof toltext, "Tolerance \u00b1%.3g %s%s", tol, un,
             tol_shown ? "" : " (off scale)");
    cl_plot_key keys[5];
    size_t nk = residual_keys(d, isfinite(tol), band, toltext, keys);
    cl_plot_axes ax = {r[0], r[1], r[2], r[3], title, xl, yl, 0, NULL};

    if (setjmp(*cl_plot_trap())) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: PLplot: %s", path, cl_plot_abandon());
        goto out;
    }
    cl_plot_begin(dev, path, sz, single_h(cl_plot_width_mm(sz), keys, nk));
    double ly;
    single(&ax, keys, nk, &ly);
    plcol0(CL_PLOT_BLACK);
    hline(ax.xmin, ax.xmax, 0);
    if (tol_shown) {
        cl_plot_pen(&keys[nk - 1]);
        hline(ax.xmin, ax.xmax, tol);
        hline(ax.xmin, ax.xmax, -tol);
    }
    cl_plot_pen(&keys[nk - (isfinite(tol) ? 2 : 1)]);
    plline(GRID + 1, bx, bu);
    plline(GRID + 1, bx, bl);
    pllsty(1);
    residual_points(d, unit, x, y);
    cl_plot_close(&ax);
    cl_plot_legend(keys, nk, 2, ly, cl_plot_page_w() - 4);
    cl_plot_end();
out:
    free(x);
    free(y);
    return rc;
}

int cl_calplot_decay(const double *t_s, const double *p_kpa, size_t from, size_t to,
                        const cl_leak *l, cl_unit unit, const char *title, const cl_plot_size *sz,
                     const char *path, cl_error *err)
{
    const char *dev, *xl;
    PLFLT *x = NULL, *y = NULL, fx[GRID + 1], fy[GRID + 1];
    char yl[96], tl[256], fit[64];
    volatile int rc = CL_OK;

    if (to <= from)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to plot", path);
    int trc = cl_plot_target(path, &dev, err);
    if (trc != CL_OK)
        return trc;
    size_t n = to - from;
    x = malloc(n * sizeof *x);
    y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    double span = t_s[to - 1] - t_s[from];
    double div = cl_plot_time_axis(span, &xl);
    double xmin = 0, xmax = span / div, ymin = INFINITY, ymax = -INFINITY;
    PLINT m = 0;
    for (size_t i = from; i < to; i++) {
        if (!isfinite(p_kpa[i]) || !isfinite(t_s[i]))
            continue;
        x[m] = (t_s[i] - t_s[from]) / div;
        y[m] = -cl_unit_from_kpa(p_kpa[i], unit);
        ymin = fmin(ymin, y[m]);
        ymax = fmax(ymax, y[m]);
        m++;
    }
    const cl_decay_fit *f = l->use_exp ? &l->exp_fit : &l->lin_fit;
    for (int i = 0; i <= GRID; i++) {
        double u = span * i / GRID;
        fx[i] = u / div;
        fy[i] = -cl_unit_from_kpa(cl_decay_eval(f, u), unit);
    }
    cl_plot_pad(&xmin, &xmax, 0.02);
    cl_plot_pad(&ymin, &ymax, 0.06);
    cl_plot_vacuum_title(unit, yl, sizeof yl);
    if (l->use_exp)
        snprintf(tl, sizeof tl, "%s: time constant %.4g s (SE %.2g s)", title ? title : "Decay",
                 l->exp_fit.tau_s, l->exp_fit.tau_se);
    else
        snprintf(tl, sizeof tl, "%s: %.4g %s/min (linear)", title ? title : "Decay",
                 -60 * cl_unit_from_kpa(l->lin_fit.slope_kpa_s, unit), cl_unit_name(unit));
    snprintf(fit, sizeof fit, "%s fit", l->use_exp ? "Exponential" : "Linear");
    cl_plot_key keys[] = {{CL_PLOT_KEY_POINT, CL_PLOT_BLUE, 17, 0.6, "Recording"},
                          {CL_PLOT_KEY_LINE, CL_PLOT_VERMILION, 1, 0.9, fit}};
    cl_plot_axes ax = {xmin, xmax, ymin, ymax, tl, xl, yl, 0, NULL};

    if (setjmp(*cl_plot_trap())) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: PLplot: %s", path, cl_plot_abandon());
        goto out;
    }
    cl_plot_begin(dev, path, sz, single_h(cl_plot_width_mm(sz), keys, 2));
    double ly;
    single(&ax, keys, 2, &ly);
    plcol0(keys[0].colour);
    plssym(0, keys[0].width);
    plpoin(m, x, y, keys[0].style);
    cl_plot_pen(&keys[1]);
    plline(GRID + 1, fx, fy);
    cl_plot_close(&ax);
    cl_plot_legend(keys, 2, 2, ly, cl_plot_page_w() - 4);
    cl_plot_end();
out:
    free(x);
    free(y);
    return rc;
}

