/*
 * cl_source: the ports and replay sources of the acquisition engine (see
 * cl_source.h).  Each kind is a table of operations; what they share (the
 * device list, the host clock) is in struct cl_source.
 */
#include "engine/cl_source.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cl_log.h"
#include "cl_time.h"
#include "engine/cl_capture.h"
#include "engine/cl_marker.h"
#include "engine/cl_portfind.h"

#define READ_BUF 65536
#define READS_PER_ROUND 64 /* reads of one port per round at most */
#define REOPEN_INTERVAL_S 0.5
/* Light traffic is read in batches: after a round that brought data, the
 * ports source waits until, at the rate that round showed, about
 * BATCH_BYTES more have arrived (at most BATCH_WAIT_MAX_S), so a 1 kHz
 * device costs a few dozen wake-ups a second instead of 1000.  BATCH_BYTES
 * fits the smallest tty buffer (4 kB) with room to spare; above
 * BATCH_MAX_RATE bytes/s the ports are read without pause.  Host timestamps
 * are per read either way. */
#define BATCH_BYTES 2500.0
#define BATCH_MAX_RATE 100000.0
#define BATCH_WAIT_MAX_S 0.025

typedef struct source_ops {
    const char *what;
    const char *start_text;
    bool realtime;
    int (*open)(cl_source *s, const cl_acq_config *cfg, cl_error *err);
    int (*read)(cl_source *s, int wake_fd, int timeout_ms, const cl_source_sink *k,
                cl_source_state *state, cl_error *err);
    bool (*connected)(const cl_source *s, size_t i);
    void (*close)(cl_source *s);
} source_ops;

struct cl_source {
    const source_ops *ops;
    size_t n;
    cl_acq_port *ports;  /* the devices' configuration (copies) */
    cl_port_info *info;
    double t0, now;      /* monotonic start; host time of the latest read */
    /* ports */
    cl_port **port;      /* NULL while a port is gone */
    cl_portfind_sel *sel; /* what each port's name selects */
    char (*path)[256];   /* the path each was opened at (last) */
    double *next_reopen;
    bool reconnect;
    const char *const *search; /* where else to look for device= ports */
    size_t nsearch;
    double probe_timeout_s;
    cl_portfind *finder; /* looking for device= ports that are gone */
    bool *wanted;        /* ... this one among them */
    cl_portfind_read *held; /* what device= ports sent before the first round */
    uint8_t *buf;
    size_t round_bytes;  /* bytes the last round brought */
    double round_end;    /* host time the last round ended */
    /* replay */
    cl_capture_reader *replay;
};

/* ------------------------------------------------------------------ ports */

/* True if ports i and j are opened with the same settings. */
static bool same_settings(const cl_acq_port *a, const cl_acq_port *b)
{
    return a->baud == b->baud && a->protocol == b->protocol &&
           a->text_timestamp == b->text_timestamp;
}

/* Give the sink what was read from device i before, and forget it. */
static void hand_on(const cl_source_sink *k, size_t i, cl_portfind_read *r)
{
    for (size_t c = 0, from = 0; c < r->nchunks; from = r->end[c++])
        k->bytes(k->ctx, i, r->bytes + from, r->end[c] - from, r->t[c]);
    cl_portfind_read_free(r);
}

/* Port i, found: kept open with what the finder read from it. */
static void found(cl_source *s, size_t i, cl_port *p, const cl_portfind_read *r)
{
    s->port[i] = p;
    snprintf(s->path[i], sizeof s->path[i], "%s", cl_port_get_info(p)->name);
    s->held[i] = *r;
}

/* Read on the ports found so far (so no buffer overflows while the others
 * are looked for); their poll entries go to pfd. */
static int found_read(cl_source *s, double now, struct pollfd *pfd, size_t *npfd,
                      cl_error *err)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!s->port[i] || s->sel[i].kind != CL_PORTFIND_DEVICE)
            continue;
        ssize_t n;
        while ((n = cl_port_read(s->port[i], s->buf, READ_BUF, err)) > 0)
            if (cl_portfind_read_add(&s->held[i], s->buf, (size_t)n, now) != CL_OK)
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        if (n < 0)
            return (int)n;
        pfd[(*npfd)++] = (struct pollfd){cl_port_fd(s->port[i]), POLLIN, 0};
    }
    return CL_OK;
}

/* Before the recording: every device= port, one finder for all that share
 * their settings, so each candidate is opened once.  A port found stays
 * open (a second open would reset an Arduino again, and what it sent before
 * the reset could cut a frame); what it said while it was probed, its
 * identity first, is handed on in the first round. */
static int find_devices(cl_source *s, cl_error *err)
{
    for (size_t first = 0; first < s->n; first++) {
        if (s->sel[first].kind != CL_PORTFIND_DEVICE || s->path[first][0])
            continue;
        cl_portfind *f;
        int rc = cl_portfind_create(&f, &s->ports[first], s->search, s->nsearch,
                                    s->probe_timeout_s, err);
        for (size_t j = first; rc == CL_OK && j < s->n; j++)
            if (s->sel[j].kind == CL_PORTFIND_DEVICE && !s->path[j][0] &&
                same_settings(&s->ports[first], &s->ports[j]))
                rc = cl_portfind_want(f, j, s->sel[j].value, err);
        double now = cl_time_mono_s() - s->t0;
        while (rc == CL_OK && cl_portfind_wanted(f)) {
            size_t i, n = 0;
            while (cl_portfind_step(f, now, NULL, 0, &i)) {
                cl_portfind_read r;
                cl_port *p = cl_portfind_take(f, i, &r);
                found(s, i, p, &r);
            }
            struct pollfd pfd[2 * CL_SOURCE_MAX_DEVICES];
            if (!cl_portfind_wanted(f) ||
                (rc = found_read(s, now, pfd, &n, err)) != CL_OK)
                break;
            if (now > s->probe_timeout_s) {
                for (i = first; s->path[i][0] || s->sel[i].kind != CL_PORTFIND_DEVICE; i++)
                    ;
                rc = cl_portfind_not_found(f, s->ports[i].name, err);
                break;
            }
            n += cl_portfind_pollfds(f, pfd + n, CL_SOURCE_MAX_DEVICES);
            poll(pfd, n, 50);
            now = cl_time_mono_s() - s->t0;
        }
        cl_portfind_destroy(f);
        if (rc != CL_OK)
            return rc;
    }
    return CL_OK;
}

static int ports_open(cl_source *s, const cl_acq_config *cfg, cl_error *err)
{
    s->n = cfg->nports;
    s->reconnect = cfg->reconnect;
    s->search = cfg->search;
    s->nsearch = cfg->nsearch;
    s->probe_timeout_s = cfg->probe_timeout_s > 0 ? cfg->probe_timeout_s : CL_SOURCE_PROBE_S;
    size_t m = s->n ? s->n : 1;
    s->ports = calloc(m, sizeof *s->ports);
    s->info = calloc(m, sizeof *s->info);
    s->port = calloc(m, sizeof *s->port);
    s->sel = calloc(m, sizeof *s->sel);
    s->path = calloc(m, sizeof *s->path);
    s->wanted = calloc(m, sizeof *s->wanted);
    s->next_reopen = calloc(m, sizeof *s->next_reopen);
    s->held = calloc(m, sizeof *s->held);
    s->buf = malloc(READ_BUF);
    s->t0 = cl_time_mono_s(); /* host time 0: the ports are opened */
    if (!s->ports || !s->info || !s->port || !s->sel || !s->path || !s->wanted ||
        !s->next_reopen || !s->held || !s->buf)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    if (s->n == 0 || s->n > CL_SOURCE_MAX_DEVICES)
        return CL_OK; /* refused by cl_source_open */
    int rc;
    for (size_t i = 0; i < s->n; i++) {
        s->ports[i] = cfg->ports[i];
        if ((rc = cl_portfind_parse(s->ports[i].name, &s->sel[i], err)) != CL_OK)
            return rc;
        if (s->sel[i].kind != CL_PORTFIND_DEVICE &&
            (rc = cl_portfind_path(&s->ports[i], NULL, 0, 0, s->path[i], sizeof s->path[i],
                                   err)) != CL_OK)
            return rc;
    }
    if ((rc = find_devices(s, err)) != CL_OK)
        return rc;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->path[j], s->path[i]) == 0)
                return cl_error_set(err, CL_ERR_ARG, "%s: port given twice", s->path[i]);
        if (!s->port[i] &&
            (rc = cl_port_open(&s->port[i], s->path[i], s->ports[i].baud, err)) != CL_OK)
            return rc;
        s->info[i] = *cl_port_get_info(s->port[i]);
    }
    return CL_OK;
}

static void ports_close(cl_source *s)
{
    for (size_t i = 0; s->port && i < s->n; i++)
        cl_port_close(s->port[i]);
    for (size_t i = 0; s->held && i < s->n; i++)
        cl_portfind_read_free(&s->held[i]);
    free(s->held);
    cl_portfind_destroy(s->finder);
    free(s->port);
    free(s->sel);
    free(s->path);
    free(s->wanted);
    free(s->next_reopen);
    free(s->buf);
}

static bool ports_connected(const cl_source *s, size_t i)
{
    return s->port[i] != NULL;
}

/* Port i is open again at `p`: tell the engine. */
static void adopt(cl_source *s, size_t i, cl_port *p, double when, const cl_source_sink *k)
{
    s->port[i] = p;
    s->info[i] = *cl_port_get_info(p);
    snprintf(s->path[i], sizeof s->path[i], "%s", s->info[i].name);
    k->back(k->ctx, i, when);
}

/* A gone port named by a path or a USB selector: open it again (at the
 * path the selector names now). */
static void ports_reopen(cl_source *s, size_t i, const cl_source_sink *k)
{
    cl_error e;
    char path[sizeof *s->path];
    cl_port *p;
    if (s->now < s->next_reopen[i])
        return;
    s->next_reopen[i] = s->now + REOPEN_INTERVAL_S;
    if (cl_portfind_path(&s->ports[i], NULL, 0, 0, path, sizeof path, &e) != CL_OK ||
        cl_port_open(&p, path, s->ports[i].baud, &e) != CL_OK) {
        cl_log(CL_LOG_DEBUG, "reopen: %s", e.msg);
        return;
    }
    adopt(s, i, p, s->now, k);
}

/* Gone device= ports: one finder looks for all that share the first one's
 * settings (the others wait their turn); what a found device sent while it
 * was probed is handed on with the times it was read at. */
static void ports_find(cl_source *s, const cl_source_sink *k)
{
    cl_error e;
    for (size_t i = 0; i < s->n; i++) {
        if (s->port[i] || s->wanted[i] || s->sel[i].kind != CL_PORTFIND_DEVICE)
            continue;
        if (!s->finder && cl_portfind_create(&s->finder, &s->ports[i], s->search, s->nsearch,
                                             s->probe_timeout_s, &e) != CL_OK)
            return;
        if (same_settings(&s->ports[i], cl_portfind_port(s->finder)) &&
            cl_portfind_want(s->finder, i, s->sel[i].value, &e) == CL_OK)
            s->wanted[i] = true;
    }
    if (!s->finder)
        return;
    dev_t skip[CL_SOURCE_MAX_DEVICES];
    size_t nskip = 0, i;
    struct stat st;
    for (size_t j = 0; j < s->n; j++)
        if (s->port[j] && fstat(cl_port_fd(s->port[j]), &st) == 0)
            skip[nskip++] = st.st_rdev;
    while (cl_portfind_step(s->finder, s->now, skip, nskip, &i)) {
        cl_portfind_read r;
        cl_port *p = cl_portfind_take(s->finder, i, &r);
        s->wanted[i] = false;
        adopt(s, i, p, r.nchunks ? r.t[0] : s->now, k);
        hand_on(k, i, &r);
        if (fstat(cl_port_fd(p), &st) == 0 && nskip < CL_SOURCE_MAX_DEVICES)
            skip[nskip++] = st.st_rdev;
    }
    if (!cl_portfind_wanted(s->finder)) {
        cl_portfind_destroy(s->finder);
        s->finder = NULL;
    }
}

/* Read everything waiting on port i.  Returns CL_ERR_GONE when the device
 * vanished (the port is then closed). */
static int ports_drain(cl_source *s, size_t i, const cl_source_sink *k)
{
    cl_error e;
    for (int r = 0; r < READS_PER_ROUND; r++) {
        ssize_t n = cl_port_read(s->port[i], s->buf, READ_BUF, &e);
        if (n < 0) {
            cl_port_close(s->port[i]);
            s->port[i] = NULL;
            return (int)n;
        }
        if (n == 0)
            break;
        s->round_bytes += (size_t)n;
        k->bytes(k->ctx, i, s->buf, (size_t)n, s->now);
        if (n < READ_BUF)
            break;
    }
    return CL_OK;
}

/* Wait before the next round while traffic is light (see BATCH_BYTES).  A
 * round that brought clearly more than the batch means the rate rose or a
 * buffer filled: read on at once. */
static void ports_batch_wait(cl_source *s)
{
    double span = s->now - s->round_end;
    s->round_end = s->now;
    if (s->round_bytes == 0 || s->round_bytes > 1.5 * BATCH_BYTES)
        return;
    double rate = (double)s->round_bytes / fmax(span, 1e-4);
    if (rate < BATCH_MAX_RATE)
        cl_time_sleep_s(fmin(BATCH_BYTES / rate, BATCH_WAIT_MAX_S));
}

static int ports_read(cl_source *s, int wake_fd, int timeout_ms, const cl_source_sink *k,
                      cl_source_state *state, cl_error *err)
{
    struct pollfd pfd[2 * CL_SOURCE_MAX_DEVICES + 1];
    size_t owner[CL_SOURCE_MAX_DEVICES];
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++) {
        hand_on(k, i, &s->held[i]);
    }
    if (s->reconnect)
        ports_find(s, k);
    for (size_t i = 0; i < s->n; i++) {
        if (!s->port[i] && s->reconnect && s->sel[i].kind != CL_PORTFIND_DEVICE)
            ports_reopen(s, i, k);
        if (s->port[i]) {
            pfd[n] = (struct pollfd){cl_port_fd(s->port[i]), POLLIN, 0};
            owner[n++] = i;
        }
    }
    *state = CL_SOURCE_MORE;
    if (n == 0 && !s->reconnect) {
        *state = CL_SOURCE_ALL_GONE;
        return CL_OK;
    }
    size_t nports = n;
    if (wake_fd >= 0)
        pfd[n++] = (struct pollfd){wake_fd, POLLIN, 0};
    if (s->finder) /* read in the next round */
        n += cl_portfind_pollfds(s->finder, pfd + n, CL_SOURCE_MAX_DEVICES);
    s->round_bytes = 0;
    if (poll(pfd, n, timeout_ms) < 0) {
        if (errno == EINTR)
            return CL_OK;
        return cl_error_set(err, cl_error_from_errno(errno), "poll failed: %s", strerror(errno));
    }
    s->now = cl_time_mono_s() - s->t0;
    for (size_t j = 0; j < nports; j++) {
        if (!(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        size_t i = owner[j];
        if (ports_drain(s, i, k) == CL_ERR_GONE) {
            s->next_reopen[i] = s->now + REOPEN_INTERVAL_S;
            k->gone(k->ctx, i, s->now);
        }
    }
    ports_batch_wait(s);
    return CL_OK;
}

static const source_ops ports_ops = {
    .what = "ports",
    .start_text = "recording started",
    .realtime = true,
    .open = ports_open,
    .read = ports_read,
    .connected = ports_connected,
    .close = ports_close,
};

/* ----------------------------------------------------------------- replay */

static int replay_open(cl_source *s, const cl_acq_config *cfg, cl_error *err)
{
    int rc = cl_capture_open(&s->replay, cfg->replay_path, err);
    if (rc != CL_OK)
        return rc;
    s->n = cl_capture_port_count(s->replay);
    s->ports = calloc(s->n ? s->n : 1, sizeof *s->ports);
    s->info = calloc(s->n ? s->n : 1, sizeof *s->info);
    if (!s->ports || !s->info)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
        const cl_capture_port *cp = cl_capture_port_get(s->replay, i);
        s->ports[i] = (cl_acq_port){cp->name, cp->baud, cp->protocol, cp->text_timestamp};
        snprintf(s->info[i].name, sizeof s->info[i].name, "%s", cp->name);
        snprintf(s->info[i].description, sizeof s->info[i].description, "replayed from %s",
                 cfg->replay_path);
        s->info[i].usb_vendor_id = s->info[i].usb_product_id = -1;
    }
    return CL_OK;
}

static void replay_close(cl_source *s)
{
    cl_capture_reader_close(s->replay);
}

static bool replay_connected(const cl_source *s, size_t i)
{
    (void)s;
    (void)i;
    return true;
}

/* The next capture record, as if it had just been read. */
static int replay_read(cl_source *s, int wake_fd, int timeout_ms, const cl_source_sink *k,
                       cl_source_state *state, cl_error *err)
{
    (void)wake_fd;
    (void)timeout_ms;
    uint16_t port;
    const uint8_t *bytes;
    size_t len;
    int rc = cl_capture_next(s->replay, &port, &s->now, &bytes, &len, err);
    *state = rc == 0 ? CL_SOURCE_END : CL_SOURCE_MORE;
    if (rc <= 0)
        return rc;
    if (port == CL_CAPTURE_MARKER) {
        char line[CL_MARKER_LINE_MAX + 1];
        snprintf(line, sizeof line, "%.*s", (int)len, (const char *)bytes);
        k->marker(k->ctx, line, s->now);
    } else if (port < s->n) {
        k->bytes(k->ctx, port, bytes, len, s->now);
    }
    return CL_OK;
}

static const source_ops replay_ops = {
    .what = "capture",
    .start_text = "replay started",
    .realtime = false,
    .open = replay_open,
    .read = replay_read,
    .connected = replay_connected,
    .close = replay_close,
};

/* ----------------------------------------------------------------- common */

int cl_source_open(cl_source **out, const cl_acq_config *cfg, cl_error *err)
{
    *out = NULL;
    cl_source *s = calloc(1, sizeof *s);
    if (!s)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    s->ops = cfg->replay_path ? &replay_ops : &ports_ops;
    int rc = s->ops->open(s, cfg, err);
    if (rc == CL_OK && (s->n == 0 || s->n > CL_SOURCE_MAX_DEVICES))
        rc = cl_error_set(err, CL_ERR_ARG, "need between 1 and %d ports, got %zu",
                          CL_SOURCE_MAX_DEVICES, s->n);
    if (rc != CL_OK) {
        cl_source_close(s);
        return rc;
    }
    *out = s;
    return CL_OK;
}

void cl_source_close(cl_source *s)
{
    if (!s)
        return;
    s->ops->close(s);
    free(s->ports);
    free(s->info);
    free(s);
}

size_t cl_source_count(const cl_source *s)
{
    return s->n;
}

const cl_acq_port *cl_source_port(const cl_source *s, size_t i)
{
    return &s->ports[i];
}

const cl_port_info *cl_source_info(const cl_source *s, size_t i)
{
    return &s->info[i];
}

bool cl_source_connected(const cl_source *s, size_t i)
{
    return s->ops->connected(s, i);
}

bool cl_source_realtime(const cl_source *s)
{
    return s->ops->realtime;
}

const char *cl_source_what(const cl_source *s)
{
    return s->ops->what;
}

const char *cl_source_start_text(const cl_source *s)
{
    return s->ops->start_text;
}

void cl_source_start(cl_source *s)
{
    if (!s->t0) /* ports: their opening is time 0 */
        s->t0 = cl_time_mono_s();
    s->now = s->round_end = 0;
}

double cl_source_now(const cl_source *s)
{
    return s->now;
}

int cl_source_read(cl_source *s, int wake_fd, int timeout_ms, const cl_source_sink *sink,
                   cl_source_state *state, cl_error *err)
{
    return s->ops->read(s, wake_fd, timeout_ms, sink, state, err);
}
