/*
 * Unit tests of cl_units: names and aliases, the conversion factors against
 * their definitions, round trips, and parsing pressures with units.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "unit.h"
#include "cl_units.h"

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(cl_unit_from_name("kPa"), CL_UNIT_KPA);
    assert_int_equal(cl_unit_from_name("KPA"), CL_UNIT_KPA);
    assert_int_equal(cl_unit_from_name("pa"), CL_UNIT_PA);
    assert_int_equal(cl_unit_from_name("mbar"), CL_UNIT_MBAR);
    assert_int_equal(cl_unit_from_name("hPa"), CL_UNIT_MBAR);
    assert_int_equal(cl_unit_from_name("mmhg"), CL_UNIT_MMHG);
    assert_int_equal(cl_unit_from_name("Torr"), CL_UNIT_MMHG);
    assert_int_equal(cl_unit_from_name("inHg"), CL_UNIT_INHG);
    assert_int_equal(cl_unit_from_name("PSI"), CL_UNIT_PSI);
    assert_int_equal(cl_unit_from_name("bar"), 0);
    assert_int_equal(cl_unit_from_name(""), 0);
    assert_int_equal(cl_unit_from_name(NULL), 0);
    assert_string_equal(cl_unit_name(CL_UNIT_MMHG), "mmHg");
    assert_string_equal(cl_unit_name(CL_UNIT_KPA), "kPa");
    assert_string_equal(cl_unit_name((cl_unit)99), "?");
    for (int u = CL_UNIT_PA; u <= CL_UNIT_PSI; u++)
        assert_int_equal(cl_unit_from_name(cl_unit_name((cl_unit)u)), u);
}

/* Factors from their definitions: mmHg = 13.5951 g/cm^3 * 9.80665 m/s^2 *
 * 1 mm; inHg = 25.4 mmHg (conventional 3386.389 Pa); psi = 0.45359237 kg *
 * 9.80665 / (0.0254 m)^2. */
static void test_factors(void **state)
{
    (void)state;
    assert_near(cl_unit_to_kpa(1, CL_UNIT_MMHG), 13.5951 * 9.80665 * 1e-3, 1e-12);
    assert_near(cl_unit_to_kpa(1, CL_UNIT_INHG), 3.386389, 1e-12);
    assert_near(cl_unit_to_kpa(1, CL_UNIT_PSI), 0.45359237 * 9.80665 / (0.0254 * 0.0254) / 1000,
                1e-12);
    assert_near(cl_unit_to_kpa(1, CL_UNIT_MBAR), 0.1, 1e-15);
    assert_near(cl_unit_to_kpa(1000, CL_UNIT_PA), 1, 1e-15);
    /* the clinical figures of the design notes */
    assert_near(cl_unit_to_kpa(-300, CL_UNIT_MMHG), -39.9967, 1e-4);
    assert_near(cl_unit_from_kpa(-80, CL_UNIT_MMHG), -600.05, 0.01);
    for (int u = CL_UNIT_PA; u <= CL_UNIT_PSI; u++)
        assert_near(cl_unit_from_kpa(cl_unit_to_kpa(-123.456, (cl_unit)u), (cl_unit)u),
                    -123.456, 1e-12);
    assert_true(isnan(cl_unit_to_kpa(1, (cl_unit)0)));
    assert_true(isnan(cl_unit_from_kpa(1, (cl_unit)7)));
}

static void test_clock_units(void **state)
{
    (void)state;
    assert_true(cl_unit_time_s("us") == 1e-6);
    assert_true(cl_unit_time_s("ms") == 1e-3);
    assert_true(cl_unit_time_s("s") == 1.0);
    assert_true(cl_unit_time_s("ticks") == 0);
    assert_true(cl_unit_time_s(NULL) == 0);
}

static void test_parse(void **state)
{
    (void)state;
    double kpa;
    cl_error e;
    assert_int_equal(cl_unit_parse_kpa("-300 mmHg", CL_UNIT_KPA, &kpa, &e), CL_OK);
    assert_near(kpa, -300 * CL_KPA_PER_MMHG, 1e-12);
    assert_int_equal(cl_unit_parse_kpa("0.4kPa", CL_UNIT_MMHG, &kpa, &e), CL_OK);
    assert_near(kpa, 0.4, 1e-15);
    assert_int_equal(cl_unit_parse_kpa("  3 ", CL_UNIT_MMHG, &kpa, &e), CL_OK);
    assert_near(kpa, 3 * CL_KPA_PER_MMHG, 1e-15);
    assert_int_equal(cl_unit_parse_kpa("-5e2 Pa", CL_UNIT_KPA, &kpa, &e), CL_OK);
    assert_near(kpa, -0.5, 1e-15);
    assert_int_equal(cl_unit_parse_kpa("-1 bar", CL_UNIT_KPA, &kpa, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "unknown pressure unit 'bar'"));
    assert_true(isnan(kpa));
    assert_int_equal(cl_unit_parse_kpa("abc", CL_UNIT_KPA, &kpa, &e), CL_ERR_FORMAT);
    assert_int_equal(cl_unit_parse_kpa("", CL_UNIT_KPA, &kpa, &e), CL_ERR_FORMAT);
    assert_int_equal(cl_unit_parse_kpa("1 kPa x", CL_UNIT_KPA, &kpa, &e), CL_ERR_FORMAT);
    assert_int_equal(cl_unit_parse_kpa("nan", CL_UNIT_KPA, &kpa, &e), CL_ERR_FORMAT);
    assert_int_equal(cl_unit_parse_kpa(NULL, CL_UNIT_KPA, &kpa, &e), CL_ERR_FORMAT);
    /* a bare number with no default unit */
    assert_int_equal(cl_unit_parse_kpa("12", (cl_unit)0, &kpa, &e), CL_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_factors),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_clock_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
