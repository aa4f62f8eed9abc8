/*
 * Unit tests of cl_cohortfield: every name back to its field, the other
 * spellings accepted, unknown names refused, and the level of each field in
 * a session (a cup's site falling back to the session's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "cohort/cl_cohortfield.h"

static void names(void **state)
{
    (void)state;
    for (int f = 0; f < CL_COHORTFIELD_COUNT; f++)
        assert_int_equal(cl_cohortfield_from_name(cl_cohortfield_name((cl_cohortfield)f)), f);
    assert_int_equal(cl_cohortfield_from_name("Practitioner"), CL_COHORTFIELD_PRACTITIONER);
    assert_int_equal(cl_cohortfield_from_name("cup-set"), CL_COHORTFIELD_CUP_SET);
    assert_int_equal(cl_cohortfield_from_name("body_site"), CL_COHORTFIELD_SITE);
    assert_int_equal(cl_cohortfield_from_name("colour"), -1);
    assert_int_equal(cl_cohortfield_from_name(NULL), -1);
    assert_null(cl_cohortfield_name(CL_COHORTFIELD_COUNT));
    assert_non_null(strstr(cl_cohortfield_names(), "practitioner, subject"));
}

static void levels(void **state)
{
    (void)state;
    cl_cohortsession_cup cups[2];
    cl_cohortsession s = {.ncups = 2, .cups = cups};
    memset(cups, 0, sizeof cups);
    snprintf(s.practitioner, sizeof s.practitioner, "P1");
    snprintf(s.site, sizeof s.site, "back");
    snprintf(cups[0].site, sizeof cups[0].site, "neck");
    snprintf(cups[1].cup_set, sizeof cups[1].cup_set, "glass-set-A");
    assert_string_equal(cl_cohortfield_level(&s, 1, CL_COHORTFIELD_PRACTITIONER), "P1");
    assert_string_equal(cl_cohortfield_level(&s, 0, CL_COHORTFIELD_SITE), "neck");
    assert_string_equal(cl_cohortfield_level(&s, 1, CL_COHORTFIELD_SITE), "back");
    assert_string_equal(cl_cohortfield_level(&s, 1, CL_COHORTFIELD_CUP_SET), "glass-set-A");
    assert_string_equal(cl_cohortfield_level(&s, 0, CL_COHORTFIELD_SUBJECT), "");
    assert_true(cl_cohortfield_of_session(CL_COHORTFIELD_TECHNIQUE));
    assert_false(cl_cohortfield_of_session(CL_COHORTFIELD_SITE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
