/*
 * cl_cohortout: the results of a cohort comparison (cl_cohort) as tables
 * (cl_table) in a chosen pressure unit, and written out as text, CSV or one
 * JSON document (docs/cohort.md, "Output", has every column).
 */
#ifndef CL_COHORTOUT_H
#define CL_COHORTOUT_H

#include <stdio.h>

#include "cohort/cl_cohort.h"
#include "cl_error.h"
#include "cl_table.h"
#include "cl_units.h"

#define CL_COHORTOUT_FORMAT "cuplab-cohort" /* the JSON document's "format" */
#define CL_COHORTOUT_VERSION 1              /* ... and its "format_version" */

typedef enum cl_cohortout_table_id {
    CL_COHORTOUT_GROUPS = 0,
    CL_COHORTOUT_TESTS,
    CL_COHORTOUT_BLOCKED,
    CL_COHORTOUT_PAIRWISE,
    CL_COHORTOUT_REPEATABILITY,
    CL_COHORTOUT_PROFILES,
    CL_COHORTOUT_DISTANCES,
    CL_COHORTOUT_SESSIONS,
    CL_COHORTOUT_TABLE_COUNT
} cl_cohortout_table_id;

/* "groups", "tests", "blocked", "pairwise", "repeatability", "profiles",
 * "distances", "sessions" (the value of every metric per session within its
 * group: what the tests compare). */
const char *cl_cohortout_table_name(cl_cohortout_table_id id);
int cl_cohortout_table_from_name(const char *name); /* -1 if unknown */

/* Table `id` of the last comparison, pressures in `unit` (freed by the
 * caller).  Columns: docs/cohort.md. */
cl_table *cl_cohortout_table(const cl_cohort *c, cl_cohortout_table_id id, cl_unit unit,
                             cl_error *err);

/* Write the results: text (`only` < 0: every table but "sessions", then the
 * line naming the profile closest to the target), CSV (one table: `only`,
 * default the groups) or JSON (one document with every table and the
 * notes). */
int cl_cohortout_write(const cl_cohort *c, FILE *out, cl_table_format fmt, int only,
                       cl_unit unit, cl_error *err);

#endif
