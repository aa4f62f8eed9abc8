/*
 * Unit tests of cl_cupchar: a known cup volume recovered by gas expansion
 * and its propagated uncertainty checked by Monte Carlo; the decay window;
 * a known leak time constant from the virtual device's sealed-plate model
 * (cl_sim) with noise, recovered within its standard error, and Q against
 * its definition; and the session-file path: calibrated values, the release
 * marker, and the errors (unknown cup, wrong sensor, expired profile).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "engine/cl_cupchar.h"
#include "cl_session_write.h"
#include "cl_sim.h"

/* ------------------------------------------------------- gas expansion */

/* A 120 mL cup evacuated to 61.325 kPa absolute, a 50 mL reference volume
 * at 101.325 kPa: Boyle gives the final pressure, from which the volume
 * must come back exactly. */
static void test_expansion_known_volume(void **state)
{
    (void)state;
    const double vc = 120, vr = 50, pr = 101.325, pc = 61.325;
    const double pf = (pr * vr + pc * vc) / (vr + vc);
    cl_expansion x = {vr, 0.1, pr, pc, pf, 0.02};
    double v, u;
    cl_error e;
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_OK);
    assert_near(v, vc, 1e-10);
    assert_true(u > 0);
    /* the same with the roles reversed: the cup above the reference */
    cl_expansion y = {vr, 0.1, 60, 101.325, (60 * vr + 101.325 * vc) / (vr + vc), 0.02};
    assert_int_equal(cl_cupchar_expansion(&y, &v, &u, &e), CL_OK);
    assert_near(v, vc, 1e-10);
    /* without uncertainties the result carries none */
    cl_expansion z = {vr, NAN, pr, pc, pf, NAN};
    assert_int_equal(cl_cupchar_expansion(&z, &v, &u, &e), CL_OK);
    assert_near(u, 0, 0);
}

/* The first-order uncertainty against the spread of the formula over
 * 20000 draws of the inputs. */
static void test_expansion_uncertainty(void **state)
{
    (void)state;
    enum { DRAWS = 20000 };
    const double vc = 120, vr = 50, pr = 101.325, pc = 61.325;
    const double pf = (pr * vr + pc * vc) / (vr + vc), uv = 0.2, up = 0.03;
    cl_expansion x = {vr, uv, pr, pc, pf, up};
    double v, u, *vs = malloc(DRAWS * sizeof *vs);
    assert_non_null(vs);
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, NULL), CL_OK);
    gsl_rng *r = unit_rng(3);
    for (int i = 0; i < DRAWS; i++) {
        cl_expansion d = {vr + gsl_ran_gaussian(r, uv), 0,
                          pr + gsl_ran_gaussian(r, up), pc + gsl_ran_gaussian(r, up),
                          pf + gsl_ran_gaussian(r, up), 0};
        double vi, ui;
        assert_int_equal(cl_cupchar_expansion(&d, &vi, &ui, NULL), CL_OK);
        vs[i] = vi;
    }
    double sd = gsl_stats_sd(vs, 1, DRAWS);
    printf("# gas expansion: V = %.3f mL, u = %.4f mL, Monte Carlo SD %.4f mL\n", v, u, sd);
    /* sampling error of an SD from 20000 draws: 0.5 %; non-linearity < 1 % */
    assert_near(u / sd, 1, 0.03);
    /* and the volume term alone: u = (V/Vref) u(Vref) */
    cl_expansion only_v = {vr, uv, pr, pc, pf, 0};
    assert_int_equal(cl_cupchar_expansion(&only_v, &v, &u, NULL), CL_OK);
    assert_near(u, vc / vr * uv, 1e-10);
    free(vs);
    gsl_rng_free(r);
}

static void test_expansion_errors(void **state)
{
    (void)state;
    double v, u;
    cl_error e;
    cl_expansion x = {50, 0, 101.3, 61.3, 101.3, 0}; /* final = reference */
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_ERR_RANGE);
    assert_non_null(strstr(e.msg, "strictly between"));
    assert_true(isnan(v));
    x.p_final_kpa = 50; /* below both */
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_ERR_RANGE);
    x.p_final_kpa = 80;
    x.p_cup_kpa = -10; /* a gauge value where an absolute one belongs */
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_ERR_ARG);
    x.p_cup_kpa = 61.3;
    x.vref_ml = 0;
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_ERR_ARG);
    x.vref_ml = 50;
    x.vref_u_ml = -1;
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_ERR_ARG);
    x.vref_u_ml = 0;
    assert_int_equal(cl_cupchar_expansion(&x, &v, &u, &e), CL_OK);
}

/* ---------------------------------------------------------------- leak */

/* A pump cup on a sealed plate as the virtual device models it: three
 * strokes to peak, then p_inf + (peak - p_inf) e^(-u/tau), then release. */
static cl_sim_cup plate_cup(double tau_s)
{
    cl_sim_cup c = {0};
    c.technique = CL_SIM_PUMP;
    c.t_apply_s = 5;
    c.pump_strokes = 3;
    c.stroke_interval_s = 2;
    c.peak_kpa = -45;
    c.hold_s = 600;
    c.tau_s = tau_s;
    c.p_inf_kpa = -20;
    c.release_s = 2;
    c.noise_kpa = 0.04;
    return c;
}

/* Samples at rate_hz from 0 to the end of the release + 20 s. */
static size_t sample(const cl_sim_cup *c, double rate_hz, gsl_rng *r, double **t, double **p)
{
    size_t n = (size_t)((cl_sim_release_end(c) + 20) * rate_hz);
    *t = malloc(n * sizeof **t);
    *p = malloc(n * sizeof **p);
    assert_true(*t && *p);
    for (size_t i = 0; i < n; i++) {
        (*t)[i] = (double)i / rate_hz;
        (*p)[i] = cl_sim_pressure_kpa(c, (*t)[i]) + (r ? gsl_ran_gaussian(r, c->noise_kpa) : 0);
    }
    return n;
}

static void test_window(void **state)
{
    (void)state;
    cl_sim_cup c = plate_cup(400);
    double *t, *p;
    size_t n = sample(&c, 10, NULL, &t, &p), a, b;
    cl_error e;
    assert_int_equal(cl_cupchar_window(t, p, n, 5, NULL, 0, &a, &b, &e), CL_OK);
    /* the deepest vacuum is the hold start; 5 s later the window opens */
    assert_near(t[a], cl_sim_hold_start(&c) + 5, 0.1 + 1e-9);
    /* it closes before the release, within the 2 s detection span */
    assert_true(t[b - 1] < cl_sim_release_start(&c));
    assert_true(t[b - 1] > cl_sim_release_start(&c) - 2.2);
    /* a release marker earlier than that wins; one before the hold does not */
    double rel[2] = {3, 300};
    assert_int_equal(cl_cupchar_window(t, p, n, 5, rel, 2, &a, &b, &e), CL_OK);
    assert_near(t[b], 300, 0.1 + 1e-9);
    /* a gap of 400 s in the recording is not a release */
    {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (t[i] < 100 || t[i] >= 500) {
                t[m] = t[i];
                p[m] = p[i];
                m++;
            }
        assert_int_equal(cl_cupchar_window(t, p, m, 5, NULL, 0, &a, &b, &e), CL_OK);
        assert_true(t[b - 1] > cl_sim_release_start(&c) - 2.2);
        n = m;
    }
    /* no vacuum at all */
    for (size_t i = 0; i < n; i++)
        p[i] = 0.01;
    assert_int_equal(cl_cupchar_window(t, p, n, 5, NULL, 0, &a, &b, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "no vacuum"));
    /* too short */
    for (size_t i = 0; i < n; i++)
        p[i] = i == 5 ? -10 : 0;
    assert_int_equal(cl_cupchar_window(t, p, 30, 5, NULL, 0, &a, &b, &e), CL_ERR_ARG);
    free(t);
    free(p);
}

/* tau recovered within 3 SE at one seed; over 60 seeds within 2 SE about
 * 95 % of the time; Q equals V (p_inf - p_at) / tau / 100 with the fitted
 * parameters and the true one within 3 u(Q). */
static void test_leak_known_tau(void **state)
{
    (void)state;
    enum { SEEDS = 60 };
    const double tau = 400, vol = 100, u_vol = 1;
    size_t inside = 0;
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        cl_sim_cup c = plate_cup(tau);
        gsl_rng *r = unit_rng(seed);
        double *t, *p;
        size_t n = sample(&c, 10, r, &t, &p), a, b;
        cl_leak lk;
        cl_error e;
        assert_int_equal(cl_cupchar_window(t, p, n, 5, NULL, 0, &a, &b, &e), CL_OK);
        assert_int_equal(cl_cupchar_leak(t, p, a, b, vol, u_vol, -40, &lk, &e), CL_OK);
        assert_true(lk.use_exp);
        const cl_decay_fit *f = &lk.exp_fit;
        double z = fabs(f->tau_s - tau) / f->tau_se;
        inside += z <= 2;
        if (seed == 1) {
            printf("# sealed plate: tau %.2f s (SE %.2f s), true %.0f s; Q %.5f +- %.5f "
                   "mbar L/s\n",
                   f->tau_s, f->tau_se, tau, lk.q_mbarl_s, lk.q_u_mbarl_s);
            assert_true(z <= 3);
            assert_true(f->tau_se < 0.05 * tau);
            assert_near(f->p_inf_kpa, -20, 3 * f->p_inf_se);
            /* Q from its definition, in mbar L/s, at -40 kPa */
            double q = vol * (f->p_inf_kpa - (-40)) / f->tau_s / 100;
            assert_near(lk.q_mbarl_s, q, 1e-12);
            double q_true = vol * (-20 + 40) / tau / 100; /* 0.05 mbar L/s */
            assert_near(lk.q_mbarl_s, q_true, 3 * lk.q_u_mbarl_s);
            assert_true(lk.q_u_mbarl_s > 0 && lk.q_u_mbarl_s < 0.1 * q_true);
            assert_near(lk.at_kpa, -40, 0);
            /* the stated vacuum defaults to the fitted start */
            cl_leak l2;
            assert_int_equal(cl_cupchar_leak(t, p, a, b, vol, u_vol, NAN, &l2, &e), CL_OK);
            assert_near(l2.at_kpa, f->p0_kpa, 1e-12);
            assert_near(l2.dpdt_kpa_s, cl_decay_rate(f, 0), 1e-9);
            /* into a cup: the fields of the profile */
            cl_cupset_cup cup;
            cl_cupset_cup_init(&cup);
            cl_cupchar_leak_to_cup(&lk, &cup);
            assert_string_equal(cup.leak_model, "exp");
            assert_true(cup.leak_tau_s == f->tau_s && cup.leak_q_mbarl_s == lk.q_mbarl_s);
            assert_int_equal(cup.leak_n, b - a);
            /* no volume: no Q, tau still */
            assert_int_equal(cl_cupchar_leak(t, p, a, b, NAN, NAN, -40, &l2, &e), CL_OK);
            assert_true(isnan(l2.q_mbarl_s));
            assert_near(l2.exp_fit.tau_s, f->tau_s, 1e-9);
        }
        free(t);
        free(p);
        gsl_rng_free(r);
    }
    double frac = (double)inside / SEEDS;
    printf("# sealed plate: tau within 2 SE in %.0f %% of %d seeds\n", 100 * frac, SEEDS);
    assert_true(frac >= 0.85);
}

/* A window much shorter than tau: the exponential is not identifiable and
 * Q comes from the slope. */
static void test_leak_short_window(void **state)
{
    (void)state;
    cl_sim_cup c = plate_cup(20000);
    gsl_rng *r = unit_rng(9);
    double *t, *p;
    size_t n = sample(&c, 10, r, &t, &p), a, b;
    cl_leak lk;
    cl_error e;
    assert_int_equal(cl_cupchar_window(t, p, n, 5, NULL, 0, &a, &b, &e), CL_OK);
    b = a + 300; /* 30 s of a 20000 s decay */
    assert_int_equal(cl_cupchar_leak(t, p, a, b, 100, 0, -45, &lk, &e), CL_OK);
    assert_false(lk.use_exp);
    assert_near(lk.dpdt_kpa_s, lk.lin_fit.slope_kpa_s, 0);
    assert_near(lk.q_mbarl_s, 100 * lk.lin_fit.slope_kpa_s / 100, 1e-15);
    /* too few samples */
    assert_int_equal(cl_cupchar_leak(t, p, a, a + 5, 100, 0, -45, &lk, &e), CL_ERR_ARG);
    free(t);
    free(p);
    gsl_rng_free(r);
}

/* ------------------------------------------------------------ sessions */

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_create("cupchar");
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmpdir_destroy();
}

/* A session with one device of two channels: channel 1 is cup "C1" with
 * sensor "S-1" reading the plate decay through a linear transfer; a
 * "released" marker at `release_s`. */
static void write_session(const char *path, const cl_sim_cup *c, double release_s)
{
    cl_session *s;
    cl_error e;
    cl_session_device dev = {.port = "/dev/null",
                             .protocol = "text",
                             .baud = 115200,
                             .channels = 2,
                             .time_units = "ms",
                             .usb_vendor_id = -1,
                             .usb_product_id = -1};
    cl_session_cup cups[2] = {
        {.cup_id = "C0", .device = 0, .channel = 0},
        {.cup_id = "C1", .device = 0, .channel = 1, .sensor_serial = "S-1"}};
    assert_int_equal(cl_session_create(&s, path, NULL, &dev, 1, cups, 2, NULL, &e), CL_OK);
    enum { ROWS = 500 };
    double samples[2 * ROWS], dt[ROWS], ht[ROWS];
    uint32_t seq[ROWS];
    for (int i = 0; i < ROWS; i++) {
        double t = i * 2.0; /* 0.5 Hz is enough here */
        ht[i] = t;
        dt[i] = t * 1000;
        seq[i] = (uint32_t)i;
        samples[2 * i] = 1000;
        samples[2 * i + 1] = round((cl_sim_pressure_kpa(c, t) + 120) / 0.032);
    }
    assert_int_equal(cl_session_append(s, 0, ROWS, samples, dt, ht, seq, &e), CL_OK);
    cl_session_event ev = {release_s, 1, CL_EVENT_RELEASED, "released"};
    assert_int_equal(cl_session_add_event(s, &ev, &e), CL_OK);
    assert_int_equal(cl_session_close(s, CL_SESSION_COMPLETE, &e), CL_OK);
}

static cl_sensor_profile *profile(const char *serial, const char *valid_until)
{
    char json[512];
    cl_sensor_profile *p;
    snprintf(json, sizeof json,
             "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\", "
             "\"sensor\": {\"serial\": \"%s\"}, \"valid_until\": \"%s\", "
             "\"transfer\": {\"coefficients\": [-120, 0.032], \"raw_min\": 2000, "
             "\"raw_max\": 3750}}",
             serial, valid_until);
    assert_int_equal(cl_sensor_profile_parse(json, &p, NULL), CL_OK);
    return p;
}

static void test_session_trace(void **state)
{
    (void)state;
    char path[128];
    cl_sim_cup c = plate_cup(400);
    cl_trace tr;
    cl_error e;
    unit_path(path, sizeof path, "plate.h5");
    write_session(path, &c, 640);
    cl_sensor_profile *good = profile("S-1", "2099-01-01");
    assert_int_equal(cl_cupchar_session_trace(path, "C1", good, &tr, &e), CL_OK);
    assert_int_equal(tr.n, 500);
    assert_near(tr.t_s[100], 200, 0);
    /* calibrated through the profile: within half a count of the truth */
    for (size_t i = 0; i < tr.n; i++)
        assert_near(tr.p_kpa[i], cl_sim_pressure_kpa(&c, tr.t_s[i]), 0.5 * 0.032 + 1e-9);
    assert_int_equal(tr.nrelease, 1);
    assert_near(tr.release_s[0], 640, 0);
    assert_true(tr.recorded > 0);
    /* readings at 0 kPa (3750 counts) are inside, none outside */
    assert_int_equal(tr.out_of_range, 0);
    cl_cupchar_trace_release(&tr);
    cl_cupchar_trace_release(NULL);

    /* the other cup has no serial: any profile is accepted */
    assert_int_equal(cl_cupchar_session_trace(path, "C0", good, &tr, &e), CL_OK);
    assert_int_equal(tr.out_of_range, 500); /* 1000 counts is outside 2000..3750 */
    cl_cupchar_trace_release(&tr);

    assert_int_equal(cl_cupchar_session_trace(path, "C9", good, &tr, &e), CL_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "plate.h5"));
    assert_non_null(strstr(e.msg, "C9"));
    cl_sensor_profile *other = profile("S-2", "2099-01-01");
    assert_int_equal(cl_cupchar_session_trace(path, "C1", other, &tr, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "S-2"));
    assert_null(tr.t_s);
    cl_sensor_profile *old = profile("S-1", "2001-01-01");
    assert_int_equal(cl_cupchar_session_trace(path, "C1", old, &tr, &e), CL_ERR_EXPIRED);
    assert_non_null(strstr(e.msg, "plate.h5"));
    assert_non_null(strstr(e.msg, "expired"));
    char junk[128];
    unit_path(junk, sizeof junk, "junk.h5");
    unit_write_file(junk, "not hdf5");
    assert_true(cl_cupchar_session_trace(junk, "C1", good, &tr, &e) != CL_OK);
    cl_sensor_profile_free(good);
    cl_sensor_profile_free(other);
    cl_sensor_profile_free(old);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansion_known_volume),
        cmocka_unit_test(test_expansion_uncertainty),
        cmocka_unit_test(test_expansion_errors),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_leak_known_tau),
        cmocka_unit_test(test_leak_short_window),
        cmocka_unit_test(test_session_trace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
