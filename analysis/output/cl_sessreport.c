/*
 * cl_sessreport: the printed report of one session (see cl_sessreport.h).
 * The blocks are tables (cl_table) laid out by cl_page; the figure is
 * cl_figure's overview drawn into a box of page 1.
 */
#include "output/cl_sessreport.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/cl_page.h"
#include "cl_plot.h"

#define FIGURE_MIN_MM 70.0 /* the overview no lower than this beside the table */
#define FIGURE_GROW 1.5    /* ... and at most this times its own height */
#define MAX_EVENTS 8       /* event rows listed */
#define MAX_CAL_ROWS 16    /* cups in the calibration block */

/* Whether kind k is an event of the acquisition (not a marker). */
static bool device_event(cl_event_kind k)
{
    return k == CL_EVENT_GAP || k == CL_EVENT_DISCONNECT || k == CL_EVENT_RECONNECT ||
           k == CL_EVENT_OVERRUN || k == CL_EVENT_DEVICE || k == CL_EVENT_ERROR;
}

/* The distinct non-empty values of one text of the cups, joined. */
static void distinct(const cl_cup_result *res, size_t n, size_t offset, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *v = (const char *)&res[i] + offset;
        bool seen = !*v;
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(v, (const char *)&res[k] + offset);
        if (seen || len >= cap)
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", v);
        len += w > 0 ? (size_t)w : 0;
    }
}

static void title_block(cl_page *pg, const cl_sessreport_input *in)
{
    cl_session_reader *r = in->reader;
    char sets[512], sites[512], cups[32], software[160];
    const char *base = strrchr(in->file, '/');
    char title[512];
    snprintf(title, sizeof title, "Session report: %s", base ? base + 1 : in->file);
    cl_page_title(pg, title);
    distinct(in->res, in->n, offsetof(cl_cup_result, cup_set), sets, sizeof sets);
    distinct(in->res, in->n, offsetof(cl_cup_result, site), sites, sizeof sites);
    const char *site = cl_session_attr(r, "site");
    snprintf(cups, sizeof cups, "%zu", in->n);
    snprintf(software, sizeof software, "recorded with %s, analysed with %s",
             cl_session_attr(r, "software_version"), CUPLAB_VERSION);
    const char *notes = cl_session_attr(r, "notes");
    const char *names[] = {"File",         "Session",      "Started (UTC)", "Ended (UTC)",
                           "Status",       "Practitioner", "Subject",       "Technique",
                           "Site",         "Cups",         "Cup set",       "Software",
                           "Notes"};
    const char *values[] = {in->file,
                            cl_session_attr(r, "session_uuid"),
                            cl_session_attr(r, "created_utc"),
                            cl_session_attr(r, "ended_utc"),
                            in->status,
                            cl_session_attr(r, "practitioner"),
                            cl_session_attr(r, "subject"),
                            cl_session_attr(r, "technique"),
                            *site ? site : sites,
                            cups,
                            sets,
                            software,
                            notes};
    size_t n = sizeof names / sizeof names[0];
    cl_page_fields(pg, names, values, *notes ? n : n - 1, 2);
    cl_page_skip(pg, 1.0);
    cl_page_text(pg, CL_PAGE_PT_BODY, in->summary, 3);
}

/* A table of the columns heads[0..n) (headings in words, units in them). */
static cl_table *new_table(const char *const *heads, size_t n)
{
    cl_table *t = cl_table_new();
    for (size_t k = 0; t && k < n; k++)
        cl_table_add_column(t, heads[k], NULL, 0);
    return t;
}

/* The calibration of each cup. */
static cl_table *calibration_table(const cl_sessreport_input *in)
{
    static const char *const heads[] = {"Cup", "Sensor serial", "Pressure transfer applied",
                                        "Profile valid until",
                                        "Cup-set profile (volume, baseline leak)"};
    cl_table *t = new_table(heads, sizeof heads / sizeof heads[0]);
    if (!t)
        return NULL;
    for (size_t i = 0; i < in->n && i < MAX_CAL_ROWS; i++) {
        const cl_cup_result *x = &in->res[i];
        cl_table_add_row(t);
        cl_table_set_str(t, 0, x->cup_id);
        cl_table_set_str(t, 1, *x->sensor_serial ? x->sensor_serial : "none");
        cl_table_set_str(t, 2, x->cal == CL_CAL_NONE ? "raw counts (no transfer)" : x->calibration);
        cl_table_set_str(t, 3, *x->profile_until ? x->profile_until : "none");
        cl_table_set_str(t, 4, *x->cupset_used ? x->cupset_used : "none");
    }
    return t;
}

/* The counters of each device. */
static cl_table *device_table(cl_session_reader *r)
{
    static const char *const heads[] = {"Device",        "Port",        "Protocol",
                                        "Frames",        "Checksum errors", "Malformed",
                                        "Sequence gaps", "Lost frames", "Overruns",
                                        "Reconnects"};
    cl_table *t = new_table(heads, sizeof heads / sizeof heads[0]);
    if (!t)
        return NULL;
    for (size_t d = 0; d < cl_session_device_count(r); d++) {
        const cl_session_device *dev = cl_session_device_info(r, d);
        cl_session_counters c;
        bool ok = cl_session_counters_get(r, d, &c, NULL) == CL_OK;
        double v[] = {(double)c.frames,   (double)c.checksum_errors, (double)c.malformed,
                      (double)c.seq_gaps, (double)c.lost_frames,     (double)c.overruns,
                      (double)c.reconnects};
        char name[32];
        snprintf(name, sizeof name, "dev%zu", d); /* as the file names it */
        cl_table_add_row(t);
        cl_table_set_str(t, 0, name);
        cl_table_set_str(t, 1, dev && dev->port ? dev->port : "");
        cl_table_set_str(t, 2, dev && dev->protocol ? dev->protocol : "");
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            cl_table_set_num(t, 3 + k, ok ? v[k] : NAN);
    }
    return t;
}

/* The device, gap and overrun events: the first `max` of them, *total
 * how many there are. */
static int event_table(cl_session_reader *r, size_t max, cl_table **out, size_t *total,
                       cl_error *err)
{
    static const char *const heads[] = {"Time (s)", "Event", "Cup", "What the recorder noted"};
    cl_table *t = new_table(heads, sizeof heads / sizeof heads[0]);
    *out = NULL;
    *total = 0;
    if (!t)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cl_session_event_count(r); i++) {
        cl_session_event ev;
        int rc = cl_session_event_get(r, i, &ev, err);
        if (rc != CL_OK) {
            cl_table_free(t);
            return rc;
        }
        if (!device_event(ev.kind) || (*total)++ >= max)
            continue;
        const cl_session_cup *c = ev.cup >= 0 ? cl_session_cup_info(r, (size_t)ev.cup) : NULL;
        const char *kind = cl_event_kind_name(ev.kind);
        char when[32];
        snprintf(when, sizeof when, "%.2f", ev.t);
        cl_table_add_row(t);
        cl_table_set_str(t, 0, when);
        cl_table_set_str(t, 1, kind ? kind : "?");
        cl_table_set_str(t, 2, c && c->cup_id ? c->cup_id : "all");
        cl_table_set_str(t, 3, ev.text ? ev.text : "");
    }
    *out = t;
    return CL_OK;
}

/* A table under its heading, or `none` when it has no rows; the rows
 * that do not fit said in a line. */
static void block(cl_page *pg, const char *heading, const cl_table *t, size_t total,
                  const char *none, const char *more)
{
    char line[256];
    cl_page_heading(pg, heading);
    size_t rows = cl_table_rows(t);
    if (rows == 0) {
        cl_page_text(pg, CL_PAGE_PT_BODY, none, 1);
        return;
    }
    size_t drawn = cl_page_table(pg, t, 0, rows);
    if (drawn < total) {
        snprintf(line, sizeof line, "and %zu more %s", total - drawn, more);
        cl_page_text(pg, CL_PAGE_PT_TABLE, line, 1);
    }
}

static void footer(cl_page *pg, const cl_sessreport_input *in, int pages)
{
    char s[512];
    snprintf(s, sizeof s, "Session %s, page %d of %d", cl_session_attr(in->reader, "session_uuid"),
             pg->pages, pages);
    cl_page_footer(pg, s);
}

typedef struct tables {
    cl_table *cal, *dev, *ev;
    size_t nev;
} tables;

/* Everything on the pages (a cl_page_drawer). */
typedef struct report {
    const cl_sessreport_input *in;
    tables tb;
} report;

static int lay_out(cl_page *pg, const void *arg, cl_error *err)
{
    const cl_sessreport_input *in = ((const report *)arg)->in;
    const tables *tb = &((const report *)arg)->tb;
    (void)err;
    title_block(pg, in);
    block(pg, "Calibration", tb->cal, in->n, "No cups.", "cups");
    block(pg, "Device integrity", tb->dev, cl_table_rows(tb->dev), "No devices.", "devices");
    block(pg, "Device, gap and overrun events", tb->ev, tb->nev,
          "None: no gap, disconnection, overrun or device event was recorded.", "events");
    size_t rows = cl_table_rows(in->cups);
    double room = cl_page_room(pg) - 2 * cl_page_heading_h();
    double table_h = cl_page_table_h(in->cups, 0, rows);
    double fig_h = in->ov ? cl_overview_height(in->ov, CL_PAGE_TEXT_W, NULL) : 0;
    bool one_page = room - table_h >= fmin(fig_h, FIGURE_MIN_MM);
    fig_h = fmin(fig_h * FIGURE_GROW, one_page ? room - table_h : room + cl_page_heading_h());
    int pages = one_page ? 1 : 2;
    footer(pg, in, pages);
    if (fig_h > 0) {
        cl_page_heading(pg, "Vacuum of each cup");
        cl_plot_box box = cl_page_box(pg, fig_h);
        cl_plot_frame(&box);
        cl_overview_paint(in->ov, &in->style, NULL);
        cl_plot_frame(NULL);
    }
    if (!one_page) {
        cl_page_next(pg);
        footer(pg, in, pages);
    }
    char head[160];
    snprintf(head, sizeof head, "Per-cup results (vacuum positive below ambient)");
    block(pg, head, in->cups, rows, "No cups.", "cups (in the table the program prints)");
    return CL_OK;
}

int cl_sessreport_write(const char *path, const cl_sessreport_input *in, cl_error *err)
{
    report rep = {.in = in};
    tables *tb = &rep.tb;
    int rc = event_table(in->reader, MAX_EVENTS, &tb->ev, &tb->nev, err);
    if (rc != CL_OK)
        return rc;
    tb->cal = calibration_table(in);
    tb->dev = device_table(in->reader);
    if (!tb->cal || !tb->dev || cl_table_status(tb->cal) || cl_table_status(tb->dev) ||
        cl_table_status(tb->ev))
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    else
        rc = cl_page_write(path, lay_out, &rep, err);
    cl_table_free(tb->cal);
    cl_table_free(tb->dev);
    cl_table_free(tb->ev);
    return rc;
}
