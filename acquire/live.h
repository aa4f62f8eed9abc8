/* acquire/live: the live view of cuplab-acquire (--live): the shared
 * picture (cl_dash), fed through the recording's live hook, its server
 * (cl_web) and the embedded page. */
#ifndef ACQUIRE_LIVE_H
#define ACQUIRE_LIVE_H

#include "engine/cl_acq.h"
#include "cl_dash.h"
#include "cl_web.h"
#include "options.h"

typedef struct acq_live {
    cl_dash *dash;
    cl_web *web;
    cl_acq_live hook;
    const cl_sensor_profile *const *sensors;
    size_t nsensors;
    const cl_target *target; /* NULL: none */
    cl_dash_device *devs; /* the reader's moment, one per device */
    bool begun;
} acq_live;

/* Start serving as the options say and hook the view into o->cfg.live
 * (cl_web_url(l->web) tells where).  `sensors` must outlive it. */
int acq_live_start(acq_live *l, acq_options *o, const cl_sensor_profile *const *sensors,
                   size_t nsensors, cl_error *err);
void acq_live_stop(acq_live *l); /* accepts a live view never started */

#endif
