/*
 * Unit tests of cl_sim: the cup pressure model against its closed-form
 * definition, the random parameter generators against the published ranges
 * and the sensor transfer against its inverse and its noise model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_rng.h>
#include <math.h>

#include "unit.h"
#include "cl_sim.h"

static cl_sim_cup pump_cup(void)
{
    cl_sim_cup c = {0};
    c.technique = CL_SIM_PUMP;
    c.t_apply_s = 10;
    c.pump_strokes = 3;
    c.stroke_interval_s = 2;
    c.peak_kpa = -40;
    c.hold_s = 300;
    c.tau_s = 600;
    c.p_inf_kpa = -15;
    c.release_s = 2;
    c.noise_kpa = 0.04;
    return c;
}

static cl_sim_cup fire_cup(void)
{
    cl_sim_cup c = {0};
    c.technique = CL_SIM_FIRE;
    c.t_apply_s = 5;
    c.peak_kpa = -48;
    c.fire_initial_kpa = -32;
    c.cool_tau_s = 90;
    c.hold_s = 600;
    c.tau_s = 3000;
    c.p_inf_kpa = -20;
    c.release_s = 1.5;
    return c;
}

static void test_baseline_before_application(void **state)
{
    (void)state;
    cl_sim_cup p = pump_cup(), f = fire_cup();
    for (double t = -5; t < p.t_apply_s; t += 0.01)
        assert_true(cl_sim_pressure_kpa(&p, t) == 0);
    for (double t = 0; t < f.t_apply_s; t += 0.01)
        assert_true(cl_sim_pressure_kpa(&f, t) == 0);
    assert_true(cl_sim_pressure_kpa(&p, p.t_apply_s) == 0);
    assert_true(cl_sim_ripple_kpa(&p, 3.0) == 0);
}

static void test_pump_reaches_peak(void **state)
{
    (void)state;
    cl_sim_cup c = pump_cup();
    double t_hold = cl_sim_hold_start(&c);
    assert_float_equal(t_hold, 10 + 2 * 2 + CL_SIM_STROKE_SETTLE_S, 1e-12);
    assert_float_equal(cl_sim_pressure_kpa(&c, t_hold), c.peak_kpa, 0.1);
    assert_float_equal(cl_sim_pressure_kpa(&c, t_hold - 1e-9), c.peak_kpa, 1e-6);
    /* Stroke levels: gas sharing, deepening, last one at the peak. */
    double a = CL_SIM_STROKE_RATIO;
    assert_float_equal(cl_sim_stroke_kpa(&c, 3), c.peak_kpa, 1e-12);
    assert_float_equal(cl_sim_stroke_kpa(&c, 1), c.peak_kpa * (1 - a) / (1 - a * a * a), 1e-9);
    assert_float_equal(cl_sim_stroke_kpa(&c, 2), c.peak_kpa * (1 - a * a) / (1 - a * a * a),
                       1e-9);
    assert_true(cl_sim_stroke_kpa(&c, 0) == 0 && cl_sim_stroke_kpa(&c, 4) == 0);
    /* Each stroke has settled before the next one starts. */
    for (int k = 1; k < 3; k++) {
        double t = c.t_apply_s + k * c.stroke_interval_s;
        assert_float_equal(cl_sim_pressure_kpa(&c, t - 0.01), cl_sim_stroke_kpa(&c, k), 1e-9);
        assert_true(cl_sim_pressure_kpa(&c, t + 0.2) < cl_sim_stroke_kpa(&c, k));
    }
    /* Evacuation is monotone. */
    double prev = 0;
    for (double t = c.t_apply_s; t <= t_hold; t += 0.005) {
        double p = cl_sim_pressure_kpa(&c, t);
        assert_true(p <= prev + 1e-12);
        prev = p;
    }
}

static void test_pump_hold_decay(void **state)
{
    (void)state;
    cl_sim_cup c = pump_cup();
    double t_hold = cl_sim_hold_start(&c);
    const double u[] = {0, 1, 10, 60, 150, 299.9};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        double want = c.p_inf_kpa + (c.peak_kpa - c.p_inf_kpa) * exp(-u[i] / c.tau_s);
        assert_float_equal(cl_sim_pressure_kpa(&c, t_hold + u[i]), want, 1e-9);
    }
}

static void test_fire_cooling_then_leak(void **state)
{
    (void)state;
    cl_sim_cup c = fire_cup();
    double t_hold = cl_sim_hold_start(&c);
    assert_float_equal(t_hold, c.t_apply_s + CL_SIM_FIRE_DROP_S, 1e-12);
    assert_float_equal(cl_sim_pressure_kpa(&c, t_hold), c.fire_initial_kpa, 1e-9);
    /* Closed form at several points. */
    const double u[] = {0, 30, 90, 200, 450, 599};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        double pc = c.fire_initial_kpa +
                    (c.peak_kpa - c.fire_initial_kpa) * (1 - exp(-u[i] / c.cool_tau_s));
        double want = c.p_inf_kpa + (pc - c.p_inf_kpa) * exp(-u[i] / c.tau_s);
        assert_float_equal(cl_sim_pressure_kpa(&c, t_hold + u[i]), want, 1e-9);
    }
    /* Vacuum deepens while cooling dominates, then the leak takes over. */
    double p0 = cl_sim_pressure_kpa(&c, t_hold);
    double p_cool = cl_sim_pressure_kpa(&c, t_hold + 3 * c.cool_tau_s);
    assert_true(p_cool < p0 - 10);
    assert_true(p_cool >= c.peak_kpa);
    double deepest = 0, t_deepest = 0;
    for (double t = t_hold; t < cl_sim_release_start(&c); t += 0.5) {
        double p = cl_sim_pressure_kpa(&c, t);
        if (p < deepest) {
            deepest = p;
            t_deepest = t;
        }
    }
    assert_true(t_deepest > t_hold + c.cool_tau_s);
    assert_true(t_deepest < cl_sim_release_start(&c) - 10);
    assert_true(cl_sim_pressure_kpa(&c, cl_sim_release_start(&c) - 0.01) > deepest + 0.5);
}

static void test_release_returns_to_zero(void **state)
{
    (void)state;
    cl_sim_cup cups[2] = {pump_cup(), fire_cup()};
    for (int i = 0; i < 2; i++) {
        cl_sim_cup *c = &cups[i];
        double t_rel = cl_sim_release_start(c), t_end = cl_sim_release_end(c);
        assert_float_equal(t_end - t_rel, c->release_s, 1e-9);
        double p_rel = cl_sim_pressure_kpa(c, t_rel);
        assert_true(p_rel < -5);
        /* Linear ramp: halfway, half the vacuum. */
        assert_float_equal(cl_sim_pressure_kpa(c, t_rel + c->release_s / 2), p_rel / 2, 1e-9);
        assert_true(cl_sim_pressure_kpa(c, t_end) == 0);
        for (double t = t_end; t < t_end + 100; t += 0.37) {
            assert_true(cl_sim_pressure_kpa(c, t) == 0);
            assert_true(cl_sim_ripple_kpa(c, t) == 0);
        }
    }
}

static void test_trace_is_continuous(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(7);
    for (int i = 0; i < 200; i++) {
        cl_sim_cup c;
        cl_sim_cup_random(&c, i % 2 ? CL_SIM_FIRE : CL_SIM_PUMP, 5, r);
        const double edges[] = {cl_sim_hold_start(&c), cl_sim_release_start(&c),
                                cl_sim_release_end(&c)};
        for (int k = 0; k < 3; k++) {
            double before = cl_sim_pressure_kpa(&c, edges[k] - 1e-7);
            double after = cl_sim_pressure_kpa(&c, edges[k] + 1e-7);
            assert_float_equal(before, after, 1e-3);
        }
    }
    gsl_rng_free(r);
}

static void test_random_never_too_deep(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(12345);
    const double mmhg = CL_KPA_PER_MMHG;
    for (int tech = CL_SIM_PUMP; tech <= CL_SIM_FIRE; tech++) {
        for (int i = 0; i < 1000; i++) {
            cl_sim_cup c;
            cl_sim_cup_random(&c, (cl_sim_technique)tech, 5, r);
            assert_int_equal(c.technique, tech);
            assert_true(c.peak_kpa < 0 && c.peak_kpa >= CL_SIM_LIMIT_KPA);
            assert_true(c.p_inf_kpa <= 0 && c.p_inf_kpa >= 0.6 * c.peak_kpa);
            assert_true(c.release_s >= 1 && c.release_s <= 3);
            assert_true(c.hold_s >= 180 && c.hold_s <= 600);
            if (tech == CL_SIM_PUMP) {
                assert_true(c.pump_strokes >= 1 && c.pump_strokes <= 4);
                assert_true(c.stroke_interval_s >= 1.5 && c.stroke_interval_s <= 3);
                assert_true(c.peak_kpa <= -150 * mmhg && c.peak_kpa >= -450 * mmhg);
                assert_true(c.tau_s >= 300 && c.tau_s <= 1500);
            } else {
                assert_true(c.fire_initial_kpa <= -200 * mmhg);
                assert_true(c.fire_initial_kpa >= -300 * mmhg);
                assert_true(c.peak_kpa <= -300 * mmhg && c.peak_kpa >= -400 * mmhg);
                assert_true(c.cool_tau_s >= 60 && c.cool_tau_s <= 180);
            }
            double t_end = cl_sim_release_end(&c);
            for (double t = 0; t < t_end + 1; t += 0.25) {
                double p = cl_sim_pressure_kpa(&c, t) + cl_sim_ripple_kpa(&c, t);
                assert_true(p >= CL_SIM_LIMIT_KPA);
                assert_true(p <= 1e-12);
            }
        }
    }
    gsl_rng_free(r);
}

static void test_ripple_bounded(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(99);
    cl_sim_cup c;
    cl_sim_cup_random(&c, CL_SIM_PUMP, 5, r);
    double amp = c.breath_kpa + c.pulse_kpa, max_seen = 0;
    for (double t = cl_sim_hold_start(&c); t < cl_sim_release_start(&c); t += 0.01) {
        double rp = fabs(cl_sim_ripple_kpa(&c, t));
        assert_true(rp <= amp + 1e-12);
        if (rp > max_seen)
            max_seen = rp;
    }
    assert_true(max_seen > 0.3 * amp);
    /* The sample the sensor sees is the smooth trace plus the ripple. */
    for (double t = 0; t < cl_sim_release_end(&c) + 5; t += 0.73)
        assert_float_equal(cl_sim_sample_kpa(&c, t),
                           cl_sim_pressure_kpa(&c, t) + cl_sim_ripple_kpa(&c, t), 1e-12);
    gsl_rng_free(r);
}

static void test_sensor_round_trip(void **state)
{
    (void)state;
    cl_sim_sensor s = {.gain = 1.02, .offset = 0.915, .adc_bits = 12};
    assert_int_equal(cl_sim_sensor_max(&s), 4095);
    for (double p = -90; p <= 5; p += 0.7)
        assert_float_equal(cl_sim_sensor_inverse(&s, cl_sim_sensor_ideal(&s, p)), p, 1e-9);
    assert_float_equal(cl_sim_sensor_ideal(&s, 0), 4095 * 0.915, 1e-9);
    /* Noise-free reading is the rounded ideal; within half a count. */
    for (double p = -80; p <= 0; p += 3.3) {
        int32_t raw = cl_sim_sensor_read(&s, p, 0, NULL);
        assert_true(fabs(raw - cl_sim_sensor_ideal(&s, p)) <= 0.5);
        assert_float_equal(cl_sim_sensor_inverse(&s, raw), p,
                           0.5 / (4095 * 1.02 * CL_NOMINAL_SENSITIVITY_PER_KPA) + 1e-12);
    }
    /* Clipping at both ends. */
    assert_int_equal(cl_sim_sensor_read(&s, 50, 0, NULL), 4095);
    assert_int_equal(cl_sim_sensor_read(&s, -200, 0, NULL), 0);
    s.adc_bits = 10;
    assert_int_equal(cl_sim_sensor_max(&s), 1023);
    assert_int_equal(cl_sim_sensor_read(&s, 50, 0, NULL), 1023);
}

static void test_sensor_random_ranges(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(3);
    for (int i = 0; i < 1000; i++) {
        cl_sim_sensor s;
        cl_sim_sensor_random(&s, r);
        assert_true(s.gain >= 0.97 && s.gain <= 1.03);
        assert_true(s.offset >= 0.91 && s.offset <= 0.93);
        assert_int_equal(s.adc_bits, 12);
    }
    gsl_rng_free(r);
}

static int cups_equal(const cl_sim_cup *a, const cl_sim_cup *b)
{
    return a->technique == b->technique && a->t_apply_s == b->t_apply_s &&
           a->pump_strokes == b->pump_strokes && a->stroke_interval_s == b->stroke_interval_s &&
           a->peak_kpa == b->peak_kpa && a->fire_initial_kpa == b->fire_initial_kpa &&
           a->cool_tau_s == b->cool_tau_s && a->hold_s == b->hold_s && a->tau_s == b->tau_s &&
           a->p_inf_kpa == b->p_inf_kpa && a->release_s == b->release_s &&
           a->noise_kpa == b->noise_kpa && a->breath_kpa == b->breath_kpa &&
           a->breath_hz == b->breath_hz && a->breath_phase_rad == b->breath_phase_rad &&
           a->pulse_kpa == b->pulse_kpa && a->pulse_hz == b->pulse_hz &&
           a->pulse_phase_rad == b->pulse_phase_rad;
}

static void test_same_seed_same_parameters(void **state)
{
    (void)state;
    gsl_rng *r1 = unit_rng(42), *r2 = unit_rng(42), *r3 = unit_rng(43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        cl_sim_technique t = i % 3 ? CL_SIM_PUMP : CL_SIM_FIRE;
        cl_sim_cup a, b, c;
        cl_sim_sensor sa, sb, sc;
        cl_sim_cup_random(&a, t, i, r1);
        cl_sim_cup_random(&b, t, i, r2);
        cl_sim_cup_random(&c, t, i, r3);
        cl_sim_sensor_random(&sa, r1);
        cl_sim_sensor_random(&sb, r2);
        cl_sim_sensor_random(&sc, r3);
        assert_true(cups_equal(&a, &b));
        assert_true(sa.gain == sb.gain && sa.offset == sb.offset && sa.adc_bits == sb.adc_bits);
        differ += !cups_equal(&a, &c) || sa.gain != sc.gain;
    }
    assert_int_equal(differ, 100);
    gsl_rng_free(r1);
    gsl_rng_free(r2);
    gsl_rng_free(r3);
}

static void test_noise_statistics(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(2024);
    cl_sim_sensor s = {.gain = 1.0, .offset = 0.92, .adc_bits = 12};
    const double p = -30, noise_kpa = 0.5;
    const int n = 200000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double v = cl_sim_sensor_read(&s, p, noise_kpa, r);
        sum += v;
        sum2 += v * v;
    }
    double mean = sum / n, sd = sqrt((sum2 - n * mean * mean) / (n - 1));
    double slope = 4095 * CL_NOMINAL_SENSITIVITY_PER_KPA; /* counts per kPa */
    /* Rounding adds a uniform quantisation error of variance 1/12 count^2. */
    double want_sd = sqrt(pow(slope * noise_kpa, 2) + 1.0 / 12);
    assert_float_equal(mean, cl_sim_sensor_ideal(&s, p), 0.2);
    assert_float_equal(sd / want_sd, 1.0, 0.02);
    /* The default noise of a random cup (0.3 mmHg) is about 1.3 counts. */
    cl_sim_cup c;
    cl_sim_cup_random(&c, CL_SIM_PUMP, 0, r);
    assert_float_equal(c.noise_kpa, 0.3 * CL_KPA_PER_MMHG, 1e-12);
    gsl_rng_free(r);
}

/* Irregular breathing: the frequency, from the ripple's zero crossings,
 * moves around breath_hz and stays within +-20 % of it; the ripple keeps
 * its amplitude bound.  Steady breathing is a sine of breath_hz. */
static void test_irregular_breathing(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(7);
    cl_sim_cup c;
    cl_sim_cup_random(&c, CL_SIM_PUMP, 5, r);
    c.pulse_kpa = 0;
    c.hold_s = 600;
    double t0 = cl_sim_hold_start(&c), t1 = cl_sim_release_start(&c);
    double lo = INFINITY, hi = 0, prev_t = NAN;
    double prev = cl_sim_ripple_kpa(&c, t0);
    cl_sim_cup_irregular(&c, 0.2, r);
    for (double t = t0; t < t1; t += 0.001) {
        double v = cl_sim_ripple_kpa(&c, t);
        assert_true(fabs(v) <= c.breath_kpa + 1e-12);
        if (prev < 0 && v >= 0) { /* an upward crossing: one period since the last */
            if (isfinite(prev_t)) {
                double f = 1 / (t - prev_t);
                lo = fmin(lo, f);
                hi = fmax(hi, f);
            }
            prev_t = t;
        }
        prev = v;
    }
    /* the ripple scales with the decaying vacuum, the crossings do not */
    assert_true(lo >= 0.8 * c.breath_hz - 0.002 && hi <= 1.2 * c.breath_hz + 0.002);
    assert_true(hi - lo > 0.1 * c.breath_hz); /* it does drift */
    c.breath_drift = 0;
    double t = t0 + 12.3;
    assert_float_equal(cl_sim_ripple_kpa(&c, t),
                       cl_sim_pressure_kpa(&c, t) / c.peak_kpa * c.breath_kpa *
                           sin(2 * M_PI * c.breath_hz * t + c.breath_phase_rad),
                       1e-12);
    gsl_rng_free(r);
}

/* AR noise: its SD and lag-1 autocorrelation exp(-dt / tau); none when
 * its SD is 0. */
static void test_ar_noise(void **state)
{
    (void)state;
    gsl_rng *r = unit_rng(11);
    cl_sim_cup c = {.disturb_kpa = 0.07, .disturb_tau_s = 2.5};
    cl_sim_disturb_state st = {0};
    const int n = 200000;
    const double dt = 0.05;
    double sum = 0, sum2 = 0, lag = 0, prev = 0;
    for (int i = 0; i < n; i++) {
        double e = cl_sim_disturbance(&c, &st, i * dt, r);
        sum += e;
        sum2 += e * e;
        if (i)
            lag += e * prev;
        prev = e;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    assert_float_equal(sqrt(var) / c.disturb_kpa, 1.0, 0.05);
    assert_float_equal((lag / (n - 1) - mean * mean) / var, exp(-dt / c.disturb_tau_s), 0.005);
    cl_sim_cup none = {0};
    cl_sim_disturb_state s0 = {0};
    assert_true(cl_sim_disturbance(&none, &s0, 1.0, r) == 0);
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_before_application),
        cmocka_unit_test(test_pump_reaches_peak),
        cmocka_unit_test(test_pump_hold_decay),
        cmocka_unit_test(test_fire_cooling_then_leak),
        cmocka_unit_test(test_release_returns_to_zero),
        cmocka_unit_test(test_trace_is_continuous),
        cmocka_unit_test(test_random_never_too_deep),
        cmocka_unit_test(test_ripple_bounded),
        cmocka_unit_test(test_sensor_round_trip),
        cmocka_unit_test(test_sensor_random_ranges),
        cmocka_unit_test(test_same_seed_same_parameters),
        cmocka_unit_test(test_noise_statistics),
        cmocka_unit_test(test_irregular_breathing),
        cmocka_unit_test(test_ar_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
