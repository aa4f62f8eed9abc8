/*
 * Unit tests of cl_specvar against exact variances: the mean of AR(1)
 * noise (the low band: Var of the sample mean from the process's
 * autocovariances), the amplitude of a period-4 regressor (the high band:
 * the spectral density at 0.25 cycles per point), white noise against
 * sigma^2 (J'J)^-1, the t scaling, and the refusals.  Each estimate is
 * averaged over 300 seeds and compared with the variance it estimates.
 */
#include "unit.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "cl_error.h"
#include "cl_specvar.h"

#define N 400
#define SEEDS 300

/* AR(1) noise e[0..n) with coefficient phi and innovation SD 1, stationary
 * from the first point. */
static void ar1(gsl_rng *r, double phi, double *e, size_t n)
{
    e[0] = gsl_ran_gaussian(r, 1 / sqrt(1 - phi * phi));
    for (size_t i = 1; i < n; i++)
        e[i] = phi * e[i - 1] + gsl_ran_gaussian(r, 1);
}

/* Ordinary least squares of y on the columns of J: the residuals. */
static void residuals(const gsl_matrix *J, const double *y, double *res)
{
    size_t n = J->size1, p = J->size2;
    gsl_matrix *X = gsl_matrix_alloc(n, p), *V = gsl_matrix_alloc(p, p);
    gsl_vector *S = gsl_vector_alloc(p), *w = gsl_vector_alloc(p), *b = gsl_vector_alloc(p);
    gsl_vector_const_view yv = gsl_vector_const_view_array(y, n);
    gsl_matrix_memcpy(X, J);
    assert_int_equal(gsl_linalg_SV_decomp(X, V, S, w), GSL_SUCCESS);
    assert_int_equal(gsl_linalg_SV_solve(X, V, S, &yv.vector, b), GSL_SUCCESS);
    for (size_t i = 0; i < n; i++) {
        double fit = 0;
        for (size_t a = 0; a < p; a++)
            fit += gsl_matrix_get(J, i, a) * gsl_vector_get(b, a);
        res[i] = y[i] - fit;
    }
    gsl_vector_free(b);
    gsl_vector_free(w);
    gsl_vector_free(S);
    gsl_matrix_free(V);
    gsl_matrix_free(X);
}

/* Mean over SEEDS of the estimated variance of parameter `which`, for the
 * design J and AR(phi) noise; *t_mean the mean t factor. */
static double mean_estimate(const gsl_matrix *J, double phi, size_t which, double *t_mean,
                            double *phi_mean)
{
    size_t n = J->size1, p = J->size2;
    double e[N], res[N], sum = 0, tsum = 0, psum = 0;
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng *r = unit_rng(seed);
        ar1(r, phi, e, n);
        residuals(J, e, res);
        cl_specvar_info info;
        assert_int_equal(cl_specvar_cov(J, res, cov, &info), CL_OK);
        assert_true(gsl_matrix_get(cov, which, which) > 0);
        sum += gsl_matrix_get(cov, which, which);
        tsum += info.t_factor;
        psum += info.phi;
        assert_true(info.t_factor >= 1);
        assert_int_equal(info.bins, (size_t)(CL_SPECVAR_LOW_BAND * (double)n) - p);
        gsl_rng_free(r);
    }
    gsl_matrix_free(cov);
    *t_mean = tsum / SEEDS;
    *phi_mean = psum / SEEDS;
    return sum / SEEDS;
}

/* The sample mean of AR(1) noise: Var = (1/n^2) sum_ij g(i-j),
 * g(l) = phi^|l| / (1 - phi^2). */
static void test_mean_of_ar1(void **state)
{
    (void)state;
    static const double phis[] = {0.0, 0.5, 0.8};
    gsl_matrix *J = gsl_matrix_alloc(N, 1);
    gsl_matrix_set_all(J, 1.0);
    for (size_t c = 0; c < sizeof phis / sizeof phis[0]; c++) {
        double phi = phis[c], exact = 0;
        for (long l = -(N - 1); l <= N - 1; l++)
            exact += (double)(N - labs(l)) * pow(phi, (double)labs(l)) / (1 - phi * phi);
        exact /= (double)N * N;
        double t, ph, est = mean_estimate(J, phi, 0, &t, &ph);
        /* the variance without the t scaling, on average near the exact one
         * (phi itself, fitted on the low band alone, is a nuisance: printed) */
        double ratio = est / (t * t) / exact;
        printf("AR(1) phi %.1f: mean estimate / exact %.3f (t factor %.3f, phi %.3f)\n", phi,
               ratio, t, ph);
        assert_true(ratio > 0.85 && ratio < 1.15);
        assert_true(t > 1 && t < 1.15);
    }
    gsl_matrix_free(J);
}

/* The amplitude of a period-4 regressor lies in the high band: its
 * variance is about S(0.25) / sum(x^2) with S the spectral density,
 * S(f) = 1 / |1 - phi e^(-2 pi i f)|^2 = 1 / (1 + phi^2) at f = 0.25. */
static void test_high_band(void **state)
{
    (void)state;
    double phi = 0.5, sxx = 0;
    gsl_matrix *J = gsl_matrix_alloc(N, 2);
    for (size_t i = 0; i < N; i++) {
        double x = cos(M_PI / 2 * (double)i + 0.3);
        gsl_matrix_set(J, i, 0, 1.0);
        gsl_matrix_set(J, i, 1, x);
        sxx += x * x;
    }
    double exact = 1 / (1 + phi * phi) / sxx;
    double t, ph, est = mean_estimate(J, phi, 1, &t, &ph);
    printf("period-4 regressor: mean estimate / exact %.3f\n", est / exact);
    /* the high band is not t-scaled */
    assert_true(est / exact > 0.9 && est / exact < 1.1);
    gsl_matrix_free(J);
}

/* White noise and a line: sigma^2 (J'J)^-1 of the slope. */
static void test_white_line(void **state)
{
    (void)state;
    double mt = (N - 1) / 2.0, sxx = 0;
    gsl_matrix *J = gsl_matrix_alloc(N, 2);
    for (size_t i = 0; i < N; i++) {
        gsl_matrix_set(J, i, 0, 1.0);
        gsl_matrix_set(J, i, 1, (double)i);
        sxx += ((double)i - mt) * ((double)i - mt);
    }
    double t, ph, est = mean_estimate(J, 0.0, 1, &t, &ph);
    double ratio = est / (t * t) / (1 / sxx);
    printf("white noise, slope: mean estimate / exact %.3f (t factor %.3f)\n", ratio, t);
    assert_true(ratio > 0.85 && ratio < 1.15);
    gsl_matrix_free(J);
}

static void test_refusals(void **state)
{
    (void)state;
    double r[N] = {0};
    gsl_matrix *cov = gsl_matrix_alloc(2, 2);
    /* too short for the low band: 10 (p + 6) - 1 points */
    gsl_matrix *J = gsl_matrix_alloc(79, 2);
    for (size_t i = 0; i < 79; i++) {
        gsl_matrix_set(J, i, 0, 1.0);
        gsl_matrix_set(J, i, 1, (double)i);
    }
    assert_int_equal(cl_specvar_cov(J, r, cov, NULL), CL_ERR_RANGE);
    gsl_matrix_free(J);
    /* collinear columns */
    J = gsl_matrix_alloc(N, 2);
    gsl_matrix_set_all(J, 1.0);
    assert_int_equal(cl_specvar_cov(J, r, cov, NULL), CL_ERR_NUMERIC);
    /* residuals without power: zero covariance, no scaling */
    for (size_t i = 0; i < N; i++)
        gsl_matrix_set(J, i, 1, (double)i);
    cl_specvar_info info;
    assert_int_equal(cl_specvar_cov(J, r, cov, &info), CL_OK);
    assert_true(gsl_matrix_get(cov, 1, 1) == 0);
    assert_true(info.t_factor == 1);
    gsl_matrix_free(J);
    gsl_matrix_free(cov);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_of_ar1),
        cmocka_unit_test(test_high_band),
        cmocka_unit_test(test_white_line),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
