/*
 * cl_clock: how a device's clock relates to the host clock.  Every frame
 * gives a pair (device time, host time of arrival); arrival is late by a
 * variable latency (USB polling, read batching), never early.  The estimator
 * keeps, per bucket of host time, the pair with the smallest host-minus-
 * device difference (the least delayed frame), and fits a straight line
 * host_s = offset_s + slope * device_s through those points (GSL
 * gsl_fit_linear).  drift_ppm = (slope - 1) * 1e6 once device times are in
 * seconds; a device whose clock runs 1 % fast shows drift -10000 ppm.
 */
#ifndef CL_CLOCK_H
#define CL_CLOCK_H

#include <stddef.h>

#include "cl_error.h"

typedef struct cl_clock cl_clock;

typedef struct cl_clock_fit {
    size_t points;      /* buckets used */
    double offset_s;    /* host time at device time 0 */
    double slope;       /* host seconds per device second */
    double drift_ppm;   /* (slope - 1) * 1e6 */
    double offset_se_s, slope_se;
    double residual_sd_s; /* scatter of the kept points around the line */
} cl_clock_fit;

/* `device_unit_s`: seconds per device time unit (1e-6 for us, 1e-3 for ms;
 * 0 if unknown, in which case 1 is assumed and drift is meaningless);
 * `bucket_s`: host-time bucket width (e.g. 0.1 s). */
cl_clock *cl_clock_new(double device_unit_s, double bucket_s);
void cl_clock_free(cl_clock *c); /* accepts NULL */

/* Add one (device time, host time) pair; non-finite device times are
 * ignored.  Cheap enough to call for every frame. */
void cl_clock_add(cl_clock *c, double device_time, double host_s);

/* Forget the device's history, e.g. after a reconnect that may have reset
 * the device clock. */
void cl_clock_reset(cl_clock *c);

/* Fit the line; CL_ERR_ARG with fewer than 3 buckets. */
int cl_clock_estimate(const cl_clock *c, cl_clock_fit *fit, cl_error *err);

/* "us" -> 1e-6, "ms" -> 1e-3, "s" -> 1; 0 if unknown. */
double cl_clock_unit_seconds(const char *units);

#endif
