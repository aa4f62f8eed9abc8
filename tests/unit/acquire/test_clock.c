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

#include "engine/cl_clock.h"

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
        double host_at_ref = 2.5 + f.ref_device_s / (1.0 + ppm * 1e-6);
        assert_true(f.offset_s - host_at_ref >= 0 && f.offset_s - host_at_ref < 2e-3);
        assert_true(f.points > 1000);
        cl_clock_free(c);
    }
}

/* The reader as cl_acq runs it: a 1 kHz device (clock `ppm` fast, origin
 * `origin_s` on its own clock) read in batches every 20..25 ms, each read
 * now and then held up by the scheduler; every frame of a read gets the
 * read's host time.  The device stops after `seconds` and the last batch is
 * read 20..50 ms later (the reader was asleep), so its frames all look late.
 * Frames may leave up to 0.3 ms before their nominal time. */
static void simulate_reads(cl_clock *c, double origin_s, double ppm, double seconds,
                           gsl_rng *r)
{
    const double period = 1e-3, t0 = 0.02;
    long nframes = (long)(seconds / period), k = 0;
    double read_at = t0;
    while (k < nframes) {
        read_at += 0.020 + 0.005 * gsl_rng_uniform(r);
        if (gsl_rng_uniform(r) < 0.05)
            read_at += gsl_ran_exponential(r, 0.002);
        double host_last = t0 + (double)(nframes - 1) * period / (1.0 + ppm * 1e-6);
        if (read_at > host_last)
            read_at = host_last + 0.020 + 0.030 * gsl_rng_uniform(r);
        for (; k < nframes; k++) {
            double dev = (double)k * period;
            double sent = t0 + dev / (1.0 + ppm * 1e-6) - 3e-4 * gsl_rng_uniform(r);
            if (sent + 1e-4 + gsl_ran_exponential(r, 5e-5) > read_at)
                break;
            cl_clock_add(c, (origin_s + dev) * 1e6, read_at);
        }
    }
}

/* 10 s at 1 kHz: the drift within 20 ppm of the truth and within 3
 * standard errors of it, whatever the skew, the seed and the device clock's
 * origin; the offset, at the mean device time of the points, has an SE
 * well under a millisecond even when the device clock started long ago. */
static void test_batched_reads(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double worst = 0, worst_z = 0;
    for (unsigned long seed = 1; seed <= 40; seed++) {
        cl_clock *c = cl_clock_new(1e-6, 0);
        cl_clock_fit f;
        double ppm = ((double)(seed % 9) - 4.0) * 125.0; /* -500 .. +500 */
        double origin = seed % 2 ? 0.0 : 86400.0 * (double)seed;
        gsl_rng_set(r, seed);
        simulate_reads(c, origin, ppm, 10.0, r);
        assert_int_equal(cl_clock_estimate(c, &f, NULL), CL_OK);
        double truth = (1.0 / (1.0 + ppm * 1e-6) - 1.0) * 1e6;
        double e = f.drift_ppm - truth, z = fabs(e) / (f.slope_se * 1e6);
        worst = fmax(worst, fabs(e));
        worst_z = fmax(worst_z, z);
        assert_true(fabs(e) < 20.0);
        assert_true(z < 3.0);
        assert_true(f.offset_se_s < 1e-4);
        assert_true(fabs(f.ref_device_s - (origin + 5.0)) < 0.1);
        double host_at_ref = 0.02 + (f.ref_device_s - origin) / (1.0 + ppm * 1e-6);
        assert_true(fabs(f.offset_s - host_at_ref) < 1e-3);
        cl_clock_free(c);
    }
    print_message("batched reads: worst drift error %.1f ppm, %.2f SE\n", worst, worst_z);
    gsl_rng_free(r);
}

/* A long recording keeps at most CL_CLOCK_MAX_POINTS points (windows
 * widen) and still finds the drift. */
static void test_long_recording(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    cl_clock *c = cl_clock_new(1e-6, 0);
    cl_clock_fit f;
    gsl_rng_set(r, 99);
    simulate_reads(c, 1000.0, 200.0, 3600.0, r);
    assert_int_equal(cl_clock_estimate(c, &f, NULL), CL_OK);
    assert_true(f.points <= CL_CLOCK_MAX_POINTS && f.points > CL_CLOCK_MAX_POINTS / 4);
    assert_true(fabs(f.drift_ppm + 200.0 / (1 + 200e-6)) < 1.0);
    assert_true(fabs(f.ref_device_s - 2800.0) < 5.0);
    cl_clock_free(c);
    gsl_rng_free(r);
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

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_and_drift),
        cmocka_unit_test(test_batched_reads),
        cmocka_unit_test(test_long_recording),
        cmocka_unit_test(test_too_few_points),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
