/*
 * cl_dash: the live view's picture of a recording, shared between the
 * acquisition reader (which publishes) and a server (which reads).
 *
 * The reader side (cl_dash_hook: publish, next_marker, feedback) never
 * waits: it takes the lock with a try, and what it could not hand over
 * (history points, marker outcomes) stays with it for the next period.
 * The server side copies under the lock and renders outside it.
 *
 * Kept: per cup the last CL_DASH_HISTORY_S seconds at the publish rate
 * (1 / CL_ACQ_LIVE_PERIOD_S), the current value, calibrated when a sensor
 * profile matches the cup's sensor serial, and the time since the cup was
 * applied (its vacuum crossed the engage threshold of cl_segment); per
 * device its state and counters; the last CL_DASH_MARKERS marker commands
 * sent through cl_dash_queue_marker with what became of them.
 */
#ifndef CL_DASH_H
#define CL_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/cl_acq.h"
#include "cl_error.h"
#include "cl_sensor.h"

#define CL_DASH_HISTORY_S 180
#define CL_DASH_MARKERS 32

typedef struct cl_dash cl_dash;

/* `sensors` (may be NULL when n is 0) must outlive the dash. */
int cl_dash_new(cl_dash **out, const cl_sensor_profile *const *sensors, size_t nsensors,
                cl_error *err);
void cl_dash_free(cl_dash *d); /* accepts NULL */

/* The hook to put in cl_acq_config.live. */
const cl_acq_live *cl_dash_hook(cl_dash *d);

/* Queue a marker command (cl_marker grammar) for the recording.  It is
 * checked against the session's cups first: CL_ERR_ARG with the reason if
 * it is not a command, CL_ERR_BUSY when the recording has not started or
 * too many are waiting.  *id numbers it for cl_dash_json's "markers". */
int cl_dash_queue_marker(cl_dash *d, const char *line, uint64_t *id, cl_error *err);

/* The snapshot as JSON text (malloc'd; NULL if out of memory), with the
 * history points numbered above `since` only (0: all of them).  *last
 * (may be NULL) gets the number of the newest point. */
char *cl_dash_json(cl_dash *d, uint64_t since, uint64_t *last);

#endif
