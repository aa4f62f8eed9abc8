/*
 * cl_cohorttarget: a reference protocol the group profiles of a cohort are
 * compared with (--target; docs/cohort.md, "Target protocol"): its parsing
 * from the command line or a CSV curve, its value along an application, and
 * the RMS distance of a profile to it.
 *
 * Every pressure is vacuum in kPa, positive below ambient.
 */
#ifndef CL_COHORTTARGET_H
#define CL_COHORTTARGET_H

#include <stddef.h>

#include "cl_error.h"
#include "cl_units.h"

typedef enum cl_cohorttarget_kind {
    CL_COHORTTARGET_NONE = 0,
    CL_COHORTTARGET_LEVEL,   /* a vacuum held over the whole application (normalised time) */
    CL_COHORTTARGET_HOLD,    /* a vacuum held for a duration (absolute time) */
    CL_COHORTTARGET_CURVE_T, /* a curve over time since the onset (absolute) */
    CL_COHORTTARGET_CURVE_U, /* a curve over normalised time u in [0, 1] */
} cl_cohorttarget_kind;

typedef struct cl_cohorttarget {
    cl_cohorttarget_kind kind;
    double vacuum_kpa, duration_s; /* LEVEL, HOLD */
    size_t n;                      /* CURVE_*: points, x increasing */
    double *x, *v_kpa;             /* x: seconds since the onset or u */
    char label[160];               /* "300 mmHg for 10 min", or the file name */
} cl_cohorttarget;

/* Parse --target: "P" or "P:D" (a vacuum with an optional unit, a bare
 * number in CL_UNIT_BARE, at most CL_KPA_ATMOSPHERE; a duration in s, or
 * with the suffix s, min or h), or the name
 * of a CSV file with a header naming a time column (t_s, t_min or u) and a
 * vacuum column whose name carries its unit (vacuum_mmHg, vacuum_kPa, ...;
 * gauge pressures, negative, are taken as their vacuum).  Errors name what
 * is wrong (CL_ERR_FORMAT, CL_ERR_ARG for an unknown or missing unit,
 * CL_ERR_NOTFOUND). */
int cl_cohorttarget_parse(const char *spec, cl_cohorttarget *out, cl_error *err);
void cl_cohorttarget_release(cl_cohorttarget *t); /* accepts NULL */

/* Value of the target at u (normalised) for a group with application time
 * span_s, as the distance uses it; NaN without a target. */
double cl_cohorttarget_at(const cl_cohorttarget *t, double u, double span_s);

/* RMS distance of a profile `mean` (CL_COHORTSESSION_POINTS values in normalised
 * time, kPa) over an application of span_s to the target (not NONE): in
 * normalised time for a level or a u-curve, else in absolute time over
 * [0, max(end of the target, span)]. */
double cl_cohorttarget_rms(const cl_cohorttarget *t, const double *mean, double span_s);

#endif
