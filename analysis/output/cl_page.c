/*
 * cl_page: report pages over cl_plot (see cl_page.h).  Positions are mm
 * from the page's bottom-left corner; the cursor is the top of what comes
 * next.  Texts are measured with cl_plot_text_len.
 */
#include "output/cl_page.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cl_output.h"

#define PT_MM (25.4 / 72.0)
#define LINE_EM 1.3    /* line pitch, in em of the text's size */
#define COL_GAP 2.5    /* mm between two columns of a table or of fields */
#define LINE_CAP 256
#define MAX_LINES 6    /* of a table cell, a heading, a field */
#define MAX_COLS 48    /* columns of a table drawn (more are left out) */

static double width(const char *s, double pt, bool bold)
{
    return cl_plot_text_len(s, pt, bold);
}

double cl_page_line_h(double pt) { return LINE_EM * pt * PT_MM; }

double cl_page_heading_h(void) { return cl_page_line_h(CL_PAGE_PT_HEADING) + 1.5; }

int cl_page_check(const char *path, bool force, cl_error *err)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/') || strcasecmp(dot, ".pdf"))
        return cl_error_set(err, CL_ERR_ARG, "%s: a report is a PDF file (name.pdf)", path);
    return cl_output_check(path, force, err);
}

static int page_create(cl_page *pg, const char *path, cl_error *err)
{
    memset(pg, 0, sizeof *pg);
    snprintf(pg->path, sizeof pg->path, "%s", path);
    snprintf(pg->part, sizeof pg->part, "%s.%ld.part", path, (long)getpid());
    int fd = open(pg->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || close(fd) != 0) {
        int e = errno;
        pg->part[0] = '\0';
        return cl_error_set(err, cl_error_from_errno(e), "%s: cannot create: %s", path,
                            strerror(e));
    }
    return CL_OK;
}

static void page_begin(cl_page *pg)
{
    cl_plot_size sz = {.width_mm = CL_PAGE_WIDTH, .height_mm = CL_PAGE_HEIGHT};
    cl_plot_begin("pdfcairo", pg->part, &sz, CL_PAGE_HEIGHT);
    pg->y = cl_plot_page_h() - CL_PAGE_MARGIN;
    pg->pages = 1;
}

static void page_abort(cl_page *pg)
{
    if (pg->part[0])
        unlink(pg->part);
    pg->part[0] = '\0';
}

/* Whether the PDF at path was written to its end (its "%%EOF" trailer):
 * cairo's write errors (a full disk) do not come back through PLplot. */
static bool complete(const char *path)
{
    char tail[64] = "";
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = 0;
    if (fseek(f, -(long)(sizeof tail - 1), SEEK_END) == 0 || fseek(f, 0, SEEK_SET) == 0)
        n = fread(tail, 1, sizeof tail - 1, f);
    fclose(f);
    tail[n] = '\0';
    return strstr(tail, "%%EOF") != NULL;
}

static int page_finish(cl_page *pg, cl_error *err)
{
    cl_plot_end();
    if (!complete(pg->part)) {
        page_abort(pg);
        return cl_error_set(err, CL_ERR_IO, "%s: the report could not be written", pg->path);
    }
    if (rename(pg->part, pg->path) != 0) {
        int e = errno;
        page_abort(pg);
        return cl_error_set(err, cl_error_from_errno(e), "%s: cannot write: %s", pg->path,
                            strerror(e));
    }
    pg->part[0] = '\0';
    return CL_OK;
}

int cl_page_write(const char *path, cl_page_drawer *draw, const void *arg, cl_error *err)
{
    cl_page pg;
    int rc = page_create(&pg, path, err);
    if (rc != CL_OK)
        return rc;
    if (setjmp(*cl_plot_trap())) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: cannot draw the report: %s", path,
                          cl_plot_abandon());
        page_abort(&pg);
        return rc;
    }
    page_begin(&pg);
    if ((rc = draw(&pg, arg, err)) == CL_OK)
        return page_finish(&pg, err);
    cl_plot_end();
    page_abort(&pg);
    return rc;
}

void cl_page_footer(cl_page *pg, const char *s)
{
    char buf[LINE_CAP];
    (void)pg;
    cl_plot_fit(s, CL_PAGE_TEXT_W, CL_PLOT_PT_TICK, false, buf, sizeof buf);
    cl_plot_text(CL_PAGE_WIDTH / 2, CL_PAGE_MARGIN / 2, 0.5, CL_PLOT_PT_TICK, buf);
}

void cl_page_next(cl_page *pg)
{
    cl_plot_next_page();
    pg->y = cl_plot_page_h() - CL_PAGE_MARGIN;
    pg->pages++;
}

double cl_page_room(const cl_page *pg) { return pg->y - CL_PAGE_MARGIN; }

void cl_page_skip(cl_page *pg, double mm) { pg->y -= mm; }

/* ------------------------------------------------------------ wrapping */

typedef struct lines {
    size_t n;
    char s[MAX_LINES][LINE_CAP];
} lines;

/* May s break after its first i bytes?  After a space, comma or semicolon;
 * in a heading (bold) also after a slash ("kPa/" "min"), not in a value
 * (a port, a path). */
static bool break_after(const char *s, size_t i, bool bold)
{
    return s[i] == '\0' || s[i] == ' ' || s[i - 1] == ';' || s[i - 1] == ',' ||
           (bold && s[i - 1] == '/');
}

/* s in lines of at most w mm (at most `max`): broken after spaces, commas,
 * semicolons and slashes; a piece wider than w, or what is left for the
 * last line, cut with an ellipsis. */
static void wrap(const char *s, double w, double pt, bool bold, size_t max, lines *out)
{
    char buf[LINE_CAP];
    out->n = 0;
    if (max > MAX_LINES)
        max = MAX_LINES;
    while (out->n < max) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t len = strlen(s), best = 0, first = 0;
        for (size_t i = 1; i <= len && i < LINE_CAP; i++) {
            if (!break_after(s, i, bold))
                continue;
            if (!first)
                first = i;
            snprintf(buf, sizeof buf, "%.*s", (int)i, s);
            if (width(buf, pt, bold) > w)
                break;
            best = i;
        }
        char *line = out->s[out->n++];
        if (out->n == max && best < len) { /* the last line: the rest, cut */
            cl_plot_fit(s, w, pt, bold, line, LINE_CAP);
            return;
        }
        if (!best) { /* one piece wider than the place: cut */
            best = first ? first : len;
            snprintf(buf, sizeof buf, "%.*s", (int)best, s);
            cl_plot_fit(buf, w, pt, bold, line, LINE_CAP);
        } else {
            snprintf(line, LINE_CAP, "%.*s", (int)best, s);
        }
        s += best;
    }
}

/* The widest piece of s between two places it may break. */
static double piece_w(const char *s, double pt, bool bold)
{
    char buf[LINE_CAP];
    double w = 0;
    size_t start = 0, len = strlen(s);
    for (size_t i = 1; i <= len; i++) {
        if (!break_after(s, i, bold))
            continue;
        while (s[start] == ' ')
            start++;
        if (i > start) {
            snprintf(buf, sizeof buf, "%.*s", (int)(i - start), s + start);
            w = fmax(w, width(buf, pt, bold));
        }
        start = i;
    }
    return w;
}

static void draw_lines(const lines *l, double x, double y, double just, double pt, bool bold)
{
    double lh = cl_page_line_h(pt);
    for (size_t i = 0; i < l->n; i++) {
        double yy = y - lh * ((double)i + 0.5);
        if (bold)
            cl_plot_text_bold(x, yy, just, pt, l->s[i]);
        else
            cl_plot_text(x, yy, just, pt, l->s[i]);
    }
}

/* ------------------------------------------------------------ text */

void cl_page_title(cl_page *pg, const char *s)
{
    lines l;
    wrap(s, CL_PAGE_TEXT_W, CL_PAGE_PT_TITLE, true, 2, &l);
    draw_lines(&l, CL_PAGE_MARGIN, pg->y, 0, CL_PAGE_PT_TITLE, true);
    pg->y -= (double)l.n * cl_page_line_h(CL_PAGE_PT_TITLE) + 1.0;
}

void cl_page_heading(cl_page *pg, const char *s)
{
    lines l;
    pg->y -= 1.5;
    wrap(s, CL_PAGE_TEXT_W, CL_PAGE_PT_HEADING, true, 1, &l);
    draw_lines(&l, CL_PAGE_MARGIN, pg->y, 0, CL_PAGE_PT_HEADING, true);
    pg->y -= cl_page_line_h(CL_PAGE_PT_HEADING);
}

void cl_page_text(cl_page *pg, double pt, const char *s, size_t max_lines)
{
    lines l;
    wrap(s, CL_PAGE_TEXT_W, pt, false, max_lines ? max_lines : MAX_LINES, &l);
    draw_lines(&l, CL_PAGE_MARGIN, pg->y, 0, pt, false);
    pg->y -= (double)l.n * cl_page_line_h(pt);
}

void cl_page_fields(cl_page *pg, const char *const *names, const char *const *values, size_t n,
                    int columns)
{
    const double pt = CL_PAGE_PT_BODY, lh = cl_page_line_h(pt);
    size_t nc = columns > 0 ? (size_t)columns : 1;
    double cw = (CL_PAGE_TEXT_W + COL_GAP) / (double)nc;
    double name_w[8] = {0};
    if (nc > 8)
        nc = 8;
    for (size_t i = 0; i < n; i++) /* names of a column aligned */
        name_w[i % nc] = fmax(name_w[i % nc], width(names[i], pt, true) + 1.5);
    for (size_t i = 0; i < n; i += nc) {
        size_t rows = 1;
        for (size_t k = i; k < n && k < i + nc; k++) {
            double x = CL_PAGE_MARGIN + cw * (double)(k - i), nw = fmin(name_w[k - i], cw / 2);
            lines ln, lv;
            wrap(names[k], nw - 1.5, pt, true, 1, &ln);
            wrap(values[k] && *values[k] ? values[k] : "-", cw - COL_GAP - nw, pt, false, 3,
                 &lv);
            draw_lines(&ln, x, pg->y, 0, pt, true);
            draw_lines(&lv, x + nw, pg->y, 0, pt, false);
            rows = lv.n > rows ? lv.n : rows;
        }
        pg->y -= (double)rows * lh;
    }
}

/* ------------------------------------------------------------ tables */

typedef struct tlayout {
    size_t nc;
    double w[MAX_COLS];
    char head[MAX_COLS][LINE_CAP];
} tlayout;

/* A column's heading in words: "peak_vacuum" as "peak vacuum", with the unit. */
static void heading_text(const cl_table *t, size_t c, char *buf, size_t cap)
{
    const char *unit = cl_table_column_unit(t, c);
    snprintf(buf, cap, "%s%s%s%s", cl_table_column_name(t, c), unit ? " (" : "",
             unit ? unit : "", unit ? ")" : "");
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
}

static void table_layout(const cl_table *t, size_t from, size_t to, tlayout *L)
{
    const double pt = CL_PAGE_PT_TABLE;
    char buf[LINE_CAP];
    double nat[MAX_COLS], min[MAX_COLS], snat = 0, smin = 0;
    L->nc = cl_table_columns(t) < MAX_COLS ? cl_table_columns(t) : MAX_COLS;
    for (size_t c = 0; c < L->nc; c++) {
        heading_text(t, c, L->head[c], LINE_CAP);
        nat[c] = width(L->head[c], pt, true);
        min[c] = piece_w(L->head[c], pt, true);
        for (size_t r = from; r < to; r++) {
            cl_table_cell_text(t, r, c, buf, sizeof buf);
            nat[c] = fmax(nat[c], width(buf, pt, false));
            min[c] = fmax(min[c], piece_w(buf, pt, false));
        }
        /* a heading of at most three lines */
        min[c] = fmax(min[c], fmin(nat[c], width(L->head[c], pt, true) / 3));
        snat += nat[c];
        smin += min[c];
    }
    double avail = CL_PAGE_TEXT_W - COL_GAP * (double)(L->nc ? L->nc - 1 : 0);
    for (size_t c = 0; c < L->nc; c++) {
        if (snat <= avail)
            L->w[c] = nat[c];
        else if (smin <= avail)
            L->w[c] = min[c] + (nat[c] - min[c]) * (avail - smin) / (snat - smin);
        else
            L->w[c] = min[c] * avail / smin;
    }
}

static bool numeric(const char *s)
{
    char *end;
    if (!strcmp(s, "-") || !strcmp(s, "inf") || !strcmp(s, "-inf"))
        return true;
    strtod(s, &end);
    return *s && !*end;
}

/* Lines of row r (SIZE_MAX: the heading) at layout L, drawn at y when draw. */
static size_t row_lines(const cl_table *t, const tlayout *L, size_t r, double y, bool draw)
{
    const double pt = CL_PAGE_PT_TABLE;
    char buf[LINE_CAP];
    size_t most = 1;
    double x = CL_PAGE_MARGIN;
    for (size_t c = 0; c < L->nc; c++) {
        lines l;
        bool head = r == SIZE_MAX;
        if (head)
            snprintf(buf, sizeof buf, "%s", L->head[c]);
        else
            cl_table_cell_text(t, r, c, buf, sizeof buf);
        wrap(buf, L->w[c], pt, head, head ? 4 : 3, &l);
        bool right = !head && numeric(buf);
        if (draw)
            draw_lines(&l, right ? x + L->w[c] : x, y, right ? 1 : 0, pt, head);
        most = l.n > most ? l.n : most;
        x += L->w[c] + COL_GAP;
    }
    return most;
}

#define RULE_GAP 0.8 /* mm between a rule and the text */

double cl_page_table_h(const cl_table *t, size_t from, size_t to)
{
    tlayout L;
    table_layout(t, from, to, &L);
    double lh = cl_page_line_h(CL_PAGE_PT_TABLE);
    double h = (double)row_lines(t, &L, SIZE_MAX, 0, false) * lh + 3 * RULE_GAP;
    for (size_t r = from; r < to; r++)
        h += (double)row_lines(t, &L, r, 0, false) * lh;
    return h + RULE_GAP;
}

size_t cl_page_table(cl_page *pg, const cl_table *t, size_t from, size_t to)
{
    tlayout L;
    if (to > cl_table_rows(t))
        to = cl_table_rows(t);
    table_layout(t, from, to, &L);
    double lh = cl_page_line_h(CL_PAGE_PT_TABLE), x1 = CL_PAGE_MARGIN;
    for (size_t c = 0; c < L.nc; c++)
        x1 += L.w[c] + (c ? COL_GAP : 0);
    double hh = (double)row_lines(t, &L, SIZE_MAX, 0, false) * lh + 3 * RULE_GAP;
    double bottom = CL_PAGE_MARGIN;
    if (from >= to || pg->y - hh - (double)row_lines(t, &L, from, 0, false) * lh < bottom)
        return 0;
    double y = pg->y;
    cl_plot_rule(CL_PAGE_MARGIN, y, x1, y, 0.35);
    row_lines(t, &L, SIZE_MAX, y - RULE_GAP, true);
    y -= hh - RULE_GAP;
    cl_plot_rule(CL_PAGE_MARGIN, y, x1, y, 0.2);
    y -= RULE_GAP;
    size_t r = from;
    for (; r < to; r++) {
        double h = (double)row_lines(t, &L, r, 0, false) * lh;
        if (y - h - RULE_GAP < bottom)
            break;
        row_lines(t, &L, r, y, true);
        y -= h;
    }
    y -= RULE_GAP;
    cl_plot_rule(CL_PAGE_MARGIN, y, x1, y, 0.35);
    pg->y = y - 1.0;
    return r - from;
}

cl_plot_box cl_page_box(cl_page *pg, double h)
{
    cl_plot_box b = {CL_PAGE_MARGIN, pg->y - h, CL_PAGE_TEXT_W, h};
    pg->y -= h;
    return b;
}
