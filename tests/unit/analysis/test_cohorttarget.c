/*
 * Unit tests of cl_cohorttarget: --target parsing (numbers and CSV curves,
 * with every error), the target's value along an application, and the RMS
 * distance of a profile to a level (normalised time) and to a hold
 * (absolute time, the profile zero after its application and the target
 * after its duration).  Numbers are checked to 1e-12 relative against values
 * worked here by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "cohort/cl_cohortsession.h"
#include "cohort/cl_cohorttarget.h"

/* a equals b to 1e-12 relative (1e-12 absolute near zero). */
#define assert_rel(a, b) assert_close((a), (b), 1e-12, 1e-12)

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_create("cohorttarget");
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmpdir_destroy();
}

/* Write `text` to a CSV file of the scratch folder; returns its path (static buffer). */
static char *write_tmp(const char *text)
{
    static char path[1100];
    unit_write_file(unit_path(path, sizeof path, "target.csv"), text);
    return path;
}

static void target(void **state)
{
    (void)state;
    cl_cohorttarget t;
    cl_error err;
    assert_int_equal(cl_cohorttarget_parse("300mmHg:10min", &t, &err), CL_OK);
    assert_int_equal(t.kind, CL_COHORTTARGET_HOLD);
    assert_rel(t.vacuum_kpa, 300 * CL_KPA_PER_MMHG);
    assert_rel(t.duration_s, 600);
    assert_rel(cl_cohorttarget_at(&t, 0.5, 1000), 300 * CL_KPA_PER_MMHG); /* 500 s */
    assert_rel(cl_cohorttarget_at(&t, 0.7, 1000), 0);                     /* 700 s */
    cl_cohorttarget_release(&t);
    /* Bare numbers in the unit given; a gauge (negative) value is its vacuum. */
    assert_int_equal(cl_cohorttarget_parse("-300:1h", &t, &err), CL_OK);
    assert_rel(t.vacuum_kpa, 300 * CL_KPA_PER_MMHG);
    assert_rel(t.duration_s, 3600);
    assert_int_equal(cl_cohorttarget_parse("40kPa", &t, &err), CL_OK);
    assert_int_equal(t.kind, CL_COHORTTARGET_LEVEL);
    assert_rel(cl_cohorttarget_at(&t, 0.9, 10), 40);
    /* A bare number is in mmHg; a vacuum beyond the atmosphere is refused. */
    assert_int_equal(cl_cohorttarget_parse("300:10min", &t, &err), CL_OK);
    assert_rel(t.vacuum_kpa, 300 * CL_KPA_PER_MMHG);
    assert_int_equal(cl_cohorttarget_parse("300kPa:10min", &t, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "beyond the atmosphere"));
    assert_non_null(strstr(err.msg, "a bare number is in mmHg"));
    assert_int_equal(cl_cohorttarget_parse("300furlongs:10min", &t, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "furlongs"));
    assert_int_equal(cl_cohorttarget_parse("300mmHg:ten", &t, &err),
                     CL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "duration 'ten'"));
    assert_int_equal(cl_cohorttarget_parse("", &t, &err), CL_ERR_ARG);

    /* Curves: minutes and mmHg from the header; linear in between, 0 after. */
    const char *p = write_tmp("# protocol\nt_min,vacuum_mmHg\n0,0\n0.5,300\n10,300\n");
    assert_int_equal(cl_cohorttarget_parse(p, &t, &err), CL_OK);
    assert_int_equal(t.kind, CL_COHORTTARGET_CURVE_T);
    assert_int_equal(t.n, 3);
    assert_rel(cl_cohorttarget_at(&t, 0.25, 60), 150 * CL_KPA_PER_MMHG); /* 15 s */
    assert_rel(cl_cohorttarget_at(&t, 1, 1200), 0);                      /* 20 min */
    cl_cohorttarget_release(&t);
    unlink(p);
    p = write_tmp("u,pressure_kPa\n0,-30\n1,-50\n");
    assert_int_equal(cl_cohorttarget_parse(p, &t, &err), CL_OK);
    assert_int_equal(t.kind, CL_COHORTTARGET_CURVE_U);
    assert_rel(cl_cohorttarget_at(&t, 0.5, 99), 40);
    cl_cohorttarget_release(&t);
    unlink(p);
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } bad[] = {
        {"t_s,vacuum\n0,1\n1,2\n", CL_ERR_ARG, "column 'vacuum' has no unit"},
        {"t_s,vacuum_bar2\n0,1\n1,2\n", CL_ERR_ARG, "unknown unit 'bar2'"},
        {"time,vacuum_kPa\n0,1\n1,2\n", CL_ERR_FORMAT, "needs a time column"},
        {"t_s,vacuum_kPa\n0,1\n\n0,2\n", CL_ERR_FORMAT, ":4: time 0"},
        {"u,vacuum_kPa\n0,1\n1.5,2\n", CL_ERR_FORMAT, "within 0..1"},
        {"t_s,vacuum_kPa\n0,1\n1,x\n", CL_ERR_FORMAT, ":3: expected two numbers"},
        {"t_s,vacuum_kPa\n0,1\n", CL_ERR_FORMAT, "at least 2 points"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = write_tmp(bad[i].text);
        assert_int_equal(cl_cohorttarget_parse(p, &t, &err), bad[i].code);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("case %zu: '%s'", i, err.msg);
        assert_int_equal(t.n, 0);
        unlink(p);
    }
    assert_int_equal(cl_cohorttarget_parse("/nonexistent/plan.csv", &t, &err),
                     CL_ERR_NOTFOUND);
    cl_cohorttarget_release(NULL);
}

static void distance(void **state)
    {
        (void)state;
        double flat[CL_COHORTSESSION_POINTS];
        for (int i = 0; i < CL_COHORTSESSION_POINTS; i++)
            flat[i] = 30;
        cl_cohorttarget t;
        /* A level: the same at every point of normalised time. */
        assert_int_equal(cl_cohorttarget_parse("31kPa", &t, NULL), CL_OK);
        assert_rel(cl_cohorttarget_rms(&t, flat, 300), 1);
        /* 40 kPa for 600 s against 30 kPa over 300 s: 10 kPa off on the first
         * 101 points of the 201-point grid, 40 kPa off on the other 100. */
        assert_int_equal(cl_cohorttarget_parse("40kPa:600", &t, NULL), CL_OK);
        assert_rel(cl_cohorttarget_rms(&t, flat, 300),
                   sqrt((101 * 100.0 + 100 * 1600.0) / 201));
        assert_true(isnan(cl_cohorttarget_at(NULL, 0.5, 300)));
    }

    int main(void)
    {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(target),
            cmocka_unit_test(distance),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
    }
