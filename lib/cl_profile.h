/*
 * cl_profile: calibration profiles, the JSON documents cuplab-calibrate
 * writes, sessions carry a copy of, and cuplab-analyze applies.  The format
 * is specified in docs/profile-format.md.  Two kinds:
 *
 *   sensor: the transfer function of one sensor, raw reading -> gauge kPa,
 *           a polynomial of degree 1..3 with covariance, and its figures
 *           (non-linearity, hysteresis, repeatability, expanded uncertainty)
 *   cupset: a set of cups with their internal volumes and baseline leaks
 */
#ifndef CL_PROFILE_H
#define CL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cl_error.h"

#define CL_PROFILE_FORMAT "cuplab-profile"
#define CL_PROFILE_VERSION 1

/* ------------------------------------------------------------ sensor kind */

typedef struct cl_sensor_profile cl_sensor_profile;

/* Parse a profile from JSON text / a file.  Validates format, version and
 * kind; CL_ERR_FORMAT / CL_ERR_VERSION with a one-line reason otherwise. */
int cl_sensor_profile_parse(const char *json, cl_sensor_profile **out, cl_error *err);
int cl_sensor_profile_load(const char *path, cl_sensor_profile **out, cl_error *err);
void cl_sensor_profile_free(cl_sensor_profile *p); /* accepts NULL */

const char *cl_sensor_profile_serial(const cl_sensor_profile *p);
/* Raw reading -> gauge pressure in kPa. */
double cl_sensor_profile_kpa(const cl_sensor_profile *p, double raw);
/* Expanded (k = 2) uncertainty of that pressure, kPa. */
double cl_sensor_profile_u_kpa(const cl_sensor_profile *p, double raw);
/* Raw readings the calibration covered; outside them results are flagged. */
void cl_sensor_profile_raw_range(const cl_sensor_profile *p, double *lo, double *hi);
/* CL_ERR_EXPIRED (message names serial and date) if `now` is past the
 * profile's valid-until date. */
int cl_sensor_profile_check_valid(const cl_sensor_profile *p, time_t now, cl_error *err);
/* The profile as JSON text (malloc'ed), as written to files and sessions. */
char *cl_sensor_profile_to_json(const cl_sensor_profile *p);

/* ------------------------------------------------------------ cupset kind */

typedef struct cl_cupset cl_cupset;

typedef struct cl_cupset_cup {
    const char *cup_id, *material, *size;
    double volume_ml, volume_u_ml;         /* NaN if unknown */
    double leak_tau_s, leak_tau_se;        /* baseline leak on a sealed plate; NaN if unknown */
    double leak_q_mbarl_s;                 /* volumetric leak rate at leak_at_kpa */
    double leak_at_kpa;
} cl_cupset_cup;

int cl_cupset_parse(const char *json, cl_cupset **out, cl_error *err);
int cl_cupset_load(const char *path, cl_cupset **out, cl_error *err);
void cl_cupset_free(cl_cupset *c); /* accepts NULL */
const char *cl_cupset_id(const cl_cupset *c);
size_t cl_cupset_count(const cl_cupset *c);
const cl_cupset_cup *cl_cupset_get(const cl_cupset *c, size_t i);
/* The cup with this id, or NULL. */
const cl_cupset_cup *cl_cupset_find(const cl_cupset *c, const char *cup_id);
char *cl_cupset_to_json(const cl_cupset *c);

/* Kind of a JSON profile document: "sensor", "cupset", or NULL if it is not
 * a cuplab profile. */
const char *cl_profile_kind(const char *json);

#endif
