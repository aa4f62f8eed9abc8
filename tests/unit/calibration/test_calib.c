/*
 * Unit tests of cl_calib: the polynomial fit against the NIST StRD
 * certified values (Norris, Pontius, Wampler1-5), recovery of known
 * polynomials within their standard errors, coverage of the standard errors
 * and of the expanded uncertainty U over many noise seeds, a known
 * hysteresis and repeatability, the choice of degree, and every error the
 * sensor calibration reports.
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
#include "engine/cl_calib.h"
#include "nist_strd.h"

/* Relative agreement; a certified zero is compared exactly. */
#define assert_rel(a, b, rel) assert_close((a), (b), 0, (rel))

/* Log relative error (correct significant digits), as NIST reports it. */
static double lre(double v, double cert)
{
    if (v == cert)
        return 16;
    double e = cert != 0 ? fabs(v - cert) / fabs(cert) : fabs(v);
    return e > 0 ? -log10(e) : 16;
}

/* ------------------------------------------------------------- NIST StRD */

/* Fit one certified set and check it to `rel` (relative) for estimates,
 * standard deviations, residual SD and R^2.  Prints the digits reached. */
static void check_nist(const nist_set *s, double rel_b, double rel_sd)
{
    cl_calib_fit f;
    cl_error e;
    assert_int_equal(cl_calib_polyfit(s->x, s->y, NULL, 1, (size_t)s->n, s->degree, &f, &e),
                     CL_OK);
    assert_int_equal(f.dof, s->n - s->degree - 1);
    double worst_b = 16, worst_sd = 16;
    for (int i = 0; i <= s->degree; i++) {
        assert_rel(f.coef[i], s->b[i], rel_b);
        worst_b = fmin(worst_b, lre(f.coef[i], s->b[i]));
        if (s->sd[i] > 0) {
            assert_rel(f.se[i], s->sd[i], rel_sd);
            worst_sd = fmin(worst_sd, lre(f.se[i], s->sd[i]));
        } else {
            /* Exact data: the standard errors vanish up to rounding. */
            assert_true(f.se[i] <= 1e-7 * fabs(s->b[i]));
        }
    }
    if (s->resid_sd > 0)
        assert_rel(f.sigma, s->resid_sd, rel_sd);
    else
        assert_true(f.sigma <= 1e-7 * fabs(s->y[s->n - 1]));
    assert_rel(f.r2, s->r2, rel_sd);
    printf("# %-9s degree %d: %.1f digits in the estimates, %.1f in the SDs\n", s->name,
           s->degree, worst_b, worst_sd);
}

static void test_nist_norris(void **state)
{
    (void)state;
    check_nist(&nist_sets[0], 1e-10, 1e-10);
}

/* Norris and Pontius come out with 12 correct digits or more (the fit is
 * made in centred, scaled x and converted back, which costs a few digits
 * on Pontius's x up to 3e6); 1e-10 leaves a factor 100 for other compilers
 * and libm. */
static void test_nist_pontius(void **state)
{
    (void)state;
    check_nist(&nist_sets[1], 1e-10, 1e-10);
}

/* Wampler sets are degree 5 (cl_calib_polyfit accepts up to 5), "higher
 * difficulty": measured 9 digits or more for Wampler1-4 (13 for Wampler2)
 * and 7.5 for Wampler5, whose noise dwarfs the signal.  Standard deviations
 * agree to 13 digits or more. */
static void test_nist_wampler(void **state)
{
    (void)state;
    for (int k = 2; k <= 5; k++)
        check_nist(&nist_sets[k], 1e-7, 1e-10);
    check_nist(&nist_sets[6], 1e-6, 1e-10);
}

/* The NIST data must not depend on the order of points or on a shift in x. */
static void test_fit_invariance(void **state)
{
    (void)state;
    const nist_set *s = &nist_sets[1];
    double x[40], y[40];
    cl_calib_fit a, b;
    for (int i = 0; i < 40; i++) {
        x[i] = s->x[39 - i];
        y[i] = s->y[39 - i];
    }
    assert_int_equal(cl_calib_polyfit(s->x, s->y, NULL, 1, 40, 2, &a, NULL), CL_OK);
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, 40, 2, &b, NULL), CL_OK);
    for (int i = 0; i < 3; i++)
        assert_rel(a.coef[i], b.coef[i], 1e-10);
    /* Stride: the same points interleaved with garbage. */
    double xy[80], yy[80];
    for (int i = 0; i < 40; i++) {
        xy[2 * i] = s->x[i];
        yy[2 * i] = s->y[i];
        xy[2 * i + 1] = yy[2 * i + 1] = NAN;
    }
    assert_int_equal(cl_calib_polyfit(xy, yy, NULL, 2, 40, 2, &b, NULL), CL_OK);
    for (int i = 0; i < 3; i++)
        assert_rel(a.coef[i], b.coef[i], 1e-10);
}

/* ------------------------------------------------- synthetic polynomials */

/* A sensor-like curve in raw counts: kPa = c0 + c1 x + c2 x^2 + c3 x^3. */
static const double cubic[4] = {-118.0, 0.0305, 4.0e-7, -6.0e-11};

static double poly(const double *c, int deg, double x)
{
    double y = c[deg];
    for (int i = deg - 1; i >= 0; i--)
        y = y * x + c[i];
    return y;
}

/* Coefficients of a noisy cubic recovered within 3 SE (fixed seed), and
 * over 300 seeds inside 2 SE about as often as Student's t says. */
static void test_recover_cubic(void **state)
{
    (void)state;
    enum { N = 40, SEEDS = 300 };
    double x[N], y[N];
    size_t inside = 0, total = 0;
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng *r = unit_rng(seed);
        for (int i = 0; i < N; i++) {
            x[i] = 1200 + 2600.0 * i / (N - 1);
            y[i] = poly(cubic, 3, x[i]) + gsl_ran_gaussian(r, 0.05);
        }
        cl_calib_fit f;
        assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, N, 3, &f, NULL), CL_OK);
        for (int k = 0; k < 4; k++) {
            double z = fabs(f.coef[k] - cubic[k]) / f.se[k];
            if (seed == 1)
                assert_true(z <= 3);
            inside += z <= 2;
            total++;
        }
        /* The residual SD estimates the noise; at x = 0 the curve's
         * uncertainty is that of c0. */
        if (seed == 1) {
            assert_near(f.sigma, 0.05, 0.02);
            assert_near(cl_calib_fit_u(&f, 0), f.se[0], 1e-12 * f.se[0]);
            assert_true(cl_calib_fit_u(&f, 2500) < 0.05);
        }
        gsl_rng_free(r);
    }
    double frac = (double)inside / (double)total;
    printf("# cubic: coefficients within 2 SE in %.1f %% of %zu (t_36: 94.7 %%)\n", 100 * frac,
           total);
    /* P(|t_36| <= 2) = 0.947; 1200 correlated draws: +-3 % */
    assert_true(frac >= 0.915 && frac <= 0.975);
}

/* With weights 1/sigma^2 the covariance is not rescaled by the residuals:
 * it equals the unweighted one times sigma^2 / s^2. */
static void test_weighted(void **state)
{
    (void)state;
    enum { N = 25 };
    double x[N], y[N], w[N];
    gsl_rng *r = unit_rng(5);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = 2 + 0.5 * i + gsl_ran_gaussian(r, 0.3);
        w[i] = 1 / (0.3 * 0.3);
    }
    cl_calib_fit u, v;
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, N, 1, &u, NULL), CL_OK);
    assert_int_equal(cl_calib_polyfit(x, y, w, 1, N, 1, &v, NULL), CL_OK);
    for (int i = 0; i < 2; i++)
        assert_rel(u.coef[i], v.coef[i], 1e-12);
    double ratio = 0.09 / (u.sigma * u.sigma);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            assert_rel(v.cov[i][j], u.cov[i][j] * ratio, 1e-9);
    /* Unequal weights move the fit toward the heavy points. */
    w[0] = 1e6;
    assert_int_equal(cl_calib_polyfit(x, y, w, 1, N, 1, &v, NULL), CL_OK);
    assert_near(cl_calib_fit_eval(&v, x[0]), y[0], 1e-3);
    gsl_rng_free(r);
}

static void test_polyfit_errors(void **state)
{
    (void)state;
    double x[4] = {1, 2, 3, 4}, y[4] = {1, 2, 3, 5}, same[4] = {2, 2, 2, 2};
    cl_calib_fit f;
    cl_error e;
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, 4, 0, &f, &e), CL_ERR_ARG);
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, 4, 6, &f, &e), CL_ERR_ARG);
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, 3, 2, &f, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "too few points"));
    assert_int_equal(cl_calib_polyfit(same, y, NULL, 1, 4, 1, &f, &e), CL_ERR_ARG);
    y[2] = NAN;
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, 4, 1, &f, &e), CL_ERR_ARG);
    y[2] = 3;
    double w[4] = {1, 1, 0, 1};
    assert_int_equal(cl_calib_polyfit(x, y, w, 1, 4, 1, &f, &e), CL_ERR_ARG);
    assert_int_equal(cl_calib_polyfit(x, y, NULL, 1, 4, 1, &f, &e), CL_OK);
}

/* ------------------------------------------------- sensor calibration */

/* Setpoints 0, -10, ..., -90 kPa up then down, `cycles` times; the sensor
 * reads raw = (p - c0) / c1 for a linear truth, plus noise of sd_kpa (in
 * pressure), plus +h/2 on the way down and -h/2 up (hysteresis h). */
typedef struct sim_opts {
    int cycles;
    double sd_kpa, h_kpa, bias_kpa; /* bias: the reference's own error */
    double c2;                      /* curvature: p = c0 + c1 x + c2 (x - 2500)^2 */
} sim_opts;

static const double lin_c0 = -120.0, lin_c1 = 0.032;

static double true_kpa(const sim_opts *o, double x)
{
    double d = x - 2500;
    return lin_c0 + lin_c1 * x + o->c2 * d * d;
}

/* Raw reading at which the sensor's true curve reads p (Newton). */
static double true_raw(const sim_opts *o, double p)
{
    double x = (p - lin_c0) / lin_c1;
    for (int i = 0; i < 50; i++)
        x -= (true_kpa(o, x) - p) / (lin_c1 + 2 * o->c2 * (x - 2500));
    return x;
}

static size_t make_points(const sim_opts *o, gsl_rng *r, cl_sensor_point *pts, bool dirs)
{
    size_t n = 0;
    for (int c = 0; c < o->cycles; c++)
        for (int leg = 0; leg < 2; leg++)
            for (int j = 0; j < 10; j++) {
                int s = leg == 0 ? j : 9 - j;
                double p = -10.0 * s;
                double seen = p + (leg ? 0.5 : -0.5) * o->h_kpa +
                              (r && o->sd_kpa > 0 ? gsl_ran_gaussian(r, o->sd_kpa) : 0);
                pts[n] = (cl_sensor_point){.ref_kpa = p + o->bias_kpa,
                                           .raw = true_raw(o, seen),
                                           .raw_sd = NAN,
                                           .n_samples = 1,
                                           .direction = dirs ? (leg ? CL_DIR_DOWN : CL_DIR_UP)
                                                             : CL_DIR_UNKNOWN,
                                           .temperature_c = NAN};
                n++;
            }
    return n;
}

static void calibrate(const cl_sensor_point *p, size_t n, int degree, double tol, double ref_u,
                      cl_sensor_calibration *d)
{
    cl_calib_options o;
    cl_error e;
    cl_calib_options_init(&o);
    o.degree = degree;
    o.tolerance_kpa = tol;
    o.ref_u_kpa = ref_u;
    cl_sensor_calibration_init(d);
    int rc = cl_calib_sensor(p, n, &o, d, &e);
    if (rc != CL_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, CL_OK);
}

/* Noise-free linear sensor with a known hysteresis h: the readings on the
 * way down sit h/slope counts from those on the way up, so every setpoint
 * shows c1 * h / slope exactly (c1 the fitted slope).  c1 falls short of
 * the true slope by the regression dilution of the +-h/2 offsets in raw
 * (a factor 1 - 2.7e-5 here), so h itself is met to 1e-4. */
static void test_known_hysteresis(void **state)
{
    (void)state;
    sim_opts o = {.cycles = 2, .h_kpa = 0.3};
    cl_sensor_point pts[40];
    cl_sensor_calibration d;
    size_t n = make_points(&o, NULL, pts, true);
    calibrate(pts, n, 1, 1.0, 0.02, &d);
    assert_int_equal(d.degree, 1);
    assert_int_equal(d.nsetpoints, 10);
    const double h = d.coef[1] * 0.3 / lin_c1;
    assert_near(h, 0.3, 1e-4);
    for (size_t s = 0; s < d.nsetpoints; s++) {
        assert_near(d.setpoints[s].hysteresis_kpa, h, 1e-9);
        assert_near(d.setpoints[s].error_down_kpa - d.setpoints[s].error_up_kpa, h, 1e-9);
        assert_near(d.setpoints[s].error_up_kpa, -0.15, 2e-3);
        assert_near(d.setpoints[s].error_down_kpa, 0.15, 2e-3);
        assert_int_equal(d.setpoints[s].n_up, 2);
        assert_int_equal(d.setpoints[s].n_down, 2);
        assert_near(d.setpoints[s].repeatability_kpa, 0, 1e-9);
    }
    assert_near(d.hysteresis_kpa, h, 1e-9);
    assert_near(d.u_hyst_kpa, h / (2 * sqrt(3.0)), 1e-9);
    assert_near(d.max_residual_kpa, 0.15, 2e-3);
    assert_near(d.coef[1], lin_c1, 1e-6);
    assert_true(d.ascending && d.descending && d.repeats && d.procedure_complete);
    /* Setpoints are numbered by increasing pressure. */
    assert_near(d.setpoints[0].ref_kpa, -90, 1e-12);
    assert_near(d.setpoints[9].ref_kpa, 0, 1e-12);
    cl_sensor_calibration_release(&d);
}

/* Repeats offset by +-delta: repeatability delta*sqrt(2) (times the slope
 * ratio c1/slope, as above), hysteresis 0. */
static void test_known_repeatability(void **state)
{
    (void)state;
    sim_opts o = {.cycles = 2};
    cl_sensor_point pts[40];
    cl_sensor_calibration d;
    size_t n = make_points(&o, NULL, pts, true);
    const double delta = 0.05;
    for (size_t i = 0; i < n; i++) /* cycle 1 reads +delta, cycle 2 -delta */
        pts[i].raw = true_raw(&o, pts[i].ref_kpa + (i < 20 ? delta : -delta));
    calibrate(pts, n, 1, 1.0, 0.02, &d);
    const double rep = d.coef[1] / lin_c1 * delta * sqrt(2.0);
    assert_near(rep, delta * sqrt(2.0), 1e-6);
    for (size_t s = 0; s < d.nsetpoints; s++) {
        assert_near(d.setpoints[s].repeatability_kpa, rep, 1e-9);
        assert_near(d.setpoints[s].hysteresis_kpa, 0, 1e-9);
    }
    assert_near(d.repeatability_kpa, rep, 1e-9);
    assert_near(d.u_rep_kpa, rep, 1e-9);
    /* U at a point: k sqrt(g'Cg + u_rep^2 + u_hyst^2 + (U_ref/k_ref)^2). */
    double raw = d.points[3].raw, g[2] = {1, raw}, v = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            v += g[i] * d.cov[i][j] * g[j];
    double u = 2 * sqrt(v + rep * rep + 0 + 0.01 * 0.01);
    assert_near(d.points[3].u_kpa, u, 1e-12);
    assert_near(d.u_ref_kpa, 0.01, 1e-15);
    cl_sensor_calibration_release(&d);
}

/* Directions inferred from |ref|: up to the deepest vacuum, down after; a
 * repeat of the turning point right after it keeps the direction "up". */
static void test_infer_directions(void **state)
{
    (void)state;
    sim_opts o = {.cycles = 1};
    cl_sensor_point pts[20];
    cl_sensor_calibration d;
    size_t n = make_points(&o, NULL, pts, false);
    calibrate(pts, n, 1, 1.0, 0.02, &d);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(d.points[i].direction, i <= 10 ? CL_DIR_UP : CL_DIR_DOWN);
    /* the turning point taken twice in one direction is a repeat */
    assert_true(d.repeats);
    cl_sensor_calibration_release(&d);
    /* Without it there are no repeats: u_rep falls back on the residual SD. */
    for (size_t i = 10; i + 1 < n; i++)
        pts[i] = pts[i + 1];
    for (size_t i = 0; i < n - 1; i++)
        pts[i].raw += (double)((int)(i % 3) - 1) * 0.5; /* some scatter */
    calibrate(pts, n - 1, 1, 1.0, 0.02, &d);
    assert_true(d.residual_sd_kpa > 0.005);
    assert_int_equal(d.points[10].direction, CL_DIR_DOWN);
    assert_false(d.repeats);
    assert_near(d.u_rep_kpa, d.residual_sd_kpa, 1e-15);
    assert_true(isnan(d.repeatability_kpa));
    assert_false(d.procedure_complete);
    cl_sensor_calibration_release(&d);
}

/* A curved sensor: a straight line misses a tight tolerance, degree 2 is
 * chosen automatically; a loose tolerance keeps degree 1; --degree wins. */
static void test_degree_choice(void **state)
{
    (void)state;
    sim_opts o = {.cycles = 2, .sd_kpa = 0.005, .c2 = 1e-7};
    cl_sensor_point pts[40];
    cl_sensor_calibration d;
    gsl_rng *r = unit_rng(11);
    size_t n = make_points(&o, r, pts, true);
    calibrate(pts, n, 0, 0.1, 0.01, &d);
    assert_int_equal(d.degree, 2);
    assert_true(d.pass);
    assert_int_equal(d.ntrials, 3);
    assert_false(d.trials[0].pass);
    assert_true(d.trials[1].pass);
    /* Non-linearity: the curvature's deviation from the best line. */
    assert_near(d.nonlinearity_kpa, 1e-7 * 2812.5 * 2812.5 / 8, 0.02);
    cl_sensor_calibration_release(&d);
    calibrate(pts, n, 0, 2.0, 0.01, &d);
    assert_int_equal(d.degree, 1);
    assert_true(d.pass);
    cl_sensor_calibration_release(&d);
    calibrate(pts, n, 3, 2.0, 0.01, &d);
    assert_int_equal(d.degree, 3);
    assert_int_equal(d.ntrials, 1);
    cl_sensor_calibration_release(&d);
    /* A tolerance no degree meets: the closest is kept, marked failing. */
    calibrate(pts, n, 0, 0.01, 0.01, &d);
    assert_false(d.pass);
    assert_true(d.degree >= 2);
    cl_sensor_calibration_release(&d);
    /* No tolerance: the significant terms decide (curvature is). */
    calibrate(pts, n, 0, NAN, 0.01, &d);
    assert_int_equal(d.degree, 2);
    assert_false(d.pass);
    cl_sensor_calibration_release(&d);
    gsl_rng_free(r);
}

/* Coverage of U: over many calibrations of a noisy sensor whose reference
 * carries a systematic error of SD u_ref, a new reading calibrated through
 * the fit lies within +-U of the true pressure about 95 % of the time, and
 * the fitted curve lies within 2 u_fit of the true curve about as often as
 * Student's t allows. */
static void test_uncertainty_coverage(void **state)
{
    (void)state;
    enum { SEEDS = 400, EVAL = 11 };
    const double sd = 0.02, u_ref = 0.015; /* kPa */
    size_t in_u = 0, in_fit = 0, total = 0;
    double h_sum = 0;
    for (unsigned long seed = 1; seed <= SEEDS; seed++) {
        gsl_rng *r = unit_rng(1000 + seed);
        sim_opts o = {.cycles = 3, .sd_kpa = sd, .c2 = 1e-8};
        o.bias_kpa = gsl_ran_gaussian(r, u_ref);
        cl_sensor_point pts[60];
        cl_sensor_calibration d;
        size_t n = make_points(&o, r, pts, true);
        calibrate(pts, n, 2, 1.0, 2 * u_ref, &d);
        h_sum += d.u_hyst_kpa;
        for (int k = 0; k < EVAL; k++) {
            double p = -90.0 * k / (EVAL - 1);
            double x = true_raw(&o, p);
            /* the fitted curve against the truth (the bias shifts both) */
            double fit_err = cl_sensor_calibration_kpa(&d, x) - (p + o.bias_kpa);
            in_fit += fabs(fit_err) <= 2 * cl_sensor_calibration_u_fit_kpa(&d, x);
            /* a new reading at p */
            double xn = true_raw(&o, p + gsl_ran_gaussian(r, sd));
            double err = cl_sensor_calibration_kpa(&d, xn) - p;
            in_u += fabs(err) <= cl_sensor_calibration_u_kpa(&d, xn);
            total++;
        }
        cl_sensor_calibration_release(&d);
        gsl_rng_free(r);
    }
    double fu = (double)in_u / (double)total, ff = (double)in_fit / (double)total;
    printf("# U coverage %.1f %%, fit-only (2 u_fit) %.1f %% of %zu; mean u_hyst from noise "
           "%.4f kPa (noise %.3f)\n",
           100 * fu, 100 * ff, total, h_sum / SEEDS, sd);
    /* fit-only: P(|t_57| <= 2) = 0.950; U: 0.95 nominal, a little above as
     * the hysteresis term picks up noise.  Half or double U would give
     * about 0.68 or 0.9999. */
    assert_true(ff >= 0.92 && ff <= 0.975);
    assert_true(fu >= 0.93 && fu <= 0.99);
}

static void test_sensor_errors(void **state)
{
    (void)state;
    sim_opts o = {.cycles = 1};
    cl_sensor_point pts[20];
    cl_sensor_calibration d;
    cl_calib_options co;
    cl_error e;
    size_t n = make_points(&o, NULL, pts, true);
    cl_calib_options_init(&co);
    co.ref_u_kpa = 0.01;
    co.tolerance_kpa = 1;
    cl_sensor_calibration_init(&d);

    /* too few setpoints for the degree: 4 setpoints allow degree 2 at most */
    cl_sensor_point few[8];
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (pts[i].ref_kpa >= -30)
            few[m++] = pts[i];
    assert_int_equal(m, 8);
    co.degree = 3;
    assert_int_equal(cl_calib_sensor(few, m, &co, &d, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "too few points for degree 3"));
    assert_null(d.points);
    co.degree = 2;
    assert_int_equal(cl_calib_sensor(few, m, &co, &d, &e), CL_OK);
    cl_sensor_calibration_release(&d);
    co.degree = 0;
    assert_int_equal(cl_calib_sensor(few, 2, &co, &d, &e), CL_ERR_ARG);

    /* non-monotonic: one setpoint reads above its neighbour */
    cl_sensor_point bad[20];
    memcpy(bad, pts, sizeof bad);
    for (size_t i = 0; i < n; i++)
        if (bad[i].ref_kpa == -50)
            bad[i].raw = true_raw(&o, -35);
    assert_int_equal(cl_calib_sensor(bad, n, &co, &d, &e), CL_ERR_RANGE);
    assert_non_null(strstr(e.msg, "non-monotonic"));

    /* equal references, a NaN, a missing reference uncertainty */
    memcpy(bad, pts, sizeof bad);
    for (size_t i = 0; i < n; i++)
        bad[i].ref_kpa = -20;
    assert_int_equal(cl_calib_sensor(bad, n, &co, &d, &e), CL_ERR_ARG);
    memcpy(bad, pts, sizeof bad);
    bad[4].raw = NAN;
    assert_int_equal(cl_calib_sensor(bad, n, &co, &d, &e), CL_ERR_ARG);
    co.ref_u_kpa = NAN;
    assert_int_equal(cl_calib_sensor(pts, n, &co, &d, &e), CL_ERR_ARG);
    co.ref_u_kpa = 0.01;
    co.tolerance_kpa = -1;
    assert_int_equal(cl_calib_sensor(pts, n, &co, &d, &e), CL_ERR_ARG);
    co.tolerance_kpa = 1;
    co.degree = 4;
    assert_int_equal(cl_calib_sensor(pts, n, &co, &d, &e), CL_ERR_ARG);
    assert_null(d.points);
    assert_null(d.setpoints);
}

/* A cubic forced through data that folds is refused as non-monotonic. */
static void test_fit_not_monotonic(void **state)
{
    (void)state;
    cl_sensor_point pts[6];
    cl_sensor_calibration d;
    cl_calib_options co;
    cl_error e;
    /* raw strictly increasing with the reference, but in steps that a cubic
     * through them must bend back */
    const double ref[6] = {-50, -40, -30, -20, -10, 0};
    const double raw[6] = {1000, 1001, 1002, 3000, 3001, 3002};
    for (int i = 0; i < 6; i++)
        pts[i] = (cl_sensor_point){.ref_kpa = ref[i],
                                   .raw = raw[i],
                                   .raw_sd = NAN,
                                   .n_samples = 1,
                                   .temperature_c = NAN};
    cl_calib_options_init(&co);
    co.ref_u_kpa = 0.01;
    co.tolerance_kpa = 0.5;
    co.degree = 3;
    cl_sensor_calibration_init(&d);
    assert_int_equal(cl_calib_sensor(pts, 6, &co, &d, &e), CL_ERR_RANGE);
    assert_non_null(strstr(e.msg, "not monotonic"));
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nist_norris),         cmocka_unit_test(test_nist_pontius),
        cmocka_unit_test(test_nist_wampler),        cmocka_unit_test(test_fit_invariance),
        cmocka_unit_test(test_recover_cubic),       cmocka_unit_test(test_weighted),
        cmocka_unit_test(test_polyfit_errors),      cmocka_unit_test(test_known_hysteresis),
        cmocka_unit_test(test_known_repeatability), cmocka_unit_test(test_infer_directions),
        cmocka_unit_test(test_degree_choice),       cmocka_unit_test(test_uncertainty_coverage),
        cmocka_unit_test(test_sensor_errors),       cmocka_unit_test(test_fit_not_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
