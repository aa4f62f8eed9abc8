/*
 * cl_cohort: comparison of many sessions grouped by their metadata
 * (docs/cohort.md is the user's description).
 *
 * 1. Each session file is reduced to a compact cl_cohort_session by
 *    cl_cohort_read(): the session's metadata, and per cup its metadata, the
 *    per-cup metrics of the analysis pipeline (cl_analysis, the same values
 *    cl_analysis_stats() summarises) and its vacuum curve normalised in time
 *    from the onset of the application (u = 0) to the start of the release
 *    (u = 1), CL_COHORT_POINTS points, each the mean of the samples nearest
 *    to it.  Nothing else of the recording is kept, so a cohort of thousands
 *    of sessions fits in memory; the compact form can cross a pipe
 *    (cl_cohort_session_pack/unpack) so that worker processes can do the
 *    reading.
 * 2. cl_cohort_compare() groups the sessions by one or two metadata fields.
 *    The unit of observation is a session within a group: its value of a
 *    metric is the mean over its cups in that group (one value per session
 *    for the session fields practitioner, subject and technique; a session
 *    can contribute to several groups of a cup field such as site).  Then:
 *      groups         n, mean, SD, CV, median, quartiles, IQR per group and
 *                     metric
 *      tests          Welch's ANOVA (with eta2 and omega2 of the ordinary
 *                     ANOVA), Kruskal-Wallis (epsilon2), Brown-Forsythe, over
 *                     the groups of each stratum with at least 2 sessions;
 *                     with two fields the levels of the first are compared
 *                     within each level of the second (the stratum); Holm's
 *                     and Benjamini-Hochberg's adjustments across the
 *                     metrics of the stratum
 *      blocked        the same groups with the sessions' subjects as blocks:
 *                     two-way additive ANOVA (group after subject, any
 *                     pattern of cells) and Friedman's test over the
 *                     subjects with a value in every group, both adjusted
 *                     across the metrics; "do not apply" when no subject is
 *                     in two groups
 *      pairwise       Welch t for every pair of groups of a stratum, Holm's
 *                     adjustment within each stratum and metric, Hedges' g
 *      repeatability  within each group across its sessions: CV of the
 *                     session values; ICC(2,1) with the body sites as
 *                     targets and the sessions as raters (sites present in
 *                     every session of the group), its 95 % CI, the SEM and
 *                     the within-site CV
 *      profiles       the mean normalised curve of each group with a 95 %
 *                     confidence band (pointwise t interval over its
 *                     sessions), the mean application time, and the RMS
 *                     distance to a target when one is given
 *      distances      the RMS distance between every two group profiles
 *                     (normalised time)
 *      sessions       the values compared: one row per session within a
 *                     group
 * 3. The results come out as cl_table tables in a chosen pressure unit, or as
 *    one document (cl_cohort_write), and as arrays for figures.
 *
 * Problems of the data (a group of one session, a session without the
 * grouping field, cups without a pressure transfer, calibrated and
 * uncalibrated cups mixed, a test that cannot be computed) are not errors:
 * they are left out and described in notes (cl_cohort_note).  The library
 * never prints.
 *
 * Every pressure inside is vacuum in kPa, positive below ambient.
 */
#ifndef CL_COHORT_H
#define CL_COHORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pipeline/cl_analysis.h"
#include "cl_error.h"
#include "cl_table.h"
#include "cl_units.h"

#define CL_COHORT_POINTS 101 /* normalised curve: u = i / (CL_COHORT_POINTS - 1) */
#define CL_COHORT_STR CL_ANALYSIS_STR
#define CL_COHORT_FORMAT "cuplab-cohort"
#define CL_COHORT_VERSION 1

/* Metadata a cohort can be grouped by: of the session (root attributes) or
 * of the cup (cup table; "site" falls back to the session's site). */
typedef enum cl_cohort_field {
    CL_FIELD_PRACTITIONER = 0,
    CL_FIELD_SUBJECT,
    CL_FIELD_TECHNIQUE,
    CL_FIELD_SITE,
    CL_FIELD_MATERIAL,
    CL_FIELD_SIZE,
    CL_FIELD_CUP_SET,
    CL_FIELD_CUP,
    CL_FIELD_COUNT
} cl_cohort_field;

/* "practitioner", ..., "cup_set", "cup"; NULL if out of range. */
const char *cl_cohort_field_name(cl_cohort_field f);
/* Name -> field ("cup-set" and "body_site" are accepted too); -1 if unknown. */
int cl_cohort_field_from_name(const char *name);
/* The names, for messages: "practitioner, subject, ..., cup". */
const char *cl_cohort_field_names(void);

/* ------------------------------------------------------------ one session */

typedef struct cl_cohort_cup {
    char cup_id[CL_COHORT_STR], site[CL_COHORT_STR], material[CL_COHORT_STR],
        size[CL_COHORT_STR], cup_set[CL_COHORT_STR];
    unsigned flags; /* CL_FLAG_* of the analysis */
    int cal;        /* cl_cal_kind */
    bool applied;
    double value[CL_STAT_COUNT];    /* the cup's metrics (NaN when not available),
                                       units as cl_stat_metric says */
    double span_s;                  /* onset to release start; NaN without a curve */
    double curve[CL_COHORT_POINTS]; /* vacuum, kPa; NaN without a curve (not
                                       applied, not released, no pressures) */
} cl_cohort_cup;

typedef struct cl_cohort_session {
    char uuid[64], status[16];
    char practitioner[CL_COHORT_STR], subject[CL_COHORT_STR], technique[CL_COHORT_STR],
        site[CL_COHORT_STR];
    size_t ncups;
    cl_cohort_cup *cups; /* owned */
} cl_cohort_session;

/* Analyse the session file `path` with options `o` and reduce it.  Errors
 * are those of cl_analysis (the message names the file). */
int cl_cohort_read(const char *path, const cl_analysis_options *o, cl_cohort_session *out,
                   cl_error *err);
/* Free the cups and empty *s (NULL accepted). */
void cl_cohort_session_release(cl_cohort_session *s);

/* The session as one block of bytes (malloc'ed into *buf), for a pipe
 * between processes of the same program, and back.  unpack checks the
 * length: CL_ERR_FORMAT if the block is not a packed session. */
int cl_cohort_session_pack(const cl_cohort_session *s, void **buf, size_t *len, cl_error *err);
int cl_cohort_session_unpack(const void *buf, size_t len, cl_cohort_session *out,
                             cl_error *err);

/* ----------------------------------------------------------------- target */

typedef enum cl_cohort_target_kind {
    CL_TARGET_NONE = 0,
    CL_TARGET_LEVEL,   /* a vacuum held over the whole application (normalised time) */
    CL_TARGET_HOLD,    /* a vacuum held for a duration (absolute time) */
    CL_TARGET_CURVE_T, /* a curve over time since the onset (absolute) */
    CL_TARGET_CURVE_U, /* a curve over normalised time u in [0, 1] */
} cl_cohort_target_kind;

/* A reference protocol the group profiles are compared with. */
typedef struct cl_cohort_target {
    cl_cohort_target_kind kind;
    double vacuum_kpa, duration_s; /* LEVEL, HOLD */
    size_t n;                      /* CURVE_*: points, x increasing */
    double *x, *v_kpa;             /* x: seconds since the onset or u */
    char label[160];               /* "300 mmHg for 10 min", or the file name */
} cl_cohort_target;

/* Parse --target: "P" or "P:D" (a vacuum with an optional unit, bare numbers
 * in `unit`; a duration in s, or with the suffix s, min or h), or the name
 * of a CSV file with a header naming a time column (t_s, t_min or u) and a
 * vacuum column whose name carries its unit (vacuum_mmHg, vacuum_kPa, ...;
 * gauge pressures, negative, are taken as their vacuum).  Errors name what
 * is wrong (CL_ERR_FORMAT, CL_ERR_ARG for an unknown or missing unit,
 * CL_ERR_NOTFOUND). */
int cl_cohort_target_parse(const char *spec, cl_unit unit, cl_cohort_target *out,
                           cl_error *err);
void cl_cohort_target_release(cl_cohort_target *t); /* accepts NULL */

/* ----------------------------------------------------------------- cohort */

typedef struct cl_cohort cl_cohort;

cl_cohort *cl_cohort_new(void);
void cl_cohort_free(cl_cohort *c); /* accepts NULL */

/* Add a session read from `file`; the cohort takes over s->cups (and empties
 * *s) whatever the outcome. */
int cl_cohort_add(cl_cohort *c, const char *file, cl_cohort_session *s, cl_error *err);
size_t cl_cohort_session_count(const cl_cohort *c);

typedef struct cl_cohort_params {
    cl_cohort_field field[2];
    size_t nfields;                 /* 1 or 2 */
    bool metric[CL_STAT_COUNT];     /* metrics in the tables and tests */
    const cl_cohort_target *target; /* may be NULL; must outlive the results */
} cl_cohort_params;

/* Group and compute everything (replacing earlier results).  CL_ERR_ARG for
 * bad parameters or when no session has the grouping fields (the message
 * names the fields the sessions do have). */
int cl_cohort_compare(cl_cohort *c, const cl_cohort_params *p, cl_error *err);

/* The techniques that groups of the last comparison pool (a group with
 * sessions of two or more techniques, technique not a grouping field), as
 * "fire, pump" in natural order; "" when none (valid until the next compare
 * or free).  The program warns: the groups then mix the techniques' own
 * differences into theirs. */
const char *cl_cohort_pooled_techniques(const cl_cohort *c);

/* Notes about what was left out and why, one line each, in the order they
 * arose (valid until the next compare or free). */
size_t cl_cohort_note_count(const cl_cohort *c);
const char *cl_cohort_note(const cl_cohort *c, size_t i);

/* ----------------------------------------------------------------- output */

typedef enum cl_cohort_table_id {
    CL_COHORT_GROUPS = 0,
    CL_COHORT_TESTS,
    CL_COHORT_BLOCKED,
    CL_COHORT_PAIRWISE,
    CL_COHORT_REPEATABILITY,
    CL_COHORT_PROFILES,
    CL_COHORT_DISTANCES,
    CL_COHORT_SESSIONS,
    CL_COHORT_TABLE_COUNT
} cl_cohort_table_id;

/* "groups", "tests", "blocked", "pairwise", "repeatability", "profiles",
 * "distances", "sessions" (the value of every metric per session within its
 * group: what the tests compare). */
const char *cl_cohort_table_name(cl_cohort_table_id id);
int cl_cohort_table_from_name(const char *name); /* -1 if unknown */

/* Table `id` of the last comparison, pressures in `unit` (freed by the
 * caller).  Columns: docs/cohort.md. */
cl_table *cl_cohort_table(const cl_cohort *c, cl_cohort_table_id id, cl_unit unit,
                          cl_error *err);

/* Write the results: text (`only` < 0: every table but "sessions", then the
 * line naming the profile closest to the target), CSV (one table: `only`,
 * default the groups) or JSON (one document with every table and the
 * notes). */
int cl_cohort_write(const cl_cohort *c, FILE *out, cl_table_format fmt, int only, cl_unit unit,
                    cl_error *err);

/* ---------------------------------------------------- arrays for figures */

size_t cl_cohort_group_count(const cl_cohort *c);
/* "P1" or "P1 / pump" (the levels joined with " / "). */
const char *cl_cohort_group_label(const cl_cohort *c, size_t g);
/* Session values of metric m in group g (finite only, in kPa-based units);
 * returns their number, *x valid until the next compare or free. */
size_t cl_cohort_group_values(const cl_cohort *c, size_t g, cl_stat_metric m, const double **x);

typedef struct cl_cohort_profile {
    size_t n;                     /* sessions with a curve */
    double span_s;                /* mean application time (onset -> release) */
    const double *mean, *lo, *hi; /* CL_COHORT_POINTS values, kPa; lo/hi NaN for n < 2 */
    double rms_target_kpa;        /* NaN without a target */
} cl_cohort_profile;

/* Profile of group g (n = 0 when none of its cups has a curve). */
void cl_cohort_group_profile(const cl_cohort *c, size_t g, cl_cohort_profile *out);
/* The group whose profile is closest to the target, or -1 (no target, or
 * no profile). */
long cl_cohort_closest(const cl_cohort *c);
/* The target of the last comparison (NULL if none). */
const cl_cohort_target *cl_cohort_target_of(const cl_cohort *c);
/* Value of the target at u (normalised) for a group with application time
 * span_s, as the distance uses it; NaN without a target. */
double cl_cohort_target_at(const cl_cohort_target *t, double u, double span_s);

#endif
