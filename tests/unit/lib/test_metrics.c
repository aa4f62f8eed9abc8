/*
 * Unit tests of cl_metrics on traces of the virtual device's model with
 * noise and ripple (in kPa, no sensor: the sensor is the analysis
 * pipeline's business).  Tolerances: peak within 0.35 kPa of the model's
 * deepest vacuum (ripple up to 0.27 kPa plus noise), dose within 0.5 % of
 * the model integrated numerically (1 ms steps), hold mean within 0.05 kPa
 * of the model's mean over the same window, the decay slope and relative
 * rate within 4 SE of the noise-free model's least-squares slope over the
 * fitted stretch (sampled and blocked as the trace), a chosen
 * exponential within 0.3 kPa of the noise-free model (fire cups: 1.5 kPa,
 * as one exponential only approximates cooling plus leak), and (pump cups) tau and p_inf within 3 SE of the truth whenever the
 * exponential fit converges.
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

#include "unit.h"
#include "cl_metrics.h"
#include "cl_segment.h"
#include "cl_sim.h"

#define RATE_HZ 50 /* samples per second of the simulated traces */

/* Model vacuum (positive), noise-free and without ripple. */
static double model_vac(const cl_sim_cup *c, double t)
{
    return -cl_sim_pressure_kpa(c, t);
}

static double integrate(const cl_sim_cup *c, double a, double b)
{
    double s = 0, h = 1e-3;
    for (double t = a; t < b; t += h)
        s += 0.5 * (model_vac(c, t) + model_vac(c, fmin(t + h, b))) * fmin(h, b - t);
    return s;
}

static double model_mean(const cl_sim_cup *c, double a, double b)
{
    return integrate(c, a, b) / (b - a);
}

static double model_max(const cl_sim_cup *c, double a, double b)
{
    double m = 0;
    for (double t = a; t <= b; t += 0.01)
        m = fmax(m, model_vac(c, t));
    return m;
}

static void run_cup(const cl_sim_cup *c, gsl_rng *r, double rate_hz, cl_segmentation *seg,
                    cl_cup_metrics *m, double **tt, double **vv, size_t *nn)
{
    double t_end = cl_sim_release_end(c) + 5;
    size_t n = (size_t)(t_end * rate_hz);
    double *t = malloc(n * sizeof *t), *v = malloc(n * sizeof *v);
    assert_non_null(t);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        t[i] = (double)i / rate_hz;
        v[i] = -cl_sim_sample_kpa(c, t[i]) + gsl_ran_gaussian(r, c->noise_kpa);
    }
    assert_int_equal(cl_segment(t, v, 1, n, NULL, seg, NULL), CL_OK);
    assert_int_equal(seg->napps, 1);
    assert_int_equal(cl_metrics_compute(t, v, 1, n, &seg->apps[0], NULL, m, NULL), CL_OK);
    *tt = t;
    *vv = v;
    *nn = n;
}

static void check_cups(cl_sim_technique tech, const cl_sim_cup *fixed)
{
    size_t tau_checked = 0;
    double worst_peak = 0, worst_dose = 0, worst_mean = 0, worst_fit = 0, peak_bias = 0;
    double peak_u = 0;
    size_t peak_covered = 0, ncups = 0;
    size_t n_exp = 0;
    for (unsigned long seed = 1; seed <= (fixed ? 5 : 30); seed++) {
        gsl_rng *r = unit_rng(seed);
        cl_sim_cup c;
        cl_sim_cup_random(&c, tech, 5, r);
        if (fixed)
            c = *fixed;
        cl_segmentation seg;
        cl_cup_metrics m;
        double *t, *v;
        size_t n;
        run_cup(&c, r, RATE_HZ, &seg, &m, &t, &v, &n);
        const cl_segment_app *a = &seg.apps[0];

        double want_peak = model_max(&c, c.t_apply_s, cl_sim_release_start(&c));
        assert_true(fabs(m.peak_kpa - want_peak) < 0.35);
        worst_peak = fmax(worst_peak, fabs(m.peak_kpa - want_peak));
        /* The peak's noise uncertainty (expanded) covers its error. */
        peak_covered += fabs(m.peak_kpa - want_peak) <= m.peak_noise_u_kpa;
        peak_bias += m.peak_kpa - want_peak;
        peak_u += m.peak_noise_u_kpa;
        ncups++;
        assert_true(m.peak_t_s >= a->onset_s && m.peak_t_s <= a->release_start_s);
        assert_near(m.time_to_peak_s, m.peak_t_s - a->onset_s, 1e-9);

        double want_dose = integrate(&c, c.t_apply_s, cl_sim_release_end(&c)) / 60;
        assert_true(fabs(m.dose_kpa_min - want_dose) < 0.005 * want_dose);
        worst_dose = fmax(worst_dose, fabs(m.dose_kpa_min / want_dose - 1));

        assert_near(m.win_start_s, a->hold_start_s + 3, 1e-9);
        assert_near(m.win_end_s, a->release_start_s - 1, 1e-9);
        assert_near(m.hold_duration_s, a->release_start_s - a->hold_start_s, 1e-9);
        double want_mean = model_mean(&c, m.win_start_s, m.win_end_s);
        assert_true(fabs(m.hold_mean_kpa - want_mean) < 0.05);
        worst_mean = fmax(worst_mean, fabs(m.hold_mean_kpa - want_mean));
        assert_true(m.hold_min_kpa <= m.hold_mean_kpa && m.hold_mean_kpa <= m.hold_max_kpa);
        assert_true(m.hold_sd_kpa > 0);

        assert_true(m.fitted);
        assert_near(m.fit_start_s, m.win_start_s, 1e-9);
        double span = m.fit_end_s - m.fit_start_s;
        /* The decay slope's estimand: the least-squares slope of the
         * noise-free block means over the fitted stretch, sampled and
         * blocked as the trace is (cl_sim's truth): within 4 SE (about 1 in
         * 16000 beyond with honest normal errors; the tests run 61 cups). */
        cl_sim_hold_truth h;
        cl_metrics_params mp;
        cl_metrics_defaults(&mp);
        cl_sim_hold_estimands(&c, m.fit_start_s, m.fit_end_s, RATE_HZ, mp.fit_bin_s, &h);
        double want_leak = h.slope_kpa_min;
        assert_true(fabs(m.leak_kpa_min - want_leak) < 4 * m.leak_se_kpa_min);
        const cl_decay_fit *e = &m.all[CL_DECAY_EXP - 1];
        if (tech == CL_SIM_PUMP && e->ok) {
            assert_true(fabs(e->tau_s - c.tau_s) < 3 * e->tau_se);
            assert_true(fabs(e->p_inf_kpa + c.p_inf_kpa) < 3 * e->p_inf_se);
            tau_checked++;
            /* The rate constant k = 1/tau per minute, within 3 of its SE. */
            assert_true(!m.cooling);
            assert_true(fabs(m.k_per_min - h.k_per_min) < 3 * m.k_se_per_min);
        }
        /* Fire cups cool: one model, exp+slope, no leak k. */
        if (tech == CL_SIM_FIRE) {
            assert_true(m.cooling);
            assert_ptr_equal(cl_metrics_exp_fit(&m), &m.all[CL_DECAY_EXP_SLOPE - 1]);
            assert_true(m.best.model != CL_DECAY_EXP);
            assert_true(isnan(m.k_per_min));
        }
        /* The relative rate: the decay slope over the mean of the fitted
         * blocks, whose mean is the hold's noise-free mean within 0.05 kPa. */
        assert_true(fabs(m.fit_mean_kpa - h.mean_kpa) < 0.05);
        assert_true(fabs(m.rel_pct_min - h.rel_pct_min) < 4 * m.rel_se_pct_min);
        assert_near(m.rel_pct_min, 100 * m.leak_kpa_min / m.fit_mean_kpa, 1e-9);
        assert_near(m.rel_se_pct_min, 100 * m.leak_se_kpa_min / fabs(m.fit_mean_kpa), 1e-9);
        /* A chosen exponential follows the noise-free truth over the
         * stretch (the linear fallback cannot, on a curved decay). */
        if (m.best.model != CL_DECAY_LINEAR) {
            double dev = 0;
            for (double u = 0; u <= span; u += 1)
                dev = fmax(dev, fabs(cl_decay_eval(&m.best, u) - model_vac(&c, m.fit_start_s + u)));
            assert_true(dev < (tech == CL_SIM_PUMP ? 0.3 : 1.5));
            worst_fit = fmax(worst_fit, dev);
            n_exp++;
        }
        /* The change over the stretch, from the data at its ends. */
        double want_change = model_vac(&c, m.fit_end_s - 5) - model_vac(&c, m.fit_start_s + 5);
        assert_true(fabs(m.change_kpa - want_change) < 0.1 + 0.02 * fabs(want_change));
        assert_true(isfinite(m.change_kpa));
        /* Pump cups lose vacuum, fire cups gain it while they cool. */
        if (tech == CL_SIM_PUMP)
            assert_true(m.leak_kpa_min > 0);
        cl_segmentation_release(&seg);
        free(t);
        free(v);
        gsl_rng_free(r);
    }
    printf("%s: worst peak error %.3f kPa, dose %.3f %%, hold mean %.3f kPa, fitted curve "
           "%.3f kPa (%zu exponential); tau checked on %zu cups\n",
           cl_sim_technique_name(tech), worst_peak, 100 * worst_dose, worst_mean, worst_fit,
           n_exp, tau_checked);
    printf("%s: peak within its noise uncertainty (k = 2, mean %.3f kPa) on %zu of %zu "
           "cups, mean error %+.3f kPa\n", cl_sim_technique_name(tech),
           peak_u / (double)ncups, peak_covered, ncups, peak_bias / (double)ncups);
    assert_true(peak_covered >= ncups - ncups / 10);
    if (tech == CL_SIM_PUMP)
        assert_true(tau_checked >= (fixed ? 5 : 20));
    if (fixed)
        assert_int_equal(n_exp, 5);
}

static void test_pump(void **state)
{
    (void)state;
    check_cups(CL_SIM_PUMP, NULL);
}

static void test_fire(void **state)
{
    (void)state;
    check_cups(CL_SIM_FIRE, NULL);
}

static void test_long_hold(void **state)
{
    (void)state;
    /* A hold of four time constants: p_inf and tau identifiable, the
     * exponential is chosen and tracks the truth. */
    cl_sim_cup c = {0};
    c.technique = CL_SIM_PUMP;
    c.t_apply_s = 5;
    c.pump_strokes = 2;
    c.stroke_interval_s = 2;
    c.peak_kpa = -45;
    c.hold_s = 600;
    c.tau_s = 150;
    c.p_inf_kpa = -20;
    c.release_s = 2;
    c.noise_kpa = 0.04;
    c.breath_kpa = 0.15;
    c.breath_hz = 0.22;
    c.pulse_kpa = 0.05;
    c.pulse_hz = 1.3;
    check_cups(CL_SIM_PUMP, &c);
}

static void test_repump_stretch(void **state)
{
    (void)state;
    /* A hold with re-pumps at 40 s and 200 s: the fit takes the longest
     * stretch, from the first re-pump's settling to the second. */
    cl_segment_app a = {0};
    a.onset_s = 5;
    a.hold_start_s = 10;
    a.release_start_s = 300;
    a.release_end_s = 302;
    a.released = true;
    a.repumps = 2;
    a.repump_s[0] = 40;
    a.repump_end_s[0] = 40.5;
    a.repump_s[1] = 200;
    a.repump_end_s[1] = 200.5;
    size_t n = 3100;
    double *t = malloc(n * sizeof *t), *v = malloc(n * sizeof *v);
    assert_non_null(t);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        t[i] = (double)i / 10;
        v[i] = t[i] < 5 || t[i] > 302 ? 0 : 30 - 0.01 * (t[i] - 5);
    }
    v[1000] = NAN;
    cl_cup_metrics m;
    assert_int_equal(cl_metrics_compute(t, v, 1, n, &a, NULL, &m, NULL), CL_OK);
    assert_near(m.fit_start_s, 43.5, 1e-9);
    assert_near(m.fit_end_s, 200, 1e-9);
    assert_true(m.fitted);
    assert_near(m.leak_kpa_min, 0.6, 1e-6);
    assert_int_equal(m.best.model, CL_DECAY_LINEAR);
    assert_near(m.change_kpa, -0.01 * (195 - 48.5), 0.01);
    /* Dose of the ramp: trapezoid exact up to the missing sample. */
    double want = 0;
    for (size_t i = 51; i <= 3020; i++) {
        if (i == 1000 || i == 1001)
            continue;
        want += 0.5 * (v[i - 1] + v[i]) * 0.1;
    }
    want += 0.5 * (v[999] + v[1001]) * 0.2;
    assert_true(fabs(m.dose_kpa_min * 60 - want) < 0.01);
    assert_int_equal(m.hold_n, 2990 - 130 - 1);

    /* Not released: window and dose run to the last sample. */
    a.released = false;
    a.release_start_s = a.release_end_s = NAN;
    a.repumps = 0;
    assert_int_equal(cl_metrics_compute(t, v, 1, 2000, &a, NULL, &m, NULL), CL_OK);
    assert_near(m.win_end_s, 199.9, 1e-9);
    assert_near(m.hold_duration_s, 199.9 - 10, 1e-9);
    /* A hold shorter than the settling: no window, no fit, no error. */
    a.released = true;
    a.release_start_s = 12;
    a.release_end_s = 13;
    assert_int_equal(cl_metrics_compute(t, v, 1, n, &a, NULL, &m, NULL), CL_OK);
    assert_true(isnan(m.hold_mean_kpa));
    assert_false(m.fitted);
    assert_true(isfinite(m.peak_kpa));
    cl_error err;
    assert_int_equal(cl_metrics_compute(t, v, 0, n, &a, NULL, &m, &err), CL_ERR_ARG);
    free(t);
    free(v);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pump),
        cmocka_unit_test(test_fire),
        cmocka_unit_test(test_long_hold),
        cmocka_unit_test(test_repump_stretch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
