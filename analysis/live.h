/* analysis/live: --follow --live, the live view of a recording that another
 * process makes: the page and snapshot of cuplab-acquire --live (cl_dash,
 * cl_web), read-only, fed at each refresh with the rows the file holds by
 * then.  The moments are taken every CL_DASH_PERIOD_S of host time up to
 * the file's newest row, and at its newest event when that came later
 * (each device's last row at or before it), the last CL_DASH_HISTORY_S of
 * them when the view starts on a file already long; a device is
 * disconnected from a `disconnect` event naming its port to the next
 * `reconnect`; its frame count is its rows up to the moment, its other
 * counters the file's. */
#ifndef ANALYSIS_LIVE_H
#define ANALYSIS_LIVE_H

#include "options.h"
#include "cl_error.h"

typedef struct an_live an_live;

/* Serve as o->live says (the options' profiles must outlive the view).
 * Errors of cl_web_start. */
int an_live_start(an_live **out, const an_options *o, cl_error *err);
/* Open `path` (read-only, as a follower of a live file does) and hand the
 * rows added since the last update to the view.  Errors of the file as
 * cl_session_open and its reads return them. */
int an_live_update(an_live *l, const char *path, cl_error *err);
/* The address to open: "http://ADDR:PORT/?token=T". */
void an_live_url(const an_live *l, char *buf, size_t cap);
void an_live_stop(an_live *l); /* accepts NULL */

#endif
