#include "engine/cl_devcmd.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_port.h"
#include "cl_time.h"

struct cl_devcmd {
    cl_port *port;
    cl_wire_decoder *dec;
    cl_devcmd_pair pairs[CL_DEVCMD_PAIRS];
    cl_devcmd_pair saved[CL_DEVCMD_PAIRS]; /* the pairs before an "id" */
    size_t npairs;
    bool framed;        /* a valid frame has arrived */
    char answer[8];     /* "ok" or "error" of the last answer, "" none */
    char reason[CL_WIRE_META_MAX + 1];
};

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
}

static void sink(void *ctx, const cl_wire_item *it)
{
    cl_devcmd *d = ctx;
    if (it->kind == CL_WIRE_ITEM_FRAME) {
        d->framed = true;
        return;
    }
    if (it->kind != CL_WIRE_ITEM_META)
        return;
    if (!strcmp(it->key, "ok") || !strcmp(it->key, "error")) {
        copy(d->answer, sizeof d->answer, it->key);
        copy(d->reason, sizeof d->reason, it->value);
        return;
    }
    size_t i = 0;
    while (i < d->npairs && strcmp(d->pairs[i].key, it->key))
        i++;
    if (i == CL_DEVCMD_PAIRS)
        return;
    if (i == d->npairs) {
        d->npairs++;
        copy(d->pairs[i].key, sizeof d->pairs[i].key, it->key);
    }
    copy(d->pairs[i].value, sizeof d->pairs[i].value, it->value);
}

/* Read and decode until done(d) or `timeout_s` passes; true if done. */
static bool read_until(cl_devcmd *d, bool (*done)(const cl_devcmd *, const char *),
                       const char *arg, double timeout_s, int *rc, cl_error *err)
{
    double end = cl_time_mono_s() + timeout_s;
    uint8_t buf[4096];
    *rc = CL_OK;
    while (!done(d, arg)) {
        double left = end - cl_time_mono_s();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = cl_port_fd(d->port), .events = POLLIN};
        poll(&pfd, 1, (int)(left * 1000) + 1);
        ssize_t n = cl_port_read(d->port, buf, sizeof buf, err);
        if (n < 0) {
            *rc = (int)n;
            return false;
        }
        cl_wire_decode(d->dec, buf, (size_t)n, sink, d);
    }
    return true;
}

static bool got_frame(const cl_devcmd *d, const char *unused)
{
    (void)unused;
    return d->framed;
}

static bool got_answer(const cl_devcmd *d, const char *command)
{
    return !strcmp(d->answer, "error") ||
           (!strcmp(d->answer, "ok") && !strcmp(d->reason, command));
}

int cl_devcmd_open(cl_devcmd **out, const cl_acq_port *port, double probe_timeout_s,
                   cl_error *err)
{
    cl_devcmd *d = calloc(1, sizeof *d);
    int rc;
    *out = NULL;
    if (!d || !(d->dec = cl_wire_decoder_new(port->protocol))) {
        free(d);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    cl_wire_decoder_set_text_timestamp(d->dec, port->text_timestamp);
    if ((rc = cl_port_open(&d->port, port->name, port->baud, err)) != CL_OK) {
        cl_devcmd_close(d);
        return rc;
    }
    if (!read_until(d, got_frame, NULL, probe_timeout_s, &rc, err)) {
        cl_devcmd_close(d);
        return rc != CL_OK ? rc
                           : cl_error_set(err, CL_ERR_IO, "%s: no valid frame in %g s",
                                          port->name, probe_timeout_s);
    }
    *out = d;
    return CL_OK;
}

void cl_devcmd_close(cl_devcmd *d)
{
    if (!d)
        return;
    cl_port_close(d->port);
    cl_wire_decoder_free(d->dec);
    free(d);
}

int cl_devcmd_send(cl_devcmd *d, const char *command, cl_error *err)
{
    char line[CL_WIRE_META_MAX + 2];
    int rc, n = snprintf(line, sizeof line, "%s\n", command);
    const char *name = cl_port_get_info(d->port)->name;
    if (n < 0 || (size_t)n >= sizeof line || strchr(command, '\n'))
        return cl_error_set(err, CL_ERR_ARG, "command too long or not one line");
    d->answer[0] = '\0';
    if ((rc = cl_port_write(d->port, line, (size_t)n, CL_DEVCMD_ANSWER_S, err)) != CL_OK)
        return rc;
    if (!read_until(d, got_answer, command, CL_DEVCMD_ANSWER_S, &rc, err))
        return rc != CL_OK ? rc
                           : cl_error_set(err, CL_ERR_NOTFOUND,
                                          "%s: no answer to '%s' in %g s", name, command,
                                          CL_DEVCMD_ANSWER_S);
    if (!strcmp(d->answer, "error"))
        return cl_error_set(err, CL_ERR_ARG, "%s: '%s': %s", name, command, d->reason);
    return CL_OK;
}

int cl_devcmd_identify(cl_devcmd *d, cl_error *err)
{
    size_t n = d->npairs;
    memcpy(d->saved, d->pairs, n * sizeof *d->pairs);
    d->npairs = 0;
    int rc = cl_devcmd_send(d, "id", err);
    if (rc != CL_OK) {
        memcpy(d->pairs, d->saved, n * sizeof *d->pairs);
        d->npairs = n;
    }
    return rc;
}

const cl_devcmd_pair *cl_devcmd_pairs(const cl_devcmd *d, size_t *n)
{
    *n = d->npairs;
    return d->pairs;
}
