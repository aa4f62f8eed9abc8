/*
 * Unit tests of cl_cohortout: every table name back to its table, and what
 * each format writes of a comparison of two groups built by hand: text
 * every table but the sessions' in order and the line naming the group
 * closest to the target; CSV one table (the groups unless another is
 * asked for).  The tables' numbers are checked in test_cohort.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cohort/cl_cohortout.h"

static void names(void **state)
{
    (void)state;
    for (int t = 0; t < CL_COHORTOUT_TABLE_COUNT; t++)
        assert_int_equal(
            cl_cohortout_table_from_name(cl_cohortout_table_name((cl_cohortout_table_id)t)), t);
    assert_int_equal(cl_cohortout_table_from_name("everything"), -1);
    assert_null(cl_cohortout_table_name(CL_COHORTOUT_TABLE_COUNT));
}

/* A session of practitioner `prac` with one cup: peak `peak`, a curve flat
 * at `peak` over 600 s. */
static void one_cup(cl_cohort *c, const char *file, const char *prac, double peak)
{
    cl_cohortsession s;
    memset(&s, 0, sizeof s);
    snprintf(s.practitioner, sizeof s.practitioner, "%s", prac);
    assert_non_null(s.cups = calloc(1, sizeof *s.cups));
    s.ncups = 1;
    s.cups[0].cal = CL_CAL_PROFILE;
    s.cups[0].applied = true;
    for (int m = 0; m < CL_STAT_COUNT; m++)
        s.cups[0].value[m] = peak;
    s.cups[0].span_s = 600;
    for (int i = 0; i < CL_COHORTSESSION_POINTS; i++)
        s.cups[0].curve[i] = peak;
    assert_int_equal(cl_cohort_add(c, file, &s, NULL), CL_OK);
}

/* What cl_cohortout_write() writes, as a string (freed by the caller). */
static char *written(const cl_cohort *c, cl_table_format fmt, int only)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(cl_cohortout_write(c, f, fmt, only, CL_UNIT_KPA, NULL), CL_OK);
    fclose(f);
    return text;
}

static void formats(void **state)
{
    (void)state;
    cl_cohort *c = cl_cohort_new();
    cl_cohorttarget t;
    assert_non_null(c);
    one_cup(c, "a1.h5", "A", 40);
    one_cup(c, "a2.h5", "A", 42);
    one_cup(c, "b1.h5", "B", 30);
    one_cup(c, "b2.h5", "B", 32);
    assert_int_equal(cl_cohorttarget_parse("32kPa", &t, NULL), CL_OK);
    cl_cohort_params p = {.field = {CL_COHORTFIELD_PRACTITIONER}, .nfields = 1, .target = &t};
    p.metric[CL_STAT_PEAK] = true;
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);

    char *text = written(c, CL_TABLE_TEXT, -1), *at = text;
    for (int id = 0; id < CL_COHORTOUT_SESSIONS; id++) {
        char title[64];
        snprintf(title, sizeof title, "# cuplab-analyze cohort, %s: ",
                 cl_cohortout_table_name((cl_cohortout_table_id)id));
        if (!(at = strstr(at, title)))
            fail_msg("no %s table in order in:\n%s", title, text);
    }
    assert_null(strstr(text, "cohort, sessions: "));
    /* B's profile is 31 kPa on average, 1 kPa from the target. */
    const char *last = "\nclosest to the target 32kPa: B (RMS 1 kPa over 2 sessions)\n";
    assert_true(strlen(text) > strlen(last));
    assert_string_equal(text + strlen(text) - strlen(last), last);
    free(text);

    text = written(c, CL_TABLE_CSV, -1);
    assert_non_null(strstr(text, "practitioner,metric,unit,sessions,cups,n,mean,"));
    assert_null(strstr(text, "closest"));
    free(text);
    text = written(c, CL_TABLE_CSV, CL_COHORTOUT_SESSIONS);
    assert_non_null(strstr(text, "file,session_uuid,practitioner,subject,cups,peak_vacuum"));
    assert_non_null(strstr(text, "b2.h5"));
    free(text);
    cl_cohorttarget_release(&t);
    cl_cohort_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
