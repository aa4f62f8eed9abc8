/*
 * cl_plot: the PLplot plumbing every figure module shares, and the
 * calibration figures.  Each figure is drawn on its own PLplot stream
 * (plmkstrm ... plend1), so figures never share state.  PLplot reports
 * fatal errors through an exit handler and would then end the process; the
 * handler installed here jumps back into the figure function instead, which
 * is why the one piece of file-level state below exists (a figure is drawn
 * by one thread at a time).
 */
#include "cl_plot.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cl_log.h"

#define WIDTH 1000
#define HEIGHT 650
#define GRID 200

enum {
    COL_BG = 0,
    COL_FG = 1,
    COL_UP = 2,
    COL_DOWN = 3,
    COL_BAND = 4,
    COL_TOL = 5,
    COL_OTHER = 6,
    COL_FIT = 7,
    COL_GRID = 8
};

static jmp_buf plot_jump;
static char plot_error[256];

static int on_exit_request(PLCHAR_VECTOR msg)
{
    snprintf(plot_error, sizeof plot_error, "%s", msg ? msg : "PLplot error");
    longjmp(plot_jump, 1);
    return 1; /* not reached */
}

static void on_abort(PLCHAR_VECTOR msg)
{
    cl_log(CL_LOG_DEBUG, "PLplot: %s", msg ? msg : "");
}

const char *cl_plot_device(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return NULL;
    if (strcasecmp(dot, ".png") == 0)
        return "pngcairo";
    if (strcasecmp(dot, ".svg") == 0)
        return "svgcairo";
    if (strcasecmp(dot, ".pdf") == 0)
        return "pdfcairo";
    return NULL;
}

jmp_buf *cl_plot_trap(void) { return &plot_jump; }

const char *cl_plot_abandon(void)
{
    plsexit(NULL);
    plsabort(NULL);
    return plot_error[0] ? plot_error : "PLplot error";
}

void cl_plot_begin(const char *dev, const char *path, int width_px, int height_px,
                   void (*palette)(void))
{
    PLINT strm;
    plot_error[0] = '\0';
    plmkstrm(&strm);
    plsexit(on_exit_request);
    plsabort(on_abort);
    plsdev(dev);
    plsfnam(path);
    plspage(0, 0, width_px, height_px, 0, 0);
    if (palette)
        palette();
    plsetopt("np", "");
    plinit();
}

void cl_plot_end(void)
{
    plend1();
    plsexit(NULL);
    plsabort(NULL);
}

int cl_plot_check_writable(const char *path, cl_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return cl_error_set(err, cl_error_from_errno(errno), "%s: cannot create: %s", path,
                            strerror(errno));
    if (fclose(f) != 0)
        return cl_error_set(err, CL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return CL_OK;
}

static void palette(void)
{
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    plscol0(COL_UP, 31, 90, 180);
    plscol0(COL_DOWN, 200, 60, 40);
    plscol0(COL_BAND, 40, 150, 70);
    plscol0(COL_TOL, 120, 120, 120);
    plscol0(COL_OTHER, 120, 60, 160);
    plscol0(COL_FIT, 230, 140, 20);
    plscol0(COL_GRID, 215, 215, 215);
}

/* New stream for `path`, with the palette and a full-page layout. */
static void begin(const char *dev, const char *path)
{
    cl_plot_begin(dev, path, WIDTH, HEIGHT, palette);
    pladv(0);
    plschr(0, 0.9);
}

/* Widen [lo, hi] by a margin; handles an empty or degenerate range. */
static void pad(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = -1;
        *hi = 1;
    }
    double w = *hi - *lo;
    if (w <= 0)
        w = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1;
    *lo -= 0.06 * w;
    *hi += 0.06 * w;
}

static void frame(double xmin, double xmax, double ymin, double ymax, const char *xl,
                  const char *yl, const char *title)
{
    plvpor(0.1, 0.96, 0.16, 0.9);
    plwind(xmin, xmax, ymin, ymax);
    plwidth(1);
    plcol0(COL_GRID);
    plbox("g", 0, 0, "g", 0, 0);
    plcol0(COL_FG);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    pllab(xl, yl, title);
}

static void hline(double xmin, double xmax, double y, int style)
{
    PLFLT x[2] = {xmin, xmax}, yy[2] = {y, y};
    pllsty(style);
    plline(2, x, yy);
    pllsty(1);
}

int cl_plot_residuals(const cl_sensor_calibration *d, cl_unit unit, const char *path,
                      cl_error *err)
{
    const char *dev = cl_plot_device(path);
    const char *un = cl_unit_name(unit);
    PLFLT *x = NULL, *y = NULL, bx[GRID + 1], bu[GRID + 1], bl[GRID + 1];
    char xl[96], yl[96], title[256], note[256];
    int rc = CL_OK;

    if (!dev)
        return cl_error_set(err, CL_ERR_ARG, "%s: figure must be .png, .svg or .pdf", path);
    if (!d->npoints || d->degree < 1)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to plot", path);
    if ((rc = cl_plot_check_writable(path, err)) != CL_OK)
        return rc;
    x = malloc(d->npoints * sizeof *x);
    y = malloc(d->npoints * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }

    /* Ranges: the points, the band and the tolerance. */
    double xmin = INFINITY, xmax = -INFINITY, ymin = 0, ymax = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        double px = cl_unit_from_kpa(d->points[i].ref_kpa, unit);
        double py = cl_unit_from_kpa(d->points[i].residual_kpa, unit);
        xmin = fmin(xmin, px);
        xmax = fmax(xmax, px);
        if (isfinite(py)) {
            ymin = fmin(ymin, py);
            ymax = fmax(ymax, py);
        }
    }
    for (int i = 0; i <= GRID; i++) {
        double raw = d->raw_min + (d->raw_max - d->raw_min) * i / GRID;
        double u = cl_sensor_calibration_u_kpa(d, raw);
        bx[i] = cl_unit_from_kpa(cl_sensor_calibration_kpa(d, raw), unit);
        bu[i] = isfinite(u) ? cl_unit_from_kpa(u, unit) : 0;
        bl[i] = -bu[i];
        ymin = fmin(ymin, bl[i]);
        ymax = fmax(ymax, bu[i]);
    }
    double tol = cl_unit_from_kpa(d->tolerance_kpa, unit);
    if (isfinite(tol)) {
        ymin = fmin(ymin, -tol);
        ymax = fmax(ymax, tol);
    }
    pad(&xmin, &xmax);
    pad(&ymin, &ymax);

    snprintf(xl, sizeof xl, "reference pressure (gauge) [%s]", un);
    snprintf(yl, sizeof yl, "residual: indicated - reference [%s]", un);
    snprintf(title, sizeof title, "sensor %s: degree %d, U max %.3g %s, %s",
             d->serial && *d->serial ? d->serial : "?", d->degree,
             cl_unit_from_kpa(d->u_max_kpa, unit), un,
             !isfinite(d->tolerance_kpa) ? "no tolerance"
             : d->pass                   ? "PASS"
                                         : "FAIL");

    if (setjmp(plot_jump)) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: PLplot: %s", path, cl_plot_abandon());
        goto out;
    }
    begin(dev, path);
    frame(xmin, xmax, ymin, ymax, xl, yl, title);
    plcol0(COL_FG);
    hline(xmin, xmax, 0, 1);
    if (isfinite(tol)) {
        plcol0(COL_TOL);
        hline(xmin, xmax, tol, 3);
        hline(xmin, xmax, -tol, 3);
    }
    plcol0(COL_BAND);
    plwidth(2);
    pllsty(2);
    plline(GRID + 1, bx, bu);
    plline(GRID + 1, bx, bl);
    pllsty(1);
    plwidth(1);
    static const struct {
        cl_direction dir;
        int col, sym;
    } kinds[] = {
        {CL_DIR_UP, COL_UP, 4}, {CL_DIR_DOWN, COL_DOWN, 7}, {CL_DIR_UNKNOWN, COL_OTHER, 5}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        PLINT m = 0;
        for (size_t i = 0; i < d->npoints; i++)
            if (d->points[i].direction == kinds[k].dir) {
                x[m] = cl_unit_from_kpa(d->points[i].ref_kpa, unit);
                y[m] = cl_unit_from_kpa(d->points[i].residual_kpa, unit);
                m++;
            }
        if (m) {
            plcol0(kinds[k].col);
            plssym(0, 1.3);
            plpoin(m, x, y, kinds[k].sym);
        }
    }
    snprintf(note, sizeof note,
             "blue circles: ascending   red triangles: descending   green: +-U (k=2)%s",
             isfinite(tol) ? "   grey: tolerance" : "");
    plcol0(COL_FG);
    plschr(0, 0.75);
    plmtex("b", 4.2, 0.5, 0.5, note);
    cl_plot_end();
out:
    free(x);
    free(y);
    return rc;
}

int cl_plot_decay(const double *t_s, const double *p_kpa, size_t from, size_t to,
                  const cl_leak *l, cl_unit unit, const char *title, const char *path,
                  cl_error *err)
{
    const char *dev = cl_plot_device(path);
    const char *un = cl_unit_name(unit);
    PLFLT *x = NULL, *y = NULL, fx[GRID + 1], fy[GRID + 1];
    char xl[64], yl[96], tl[256], note[256];
    int rc = CL_OK;

    if (!dev)
        return cl_error_set(err, CL_ERR_ARG, "%s: figure must be .png, .svg or .pdf", path);
    if (to <= from)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing to plot", path);
    if ((rc = cl_plot_check_writable(path, err)) != CL_OK)
        return rc;
    size_t n = to - from;
    x = malloc(n * sizeof *x);
    y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    double xmin = 0, xmax = t_s[to - 1] - t_s[from], ymin = INFINITY, ymax = -INFINITY;
    PLINT m = 0;
    for (size_t i = from; i < to; i++) {
        if (!isfinite(p_kpa[i]) || !isfinite(t_s[i]))
            continue;
        x[m] = t_s[i] - t_s[from];
        y[m] = cl_unit_from_kpa(p_kpa[i], unit);
        ymin = fmin(ymin, y[m]);
        ymax = fmax(ymax, y[m]);
        m++;
    }
    const cl_decay_fit *f = l->use_exp ? &l->exp_fit : &l->lin_fit;
    for (int i = 0; i <= GRID; i++) {
        fx[i] = xmin + (xmax - xmin) * i / GRID;
        fy[i] = cl_unit_from_kpa(cl_decay_eval(f, fx[i]), unit);
    }
    pad(&xmin, &xmax);
    pad(&ymin, &ymax);
    snprintf(xl, sizeof xl, "time from window start [s]");
    snprintf(yl, sizeof yl, "pressure (gauge) [%s]", un);
    if (l->use_exp)
        snprintf(tl, sizeof tl, "%s: tau %.4g s (SE %.2g s)", title ? title : "decay",
                 l->exp_fit.tau_s, l->exp_fit.tau_se);
    else
        snprintf(tl, sizeof tl, "%s: slope %.4g %s/s (linear)", title ? title : "decay",
                 cl_unit_from_kpa(l->lin_fit.slope_kpa_s, unit), un);
    snprintf(note, sizeof note, "points: recording   line: %s fit",
             l->use_exp ? "exponential" : "linear");

    if (setjmp(plot_jump)) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: PLplot: %s", path, cl_plot_abandon());
        goto out;
    }
    begin(dev, path);
    frame(xmin, xmax, ymin, ymax, xl, yl, tl);
    plcol0(COL_UP);
    plssym(0, 0.6);
    plpoin(m, x, y, 1);
    plcol0(COL_FIT);
    plwidth(2.5);
    plline(GRID + 1, fx, fy);
    plwidth(1);
    plcol0(COL_FG);
    plschr(0, 0.75);
    plmtex("b", 4.2, 0.5, 0.5, note);
    cl_plot_end();
out:
    free(x);
    free(y);
    return rc;
}

void cl_plot_release(void)
{
    void *pc = dlopen("libpangocairo-1.0.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (pc) {
        void (*set_default)(void *) =
            (void (*)(void *))dlsym(pc, "pango_cairo_font_map_set_default");
        if (set_default)
            set_default(NULL); /* drops this thread's default font map */
        dlclose(pc);
    }
    void *fc = dlopen("libfontconfig.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (fc) {
        void (*fini)(void) = (void (*)(void))dlsym(fc, "FcFini");
        if (fini)
            fini();
        dlclose(fc);
    }
}
