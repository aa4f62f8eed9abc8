/*
 * cl_dash: shared state of the live view.  Two halves: the feeder's own
 * (pending points and marker outcomes, engaged state, rate bookkeeping),
 * touched by the feeding thread only, and the shared one behind `mu`.
 */
#include "cl_dash.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cl_ident.h"
#include "cl_segment.h"
#include "cl_units.h"

#define HIST CL_DASH_POINTS
#define PENDING 64    /* history points the feeder keeps while the lock is busy */
#define RATE_WINDOW_S 1.0
#define SLOPE_MOMENTS 3 /* moments back over which a cup's rate of change is taken */
#define LEAK_MOMENTS ((size_t)(CL_DASH_LEAK_WINDOW_S / CL_DASH_PERIOD_S + 0.5))

typedef struct cup_info {
    char *id, *serial;
    uint16_t device, channel;
    const cl_sensor_profile *profile; /* NULL: raw counts */
    double value;                     /* vacuum kPa (calibrated) or raw */
    double applied_s;                 /* host time it engaged; NaN: not applied */
    int phase;                        /* cl_segment phase; -1 unknown (raw counts) */
    double leak_kpa_min, leak_pct_min; /* over the hold's last CL_DASH_LEAK_WINDOW_S */
    bool saturated;                   /* its last reading at an end of the ADC's range */
    int band;                         /* against the target: BAND_* */
} cup_info;

/* Where a calibrated, applied cup's vacuum is against the target band. */
enum { BAND_NONE = -1, BAND_BELOW, BAND_WITHIN, BAND_ABOVE };
static const char *const band_names[] = {"below", "within", "above"};

/* What the feeder follows of a calibrated cup, moment by moment. */
typedef struct track {
    bool engaged;
    double recent_t[SLOPE_MOMENTS + 1], recent_v[SLOPE_MOMENTS + 1]; /* ring */
    size_t nrecent;
    double rise_s, hold_s; /* last rise at the stroke rate; start of the hold */
    double *win_t, *win_v; /* the hold's last LEAK_MOMENTS moments, ring */
    size_t nwin;
} track;

typedef struct dev_info {
    char *port;
    double adc_max; /* NaN unknown */
    bool connected;
    double rate_hz, last_frame_s;
    cl_session_counters counters;
} dev_info;

typedef enum { MK_QUEUED, MK_RECORDED, MK_REJECTED } mk_state;

typedef struct marker {
    uint64_t id;
    char *line;
    mk_state state;
    char why[128];
} marker;

/* An event as the view keeps it. */
typedef struct dash_event {
    double t;
    int32_t cup;
    cl_event_kind kind;
    char text[CL_SESSION_EVENT_TEXT];
} dash_event;

typedef struct outcome {
    uint64_t id;
    bool accepted;
    double t;
    char why[128];
} outcome;

struct cl_dash {
    cl_dash_check_fn check;
    void *check_ctx;
    cl_segment_params seg;
    bool has_target;
    cl_target target;

    /* feeding side */
    size_t ncups, ndev;          /* 0 cups until cl_dash_begin */
    cup_info *rcups;             /* the feeder's figures, copied to `cups` when published */
    dev_info *rdevs;
    const char **ids;            /* cup ids (the strings of rcups, fixed for the run) */
    bool set, failed;            /* begun; begin failed (no recording shown then) */
    double *pend_t, *pend_v;     /* PENDING points of ncups values */
    size_t npend;
    track *track;
    double *rate_t0;
    uint64_t *rate_f0;
    outcome pend_out[CL_DASH_MARKERS];
    size_t nout;
    uint64_t current;            /* id of the marker handed to the recording */
    bool rate_set;               /* rate_t0, rate_f0 taken at the first moment */
    double rnow;                 /* time of the last moment */
    dash_event pend_ev[CL_DASH_EVENTS]; /* ring, newest at pend_nev - 1 */
    uint64_t pend_nev;           /* events observed */
    uint64_t pend_sent;          /* events handed over */

    /* shared, under mu */
    pthread_mutex_t mu;
    bool ready;
    double now;
    cup_info *cups;
    dev_info *devs;
    double *hist_t, *hist_v;     /* HIST points, ring; newest at point number `seq` */
    size_t nhist;
    uint64_t seq;
    uint64_t queue[CL_DASH_MARKERS]; /* ids of the markers waiting, oldest first */
    size_t nqueue;
    marker log[CL_DASH_MARKERS];     /* ring by id */
    uint64_t next_id;
    dash_event events[CL_DASH_EVENTS]; /* ring by number, the newest is number nev */
    uint64_t nev;
};

static double vacuum_of(const cup_info *c, double raw)
{
    return c->profile ? -cl_sensor_profile_kpa(c->profile, raw) : raw;
}

/* The feeder's copy of the cup table and the buffers. */
static bool setup(cl_dash *d, const cl_dash_cup *cups, size_t nc, const cl_dash_port *ports,
                  size_t nd)
{
    d->rcups = calloc(nc ? nc : 1, sizeof *d->rcups);
    d->rdevs = calloc(nd ? nd : 1, sizeof *d->rdevs);
    d->pend_t = calloc(PENDING, sizeof *d->pend_t);
    d->pend_v = calloc(PENDING * (nc ? nc : 1), sizeof *d->pend_v);
    d->track = calloc(nc ? nc : 1, sizeof *d->track);
    d->rate_t0 = calloc(nd ? nd : 1, sizeof *d->rate_t0);
    d->rate_f0 = calloc(nd ? nd : 1, sizeof *d->rate_f0);
    d->cups = calloc(nc ? nc : 1, sizeof *d->cups);
    d->devs = calloc(nd ? nd : 1, sizeof *d->devs);
    d->ids = calloc(nc ? nc : 1, sizeof *d->ids);
    d->hist_t = calloc(HIST, sizeof *d->hist_t);
    d->hist_v = calloc(HIST * (nc ? nc : 1), sizeof *d->hist_v);
    if (!d->rcups || !d->rdevs || !d->pend_t || !d->pend_v || !d->track || !d->rate_t0 ||
        !d->rate_f0 || !d->cups || !d->devs || !d->ids || !d->hist_t || !d->hist_v)
        return false;
    d->ncups = nc;
    d->ndev = nd;
    for (size_t k = 0; k < nc; k++) {
        const cl_dash_cup *c = &cups[k];
        cup_info *ci = &d->rcups[k];
        ci->id = strdup(c->id ? c->id : "");
        ci->serial = strdup(c->sensor_serial ? c->sensor_serial : "");
        if (!ci->id || !ci->serial)
            return false;
        ci->device = c->device;
        ci->channel = c->channel;
        ci->profile = c->profile;
        ci->applied_s = ci->leak_kpa_min = ci->leak_pct_min = NAN;
        ci->phase = c->profile ? CL_SEGMENT_BASELINE : -1;
        ci->band = BAND_NONE;
        d->ids[k] = ci->id;
        if (c->profile && (!(d->track[k].win_t = malloc(LEAK_MOMENTS * sizeof(double))) ||
                           !(d->track[k].win_v = malloc(LEAK_MOMENTS * sizeof(double)))))
            return false;
    }
    for (size_t i = 0; i < nd; i++) {
        if (!(d->rdevs[i].port = strdup(ports[i].name ? ports[i].name : "")))
            return false;
        d->rdevs[i].adc_max = cl_ident_adc_max(ports[i].adc_bits);
    }
    return true;
}

int cl_dash_begin(cl_dash *d, const cl_dash_cup *cups, size_t ncups, const cl_dash_port *ports,
                  size_t ndevices, const cl_target *target, cl_error *err)
{
    if (d->set || d->failed)
        return cl_error_set(err, CL_ERR_ARG, "live view: the recording has begun already");
    for (size_t k = 0; k < ncups; k++)
        if (cups[k].device >= ndevices)
            return cl_error_set(err, CL_ERR_ARG, "live view: cup %s: no device %u",
                                cups[k].id ? cups[k].id : "?", (unsigned)cups[k].device);
    if (!setup(d, cups, ncups, ports, ndevices)) {
        d->failed = true;
        return cl_error_set(err, CL_ERR_NOMEM, "live view: out of memory");
    }
    if ((d->has_target = target != NULL))
        d->target = *target;
    d->set = true;
    return CL_OK;
}

/* The least-squares slope of the hold's window, per minute; NaN until the
 * window is full. */
static double window_slope(const track *tr)
{
    if (tr->nwin < LEAK_MOMENTS)
        return NAN;
    double st = 0, sv = 0, stt = 0, stv = 0, n = (double)LEAK_MOMENTS, t0 = tr->win_t[0];
    for (size_t i = 0; i < LEAK_MOMENTS; i++) {
        double x = tr->win_t[i] - t0, y = tr->win_v[i];
        st += x;
        sv += y;
        stt += x * x;
        stv += x * y;
    }
    double den = stt - st * st / n;
    return den > 0 ? (stv - st * sv / n) / den * 60 : NAN;
}

static double window_mean(const track *tr)
{
    double s = 0;
    for (size_t i = 0; i < LEAK_MOMENTS; i++)
        s += tr->win_v[i];
    return s / (double)LEAK_MOMENTS;
}

/* A calibrated cup's phase, incrementally, by the thresholds and rates of
 * cl_segment: engaged above on_kpa, disengaged below off_kpa; rising at
 * the stroke rate or more is evacuation (a rise more than evac_gap_s into
 * the hold is a re-pump, the hold goes on); once the rise has stopped for
 * CL_DASH_SETTLE_S, the hold; falling at the stroke rate, the release.
 * During the hold the leak over its last CL_DASH_LEAK_WINDOW_S. */
static void follow(const cl_dash *d, cup_info *c, track *tr, double t)
{
    const cl_segment_params *p = &d->seg;
    size_t back = tr->nrecent >= SLOPE_MOMENTS ? SLOPE_MOMENTS : tr->nrecent;
    size_t now = tr->nrecent % (SLOPE_MOMENTS + 1);
    size_t then = (tr->nrecent - back) % (SLOPE_MOMENTS + 1);
    tr->recent_t[now] = t;
    tr->recent_v[now] = c->value;
    tr->nrecent++;
    double rate = back ? (c->value - tr->recent_v[then]) / (t - tr->recent_t[then]) : 0;
    if (!tr->engaged && c->value > p->on_kpa) {
        tr->engaged = true;
        c->applied_s = tr->rise_s = t;
        c->phase = CL_SEGMENT_EVACUATION;
    } else if (tr->engaged && c->value < p->off_kpa) {
        tr->engaged = false;
        c->applied_s = NAN;
        c->phase = CL_SEGMENT_BASELINE;
    }
    if (!tr->engaged) {
        tr->nwin = 0;
        c->leak_kpa_min = c->leak_pct_min = NAN;
        return;
    }
    if (rate <= -p->stroke_rate_kpa_s) {
        c->phase = CL_SEGMENT_RELEASE;
    } else if (rate >= p->stroke_rate_kpa_s) {
        if (c->phase == CL_SEGMENT_HOLD && t - tr->hold_s <= p->evac_gap_s)
            c->phase = CL_SEGMENT_EVACUATION; /* another stroke of the evacuation */
        tr->rise_s = t;
        tr->nwin = 0; /* a re-pump starts the leak's window again */
    } else if (c->phase == CL_SEGMENT_EVACUATION && t - tr->rise_s >= CL_DASH_SETTLE_S) {
        c->phase = CL_SEGMENT_HOLD;
        tr->hold_s = t;
        tr->nwin = 0;
    }
    if (c->phase != CL_SEGMENT_HOLD || t - tr->rise_s < CL_DASH_SETTLE_S) {
        c->leak_kpa_min = c->leak_pct_min = NAN;
        return;
    }
    if (tr->nwin == LEAK_MOMENTS) { /* keep the window in time order */
        memmove(tr->win_t, tr->win_t + 1, (LEAK_MOMENTS - 1) * sizeof *tr->win_t);
        memmove(tr->win_v, tr->win_v + 1, (LEAK_MOMENTS - 1) * sizeof *tr->win_v);
        tr->nwin--;
    }
    tr->win_t[tr->nwin] = t;
    tr->win_v[tr->nwin++] = c->value;
    c->leak_kpa_min = -window_slope(tr);
    double mean = tr->nwin == LEAK_MOMENTS ? window_mean(tr) : NAN;
    c->leak_pct_min = mean > 0 ? 100 * c->leak_kpa_min / mean : NAN;
}

/* A cup against the target band: only when it is calibrated and applied. */
static int band_of(const cl_dash *d, const cup_info *c)
{
    const cl_target *g = &d->target;
    if (!d->has_target || !c->profile || !isfinite(c->applied_s) || !isfinite(c->value))
        return BAND_NONE;
    return c->value < g->vacuum_kpa - g->band_kpa   ? BAND_BELOW
           : c->value > g->vacuum_kpa + g->band_kpa ? BAND_ABOVE
                                                    : BAND_WITHIN;
}

void cl_dash_event(cl_dash *d, const cl_session_event *ev)
{
    dash_event *e = &d->pend_ev[d->pend_nev++ % CL_DASH_EVENTS];
    e->t = ev->t;
    e->cup = ev->cup;
    e->kind = ev->kind;
    snprintf(e->text, sizeof e->text, "%s", ev->text ? ev->text : "");
}

/* The feeder's view of this moment: values, engaged state, device figures. */
void cl_dash_observe(cl_dash *d, double t, const cl_dash_device *devices)
{
    if (!d->set)
        return;
    if (!d->rate_set) {
        for (size_t i = 0; i < d->ndev; i++) {
            d->rate_t0[i] = t;
            d->rate_f0[i] = devices[i].counters.frames;
        }
        d->rate_set = true;
    }
    double *pv = d->pend_v + (d->npend % PENDING) * d->ncups;
    d->pend_t[d->npend % PENDING] = t;
    for (size_t k = 0; k < d->ncups; k++) {
        cup_info *c = &d->rcups[k];
        const cl_dash_device *ds = &devices[c->device];
        double raw = ds->last_frame_s < 0 ? NAN : ds->last[c->channel];
        c->value = isfinite(raw) ? vacuum_of(c, raw) : NAN;
        c->saturated = cl_ident_saturated(raw, d->rdevs[c->device].adc_max);
        pv[k] = c->value;
        if (c->profile && isfinite(c->value))
            follow(d, c, &d->track[k], t);
        c->band = band_of(d, c);
    }
    if (d->npend < PENDING)
        d->npend++;
    for (size_t i = 0; i < d->ndev; i++) {
        const cl_dash_device *ds = &devices[i];
        dev_info *di = &d->rdevs[i];
        di->connected = ds->connected;
        di->last_frame_s = ds->last_frame_s;
        di->counters = ds->counters;
        double span = t - d->rate_t0[i];
        if (span >= RATE_WINDOW_S) {
            di->rate_hz = (double)(ds->counters.frames - d->rate_f0[i]) / span;
            d->rate_t0[i] = t;
            d->rate_f0[i] = ds->counters.frames;
        }
    }
    d->rnow = t;
}

bool cl_dash_publish(cl_dash *d, bool wait)
{
    if (!d->set)
        return true;
    if (wait)
        pthread_mutex_lock(&d->mu);
    else if (pthread_mutex_trylock(&d->mu) != 0)
        return false; /* the server is reading: hand over next time */
    memcpy(d->cups, d->rcups, d->ncups * sizeof *d->cups);
    memcpy(d->devs, d->rdevs, d->ndev * sizeof *d->devs);
    d->now = d->rnow;
    size_t first = d->npend < PENDING ? 0 : d->npend - PENDING;
    for (size_t p = first; p < d->npend; p++) {
        size_t slot = (size_t)(++d->seq % HIST);
        d->hist_t[slot] = d->pend_t[p % PENDING];
        memcpy(d->hist_v + slot * d->ncups, d->pend_v + (p % PENDING) * d->ncups,
               d->ncups * sizeof(double));
        if (d->nhist < HIST)
            d->nhist++;
    }
    d->npend = 0;
    for (size_t i = 0; i < d->nout; i++) {
        marker *m = &d->log[d->pend_out[i].id % CL_DASH_MARKERS];
        if (m->id != d->pend_out[i].id)
            continue;
        m->state = d->pend_out[i].accepted ? MK_RECORDED : MK_REJECTED;
        snprintf(m->why, sizeof m->why, "%s", d->pend_out[i].why);
    }
    d->nout = 0;
    if (d->pend_nev - d->pend_sent > CL_DASH_EVENTS)
        d->pend_sent = d->pend_nev - CL_DASH_EVENTS; /* older ones were overwritten */
    for (; d->pend_sent < d->pend_nev; d->pend_sent++)
        d->events[++d->nev % CL_DASH_EVENTS] = d->pend_ev[d->pend_sent % CL_DASH_EVENTS];
    d->ready = true;
    pthread_mutex_unlock(&d->mu);
    return true;
}

bool cl_dash_next_marker(cl_dash *d, char *line, size_t cap)
{
    bool got = false;
    if (d->nout == CL_DASH_MARKERS || pthread_mutex_trylock(&d->mu) != 0)
        return false;
    if (d->nqueue) {
        d->current = d->queue[0];
        memmove(d->queue, d->queue + 1, --d->nqueue * sizeof *d->queue);
        snprintf(line, cap, "%s", d->log[d->current % CL_DASH_MARKERS].line);
        got = true;
    }
    pthread_mutex_unlock(&d->mu);
    return got;
}

void cl_dash_marker_done(cl_dash *d, bool accepted, const char *why)
{
    if (d->nout == CL_DASH_MARKERS)
        return; /* next_marker hands over no more than fit */
    outcome *o = &d->pend_out[d->nout++];
    o->id = d->current;
    o->accepted = accepted;
    snprintf(o->why, sizeof o->why, "%s", why ? why : "");
}

int cl_dash_new(cl_dash **out, cl_dash_check_fn check, void *check_ctx, cl_error *err)
{
    cl_dash *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return cl_error_set(err, CL_ERR_NOMEM, "cannot create the live view's lock");
    }
    d->check = check;
    d->check_ctx = check_ctx;
    cl_segment_defaults(&d->seg);
    d->next_id = 1;
    *out = d;
    return CL_OK;
}

void cl_dash_free(cl_dash *d)
{
    if (!d)
        return;
    for (size_t k = 0; d->rcups && k < d->ncups; k++) {
        free(d->rcups[k].id);
        free(d->rcups[k].serial);
    }
    for (size_t i = 0; d->rdevs && i < d->ndev; i++)
        free(d->rdevs[i].port);
    free(d->rcups);
    free(d->rdevs);
    free(d->cups);
    free(d->devs);
    free(d->ids);
    free(d->pend_t);
    free(d->pend_v);
    for (size_t k = 0; d->track && k < d->ncups; k++) {
        free(d->track[k].win_t);
        free(d->track[k].win_v);
    }
    free(d->track);
    free(d->rate_t0);
    free(d->rate_f0);
    free(d->hist_t);
    free(d->hist_v);
    for (size_t i = 0; i < CL_DASH_MARKERS; i++)
        free(d->log[i].line);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

bool cl_dash_read_only(const cl_dash *d, cl_error *err)
{
    if (d->check)
        return false;
    cl_error_set(err, CL_ERR_PERM, "read-only view: markers are sent from the recorder's own "
                                   "live view");
    return true;
}

int cl_dash_queue_marker(cl_dash *d, const char *line, uint64_t *id, cl_error *err)
{
    int rc = CL_OK;
    char *copy;

    if (cl_dash_read_only(d, err))
        return CL_ERR_PERM;

    pthread_mutex_lock(&d->mu);
    if (!d->ready) {
        rc = cl_error_set(err, CL_ERR_BUSY, "the recording has not started yet");
        goto out;
    }
    if ((rc = d->check(d->check_ctx, line, d->ids, d->ncups, err)) != CL_OK)
        goto out;
    if (d->nqueue == CL_DASH_MARKERS) {
        rc = cl_error_set(err, CL_ERR_BUSY, "too many markers waiting");
        goto out;
    }
    if (!(copy = strdup(line))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    marker *m = &d->log[d->next_id % CL_DASH_MARKERS];
    free(m->line);
    m->line = copy;
    m->id = d->next_id++;
    m->state = MK_QUEUED;
    m->why[0] = '\0';
    d->queue[d->nqueue++] = m->id;
    *id = m->id;
out:
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* ---------------------------------------------------------------- rendering */

/* What cl_dash_json renders, copied under the lock. */
typedef struct view {
    bool ready;
    double now;
    size_t ncups, ndev, npts;
    cup_info *cups;
    dev_info *devs;
    double *t, *v;
    uint64_t first_seq, seq;
    marker log[CL_DASH_MARKERS];
    dash_event events[CL_DASH_EVENTS]; /* oldest first */
    size_t nevents;
    bool has_target;
    cl_target target;
} view;

static bool take_view(cl_dash *d, uint64_t since, view *w)
{
    bool ok = true;
    memset(w, 0, sizeof *w);
    pthread_mutex_lock(&d->mu);
    w->ready = d->ready;
    if (w->ready) {
        w->now = d->now;
        w->ncups = d->ncups;
        w->ndev = d->ndev;
        w->seq = d->seq;
        uint64_t oldest = d->seq - d->nhist + 1;
        w->first_seq = since + 1 > oldest ? since + 1 : oldest;
        w->npts = w->first_seq <= d->seq ? (size_t)(d->seq - w->first_seq + 1) : 0;
        w->cups = malloc((w->ncups ? w->ncups : 1) * sizeof *w->cups);
        w->devs = malloc((w->ndev ? w->ndev : 1) * sizeof *w->devs);
        w->t = malloc((w->npts ? w->npts : 1) * sizeof *w->t);
        w->v = malloc((w->npts ? w->npts : 1) * (w->ncups ? w->ncups : 1) * sizeof *w->v);
        ok = w->cups && w->devs && w->t && w->v;
        if (ok) {
            /* the strings stay as they are for the whole run */
            memcpy(w->cups, d->cups, w->ncups * sizeof *w->cups);
            memcpy(w->devs, d->devs, w->ndev * sizeof *w->devs);
            for (size_t p = 0; p < w->npts; p++) {
                size_t slot = (size_t)((w->first_seq + p) % HIST);
                w->t[p] = d->hist_t[slot];
                memcpy(w->v + p * w->ncups, d->hist_v + slot * w->ncups,
                       w->ncups * sizeof(double));
            }
        }
    }
    uint64_t oldest_ev = d->nev > CL_DASH_EVENTS ? d->nev - CL_DASH_EVENTS + 1 : 1;
    for (uint64_t e = oldest_ev; e <= d->nev; e++)
        w->events[w->nevents++] = d->events[e % CL_DASH_EVENTS];
    w->has_target = d->has_target;
    w->target = d->target;
    memcpy(w->log, d->log, sizeof w->log);
    for (size_t i = 0; i < CL_DASH_MARKERS; i++)
        if (w->log[i].line && !(w->log[i].line = strdup(w->log[i].line)))
            ok = false; /* the dash's lines may go once the lock is released */
    pthread_mutex_unlock(&d->mu);
    return ok;
}

static void drop_view(view *w)
{
    free(w->cups);
    free(w->devs);
    free(w->t);
    free(w->v);
    for (size_t i = 0; i < CL_DASH_MARKERS; i++)
        free(w->log[i].line);
}

/* A number, or null when it is not finite. */
static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *render(const view *w, bool read_only)
{
    static const char *states[] = {"queued", "recorded", "rejected"};
    json_t *root = json_object(), *cups = json_array(), *devs = json_array(),
           *hist = json_object(), *ht = json_array(), *hv = json_array(), *marks = json_array();
    json_object_set_new(root, "recording", json_boolean(w->ready));
    json_object_set_new(root, "read_only", json_boolean(read_only));
    json_object_set_new(root, "t", json_real(w->now));
    json_object_set_new(root, "units",
                        json_pack("{s:f,s:f,s:f}", "kPa", 1.0, "mmHg", CL_KPA_PER_MMHG, "mbar",
                                  CL_KPA_PER_MBAR));
    for (size_t k = 0; k < w->ncups; k++) {
        const cup_info *c = &w->cups[k];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(c->id));
        json_object_set_new(o, "device", json_integer(c->device));
        json_object_set_new(o, "channel", json_integer(c->channel));
        json_object_set_new(o, "sensor", json_string(c->serial));
        json_object_set_new(o, "calibrated", json_boolean(c->profile != NULL));
        json_object_set_new(o, "unit", json_string(c->profile ? "kPa" : "raw"));
        json_object_set_new(o, "value", num(c->value));
        json_object_set_new(o, "applied_s",
                            num(isfinite(c->applied_s) ? w->now - c->applied_s : NAN));
        json_object_set_new(o, "phase",
                            c->phase >= 0 ? json_string(cl_segment_phase_name(c->phase))
                                          : json_null());
        json_object_set_new(o, "leak_kpa_min", num(c->leak_kpa_min));
        json_object_set_new(o, "leak_pct_min", num(c->leak_pct_min));
        json_object_set_new(o, "leaking",
                            json_boolean(c->leak_pct_min > CL_DASH_LEAK_WARN_PCT_MIN));
        json_object_set_new(o, "saturated", json_boolean(c->saturated));
        json_object_set_new(o, "target",
                            c->band == BAND_NONE ? json_null() : json_string(band_names[c->band]));
        json_array_append_new(cups, o);
    }
    for (size_t i = 0; i < w->ndev; i++) {
        const dev_info *di = &w->devs[i];
        const cl_session_counters *n = &di->counters;
        json_t *o = json_object();
        json_object_set_new(o, "port", json_string(di->port));
        json_object_set_new(o, "connected", json_boolean(di->connected));
        json_object_set_new(o, "rate_hz", json_real(di->rate_hz));
        json_object_set_new(o, "since_frame_s",
                            num(di->last_frame_s < 0 ? NAN : w->now - di->last_frame_s));
        json_object_set_new(o, "frames", json_integer((json_int_t)n->frames));
        json_object_set_new(o, "checksum_errors", json_integer((json_int_t)n->checksum_errors));
        json_object_set_new(o, "malformed", json_integer((json_int_t)n->malformed));
        json_object_set_new(o, "seq_gaps", json_integer((json_int_t)n->seq_gaps));
        json_object_set_new(o, "lost_frames", json_integer((json_int_t)n->lost_frames));
        json_object_set_new(o, "overruns", json_integer((json_int_t)n->overruns));
        json_object_set_new(o, "reconnects", json_integer((json_int_t)n->reconnects));
        json_array_append_new(devs, o);
    }
    for (size_t p = 0; p < w->npts; p++)
        json_array_append_new(ht, json_real(w->t[p]));
    for (size_t k = 0; k < w->ncups; k++) {
        json_t *a = json_array();
        for (size_t p = 0; p < w->npts; p++)
            json_array_append_new(a, num(w->v[p * w->ncups + k]));
        json_array_append_new(hv, a);
    }
    json_object_set_new(hist, "seconds", json_integer(CL_DASH_HISTORY_S));
    json_object_set_new(hist, "first", json_integer((json_int_t)w->first_seq));
    json_object_set_new(hist, "last", json_integer((json_int_t)w->seq));
    json_object_set_new(hist, "t", ht);
    json_object_set_new(hist, "values", hv);
    for (size_t i = 0; i < CL_DASH_MARKERS; i++) {
        const marker *m = &w->log[i];
        if (!m->id)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer((json_int_t)m->id));
        json_object_set_new(o, "command", json_string(m->line));
        json_object_set_new(o, "state", json_string(states[m->state]));
        json_object_set_new(o, "why", json_string(m->why));
        json_array_append_new(marks, o);
    }
    json_t *evs = json_array();
    for (size_t i = 0; i < w->nevents; i++) {
        const dash_event *e = &w->events[i];
        json_t *o = json_object();
        json_object_set_new(o, "t", json_real(e->t));
        json_object_set_new(o, "kind", json_string(cl_event_kind_name(e->kind)));
        json_object_set_new(o, "cup", e->cup >= 0 && (size_t)e->cup < w->ncups
                                          ? json_string(w->cups[e->cup].id)
                                          : json_null());
        json_object_set_new(o, "text", json_string(e->text));
        json_array_append_new(evs, o);
    }
    json_object_set_new(root, "target",
                        w->has_target ? json_pack("{s:f,s:f,s:o}", "vacuum_kpa",
                                                  w->target.vacuum_kpa, "band_kpa",
                                                  w->target.band_kpa, "duration_s",
                                                  num(w->target.duration_s))
                                      : json_null());
    json_object_set_new(root, "events", evs);
    json_object_set_new(root, "cups", cups);
    json_object_set_new(root, "devices", devs);
    json_object_set_new(root, "history", hist);
    json_object_set_new(root, "markers", marks);
    return root;
}

char *cl_dash_json(cl_dash *d, uint64_t since, uint64_t *last)
{
    view w;
    char *s = NULL;
    if (take_view(d, since, &w)) {
        json_t *j = render(&w, cl_dash_read_only(d, NULL));
        s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
        json_decref(j);
        if (last)
            *last = w.seq;
    }
    drop_view(&w);
    return s;
}
