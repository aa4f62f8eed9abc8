/*
 * cl_units: pressure units.  Internally cuplab computes in kPa (gauge unless
 * stated); the cupping literature reports mmHg, engineering kPa or mbar:
 * every input and output unit goes through here.  Conventional factors:
 *   1 Pa = 0.001 kPa, 1 mbar = 0.1 kPa (1 hPa = 1 mbar),
 *   1 mmHg = 0.133322387415 kPa (1 torr is taken as 1 mmHg),
 *   1 inHg = 3.386389 kPa, 1 psi = 6.894757293168 kPa.
 */
#ifndef CL_UNITS_H
#define CL_UNITS_H

#include "cl_error.h"

typedef enum cl_unit {
    CL_UNIT_PA = 1,
    CL_UNIT_KPA = 2,
    CL_UNIT_MBAR = 3,
    CL_UNIT_MMHG = 4,
    CL_UNIT_INHG = 5,
    CL_UNIT_PSI = 6,
} cl_unit;

/* kPa per unit. */
#define CL_KPA_PER_PA 0.001
#define CL_KPA_PER_MBAR 0.1
#define CL_KPA_PER_MMHG 0.133322387415
#define CL_KPA_PER_INHG 3.386389
#define CL_KPA_PER_PSI 6.894757293168

/* The nominal transfer of the MPXV6115V vacuum sensor, which the virtual
 * device simulates and the analysis assumes for a cup without a profile:
 * output fraction of the supply = CL_NOMINAL_SENSITIVITY_PER_KPA * P +
 * CL_NOMINAL_OFFSET, P gauge pressure in kPa (negative under vacuum). */
#define CL_NOMINAL_SENSITIVITY_PER_KPA 0.007652
#define CL_NOMINAL_OFFSET 0.92

/* Case-insensitive "Pa", "kPa", "mbar" (also "hPa"), "mmHg" (also "torr"),
 * "inHg", "psi" -> unit; 0 if unknown (also for NULL). */
cl_unit cl_unit_from_name(const char *name);
/* Canonical spelling ("kPa", "mmHg", ...); "?" for an invalid unit. */
const char *cl_unit_name(cl_unit u);
/* The accepted names, for messages: "Pa, kPa, mbar, mmHg, inHg, psi". */
const char *cl_unit_names(void);
/* Conversions (NaN for an invalid unit). */
double cl_unit_to_kpa(double value, cl_unit u);
double cl_unit_from_kpa(double kpa, cl_unit u);

/* Seconds per unit of a device clock: "us" 1e-6, "ms" 1e-3, "s" 1; 0 if
 * unknown (also for NULL). */
double cl_unit_time_s(const char *units);

/* The unit of a pressure written without one, in every program (options,
 * settings files, typed answers): mmHg, the unit of the cupping literature.
 * Only values read off a reference gauge whose unit was declared
 * (cuplab-calibrate --ref-unit) are in that unit instead. */
#define CL_UNIT_BARE CL_UNIT_MMHG

/* The standard atmosphere, kPa: no vacuum can be deeper. */
#define CL_KPA_ATMOSPHERE 101.325

/* Parse a pressure written as a number with an optional unit after it
 * ("-300", "-300 mmHg", "0.4kPa"); a bare number is in `dflt`.  On success
 * *kpa holds the value in kPa.  CL_ERR_FORMAT if the number is malformed or
 * not finite, CL_ERR_ARG naming the unit if it is unknown; *kpa is NaN then. */
int cl_unit_parse_kpa(const char *text, cl_unit dflt, double *kpa, cl_error *err);

#endif
