/*
 * cl_live: one channel read live through cl_port and cl_wire into a ring of
 * the most recent samples, with the stability test and the timed
 * measurement a live calibration uses at each setpoint.
 */
#include "engine/cl_live.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cl_port.h"
#include "cl_time.h"

#define READ_CHUNK 4096

struct cl_live {
    cl_port *port;
    cl_wire_decoder *dec;
    unsigned channel;
    char name[256];
    double *v, *t;    /* ring of values and device times */
    size_t cap, head; /* head: next slot */
    size_t count;     /* samples since reset (may exceed cap) */
    bool bad_channel;
    unsigned channels_seen;
    cl_ident ident; /* what the device announced */
};

const cl_ident *cl_live_ident(const cl_live *l)
{
    return &l->ident;
}

static void sink(void *ctx, const cl_wire_item *item)
{
    cl_live *l = ctx;
    if (item->kind == CL_WIRE_ITEM_META && item->key && item->value)
        cl_ident_set(&l->ident, item->key, item->value);
    if (item->kind != CL_WIRE_ITEM_FRAME)
        return;
    const cl_wire_frame *f = item->frame;
    if (l->channel >= f->n) {
        l->bad_channel = true;
        l->channels_seen = f->n;
        return;
    }
    l->v[l->head] = f->v[l->channel];
    l->t[l->head] = f->device_time;
    l->head = (l->head + 1) % l->cap;
    l->count++;
}

int cl_live_open(cl_live **out, const cl_live_options *o, cl_error *err)
{
    cl_live *l;
    int rc;

    *out = NULL;
    if (o->max_samples < 2 || o->max_samples > 10000000)
        return cl_error_set(err, CL_ERR_ARG, "samples per reading must be 2 to 10000000");
    if (o->channel >= CL_WIRE_MAX_CHANNELS)
        return cl_error_set(err, CL_ERR_ARG, "channel %u (0 to %d)", o->channel,
                            CL_WIRE_MAX_CHANNELS - 1);
    l = calloc(1, sizeof *l);
    if (!l)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    l->channel = o->channel;
    l->cap = o->max_samples;
    snprintf(l->name, sizeof l->name, "%s", o->port ? o->port : "");
    l->v = malloc(l->cap * sizeof *l->v);
    l->t = malloc(l->cap * sizeof *l->t);
    l->dec = cl_wire_decoder_new(o->protocol ? o->protocol : CL_WIRE_TEXT);
    if (!l->v || !l->t || !l->dec) {
        cl_live_close(l);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    if (o->text_timestamp)
        cl_wire_decoder_set_text_timestamp(l->dec, true);
    rc = cl_port_open(&l->port, o->port, o->baud, err);
    if (rc != CL_OK) {
        cl_live_close(l);
        return rc;
    }
    *out = l;
    return CL_OK;
}

void cl_live_close(cl_live *l)
{
    if (!l)
        return;
    cl_port_close(l->port);
    cl_wire_decoder_free(l->dec);
    free(l->v);
    free(l->t);
    free(l);
}

int cl_live_fd(const cl_live *l)
{
    return cl_port_fd(l->port);
}

int cl_live_pump(cl_live *l, cl_error *err)
{
    unsigned char buf[READ_CHUNK];
    for (int i = 0; i < 64; i++) {
        ssize_t n = cl_port_read(l->port, buf, sizeof buf, err);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        cl_wire_decode(l->dec, buf, (size_t)n, sink, l);
    }
    if (l->bad_channel)
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: channel %u does not exist (the device sends "
                            "%u channel%s, numbered from 0)",
                            l->name, l->channel, l->channels_seen,
                            l->channels_seen == 1 ? "" : "s");
    return CL_OK;
}

void cl_live_reset(cl_live *l)
{
    l->count = 0;
    l->head = 0;
}

size_t cl_live_count(const cl_live *l)
{
    return l->count;
}

const cl_wire_stats *cl_live_stats(const cl_live *l)
{
    return cl_wire_decoder_stats(l->dec);
}

/* Mean and SD of the last n samples (n <= available). */
static void last_stats(const cl_live *l, size_t n, cl_live_reading *r)
{
    double sum = 0, ss = 0;
    size_t start = (l->head + l->cap - n) % l->cap;
    for (size_t k = 0; k < n; k++)
        sum += l->v[(start + k) % l->cap];
    double mean = sum / (double)n;
    for (size_t k = 0; k < n; k++) {
        double d = l->v[(start + k) % l->cap] - mean;
        ss += d * d;
    }
    r->mean = mean;
    r->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    r->n = n;
    r->t_first = l->t[start];
    r->t_last = l->t[(start + n - 1) % l->cap];
}

bool cl_live_stable(const cl_live *l, size_t n, double sd_max, cl_live_reading *r)
{
    if (n < 2 || n > l->cap || l->count < n)
        return false;
    cl_live_reading tmp;
    last_stats(l, n, &tmp);
    if (r)
        *r = tmp;
    return tmp.sd <= sd_max;
}

int cl_live_measure(cl_live *l, size_t n, double sd_max, double timeout_s, cl_live_reading *r,
                    cl_error *err)
{
    cl_live_reading last = {NAN, NAN, 0, NAN, NAN};
    double end = cl_time_mono_s() + timeout_s;
    int rc;

    if (n < 2 || n > l->cap)
        return cl_error_set(err, CL_ERR_ARG, "samples per reading must be 2 to %zu", l->cap);
    /* What is already buffered is stale: read it, then start afresh. */
    if ((rc = cl_live_pump(l, err)) != CL_OK)
        return rc;
    cl_live_reset(l);
    for (;;) {
        if ((rc = cl_live_pump(l, err)) != CL_OK)
            return rc;
        if (l->count >= n) {
            if (cl_live_stable(l, n, sd_max, r))
                return CL_OK;
            last_stats(l, n, &last);
        }
        double rem = end - cl_time_mono_s();
        if (rem <= 0)
            break;
        struct pollfd p = {cl_port_fd(l->port), POLLIN, 0};
        int ms = rem > 0.1 ? 100 : (int)(rem * 1000) + 1;
        if (poll(&p, 1, ms) < 0 && errno != EINTR)
            break;
    }
    if (l->count < n)
        return cl_error_set(err, CL_ERR_RANGE,
                            "%s: only %zu samples of channel %u within %g s (need %zu)",
                            l->name, l->count, l->channel, timeout_s, n);
    return cl_error_set(err, CL_ERR_RANGE,
                        "%s: reading did not settle within %g s (SD %.3g over the last %zu "
                        "samples, limit %.3g)",
                        l->name, timeout_s, last.sd, n, sd_max);
}
