/* Unit tests for cl_clock: offset and drift recovered from frames that
 * arrive with random, batched latency. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>

#include "cl_clock.h"

/* Device clock in us, running `ppm` fast relative to the host, started at
 * host time `t0`; frames at 500 Hz, read in batches every 0..20 ms, each
 * batch stamped on arrival after an exponential latency (mean 2 ms), as
 * the reader stamps every frame of one read with one host time. */
static void simulate(cl_clock *c, double t0, double ppm, double seconds, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double batch_end = -1, arrival = 0;
    for (long k = 0; k < (long)(seconds * 500); k++) {
        double dev = (double)k * 0.002;
        double true_host = t0 + dev / (1.0 + ppm * 1e-6);
        if (true_host > batch_end) {
            batch_end = true_host + gsl_rng_uniform(r) * 0.02;
            arrival = batch_end + gsl_ran_exponential(r, 0.002);
        }
        cl_clock_add(c, dev * 1e6, arrival);
    }
    gsl_rng_free(r);
}

static void test_offset_and_drift(void **state)
{
    (void)state;
    for (unsigned long seed = 1; seed <= 20; seed++) {
        cl_clock *c = cl_clock_new(1e-6, 0.1);
        cl_clock_fit f;
        double ppm = (double)seed * 50.0 - 500.0; /* -450 .. +500 ppm */
        simulate(c, 2.5, ppm, 120.0, seed);
        assert_int_equal(cl_clock_estimate(c, &f, NULL), CL_OK);
        /* slope = 1/(1+ppm) -> drift = -ppm (to first order); within 5 ppm */
        assert_true(fabs(f.drift_ppm + ppm) < 5.0);
        /* offset within 2 ms although latency averages ~12 ms: what remains
         * is the smallest latency, which no host-side method can see */
        assert_true(f.offset_s - 2.5 >= 0 && f.offset_s - 2.5 < 2e-3);
        assert_true(f.points > 1000);
        cl_clock_free(c);
    }
}

static void test_too_few_points(void **state)
{
    (void)state;
    cl_clock *c = cl_clock_new(1e-3, 0.1);
    cl_clock_fit f;
    cl_error err;
    cl_clock_add(c, 0, 0.05);
    cl_clock_add(c, NAN, 0.15);
    assert_int_equal(cl_clock_estimate(c, &f, &err), CL_ERR_ARG);
    cl_clock_add(c, 100, 0.15);
    cl_clock_add(c, 200, 0.25);
    assert_int_equal(cl_clock_estimate(c, &f, &err), CL_OK);
    assert_true(fabs(f.slope - 1.0) < 1e-9);
    cl_clock_reset(c);
    assert_int_equal(cl_clock_estimate(c, &f, &err), CL_ERR_ARG);
    cl_clock_free(c);
    cl_clock_free(NULL);
}

static void test_units(void **state)
{
    (void)state;
    assert_true(cl_clock_unit_seconds("us") == 1e-6);
    assert_true(cl_clock_unit_seconds("ms") == 1e-3);
    assert_true(cl_clock_unit_seconds("s") == 1.0);
    assert_true(cl_clock_unit_seconds("ticks") == 0);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_and_drift),
        cmocka_unit_test(test_too_few_points),
        cmocka_unit_test(test_units),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
