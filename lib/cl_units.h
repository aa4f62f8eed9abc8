/*
 * cl_units: pressure units.  Internally cuplab computes in kPa (gauge unless
 * stated); the cupping literature reports mmHg, engineering kPa or mbar:
 * every input and output unit goes through here.
 *   1 mmHg = 0.133322 kPa (0.1333224), 1 mbar = 0.1 kPa, 1 inHg = 3.38639 kPa,
 *   1 psi = 6.89476 kPa, 1 Pa = 0.001 kPa.
 */
#ifndef CL_UNITS_H
#define CL_UNITS_H

typedef enum cl_unit {
    CL_UNIT_PA = 1,
    CL_UNIT_KPA = 2,
    CL_UNIT_MBAR = 3,
    CL_UNIT_MMHG = 4,
    CL_UNIT_INHG = 5,
    CL_UNIT_PSI = 6,
} cl_unit;

/* Case-insensitive "Pa", "kPa", "mbar" (also "hPa"), "mmHg" (also "torr"),
 * "inHg", "psi" -> unit; 0 if unknown. */
cl_unit cl_unit_from_name(const char *name);
/* Canonical spelling ("kPa", "mmHg", ...). */
const char *cl_unit_name(cl_unit u);
/* Conversions; the factor is exact per the table above. */
double cl_unit_to_kpa(double value, cl_unit u);
double cl_unit_from_kpa(double kpa, cl_unit u);

#endif
