/*
 * cl_cohort: comparison of many sessions grouped by their metadata
 * (docs/cohort.md is the user's description).
 *
 * The cohort keeps the sessions it is given, each reduced to its metadata,
 * its cups' metrics and normalised curves (cl_cohortsession).
 * cl_cohort_compare() groups them by one or two metadata fields
 * (cl_cohortfield).  The unit of observation is a session within a group:
 * its value of a metric is the mean over its cups in that group (one value
 * per session for the session fields practitioner, subject and technique; a
 * session can contribute to several groups of a cup field such as site).
 * Then:
 *   groups         n, mean, SD, CV, median, quartiles, IQR per group and
 *                  metric
 *   tests          Welch's ANOVA, Kruskal-Wallis, Brown-Forsythe
 *   blocked        the subjects as blocks: two-way ANOVA, Friedman
 *   pairwise       Welch t for every pair of groups, Holm, Hedges' g
 *                  (cl_cohorttest) over the groups of each stratum with at
 *                  least 2 sessions: with two fields the levels of the
 *                  first are compared within each level of the second (the
 *                  stratum); adjusted across the metrics of the stratum
 *   repeatability  within each group across its sessions: CV of the
 *                  session values; ICC(2,1) with the body sites as
 *                  targets and the sessions as raters (sites present in
 *                  every session of the group), its 95 % CI, the SEM and
 *                  the within-site CV
 *   profiles       the mean normalised curve of each group with a 95 %
 *                  confidence band (pointwise t interval over its
 *                  sessions), the mean application time, and the RMS
 *                  distance to a target when one is given (cl_cohorttarget)
 *   distances      the RMS distance between every two group profiles
 *                  (normalised time)
 *   sessions       the values compared: one row per session within a
 *                  group
 * The results are read through the functions below: as tables and one
 * document by cl_cohortout, as figures by cl_cohortplot.
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

#include "cohort/cl_cohortfield.h"
#include "cohort/cl_cohortsession.h"
#include "cohort/cl_cohorttarget.h"
#include "cohort/cl_cohorttest.h"
#include "cohort/cl_stats.h"
#include "pipeline/cl_analysis.h"
#include "cl_error.h"

typedef struct cl_cohort cl_cohort;

cl_cohort *cl_cohort_new(void);
void cl_cohort_free(cl_cohort *c); /* accepts NULL */

/* Add a session read from `file`; the cohort takes over s->cups (and empties
 * *s) whatever the outcome. */
int cl_cohort_add(cl_cohort *c, const char *file, cl_cohortsession *s, cl_error *err);
size_t cl_cohort_session_count(const cl_cohort *c);

typedef struct cl_cohort_params {
    cl_cohortfield field[2];
    size_t nfields;                /* 1 or 2 */
    bool metric[CL_STAT_COUNT];    /* metrics in the tables and tests */
    const cl_cohorttarget *target; /* may be NULL; must outlive the results */
} cl_cohort_params;

/* Group and compute everything (replacing earlier results).  CL_ERR_ARG for
 * bad parameters or when no session has the grouping fields (the message
 * names the fields the sessions do have). */
int cl_cohort_compare(cl_cohort *c, const cl_cohort_params *p, cl_error *err);

/* Everything below is of the last comparison, valid until the next compare
 * or free. */

/* Its parameters. */
const cl_cohort_params *cl_cohort_params_of(const cl_cohort *c);

/* The techniques that groups pool (a group with sessions of two or more
 * techniques, technique not a grouping field), as "fire, pump" in natural
 * order; "" when none.  The program warns: the groups then mix the
 * techniques' own differences into theirs. */
const char *cl_cohort_pooled_techniques(const cl_cohort *c);
/* The same one by one: returns their number, *v valid until the next
 * compare or free. */
size_t cl_cohort_pooled(const cl_cohort *c, const char *const **v);

/* Notes about what was left out and why, one line each, in the order they
 * arose. */
size_t cl_cohort_note_count(const cl_cohort *c);
const char *cl_cohort_note(const cl_cohort *c, size_t i);

/* ----------------------------------------------------------------- groups */

/* Groups in natural order of the second level, then the first. */
size_t cl_cohort_group_count(const cl_cohort *c);
/* "P1" or "P1 / pump" (the levels joined with " / "). */
const char *cl_cohort_group_label(const cl_cohort *c, size_t g);
/* The level of grouping field f (0 or 1) of group g ("" beyond the fields). */
const char *cl_cohort_group_level(const cl_cohort *c, size_t g, size_t f);
/* Sessions in group g (its members). */
size_t cl_cohort_group_sessions(const cl_cohort *c, size_t g);
/* Cups of group g with a value of metric m. */
size_t cl_cohort_group_cups(const cl_cohort *c, size_t g, cl_stat_metric m);
/* Session values of metric m in group g (finite only, in kPa-based units);
 * returns their number, *x valid until the next compare or free. */
size_t cl_cohort_group_values(const cl_cohort *c, size_t g, cl_stat_metric m, const double **x);
/* Their description (NULL if g or m is out of range). */
const cl_stats_desc *cl_cohort_group_desc(const cl_cohort *c, size_t g, cl_stat_metric m);

/* A session within a group. */
typedef struct cl_cohort_member {
    const char *file;
    const cl_cohortsession *session;
    size_t cups;         /* its cups in the group */
    const double *value; /* CL_STAT_COUNT: the mean over those cups (NaN: none) */
} cl_cohort_member;

/* Member j (below cl_cohort_group_sessions()) of group g, in the order the
 * sessions were added. */
void cl_cohort_group_member(const cl_cohort *c, size_t g, size_t j, cl_cohort_member *out);

/* Repeatability of a group for one metric. */
typedef struct cl_cohort_repeat {
    size_t sites, sessions; /* the ICC's targets and raters */
    bool icc_ok;
    cl_stats_icc icc;
    char note[160]; /* why there is no ICC */
} cl_cohort_repeat;

/* NULL if g or m is out of range. */
const cl_cohort_repeat *cl_cohort_group_repeat(const cl_cohort *c, size_t g, cl_stat_metric m);

typedef struct cl_cohort_profile {
    size_t n;                     /* sessions with a curve */
    double span_s;                /* mean application time (onset -> release) */
    const double *mean, *lo, *hi; /* CL_COHORTSESSION_POINTS values, kPa; lo/hi NaN for n < 2 */
    double rms_target_kpa;        /* NaN without a target */
} cl_cohort_profile;

/* Profile of group g (n = 0 when none of its cups has a curve). */
void cl_cohort_group_profile(const cl_cohort *c, size_t g, cl_cohort_profile *out);
/* The group whose profile is closest to the target, or -1 (no target, or
 * no profile). */
long cl_cohort_closest(const cl_cohort *c);
/* The target of the last comparison (NULL if none). */
const cl_cohorttarget *cl_cohort_target_of(const cl_cohort *c);

/* --------------------------------------------------------- between groups */

/* Stratum i: a level of the second field ("" with one field; "" out of
 * range). */
const char *cl_cohort_stratum(const cl_cohort *c, size_t i);

/* Each of these returns the number of rows, *rows valid until the next
 * compare or free.  The tests: one row per stratum and metric compared, by
 * stratum. */
size_t cl_cohort_tests(const cl_cohort *c, const cl_cohorttest **rows);
/* The pairwise comparisons, by stratum and metric. */
size_t cl_cohort_pairs(const cl_cohort *c, const cl_cohorttest_pair **rows);

/* The RMS distance between the profiles of groups a and b. */
typedef struct cl_cohort_distance {
    size_t a, b;
    double rms;
} cl_cohort_distance;

/* Every two groups with a profile, a < b. */
size_t cl_cohort_distances(const cl_cohort *c, const cl_cohort_distance **rows);

#endif
