/*
 * cl_dash: the live view's picture of a recording, shared between the side
 * that feeds it (one thread: the recorder's reader, say) and a server
 * (which reads).
 *
 * The feeding side tells the cups and devices once (cl_dash_begin), then
 * observes moments: a time and each device's last frame and counters
 * (cl_dash_observe), and hands them over (cl_dash_publish).  A feeder that
 * must never wait publishes with a try of the lock, and what it could not
 * hand over (history points, marker outcomes) stays with it for the next
 * time.  The server side copies under the lock and renders outside it.
 *
 * Kept: per cup the last CL_DASH_HISTORY_S seconds of moments, one every
 * CL_DASH_PERIOD_S, the current value, calibrated when the cup has a sensor
 * profile, and the time since the cup was applied (its vacuum crossed the
 * engage threshold of cl_segment), whether its reading sits at an end of the
 * ADC's range (saturated), and where its vacuum is against the target band;
 * per device its state and counters; the last CL_DASH_EVENTS events of the
 * recording (markers, whoever sent them, and the devices' own); the last
 * CL_DASH_MARKERS marker commands sent through cl_dash_queue_marker with
 * what became of them.  A dash without a check of marker commands is
 * read-only: it takes none (the view of a recording made elsewhere).
 */
#ifndef CL_DASH_H
#define CL_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_sensor.h"
#include "cl_session.h"
#include "cl_target.h"

#define CL_DASH_HISTORY_S 180
#define CL_DASH_PERIOD_S 0.1 /* seconds between two moments a feeder observes */
#define CL_DASH_POINTS ((size_t)(CL_DASH_HISTORY_S / CL_DASH_PERIOD_S + 0.5)) /* kept */
#define CL_DASH_MARKERS 32
#define CL_DASH_EVENTS 32
/* A calibrated cup's phase (cl_segment's names), followed moment by moment:
 * the hold begins once the vacuum has stopped rising for CL_DASH_SETTLE_S;
 * its leak is the least-squares slope of its last CL_DASH_LEAK_WINDOW_S,
 * per minute and as % of the mean vacuum then, and faster than
 * CL_DASH_LEAK_WARN_PCT_MIN the cup is shown leaking. */
#define CL_DASH_SETTLE_S 3.0
#define CL_DASH_LEAK_WINDOW_S 30.0
#define CL_DASH_LEAK_WARN_PCT_MIN 20.0

typedef struct cl_dash cl_dash;

/* Checks a marker command before it is queued: CL_OK, or CL_ERR_ARG with
 * the reason.  `cup_ids` are the session's cups, in order. */
typedef int (*cl_dash_check_fn)(void *ctx, const char *line, const char *const *cup_ids,
                                size_t ncups, cl_error *err);

/* `check` NULL: a read-only dash. */
int cl_dash_new(cl_dash **out, cl_dash_check_fn check, void *check_ctx, cl_error *err);
void cl_dash_free(cl_dash *d); /* accepts NULL */
/* Whether it takes no marker commands: true with the reason in `err`. */
bool cl_dash_read_only(const cl_dash *d, cl_error *err);

/* ------------------------------------------------------------- feeding side */

/* A cup of the session (the strings are copied). */
typedef struct cl_dash_cup {
    const char *id, *sensor_serial; /* serial "" or NULL: unknown */
    uint16_t device, channel;
    const cl_sensor_profile *profile; /* NULL: raw counts; must outlive the dash */
} cl_dash_cup;

/* A device at one moment. */
typedef struct cl_dash_device {
    bool connected;
    double last_frame_s;          /* time of its last frame; < 0: none yet */
    const double *last;           /* the last frame's raw sample of each channel
                                     (at least every channel a cup names) */
    cl_session_counters counters; /* `frames` gives the frame rate */
} cl_dash_device;

/* A device of the session. */
typedef struct cl_dash_port {
    const char *name; /* copied */
    int adc_bits;     /* its counts' resolution; 0 unknown (no saturation shown) */
} cl_dash_port;

/* The session's cups and devices, and the target (NULL: none; copied),
 * once before the first moment: CL_ERR_ARG for a cup on no device,
 * CL_ERR_NOMEM.  After an error the dash stays without a recording and
 * ignores the moments. */
int cl_dash_begin(cl_dash *d, const cl_dash_cup *cups, size_t ncups, const cl_dash_port *devices,
                  size_t ndevices, const cl_target *target, cl_error *err);
/* A moment at time `t` (seconds since the recording started): devices[i]
 * for each device of cl_dash_begin.  Kept by the feeding side until handed
 * over (the last 64 moments). */
void cl_dash_observe(cl_dash *d, double t, const cl_dash_device *devices);
/* An event the recording holds (a marker, a device gone, ...): `cup` an
 * index of the cup table or -1 (all, none).  Kept by the feeding side until
 * handed over (the last CL_DASH_EVENTS). */
void cl_dash_event(cl_dash *d, const cl_session_event *ev);
/* Hand over the moments, events and marker outcomes kept: waiting for the lock, or
 * (wait false) only if it is free at once.  False when it was not. */
bool cl_dash_publish(cl_dash *d, bool wait);
/* The oldest waiting marker command (true), for the recording; its outcome
 * goes to cl_dash_marker_done before the next is taken.  Never waits. */
bool cl_dash_next_marker(cl_dash *d, char *line, size_t cap);
void cl_dash_marker_done(cl_dash *d, bool accepted, const char *why);

/* -------------------------------------------------------------- server side */

/* Queue a marker command for the recording.  It is checked first: CL_ERR_ARG
 * with the reason if it is not a command, CL_ERR_BUSY when the recording
 * has not started or too many are waiting, CL_ERR_PERM on a read-only dash.
 * *id numbers it for cl_dash_json's "markers". */
int cl_dash_queue_marker(cl_dash *d, const char *line, uint64_t *id, cl_error *err);

/* The snapshot as JSON text (malloc'd; NULL if out of memory), with the
 * history points numbered above `since` only (0: all of them).  *last
 * (may be NULL) gets the number of the newest point. */
char *cl_dash_json(cl_dash *d, uint64_t since, uint64_t *last);

#endif
