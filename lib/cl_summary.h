/*
 * cl_summary: the first look at a session, per cup: how many samples, over
 * what time, and the range and mean of the raw readings.  Reads the file in
 * blocks, so memory does not grow with the recording.
 */
#ifndef CL_SUMMARY_H
#define CL_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "cl_session.h"

typedef struct cl_cup_summary {
    size_t samples;       /* rows recorded for the cup's device */
    size_t missing;       /* of those, NaN readings */
    double duration_s;    /* last minus first host time */
    double min_raw, max_raw, mean_raw; /* over finite readings; NaN if none */
} cl_cup_summary;

/* Summarise cup `cup` of an open session. */
int cl_summary_cup(cl_session_reader *r, size_t cup, cl_cup_summary *out, cl_error *err);

#endif
