/*
 * cl_timeaxis: the time axis a device's rows are analysed on.  It follows
 * the device's own clock (device_time, in its units), which does not jitter
 * like the host's read times; where the device clock is missing, unreadable
 * or jumps (back, or forward by CL_TIMEAXIS_MAX_STEP_S or more, as at a
 * device restart), the host clock bridges the step.  The axis starts at the
 * first row's host time, so events (stamped with host time) map onto it.
 */
#ifndef CL_TIMEAXIS_H
#define CL_TIMEAXIS_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_session_read.h"

#define CL_TIMEAXIS_MAX_STEP_S 3600.0

typedef struct cl_timeaxis {
    size_t n;           /* rows */
    double *t;          /* the axis, seconds */
    double *host;       /* the rows' host times, seconds */
} cl_timeaxis;

/* Read device `dev`'s clocks from `r` and build its axis (*ax zeroed
 * first; `name` names the file in errors).  CL_ERR_NOMEM, or a read error. */
int cl_timeaxis_load(cl_timeaxis *ax, cl_session_reader *r, size_t dev, const char *name,
                     cl_error *err);
void cl_timeaxis_release(cl_timeaxis *ax); /* leaves it empty; accepts an empty one */

/* Where host time `host_s` falls on the axis: between two rows, at the
 * earlier row's axis time plus the host time since it (at most the step to
 * the next row); before the first row, by the host clock. */
double cl_timeaxis_map(const cl_timeaxis *ax, double host_s);

/* Rows read at a time. */
#define CL_TIMEAXIS_BLOCK 65536

#endif
