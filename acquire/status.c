/* acquire/status: the terminal status of a recording (see status.h). */
#include "status.h"

#include "cl_ident.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_units.h"

#define PREFIX "cuplab-acquire: "
/* Columns of a port's name on its device line: what `width` leaves beside
 * the rate and errors, between these. */
#define PORT_COLS_MIN 10
#define PORT_COLS_MAX 30
#define DEVICE_COLS 45

void acq_status_init(acq_status *s, FILE *to, bool tty, int verbosity, const char *path,
                     const cl_sensor_profile *const *sensors, size_t nsensors)
{
    *s = (acq_status){.to = to, .tty = tty, .verbosity = verbosity, .path = path,
                      .sensors = sensors, .nsensors = nsensors};
}

/* A text appended to buf[*n..cap), cut at the end of the buffer. */
static void put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    if (*n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k > 0)
        *n = *n + (size_t)k < cap ? *n + (size_t)k : cap - 1;
}

/* A line ends: cut at `width` columns (all ASCII) from `start`. */
static void end_line(char *buf, size_t *n, size_t start, int width)
{
    if (width > 0 && *n - start > (size_t)width)
        *n = start + (size_t)width;
    while (*n > start && buf[*n - 1] == ' ')
        (*n)--;
    buf[*n] = '\0';
}

/* "ok", "no frame yet", "gone 3.2 s"; the errors by kind. */
static void put_device(char *buf, size_t cap, size_t *n, const cl_acq_device_status *d,
                       double now, int width)
{
    int cols = width - DEVICE_COLS;
    cols = cols < PORT_COLS_MIN ? PORT_COLS_MIN : cols > PORT_COLS_MAX ? PORT_COLS_MAX : cols;
    if (width > 0)
        put(buf, cap, n, "  %-*.*s ", cols, cols, d->port);
    else
        put(buf, cap, n, " | %s ", d->port);
    if (!d->connected)
        put(buf, cap, n, "GONE%s", d->last_frame_s >= 0 ? " " : "");
    if (!d->connected && d->last_frame_s >= 0)
        put(buf, cap, n, "%.0f s", now - d->last_frame_s);
    else if (d->connected && d->last_frame_s < 0)
        put(buf, cap, n, "no frame yet");
    else if (d->connected)
        put(buf, cap, n, "%.0f Hz", d->rate_hz);
    const cl_session_counters *c = &d->counters;
    const struct {
        const char *name;
        uint64_t v;
    } kinds[] = {{"checksum", c->checksum_errors}, {"malformed", c->malformed},
                 {"lost", c->lost_frames},         {"overruns", c->overruns}};
    uint64_t total = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        total += kinds[k].v;
    if (!total) {
        put(buf, cap, n, "  no errors");
        return;
    }
    put(buf, cap, n, "  errors:");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (kinds[k].v)
            put(buf, cap, n, " %s %llu", kinds[k].name, (unsigned long long)kinds[k].v);
}

/* "C1     123.4 mmHg" (vacuum) or "C5      2047 counts" (raw), "--" without a
 * value; "SAT" instead of the unit for a reading at an end of the ADC's
 * range. */
static void put_cup(char *buf, size_t cap, size_t *n, const cl_acq_status *st, size_t k,
                    const cl_sensor_profile *const *sensors, size_t nsensors, bool block)
{
    const cl_acq_cup *c = &st->cups[k];
    const cl_acq_device_status *d = &st->devices[c->device];
    const cl_sensor_profile *p = cl_sensor_profile_find(sensors, nsensors, c->sensor_serial);
    double raw = d->last[c->channel];
    bool known = d->connected && d->last_frame_s >= 0 && isfinite(raw);
    const char *unit = p ? cl_unit_name(CL_UNIT_MMHG) : "counts";
    if (known && cl_ident_saturated(raw, cl_ident_adc_max(d->adc_bits)))
        unit = "SAT";
    if (block)
        put(buf, cap, n, "%-5.5s", c->cup_id);
    else
        put(buf, cap, n, " %s ", c->cup_id);
    if (!known)
        put(buf, cap, n, block ? "%7s %-6s" : "%s %s", "--", unit);
    else if (p) {
        double mmhg = cl_unit_from_kpa(-cl_sensor_profile_kpa(p, raw), CL_UNIT_MMHG);
        put(buf, cap, n, block ? "%7.1f %-6s" : "%.1f %s", fabs(mmhg) < 0.05 ? 0.0 : mmhg,
            unit); /* no "-0.0" */
    }
    else
        put(buf, cap, n, block ? "%7.0f %-6s" : "%.0f %s", raw, unit);
}

int acq_status_render(char *buf, size_t cap, const cl_acq_status *st,
                      const cl_sensor_profile *const *sensors, size_t nsensors, double file_mb,
                      int width)
{
    size_t n = 0, start = 0;
    int lines = 1;
    bool block = width > 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    put(buf, cap, &n, "%.1f s  %llu rows", st->elapsed_s, (unsigned long long)st->rows_written);
    if (file_mb >= 0)
        put(buf, cap, &n, "  %.1f MB", file_mb);
    for (size_t i = 0; i < st->ndevices; i++) {
        if (block) {
            end_line(buf, &n, start, width);
            put(buf, cap, &n, "\n");
            start = n;
            lines++;
        }
        put_device(buf, cap, &n, &st->devices[i], st->elapsed_s, width);
    }
    int per_line = block ? (width + 1) / (ACQ_STATUS_CELL + 1) : 0;
    if (block && per_line < 1)
        per_line = 1;
    if (!block && st->ncups)
        put(buf, cap, &n, " |");
    for (size_t k = 0; k < st->ncups; k++) {
        if (block && k % (size_t)per_line == 0) {
            end_line(buf, &n, start, width);
            put(buf, cap, &n, "\n");
            start = n;
            lines++;
        } else if (block) {
            put(buf, cap, &n, " ");
        }
        put_cup(buf, cap, &n, st, k, sensors, nsensors, block);
    }
    end_line(buf, &n, start, width);
    return lines;
}

/* The terminal's size; 0 if it cannot be had. */
static void terminal_size(const acq_status *s, int *cols, int *rows)
{
    struct winsize ws;
    *cols = *rows = 0;
    if (ioctl(fileno(s->to), TIOCGWINSZ, &ws) == 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

/* Give back the rows the block held (the cursor below it). */
static void release(acq_status *s)
{
    if (!s->lines)
        return;
    fprintf(s->to, "\033[r\033[%d;1H\n", s->rows);
    s->lines = 0;
}

/* Keep the bottom `lines` rows of a terminal of `rows` for the block: the
 * rows above scroll as before (typed markers, messages), the block stays. */
static void reserve(acq_status *s, int lines, int rows)
{
    release(s);
    for (int i = 0; i < lines; i++)
        fputc('\n', s->to);
    fprintf(s->to, "\033[%dA\0337\033[1;%dr\0338", lines, rows - lines);
    s->lines = lines;
    s->rows = rows;
}

void acq_status_show(void *ctx, const cl_acq_status *st)
{
    acq_status *s = ctx;
    if (s->verbosity == 0 ||
        (!s->tty && (s->verbosity < 2 || (long)st->elapsed_s % ACQ_STATUS_LOG_S)))
        return;
    struct stat sb;
    char text[4096];
    double mb = stat(s->path, &sb) == 0 ? (double)sb.st_size / 1e6 : -1;
    int cols = 0, rows = 0;
    if (s->tty)
        terminal_size(s, &cols, &rows);
    int width = cols > 0 && cols < ACQ_STATUS_WIDTH ? cols : ACQ_STATUS_WIDTH;
    int lines = acq_status_render(text, sizeof text, st, s->sensors, s->nsensors, mb,
                                  s->tty ? width : 0);
    flockfile(s->to);
    if (!s->tty || rows < lines + ACQ_STATUS_MIN_ROWS) {
        release(s);
        for (char *l = text, *e; l; l = e ? e + 1 : NULL) {
            e = strchr(l, '\n');
            fprintf(s->to, PREFIX "%.*s\n", e ? (int)(e - l) : (int)strlen(l), l);
        }
    } else {
        if (lines != s->lines || rows != s->rows)
            reserve(s, lines, rows);
        fputs("\0337", s->to);
        int row = rows - lines + 1;
        for (char *l = text, *e; l; l = e ? e + 1 : NULL, row++) {
            e = strchr(l, '\n');
            fprintf(s->to, "\033[%d;1H%.*s\033[K", row, e ? (int)(e - l) : (int)strlen(l), l);
        }
        fputs("\0338", s->to);
    }
    fflush(s->to);
    funlockfile(s->to);
}

void acq_status_end(acq_status *s)
{
    flockfile(s->to);
    release(s);
    fflush(s->to);
    funlockfile(s->to);
}
