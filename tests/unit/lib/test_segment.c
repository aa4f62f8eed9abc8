/*
 * Unit tests of cl_segment on traces of the virtual device's model
 * (cl_sim): pump and fire cups over many seeds, through a 12-bit sensor with
 * noise and physiological ripple.  Tolerances: onset within 0.2 s of the
 * truth t_apply_s, hold start within 0.5 s of hold_start_s, release start
 * and end within 0.3 s (0.4 s at 10 Hz), pump stroke count exact (a fire
 * cup's drop counts as one stroke), no false re-pumps.  Then spikes, gaps,
 * re-pumps, moving cupping, two applications, an unreleased cup, a flat
 * channel and the argument checks.
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
#include "cl_segment.h"
#include "cl_sim.h"

typedef struct trace {
    double *t, *v;
    size_t n;
} trace;

static void trace_free(trace *tr)
{
    free(tr->t);
    free(tr->v);
}

/* Vacuum (kPa, positive) of cup c seen through sensor s at rate_hz over
 * [0, t_end), zeroed with the sensor's own offset; `extra` (may be NULL)
 * adds vacuum at time t. */
static trace record(const cl_sim_cup *c, const cl_sim_sensor *s, double rate_hz, double t_end,
                    gsl_rng *r, double (*extra)(double))
{
    trace tr;
    tr.n = (size_t)(t_end * rate_hz);
    tr.t = malloc(tr.n * sizeof *tr.t);
    tr.v = malloc(tr.n * sizeof *tr.v);
    assert_non_null(tr.t);
    assert_non_null(tr.v);
    double zero = cl_sim_sensor_inverse(s, cl_sim_sensor_ideal(s, 0));
    for (size_t i = 0; i < tr.n; i++) {
        tr.t[i] = (double)i / rate_hz;
        double p = cl_sim_sample_kpa(c, tr.t[i]) - (extra ? extra(tr.t[i]) : 0);
        int32_t raw = cl_sim_sensor_read(s, p, c->noise_kpa, r);
        tr.v[i] = -(cl_sim_sensor_inverse(s, raw) - zero);
    }
    return tr;
}

static void check_against_truth(cl_sim_technique tech, double rate_hz, double tol_rel_s)
{
    double worst[4] = {0};
    for (unsigned long seed = 1; seed <= 40; seed++) {
        gsl_rng *r = unit_rng(seed);
        cl_sim_cup c;
        cl_sim_sensor s;
        cl_sim_cup_random(&c, tech, 3 + 10 * gsl_rng_uniform(r), r);
        cl_sim_sensor_random(&s, r);
        trace tr = record(&c, &s, rate_hz, cl_sim_release_end(&c) + 8, r, NULL);
        cl_segmentation seg;
        assert_int_equal(cl_segment(tr.t, tr.v, 1, tr.n, NULL, &seg, NULL), CL_OK);
        assert_int_equal(seg.napps, 1);
        const cl_segment_app *a = &seg.apps[seg.main];
        double e[4] = {a->onset_s - c.t_apply_s, a->hold_start_s - cl_sim_hold_start(&c),
                       a->release_start_s - cl_sim_release_start(&c),
                       a->release_end_s - cl_sim_release_end(&c)};
        assert_true(fabs(e[0]) < 0.2);
        assert_true(fabs(e[1]) < 0.5);
        assert_true(fabs(e[2]) < tol_rel_s);
        assert_true(fabs(e[3]) < tol_rel_s);
        for (int k = 0; k < 4; k++)
            worst[k] = fmax(worst[k], fabs(e[k]));
        assert_true(a->released);
        assert_int_equal(a->strokes, tech == CL_SIM_PUMP ? (size_t)c.pump_strokes : 1);
        assert_int_equal(a->repumps, 0);
        if (tech == CL_SIM_PUMP) {
            size_t ns = a->strokes < CL_SEGMENT_MAX_EVENTS ? a->strokes : CL_SEGMENT_MAX_EVENTS;
            for (size_t k = 0; k < ns; k++) {
                double want = c.t_apply_s + (double)k * c.stroke_interval_s;
                assert_true(fabs(a->stroke_s[k] - want) < 0.2);
            }
        }
        cl_segmentation_release(&seg);
        trace_free(&tr);
        gsl_rng_free(r);
    }
    printf("%s at %g Hz: worst |error| onset %.3f s, hold %.3f s, release %.3f s, end %.3f s\n",
           cl_sim_technique_name(tech), rate_hz, worst[0], worst[1], worst[2], worst[3]);
}

static void test_pump_cups(void **state)
{
    (void)state;
    check_against_truth(CL_SIM_PUMP, 100, 0.3);
    check_against_truth(CL_SIM_PUMP, 10, 0.4);
}

static void test_fire_cups(void **state)
{
    (void)state;
    check_against_truth(CL_SIM_FIRE, 100, 0.3);
    check_against_truth(CL_SIM_FIRE, 10, 0.4);
}

static cl_sim_cup fixed_pump(void)
{
    cl_sim_cup c = {0};
    c.technique = CL_SIM_PUMP;
    c.t_apply_s = 5;
    c.pump_strokes = 3;
    c.stroke_interval_s = 2;
    c.peak_kpa = -40;
    c.hold_s = 120;
    c.tau_s = 400;
    c.p_inf_kpa = -10;
    c.release_s = 2;
    c.noise_kpa = 0.04;
    c.breath_kpa = 0.15;
    c.breath_hz = 0.25;
    c.pulse_kpa = 0.05;
    c.pulse_hz = 1.2;
    return c;
}

static const cl_sim_sensor sensor = {.gain = 1.0, .offset = 0.92, .adc_bits = 12};

static void test_spikes_and_gaps(void **state)
{
    (void)state;
    cl_sim_cup c = fixed_pump();
    gsl_rng *r = unit_rng(3);
    trace tr = record(&c, &sensor, 100, 140, r, NULL);
    /* Single-sample spikes of +-15 kPa, two in the baseline, and 2 s of
     * missing samples in the hold. */
    for (size_t k = 0; k < 30; k++) {
        size_t i = 200 + gsl_rng_uniform_int(r, tr.n - 400);
        tr.v[i] += k % 2 ? 15 : -15;
    }
    tr.v[100] += 15;
    tr.v[300] += 15;
    for (size_t i = 6000; i < 6200; i++)
        tr.v[i] = NAN;
    cl_segmentation seg;
    assert_int_equal(cl_segment(tr.t, tr.v, 1, tr.n, NULL, &seg, NULL), CL_OK);
    assert_int_equal(seg.napps, 1);
    const cl_segment_app *a = &seg.apps[0];
    assert_int_equal(a->strokes, 3);
    assert_int_equal(a->repumps, 0);
    assert_true(fabs(a->onset_s - 5) < 0.2);
    assert_true(fabs(a->release_start_s - cl_sim_release_start(&c)) < 0.3);
    cl_segmentation_release(&seg);
    trace_free(&tr);
    gsl_rng_free(r);
}

/* Two re-pumps in the hold: +4 kPa at 60 s, +3 kPa at 90 s. */
static double repumps(double t)
{
    double v = 0;
    if (t > 60)
        v += 4 * -expm1(-(t - 60) / 0.1);
    if (t > 90)
        v += 3 * -expm1(-(t - 90) / 0.1);
    return v;
}

static void test_repumps(void **state)
{
    (void)state;
    cl_sim_cup c = fixed_pump();
    gsl_rng *r = unit_rng(4);
    trace tr = record(&c, &sensor, 100, 140, r, repumps);
    cl_segmentation seg;
    assert_int_equal(cl_segment(tr.t, tr.v, 1, tr.n, NULL, &seg, NULL), CL_OK);
    assert_int_equal(seg.napps, 1);
    const cl_segment_app *a = &seg.apps[0];
    assert_int_equal(a->strokes, 3);
    assert_int_equal(a->repumps, 2);
    assert_true(fabs(a->repump_s[0] - 60) < 0.2);
    assert_true(fabs(a->repump_s[1] - 90) < 0.2);
    assert_true(fabs(a->repump_kpa[0] - 4) < 0.5);
    assert_true(fabs(a->hold_start_s - cl_sim_hold_start(&c)) < 0.5);
    cl_segmentation_release(&seg);
    trace_free(&tr);
    gsl_rng_free(r);
}

/* Moving cupping: the vacuum swings by +-6 kPa with a 10 s period while the
 * cup slides, and once dips for 3 s to 2 kPa (between the thresholds). */
static double moving(double t)
{
    double v = 0;
    if (t > 20 && t < 100)
        v += 6 * sin(2 * M_PI * (t - 20) / 10);
    return v;
}

static void test_moving_cupping(void **state)
{
    (void)state;
    cl_sim_cup c = fixed_pump();
    gsl_rng *r = unit_rng(5);
    trace tr = record(&c, &sensor, 100, 140, r, moving);
    for (size_t i = 0; i < tr.n; i++)
        if (tr.t[i] > 50 && tr.t[i] < 53)
            tr.v[i] = 2.0 + (tr.v[i] - floor(tr.v[i])) * 0.1;
    cl_segmentation seg;
    assert_int_equal(cl_segment(tr.t, tr.v, 1, tr.n, NULL, &seg, NULL), CL_OK);
    assert_int_equal(seg.napps, 1);
    assert_int_equal(seg.apps[0].strokes, 3);
    assert_true(seg.apps[0].repumps <= 1); /* the climb back out of the dip may count */
    assert_true(fabs(seg.apps[0].release_start_s - cl_sim_release_start(&c)) < 0.3);
    cl_segmentation_release(&seg);
    trace_free(&tr);
    gsl_rng_free(r);
}

static void test_two_applications_and_unreleased(void **state)
{
    (void)state;
    cl_sim_cup c1 = fixed_pump(), c2 = fixed_pump();
    c1.hold_s = 30;
    c2.t_apply_s = 60;
    c2.pump_strokes = 2;
    c2.hold_s = 100; /* released at 162.5 s: after the end of the trace */
    gsl_rng *r = unit_rng(6);
    trace a = record(&c1, &sensor, 50, 150, r, NULL);
    trace b = record(&c2, &sensor, 50, 150, r, NULL);
    for (size_t i = 0; i < a.n; i++)
        a.v[i] += b.v[i];
    cl_segmentation seg;
    assert_int_equal(cl_segment(a.t, a.v, 1, a.n, NULL, &seg, NULL), CL_OK);
    assert_int_equal(seg.napps, 2);
    assert_true(seg.apps[0].released);
    assert_false(seg.apps[1].released);
    assert_true(isnan(seg.apps[1].release_start_s));
    assert_int_equal(seg.apps[1].i_release, a.n);
    assert_int_equal(seg.apps[0].strokes, 3);
    assert_int_equal(seg.apps[1].strokes, 2);
    assert_true(fabs(seg.apps[1].onset_s - 60) < 0.2);
    assert_int_equal(seg.main, 1); /* 90 s on against 37 s */
    cl_segmentation_release(&seg);
    cl_segmentation_release(NULL);
    trace_free(&a);
    trace_free(&b);
    gsl_rng_free(r);
}

static void test_flat_and_errors(void **state)
{
    (void)state;
    double t[500], v[500];
    gsl_rng *r = unit_rng(7);
    for (size_t i = 0; i < 500; i++) {
        t[i] = (double)i / 50;
        v[i] = gsl_ran_gaussian(r, 0.05);
    }
    cl_segmentation seg;
    assert_int_equal(cl_segment(t, v, 1, 500, NULL, &seg, NULL), CL_OK);
    assert_int_equal(seg.napps, 0);
    assert_near(seg.dt_s, 0.02, 1e-9);
    /* Thresholds are parameters: with on at 0.1 kPa the noise engages. */
    cl_segment_params p;
    cl_segment_defaults(&p);
    p.on_kpa = 0.01;
    p.off_kpa = -1;
    p.dwell_s = 0.02;
    assert_int_equal(cl_segment(t, v, 1, 500, &p, &seg, NULL), CL_OK);
    assert_true(seg.napps >= 1);
    cl_segmentation_release(&seg);
    /* All missing: nothing engages. */
    for (size_t i = 0; i < 500; i++)
        v[i] = NAN;
    assert_int_equal(cl_segment(t, v, 1, 500, NULL, &seg, NULL), CL_OK);
    assert_int_equal(seg.napps, 0);
    /* Time that never advances; bad arguments. */
    for (size_t i = 0; i < 500; i++)
        t[i] = 1;
    cl_error err;
    assert_int_equal(cl_segment(t, v, 1, 500, NULL, &seg, &err), CL_ERR_ARG);
    assert_int_equal(cl_segment(NULL, v, 1, 500, NULL, &seg, &err), CL_ERR_ARG);
    assert_int_equal(cl_segment(t, v, 0, 500, NULL, &seg, &err), CL_ERR_ARG);
    gsl_rng_free(r);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pump_cups),
        cmocka_unit_test(test_fire_cups),
        cmocka_unit_test(test_spikes_and_gaps),
        cmocka_unit_test(test_repumps),
        cmocka_unit_test(test_moving_cupping),
        cmocka_unit_test(test_two_applications_and_unreleased),
        cmocka_unit_test(test_flat_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
