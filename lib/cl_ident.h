/*
 * cl_ident: who a device says it is.  A device identifies itself with
 * metadata ("key: value" pairs: "# key: value" lines in the text protocol,
 * metadata frames in the binary one); docs/wire-protocols.md, "Device
 * identity", lists the keys.  cl_ident collects the ones it knows into one
 * record, from the pairs as they arrive or from a recorded announcement.
 * Unknown keys are left alone (they stay in the announcement); a value that
 * does not parse leaves the field unknown.
 */
#ifndef CL_IDENT_H
#define CL_IDENT_H

#include <stdbool.h>

#include "cl_wire.h"

#define CL_IDENT_TEXT 64 /* bytes of a text field, NUL included */

typedef struct cl_ident {
    int protocol_version; /* announced, 1 when the device said nothing */
    char device[CL_IDENT_TEXT];   /* device serial, "" unknown */
    char firmware[CL_IDENT_TEXT]; /* firmware name and version */
    char adc_reference[CL_IDENT_TEXT];
    char time_units[CL_IDENT_TEXT]; /* text protocol: unit of the time column */
    int channels, adc_bits;         /* -1 unknown */
    double rate_hz, adc_reference_mv; /* NaN unknown */
    char sensor_serial[CL_WIRE_MAX_CHANNELS][CL_IDENT_TEXT]; /* "" unknown */
    char sensor_model[CL_WIRE_MAX_CHANNELS][CL_IDENT_TEXT];
} cl_ident;

/* Everything unknown. */
void cl_ident_init(cl_ident *id);

/* Take one metadata pair; true when `key` is an identity key. */
bool cl_ident_set(cl_ident *id, const char *key, const char *value);

/* cl_ident_init, then every "key: value" line of `announcement` (lines
 * joined by "\n", as the session file stores them; NULL = none). */
void cl_ident_parse(cl_ident *id, const char *announcement);

/* The ADC's full scale in counts, 2^adc_bits - 1; NaN when adc_bits is
 * unknown (not positive). */
double cl_ident_adc_max(int adc_bits);
/* Whether a reading sits at an end of the ADC's range (0 or full scale), so
 * the pressure may lie beyond it: saturated.  False when the full scale is
 * unknown (NaN). */
bool cl_ident_saturated(double raw, double adc_max);

#endif
