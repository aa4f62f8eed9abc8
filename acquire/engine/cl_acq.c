/*
 * cl_acq: reader loop, ring hand-off and writer thread.
 *
 * Threads: the caller's thread is the only producer (it polls the ports,
 * decodes and pushes records); the writer thread is the only consumer (it
 * owns the session handle once recording has started).  They share the ring,
 * two atomic flags (reader done, writer failed) and the writer's error
 * record, read by the reader only after the writer has been joined.
 */
#include "engine/cl_acq.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/cl_capture.h"
#include "engine/cl_clock.h"
#include "cl_ident.h"
#include "cl_log.h"
#include "engine/cl_marker.h"
#include "cl_output.h"
#include "cl_time.h"
#include "cl_units.h"
#include "engine/cl_ring.h"
#include "engine/cl_acqfile.h"
#include "engine/cl_source.h"

#define DEFAULT_RING 131072
#define DEFAULT_FLUSH_S 0.5
#define STAGE_ROWS 1024 /* rows per device buffered before an append */
#define POP_BATCH 1024
/* The writer sleeps until the next flush once it has emptied the ring; the
 * reader wakes it early when a ring is a quarter full. */
#define WRITER_NAP_MIN_S 0.001
#define RAW_CHUNK 4080  /* bytes per raw-capture record in the ring */
#define RAW_RING 2048   /* raw-capture records in flight (8 MB) */
/* Marker input: read in pieces of INPUT_READ bytes, at most
 * INPUT_ROUND_BYTES per poll round; at the stop, what is still waiting is
 * read for at most INPUT_DRAIN_S. */
#define INPUT_READ 4096
#define INPUT_ROUND_BYTES 65536
#define INPUT_DRAIN_S 2.0
_Static_assert(CL_MARKER_LINE_MAX <= RAW_CHUNK, "a marker line is one capture record");

enum rec_type { REC_FRAME = 1, REC_EVENT = 2, REC_COUNTERS = 3, REC_CLOCK = 4 };

/* One record in the ring. */
typedef struct rec {
    uint8_t type;
    uint16_t dev;
    double host_time;
    union {
        cl_wire_frame frame;
        struct {
            int32_t cup;
            int kind;
            char text[CL_SESSION_EVENT_TEXT];
        } ev;
        cl_session_counters counters;
        cl_session_clock clock;
    } u;
} rec;

/* A piece of a port's byte stream on its way to the raw capture. */
typedef struct raw_rec {
    uint16_t port, len;
    double host_time;
    uint8_t data[RAW_CHUNK];
} raw_rec;

/* Reader-side state of one port. */
typedef struct dev {
    size_t index;
    const cl_acq_port *cfg;
    cl_wire_decoder *dec;
    uint16_t channels;      /* 0 until the first frame */
    char *announcement;     /* "key: value" lines seen before recording, "\n" between */
    size_t ann_len;
    rec *probe;             /* frames kept before the file existed */
    size_t nprobe, cap_probe;
    uint64_t reconnects, overruns, mismatched, pending_overrun;
    uint64_t frames_at_status;
    double last[CL_WIRE_MAX_CHANNELS];
    double last_frame;      /* host time of the last frame; -1: none */
    double last_device_time; /* of the last frame, device units; NaN: none */
    int adc_bits;           /* as announced; 0 unknown */
    cl_clock *clock;        /* device vs host clock, from the recording's start */
} dev;

/* Writer-side staging of one device's rows. */
typedef struct stage {
    uint16_t channels;
    size_t n;
    double *samples, *dtime, *htime;
    uint32_t *seq;
    uint64_t stored;        /* rows appended to the session */
} stage;

typedef struct acq {
    const cl_acq_config *cfg;
    cl_source *source;         /* the ports, or a capture replayed */
    dev *devs;
    size_t ndev;
    double now;                /* host time of the current read (s since the start) */
    bool recording;            /* session exists, frames go to the ring */
    bool ending;               /* reading is over: pushes wait for room (see push) */
    cl_ring *ring;
    cl_session *session;
    pthread_t writer;
    bool writer_running;
    pthread_mutex_t wake_mu;   /* with wake_cv and wake_now: ends the writer's nap */
    pthread_cond_t wake_cv;
    bool wake_init, wake_now;
    atomic_bool napping;       /* the writer is asleep */
    atomic_bool reader_done;
    atomic_bool writer_failed;
    bool writer_gone;          /* the failed writer was joined: records go to the session
                                  directly (see deliver) */
    bool stop_written;         /* the writer stored the stop event */
    atomic_uint_least64_t rows_written;
    size_t rec_size;           /* bytes of a rec the ring carries (see shrink_ring) */
    cl_error werr;
    stage *stages;
    double flush_s;
    cl_acqfile_cups cups;       /* the cup table, for marker commands and the live status */
    cl_capture *capture;       /* raw byte capture (--raw), written by the writer */
    cl_ring *raw_ring;
    uint64_t raw_lost;         /* bytes the capture missed (its ring was full) */
    cl_acq_input *input;       /* marker input (fd -1 once it has ended) */
    double next_live;          /* host time the live view is next published */
    cl_marker_lines *lines;    /* its unfinished line */
} acq;

/* ------------------------------------------------------------ reader side */

/* The device's counters.  `frames` counts the frames handed to the writer
 * (decoded, of the device's channel count, not dropped as overruns): all of
 * them are rows once the writer has caught up. */
static void counters_of(const acq *a, const dev *d, cl_session_counters *c)
{
    const cl_wire_stats *ws = cl_wire_decoder_stats(d->dec);
    c->bytes = ws->bytes;
    c->frames = ws->frames - d->mismatched - d->overruns;
    if (a->writer_gone) /* what it had not stored is lost */
        c->frames = a->stages[d->index].stored;
    c->malformed = ws->malformed + d->mismatched;
    c->checksum_errors = ws->checksum_errors;
    c->seq_gaps = ws->seq_gaps;
    c->lost_frames = ws->lost_frames;
    c->skipped_bytes = ws->skipped_bytes;
    c->reconnects = d->reconnects;
    c->overruns = d->overruns;
}

/* Wake the sleeping writer once ring r is a quarter full. */
static void wake_writer(acq *a, const cl_ring *r)
{
    if (!atomic_load_explicit(&a->napping, memory_order_relaxed) ||
        cl_ring_used(r) * 4 < cl_ring_capacity(r))
        return;
    pthread_mutex_lock(&a->wake_mu);
    a->wake_now = true;
    pthread_cond_signal(&a->wake_cv);
    pthread_mutex_unlock(&a->wake_mu);
}

/* Hand a record to the writer.  From a real-time source a full ring refuses
 * it (the reader must never wait); from a replay nothing is lost by waiting,
 * and once reading is over (the final records) nothing more arrives, so wait
 * instead. */
static bool push(acq *a, const rec *r)
{
    while (!cl_ring_push(a->ring, r)) {
        if (!(!cl_source_realtime(a->source) || a->ending) || !a->recording ||
            atomic_load(&a->writer_failed))
            return false;
        usleep(200);
    }
    wake_writer(a, a->ring);
    return true;
}

static int consume(acq *a, const rec *r);

/* Hand a record to the writer, or once a failed writer has been joined,
 * write it to the session directly. */
static bool deliver(acq *a, const rec *r)
{
    bool ok = a->writer_gone ? consume(a, r) == CL_OK : push(a, r);
    const cl_acq_live *lv = a->cfg->live;
    if (ok && r->type == REC_EVENT && lv && lv->event) {
        cl_session_event ev = {r->host_time, r->u.ev.cup, r->u.ev.kind, r->u.ev.text};
        lv->event(lv->ctx, &ev);
    }
    return ok;
}

/* Queue bytes for the raw capture, in ring-record pieces. */
static void capture_bytes(acq *a, uint16_t port, const uint8_t *buf, size_t n)
{
    raw_rec r;
    if (!a->raw_ring)
        return;
    r.port = port;
    r.host_time = a->now;
    for (size_t off = 0; off < n; off += RAW_CHUNK) {
        r.len = (uint16_t)(n - off < RAW_CHUNK ? n - off : RAW_CHUNK);
        memcpy(r.data, buf + off, r.len);
        if (!cl_ring_push(a->raw_ring, &r)) {
            if (a->raw_lost == 0)
                cl_log(CL_LOG_WARN, "raw capture falling behind: bytes missing from it");
            a->raw_lost += r.len;
        }
    }
    wake_writer(a, a->raw_ring);
}

static void make_event(acq *a, rec *r, size_t devi, int32_t cup, cl_event_kind kind,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void make_event(acq *a, rec *r, size_t devi, int32_t cup, cl_event_kind kind,
                       const char *fmt, ...)
{
    va_list ap;
    memset(r, 0, sizeof *r);
    r->type = REC_EVENT;
    r->dev = (uint16_t)devi;
    r->host_time = a->now;
    r->u.ev.cup = cup;
    r->u.ev.kind = kind;
    va_start(ap, fmt);
    vsnprintf(r->u.ev.text, sizeof r->u.ev.text, fmt, ap);
    va_end(ap);
}

/* Queue an event; events are rare, so a full ring is retried briefly before
 * the event is given up (and logged). */
static void push_event(acq *a, size_t devi, int32_t cup, cl_event_kind kind, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));
static void push_event(acq *a, size_t devi, int32_t cup, cl_event_kind kind, const char *fmt,
                       ...)
{
    rec r;
    char text[CL_SESSION_EVENT_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    make_event(a, &r, devi, cup, kind, "%s", text);
    for (int i = 0; i < 100; i++) {
        if (deliver(a, &r))
            return;
        if (atomic_load(&a->writer_failed))
            break;
        usleep(1000);
    }
    if (!atomic_load(&a->writer_failed)) /* else the write error is what is reported */
        cl_log(CL_LOG_WARN, "event lost, ring buffer full: %s", r.u.ev.text);
}

/* A frame of device d the ring had no room for: counted, and owed an event. */
static void drop_frame(dev *d)
{
    d->overruns++;
    d->pending_overrun++;
}

/* Record the frames device d dropped since its last overrun event.  Tried
 * once (the reader must not wait): if the ring refuses the event, the frames
 * stay owed and the next try (after the next frame that gets through, or at
 * the end) covers them too, so the events always add up to `overruns`. */
static void push_overruns(acq *a, dev *d)
{
    rec r;
    if (d->pending_overrun == 0)
        return;
    make_event(a, &r, d->index, -1, CL_EVENT_OVERRUN, "%s: %llu frames dropped, ring buffer full",
               d->cfg->name, (unsigned long long)d->pending_overrun);
    if (deliver(a, &r))
        d->pending_overrun = 0;
}

static void push_counters(acq *a)
{
    for (size_t i = 0; i < a->ndev; i++) {
        rec r;
        memset(&r, 0, sizeof r);
        r.type = REC_COUNTERS;
        r.dev = (uint16_t)i;
        r.host_time = a->now;
        counters_of(a, &a->devs[i], &r.u.counters);
        (void)deliver(a, &r); /* a later snapshot will follow if this one is lost */
        cl_clock_fit fit;
        if (a->devs[i].clock && cl_clock_estimate(a->devs[i].clock, &fit, NULL) == CL_OK) {
            r.type = REC_CLOCK;
            r.u.clock = (cl_session_clock){fit.offset_s,    fit.slope,    fit.drift_ppm,
                                           fit.offset_se_s, fit.slope_se, fit.residual_sd_s,
                                           (double)fit.points, fit.ref_device_s};
            (void)deliver(a, &r);
        }
    }
}

/* The last records of a recording: the overrun events still owed, the stop
 * event and the final counters. */
static void push_final(acq *a, cl_event_kind kind, const char *why)
{
    for (size_t i = 0; i < a->ndev; i++)
        push_overruns(a, &a->devs[i]);
    push_event(a, 0, -1, kind, "%s", why);
    push_counters(a);
}

static void append_announcement(dev *d, const char *key, const char *value)
{
    size_t add = strlen(key) + strlen(value) + 3;
    char *p = realloc(d->announcement, d->ann_len + add + 1);
    if (!p)
        return;
    d->announcement = p;
    /* lines joined with "\n", none after the last */
    d->ann_len += (size_t)snprintf(p + d->ann_len, add + 1, "%s%s: %s", d->ann_len ? "\n" : "",
                                   key, value);
}

typedef struct sink_ctx {
    acq *a;
    dev *d;
} sink_ctx;

static void on_item(void *ctx, const cl_wire_item *it)
{
    sink_ctx *sc = ctx;
    acq *a = sc->a;
    dev *d = sc->d;

    switch (it->kind) {
    case CL_WIRE_ITEM_FRAME: {
        const cl_wire_frame *f = it->frame;
        rec r;
        if (d->channels == 0)
            d->channels = f->n;
        if (f->n != d->channels) {
            d->mismatched++;
            return;
        }
        memcpy(d->last, f->v, sizeof(double) * f->n);
        d->last_frame = a->now;
        if (f->device_time < d->last_device_time) {
            /* The device restarted (reset button, watchdog, brown-out)
             * without leaving the port: its clock starts again. */
            if (d->clock)
                cl_clock_reset(d->clock);
            if (a->recording)
                push_event(a, d->index, -1, CL_EVENT_DEVICE,
                           "%s: device clock went back from %.17g to %.17g: device restarted",
                           d->cfg->name, d->last_device_time, f->device_time);
        }
        d->last_device_time = f->device_time;
        if (d->clock)
            cl_clock_add(d->clock, f->device_time, a->now);
        r.type = REC_FRAME;
        r.dev = (uint16_t)d->index;
        r.host_time = a->now;
        r.u.frame = *f;
        if (!a->recording) {
            if (d->nprobe == d->cap_probe) {
                size_t cap = d->cap_probe ? d->cap_probe * 2 : 256;
                rec *p = realloc(d->probe, cap * sizeof *p);
                if (!p) {
                    drop_frame(d);
                    return;
                }
                d->probe = p;
                d->cap_probe = cap;
            }
            d->probe[d->nprobe++] = r;
            return;
        }
        if (!push(a, &r)) {
            drop_frame(d);
            return;
        }
        push_overruns(a, d);
        break;
    }
    case CL_WIRE_ITEM_META:
        if (!a->recording)
            append_announcement(d, it->key, it->value);
        else
            push_event(a, d->index, -1, CL_EVENT_DEVICE, "%s: %s", it->key, it->value);
        break;
    case CL_WIRE_ITEM_GAP:
        if (a->recording && it->gap_lost == 0) /* the sequence went back */
            push_event(a, d->index, -1, CL_EVENT_GAP, "%s: sequence restarted after %lu",
                       d->cfg->name, (unsigned long)it->gap_after);
        else if (a->recording)
            push_event(a, d->index, -1, CL_EVENT_GAP, "%s: %lu frames missing after sequence %lu",
                       d->cfg->name, (unsigned long)it->gap_lost, (unsigned long)it->gap_after);
        break;
    }
}

/* ------------------------------------------------------ the source's sink */

static void on_bytes(void *ctx, size_t devi, const uint8_t *buf, size_t n, double now)
{
    acq *a = ctx;
    sink_ctx sc = {a, &a->devs[devi]};
    a->now = now;
    capture_bytes(a, (uint16_t)devi, buf, n);
    cl_wire_decode(a->devs[devi].dec, buf, n, on_item, &sc);
}

static void on_gone(void *ctx, size_t devi, double now)
{
    acq *a = ctx;
    dev *d = &a->devs[devi];
    a->now = now;
    cl_wire_decoder_resync(d->dec);
    if (a->recording)
        push_event(a, d->index, -1, CL_EVENT_DISCONNECT, "%s: device disconnected", d->cfg->name);
    cl_log(CL_LOG_WARN, "%s: device disconnected", d->cfg->name);
}

static void on_back(void *ctx, size_t devi, double now)
{
    acq *a = ctx;
    dev *d = &a->devs[devi];
    a->now = now;
    d->reconnects++;
    if (d->clock) /* the device may have restarted its clock */
        cl_clock_reset(d->clock);
    d->last_device_time = NAN;
    const char *path = cl_source_info(a->source, devi)->name;
    bool moved = strcmp(path, d->cfg->name) != 0; /* a selector found it */
    push_event(a, d->index, -1, CL_EVENT_RECONNECT, "%s: reconnected%s%s", d->cfg->name,
               moved ? " on " : "", moved ? path : "");
    cl_log(CL_LOG_INFO, "%s: reconnected%s%s", d->cfg->name, moved ? " on " : "",
           moved ? path : "");
}

static void marker_line(acq *a, cl_acq_input *in, const char *l);

/* A typed marker the capture kept: an event like the one it was. */
static void on_marker(void *ctx, const char *line, double now)
{
    acq *a = ctx;
    a->now = now;
    if (a->recording)
        marker_line(a, NULL, line);
}

/* One typed marker command: an event (and a line in the raw capture), or
 * feedback saying why it was ignored. */
static void marker_line(acq *a, cl_acq_input *in, const char *l)
{
    cl_session_event ev;
    char text[CL_SESSION_EVENT_TEXT];
    cl_error e;
    bool cut;
    if (cl_marker_parse(l, (const char *const *)a->cups.ids, a->cups.n, &ev, text, sizeof text,
                        &cut, &e) != CL_OK) {
        if (in && in->feedback)
            in->feedback(in->ctx, l, false, e.msg);
        return;
    }
    push_event(a, 0, ev.cup, ev.kind, "%s", ev.text);
    capture_bytes(a, CL_CAPTURE_MARKER, (const uint8_t *)l, strlen(l));
    char why[64];
    snprintf(why, sizeof why, "comment truncated to %d bytes", CL_SESSION_EVENT_TEXT - 1);
    if (in && in->feedback)
        in->feedback(in->ctx, l, true, cut ? why : NULL);
}

static void on_input_line(void *ctx, const char *l)
{
    acq *a = ctx;
    marker_line(a, a->input, l);
}

/* Read what is waiting on the marker input (as many pieces as are there,
 * up to INPUT_ROUND_BYTES); the lines it completes become markers.  At the
 * end of the input an unfinished last line counts too and the input is no
 * longer polled.  Returns true when it stopped at INPUT_ROUND_BYTES. */
static bool read_input(acq *a)
{
    cl_acq_input *in = a->input;
    char buf[INPUT_READ];
    size_t got = 0;
    while (in->fd >= 0) {
        if (got >= INPUT_ROUND_BYTES)
            return true; /* more may be waiting */
        struct pollfd p = {in->fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
            return false;
        ssize_t r = read(in->fd, buf, sizeof buf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            return false;
        if (r <= 0) {
            cl_marker_lines_end(a->lines, on_input_line, a);
            in->fd = -1; /* end of input: stop listening */
            return false;
        }
        cl_marker_lines_feed(a->lines, buf, (size_t)r, on_input_line, a);
        got += (size_t)r;
    }
    return false;
}

/* At the stop: lines already waiting on the marker input belong to this
 * recording (a fast typist, a pipe); read them before the file closes. */
static void drain_input(acq *a)
{
    double end = cl_time_mono_s() + INPUT_DRAIN_S;
    while (a->input && a->input->fd >= 0 && read_input(a) && cl_time_mono_s() < end)
        ;
}

/* One round of the source (and of the marker input, once recording). */
static int read_round(acq *a, int timeout_ms, cl_source_state *state, cl_error *err)
{
    cl_source_sink sink = {on_bytes, on_marker, on_gone, on_back, a};
    int wake_fd = a->recording && a->input->fd >= 0 ? a->input->fd : -1;
    int rc = cl_source_read(a->source, wake_fd, timeout_ms, &sink, state, err);
    a->now = cl_source_now(a->source);
    if (rc == CL_OK && wake_fd >= 0)
        read_input(a);
    return rc;
}

/* ------------------------------------------------------------ writer side */

static int stage_write(acq *a, size_t i)
{
    stage *s = &a->stages[i];
    int rc;
    if (s->n == 0)
        return CL_OK;
    rc = cl_session_append(a->session, i, s->n, s->samples, s->dtime, s->htime, s->seq, &a->werr);
    if (rc == CL_OK) {
        s->stored += s->n;
        atomic_fetch_add(&a->rows_written, s->n);
    }
    s->n = 0;
    return rc;
}

/* Move queued raw bytes into the capture file. */
static int drain_capture(acq *a)
{
    raw_rec r;
    if (!a->capture)
        return CL_OK;
    while (cl_ring_pop(a->raw_ring, &r, 1) == 1) {
        int rc = cl_capture_write(a->capture, r.port, r.host_time, r.data, r.len, &a->werr);
        if (rc != CL_OK)
            return rc;
    }
    return CL_OK;
}

static int write_all_and_flush(acq *a)
{
    int rc = CL_OK;
    for (size_t i = 0; i < a->ndev && rc == CL_OK; i++)
        rc = stage_write(a, i);
    if (rc == CL_OK)
        rc = cl_session_flush(a->session, &a->werr);
    if (rc == CL_OK && a->capture && (rc = drain_capture(a)) == CL_OK)
        rc = cl_capture_flush(a->capture, &a->werr);
    return rc;
}

static int consume(acq *a, const rec *r)
{
    switch (r->type) {
    case REC_FRAME: {
        stage *s = &a->stages[r->dev];
        memcpy(s->samples + s->n * s->channels, r->u.frame.v, sizeof(double) * s->channels);
        s->dtime[s->n] = r->u.frame.device_time;
        s->htime[s->n] = r->host_time;
        s->seq[s->n] = r->u.frame.seq;
        if (++s->n == STAGE_ROWS)
            return stage_write(a, r->dev);
        return CL_OK;
    }
    case REC_EVENT: {
        cl_session_event ev = {r->host_time, r->u.ev.cup, (cl_event_kind)r->u.ev.kind,
                               r->u.ev.text};
        int rc = cl_session_add_event(a->session, &ev, &a->werr);
        if (rc == CL_OK && ev.kind == CL_EVENT_STOP)
            a->stop_written = true;
        return rc;
    }
    case REC_COUNTERS:
        return cl_session_set_counters(a->session, r->dev, &r->u.counters, &a->werr);
    case REC_CLOCK:
        return cl_session_set_clock(a->session, r->dev, &r->u.clock, &a->werr);
    }
    return CL_OK;
}

/* Take up to `max` records out of the ring and consume them; *n: how many. */
static int consume_batch(acq *a, unsigned char *batch, size_t max, size_t *n)
{
    int rc = CL_OK;
    *n = cl_ring_pop(a->ring, batch, max);
    for (size_t i = 0; i < *n && rc == CL_OK; i++)
        rc = consume(a, (const rec *)(batch + i * a->rec_size));
    return rc;
}

/* Sleep up to `seconds`, until the reader is done, or until it wakes us. */
static void writer_nap(acq *a, double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double end = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + seconds;
    ts.tv_sec = (time_t)end;
    ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&a->wake_mu);
    atomic_store(&a->napping, true);
    while (!atomic_load(&a->reader_done) && !a->wake_now &&
           pthread_cond_timedwait(&a->wake_cv, &a->wake_mu, &ts) == 0)
        ;
    a->wake_now = false;
    atomic_store(&a->napping, false);
    pthread_mutex_unlock(&a->wake_mu);
}

static void *writer_main(void *arg)
{
    acq *a = arg;
    /* Records come out rec_size bytes apart; slack for the last one's unused tail. */
    unsigned char *batch = malloc(POP_BATCH * a->rec_size + sizeof(rec));
    double next_flush = cl_time_mono_s() + a->flush_s;
    int rc = CL_OK;

    if (!batch) {
        cl_error_set(&a->werr, CL_ERR_NOMEM, "writer: out of memory");
        atomic_store(&a->writer_failed, true);
        return NULL;
    }
    for (;;) {
        bool done = atomic_load(&a->reader_done);
        size_t n;
        rc = consume_batch(a, batch, POP_BATCH, &n);
        if (rc == CL_OK)
            rc = drain_capture(a);
        double now = cl_time_mono_s();
        if (rc == CL_OK && now >= next_flush) {
            /* Due: the flush takes in everything that had arrived by now
             * (however far behind the writer is), but no more, so it is
             * never put off by a ring that keeps filling. */
            for (size_t left = cl_ring_used(a->ring), m = 1; rc == CL_OK && left && m;
                 left -= m)
                rc = consume_batch(a, batch, left < POP_BATCH ? left : POP_BATCH, &m);
            if (rc == CL_OK)
                rc = write_all_and_flush(a);
            next_flush += a->flush_s;
            now = cl_time_mono_s();
            if (next_flush < now)
                next_flush = now + a->flush_s;
        }
        if (rc != CL_OK)
            break;
        if (n == 0 && done)
            break; /* reader finished and ring drained */
        if (n < POP_BATCH && !done)
            writer_nap(a, fmax(next_flush - now, WRITER_NAP_MIN_S));
    }
    if (rc == CL_OK)
        rc = write_all_and_flush(a);
    if (rc != CL_OK)
        atomic_store(&a->writer_failed, true);
    free(batch);
    return NULL;
}

/* The writer stopped on a write error.  Joined, it leaves the session to the
 * reader, which ends it the way the writer would have: the events still in
 * the ring (not its rows: a session out of room takes no more), the overruns
 * still owed, a stop event saying why and how many frames were not stored,
 * and counters whose `frames` are the rows stored.  A session whose writes
 * failed outright refuses all of this and is only closed. */
static void end_after_write_error(acq *a, const cl_error *werr)
{
    rec r;
    uint64_t unstored = 0;
    char why[CL_SESSION_EVENT_TEXT];
    const char *msg = werr->msg;
    size_t plen = strlen(a->cfg->path);

    for (size_t i = 0; i < a->ndev; i++) {
        cl_session_counters c;
        counters_of(a, &a->devs[i], &c);
        unstored += c.frames - a->stages[i].stored;
    }
    a->writer_gone = true;
    a->now = cl_source_now(a->source);
    while (cl_ring_pop(a->ring, &r, 1) == 1)
        if (r.type == REC_EVENT && r.u.ev.kind != CL_EVENT_STOP)
            (void)consume(a, &r);
    if (strncmp(msg, a->cfg->path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2; /* the file is known */
    if (snprintf(why, sizeof why, "write error, %llu frames not stored: %s",
                 (unsigned long long)unstored, msg) >= (int)sizeof why)
        why[sizeof why - 1] = '\0'; /* truncated, as events are */
    /* after a stop event the writer stored, this one is an error event */
    push_final(a, a->stop_written ? CL_EVENT_ERROR : CL_EVENT_STOP, why);
}

/* ------------------------------------------------------------------ setup */

static void acq_free(acq *a)
{
    for (size_t i = 0; i < a->ndev; i++) {
        dev *d = &a->devs[i];
        cl_wire_decoder_free(d->dec);
        cl_clock_free(d->clock);
        free(d->announcement);
        free(d->probe);
        if (a->stages) {
            free(a->stages[i].samples);
            free(a->stages[i].dtime);
            free(a->stages[i].htime);
            free(a->stages[i].seq);
        }
    }
    cl_acqfile_cups_free(&a->cups);
    free(a->stages);
    free(a->devs);
    cl_ring_free(a->ring);
    cl_ring_free(a->raw_ring);
    if (a->wake_init) {
        pthread_cond_destroy(&a->wake_cv);
        pthread_mutex_destroy(&a->wake_mu);
    }
    cl_source_close(a->source);
    cl_marker_lines_free(a->lines);
}

/* Wait until every device has delivered a frame (its channel count). */
static int probe(acq *a, volatile sig_atomic_t *stop, cl_error *err)
{
    double limit = a->cfg->probe_timeout_s > 0 ? a->cfg->probe_timeout_s : CL_SOURCE_PROBE_S;
    for (;;) {
        size_t ready = 0;
        for (size_t i = 0; i < a->ndev; i++)
            ready += a->devs[i].channels > 0;
        if (ready == a->ndev)
            return CL_OK;
        if (*stop)
            return cl_error_set(err, CL_ERR_ARG,
                                "stopped before every device sent data; no file written");
        for (size_t i = 0; i < a->ndev; i++) {
            dev *d = &a->devs[i];
            if (!cl_source_connected(a->source, i))
                return cl_error_set(err, CL_ERR_GONE,
                                    "%s: device disconnected before sending data; no file written",
                                    d->cfg->name);
            if (d->channels == 0 && a->now > limit) {
                const cl_wire_stats *s = cl_wire_decoder_stats(d->dec);
                if (s->bytes == 0)
                    return cl_error_set(err, CL_ERR_FORMAT,
                                        "%s: nothing received in %.1f s (device off, not "
                                        "sending, or another port?)",
                                        d->cfg->name, a->now);
                return cl_error_set(err, CL_ERR_FORMAT,
                                    "%s: no valid %s frame within %.1f s (%llu bytes, %llu "
                                    "malformed, %llu checksum errors): wrong baud rate or protocol?",
                                    d->cfg->name, cl_wire_protocol_name(d->cfg->protocol), a->now,
                                    (unsigned long long)s->bytes, (unsigned long long)s->malformed,
                                    (unsigned long long)s->checksum_errors);
            }
        }
        cl_source_state state;
        int rc = read_round(a, 50, &state, err);
        if (rc != CL_OK)
            return rc;
        if (state != CL_SOURCE_MORE)
            return cl_error_set(err, CL_ERR_FORMAT, "%s ends before every device sent a valid frame",
                                cl_source_what(a->source));
    }
}

/* Once every device's channel count is known, replace the ring by one whose
 * records end after the widest device's last sample instead of after
 * CL_WIRE_MAX_CHANNELS: the producer walks the whole ring before reusing a
 * slot, so smaller records mean less fresh memory touched per second (and
 * more frames buffered for the same memory).  Records queued while probing
 * (events) move over. */
static int shrink_ring(acq *a, cl_error *err)
{
    size_t ch = 0;
    for (size_t i = 0; i < a->ndev; i++)
        if (a->devs[i].channels > ch)
            ch = a->devs[i].channels;
    size_t size = offsetof(rec, u.frame.v) + ch * sizeof(double);
    _Static_assert(sizeof(((rec *)0)->u.ev) >= sizeof(cl_session_counters) &&
                       sizeof(((rec *)0)->u.ev) >= sizeof(cl_session_clock),
                   "an event is the largest record that is not a frame");
    size_t others = offsetof(rec, u) + sizeof(((rec *)0)->u.ev);
    if (size < others)
        size = others;
    size = (size + _Alignof(rec) - 1) / _Alignof(rec) * _Alignof(rec);
    if (size >= a->rec_size)
        return CL_OK;
    cl_ring *r = cl_ring_new(cl_ring_capacity(a->ring), size);
    if (!r)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    rec tmp;
    while (cl_ring_pop(a->ring, &tmp, 1) == 1)
        cl_ring_push(r, &tmp);
    cl_ring_free(a->ring);
    a->ring = r;
    a->rec_size = size;
    return CL_OK;
}

static const char *time_units(const dev *d)
{
    return cl_acqfile_time_units(d->cfg, d->announcement);
}

static int create_session(acq *a, cl_error *err)
{
    cl_acqfile_device sd[64];
    for (size_t i = 0; i < a->ndev; i++) {
        dev *d = &a->devs[i];
        cl_ident id;
        cl_ident_parse(&id, d->announcement);
        d->adc_bits = id.adc_bits > 0 ? id.adc_bits : 0;
        sd[i] = (cl_acqfile_device){d->cfg, d->channels, d->announcement,
                                    cl_source_info(a->source, i)};
    }
    return cl_acqfile_create(&a->session, a->cfg, sd, a->ndev, STAGE_ROWS, &a->cups, err);
}

static int start_writer(acq *a, cl_error *err)
{
    a->stages = calloc(a->ndev, sizeof *a->stages);
    if (!a->stages)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->ndev; i++) {
        stage *s = &a->stages[i];
        s->channels = a->devs[i].channels;
        s->samples = malloc(STAGE_ROWS * s->channels * sizeof(double));
        s->dtime = malloc(STAGE_ROWS * sizeof(double));
        s->htime = malloc(STAGE_ROWS * sizeof(double));
        s->seq = malloc(STAGE_ROWS * sizeof(uint32_t));
        if (!s->samples || !s->dtime || !s->htime || !s->seq)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return cl_error_set(err, CL_ERR_NOMEM, "cannot start the writer thread");
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int prc = pthread_cond_init(&a->wake_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (prc != 0)
        return cl_error_set(err, CL_ERR_NOMEM, "cannot start the writer thread");
    pthread_mutex_init(&a->wake_mu, NULL);
    a->wake_init = true;
    if (pthread_create(&a->writer, NULL, writer_main, a) != 0)
        return cl_error_set(err, CL_ERR_NOMEM, "cannot start the writer thread");
    return CL_OK;
}

/* The status of the moment; rate_hz is left 0. */
static void fill_status(acq *a, cl_acq_status *s, cl_acq_device_status *st)
{
    *s = (cl_acq_status){.elapsed_s = a->now, .ndevices = a->ndev, .devices = st};
    for (size_t i = 0; i < a->ndev && i < 64; i++) {
        dev *d = &a->devs[i];
        st[i].port = d->cfg->name;
        st[i].channels = d->channels;
        st[i].connected = cl_source_connected(a->source, i);
        counters_of(a, d, &st[i].counters);
        st[i].rate_hz = 0;
        memcpy(st[i].last, d->last, sizeof d->last);
        st[i].last_frame_s = d->last_frame;
        st[i].adc_bits = d->adc_bits;
    }
    s->rows_written = atomic_load(&a->rows_written);
    s->cups = a->cups.cups;
    s->ncups = a->cups.n;
    s->ring_used = cl_ring_used(a->ring);
    s->ring_capacity = cl_ring_capacity(a->ring);
}

static void report_status(acq *a, cl_acq_status_fn fn, void *ctx, double period_s)
{
    cl_acq_device_status st[64];
    cl_acq_status s;
    fill_status(a, &s, st);
    for (size_t i = 0; i < a->ndev && i < 64; i++) {
        dev *d = &a->devs[i];
        st[i].rate_hz = period_s > 0 ? (double)(st[i].counters.frames - d->frames_at_status) /
                                           period_s
                                     : 0;
        d->frames_at_status = st[i].counters.frames;
    }
    if (fn)
        fn(ctx, &s);
}

/* The live view: its markers join the typed ones; its status every period. */
static void live_round(acq *a)
{
    const cl_acq_live *lv = a->cfg->live;
    cl_acq_input fb = {.fd = -1, .feedback = lv->feedback, .ctx = lv->ctx};
    char line[CL_MARKER_LINE_MAX + 1];
    for (int i = 0; i < 16 && lv->next_marker && lv->next_marker(lv->ctx, line, sizeof line); i++)
        marker_line(a, &fb, line);
    if (lv->publish && a->now >= a->next_live) {
        cl_acq_device_status st[64];
        cl_acq_status s;
        fill_status(a, &s, st);
        lv->publish(lv->ctx, &s);
        /* on a fixed schedule (the reader's rounds would make it drift
         * late), catching up by no more than a period */
        a->next_live = fmax(a->next_live + lv->period_s, a->now);
    }
}

/* ------------------------------------------------------------------- run */

/* Open the source, the decoders, the ring and the raw capture. */
static int acq_open(acq *a, const cl_acq_config *cfg, cl_acq_input *in, cl_error *err)
{
    a->cfg = cfg;
    a->input = in;
    a->flush_s = cfg->flush_interval_s > 0 ? cfg->flush_interval_s : DEFAULT_FLUSH_S;
    atomic_init(&a->reader_done, false);
    atomic_init(&a->napping, false);
    atomic_init(&a->writer_failed, false);
    atomic_init(&a->rows_written, 0);
    /* Fail before touching any port if the session would be refused. */
    if (!cfg->force && access(cfg->path, F_OK) == 0)
        return cl_output_exists(err, cfg->path);
    int rc = cl_source_open(&a->source, cfg, err);
    if (rc != CL_OK)
        return rc;
    a->ndev = cl_source_count(a->source);
    if (in->fd >= 0 && !(a->lines = cl_marker_lines_new()))
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    a->devs = calloc(a->ndev, sizeof *a->devs);
    a->rec_size = sizeof(rec);
    a->ring = cl_ring_new(cfg->ring_records ? cfg->ring_records : DEFAULT_RING, a->rec_size);
    if (!a->devs || !a->ring)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->ndev; i++) {
        dev *d = &a->devs[i];
        d->index = i;
        d->cfg = cl_source_port(a->source, i);
        d->last_frame = -1;
        d->last_device_time = NAN;
        d->dec = cl_wire_decoder_new(d->cfg->protocol);
        if (!d->dec)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        if (d->cfg->protocol == CL_WIRE_TEXT)
            cl_wire_decoder_set_text_timestamp(d->dec, d->cfg->text_timestamp);
    }
    if (!cfg->raw_path)
        return CL_OK;
    cl_capture_port cp[CL_CAPTURE_MAX_PORTS];
    for (size_t i = 0; i < a->ndev; i++) {
        const cl_acq_port *p = cl_source_port(a->source, i);
        snprintf(cp[i].name, sizeof cp[i].name, "%s", p->name);
        cp[i].baud = p->baud;
        cp[i].protocol = p->protocol;
        cp[i].text_timestamp = p->text_timestamp;
    }
    a->raw_ring = cl_ring_new(RAW_RING, sizeof(raw_rec));
    if (!a->raw_ring)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    return cl_capture_create(&a->capture, cfg->raw_path, cp, a->ndev, cfg->force, err);
}

/* Wait for every device's first frame, create the session file, start the
 * writer and hand it the start event and the frames kept while waiting. */
static int acq_begin(acq *a, volatile sig_atomic_t *stop, cl_acq_report *report,
                     cl_error *err)
{
    cl_source_start(a->source);
    int rc = probe(a, stop, err);
    if (rc == CL_OK)
        rc = shrink_ring(a, err);
    if (rc == CL_OK)
        rc = create_session(a, err);
    if (rc != CL_OK)
        return rc;
    report->file_created = true;
    a->recording = true;
    for (size_t i = 0; i < a->ndev; i++) {
        dev *d = &a->devs[i];
        d->clock = cl_clock_new(cl_unit_time_s(time_units(d)), 0);
        for (size_t k = 0; d->clock && k < d->nprobe; k++)
            cl_clock_add(d->clock, d->probe[k].u.frame.device_time, d->probe[k].host_time);
    }
    rc = start_writer(a, err);
    if (rc != CL_OK)
        return rc;
    a->writer_running = true;
    /* Frames kept while probing go first, in arrival order per device. */
    push_event(a, 0, -1, CL_EVENT_START, "%s", cl_source_start_text(a->source));
    for (size_t i = 0; i < a->ndev; i++)
        for (size_t k = 0; k < a->devs[i].nprobe; k++)
            if (!push(a, &a->devs[i].probe[k]))
                drop_frame(&a->devs[i]);
    return CL_OK;
}

/* Read until a reason to stop, which is returned (*rc: CL_OK or the error
 * that ended it); counters, the live view and the status on the way. */
static cl_acq_stop acq_record(acq *a, volatile sig_atomic_t *stop, cl_acq_status_fn status_fn,
                              void *status_ctx, int *rc, cl_error *err)
{
    const cl_acq_config *cfg = a->cfg;
    double next_status = a->now + 1.0, next_counters = a->now + a->flush_s / 2;
    double last_status = a->now;
    a->next_live = a->now;
    for (;;) {
        if (*stop)
            return CL_ACQ_STOP_SIGNAL;
        if (cfg->duration_s > 0 && a->now >= cfg->duration_s)
            return CL_ACQ_STOP_DURATION;
        if (atomic_load(&a->writer_failed))
            return CL_ACQ_STOP_ERROR;
        cl_source_state state;
        *rc = read_round(a, 100, &state, err);
        if (*rc != CL_OK)
            return CL_ACQ_STOP_ERROR;
        if (state == CL_SOURCE_END)
            return CL_ACQ_STOP_END;
        if (state == CL_SOURCE_ALL_GONE)
            return CL_ACQ_STOP_ALL_GONE;
        if (a->now >= next_counters) {
            push_counters(a);
            next_counters = a->now + a->flush_s / 2;
        }
        if (cfg->live)
            live_round(a);
        if (a->now >= next_status) {
            report_status(a, status_fn, status_ctx, a->now - last_status);
            last_status = a->now;
            next_status = a->now + 1.0;
        }
    }
}

/* The stop: markers still waiting, then the last records (see push_final). */
static void acq_stop(acq *a, cl_acq_stop reason, int rc, const cl_error *err)
{
    static const char *why[] = {"",           "stopped by signal",  "duration reached",
                                "all devices disconnected", "error", "end of capture"};
    if (reason != CL_ACQ_STOP_ERROR) {
        drain_input(a);
        if (a->cfg->live)
            live_round(a); /* markers sent just before the stop */
    }
    a->ending = true;
    if (atomic_load(&a->writer_failed))
        return; /* see end_after_write_error */
    char text[CL_SESSION_EVENT_TEXT];
    if (snprintf(text, sizeof text, "%s%s%s", why[reason], rc != CL_OK ? ": " : "",
                 rc != CL_OK ? err->msg : "") >= (int)sizeof text)
        text[sizeof text - 1] = '\0'; /* truncated, as events are */
    push_final(a, CL_EVENT_STOP, text);
}

/* Join the writer, close the session and the capture, fill the report and
 * free everything.  Returns rc, or the first error closing brought. */
static int acq_close(acq *a, int rc, cl_acq_stop reason, cl_acq_report *report, cl_error *err)
{
    if (a->writer_running) {
        pthread_mutex_lock(&a->wake_mu);
        atomic_store(&a->reader_done, true);
        pthread_cond_signal(&a->wake_cv);
        pthread_mutex_unlock(&a->wake_mu);
        pthread_join(a->writer, NULL);
        if (atomic_load(&a->writer_failed)) {
            reason = CL_ACQ_STOP_ERROR;
            *err = a->werr;
            rc = a->werr.code;
            end_after_write_error(a, err);
        }
    }
    cl_error cerr;
    if (a->session) {
        int crc = cl_session_close(a->session, rc == CL_OK ? CL_SESSION_COMPLETE
                                                           : CL_SESSION_INTERRUPTED,
                                   &cerr);
        if (crc != CL_OK && rc == CL_OK) {
            rc = crc;
            *err = cerr;
        }
    }
    if (a->capture) {
        if (cl_capture_close(a->capture, &cerr) != CL_OK && rc == CL_OK) {
            rc = cerr.code;
            *err = cerr;
        }
        if (a->raw_lost)
            cl_log(CL_LOG_WARN, "raw capture is missing %llu bytes (it could not keep up)",
                   (unsigned long long)a->raw_lost);
    }
    report->reason = reason;
    report->elapsed_s = a->now;
    report->rows_written = atomic_load(&a->rows_written);
    for (size_t i = 0; a->devs && i < a->ndev; i++)
        report->overruns += a->devs[i].overruns;
    acq_free(a);
    return rc;
}

int cl_acq_run(const cl_acq_config *cfg, volatile sig_atomic_t *stop, cl_acq_status_fn status_fn,
               void *status_ctx, const cl_acq_input *input, cl_acq_report *report,
               cl_error *err)
{
    acq a;
    cl_acq_input in = {.fd = -1};
    cl_acq_stop reason = CL_ACQ_STOP_SIGNAL;

    memset(report, 0, sizeof *report);
    memset(&a, 0, sizeof a);
    if (input)
        in = *input;
    int rc = acq_open(&a, cfg, &in, err);
    if (rc == CL_OK)
        rc = acq_begin(&a, stop, report, err);
    if (rc == CL_OK) {
        reason = acq_record(&a, stop, status_fn, status_ctx, &rc, err);
        acq_stop(&a, reason, rc, err);
    }
    return acq_close(&a, rc, reason, report, err);
}
