/*
 * cl_calfile: the CSV inputs of a calibration, as docs/calibration.md
 * describes them: sensor calibration points, the cup list of a cup-set
 * characterisation, and a decay recording as (t, p) pairs.
 *
 * Common rules: comma-separated, first non-comment line is the header,
 * lines starting with '#' and blank lines are skipped, fields are trimmed,
 * a field may be double-quoted ("" inside quotes is one quote).  Column
 * names are case-insensitive.  A pressure column may carry its unit in its
 * name ("ref_mmHg", "p_kPa"); otherwise a "unit" column gives it per row,
 * or the caller's default unit.  Every error message names the file and,
 * where it applies, the line.
 */
#ifndef CL_CALFILE_H
#define CL_CALFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_sensor.h"
#include "cl_units.h"

/* Sensor points.  Columns:
 *   ref | ref_<unit> | reference | reference_<unit>   reference gauge pressure (required)
 *   unit                      unit of ref on this row (optional)
 *   raw | raw1, raw2, ...     raw readings at the point, averaged (at least one)
 *   raw_sd, n                 SD and count of the samples behind a single
 *                             averaged raw (optional)
 *   direction | dir           up / down (optional: inferred)
 *   temperature_c | temp_c    (optional)
 * `ref_unit` (0 = none) is used when neither the column name nor a unit
 * column gives the unit; with none of the three it is an error.
 * *pts is malloc'ed (free()); CL_ERR_FORMAT / CL_ERR_ARG (unknown unit). */
int cl_calfile_sensor_points(const char *path, cl_unit ref_unit, cl_sensor_point **pts,
                             size_t *n, cl_error *err);

/* Write points in the format above (ref in kPa), atomically; an existing
 * file is replaced only with `force`. */
int cl_calfile_write_points(const char *path, const cl_sensor_point *pts, size_t n, bool force,
                            cl_error *err);

/* Points kept as they are taken, in the same format: open creates `path`
 * with the header (CL_ERR_EXISTS if it exists, unless `force`), or with
 * `append` adds to an existing points file; each _add() writes one row and
 * syncs it to disk, so a crash loses no point already added. */
typedef struct cl_calfile_points_log cl_calfile_points_log;
int cl_calfile_points_log_open(cl_calfile_points_log **out, const char *path, bool force,
                               bool append, cl_error *err);
int cl_calfile_points_log_add(cl_calfile_points_log *lg, const cl_sensor_point *p, cl_error *err);
void cl_calfile_points_log_close(cl_calfile_points_log *lg); /* accepts NULL */

/* One row of a cup list. */
typedef struct cl_cuprow {
    char *cup, *material, *size;   /* cup id required; others may be NULL */
    double volume_ml, volume_u_ml; /* entered volume (NaN if absent) */
    /* gas expansion (NaN if absent): reference volume, pressures in kPa
     * (gauge unless p_absolute), standard uncertainty of each reading */
    double vref_ml, vref_u_ml, p_ref_kpa, p_cup_kpa, p_final_kpa, p_u_kpa;
    bool p_absolute;
    char *decay;         /* decay recording (path resolved against
                            the list's directory), NULL if none */
    char *decay_cup;     /* cup id in a session file (NULL: the cup id) */
    double from_s, to_s; /* fit window override, NaN if absent */
    int line;            /* line in the list */
} cl_cuprow;

/* Cup list.  Columns: cup (required), material, size, volume_ml,
 * volume_u_ml, vref_ml, vref_u_ml, p_ref, p_cup, p_final, p_u (pressures
 * in the unit column / name suffix / `unit`), pressure ("gauge" default, or
 * "absolute"), decay, decay_cup, from_s, to_s. */
int cl_calfile_cups(const char *path, cl_unit unit, cl_cuprow **rows, size_t *n, cl_error *err);
void cl_calfile_cups_free(cl_cuprow *rows, size_t n); /* accepts NULL */

/* Decay recording: columns t | t_s | time | time_s (seconds) and
 * p | p_<unit> | pressure | pressure_<unit> (gauge), optional unit column.
 * Arrays malloc'ed (free()). */
int cl_calfile_decay(const char *path, cl_unit unit, double **t_s, double **p_kpa, size_t *n,
                     cl_error *err);

#endif
