/*
 * Unit tests of cl_filter: each filter against what it must do to spikes,
 * steps, ramps and constants; missing samples stay missing and do not
 * spread; strided input; the argument checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_filter.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cl_filter.h"

#define N 400

static void test_median_spike_and_step(void **state)
{
    (void)state;
    double x[N], y[N];
    for (size_t i = 0; i < N; i++)
        x[i] = i < 200 ? 0 : 10;
    x[50] = 100;
    x[300] = -100;
    assert_int_equal(cl_filter_median(x, 1, N, 5, y, NULL), CL_OK);
    assert_near(y[50], 0, 0);
    assert_near(y[300], 10, 0);
    /* The step stays sharp. */
    assert_near(y[199], 0, 0);
    assert_near(y[200], 10, 0);
    /* An even window is widened to the next odd one; in place works. */
    assert_int_equal(cl_filter_median(x, 1, N, 4, x, NULL), CL_OK);
    assert_near(x[50], 0, 0);
}

static void test_hampel(void **state)
{
    (void)state;
    double x[N], y[N];
    size_t out = 99;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, 2);
    for (size_t i = 0; i < N; i++)
        x[i] = 20 + gsl_ran_gaussian(r, 0.1);
    for (size_t k = 0; k < 7; k++)
        x[30 + 50 * k] += k % 2 ? 8 : -8;
    assert_int_equal(cl_filter_hampel(x, 1, N, 21, 5.0, y, &out, NULL), CL_OK);
    assert_int_equal(out, 7);
    for (size_t k = 0; k < 7; k++)
        assert_near(y[30 + 50 * k], 20, 0.3);
    /* Samples that are not outliers pass unchanged. */
    assert_near(y[31], x[31], 0);
    /* Clean noise: nothing replaced at 8 SDs. */
    for (size_t k = 0; k < 7; k++)
        x[30 + 50 * k] = 20;
    assert_int_equal(cl_filter_hampel(x, 1, N, 21, 8.0, y, &out, NULL), CL_OK);
    assert_int_equal(out, 0);
    assert_int_equal(cl_filter_hampel(x, 1, N, 11, 0, y, &out, NULL), CL_ERR_ARG);
    gsl_rng_free(r);
}

static void test_gaussian_and_derivative(void **state)
{
    (void)state;
    double x[N], y[N], d[N];
    for (size_t i = 0; i < N; i++)
        x[i] = 3 + 0.25 * (double)i;
    assert_int_equal(cl_filter_gaussian(x, 1, N, 4, 0, y, NULL), CL_OK);
    assert_int_equal(cl_filter_gaussian(x, 1, N, 4, 1, d, NULL), CL_OK);
    /* Interior: a ramp passes unchanged, its derivative is its slope per
     * sample. */
    for (size_t i = 30; i < N - 30; i++) {
        assert_near(y[i], x[i], 1e-9);
        assert_near(d[i], 0.25, 1e-9);
    }
    /* A step: the smoothed trace rises over about +-3 sigma. */
    for (size_t i = 0; i < N; i++)
        x[i] = i < 200 ? 0 : 1;
    assert_int_equal(cl_filter_gaussian(x, 1, N, 4, 0, y, NULL), CL_OK);
    assert_near(y[180], 0, 1e-6);
    assert_near(y[220], 1, 1e-6);
    assert_true(y[199] > 0.3 && y[199] < 0.7);
    assert_int_equal(cl_filter_gaussian(x, 1, N, 0, 0, y, NULL), CL_ERR_ARG);
    assert_int_equal(cl_filter_gaussian(x, 1, N, 2, 2, y, NULL), CL_ERR_ARG);
}

static void test_mean(void **state)
{
    (void)state;
    double x[N], y[N];
    for (size_t i = 0; i < N; i++)
        x[i] = i % 2 ? 1 : -1;
    assert_int_equal(cl_filter_mean(x, 1, N, 21, y, NULL), CL_OK);
    for (size_t i = 20; i < N - 20; i++)
        assert_near(fabs(y[i]), 1.0 / 21, 1e-12);
}

static void test_missing_and_stride(void **state)
{
    (void)state;
    double x[2 * N], c[N], y[N], z[N];
    for (size_t i = 0; i < N; i++) {
        c[i] = sin((double)i / 20);
        x[2 * i] = c[i];
        x[2 * i + 1] = 1e9; /* the other column: must not leak in */
    }
    for (size_t i = 100; i < 110; i++) {
        x[2 * i] = NAN;
        c[i] = NAN;
    }
    for (cl_filter_kind k = CL_FILTER_NONE; k <= CL_FILTER_MEAN; k++) {
        assert_int_equal(cl_filter_apply(k, x, 2, N, 5, y, NULL), CL_OK);
        assert_int_equal(cl_filter_apply(k, c, 1, N, 5, z, NULL), CL_OK);
        for (size_t i = 0; i < N; i++) {
            if (i >= 100 && i < 110) {
                assert_true(isnan(y[i]));
                continue;
            }
            assert_true(isfinite(y[i]));
            assert_near(y[i], z[i], 0);
            assert_true(fabs(y[i]) < 1.5);
        }
    }
    /* Nothing finite: all missing, not an error. */
    for (size_t i = 0; i < N; i++)
        c[i] = NAN;
    assert_int_equal(cl_filter_median(c, 1, N, 5, y, NULL), CL_OK);
    for (size_t i = 0; i < N; i++)
        assert_true(isnan(y[i]));
    /* Short input: the window is clipped. */
    double s[3] = {1, 100, 3}, t[3];
    assert_int_equal(cl_filter_median(s, 1, 3, 51, t, NULL), CL_OK);
    assert_near(t[1], 3, 0);
    assert_int_equal(cl_filter_median(s, 1, 0, 5, t, NULL), CL_OK);
    assert_int_equal(cl_filter_median(NULL, 1, 3, 5, t, NULL), CL_ERR_ARG);
    assert_int_equal(cl_filter_median(s, 0, 3, 5, t, NULL), CL_ERR_ARG);
}

/* Long traces are filtered in parts on several threads: the results must
 * be GSL's, bit for bit, whatever the number of parts (uneven splits, a
 * window wider than a part's margin, missing samples). */
static void test_parts_equal_gsl(void **state)
{
    (void)state;
    const size_t n = 400003;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *r = malloc(n * sizeof *r);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(r);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    for (size_t i = 0; i < n; i++)
        x[i] = 10 * sin((double)i / 5000) + gsl_ran_gaussian(rng, 0.3) +
               (i % 7919 == 0 ? 40 : 0);
    gsl_vector_view vx = gsl_vector_view_array(x, n), vr = gsl_vector_view_array(r, n);
    for (size_t threads = 1; threads <= 4; threads++) {
        cl_filter_set_threads(threads);
        /* Median, windows of 101 and 501 samples. */
        for (size_t k = 101; k <= 501; k += 400) {
            gsl_filter_median_workspace *ws = gsl_filter_median_alloc(k);
            assert_int_equal(gsl_filter_median(GSL_FILTER_END_TRUNCATE, &vx.vector, &vr.vector, ws),
                             GSL_SUCCESS);
            gsl_filter_median_free(ws);
            assert_int_equal(cl_filter_median(x, 1, n, k, y, NULL), CL_OK);
            assert_memory_equal(y, r, n * sizeof *y);
        }
        /* Gaussian smoothing: GSL's filter with padded ends. */
        gsl_filter_gaussian_workspace *gw = gsl_filter_gaussian_alloc(61);
        assert_int_equal(gsl_filter_gaussian(GSL_FILTER_END_PADVALUE, 3.0, 0, &vx.vector,
                                             &vr.vector, gw),
                         GSL_SUCCESS);
        gsl_filter_gaussian_free(gw);
        assert_int_equal(cl_filter_gaussian(x, 1, n, 10, 0, y, NULL), CL_OK);
        assert_memory_equal(y, r, n * sizeof *y);
    }
    /* Missing samples stay missing, the rest as one pass gives. */
    for (size_t i = 200000; i < 200050; i++)
        x[i] = NAN;
    cl_filter_set_threads(1);
    assert_int_equal(cl_filter_median(x, 1, n, 101, r, NULL), CL_OK);
    cl_filter_set_threads(3);
    assert_int_equal(cl_filter_median(x, 1, n, 101, y, NULL), CL_OK);
    assert_true(isnan(y[200000]) && isnan(y[200049]) && isfinite(y[200050]));
    for (size_t i = 0; i < n; i++)
        assert_true(y[i] == r[i] || (isnan(y[i]) && isnan(r[i])));
    cl_filter_set_threads(0);
    gsl_rng_free(rng);
    free(x);
    free(y);
    free(r);
}

/* cl_filter_median_max against the maximum of the whole filtered trace:
 * the same value and the same (first) index for plateaus with noise, decays
 * with spikes, ties (quantised samples), ramps peaking at an end, missing
 * samples, and traces shorter than the window. */
static void check_median_max(const double *x, size_t n, size_t window)
{
    double *y = malloc((n ? n : 1) * sizeof *y), best = NAN, max;
    size_t at_ref = n, at;
    assert_non_null(y);
    assert_int_equal(cl_filter_median(x, 1, n, window, y, NULL), CL_OK);
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]) && !(y[i] <= best)) {
            best = y[i];
            at_ref = i;
        }
    assert_int_equal(cl_filter_median_max(x, 1, n, window, &max, &at, NULL), CL_OK);
    assert_int_equal(at, at_ref);
    assert_true(max == best || (isnan(max) && isnan(best)));
    free(y);
}

static void test_median_max(void **state)
{
    (void)state;
    const size_t n = 200000;
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    for (int shape = 0; shape < 6; shape++) {
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / 1000, noise = gsl_ran_gaussian(rng, 0.2);
            switch (shape) {
            case 0: x[i] = 30 + noise; break;                          /* flat hold */
            case 1: x[i] = 20 + 15 * exp(-t / 60) + noise; break;      /* leak */
            case 2: x[i] = round(4 * (30 + noise)) / 4; break;         /* ties */
            case 3: x[i] = t + noise; break;                           /* peak at the end */
            case 4: x[i] = 40 - t + noise; break;                      /* peak at the start */
            default: x[i] = 30 + 5 * sin(t * 2) + noise; break;        /* breathing */
            }
            if (gsl_rng_uniform(rng) < 0.001)
                x[i] += 50; /* spikes */
        }
        if (shape == 5)
            for (size_t i = 0; i < 700; i++)
                x[i] = x[n - 1 - i] = x[90000 + i] = NAN;
        check_median_max(x, n, 501);
        check_median_max(x, n, 101);
        check_median_max(x, 3000, 501);
        check_median_max(x, 400, 501); /* window wider than the trace */
    }
    check_median_max(x, 1, 501);
    check_median_max(x, 0, 501);
    for (size_t i = 0; i < 100; i++)
        x[i] = NAN;
    check_median_max(x, 100, 11); /* nothing finite */
    gsl_rng_free(rng);
    free(x);
}

static void test_names(void **state)
{
    (void)state;
    for (cl_filter_kind k = CL_FILTER_MEDIAN; k <= CL_FILTER_MEAN; k++)
        assert_int_equal(cl_filter_from_name(cl_filter_name(k)), k);
    assert_int_equal(cl_filter_from_name("Gauss"), CL_FILTER_GAUSSIAN);
    assert_int_equal(cl_filter_from_name("moving-average"), CL_FILTER_MEAN);
    assert_int_equal(cl_filter_from_name("impulse"), CL_FILTER_HAMPEL);
    assert_int_equal(cl_filter_from_name("boxcar"), CL_FILTER_NONE);
    assert_int_equal(cl_filter_from_name(NULL), CL_FILTER_NONE);
    double x[3] = {1, 2, 3}, y[3];
    assert_int_equal(cl_filter_apply((cl_filter_kind)9, x, 1, 3, 1, y, NULL), CL_ERR_ARG);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_spike_and_step),
        cmocka_unit_test(test_hampel),
        cmocka_unit_test(test_gaussian_and_derivative),
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_missing_and_stride),
        cmocka_unit_test(test_parts_equal_gsl),
        cmocka_unit_test(test_median_max),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
