/*
 * cl_figure: analysis figures with PLplot (see cl_figure.h).  Each figure
 * gets its own PLplot stream (plmkstrm ... plend1).  PLplot ends the process
 * on a fatal error unless its exit handler does not return; the handler here
 * jumps back into the figure function, which is the reason for the one
 * piece of file-level state (figures are drawn by one thread at a time).
 */
#include "cl_figure.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_log.h"
#include "cl_plot.h"

#define ENVELOPE 1500 /* buckets of the min/max envelope */
#define FIT_POINTS 200

enum { COL_BG, COL_FG, COL_CURVE, COL_EVAC, COL_HOLD, COL_RELEASE, COL_FIT, COL_APPLIED,
       COL_RELEASED, COL_REPUMP, COL_GAP, COL_GRID, COL_STROKE, COL_MOVED, NCOLORS };


/* A curve reduced to its min/max envelope, in kPa; NaN separates runs. */
typedef struct panel {
    cl_cup_result res;
    size_t n;
    double *t, *v;
    size_t nm;
    double *mt;
    cl_event_kind *mk;
} panel;

struct cl_overview {
    panel *p;
    size_t n;
};

static void panel_release(panel *p)
{
    free(p->t);
    free(p->v);
    free(p->mt);
    free(p->mk);
}

/* Fill p from the trace: envelope and markers. */
static int panel_fill(panel *p, const cl_cup_result *res, const cl_cup_trace *tr)
{
    memset(p, 0, sizeof *p);
    p->res = *res;
    if (!tr || tr->n == 0 || !tr->vac_kpa)
        return CL_OK;
    size_t n = tr->n;
    double t0 = tr->t_s[0], t1 = tr->t_s[n - 1];
    size_t cap = 2 * ENVELOPE + 2 * ENVELOPE + 4;
    p->t = malloc(cap * sizeof *p->t);
    p->v = malloc(cap * sizeof *p->v);
    p->mt = malloc((tr->nmarkers ? tr->nmarkers : 1) * sizeof *p->mt);
    p->mk = malloc((tr->nmarkers ? tr->nmarkers : 1) * sizeof *p->mk);
    if (!p->t || !p->v || !p->mt || !p->mk) {
        panel_release(p);
        return CL_ERR_NOMEM;
    }
    memcpy(p->mt, tr->marker_t_s, tr->nmarkers * sizeof *p->mt);
    memcpy(p->mk, tr->marker_kind, tr->nmarkers * sizeof *p->mk);
    p->nm = tr->nmarkers;
    double width = t1 > t0 ? (t1 - t0) / ENVELOPE : 1;
    size_t i = 0, k = 0;
    bool broken = false;
    while (i < n && k + 3 <= cap) {
        double edge = tr->t_s[i] + width;
        size_t imin = n, imax = n;
        for (; i < n && tr->t_s[i] < edge; i++) {
            double v = tr->vac_kpa[i];
            if (!isfinite(v))
                continue;
            if (imin == n || v < tr->vac_kpa[imin])
                imin = i;
            if (imax == n || v > tr->vac_kpa[imax])
                imax = i;
        }
        if (imin == n) {
            if (!broken && k) {
                p->t[k] = NAN;
                p->v[k++] = NAN;
                broken = true;
            }
            continue;
        }
        broken = false;
        size_t a = imin < imax ? imin : imax, b = imin < imax ? imax : imin;
        p->t[k] = tr->t_s[a];
        p->v[k++] = tr->vac_kpa[a];
        if (b != a) {
            p->t[k] = tr->t_s[b];
            p->v[k++] = tr->vac_kpa[b];
        }
    }
    p->n = k;
    return CL_OK;
}

/* ------------------------------------------------------------ drawing */

static void palette(void)
{
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    plscol0(COL_CURVE, 25, 80, 170);
    plscol0a(COL_EVAC, 240, 150, 40, 0.25);
    plscol0a(COL_HOLD, 70, 150, 230, 0.13);
    plscol0a(COL_RELEASE, 120, 120, 120, 0.25);
    plscol0(COL_FIT, 210, 30, 30);
    plscol0(COL_APPLIED, 20, 140, 60);
    plscol0(COL_RELEASED, 170, 60, 20);
    plscol0(COL_REPUMP, 130, 50, 170);
    plscol0(COL_GAP, 60, 60, 60);
    plscol0(COL_GRID, 220, 220, 220);
    plscol0(COL_STROKE, 230, 120, 0);
    plscol0(COL_MOVED, 140, 100, 40);
}

static void shade(double x0, double x1, double y0, double y1, int color)
{
    if (!(x1 > x0))
        return;
    PLFLT x[4] = {x0, x1, x1, x0}, y[4] = {y0, y0, y1, y1};
    plcol0(color);
    plfill(4, x, y);
}

static void vline(double x, double y0, double y1, int color, int style)
{
    plcol0(color);
    pllsty(style);
    pljoin(x, y0, x, y1);
    pllsty(1);
}

/* The curve in runs between NaN separators, converted to the unit. */
static void curve(const panel *p, cl_unit unit)
{
    PLFLT *x = malloc((p->n ? p->n : 1) * sizeof *x), *y = malloc((p->n ? p->n : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    plcol0(COL_CURVE);
    size_t k = 0;
    for (size_t i = 0; i <= p->n; i++) {
        if (i == p->n || !isfinite(p->v[i])) {
            if (k > 1)
                plline((PLINT)k, x, y);
            k = 0;
            continue;
        }
        x[k] = p->t[i];
        y[k++] = cl_unit_from_kpa(p->v[i], unit);
    }
    free(x);
    free(y);
}

static void fit_curve(const cl_decay_fit *f, double t0, double span, cl_unit unit, int style)
{
    PLFLT x[FIT_POINTS], y[FIT_POINTS];
    for (int i = 0; i < FIT_POINTS; i++) {
        double u = span * i / (FIT_POINTS - 1);
        x[i] = t0 + u;
        y[i] = cl_unit_from_kpa(cl_decay_eval(f, u), unit);
    }
    plcol0(COL_FIT);
    pllsty(style);
    plwidth(2);
    plline(FIT_POINTS, x, y);
    plwidth(1);
    pllsty(1);
}

static int marker_color(cl_event_kind k)
{
    switch (k) {
    case CL_EVENT_APPLIED: return COL_APPLIED;
    case CL_EVENT_RELEASED: return COL_RELEASED;
    case CL_EVENT_REPUMPED: return COL_REPUMP;
    case CL_EVENT_MOVED: return COL_MOVED;
    default: return COL_GAP;
    }
}

/* Vacuum range of the panel in the unit. */
static void yrange(const panel *p, cl_unit unit, double *lo, double *hi)
{
    double mn = 0, mx = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!isfinite(p->v[i]))
            continue;
        mn = fmin(mn, p->v[i]);
        mx = fmax(mx, p->v[i]);
    }
    mn = cl_unit_from_kpa(mn, unit);
    mx = cl_unit_from_kpa(mx, unit);
    if (!(mx > mn))
        mx = mn + cl_unit_from_kpa(1, unit);
    double w = mx - mn;
    *lo = mn - 0.04 * w;
    *hi = mx + 0.1 * w;
}

static void draw_panel(const panel *p, const cl_figure_style *st, double xmin, double xmax,
                       const char *title, bool small)
{
    const cl_cup_result *r = &p->res;
    const cl_segment_app *a = &r->app;
    const cl_cup_metrics *m = &r->m;
    double ylo, yhi;
    char ylabel[64];
    yrange(p, st->unit, &ylo, &yhi);
    plwind(xmin, xmax, ylo, yhi);
    if (r->applied) {
        double rel = a->released ? a->release_start_s : xmax;
        shade(a->onset_s, a->hold_start_s, ylo, yhi, COL_EVAC);
        shade(a->hold_start_s, rel, ylo, yhi, COL_HOLD);
        if (a->released)
            shade(a->release_start_s, a->release_end_s, ylo, yhi, COL_RELEASE);
    }
    plcol0(COL_GRID);
    plbox("g", 0, 0, "g", 0, 0);
    curve(p, st->unit);
    if (r->applied) {
        double tick = 0.04 * (yhi - ylo);
        size_t ns = a->strokes < CL_SEGMENT_MAX_EVENTS ? a->strokes : CL_SEGMENT_MAX_EVENTS;
        for (size_t k = 0; k < ns; k++) {
            plcol0(COL_STROKE);
            plwidth(2);
            pljoin(a->stroke_s[k], ylo, a->stroke_s[k], ylo + tick);
        }
        size_t nr = a->repumps < CL_SEGMENT_MAX_EVENTS ? a->repumps : CL_SEGMENT_MAX_EVENTS;
        for (size_t k = 0; k < nr; k++) {
            plcol0(COL_REPUMP);
            pljoin(a->repump_s[k], ylo, a->repump_s[k], ylo + 2 * tick);
        }
        plwidth(1);
    }
    for (size_t k = 0; k < p->nm; k++)
        if (p->mt[k] >= xmin && p->mt[k] <= xmax)
            vline(p->mt[k], ylo, yhi, marker_color(p->mk[k]), p->mk[k] >= CL_EVENT_GAP ? 3 : 2);
    if (m->fitted) {
        double span = m->fit_end_s - m->fit_start_s;
        fit_curve(&m->best, m->fit_start_s, span, st->unit, 1);
        const cl_decay_fit *e = &m->all[CL_DECAY_EXP - 1];
        if (m->best.model == CL_DECAY_LINEAR && e->ok && !e->identifiable)
            fit_curve(e, m->fit_start_s, span, st->unit, 2);
    }
    plcol0(COL_FG);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    snprintf(ylabel, sizeof ylabel, "vacuum (%s below ambient)", cl_unit_name(st->unit));
    pllab(small ? "" : "time (s)", small ? cl_unit_name(st->unit) : ylabel, title);
}

/* Short description of a cup's results for titles (compact: panels). */
static void describe(const cl_cup_result *r, cl_unit unit, bool compact, char *buf, size_t cap)
{
    if (compact) {
        const cl_cup_metrics *m = &r->m;
        int w = snprintf(buf, cap, "%s", r->cup_id);
        size_t len = w > 0 ? (size_t)w : 0;
        if (r->applied && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, ": peak %.3g", cl_unit_from_kpa(m->peak_kpa, unit));
        if (m->fitted && len < cap)
            snprintf(buf + len, cap - len, ", leak %.3g/min", cl_unit_from_kpa(m->leak_kpa_min, unit));
        return;
    }
    const cl_cup_metrics *m = &r->m;
    size_t len = 0;
    int w = snprintf(buf, cap, "%s", r->cup_id);
    len = w > 0 ? (size_t)w : 0;
    if (r->applied && len < cap) {
        w = snprintf(buf + len, cap - len, ": peak %.3g %s", cl_unit_from_kpa(m->peak_kpa, unit),
                     cl_unit_name(unit));
        len += w > 0 ? (size_t)w : 0;
    }
    if (m->fitted && len < cap) {
        w = snprintf(buf + len, cap - len, ", leak %.3g %s/min (%s)",
                     cl_unit_from_kpa(m->leak_kpa_min, unit), cl_unit_name(unit),
                     cl_decay_model_name(m->best.model));
        len += w > 0 ? (size_t)w : 0;
        if (m->best.model != CL_DECAY_LINEAR && len < cap)
            snprintf(buf + len, cap - len, ", tau %.3g s", m->best.tau_s);
    }
    if (r->flags & CL_FLAG_UNCALIBRATED) {
        size_t l = strlen(buf);
        if (l < cap)
            snprintf(buf + l, cap - l, " [uncalibrated]");
    }
}

static int check_target(const char *path, const char **dev, cl_error *err)
{
    *dev = cl_plot_device(path);
    if (!*dev)
        return cl_error_set(err, CL_ERR_ARG, "%s: figure type not known (.png, .svg or .pdf)",
                            path);
    return cl_plot_check_writable(path, err);
}


/* Draw the panels p[0..n) in a grid (one panel: a full page). */
static int draw(const char *path, const panel *p, size_t n, const cl_figure_style *st,
                const char *title, cl_error *err)
{
    const char *dev;
    int rc = check_target(path, &dev, err);
    if (rc != CL_OK)
        return rc;
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (p[i].n) {
            xmin = fmin(xmin, p[i].t[0]);
            xmax = fmax(xmax, p[i].t[p[i].n - 1]);
        }
    }
    if (!(xmax > xmin)) {
        xmin = 0;
        xmax = 1;
    }
    size_t nx = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    size_t ny = n <= 1 ? 1 : (n + nx - 1) / nx;
    if (setjmp(*cl_plot_trap()))
        return cl_error_set(err, CL_ERR_IO, "%s: cannot draw the figure: %s", path,
                            cl_plot_abandon());
    cl_plot_begin(dev, path, st->width_px, st->height_px, palette);
    pladv(0);
    bool small = n > 1;
    plschr(0, small ? (n > 4 ? 0.55 : 0.65) : 0.9);
    if (title && small) {
        plvpor(0, 1, 0.95, 1);
        plwind(0, 1, 0, 1);
        plcol0(COL_FG);
        plptex(0.5, 0.3, 1, 0, 0.5, title);
    }
    char label[256];
    if (small) {
        char axes[96];
        snprintf(axes, sizeof axes, "time (s); vacuum in %s below ambient",
                 cl_unit_name(st->unit));
        plvpor(0, 1, 0, 0.05);
        plwind(0, 1, 0, 1);
        plcol0(COL_FG);
        plptex(0.5, 0.4, 1, 0, 0.5, axes);
    }
    for (size_t i = 0; i < n; i++) {
        size_t cx = i % nx, cy = i / nx;
        double top = small ? 0.93 : 0.92, bottom = 0.07;
        double h = (top - bottom) / (double)ny, w = 0.9 / (double)nx;
        double x0 = 0.07 + w * (double)cx, y1 = top - h * (double)cy;
        if (small)
            plvpor(x0 + 0.035, x0 + w - 0.01, y1 - h + 0.045, y1 - 0.03);
        else
            plvpor(0.1, 0.97, 0.18, 0.91);
        describe(&p[i].res, st->unit, small, label, sizeof label);
        if (!small && title) {
            size_t l = strlen(label);
            snprintf(label + l, sizeof label - l, " (%s)", title);
        }
        draw_panel(&p[i], st, xmin, xmax, label, small);
        if (!small) {
            plcol0(COL_FG);
            plschr(0, 0.7);
            plmtex("b", 5.6, 0.0, 0.0,
                   "shaded: evacuation, hold, release;  red: fitted decay (dashed: "
                   "exponential not identifiable)");
            plmtex("b", 7.1, 0.0, 0.0,
                   "bottom ticks: pump strokes (orange), re-pumps (purple);  vertical lines: "
                   "markers and gaps");
            plschr(0, 0.9);
        }
    }
    cl_plot_end();
    return CL_OK;
}

int cl_figure_cup(const char *path, const cl_cup_result *res, const cl_cup_trace *tr,
                  const cl_figure_style *st, const char *title, cl_error *err)
{
    panel p;
    if (!path || !res || !st)
        return cl_error_set(err, CL_ERR_ARG, "figure: invalid arguments");
    if (panel_fill(&p, res, tr) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "figure: out of memory");
    int rc = draw(path, &p, 1, st, title, err);
    panel_release(&p);
    return rc;
}

cl_overview *cl_overview_new(void) { return calloc(1, sizeof(cl_overview)); }

void cl_overview_free(cl_overview *ov)
{
    if (!ov)
        return;
    for (size_t i = 0; i < ov->n; i++)
        panel_release(&ov->p[i]);
    free(ov->p);
    free(ov);
}

size_t cl_overview_count(const cl_overview *ov) { return ov->n; }

int cl_overview_add(cl_overview *ov, const cl_cup_result *res, const cl_cup_trace *tr,
                    cl_error *err)
{
    panel *np = realloc(ov->p, (ov->n + 1) * sizeof *np);
    if (!np)
        return cl_error_set(err, CL_ERR_NOMEM, "figure: out of memory");
    ov->p = np;
    if (panel_fill(&ov->p[ov->n], res, tr) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "figure: out of memory");
    ov->n++;
    return CL_OK;
}

int cl_overview_write(const cl_overview *ov, const char *path, const cl_figure_style *st,
                      const char *title, cl_error *err)
{
    if (!ov || !path || !st)
        return cl_error_set(err, CL_ERR_ARG, "figure: invalid arguments");
    if (ov->n == 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: no cups to draw", path);
    return draw(path, ov->p, ov->n, st, title, err);
}
