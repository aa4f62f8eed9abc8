/*
 * cl_profile: what the two kinds of calibration profile share.  A profile is
 * a JSON document cuplab-calibrate writes, sessions carry a copy of, and
 * cuplab-analyze applies; the format is specified in docs/profile-format.md.
 * Two kinds, each with its own module:
 *
 *   sensor (cl_sensor): the transfer function of one sensor, raw reading ->
 *           gauge kPa, a polynomial of degree 1..3 with covariance, and its
 *           figures (non-linearity, hysteresis, repeatability, expanded
 *           uncertainty)
 *   cupset (cl_cupset): a set of cups with their internal volumes and
 *           baseline leaks
 *
 * This module holds the document's header (format, version, kind), the
 * reading and writing of its members, files and dates.  cl_profile,
 * cl_sensor and cl_cupset are the only modules that read or write the
 * format.  NaN values are written as JSON null and read back as NaN.
 */
#ifndef CL_PROFILE_H
#define CL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cl_error.h"

#define CL_PROFILE_FORMAT "cuplab-profile"
#define CL_PROFILE_VERSION 1
/* Highest polynomial degree of a sensor transfer function. */
#define CL_PROFILE_MAX_DEGREE 3

/* Kind of a JSON profile document: "sensor", "cupset", or NULL if it is not
 * a cuplab profile. */
const char *cl_profile_kind(const char *json);

/* Replace *field with a copy of s (NULL clears it).  CL_ERR_NOMEM. */
int cl_profile_set_str(char **field, const char *s);

/* ---------------------------------------------------------------- files */

/* Read a whole file (malloc'ed, NUL-terminated).  Errors name the file. */
int cl_profile_read_file(const char *path, char **text, cl_error *err);
/* Write `text` to `path` atomically (temporary file, fsync, rename).  An
 * existing file is replaced only with `force`; CL_ERR_EXISTS otherwise. */
int cl_profile_write_file(const char *path, const char *text, bool force, cl_error *err);

/* Dates: "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ss[Z]" (UTC) -> time_t.  A bare
 * date means its first second; CL_ERR_FORMAT if malformed. */
int cl_profile_parse_date(const char *s, time_t *out, cl_error *err);
/* "YYYY-MM-DDThh:mm:ssZ" / "YYYY-MM-DD" of t (UTC) into buf (>= 21 bytes). */
void cl_profile_format_datetime(time_t t, char *buf, size_t cap);
void cl_profile_format_date(time_t t, char *buf, size_t cap);
/* CL_ERR_EXPIRED when `now` is past the end (UTC) of the day valid_until;
 * the message names `what` and the date.  NULL valid_until: CL_OK. */
int cl_profile_check_until(const char *valid_until, const char *what, time_t now,
                           cl_error *err);

/* ------------------------------------------------ documents (cl_sensor and
 * cl_cupset build on these; jansson's json_t) */

struct json_t;

/* Parse `json` and check format, version and kind: CL_ERR_FORMAT /
 * CL_ERR_VERSION with a one-line reason otherwise.  *root is a new
 * reference (NULL on error). */
int cl_profile_doc_parse(const char *json, const char *kind, struct json_t **root,
                         cl_error *err);
/* A new document of this kind: an object holding format, version and kind
 * (NULL on allocation failure). */
struct json_t *cl_profile_doc_new(const char *kind);
/* The document as the text written to files and sessions (malloc'ed, ends
 * with a newline); takes the reference to `root`.  NULL for a NULL root or
 * on allocation failure. */
char *cl_profile_doc_text(struct json_t *root);
/* Prefix err's message with "path: " when rc is an error; returns rc. */
int cl_profile_name_file(int rc, const char *path, cl_error *err);

/* Writing a member: a number (null when not finite), a string (null for
 * NULL), and obj[key] = v taking the reference to v (false on failure,
 * also for a NULL v). */
struct json_t *cl_profile_jnum(double v);
struct json_t *cl_profile_jstr(const char *s);
bool cl_profile_put(struct json_t *obj, const char *key, struct json_t *v);

/* Reading a member obj[key] (obj may be NULL: absent).  Absent or null
 * gives NaN / NULL, or CL_ERR_FORMAT "missing" when required; a value of
 * another type is CL_ERR_FORMAT.  `ctx` names the object in messages
 * ("transfer"), NULL at the top level. */
int cl_profile_get_num(struct json_t *obj, const char *key, bool required, const char *ctx,
                       double *out, cl_error *err);
/* The string is copied into *out (replacing what it held). */
int cl_profile_get_str(struct json_t *obj, const char *key, bool required, const char *ctx,
                       char **out, cl_error *err);
/* Absent or null leaves *out unchanged. */
int cl_profile_get_bool(struct json_t *obj, const char *key, const char *ctx, bool *out,
                        cl_error *err);
/* A sub-object / array (borrowed): NULL if absent or null. */
int cl_profile_get_obj(struct json_t *obj, const char *key, struct json_t **out, cl_error *err);
int cl_profile_get_arr(struct json_t *obj, const char *key, struct json_t **out, cl_error *err);

#endif
