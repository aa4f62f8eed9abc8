/*
 * cl_cohortfield: the metadata a cohort can be grouped by (docs/cohort.md,
 * "Grouping"): of the session (its root attributes practitioner, subject,
 * technique) or of the cup (the cup table; "site" falls back to the
 * session's site).
 */
#ifndef CL_COHORTFIELD_H
#define CL_COHORTFIELD_H

#include <stdbool.h>
#include <stddef.h>

#include "cohort/cl_cohortsession.h"

typedef enum cl_cohortfield {
    CL_COHORTFIELD_PRACTITIONER = 0,
    CL_COHORTFIELD_SUBJECT,
    CL_COHORTFIELD_TECHNIQUE,
    CL_COHORTFIELD_SITE,
    CL_COHORTFIELD_MATERIAL,
    CL_COHORTFIELD_SIZE,
    CL_COHORTFIELD_CUP_SET,
    CL_COHORTFIELD_CUP,
    CL_COHORTFIELD_COUNT
} cl_cohortfield;

/* "practitioner", ..., "cup_set", "cup"; NULL if out of range. */
const char *cl_cohortfield_name(cl_cohortfield f);
/* Name -> field ("cup-set" and "body_site" are accepted too); -1 if unknown. */
int cl_cohortfield_from_name(const char *name);
/* The names, for messages: "practitioner, subject, ..., cup". */
const char *cl_cohortfield_names(void);
/* Whether f is a field of the session (one value for all its cups). */
bool cl_cohortfield_of_session(cl_cohortfield f);
/* The level of field f for cup k of session s ("" when not recorded). */
const char *cl_cohortfield_level(const cl_cohortsession *s, size_t k, cl_cohortfield f);

#endif
