/*
 * cl_sensor: sensor profiles, the transfer function of one sensor (raw
 * reading -> gauge kPa, a polynomial of degree 1..CL_PROFILE_MAX_DEGREE with
 * covariance) and its figures (non-linearity, hysteresis, repeatability,
 * expanded uncertainty), with the calibration points, setpoints and degree
 * trials they came from.  Reads and writes the "sensor" kind of profile
 * (docs/profile-format.md; what both kinds share is cl_profile).  Also the
 * direction of approach of a calibration point (cl_direction).
 */
#ifndef CL_SENSOR_H
#define CL_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cl_error.h"
#include "cl_profile.h"

typedef struct cl_sensor_profile cl_sensor_profile;

/* Parse a profile from JSON text / a file.  Validates format, version and
 * kind; CL_ERR_FORMAT / CL_ERR_VERSION with a one-line reason otherwise. */
int cl_sensor_profile_parse(const char *json, cl_sensor_profile **out, cl_error *err);
int cl_sensor_profile_load(const char *path, cl_sensor_profile **out, cl_error *err);
void cl_sensor_profile_free(cl_sensor_profile *p); /* accepts NULL */

const char *cl_sensor_profile_serial(const cl_sensor_profile *p);
/* The profile among `ps` whose serial is `serial`; NULL if none (or
 * serial is NULL or empty). */
const cl_sensor_profile *cl_sensor_profile_find(const cl_sensor_profile *const *ps, size_t n,
                                                const char *serial);
/* Raw reading -> gauge pressure in kPa. */
double cl_sensor_profile_kpa(const cl_sensor_profile *p, double raw);
/* True if the transfer is linear (degree 1): kPa = *offset_kpa +
 * *kpa_per_count * raw. */
bool cl_sensor_profile_linear(const cl_sensor_profile *p, double *offset_kpa,
                              double *kpa_per_count);
/* Expanded (k = 2) uncertainty of that pressure, kPa. */
double cl_sensor_profile_u_kpa(const cl_sensor_profile *p, double raw);
/* Raw readings the calibration covered; outside them results are flagged. */
void cl_sensor_profile_raw_range(const cl_sensor_profile *p, double *lo, double *hi);
/* CL_ERR_EXPIRED (message names serial and date) if `now` is past the
 * profile's valid-until date. */
int cl_sensor_profile_check_valid(const cl_sensor_profile *p, time_t now, cl_error *err);
/* The profile as JSON text (malloc'ed), as written to files and sessions. */
char *cl_sensor_profile_to_json(const cl_sensor_profile *p);

/* Direction of approach of a calibration point. */
typedef enum cl_direction {
    CL_DIR_UNKNOWN = 0,
    CL_DIR_UP = 1,    /* |gauge pressure| increasing: vacuum deepening (loading) */
    CL_DIR_DOWN = -1, /* |gauge pressure| decreasing: vacuum released (unloading) */
} cl_direction;

/* "up" / "down" / "unknown". */
const char *cl_direction_name(cl_direction d);
/* "up"/"asc"/"ascending"/"u" -> UP, "down"/"desc"/"descending"/"d" -> DOWN,
 * ""/NULL -> UNKNOWN; -2 if not recognised. */
int cl_direction_from_name(const char *name);

/* One calibration point: a reference pressure and the sensor's reading. */
typedef struct cl_sensor_point {
    double ref_kpa;     /* reference gauge pressure, kPa */
    double raw;         /* raw reading (mean of the samples), counts */
    double raw_sd;      /* SD of the samples averaged, counts; NaN if unknown */
    unsigned n_samples; /* samples averaged (>= 1) */
    cl_direction direction;
    double temperature_c; /* NaN if not recorded */
    /* derived by the fit */
    size_t setpoint;     /* index into the setpoint table */
    double fit_kpa;      /* the transfer function at raw */
    double residual_kpa; /* fit_kpa - ref_kpa (error of the calibrated reading) */
    double u_kpa;        /* expanded uncertainty U (k = 2) at raw */
} cl_sensor_point;

/* Points grouped by setpoint (references within the grouping tolerance). */
typedef struct cl_sensor_setpoint {
    double ref_kpa; /* mean reference of the group */
    size_t n_up, n_down, n_unknown;
    double raw_up, raw_down;             /* mean raw per direction; NaN if none */
    double error_up_kpa, error_down_kpa; /* mean residual per direction; NaN if none */
    double hysteresis_kpa;               /* error_down - error_up; NaN unless both */
    double repeatability_kpa;            /* pooled within-direction SD of the residuals;
                                            NaN without repeats */
    double u_kpa;                        /* U at the group's mean raw */
} cl_sensor_setpoint;

/* One candidate degree tried by the fit. */
typedef struct cl_sensor_trial {
    int degree;
    bool monotonic; /* the curve is monotonic over the raw range */
    bool pass;      /* every point: |residual| + U <= tolerance */
    double max_residual_kpa;
    double u_max_kpa;
    double worst_kpa; /* max over points of |residual| + U */
} cl_sensor_trial;

/* Everything a sensor profile holds.  Strings are malloc'ed and owned by
 * whoever owns the struct (NULL = unknown); set them with cl_profile_set_str. */
typedef struct cl_sensor_calibration {
    /* identification and conditions */
    char *serial, *model, *date, *valid_until, *operator_name, *reference, *notes, *software,
        *source;
    int channel;          /* device channel used, -1 if unknown */
    double ref_u_kpa;     /* reference instrument's stated expanded uncertainty */
    double ref_k;         /* ... and its coverage factor */
    double temperature_c; /* NaN if not recorded */
    /* transfer function: kPa = sum_i coef[i] raw^i, i <= degree */
    int degree;
    double coef[CL_PROFILE_MAX_DEGREE + 1];
    double cov[CL_PROFILE_MAX_DEGREE + 1][CL_PROFILE_MAX_DEGREE + 1];
    double raw_min, raw_max; /* raw range covered by the points */
    /* uncertainty budget (standard uncertainties, kPa):
     * U(raw) = k sqrt(g' cov g + u_rep^2 + u_hyst^2 + u_ref^2), g = (1, raw, ..) */
    double k, u_rep_kpa, u_hyst_kpa, u_ref_kpa;
    /* figures */
    size_t dof;
    double residual_sd_kpa, r2, max_residual_kpa, nonlinearity_kpa, hysteresis_kpa,
        repeatability_kpa, u_max_kpa;
    double tolerance_kpa; /* NaN if none was set */
    bool pass;
    /* procedure (EURAMET cg-17 basic: >= 6 setpoints, up and down, repeats) */
    bool ascending, descending, repeats, procedure_complete;
    cl_sensor_point *points;
    size_t npoints;
    cl_sensor_setpoint *setpoints;
    size_t nsetpoints;
    cl_sensor_trial trials[CL_PROFILE_MAX_DEGREE];
    size_t ntrials;
} cl_sensor_calibration;

/* Empty calibration: strings NULL, numbers NaN, channel -1, k 2, ref_k 2. */
void cl_sensor_calibration_init(cl_sensor_calibration *d);
/* Free the owned strings and arrays and re-initialise (NULL accepted). */
void cl_sensor_calibration_release(cl_sensor_calibration *d);

/* Evaluation on the data itself (used while building a profile). */
double cl_sensor_calibration_kpa(const cl_sensor_calibration *d, double raw);
/* Standard uncertainty of the fitted curve alone at raw, sqrt(g' cov g). */
double cl_sensor_calibration_u_fit_kpa(const cl_sensor_calibration *d, double raw);
/* Expanded uncertainty U at raw (budget above). */
double cl_sensor_calibration_u_kpa(const cl_sensor_calibration *d, double raw);

/* Make a profile of `d`, taking over its strings and arrays (d is
 * re-initialised whatever the outcome).  Checks the transfer function
 * (degree 1..3, finite coefficients): CL_ERR_ARG otherwise. */
int cl_sensor_profile_adopt(cl_sensor_calibration *d, cl_sensor_profile **out, cl_error *err);
/* Read-only view of everything the profile holds. */
const cl_sensor_calibration *cl_sensor_profile_data(const cl_sensor_profile *p);
/* Raw reading at which the profile indicates `kpa`, searched within the raw
 * range widened by half its width on each side (a straight line without a
 * raw range is inverted directly).  CL_ERR_RANGE if there is none (or the
 * curve is not monotonic there). */
int cl_sensor_profile_raw_for_kpa(const cl_sensor_profile *p, double kpa, double *raw,
                                  cl_error *err);

#endif
