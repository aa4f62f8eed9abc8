/* acquire/live: start and stop the live view, and feed it the reader's status. */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cl_marker.h"

/* The session's cups and devices, at the first status. */
static void begin(acq_live *l, const cl_acq_status *st)
{
    cl_dash_cup *cups = calloc(st->ncups ? st->ncups : 1, sizeof *cups);
    cl_dash_port *ports = calloc(st->ndevices ? st->ndevices : 1, sizeof *ports);
    l->devs = calloc(st->ndevices ? st->ndevices : 1, sizeof *l->devs);
    if (cups && ports && l->devs) {
        for (size_t k = 0; k < st->ncups; k++) {
            const cl_acq_cup *c = &st->cups[k];
            cups[k] = (cl_dash_cup){c->cup_id, c->sensor_serial, c->device, c->channel,
                                    cl_sensor_profile_find(l->sensors, l->nsensors,
                                                           c->sensor_serial)};
        }
        for (size_t i = 0; i < st->ndevices; i++)
            ports[i] = (cl_dash_port){st->devices[i].port, st->devices[i].adc_bits};
        /* out of memory: no live view, the recording goes on */
        cl_dash_begin(l->dash, cups, st->ncups, ports, st->ndevices, l->target, NULL);
    }
    free(cups);
    free(ports);
}

/* The reader's status of this moment: observed, and handed over if the
 * server lets it at once. */
static void publish(void *ctx, const cl_acq_status *st)
{
    acq_live *l = ctx;
    if (!l->begun) {
        l->begun = true;
        begin(l, st);
    }
    if (!l->devs)
        return;
    for (size_t i = 0; i < st->ndevices; i++) {
        const cl_acq_device_status *ds = &st->devices[i];
        l->devs[i] = (cl_dash_device){ds->connected, ds->last_frame_s, ds->last, ds->counters};
    }
    cl_dash_observe(l->dash, st->elapsed_s, l->devs);
    cl_dash_publish(l->dash, false);
}

static void event(void *ctx, const cl_session_event *ev)
{
    cl_dash_event(((acq_live *)ctx)->dash, ev);
}

static bool next_marker(void *ctx, char *line, size_t cap)
{
    return cl_dash_next_marker(((acq_live *)ctx)->dash, line, cap);
}

static void feedback(void *ctx, const char *line, bool accepted, const char *why)
{
    (void)line;
    cl_dash_marker_done(((acq_live *)ctx)->dash, accepted, why);
}

/* A command from the page is taken as a typed line would be. */
static int check_marker(void *ctx, const char *line, const char *const *cup_ids, size_t ncups,
                        cl_error *err)
{
    cl_session_event ev;
    char text[CL_SESSION_EVENT_TEXT];
    (void)ctx;
    if (strlen(line) > CL_MARKER_LINE_MAX)
        return cl_error_set(err, CL_ERR_ARG, "a marker command has at most %d bytes",
                            CL_MARKER_LINE_MAX);
    return cl_marker_parse(line, cup_ids, ncups, &ev, text, sizeof text, NULL, err);
}

int acq_live_start(acq_live *l, acq_options *o, const cl_sensor_profile *const *sensors,
                   size_t nsensors, cl_error *err)
{
    int rc;
    memset(l, 0, sizeof *l);
    if ((rc = cl_dash_new(&l->dash, check_marker, NULL, err)) != CL_OK)
        return rc;
    l->sensors = sensors;
    l->nsensors = nsensors;
    l->target = o->cfg.meta.target;
    cl_web_options wo = {o->live, cl_web_page, cl_web_page_n, l->dash};
    if ((rc = cl_web_start(&l->web, &wo, err)) != CL_OK) {
        cl_dash_free(l->dash);
        l->dash = NULL;
        return rc;
    }
    l->hook = (cl_acq_live){publish, event, next_marker, feedback, l, CL_DASH_PERIOD_S};
    o->cfg.live = &l->hook;
    return CL_OK;
}

void acq_live_stop(acq_live *l)
{
    cl_web_stop(l->web);
    cl_dash_free(l->dash);
    free(l->devs);
    l->web = NULL;
    l->dash = NULL;
    l->devs = NULL;
}
