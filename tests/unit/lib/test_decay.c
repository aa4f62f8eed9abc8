/*
 * Unit tests of cl_decay: fits on synthetic curves with known parameters.
 * Recovery within 3 standard errors, honest standard errors (coverage of the
 * 95 % interval over 200 noise seeds, white and AR(1) noise; over 1000 seeds
 * of 1 s block means of a 20 Hz hold with breathing ripple, sinusoidal or
 * drifting, and AR noise), model choice,
 * non-identifiability on short windows, and the argument checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cl_decay.h"

#define SEEDS 200

typedef struct truth {
    double p0, pinf, tau, c; /* kPa, kPa, s, kPa/s; tau <= 0: linear a + c t */
} truth;

static double model(const truth *m, double t)
{
    if (m->tau <= 0)
        return m->p0 + m->c * t;
    return m->pinf + (m->p0 - m->pinf) * exp(-t / m->tau) + m->c * t;
}

/* n samples at dt seconds of the model plus noise: AR(1) with lag-1
 * correlation rho and marginal SD sigma (rho = 0: white). */
static void synth(const truth *m, size_t n, double dt, double sigma, double rho, gsl_rng *r,
                  double *t, double *p)
{
    double e = gsl_ran_gaussian(r, sigma);
    for (size_t i = 0; i < n; i++) {
        if (i)
            e = rho * e + gsl_ran_gaussian(r, sigma * sqrt(1 - rho * rho));
        t[i] = (double)i * dt;
        p[i] = model(m, t[i]) + e;
    }
}

static void test_exp_recovers_parameters(void **state)
{
    (void)state;
    /* A window of 4 tau: p_inf and tau are identifiable. */
    truth m = {.p0 = -40, .pinf = -15, .tau = 150};
    double t[600], p[600];
    gsl_rng *r = unit_rng(1);
    synth(&m, 600, 1.0, 0.2, 0, r, t, p);
    cl_decay_fit f;
    cl_error err;
    assert_int_equal(cl_decay_fit_model(t, p, 1, 600, CL_DECAY_EXP, &f, &err), CL_OK);
    assert_true(f.ok);
    assert_true(f.identifiable);
    assert_int_equal(f.n, 600);
    assert_true(fabs(f.tau_s - m.tau) < 3 * f.tau_se);
    assert_true(fabs(f.p0_kpa - m.p0) < 3 * f.p0_se);
    assert_true(fabs(f.p_inf_kpa - m.pinf) < 3 * f.p_inf_se);
    /* Errors of a well-posed fit are small: tau within 5 %. */
    assert_true(f.tau_se < 0.05 * m.tau);
    assert_true(f.r2 > 0.99);
    assert_near(f.sigma_kpa, 0.2, 0.03);
    /* The model functions agree with the parameters. */
    assert_near(cl_decay_eval(&f, 0), f.p0_kpa, 1e-9);
    assert_near(cl_decay_rate(&f, 0), -(f.p0_kpa - f.p_inf_kpa) / f.tau_s, 1e-12);
    assert_near(f.slope_kpa_s, -(m.p0 - m.pinf) / m.tau, 3 * f.slope_se);
    gsl_rng_free(r);
}

/* Fraction of seeds whose 95 % interval (±1.96 SE) holds the true tau;
 * *mean_infl receives the mean inflation factor. */
static double tau_coverage(const truth *m, size_t n, double dt, double sigma, double rho,
                           double *mean_infl)
{
    double *t = malloc(n * sizeof *t), *p = malloc(n * sizeof *p);
    size_t hits = 0;
    double infl = 0;
    assert_non_null(t);
    assert_non_null(p);
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng *r = unit_rng(seed);
        synth(m, n, dt, sigma, rho, r, t, p);
        cl_decay_fit f;
        assert_int_equal(cl_decay_fit_model(t, p, 1, n, CL_DECAY_EXP, &f, NULL), CL_OK);
        assert_true(f.ok);
        if (fabs(f.tau_s - m->tau) <= 1.96 * f.tau_se)
            hits++;
        infl += f.inflation;
        gsl_rng_free(r);
    }
    free(t);
    free(p);
    *mean_infl = infl / SEEDS;
    return (double)hits / SEEDS;
}

static void test_tau_coverage_white(void **state)
{
    (void)state;
    truth m = {.p0 = -40, .pinf = -15, .tau = 300};
    double infl, cov = tau_coverage(&m, 600, 1.0, 0.3, 0, &infl);
    printf("tau coverage, white noise: %.3f (mean inflation %.3f)\n", cov, infl);
    assert_true(cov >= 0.88 && cov <= 0.99);
    assert_true(infl < 1.15);
}

static void test_tau_coverage_ar1(void **state)
{
    (void)state;
    /* Strongly autocorrelated noise: iid errors are about 2.3x too small
     * (with the same seeds they cover 62 %). */
    truth m = {.p0 = -40, .pinf = -15, .tau = 300};
    double infl, cov = tau_coverage(&m, 600, 1.0, 0.3, 0.7, &infl);
    printf("tau coverage, AR(1) rho 0.7: %.3f (mean inflation %.3f)\n", cov, infl);
    assert_true(cov >= 0.88 && cov <= 0.99);
    assert_true(infl > 2.0 && infl < 2.6);
}

/* ------------------------------------------------ coverage under ripple */

#define RIPPLE_SEEDS 1000
#define RAW_HZ 20.0
#define HOLD_S 300

/* A hold as the analysis fits it: RAW_HZ samples of the decay with the
 * simulator's ripple (breathing and pulse, scaled by the vacuum), white
 * sensor noise and a slow AR(1) disturbance, averaged in 1 s blocks.
 * irregular: the breathing frequency drifts (random walk within 0.2-0.3 Hz)
 * and its phase is random.  *slope_true: the least-squares slope of the
 * noise-free decay at the block times (the decay slope's estimand). */
static void synth_hold(const truth *m, bool irregular, gsl_rng *r, double *bt, double *bp,
                       double *slope_true)
{
    const double two_pi = 2 * M_PI;
    double f = 0.25, phase = gsl_rng_uniform(r) * two_pi, pphase = gsl_rng_uniform(r) * two_pi;
    double breath = 0.133, pulse = 0.04, white = 0.04, ar_sd = 0.06, rho = 0.98;
    double e = gsl_ran_gaussian(r, ar_sd);
    size_t per = (size_t)RAW_HZ;
    double st = 0, sp = 0, stt = 0, stp = 0;
    for (size_t b = 0; b < HOLD_S; b++) {
        double tb = 0, pb = 0;
        for (size_t j = 0; j < per; j++) {
            double t = (double)(b * per + j) / RAW_HZ;
            if (irregular) {
                f += gsl_ran_gaussian(r, 0.002);
                if (f < 0.2 || f > 0.3)
                    f = f < 0.2 ? 0.4 - f : 0.6 - f;
            }
            phase += two_pi * f / RAW_HZ;
            pphase += two_pi * 1.2 / RAW_HZ;
            e = rho * e + gsl_ran_gaussian(r, ar_sd * sqrt(1 - rho * rho));
            double p = model(m, t);
            tb += t;
            pb += p + p / m->p0 * (breath * sin(phase) + pulse * sin(pphase)) + e +
                  gsl_ran_gaussian(r, white);
        }
        bt[b] = tb / (double)per;
        bp[b] = pb / (double)per;
        double ps = model(m, bt[b]);
        st += bt[b];
        sp += ps;
        stt += bt[b] * bt[b];
        stp += bt[b] * ps;
    }
    double n = HOLD_S;
    *slope_true = (stp - st * sp / n) / (stt - st * st / n);
}

typedef struct coverage {
    double tau, k, slope, bias_tau_rel, med_infl;
} coverage;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static coverage ripple_coverage(const truth *m, bool irregular)
{
    double bt[HOLD_S], bp[HOLD_S], infl[RIPPLE_SEEDS];
    size_t ht = 0, hk = 0, hs = 0;
    double bias = 0, k_true = 60 / m->tau;
    for (unsigned long seed = 1; seed <= RIPPLE_SEEDS; seed++) {
        gsl_rng *r = unit_rng(seed + (irregular ? 50000 : 0));
        double slope_true;
        synth_hold(m, irregular, r, bt, bp, &slope_true);
        cl_decay_fit best, all[3];
        assert_int_equal(cl_decay_fit_best(bt, bp, 1, HOLD_S, &best, all, NULL), CL_OK);
        const cl_decay_fit *e = &all[CL_DECAY_EXP - 1], *l = &all[CL_DECAY_LINEAR - 1];
        assert_true(e->ok);
        assert_true(e->identifiable);
        ht += fabs(e->tau_s - m->tau) <= 1.96 * e->tau_se;
        hk += fabs(e->k_per_min - k_true) <= 1.96 * e->k_se_per_min;
        hs += fabs(l->slope_kpa_s - slope_true) <= 1.96 * l->slope_se;
        bias += (e->tau_s - m->tau) / m->tau;
        infl[seed - 1] = e->inflation;
        gsl_rng_free(r);
    }
    qsort(infl, RIPPLE_SEEDS, sizeof *infl, cmp_double);
    return (coverage){(double)ht / RIPPLE_SEEDS, (double)hk / RIPPLE_SEEDS,
                      (double)hs / RIPPLE_SEEDS, bias / RIPPLE_SEEDS, infl[RIPPLE_SEEDS / 2]};
}

static void check_ripple(const char *what, const coverage *c)
{
    printf("%s: 95 %% coverage tau %.3f, k %.3f, decay slope %.3f; mean relative "
           "bias of tau %+.4f; median SE inflation %.2f (%d seeds)\n",
           what, c->tau, c->k, c->slope, c->bias_tau_rel, c->med_infl, RIPPLE_SEEDS);
    /* The target: 93-97 % (1000 seeds: a coverage of 95 % lands within
     * +-1.4 % of it in 95 % of runs).  Measured with these seeds: tau, k and
     * the slope 0.958-0.967 under both kinds of ripple. */
    assert_true(c->tau >= 0.93 && c->tau <= 0.97);
    assert_true(c->k >= 0.93 && c->k <= 0.97);
    assert_true(c->slope >= 0.93 && c->slope <= 0.97);
    assert_true(fabs(c->bias_tau_rel) < 0.01);
}

static void test_coverage_sinusoidal_ripple(void **state)
{
    (void)state;
    truth m = {.p0 = -40, .pinf = -12, .tau = 600};
    coverage c = ripple_coverage(&m, false);
    check_ripple("sinusoidal ripple + AR noise", &c);
}

static void test_coverage_irregular_ripple(void **state)
{
    (void)state;
    truth m = {.p0 = -40, .pinf = -12, .tau = 600};
    coverage c = ripple_coverage(&m, true);
    check_ripple("irregular ripple + AR noise", &c);
}

static void test_linear_slope(void **state)
{
    (void)state;
    truth m = {.p0 = -30, .tau = 0, .c = -0.004};
    double t[300], p[300];
    size_t hits = 0;
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng *r = unit_rng(seed);
        synth(&m, 300, 1.0, 0.1, 0, r, t, p);
        cl_decay_fit f;
        assert_int_equal(cl_decay_fit_model(t, p, 1, 300, CL_DECAY_LINEAR, &f, NULL), CL_OK);
        assert_true(f.ok);
        assert_true(fabs(f.slope_kpa_s - m.c) < 4 * f.slope_se);
        assert_true(fabs(f.a_kpa - m.p0) < 4 * f.a_se);
        if (fabs(f.slope_kpa_s - m.c) <= 1.96 * f.slope_se)
            hits++;
        gsl_rng_free(r);
    }
    double cov = (double)hits / SEEDS;
    printf("slope coverage: %.3f\n", cov);
    assert_true(cov >= 0.88 && cov <= 0.99);
}

/* Fraction of seeds for which fit_best picks `want`. */
static double pick_rate(const truth *m, size_t n, double dt, double sigma, double rho,
                        cl_decay_model want, int seeds)
{
    double *t = malloc(n * sizeof *t), *p = malloc(n * sizeof *p);
    int hits = 0;
    assert_non_null(t);
    assert_non_null(p);
    for (int seed = 1; seed <= seeds; seed++) {
        gsl_rng *r = unit_rng((unsigned long)seed + 1000);
        synth(m, n, dt, sigma, rho, r, t, p);
        cl_decay_fit best, all[3];
        assert_int_equal(cl_decay_fit_best(t, p, 1, n, &best, all, NULL), CL_OK);
        assert_true(best.ok);
        assert_int_equal(all[0].model, CL_DECAY_LINEAR);
        assert_int_equal(all[1].model, CL_DECAY_EXP);
        assert_int_equal(all[2].model, CL_DECAY_EXP_SLOPE);
        if (best.model == want)
            hits++;
        gsl_rng_free(r);
    }
    free(t);
    free(p);
    return (double)hits / seeds;
}

static void test_model_choice(void **state)
{
    (void)state;
    truth lin = {.p0 = -30, .tau = 0, .c = -0.003};
    truth ex = {.p0 = -40, .pinf = -15, .tau = 150};
    truth exs = {.p0 = -45, .pinf = -35, .tau = 60, .c = 0.01};
    double r1 = pick_rate(&lin, 600, 1.0, 0.2, 0, CL_DECAY_LINEAR, 50);
    double r2 = pick_rate(&ex, 600, 1.0, 0.2, 0, CL_DECAY_EXP, 50);
    double r3 = pick_rate(&exs, 600, 1.0, 0.2, 0, CL_DECAY_EXP_SLOPE, 50);
    double r4 = pick_rate(&ex, 600, 1.0, 0.3, 0.6, CL_DECAY_EXP, 50);
    printf("model choice: linear %.2f, exp %.2f, exp+slope %.2f, exp AR(1) %.2f\n", r1, r2,
           r3, r4);
    assert_true(r1 >= 0.85);
    assert_true(r2 >= 0.85);
    assert_true(r3 >= 0.85);
    assert_true(r4 >= 0.85);
}

static void test_short_window_not_identifiable(void **state)
{
    (void)state;
    /* 60 s of a decay with tau = 1500 s: nearly a straight line. */
    truth m = {.p0 = -40, .pinf = -10, .tau = 1500};
    double t[60], p[60];
    gsl_rng *r = unit_rng(5);
    synth(&m, 60, 1.0, 0.2, 0, r, t, p);
    cl_decay_fit best, all[3];
    assert_int_equal(cl_decay_fit_best(t, p, 1, 60, &best, all, NULL), CL_OK);
    /* The exponential either runs tau off to infinity (fit fails) or
     * converges with tau not known to +-50 % at 95 %. */
    assert_false(all[1].identifiable);
    if (all[1].ok)
        assert_true(1.96 * all[1].tau_se >= 0.5 * all[1].tau_s);
    assert_false(all[2].identifiable);
    assert_int_equal(best.model, CL_DECAY_LINEAR);
    /* The fallback still measures the leak: the slope over the window. */
    double want = (model(&m, 59) - model(&m, 0)) / 59;
    assert_true(fabs(best.slope_kpa_s - want) < 3 * best.slope_se);
    gsl_rng_free(r);
}

static void test_deepening_vacuum(void **state)
{
    (void)state;
    /* A fire cup cooling: vacuum deepens from -30 toward -45 kPa. */
    truth m = {.p0 = -30, .pinf = -45, .tau = 90};
    double t[400], p[400];
    gsl_rng *r = unit_rng(9);
    synth(&m, 400, 1.0, 0.1, 0, r, t, p);
    cl_decay_fit f;
    assert_int_equal(cl_decay_fit_model(t, p, 1, 400, CL_DECAY_EXP, &f, NULL), CL_OK);
    assert_true(fabs(f.tau_s - 90) < 3 * f.tau_se);
    assert_true(fabs(f.p_inf_kpa + 45) < 3 * f.p_inf_se);
    assert_true(f.slope_kpa_s < 0);
    gsl_rng_free(r);
}

static void test_stride_and_missing(void **state)
{
    (void)state;
    /* Interleaved (t, p) pairs with NaN gaps: the fit uses stride 2 and
     * skips non-finite points. */
    truth m = {.p0 = -40, .pinf = -15, .tau = 300};
    double t[600], p[600], tp[1200];
    gsl_rng *r = unit_rng(11);
    synth(&m, 600, 1.0, 0.2, 0, r, t, p);
    for (size_t i = 0; i < 600; i++) {
        tp[2 * i] = t[i];
        tp[2 * i + 1] = i % 10 == 3 ? NAN : p[i];
    }
    tp[2 * 100] = INFINITY;
    cl_decay_fit f, g;
    assert_int_equal(cl_decay_fit_model(tp, tp + 1, 2, 600, CL_DECAY_EXP, &f, NULL), CL_OK);
    assert_int_equal(f.n, 600 - 60 - 1);
    assert_true(fabs(f.tau_s - m.tau) < 3 * f.tau_se);
    /* Same points contiguous give the same fit. */
    double tc[600], pc[600];
    size_t k = 0;
    for (size_t i = 0; i < 600; i++)
        if (isfinite(tp[2 * i]) && isfinite(tp[2 * i + 1])) {
            tc[k] = tp[2 * i];
            pc[k++] = tp[2 * i + 1];
        }
    assert_int_equal(cl_decay_fit_model(tc, pc, 1, k, CL_DECAY_EXP, &g, NULL), CL_OK);
    assert_near(f.tau_s, g.tau_s, 1e-6 * g.tau_s);
    gsl_rng_free(r);
}

static void test_errors(void **state)
{
    (void)state;
    double t[4] = {0, 1, 2, 3}, p[4] = {-1, -2, -3, -4}, same[6] = {1, 1, 1, 1, 1, 1};
    double nan6[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    cl_decay_fit f;
    cl_error err;
    /* Fewer points than parameters + 2. */
    assert_int_equal(cl_decay_fit_model(t, p, 1, 4, CL_DECAY_EXP, &f, &err), CL_ERR_ARG);
    assert_false(f.ok);
    assert_non_null(strstr(err.msg, "at least 5"));
    assert_int_equal(cl_decay_fit_model(t, p, 1, 4, CL_DECAY_LINEAR, &f, &err), CL_OK);
    assert_near(f.slope_kpa_s, -1, 1e-12);
    assert_int_equal(cl_decay_fit_model(t, p, 1, 3, CL_DECAY_LINEAR, &f, &err), CL_ERR_ARG);
    /* All points at one time; all missing; bad arguments. */
    assert_int_equal(cl_decay_fit_model(same, nan6, 1, 6, CL_DECAY_LINEAR, &f, &err),
                     CL_ERR_ARG);
    assert_int_equal(cl_decay_fit_model(same, same, 1, 6, CL_DECAY_LINEAR, &f, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "same time"));
    assert_int_equal(cl_decay_fit_model(t, p, 0, 4, CL_DECAY_LINEAR, &f, &err), CL_ERR_ARG);
    assert_int_equal(cl_decay_fit_model(t, p, 1, 4, (cl_decay_model)7, &f, &err), CL_ERR_ARG);
    assert_int_equal(cl_decay_fit_model(NULL, p, 1, 4, CL_DECAY_LINEAR, &f, &err), CL_ERR_ARG);
    cl_decay_fit best;
    assert_int_equal(cl_decay_fit_best(t, p, 1, 3, &best, NULL, &err), CL_ERR_ARG);
    assert_false(best.ok);
    assert_string_equal(cl_decay_model_name(CL_DECAY_EXP_SLOPE), "exp+slope");
    assert_string_equal(cl_decay_model_name((cl_decay_model)0), "unknown");
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_recovers_parameters),
        cmocka_unit_test(test_tau_coverage_white),
        cmocka_unit_test(test_tau_coverage_ar1),
        cmocka_unit_test(test_coverage_sinusoidal_ripple),
        cmocka_unit_test(test_coverage_irregular_ripple),
        cmocka_unit_test(test_linear_slope),
        cmocka_unit_test(test_model_choice),
        cmocka_unit_test(test_short_window_not_identifiable),
        cmocka_unit_test(test_deepening_vacuum),
        cmocka_unit_test(test_stride_and_missing),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
