/*
 * cl_clock: how a device's clock relates to the host clock.  Every frame
 * gives a pair (device time, host time of arrival); arrival is late by a
 * variable latency (USB polling, read batching), never early.  The estimator
 * keeps, per window of host time, the pair with the smallest host-minus-
 * device difference (the least delayed frame), and fits a straight line
 * host_s = offset_s + slope * (device_s - ref_device_s) through those points
 * with a robust (bisquare) fit, GSL gsl_multifit_robust: a point far above
 * the line, such as the last frames before a pause, which wait in the port
 * for a whole read batch, gets no weight instead of tilting the line.
 * ref_device_s is the mean device time of the points, so offset_s is the
 * host time at the middle of the recording and its standard error does not
 * depend on where the device clock started.  drift_ppm = (slope - 1) * 1e6
 * once device times are in seconds; a device whose clock runs 1 % fast
 * shows drift -10000 ppm.
 *
 * Windows are CL_CLOCK_WINDOW_S wide; once CL_CLOCK_MAX_POINTS points are
 * kept, neighbouring windows are merged in pairs (the less delayed point
 * stays) and the width doubles, so memory and the cost of an estimate stay
 * bounded however long the recording.
 */
#ifndef CL_CLOCK_H
#define CL_CLOCK_H

#include <stddef.h>

#include "cl_error.h"

#define CL_CLOCK_WINDOW_S 0.025
#define CL_CLOCK_MAX_POINTS 8192

typedef struct cl_clock cl_clock;

typedef struct cl_clock_fit {
    size_t points;       /* windows used */
    double ref_device_s; /* device time (s) the offset refers to: mean of the points */
    double offset_s;     /* host time at ref_device_s */
    double slope;        /* host seconds per device second */
    double drift_ppm;    /* (slope - 1) * 1e6 */
    double offset_se_s, slope_se;
    double residual_sd_s; /* robust scatter of the points around the line */
} cl_clock_fit;

/* `device_unit_s`: seconds per device time unit (1e-6 for us, 1e-3 for ms;
 * 0 if unknown, in which case 1 is assumed and drift is meaningless);
 * `window_s`: initial host-time window width (0: CL_CLOCK_WINDOW_S). */
cl_clock *cl_clock_new(double device_unit_s, double window_s);
void cl_clock_free(cl_clock *c); /* accepts NULL */

/* Add one (device time, host time) pair; non-finite times are ignored.
 * Cheap enough to call for every frame. */
void cl_clock_add(cl_clock *c, double device_time, double host_s);

/* Forget the device's history, e.g. after a reconnect that may have reset
 * the device clock. */
void cl_clock_reset(cl_clock *c);

/* Fit the line; CL_ERR_ARG with fewer than 3 windows. */
int cl_clock_estimate(const cl_clock *c, cl_clock_fit *fit, cl_error *err);


#endif
