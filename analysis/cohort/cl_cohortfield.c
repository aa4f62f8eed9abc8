/* cl_cohortfield: names of the grouping fields and their levels in a
 * session (see cl_cohortfield.h). */
#include "cohort/cl_cohortfield.h"

#include <strings.h>

static const char *const field_names[CL_COHORTFIELD_COUNT] = {
    "practitioner", "subject", "technique", "site", "material", "size", "cup_set", "cup"};

const char *cl_cohortfield_name(cl_cohortfield f)
{
    return (unsigned)f < CL_COHORTFIELD_COUNT ? field_names[f] : NULL;
}

int cl_cohortfield_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < CL_COHORTFIELD_COUNT; i++)
        if (!strcasecmp(name, field_names[i]))
            return i;
    if (!strcasecmp(name, "cup-set"))
        return CL_COHORTFIELD_CUP_SET;
    if (!strcasecmp(name, "body_site") || !strcasecmp(name, "body-site"))
        return CL_COHORTFIELD_SITE;
    return -1;
}

const char *cl_cohortfield_names(void)
{
    return "practitioner, subject, technique, site, material, size, cup_set, cup";
}

bool cl_cohortfield_of_session(cl_cohortfield f)
{
    return f == CL_COHORTFIELD_PRACTITIONER || f == CL_COHORTFIELD_SUBJECT ||
           f == CL_COHORTFIELD_TECHNIQUE;
}

const char *cl_cohortfield_level(const cl_cohortsession *s, size_t k, cl_cohortfield f)
{
    const cl_cohortsession_cup *c = &s->cups[k];
    switch (f) {
    case CL_COHORTFIELD_PRACTITIONER:
        return s->practitioner;
    case CL_COHORTFIELD_SUBJECT:
        return s->subject;
    case CL_COHORTFIELD_TECHNIQUE:
        return s->technique;
    case CL_COHORTFIELD_SITE:
        return c->site[0] ? c->site : s->site;
    case CL_COHORTFIELD_MATERIAL:
        return c->material;
    case CL_COHORTFIELD_SIZE:
        return c->size;
    case CL_COHORTFIELD_CUP_SET:
        return c->cup_set;
    case CL_COHORTFIELD_CUP:
        return c->cup_id;
    case CL_COHORTFIELD_COUNT:
        break;
    }
    return "";
}
