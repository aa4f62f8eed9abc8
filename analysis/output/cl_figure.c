/*
 * cl_figure: analysis figures with PLplot (see cl_figure.h).  Each figure
 * gets its own PLplot stream (plmkstrm ... plend1).  PLplot ends the process
 * on a fatal error unless its exit handler does not return; the handler here
 * jumps back into the figure function, which is the reason for the one
 * piece of file-level state (figures are drawn by one thread at a time).
 */
#include "output/cl_figure.h"

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

enum {
    COL_CURVE = CL_PLOT_BLUE,
    COL_EVAC = CL_PLOT_TINT_ORANGE,
    COL_HOLD = CL_PLOT_TINT_SKY,
    COL_RELEASE = CL_PLOT_TINT_GREY,
    COL_FIT = CL_PLOT_VERMILION,
    COL_STROKE = CL_PLOT_ORANGE,
    COL_REPUMP = CL_PLOT_PURPLE,
};

#define PANEL_MIN_MM 42.0 /* narrowest overview panel */

static void shade(double x0, double x1, double y0, double y1, int color)
{
    if (!(x1 > x0))
        return;
    PLFLT x[4] = {x0, x1, x1, x0}, y[4] = {y0, y0, y1, y1};
    plcol0(color);
    plfill(4, x, y);
}

/* What a figure of panels p[0..n) shows, as legend keys. */
enum { K_CURVE, K_EVAC, K_HOLD, K_RELEASE, K_FIT, K_UNIDENT, K_STROKE, K_REPUMP, K_NFIXED };
#define MAX_KEYS (K_NFIXED + 6)

static const cl_plot_key fixed[K_NFIXED] = {
    [K_CURVE] = {CL_PLOT_KEY_LINE, COL_CURVE, 1, 0.8, "Vacuum below ambient"},
    [K_EVAC] = {CL_PLOT_KEY_FILL, COL_EVAC, 1, 0, "Evacuation"},
    [K_HOLD] = {CL_PLOT_KEY_FILL, COL_HOLD, 1, 0, "Hold"},
    [K_RELEASE] = {CL_PLOT_KEY_FILL, COL_RELEASE, 1, 0, "Release"},
    [K_FIT] = {CL_PLOT_KEY_LINE, COL_FIT, 1, 1.2, "Fitted decay"},
    [K_UNIDENT] = {CL_PLOT_KEY_LINE, COL_FIT, 2, 1.2, "Exponential, not identifiable"},
    [K_STROKE] = {CL_PLOT_KEY_LINE, COL_STROKE, 1, 1.2, "Pump stroke"},
    [K_REPUMP] = {CL_PLOT_KEY_LINE, COL_REPUMP, 1, 1.2, "Re-pump"},
};

/* The curve in runs between NaN separators, converted to the unit. */
static void curve(const panel *p, cl_unit unit, double div)
{
    PLFLT *x = malloc((p->n ? p->n : 1) * sizeof *x), *y = malloc((p->n ? p->n : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    cl_plot_pen(&fixed[K_CURVE]);
    size_t k = 0;
    for (size_t i = 0; i <= p->n; i++) {
        if (i == p->n || !isfinite(p->v[i])) {
            if (k > 1)
                plline((PLINT)k, x, y);
            k = 0;
            continue;
        }
        x[k] = p->t[i] / div;
        y[k++] = cl_unit_from_kpa(p->v[i], unit);
    }
    free(x);
    free(y);
}

static void fit_curve(const cl_decay_fit *f, double t0, double span, cl_unit unit, double div,
                      const cl_plot_key *pen)
{
    PLFLT x[FIT_POINTS], y[FIT_POINTS];
    for (int i = 0; i < FIT_POINTS; i++) {
        double u = span * i / (FIT_POINTS - 1);
        x[i] = (t0 + u) / div;
        y[i] = cl_unit_from_kpa(cl_decay_eval(f, u), unit);
    }
    cl_plot_pen(pen);
    plline(FIT_POINTS, x, y);
    pllsty(1);
}

/* Markers and gaps: colour, line style and legend text by kind. */
static const struct {
    int colour, style;
    const char *text;
} marks[] = {
    [CL_EVENT_APPLIED] = {CL_PLOT_GREEN, 2, "Applied (marker)"},
    [CL_EVENT_RELEASED] = {CL_PLOT_BLACK, 2, "Released (marker)"},
    [CL_EVENT_REPUMPED] = {CL_PLOT_PURPLE, 2, "Re-pumped (marker)"},
    [CL_EVENT_MOVED] = {CL_PLOT_ORANGE, 2, "Moved (marker)"},
};

static cl_plot_key mark_key(cl_event_kind k)
{
    if ((size_t)k < sizeof marks / sizeof marks[0] && marks[k].text)
        return (cl_plot_key){CL_PLOT_KEY_LINE, marks[k].colour, marks[k].style, 0.7,
                             marks[k].text};
    return (cl_plot_key){CL_PLOT_KEY_LINE, CL_PLOT_GREY, 3, 0.7, "Gap in the recording"};
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
    *hi = mx + 0.08 * w;
}

static size_t legend_of(const panel *p, size_t n, cl_plot_key *keys)
{
    bool any[K_NFIXED] = {[K_CURVE] = true}, kinds[8] = {false}, gap = false;
    for (size_t i = 0; i < n; i++) {
        const cl_cup_result *r = &p[i].res;
        if (r->applied) {
            any[K_EVAC] = any[K_HOLD] = true;
            any[K_RELEASE] |= r->app.released;
            any[K_STROKE] |= r->app.strokes > 0;
            any[K_REPUMP] |= r->app.repumps > 0;
        }
        if (r->m.fitted) {
            any[K_FIT] = true;
            const cl_decay_fit *e = &r->m.all[CL_DECAY_EXP - 1];
            any[K_UNIDENT] |= r->m.best.model == CL_DECAY_LINEAR && e->ok && !e->identifiable;
        }
        for (size_t k = 0; k < p[i].nm; k++) {
            if ((size_t)p[i].mk[k] < sizeof kinds && (size_t)p[i].mk[k] < sizeof marks / sizeof marks[0] &&
                marks[p[i].mk[k]].text)
                kinds[p[i].mk[k]] = true;
            else
                gap = true;
        }
    }
    size_t nk = 0;
    for (int k = 0; k < K_NFIXED; k++)
        if (any[k])
            keys[nk++] = fixed[k];
    for (size_t k = 0; k < sizeof kinds; k++)
        if (kinds[k])
            keys[nk++] = mark_key((cl_event_kind)k);
    if (gap)
        keys[nk++] = mark_key(CL_EVENT_GAP);
    return nk;
}

static void draw_panel(const panel *p, const cl_figure_style *st, cl_plot_axes *ax,
                       double div, double x0, double y0, double x1, double y1)
{
    const cl_cup_result *r = &p->res;
    const cl_segment_app *a = &r->app;
    const cl_cup_metrics *m = &r->m;
    double ylo = ax->ymin, yhi = ax->ymax, xmax = ax->xmax * div;
    cl_plot_open(ax, x0, y0, x1, y1);
    if (r->applied) {
        double rel = a->released ? a->release_start_s : xmax;
        shade(a->onset_s / div, a->hold_start_s / div, ylo, yhi, COL_EVAC);
        shade(a->hold_start_s / div, rel / div, ylo, yhi, COL_HOLD);
        if (a->released)
            shade(a->release_start_s / div, a->release_end_s / div, ylo, yhi, COL_RELEASE);
    }
    for (size_t k = 0; k < p->nm; k++)
        if (p->mt[k] / div >= ax->xmin && p->mt[k] / div <= ax->xmax) {
            cl_plot_key mk = mark_key(p->mk[k]);
            cl_plot_pen(&mk);
            pljoin(p->mt[k] / div, ylo, p->mt[k] / div, yhi);
            pllsty(1);
        }
    curve(p, st->unit, div);
    if (r->applied) {
        double tick = 0.05 * (yhi - ylo);
        size_t ns = a->strokes < CL_SEGMENT_MAX_EVENTS ? a->strokes : CL_SEGMENT_MAX_EVENTS;
        cl_plot_pen(&fixed[K_STROKE]);
        for (size_t k = 0; k < ns; k++)
            pljoin(a->stroke_s[k] / div, ylo, a->stroke_s[k] / div, ylo + tick);
        size_t nr = a->repumps < CL_SEGMENT_MAX_EVENTS ? a->repumps : CL_SEGMENT_MAX_EVENTS;
        plcol0(COL_REPUMP);
        for (size_t k = 0; k < nr; k++)
            pljoin(a->repump_s[k] / div, ylo, a->repump_s[k] / div, ylo + 2 * tick);
    }
    if (m->fitted) {
        double span = m->fit_end_s - m->fit_start_s;
        fit_curve(&m->best, m->fit_start_s, span, st->unit, div, &fixed[K_FIT]);
        const cl_decay_fit *e = &m->all[CL_DECAY_EXP - 1];
        if (m->best.model == CL_DECAY_LINEAR && e->ok && !e->identifiable)
            fit_curve(e, m->fit_start_s, span, st->unit, div, &fixed[K_UNIDENT]);
    }
    cl_plot_close(ax);
}

/* Description of a cup's results for titles; compact: fewer words,
 * bare: the cup alone. */
static void describe(const cl_cup_result *r, cl_unit unit, bool compact, bool bare, char *buf,
                     size_t cap)
{
    const cl_cup_metrics *m = &r->m;
    const char *un = cl_unit_name(unit);
    size_t len = 0;
    int w = snprintf(buf, cap, "%s", r->cup_id);
    len = w > 0 ? (size_t)w : 0;
    if (bare)
        return;
    if (compact)
        un = "";
    if (r->applied && len < cap) {
        w = snprintf(buf + len, cap - len, ": peak %.3g%s%s", cl_unit_from_kpa(m->peak_kpa, unit),
                     *un ? " " : "", un);
        len += w > 0 ? (size_t)w : 0;
    }
    if (m->fitted && len < cap) {
        w = snprintf(buf + len, cap - len, ", leak %.3g%s%s/min%s%s%s",
                     cl_unit_from_kpa(m->leak_kpa_min, unit), *un ? " " : "", un, compact ? "" : " (",
                     compact ? "" : cl_decay_model_name(m->best.model), compact ? "" : ")");
        len += w > 0 ? (size_t)w : 0;
        if (!compact && m->best.model != CL_DECAY_LINEAR && len < cap) {
            w = snprintf(buf + len, cap - len, ", time constant %.3g s", m->best.tau_s);
            len += w > 0 ? (size_t)w : 0;
        }
    }
    if (r->flags & CL_FLAG_UNCALIBRATED && len < cap && !compact)
        snprintf(buf + len, cap - len, ", uncalibrated"); /* compact: the page title says */
}

/* How panels p[0..n) are laid out across W mm: columns, rows, the legend
 * under them and the title over them. */
typedef struct grid {
    size_t nx, ny;
    cl_plot_key keys[MAX_KEYS];
    size_t nk;
    double lh, th, cellh;
} grid;

static void plan(const panel *p, size_t n, double W, const char *title, grid *g)
{
    g->nx = (size_t)fmax(1, floor(W / PANEL_MIN_MM));
    if (g->nx > n)
        g->nx = n;
    if (g->nx > 4)
        g->nx = 4;
    g->ny = (n + g->nx - 1) / g->nx;
    g->nk = legend_of(p, n, g->keys);
    g->lh = cl_plot_legend_h(g->keys, g->nk, W - 4);
    g->th = title ? 2.0 * CL_PLOT_PT_TITLE * 25.4 / 72 : 0;
    g->cellh = n > 1 ? fmax(W / (double)g->nx * CL_PLOT_ASPECT, CL_PLOT_CELL_MIN_H)
                     : W * CL_PLOT_ASPECT;
}

/* Draw the panels into the frame of the open page. */
static void paint(const panel *p, size_t n, const cl_figure_style *st, const char *title,
                  const grid *g)
{
    const char *xtitle;
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
    if (xmin > 0 && xmin < 0.05 * (xmax - xmin))
        xmin = 0; /* the recording's start */
    double div = cl_plot_time_axis(xmax - xmin, &xtitle);
    char ytitle[96], label[256];
    cl_plot_vacuum_title(st->unit, ytitle, sizeof ytitle);
    double PW = cl_plot_page_w(), PH = cl_plot_page_h();
    size_t nx = g->nx, ny = g->ny, uncal = 0;
    for (size_t i = 0; n > 1 && i < n; i++) /* one cup: its title says */
        uncal += (p[i].res.flags & CL_FLAG_UNCALIBRATED) != 0;
    if (title) {
        char t[512];
        if (uncal)
            snprintf(t, sizeof t, "%s (%s uncalibrated)", title,
                     uncal == n ? "all cups" : "some cups");
        cl_plot_text(PW / 2, PH - g->th / 2, 0.5, CL_PLOT_PT_TITLE, uncal ? t : title);
    }
    double top = PH - g->th, bottom = g->lh + 1.5;
    double cw = PW / (double)nx, ch = (top - bottom) / (double)ny;
    for (size_t i = 0; i < n; i++) {
        size_t cx = i % nx, cy = i / nx;
        double ylo, yhi;
        describe(&p[i].res, st->unit, false, false, label, sizeof label);
        if (cl_plot_text_w(label, CL_PLOT_PT_LABEL) > cw - 4)
            describe(&p[i].res, st->unit, true, false, label, sizeof label);
        if (cl_plot_text_w(label, CL_PLOT_PT_LABEL) > cw - 4)
            describe(&p[i].res, st->unit, true, true, label, sizeof label);
        yrange(&p[i], st->unit, &ylo, &yhi);
        bool last_row = i + nx >= n;
        cl_plot_axes ax = {xmin / div, xmax / div, ylo, yhi, label,
                           last_row ? xtitle : NULL, cx == 0 ? ytitle : NULL, 0,
                           cl_unit_name(st->unit)};
        draw_panel(&p[i], st, &ax, div, cw * (double)cx,
                   top - ch * (double)(cy + 1), cw * (double)(cx + 1), top - ch * (double)cy);
    }
    cl_plot_legend(g->keys, g->nk, 2, g->lh + 1.0, PW - 4);
}

/* Draw the panels p[0..n) in a grid (one panel: a full page). */
static int draw(const char *path, const panel *p, size_t n, const cl_figure_style *st,
                const char *title, cl_error *err)
{
    const char *dev;
    int rc = cl_plot_target(path, &dev, err);
    if (rc != CL_OK)
        return rc;
    grid g;
    plan(p, n, cl_plot_width_mm(&st->size), title, &g);
    if (setjmp(*cl_plot_trap()))
        return cl_error_set(err, CL_ERR_IO, "%s: cannot draw the figure: %s", path,
                            cl_plot_abandon());
    cl_plot_begin(dev, path, &st->size, g.th + (double)g.ny * g.cellh + g.lh + 1.5);
    paint(p, n, st, title, &g);
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

double cl_overview_height(const cl_overview *ov, double width_mm, const char *title)
{
    grid g;
    if (!ov || ov->n == 0)
        return 0;
    plan(ov->p, ov->n, width_mm, title, &g);
    return g.th + (double)g.ny * g.cellh + g.lh + 1.5;
}

void cl_overview_paint(const cl_overview *ov, const cl_figure_style *st, const char *title)
{
    grid g;
    if (!ov || ov->n == 0)
        return;
    plan(ov->p, ov->n, cl_plot_page_w(), title, &g);
    paint(ov->p, ov->n, st, title, &g);
}
