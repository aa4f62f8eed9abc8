/*
 * cl_plot: the PLplot plumbing every figure module shares (the figures
 * themselves live with the program that draws them).  Each figure is drawn on its own PLplot stream
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cl_log.h"

#define PT_MM (25.4 / 72.0) /* one point in mm */
#define CHR_PER_PT 0.264583 /* PLplot character height (mm) of one point of cairo's text */
#define BOX_EM 1.163        /* height of a line of text's box, in em */
#define ADVANCE_EM 0.6     /* generous mean advance of a character, in em */

static jmp_buf plot_jump;
static char plot_error[256];
/* The open figure: page size (mm) and mm per PLplot mm; the open panel. */
static struct {
    double w, h, k;
    cl_plot_box frame; /* where positions are counted from */
    cl_plot_axes axes;
    double ytick, xtick;
    int yprec, xprec;
    double ylabel_w;
    double pw, ph; /* plot area of the open panel, mm */
    double px0, cx0, cx1; /* its left edge, its cell's edges */
    size_t ysplit;        /* y title in two lines: length of the first, 0: one */
    bool yshort;          /* the short y title instead */
} page;

/* pango, which lays out the text of PLplot's cairo drivers, reached (as in
 * cl_plot_release) only where the driver has loaded it; a context made
 * once per page with unhinted metrics, as on a PDF page. */
typedef struct pango_api {
    void *(*fontmap)(void);
    void *(*context)(void *);
    void (*resolution)(void *, double);
    void *(*options_new)(void);
    void (*hint_metrics)(void *, int);
    void (*set_options)(void *, const void *);
    void (*options_free)(void *);
    void *(*layout)(void *);
    void *(*desc)(const char *);
    void (*set_desc)(void *, const void *);
    void (*desc_free)(void *);
    void (*text)(void *, const char *, int);
    void (*size)(void *, int *, int *);
    void (*unref)(void *);
} pango_api;

static struct {
    bool tried, ok;
    pango_api f;
    void *ctx;
} pango;

static void *symbol(const char *lib, const char *name)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD), *p = h ? dlsym(h, name) : NULL;
    if (h)
        dlclose(h); /* stays loaded: the driver holds it */
    return p;
}

static bool pango_find(void)
{
    static const char pc[] = "libpangocairo-1.0.so.0", pg[] = "libpango-1.0.so.0",
                      go[] = "libgobject-2.0.so.0", ca[] = "libcairo.so.2";
#define API(f) offsetof(pango_api, f)
    static const struct {
        const char *lib, *name;
        size_t at;
    } names[] = {{pc, "pango_cairo_font_map_get_default", API(fontmap)},
                 {pg, "pango_font_map_create_context", API(context)},
                 {pc, "pango_cairo_context_set_resolution", API(resolution)},
                 {ca, "cairo_font_options_create", API(options_new)},
                 {ca, "cairo_font_options_set_hint_metrics", API(hint_metrics)},
                 {pc, "pango_cairo_context_set_font_options", API(set_options)},
                 {ca, "cairo_font_options_destroy", API(options_free)},
                 {pg, "pango_layout_new", API(layout)},
                 {pg, "pango_font_description_from_string", API(desc)},
                 {pg, "pango_layout_set_font_description", API(set_desc)},
                 {pg, "pango_font_description_free", API(desc_free)},
                 {pg, "pango_layout_set_text", API(text)},
                 {pg, "pango_layout_get_size", API(size)},
                 {go, "g_object_unref", API(unref)}};
#undef API
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *p = symbol(names[i].lib, names[i].name);
        if (!p)
            return false;
        /* POSIX's way from dlsym's object pointer to a function pointer */
        *(void **)((char *)&pango.f + names[i].at) = p;
    }
    return true;
}

/* The context of the open page, made at the first measure. */
static void *pango_context(void)
{
    if (!pango.tried) {
        pango.tried = true;
        pango.ok = pango_find();
    }
    if (!pango.ok || pango.ctx)
        return pango.ctx;
    void *map = pango.f.fontmap();
    if (!map || !(pango.ctx = pango.f.context(map)))
        return NULL;
    pango.f.resolution(pango.ctx, 72.0); /* a device unit is a point */
    void *opt = pango.f.options_new();
    if (opt) {
        pango.f.hint_metrics(opt, 2 /* CAIRO_HINT_METRICS_OFF */);
        pango.f.set_options(pango.ctx, opt);
        pango.f.options_free(opt);
    }
    return pango.ctx;
}

static void pango_release(void)
{
    if (pango.ctx)
        pango.f.unref(pango.ctx);
    pango.ctx = NULL;
}

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

int cl_plot_parse_length(const char *s, double *mm, cl_error *err)
{
    char *end;
    double v = s ? strtod(s, &end) : NAN;
    double f = 1;
    if (s && end != s) {
        if (!strcasecmp(end, "cm"))
            f = 10;
        else if (!strcasecmp(end, "in"))
            f = 25.4;
        else if (*end && strcasecmp(end, "mm"))
            f = NAN;
    }
    v *= f;
    if (!s || end == s || !(v >= 20 && v <= 1000))
        return cl_error_set(err, CL_ERR_ARG, "'%s': expected a length of 20 to 1000 mm (85mm, 8.5cm, 3.3in)",
                            s ? s : "");
    *mm = v;
    return CL_OK;
}

double cl_plot_width_mm(const cl_plot_size *sz)
{
    return sz->width_mm > 0 ? sz->width_mm : CL_PLOT_DEFAULT_MM;
}

jmp_buf *cl_plot_trap(void) { return &plot_jump; }

const char *cl_plot_abandon(void)
{
    pango_release();
    page.w = 0;
    plsexit(NULL);
    plsabort(NULL);
    return plot_error[0] ? plot_error : "PLplot error";
}

static void palette(void)
{
    static const unsigned char rgb[][3] = {
        [CL_PLOT_WHITE] = {255, 255, 255}, [CL_PLOT_BLACK] = {0, 0, 0},
        [CL_PLOT_ORANGE] = {230, 159, 0},  [CL_PLOT_SKY] = {86, 180, 233},
        [CL_PLOT_GREEN] = {0, 158, 115},   [CL_PLOT_YELLOW] = {240, 228, 66},
        [CL_PLOT_BLUE] = {0, 114, 178},    [CL_PLOT_VERMILION] = {213, 94, 0},
        [CL_PLOT_PURPLE] = {204, 121, 167}, [CL_PLOT_GREY] = {120, 120, 120},
        [CL_PLOT_GRID] = {225, 225, 225},
    };
    static const struct {
        int col, base;
        double alpha;
    } tint[] = {{CL_PLOT_TINT_ORANGE, CL_PLOT_ORANGE, 0.3},
                {CL_PLOT_TINT_SKY, CL_PLOT_SKY, 0.18},
                {CL_PLOT_TINT_GREY, CL_PLOT_GREY, 0.3},
                {CL_PLOT_TINT_BLUE, CL_PLOT_BLUE, 0.3}};
    plscmap0n(CL_PLOT_NCOLOURS);
    for (int i = 0; i <= CL_PLOT_GRID; i++)
        plscol0(i, rgb[i][0], rgb[i][1], rgb[i][2]);
    for (size_t i = 0; i < sizeof tint / sizeof tint[0]; i++)
        plscol0a(tint[i].col, rgb[tint[i].base][0], rgb[tint[i].base][1],
                 rgb[tint[i].base][2], tint[i].alpha);
}

void cl_plot_begin(const char *dev, const char *path, const cl_plot_size *sz,
                   double wanted_h_mm)
{
    PLINT strm;
    double w = cl_plot_width_mm(sz), h;
    if (sz->height_mm > 0)
        h = sz->height_mm;
    else if (sz->width_mm > 0 || sz->width_px <= 0 || sz->height_px <= 0)
        h = wanted_h_mm > 0 ? wanted_h_mm : w * CL_PLOT_ASPECT;
    else
        h = w * sz->height_px / sz->width_px;
    PLINT pw, ph;
    if (strcmp(dev, "pngcairo")) { /* a vector page in points */
        pw = (PLINT)lround(w / PT_MM);
        ph = (PLINT)lround(h / PT_MM);
        w = pw * PT_MM;
        h = ph * PT_MM;
    } else if (sz->width_mm > 0 || sz->width_px <= 0) {
        pw = (PLINT)lround(w / 25.4 * CL_PLOT_PNG_DPI);
        ph = (PLINT)lround(h / 25.4 * CL_PLOT_PNG_DPI);
    } else {
        pw = sz->width_px;
        ph = sz->height_px;
    }
    page.w = w;
    page.h = h;
    page.k = w / (pw * PT_MM); /* cairo's drivers count 72 units per inch */
    page.frame = (cl_plot_box){0, 0, w, h};
    plot_error[0] = '\0';
    plmkstrm(&strm);
    plsexit(on_exit_request);
    plsabort(on_abort);
    plsdev(dev);
    plsfnam(path);
    plspage(0, 0, pw, ph, 0, 0);
    palette();
    plsetopt("np", "");
    plinit();
    pladv(0);
    plsxax(10, 0);
    plsyax(10, 0);
    plwidth(0.6 / page.k);
    cl_plot_font(CL_PLOT_PT_TICK);
}

void cl_plot_end(void)
{
    pango_release();
    page.w = 0;
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

int cl_plot_target(const char *path, const char **dev, cl_error *err)
{
    *dev = cl_plot_device(path);
    if (!*dev)
        return cl_error_set(err, CL_ERR_ARG, "%s: figure type not known (.png, .svg or .pdf)",
                            path);
    return cl_plot_check_writable(path, err);
}

double cl_plot_page_w(void) { return page.frame.w; }
double cl_plot_page_h(void) { return page.frame.h; }

void cl_plot_frame(const cl_plot_box *b)
{
    page.frame = b ? *b : (cl_plot_box){0, 0, page.w, page.h};
}

void cl_plot_next_page(void)
{
    cl_plot_frame(NULL);
    pladv(0);
    plwidth(0.6 / page.k);
    cl_plot_font(CL_PLOT_PT_TICK);
}

void cl_plot_font(double pt) { plschr(pt * CHR_PER_PT / page.k, 1.0); }

static double em(double pt) { return pt * PT_MM; }

double cl_plot_text_len(const char *s, double pt, bool bold)
{
    void *ctx = page.w > 0 ? pango_context() : NULL, *lay = ctx ? pango.f.layout(ctx) : NULL;
    if (!lay)
        return cl_plot_text_w(s, pt);
    char font[64];
    snprintf(font, sizeof font, "sans%s %.3f", bold ? " bold" : "", pt);
    void *desc = pango.f.desc(font);
    int w = 0, h = 0;
    pango.f.set_desc(lay, desc);
    pango.f.text(lay, s ? s : "", -1);
    pango.f.size(lay, &w, &h);
    pango.f.desc_free(desc);
    pango.f.unref(lay);
    return w / 1024.0 * PT_MM; /* PANGO_SCALE units of a point */
}

double cl_plot_text_w(const char *s, double pt)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80; /* characters, not bytes */
    return (double)n * ADVANCE_EM * em(pt);
}

/* World coordinates = mm from the frame's bottom-left corner. */
static void page_window(void)
{
    plsvpa(0, page.w / page.k, 0, page.h / page.k);
    plwind(-page.frame.x, page.w - page.frame.x, -page.frame.y, page.h - page.frame.y);
}

void cl_plot_text(double x, double y, double just, double pt, const char *s)
{
    page_window();
    cl_plot_font(pt);
    plptex(x, y, 1, 0, just, s);
}

void cl_plot_text_bold(double x, double y, double just, double pt, const char *s)
{
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_BOLD);
    cl_plot_text(x, y, just, pt, s);
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
}

void cl_plot_rule(double x0, double y0, double x1, double y1, double width_mm)
{
    page_window();
    plcol0(CL_PLOT_BLACK);
    plwidth(width_mm / PT_MM / page.k);
    pljoin(x0, y0, x1, y1);
    plwidth(0.6 / page.k);
}

void cl_plot_vacuum_title(cl_unit u, char *buf, size_t cap)
{
    snprintf(buf, cap, "Vacuum below ambient (%s)", cl_unit_name(u));
}

double cl_plot_time_axis(double span_s, const char **title)
{
    bool min = span_s > CL_PLOT_MINUTES_AFTER_S;
    *title = min ? "Time (min)" : "Time (s)";
    return min ? 60 : 1;
}

void cl_plot_pad(double *lo, double *hi, double frac)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    double w = *hi - *lo;
    if (w <= 0) {
        w = fabs(*lo) > 0 ? fabs(*lo) * 0.2 : 1;
        *lo -= w / 2;
        *hi += w / 2;
    }
    *lo -= frac * w;
    *hi += frac * w;
}

/* A step of 1, 2 or 5 times a power of ten giving at most `n` intervals
 * over `span`, and the decimals its labels need. */
static double nice_step(double span, double n, int *prec)
{
    double raw = span / (n > 1 ? n : 1);
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    double step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    int d = (int)-floor(log10(step) + 1e-9);
    *prec = d > 0 ? d : 0;
    return step;
}

/* Widest tick label (mm) of the ticks of `step` in [lo, hi]. */
static double labels_w(double lo, double hi, double step, int prec)
{
    char buf[64];
    double w = 0;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) {
        snprintf(buf, sizeof buf, "%.*f", prec, fabs(v) < step * 1e-6 ? 0.0 : v);
        w = fmax(w, cl_plot_text_w(buf, CL_PLOT_PT_TICK));
    }
    return w;
}

void cl_plot_margins(const cl_plot_axes *a, double *left, double *bottom, double *top)
{
    double t = em(CL_PLOT_PT_TICK), l = em(CL_PLOT_PT_LABEL);
    int prec;
    double step = nice_step(a->ymax - a->ymin, 5, &prec);
    double yw = labels_w(a->ymin, a->ymax, step, prec);
    *left = 0.31 * t + yw + (a->ytitle ? 0.35 * l + BOX_EM * l : 0) + 0.8;
    *bottom = (a->xtext ? a->xtext * 1.2 * t + 0.4 * t : 1.75 * t) +
              (a->xtitle ? 0.3 * l + BOX_EM * l : 0) + 0.6;
    *top = 0.6 * t + (a->title ? 0.25 * l + BOX_EM * l : 0) + 0.5;
}

void cl_plot_open(const cl_plot_axes *a, double x0, double y0, double x1, double y1)
{
    double left, bottom, top;
    cl_plot_margins(a, &left, &bottom, &top);
    double t = em(CL_PLOT_PT_TICK);
    page.axes = *a;
    page.ytick = nice_step(a->ymax - a->ymin, 5, &page.yprec);
    page.ylabel_w = labels_w(a->ymin, a->ymax, page.ytick, page.yprec);
    double right = 1.0;
    if (!a->xtext) {
        int prec;
        double step = nice_step(a->xmax - a->xmin, 4, &prec);
        right = fmax(right, 0.5 * labels_w(a->xmax - step, a->xmax, step, prec) + 0.5);
    }
    double l = em(CL_PLOT_PT_LABEL);
    double pw = (x1 - x0) - left - right, ph = (y1 - y0) - bottom - top;
    /* A y title longer than the axis: in two lines at its " (unit)", else
     * the short one. */
    page.ysplit = 0;
    page.yshort = false;
    if (a->ytitle && cl_plot_text_w(a->ytitle, CL_PLOT_PT_LABEL) > ph) {
        const char *u = strrchr(a->ytitle, '(');
        if (u && u > a->ytitle + 1 && u[-1] == ' ' &&
            cl_plot_text_w(u, CL_PLOT_PT_LABEL) <= ph &&
            cl_plot_text_w(a->ytitle, CL_PLOT_PT_LABEL) - cl_plot_text_w(u, CL_PLOT_PT_LABEL) <= ph) {
            page.ysplit = (size_t)(u - 1 - a->ytitle);
            left += 1.1 * BOX_EM * l;
            pw -= 1.1 * BOX_EM * l;
        } else {
            page.yshort = a->yshort != NULL;
        }
    }
    if (pw < 5)
        pw = 5;
    if (ph < 5)
        ph = 5;
    /* x ticks no closer than their labels allow */
    double n = pw / 14;
    for (int i = 0; i < 6; i++, n *= 0.7) {
        page.xtick = nice_step(a->xmax - a->xmin, n > 1 ? n : 1, &page.xprec);
        double lw = labels_w(a->xmin, a->xmax, page.xtick, page.xprec);
        if (lw + 1.5 * t <= pw * page.xtick / (a->xmax - a->xmin))
            break;
    }
    page.pw = pw;
    page.ph = ph;
    page.px0 = x0 + left;
    page.cx0 = x0;
    page.cx1 = x1;
    x0 += page.frame.x;
    y0 += page.frame.y;
    plsvpa((x0 + left) / page.k, (x0 + left + pw) / page.k, (y0 + bottom) / page.k,
           (y0 + bottom + ph) / page.k);
    plwind(a->xmin, a->xmax, a->ymin, a->ymax);
    cl_plot_font(CL_PLOT_PT_TICK);
    plwidth(0.5 / page.k);
    plcol0(CL_PLOT_GRID);
    plbox(a->xtext ? "" : "g", page.xtick, 0, "g", page.ytick, 0);
    plcol0(CL_PLOT_BLACK);
    plwidth(0.6 / page.k);
}

void cl_plot_fit(const char *s, double w, double pt, bool bold, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", s);
    size_t len = strlen(buf);
    while (len > 0 && cl_plot_text_len(buf, pt, bold) > w) {
        do
            len--;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80);
        snprintf(buf, cap, "%.*s...", (int)len, s);
    }
}

void cl_plot_close(const cl_plot_axes *a)
{
    double t = em(CL_PLOT_PT_TICK), l = em(CL_PLOT_PT_LABEL);
    double chr = 0.75 * l; /* PLplot's character height at the label size */
    plcol0(CL_PLOT_BLACK);
    plwidth(0.6 / page.k);
    cl_plot_font(CL_PLOT_PT_TICK);
    plprec(1, page.xprec);
    plbox(a->xtext ? "bc" : "bcnst", page.xtick, 0, "", 0, 0);
    plprec(1, page.yprec);
    plbox("", 0, 0, "bcnstv", page.ytick, 0);
    plprec(0, 0);
    cl_plot_font(CL_PLOT_PT_LABEL);
    if (a->xtitle) {
        double d = (a->xtext ? a->xtext * 1.2 * t + 0.4 * t : 1.75 * t) + 0.3 * l +
                   0.5 * BOX_EM * l;
        plmtex("b", d / chr, 0.5, 0.5, a->xtitle);
    }
    if (a->ytitle) {
        double d = 0.31 * t + page.ylabel_w + 0.35 * l + 0.5 * BOX_EM * l;
        if (page.ysplit) {
            char first[128];
            snprintf(first, sizeof first, "%.*s", (int)page.ysplit, a->ytitle);
            plmtex("l", (d + 1.1 * BOX_EM * l) / chr, 0.5, 0.5, first);
            plmtex("l", d / chr, 0.5, 0.5, a->ytitle + page.ysplit + 1);
        } else {
            plmtex("l", d / chr, 0.5, 0.5, page.yshort ? a->yshort : a->ytitle);
        }
    }
    if (a->title) { /* centred on the plot area, kept inside the cell */
        char buf[256];
        cl_plot_fit(a->title, page.cx1 - page.cx0 - 2, CL_PLOT_PT_LABEL, false, buf, sizeof buf);
        double w = cl_plot_text_w(buf, CL_PLOT_PT_LABEL), c = page.px0 + page.pw / 2;
        c = fmin(fmax(c, page.cx0 + 1 + w / 2), page.cx1 - 1 - w / 2);
        plmtex("t", (0.6 * t + 0.25 * l + 0.5 * BOX_EM * l) / chr, (c - page.px0) / page.pw, 0.5,
               buf);
    }
}

void cl_plot_xtext(double x, int line, const char *s)
{
    const cl_plot_axes *a = &page.axes;
    double t = em(CL_PLOT_PT_TICK);
    cl_plot_font(CL_PLOT_PT_TICK);
    plcol0(CL_PLOT_BLACK);
    plmtex("b", (0.4 * t + (line - 0.5) * 1.2 * t) / (0.75 * t),
           (x - a->xmin) / (a->xmax - a->xmin), 0.5, s);
}

#define KEY_SAMPLE 6.0 /* mm */

static double key_w(const cl_plot_key *k)
{
    return KEY_SAMPLE + 1.2 + cl_plot_text_w(k->text, CL_PLOT_PT_TICK) + 3.0;
}

double cl_plot_legend_h(const cl_plot_key *keys, size_t n, double width)
{
    double x = 0;
    int rows = n ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        double w = key_w(&keys[i]);
        if (x > 0 && x + w > width) {
            rows++;
            x = 0;
        }
        x += w;
    }
    return rows * 1.4 * em(CL_PLOT_PT_TICK);
}

void cl_plot_pen(const cl_plot_key *k)
{
    /* dashes and dots of a length on paper (PLplot counts micrometres) */
    static const PLINT dash[2][2] = {{1400, 900}, {350, 650}};
    int st = k->kind == CL_PLOT_KEY_LINE ? k->style : 1;
    plcol0(k->colour);
    if (st == 2 || st == 3) {
        PLINT mark = (PLINT)(dash[st - 2][0] / page.k), space = (PLINT)(dash[st - 2][1] / page.k);
        plstyl(1, &mark, &space);
    } else {
        pllsty(1);
    }
    plwidth((k->width > 0 ? k->width : 0.6) / page.k);
}

void cl_plot_legend(const cl_plot_key *keys, size_t n, double x0, double y, double width)
{
    double row = 1.4 * em(CL_PLOT_PT_TICK), x = 0;
    y -= row / 2;
    page_window();
    for (size_t i = 0; i < n; i++) {
        const cl_plot_key *k = &keys[i];
        double w = key_w(k);
        if (x > 0 && x + w > width) {
            y -= row;
            x = 0;
        }
        double sx = x0 + x;
        switch (k->kind) {
        case CL_PLOT_KEY_LINE:
            cl_plot_pen(k);
            pljoin(sx, y, sx + KEY_SAMPLE, y);
            break;
        case CL_PLOT_KEY_POINT: {
            PLFLT px = sx + KEY_SAMPLE / 2, py = y;
            plcol0(k->colour);
            plssym(0, k->width > 0 ? k->width : 1);
            plpoin(1, &px, &py, k->style);
            break;
        }
        case CL_PLOT_KEY_FILL: {
            double hh = 0.35 * row;
            PLFLT fx[4] = {sx, sx + KEY_SAMPLE, sx + KEY_SAMPLE, sx};
            PLFLT fy[4] = {y - hh, y - hh, y + hh, y + hh};
            plcol0(k->colour);
            plfill(4, fx, fy);
            break;
        }
        }
        pllsty(1);
        plwidth(0.6 / page.k);
        plcol0(CL_PLOT_BLACK);
        cl_plot_font(CL_PLOT_PT_TICK);
        plptex(sx + KEY_SAMPLE + 1.2, y, 1, 0, 0, k->text);
        x += w;
    }
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
}
