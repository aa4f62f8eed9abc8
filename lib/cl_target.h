/*
 * cl_target: the vacuum a practitioner aims at, written "P" or "P:D" on the
 * command line (cuplab-acquire --target, and the inline form of
 * cuplab-analyze --target), and the band around it the live view draws.
 *
 * P is a vacuum with an optional unit (a bare number in CL_UNIT_BARE; a
 * gauge value, negative, is taken as its vacuum), below CL_KPA_ATMOSPHERE;
 * D a duration in seconds, or with the suffix s, min or h.
 */
#ifndef CL_TARGET_H
#define CL_TARGET_H

#include <stdbool.h>

#include "cl_error.h"

/* Half-width of the band when none is given: this % of the target. */
#define CL_TARGET_BAND_PCT 10.0

typedef struct cl_target {
    double vacuum_kpa; /* positive below ambient */
    double duration_s; /* NaN: held for the whole application */
    double band_kpa;   /* half-width of the band around vacuum_kpa */
} cl_target;

/* Parse "P" or "P:D"; the band is CL_TARGET_BAND_PCT % of P.  Errors
 * (CL_ERR_FORMAT, CL_ERR_ARG for a unit or a vacuum beyond the atmosphere)
 * name the spec and what is wrong. */
int cl_target_parse(const char *spec, cl_target *out, cl_error *err);

/* Set the band's half-width from "N%" (of the target) or a pressure (a bare
 * number in CL_UNIT_BARE); it must be positive and below the target. */
int cl_target_parse_band(const char *spec, cl_target *t, cl_error *err);

/* "600", "600s", "10min", "1h": true with the seconds (> 0) in *out. */
bool cl_target_parse_duration(const char *s, double *out);

#endif
