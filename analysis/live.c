/* analysis/live: the read-only live view of a followed recording.  Each
 * update opens the file afresh (like the table of --follow, so that no
 * reader stays open between refreshes), reads the rows added since the
 * last one and hands the view one moment every CL_DASH_PERIOD_S of host
 * time up to the newest row. */
#include "live.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cl_analysis.h"
#include "cl_dash.h"
#include "cl_profile.h"
#include "cl_session_read.h"
#include "cl_web.h"

/* What the view has of one device. */
typedef struct feed_dev {
    char *port;
    size_t nch;
    size_t rows;        /* rows up to the last moment handed over */
    double *last;       /* the newest row at or before the last moment */
    double last_t;      /* its host time; -1: none yet */
    uint64_t frames;    /* rows up to it */
    bool connected;
} feed_dev;

/* One update's rows of a device: host times from row `first` on, and per
 * moment the row it shows (SIZE_MAX: none newer than before) with its
 * values. */
typedef struct batch {
    size_t first, n;
    double *host;
    size_t *row;
    double *vals; /* [moment][channel] */
    cl_session_counters counters;
} batch;

struct an_live {
    const an_options *o;
    cl_dash *dash;
    cl_web *web;
    bool begun, ticking;
    cl_sensor_profile **stored; /* the file's sensor profiles */
    size_t nstored;
    const cl_sensor_profile **sensors; /* the user's, then the file's */
    size_t nsensors;
    feed_dev *devs;
    cl_dash_device *moment;
    size_t ndev;
    uint64_t tick;  /* the next moment on the grid is at tick * CL_DASH_PERIOD_S */
    double shown;   /* time of the last moment handed over */
    size_t events;  /* events of the file taken into account */
};

int an_live_start(an_live **out, const an_options *o, cl_error *err)
{
    an_live *l = calloc(1, sizeof *l);
    int rc;
    *out = NULL;
    if (!l)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    l->o = o;
    l->shown = -1;
    if ((rc = cl_dash_new(&l->dash, NULL, NULL, err)) != CL_OK) {
        free(l);
        return rc;
    }
    cl_web_options wo = {o->live, cl_web_page, cl_web_page_n, l->dash};
    if ((rc = cl_web_start(&l->web, &wo, err)) != CL_OK) {
        an_live_stop(l);
        return rc;
    }
    *out = l;
    return CL_OK;
}

void an_live_url(const an_live *l, char *buf, size_t cap)
{
    cl_web_url(l->web, buf, cap);
}

void an_live_stop(an_live *l)
{
    if (!l)
        return;
    cl_web_stop(l->web); /* first: the server reads the dash */
    cl_dash_free(l->dash);
    for (size_t i = 0; i < l->nstored; i++)
        cl_sensor_profile_free(l->stored[i]);
    for (size_t i = 0; l->devs && i < l->ndev; i++) {
        free(l->devs[i].port);
        free(l->devs[i].last);
    }
    free(l->stored);
    free(l->sensors);
    free(l->devs);
    free(l->moment);
    free(l);
}

/* ------------------------------------------------------------ the session */

/* The profiles to calibrate with: the user's first (they win, as in the
 * analysis), then the sensor profiles the file carries. */
static int take_profiles(an_live *l, cl_session_reader *r, cl_error *err)
{
    size_t np = cl_session_profile_count(r), nuser = l->o->an.nprofiles;
    l->stored = calloc(np ? np : 1, sizeof *l->stored);
    l->sensors = calloc(nuser + np ? nuser + np : 1, sizeof *l->sensors);
    if (!l->stored || !l->sensors)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nuser; i++)
        l->sensors[l->nsensors++] = l->o->an.profiles[i];
    for (size_t i = 0; i < np; i++) {
        const char *json = cl_session_profile(r, i), *kind = json ? cl_profile_kind(json) : NULL;
        if (kind && !strcmp(kind, "sensor") &&
            cl_sensor_profile_parse(json, &l->stored[l->nstored], NULL) == CL_OK)
            l->sensors[l->nsensors++] = l->stored[l->nstored++];
    }
    return CL_OK;
}

static int take_devices(an_live *l, cl_session_reader *r, cl_dash_port *ports, cl_error *err)
{
    for (size_t i = 0; i < l->ndev; i++) {
        const cl_session_device *info = cl_session_device_info(r, i);
        feed_dev *d = &l->devs[i];
        d->nch = info && info->channels ? info->channels : 1;
        d->port = strdup(info && info->port ? info->port : "");
        d->last = calloc(d->nch, sizeof *d->last);
        if (!d->port || !d->last)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        d->last_t = -1;
        d->connected = true;
        ports[i] = (cl_dash_port){d->port, cl_analysis_adc_bits(&l->o->an, r, i)};
    }
    return CL_OK;
}

/* The cups and devices of the session, once: each cup's sensor as the
 * analysis takes it, and its profile. */
static int begin(an_live *l, cl_session_reader *r, cl_error *err)
{
    size_t nc = cl_session_cup_count(r);
    l->ndev = cl_session_device_count(r);
    l->devs = calloc(l->ndev ? l->ndev : 1, sizeof *l->devs);
    l->moment = calloc(l->ndev ? l->ndev : 1, sizeof *l->moment);
    cl_dash_cup *cups = calloc(nc ? nc : 1, sizeof *cups);
    char(*serials)[CL_ANALYSIS_STR] = calloc(nc ? nc : 1, sizeof *serials);
    cl_dash_port *ports = calloc(l->ndev ? l->ndev : 1, sizeof *ports);
    int rc = !l->devs || !l->moment || !cups || !serials || !ports
                 ? cl_error_set(err, CL_ERR_NOMEM, "out of memory")
                 : take_profiles(l, r, err);
    if (rc == CL_OK)
        rc = take_devices(l, r, ports, err);
    for (size_t k = 0; rc == CL_OK && k < nc; k++) {
        const cl_session_cup *c = cl_session_cup_info(r, k);
        cl_analysis_sensor_serial(&l->o->an, r, k, serials[k], sizeof serials[k]);
        cups[k] = (cl_dash_cup){c->cup_id, serials[k], c->device, c->channel,
                                cl_sensor_profile_find(l->sensors, l->nsensors, serials[k])};
    }
    cl_target target;
    bool aimed = cl_session_target(r, &target);
    if (rc == CL_OK)
        rc = cl_dash_begin(l->dash, cups, nc, ports, l->ndev, aimed ? &target : NULL, err);
    l->begun = rc == CL_OK;
    free(cups);
    free(serials);
    free(ports);
    return rc;
}

/* ----------------------------------------------------------------- moments */

static double tick_time(uint64_t k)
{
    return (double)k * CL_DASH_PERIOD_S;
}

/* The first row of [lo, hi) of device `dev` with a host time after t (hi
 * when there is none): host times do not decrease. */
static int first_after(cl_session_reader *r, size_t dev, size_t lo, size_t hi, double t,
                       size_t *out, cl_error *err)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double h;
        int rc = cl_session_read_host_time(r, dev, mid, 1, &h, err);
        if (rc != CL_OK)
            return rc;
        if (h > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    *out = lo;
    return CL_OK;
}

/* The host times of the file's newest row (of any device) and newest
 * event; NaN when there is none. */
static int newest(an_live *l, cl_session_reader *r, double *row, double *event, cl_error *err)
{
    size_t nev = cl_session_event_count(r);
    *row = *event = NAN;
    if (nev) {
        cl_session_event ev;
        int rc = cl_session_event_get(r, nev - 1, &ev, err);
        if (rc != CL_OK)
            return rc;
        *event = ev.t;
    }
    for (size_t i = 0; i < l->ndev; i++) {
        size_t n = cl_session_rows(r, i);
        double h;
        if (n == 0)
            continue;
        int rc = cl_session_read_host_time(r, i, n - 1, 1, &h, err);
        if (rc != CL_OK)
            return rc;
        if (!(h <= *row))
            *row = h;
    }
    return CL_OK;
}

static void drop_batch(batch *b)
{
    free(b->host);
    free(b->row);
    free(b->vals);
}

/* Device i's rows for the moments at times[0 .. nticks - 1]: from the one
 * before the first moment (rows older than that are of no moment). */
static int read_batch(an_live *l, cl_session_reader *r, size_t i, const double *times,
                      size_t nticks, batch *b, cl_error *err)
{
    feed_dev *d = &l->devs[i];
    size_t n = cl_session_rows(r, i), first;
    int rc = first_after(r, i, d->rows, n, times[0], &first, err);
    if (rc != CL_OK)
        return rc;
    b->first = first > d->rows ? first - 1 : d->rows;
    b->n = n > b->first ? n - b->first : 0;
    b->host = malloc((b->n ? b->n : 1) * sizeof *b->host);
    b->row = malloc(nticks * sizeof *b->row);
    b->vals = malloc(nticks * d->nch * sizeof *b->vals);
    double *col = malloc((b->n ? b->n : 1) * sizeof *col);
    if (!b->host || !b->row || !b->vals || !col)
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    if (rc == CL_OK && b->n)
        rc = cl_session_read_host_time(r, i, b->first, b->n, b->host, err);
    for (size_t j = 0, p = 0; rc == CL_OK && j < nticks; j++) {
        while (p < b->n && b->host[p] <= times[j])
            p++;
        b->row[j] = p ? b->first + p - 1 : SIZE_MAX;
    }
    for (size_t c = 0; rc == CL_OK && b->n && c < d->nch; c++) {
        rc = cl_session_read_channel(r, i, c, b->first, b->n, col, err);
        for (size_t j = 0; rc == CL_OK && j < nticks; j++)
            if (b->row[j] != SIZE_MAX)
                b->vals[j * d->nch + c] = col[b->row[j] - b->first];
    }
    free(col);
    if (rc == CL_OK && cl_session_counters_get(r, i, &b->counters, NULL) != CL_OK)
        memset(&b->counters, 0, sizeof b->counters); /* unreadable: none shown */
    /* Rows after the last moment are read again next time: the next
     * moment may show one of them. */
    if (rc == CL_OK && b->row[nticks - 1] != SIZE_MAX)
        d->rows = b->row[nticks - 1] + 1;
    return rc;
}

/* "PORT: ..." is about the device on PORT. */
static bool names_port(const char *text, const char *port)
{
    size_t n = strlen(port);
    return text && n && strncmp(text, port, n) == 0 && text[n] == ':';
}

/* The events up to time t, for the view; by the disconnect and reconnect
 * ones, which devices are there. */
static int take_events(an_live *l, cl_session_reader *r, double t, cl_error *err)
{
    size_t n = cl_session_event_count(r);
    for (; l->events < n; l->events++) {
        cl_session_event ev;
        int rc = cl_session_event_get(r, l->events, &ev, err);
        if (rc != CL_OK)
            return rc;
        if (ev.t > t)
            break;
        cl_dash_event(l->dash, &ev);
        if (ev.kind != CL_EVENT_DISCONNECT && ev.kind != CL_EVENT_RECONNECT)
            continue;
        for (size_t i = 0; i < l->ndev; i++)
            if (names_port(ev.text, l->devs[i].port))
                l->devs[i].connected = ev.kind == CL_EVENT_RECONNECT;
    }
    return CL_OK;
}

/* Moment j of the batches, at time t, to the view. */
static int observe(an_live *l, cl_session_reader *r, const batch *b, size_t j, double t,
                   cl_error *err)
{
    int rc = take_events(l, r, t, err);
    for (size_t i = 0; rc == CL_OK && i < l->ndev; i++) {
        feed_dev *d = &l->devs[i];
        size_t row = b[i].row[j];
        if (row != SIZE_MAX) {
            memcpy(d->last, b[i].vals + j * d->nch, d->nch * sizeof *d->last);
            d->last_t = b[i].host[row - b[i].first];
            d->frames = row + 1;
        }
        l->moment[i] = (cl_dash_device){d->connected, d->last_t, d->last, b[i].counters};
        l->moment[i].counters.frames = d->frames;
    }
    if (rc == CL_OK) {
        cl_dash_observe(l->dash, t, l->moment);
        cl_dash_publish(l->dash, true);
    }
    return rc;
}

/* The times of the moments to hand over: every CL_DASH_PERIOD_S from
 * l->tick up to the newest row (at most the history's), and the newest
 * event's when it came after every row (a device gone, the recording
 * stopped).  NULL with *n 0: none; NULL with *n not 0: out of memory. */
static double *moments(an_live *l, double row, double event, size_t *n, uint64_t *last)
{
    double end = isfinite(row) ? row : event;
    *n = 0;
    if (!isfinite(end) || end < 0)
        return NULL;
    *last = (uint64_t)floor(end / CL_DASH_PERIOD_S);
    if (!l->ticking || *last >= l->tick + CL_DASH_POINTS)
        l->tick = *last + 1 > CL_DASH_POINTS ? *last + 1 - CL_DASH_POINTS : 0;
    l->ticking = true;
    size_t grid = *last >= l->tick ? (size_t)(*last - l->tick + 1) : 0;
    bool late = isfinite(event) && !(event <= row) && event > tick_time(*last) &&
                event > l->shown;
    double *times = (*n = grid + late) ? malloc(*n * sizeof *times) : NULL;
    for (size_t j = 0; times && j < grid; j++)
        times[j] = tick_time(l->tick + j);
    if (times && late)
        times[grid] = event;
    return times;
}

/* The moments since the last update. */
static int feed(an_live *l, cl_session_reader *r, cl_error *err)
{
    double row, event;
    size_t n;
    uint64_t last;
    int rc = newest(l, r, &row, &event, err);
    double *times = rc == CL_OK ? moments(l, row, event, &n, &last) : NULL;
    if (!times)
        return rc == CL_OK && n ? cl_error_set(err, CL_ERR_NOMEM, "out of memory") : rc;
    batch *b = calloc(l->ndev ? l->ndev : 1, sizeof *b);
    if (!b)
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == CL_OK && i < l->ndev; i++)
        rc = read_batch(l, r, i, times, n, &b[i], err);
    for (size_t j = 0; rc == CL_OK && j < n; j++)
        rc = observe(l, r, b, j, times[j], err);
    if (rc == CL_OK) {
        l->tick = last + 1;
        l->shown = times[n - 1];
    }
    for (size_t i = 0; b && i < l->ndev; i++)
        drop_batch(&b[i]);
    free(b);
    free(times);
    return rc;
}

int an_live_update(an_live *l, const char *path, cl_error *err)
{
    cl_session_reader *r;
    int rc = cl_session_open(&r, path, err);
    if (rc != CL_OK)
        return rc;
    if (!l->begun)
        rc = begin(l, r, err);
    if (rc == CL_OK)
        rc = feed(l, r, err);
    cl_session_reader_close(r);
    return rc;
}
