/* Unit tests for cl_target: "P[:D]", the default band and --target-band. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cl_target.h"
#include "cl_units.h"

static void test_forms(void **state)
{
    cl_target t;
    cl_error e;
    (void)state;
    assert_int_equal(cl_target_parse("300", &t, &e), CL_OK);
    assert_float_equal(t.vacuum_kpa, 300 * CL_KPA_PER_MMHG, 1e-12);
    assert_true(isnan(t.duration_s));
    assert_float_equal(t.band_kpa, 30 * CL_KPA_PER_MMHG, 1e-12); /* CL_TARGET_BAND_PCT */
    assert_int_equal(cl_target_parse("-40kPa:10min", &t, &e), CL_OK); /* gauge: its vacuum */
    assert_float_equal(t.vacuum_kpa, 40, 1e-12);
    assert_float_equal(t.duration_s, 600, 1e-12);
    assert_int_equal(cl_target_parse("40kPa:1h", &t, &e), CL_OK);
    assert_float_equal(t.duration_s, 3600, 1e-12);
    assert_int_equal(cl_target_parse("40kPa:90s", &t, &e), CL_OK);
    assert_float_equal(t.duration_s, 90, 1e-12);
}

static void test_errors(void **state)
{
    static const struct {
        const char *spec, *want;
        int rc;
    } bad[] = {
        {"", "empty target", CL_ERR_ARG},
        {":10min", "expected VACUUM[:DURATION]", CL_ERR_FORMAT},
        {"abc", "not a pressure value", CL_ERR_FORMAT},
        {"300 bananas", "unknown pressure unit 'bananas'", CL_ERR_ARG},
        {"760", "beyond the atmosphere's 101.325 kPa", CL_ERR_ARG},
        {"0", "above 0", CL_ERR_ARG},
        {"300:0", "duration '0'", CL_ERR_FORMAT},
        {"300:10 days", "duration '10 days'", CL_ERR_FORMAT},
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cl_target t;
        cl_error e;
        assert_int_equal(cl_target_parse(bad[i].spec, &t, &e), bad[i].rc);
        assert_non_null(strstr(e.msg, bad[i].want));
    }
}

static void test_band(void **state)
{
    cl_target t;
    cl_error e;
    (void)state;
    assert_int_equal(cl_target_parse("40kPa", &t, &e), CL_OK);
    assert_int_equal(cl_target_parse_band("25%", &t, &e), CL_OK);
    assert_float_equal(t.band_kpa, 10, 1e-12);
    assert_int_equal(cl_target_parse_band("15", &t, &e), CL_OK); /* mmHg */
    assert_float_equal(t.band_kpa, 15 * CL_KPA_PER_MMHG, 1e-12);
    assert_int_equal(cl_target_parse_band("2kPa", &t, &e), CL_OK);
    assert_float_equal(t.band_kpa, 2, 1e-12);
    assert_int_equal(cl_target_parse_band("100%", &t, &e), CL_ERR_ARG);
    assert_int_equal(cl_target_parse_band("-1kPa", &t, &e), CL_ERR_ARG);
    assert_int_equal(cl_target_parse_band("x%", &t, &e), CL_ERR_FORMAT);
    assert_int_equal(cl_target_parse_band("2 furlongs", &t, &e), CL_ERR_ARG);
    assert_float_equal(t.band_kpa, 2, 1e-12); /* a refused band changes nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_band),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
