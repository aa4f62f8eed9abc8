/*
 * Unit tests of cl_stats on small examples worked by hand (the
 * intermediate numbers are in the comments), the ICC example of Shrout &
 * Fleiss (1979, Table 2), p-values against the closed forms where they
 * exist (chi-square with 2 df: e^(-x/2)) and otherwise against reference
 * values from scipy 1.10 (ttest_ind(equal_var=False), f_oneway, kruskal,
 * levene(center='median')), the adjustments, the blocked ANOVA and
 * Friedman's test against R 4.2 (the R code is beside each), the noncentral
 * F and t distributions and the intervals of omega2 and Hedges' g against
 * R 4.2 (pf, pt and uniroot, beside each), the null rate of the tests and
 * the coverage of those intervals on simulated normal data, and the error
 * paths.  Tolerances: 1e-12 relative on closed-form
 * numbers, 1e-9 absolute on p-values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "unit.h"
#include "cohort/cl_stats.h"

/* a equals b to 1e-12 relative. */
#define assert_rel(a, b) assert_close((a), (b), 1e-300, 1e-12)

static cl_stats_sample sample(const double *x, size_t n)
{
    return (cl_stats_sample){x, 1, n};
}

static void describe(void **state)
{
    (void)state;
    /* 1, 2, 3, 4, 100 interleaved with NaN (stride 2): the NaN are left out.
     * mean 22; squared deviations 441 + 400 + 361 + 324 + 6084 = 7610,
     * sd = sqrt(7610 / 4); quartiles (type 7) 2 and 4, median 3. */
    const double x[] = {1, NAN, 2, NAN, 3, NAN, 4, NAN, 100, NAN};
    cl_stats_desc d;
    assert_int_equal(cl_stats_describe(x, 2, 5, &d, NULL), CL_OK);
    assert_int_equal(d.n, 5);
    assert_rel(d.mean, 22);
    assert_rel(d.sd, sqrt(7610.0 / 4));
    assert_rel(d.cv, sqrt(7610.0 / 4) / 22);
    assert_rel(d.se, sqrt(7610.0 / 4) / sqrt(5));
    assert_rel(d.median, 3);
    assert_rel(d.q1, 2);
    assert_rel(d.q3, 4);
    assert_rel(d.iqr, 2);
    assert_rel(d.min, 1);
    assert_rel(d.max, 100);
    /* With stride 1 the NaN count as missing, not as values. */
    assert_int_equal(cl_stats_describe(x, 1, 10, &d, NULL), CL_OK);
    assert_int_equal(d.n, 5);
    /* One value: no spread; none: all NaN, still no error. */
    assert_int_equal(cl_stats_describe(x, 1, 1, &d, NULL), CL_OK);
    assert_int_equal(d.n, 1);
    assert_rel(d.mean, 1);
    assert_true(isnan(d.sd) && isnan(d.cv));
    assert_int_equal(cl_stats_describe(x + 1, 2, 5, &d, NULL), CL_OK);
    assert_int_equal(d.n, 0);
    assert_true(isnan(d.mean) && isnan(d.median));

    /* Mean CI: t(0.975, 4) = 2.7764451051977987 (scipy), half-width
     * t * sd / sqrt(5) = 54.1584743520188. */
    double m, h;
    assert_int_equal(cl_stats_mean_ci(x, 2, 5, &m, &h, NULL), CL_OK);
    assert_rel(m, 22);
    assert_near(h, 54.1584743520188, 1e-9);
    assert_int_equal(cl_stats_mean_ci(x, 2, 1, &m, &h, NULL), CL_OK);
    assert_rel(m, 1);
    assert_true(isnan(h));
}

static void welch_t(void **state)
{
    (void)state;
    /* a: mean 3, var 2.5; b: mean 6, var 10.  se^2 = 0.5 + 2 = 2.5,
     * t = -3 / sqrt(2.5), df = 2.5^2 / (0.5^2/4 + 2^2/4) = 6.25 / 1.0625.
     * Pooled SD sqrt((4 * 2.5 + 4 * 10) / 8) = 2.5, d = -1.2,
     * J(8) = G(4) / (2 G(3.5)) = 0.9027033336764102. */
    const double a[] = {1, 2, 3, 4, 5}, b[] = {2, 4, 6, 8, 10};
    cl_stats_sample sa = sample(a, 5), sb = sample(b, 5);
    cl_stats_ttest r;
    assert_int_equal(cl_stats_welch_t(&sa, &sb, &r, NULL), CL_OK);
    assert_int_equal(r.n1, 5);
    assert_int_equal(r.n2, 5);
    assert_rel(r.diff, -3);
    assert_rel(r.se, sqrt(2.5));
    assert_rel(r.t, -3 / sqrt(2.5));
    assert_rel(r.df, 6.25 / 1.0625);
    assert_near(r.p, 0.10753119493062718, 1e-9);
    assert_rel(r.cohen_d, -1.2);
    assert_near(r.hedges_g, -1.2 * 0.9027033336764102, 1e-12);
    assert_true(r.ci_lo < -3 && r.ci_hi > -3);
    assert_near(r.ci_hi - r.ci_lo, 2 * r.se * gsl_cdf_tdist_Qinv(0.025, r.df), 1e-12);
    /* p is symmetric in the order of the groups, t and g change sign. */
    cl_stats_ttest s;
    assert_int_equal(cl_stats_welch_t(&sb, &sa, &s, NULL), CL_OK);
    assert_rel(s.t, -r.t);
    assert_rel(s.hedges_g, -r.hedges_g);
    assert_near(s.p, r.p, 1e-15);
}

static void holm(void **state)
{
    (void)state;
    /* Sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06),
     * 0.04 (x1 = 0.04, raised to the running maximum 0.06); NaN stays out
     * of m = 4. */
    const double p[] = {0.01, 0.04, NAN, 0.03, 0.005};
    double adj[5];
    assert_int_equal(cl_stats_holm(p, 1, 5, adj, NULL), CL_OK);
    assert_rel(adj[0], 0.03);
    assert_rel(adj[1], 0.06);
    assert_true(isnan(adj[2]));
    assert_rel(adj[3], 0.06);
    assert_rel(adj[4], 0.02);
    /* Capped at 1. */
    const double q[] = {0.6, 0.7};
    assert_int_equal(cl_stats_holm(q, 1, 2, adj, NULL), CL_OK);
    assert_rel(adj[0], 1);
    assert_rel(adj[1], 1);
}

static void welch_anova(void **state)
{
    (void)state;
    /* Means 2, 4, 6; variances 1, 4, 1; n = 3 each.  w = 3, 0.75, 3,
     * W = 6.75, weighted mean 27 / 6.75 = 4, A = (12 + 0 + 12) / 2 = 12,
     * L = (25/81 + 64/81 + 25/81) / 2 = 114/162,
     * F = 12 / (1 + 2 L / 8), df2 = 8 / (3 L).
     * Ordinary ANOVA: SSB = 24, SSW = 12, F = 12 / 2 = 6, p = 1/27;
     * eta2 = 24 / 36, omega2 = (24 - 2 * 2) / (36 + 2). */
    const double g1[] = {1, 2, 3}, g2[] = {2, 4, 6}, g3[] = {5, 6, 7};
    cl_stats_sample g[] = {sample(g1, 3), sample(g2, 3), sample(g3, 3)};
    cl_stats_anova r;
    double L = 114.0 / 162;
    assert_int_equal(cl_stats_welch_anova(g, 3, &r, NULL), CL_OK);
    assert_int_equal(r.k, 3);
    assert_int_equal(r.n, 9);
    assert_rel(r.f, 12 / (1 + 2 * L / 8));
    assert_rel(r.df1, 2);
    assert_rel(r.df2, 8 / (3 * L));
    assert_near(r.p, 0.029807491702142516, 1e-9);
    assert_rel(r.ss_between, 24);
    assert_rel(r.ss_within, 12);
    assert_rel(r.f_classic, 6);
    assert_near(r.p_classic, 1.0 / 27, 1e-12); /* F(2, 6) survival at 6 */
    assert_rel(r.eta2, 24.0 / 36);
    assert_rel(r.omega2, 20.0 / 38);
}

/* The noncentral F and t CDFs against R 4.2, options(digits = 17), to 1e-9
 * (R's pf with ncp is accurate to about 1e-9, its pnbeta's errmax; scipy
 * 1.10's ncf.cdf agrees with cl_stats to 1e-15, for instance 0.5137815700548354
 * at (2.5, 2, 27, 3.7)):
 *   pf(c(2.5, 2.5, 7.1, 0.3, 50), c(2, 2, 3, 4, 2), c(27, 27, 12.5, 30, 60),
 *      ncp = c(0, 3.7, 40, 0.5, 150))
 *   pt(c(1.3, 1.3, -0.7, -2.2, 9, -4), c(8, 8, 12, 5, 18, 30),
 *      ncp = c(0, 2.1, -1.4, 0.8, 7.5, -6)) */
static void noncentral(void **state)
{
    (void)state;
    static const double f[][5] = {{2.5, 2, 27, 0, 0.899101174985291518},
                                  {2.5, 2, 27, 3.7, 0.513781569640932023},
                                  {7.1, 3, 12.5, 40, 0.074282949060041265},
                                  {0.3, 4, 30, 0.5, 0.102010121764500999},
                                  {50, 2, 60, 150, 0.043178023661706810}};
    static const double t[][4] = {{1.3, 8, 0, 0.8850981875407373245},
                                  {1.3, 8, 2.1, 0.2117131734968537016},
                                  {-0.7, 12, -1.4, 0.7603519727796529404},
                                  {-2.2, 5, 0.8, 0.0071658362060923464},
                                  {9, 18, 7.5, 0.7761692351750829610},
                                  {-4, 30, -6, 0.9643390453687787911}};
    double p;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        assert_int_equal(cl_stats_ncf_cdf(f[i][0], f[i][1], f[i][2], f[i][3], &p, NULL), CL_OK);
        assert_near(p, f[i][4], 1e-9);
    }
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(cl_stats_nct_cdf(t[i][0], t[i][1], t[i][2], &p, NULL), CL_OK);
        assert_near(p, t[i][3], 1e-9);
    }
    /* Central: GSL's own F and t. */
    assert_int_equal(cl_stats_ncf_cdf(3.3, 3, 9, 0, &p, NULL), CL_OK);
    assert_near(p, gsl_cdf_fdist_P(3.3, 3, 9), 1e-12);
    assert_int_equal(cl_stats_nct_cdf(-1.7, 4.5, 0, &p, NULL), CL_OK);
    assert_near(p, gsl_cdf_tdist_P(-1.7, 4.5), 1e-12);
    cl_error err;
    assert_int_equal(cl_stats_ncf_cdf(1, 0, 9, 0, &p, &err), CL_ERR_ARG);
    assert_int_equal(cl_stats_nct_ci(NAN, 4, &p, &p, &err), CL_ERR_ARG);
}

/* The intervals of omega2 and Hedges' g against R 4.2's uniroot on pf / pt
 * (tol = 1e-13):
 *   F = 15 with (2, 27) df, N = 30:
 *     f <- function(l, p) pf(15, 2, 27, ncp = l) - p
 *     uniroot(f, c(0, 200), p = 0.975)$root  8.20760220135983154
 *     uniroot(f, c(0, 300), p = 0.025)$root  61.04249323098693480
 *   the ANOVA example of welch_anova(), F = 6 with (2, 6) df, N = 9:
 *     pf(6, 2, 6) = 26/27 < 0.975, so lambda_lo = 0;
 *     uniroot(function(l) pf(6, 2, 6, ncp = l) - 0.025, c(0, 200))$root
 *       36.49246545798242636, omega2_hi = 36.49... / (36.49... + 9)
 *   the t example of welch_t(), d = -1.2, n = 5 + 5, t = d / sqrt(0.4), 8 df:
 *     g <- function(d, p) pt(-1.2 / sqrt(0.4), 8, ncp = d) - p
 *     uniroot(g, c(-20, 5), p = 0.975)$root  -4.01246168206713705
 *     uniroot(g, c(-20, 5), p = 0.025)$root   0.31286326569580547
 *   and both bounds 0 for an F below its 2.5 % point (pf(0.02, 2, 6) =
 *   0.0197).  Tolerance 1e-6 on lambda: R's pf error (above) moves its
 *   roots by about 1e-7. */
static void effect_cis(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(cl_stats_ncf_ci(15, 2, 27, &lo, &hi, NULL), CL_OK);
    assert_near(lo, 8.20760220135983154, 1e-6);
    assert_near(hi, 61.04249323098693480, 1e-6);
    assert_int_equal(cl_stats_ncf_ci(0.02, 2, 6, &lo, &hi, NULL), CL_OK);
    assert_true(lo == 0 && hi == 0);

    const double g1[] = {1, 2, 3}, g2[] = {2, 4, 6}, g3[] = {5, 6, 7};
    cl_stats_sample g[] = {sample(g1, 3), sample(g2, 3), sample(g3, 3)};
    cl_stats_anova r;
    assert_int_equal(cl_stats_welch_anova(g, 3, &r, NULL), CL_OK);
    assert_true(r.omega2_lo == 0);
    assert_near(r.omega2_hi, 36.49246545798242636 / (36.49246545798242636 + 9), 1e-9);
    assert_true(r.omega2 < r.omega2_hi);

    const double a[] = {1, 2, 3, 4, 5}, b[] = {2, 4, 6, 8, 10};
    cl_stats_sample sa = sample(a, 5), sb = sample(b, 5);
    cl_stats_ttest t;
    assert_int_equal(cl_stats_welch_t(&sa, &sb, &t, NULL), CL_OK);
    assert_near(t.g_lo, -4.01246168206713705 * sqrt(0.4), 1e-8);
    assert_near(t.g_hi, 0.31286326569580547 * sqrt(0.4), 1e-8);
    assert_true(t.g_lo < t.hedges_g && t.hedges_g < t.g_hi);
    /* Groups 1000 pooled SDs apart: the noncentrality (about 1500^2) is
     * beyond what the mixture sums, the interval NaN, the test stands. */
    const double c[] = {0, 0.001, 0.002}, e[] = {1, 1.001, 1.002};
    cl_stats_sample sc = sample(c, 3), se = sample(e, 3);
    cl_error err;
    assert_int_equal(cl_stats_welch_t(&sc, &se, &t, NULL), CL_OK);
    assert_true(isnan(t.g_lo) && isnan(t.g_hi) && isfinite(t.hedges_g));
    assert_int_equal(cl_stats_nct_ci(-1500, 4, &lo, &hi, &err), CL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "beyond"));
    /* The other order: the interval mirrored. */
    assert_int_equal(cl_stats_welch_t(&sb, &sa, &t, NULL), CL_OK);
    assert_near(t.g_lo, -0.31286326569580547 * sqrt(0.4), 1e-8);
    assert_near(t.g_hi, 4.01246168206713705 * sqrt(0.4), 1e-8);
}

/* Coverage: in 400 simulated balanced designs (3 groups of 10, means 0,
 * 0.5 and 1 SD apart) the omega2 interval holds the true omega2 = f2 /
 * (1 + f2), f2 = sum (mu_i - mu)^2 / (k sigma^2) = 1/6, and g's interval of
 * the first two groups the true 0.5, about 95 % of the time
 * (Binomial(400, 0.95): SD 1.1 %; 93..97 % accepted). */
static void ci_coverage(void **state)
{
    (void)state;
    enum { RUNS = 400, K = 3, N = 10 };
    const double mu[K] = {0, 0.5, 1}, f2 = 1.0 / 6, omega2 = f2 / (1 + f2);
    gsl_rng *rng = unit_rng(2004);
    size_t hit_w = 0, hit_g = 0;
    double x[K][N];
    for (int run = 0; run < RUNS; run++) {
        for (int g = 0; g < K; g++)
            for (int i = 0; i < N; i++)
                x[g][i] = 300 + 20 * (mu[g] + gsl_ran_gaussian(rng, 1));
        cl_stats_sample s[] = {sample(x[0], N), sample(x[1], N), sample(x[2], N)};
        cl_stats_anova a;
        cl_stats_ttest t;
        assert_int_equal(cl_stats_welch_anova(s, K, &a, NULL), CL_OK);
        assert_int_equal(cl_stats_welch_t(&s[1], &s[0], &t, NULL), CL_OK);
        hit_w += a.omega2_lo <= omega2 && omega2 <= a.omega2_hi;
        hit_g += t.g_lo <= 0.5 && 0.5 <= t.g_hi;
    }
    gsl_rng_free(rng);
    print_message("95 %% intervals holding the truth: omega2 %zu, Hedges' g %zu of %d\n", hit_w,
                  hit_g, RUNS);
    assert_in_range(hit_w, 372, 388);
    assert_in_range(hit_g, 372, 388);
}

static void kruskal(void **state)
{
    (void)state;
    /* Ranks 1..9 without ties: R = 6, 15, 24,
     * H = 12 / 90 * (36 + 225 + 576) / 3 - 30 = 7.2, p = e^(-3.6). */
    const double a[] = {1, 2, 3}, b[] = {4, 5, 6}, c[] = {7, 8, 9};
    cl_stats_sample g[] = {sample(a, 3), sample(b, 3), sample(c, 3)};
    cl_stats_kruskal r;
    assert_int_equal(cl_stats_kruskal_wallis(g, 3, &r, NULL), CL_OK);
    assert_rel(r.h, 7.2);
    assert_rel(r.df, 2);
    assert_rel(r.p, exp(-3.6));
    assert_rel(r.epsilon2, 7.2 / 8);
    /* Ties: 1 | 2 2 2 | 3 4 -> ranks 1, 3 3 3, 5, 6; R = 7, 14;
     * H0 = 12 / 42 * (49 + 196) / 3 - 21 = 7/3; correction
     * 1 - 24 / 210; H = (7/3) / (186/210). */
    const double d[] = {1, 2, 2}, e[] = {2, 3, 4};
    cl_stats_sample h[] = {sample(d, 3), sample(e, 3)};
    assert_int_equal(cl_stats_kruskal_wallis(h, 2, &r, NULL), CL_OK);
    assert_rel(r.h, (7.0 / 3) / (186.0 / 210));
    assert_near(r.p, 0.104570993064373, 1e-9);
}

static void brown_forsythe(void **state)
{
    (void)state;
    const double a[] = {1, 2, 3, 10}, b[] = {2, 4, 6, 8}, c[] = {5, 6, 7, 7.5};
    cl_stats_sample g[] = {sample(a, 4), sample(b, 4), sample(c, 4)};
    double f, df1, df2, p;
    assert_int_equal(cl_stats_brown_forsythe(g, 3, &f, &df1, &df2, &p, NULL), CL_OK);
    assert_near(f, 0.6445880452342488, 1e-12);
    assert_near(p, 0.5474930280228092, 1e-9);
    assert_rel(df1, 2);
    assert_rel(df2, 9);
    /* The input is not modified. */
    assert_rel(a[3], 10);
}

static void icc(void **state)
{
    (void)state;
    /* Shrout & Fleiss (1979), 6 targets by 4 judges: BMS 11.24, JMS 32.49,
     * EMS 1.02, ICC(2,1) 0.29.  CI from McGraw & Wong's formulas, 0.019 to
     * 0.761 (as published for this example by the pingouin package). */
    const double y[6][5] = {{9, 2, 5, 8, NAN}, {6, 1, 3, 2, NAN},  {8, 4, 6, 8, NAN},
                            {7, 1, 2, 6, NAN}, {10, 5, 6, 9, NAN}, {6, 2, 4, 7, NAN}};
    cl_stats_icc r;
    assert_int_equal(cl_stats_icc21(&y[0][0], 6, 4, 5, &r, NULL), CL_OK);
    assert_near(r.msr, 11.241666666666667, 1e-12);
    assert_near(r.msc, 32.486111111111114, 1e-12);
    assert_near(r.mse, 1.019444444444444, 1e-12);
    assert_near(r.icc, 0.2897637795275592, 1e-12);
    assert_near(r.lo, 0.018786513374712044, 1e-7);
    assert_near(r.hi, 0.7610843696489528, 1e-7);
    assert_near(r.f, 11.027247956403299, 1e-10);
    assert_rel(r.df1, 5);
    assert_rel(r.df2, 15);
    assert_near(r.p, 0.00013456651648433476, 1e-12);
    assert_near(r.sem, 2.5027762362802006, 1e-12);
    assert_near(r.cv_within, 0.5390426571908797, 1e-12);

    /* Perfect agreement between raters that tell the targets apart: 1. */
    const double z[3][2] = {{1, 1}, {2, 2}, {5, 5}};
    assert_int_equal(cl_stats_icc21(&z[0][0], 3, 2, 2, &r, NULL), CL_OK);
    assert_rel(r.icc, 1);
    assert_true(isnan(r.lo) && isnan(r.hi));

    /* Raters that agree on average (MSC = 0 < MSE): the SEM is the
     * documented sqrt((MSC - MSE)/n + MSE), below sqrt(MSE), not floored at
     * it.  Rows 1 2 3 | 13 11 12 | 22 23 21: every column mean is 12, the
     * residuals are the deviations from the row means (-1 0 1, 1 -1 0,
     * 0 1 -1), SSE = 6 on 4 df, MSE = 1.5, sem = sqrt(-0.5 + 1.5) = 1. */
    const double w[3][3] = {{1, 2, 3}, {13, 11, 12}, {22, 23, 21}};
    assert_int_equal(cl_stats_icc21(&w[0][0], 3, 3, 3, &r, NULL), CL_OK);
    assert_near(r.msc, 0, 1e-12);
    assert_near(r.mse, 1.5, 1e-12);
    assert_near(r.sem, 1, 1e-12);
}

/* Benjamini-Hochberg and Holm against R 4.2 (ties, a missing value):
 *   p <- c(0.01, 0.04, 0.03, 0.005, NA, 0.2, 0.04, 0.9)
 *   p.adjust(p, "BH"); p.adjust(p, "holm")       (options(digits = 17)) */
static void bh(void **state)
{
    (void)state;
    const double p[] = {0.01, 0.04, 0.03, 0.005, NAN, 0.2, 0.04, 0.9};
    const double r_bh[] = {0.035000000000000003,
                           0.055999999999999994,
                           0.055999999999999994,
                           0.035000000000000003,
                           NAN,
                           0.233333333333333365,
                           0.055999999999999994,
                           0.900000000000000022};
    const double r_holm[] = {0.059999999999999998,
                             0.160000000000000003,
                             0.149999999999999994,
                             0.035000000000000003,
                             NAN,
                             0.400000000000000022,
                             0.160000000000000003,
                             0.900000000000000022};
    double a[8], h[8];
    assert_int_equal(cl_stats_bh(p, 1, 8, a, NULL), CL_OK);
    assert_int_equal(cl_stats_holm(p, 1, 8, h, NULL), CL_OK);
    for (int i = 0; i < 8; i++) {
        if (isnan(r_bh[i])) {
            assert_true(isnan(a[i]) && isnan(h[i]));
            continue;
        }
        assert_near(a[i], r_bh[i], 1e-15);
        assert_near(h[i], r_holm[i], 1e-15);
    }
    assert_int_equal(cl_stats_bh(p, 1, 0, a, NULL), CL_OK); /* an empty family */
}

/* The blocked ANOVA against R 4.2, on an unbalanced design (replicated and
 * empty cells, a block with a value in one group only, which carries no
 * information on the groups but counts in the residual df):
 *   d <- data.frame(
 *     subject = factor(c("s1","s1","s1","s1","s2","s2","s2","s3","s3","s4","s5","s5","s5")),
 *     group   = factor(c("g1","g1","g2","g3","g1","g2","g2","g1","g3","g2","g1","g2","g3")),
 *     y       = c(5.1, 4.9, 6.0, 7.2, 3.9, 5.5, 5.7, 4.4, 6.1, 5.0, 6.3, 7.1, 8.0))
 *   a <- anova(lm(y ~ subject + group, data = d))
 *   a[["Sum Sq"]]   8.33858974358973803 7.72091888466412257 0.41741444866920163
 *   a$Df            4 2 6
 *   a[["F value"]]  29.965145325616238 55.491027509564496
 *   a[["Pr(>F)"]]   0.00041786159479848846 0.00013492611391233679
 * and a complete design with one value per cell, where it is also
 * summary(aov(y ~ group + Error(subject), data = b)):
 *   b <- data.frame(subject = factor(rep(1:4, each = 3)),
 *                   group = factor(rep(c("a","b","c"), 4)),
 *                   y = c(10.2, 11.9, 12.5, 9.1, 10.0, 11.8, 11.5, 11.7, 13.9,
 *                         8.8, 10.4, 10.1))
 *   Sum Sq 12.4891666666666659 9.4616666666666625 2.1583333333333363
 *   F 13.151351351351327, p 0.0064082164126903545 */
static void block_anova(void **state)
{
    (void)state;
    const double y[] = {5.1, 4.9, 6.0, 7.2, 3.9, 5.5, 5.7, NAN, 4.4, 6.1, 5.0, 6.3, 7.1, 8.0};
    const size_t g[] = {0, 0, 1, 2, 0, 1, 1, 2, 0, 2, 1, 0, 1, 2};
    const size_t b[] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4, 4, 4};
    cl_stats_blocked r;
    assert_int_equal(cl_stats_block_anova(y, 1, g, b, 14, 3, 5, &r, NULL), CL_OK);
    assert_int_equal(r.n, 13);
    assert_int_equal(r.blocks, 5);
    assert_near(r.ss_block, 8.33858974358973803, 1e-12);
    assert_near(r.ss_group, 7.72091888466412257, 1e-12);
    assert_near(r.ss_resid, 0.41741444866920163, 1e-12);
    assert_rel(r.df_group, 2);
    assert_rel(r.df_resid, 6);
    assert_near(r.f, 55.491027509564496, 1e-10);
    assert_near(r.p, 0.00013492611391233679, 1e-15);

    const double z[] = {10.2, 11.9, 12.5, 9.1, 10.0, 11.8, 11.5, 11.7, 13.9, 8.8, 10.4, 10.1};
    const size_t zg[] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
    const size_t zb[] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3};
    assert_int_equal(cl_stats_block_anova(z, 1, zg, zb, 12, 3, 4, &r, NULL), CL_OK);
    assert_near(r.ss_block, 12.4891666666666659, 1e-12);
    assert_near(r.ss_group, 9.4616666666666625, 1e-12);
    assert_near(r.ss_resid, 2.1583333333333363, 1e-12);
    assert_near(r.f, 13.151351351351327, 1e-10);
    assert_near(r.p, 0.0064082164126903545, 1e-15);

    /* Two groups that no block links (s1 and s2 in g1 only, s3 in g2
     * only): nothing to test. */
    const double u[] = {1, 2, 3, 4, 5};
    const size_t ug[] = {0, 0, 0, 1, 1}, ub[] = {0, 0, 1, 2, 2};
    cl_error err;
    assert_int_equal(cl_stats_block_anova(u, 1, ug, ub, 5, 2, 3, &r, &err), CL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "no block has values in two groups"));
    const size_t bad[] = {0, 0, 0, 1, 2};
    assert_int_equal(cl_stats_block_anova(u, 1, bad, ub, 5, 2, 3, &r, &err), CL_ERR_ARG);
    /* Linked but nothing left for the residual. */
    const size_t sg[] = {0, 1}, sb[] = {0, 0};
    assert_int_equal(cl_stats_block_anova(u, 1, sg, sb, 2, 2, 1, &r, &err), CL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "no residual degrees of freedom"));
}

/* Friedman's test against R 4.2, with ties within blocks and a block tied
 * throughout:
 *   m <- matrix(c(1,2,2, 3,1,2, 2,2,2, 1,3,5, 4,5,6), ncol = 3, byrow = TRUE)
 *   friedman.test(m)   chi2 2.7999999999999998, p 0.24659696394160649
 * and without ties, as friedman.test(y ~ group | subject, data = b) on the
 * complete design of block_anova: chi2 6.5, p 0.038774207831722009. */
static void friedman(void **state)
{
    (void)state;
    const double m[5][4] = {
        {1, 2, 2, NAN}, {3, 1, 2, NAN}, {2, 2, 2, NAN}, {1, 3, 5, NAN}, {4, 5, 6, NAN}};
    cl_stats_friedman r;
    assert_int_equal(cl_stats_friedman_test(&m[0][0], 5, 3, 4, &r, NULL), CL_OK);
    assert_near(r.chi2, 2.7999999999999998, 1e-12);
    assert_rel(r.df, 2);
    assert_near(r.p, 0.24659696394160649, 1e-15);
    assert_near(r.w, 2.8 / 10, 1e-12);
    const double b[4][3] = {
        {10.2, 11.9, 12.5}, {9.1, 10.0, 11.8}, {11.5, 11.7, 13.9}, {8.8, 10.4, 10.1}};
    assert_int_equal(cl_stats_friedman_test(&b[0][0], 4, 3, 3, &r, NULL), CL_OK);
    assert_near(r.chi2, 6.5, 1e-12);
    assert_near(r.p, 0.038774207831722009, 1e-15);

    cl_error err;
    const double flat[2][2] = {{1, 1}, {3, 3}};
    assert_int_equal(cl_stats_friedman_test(&flat[0][0], 2, 2, 2, &r, &err), CL_ERR_RANGE);
    assert_int_equal(cl_stats_friedman_test(&flat[0][0], 1, 2, 2, &r, &err), CL_ERR_ARG);
    assert_int_equal(cl_stats_friedman_test(&m[0][0], 5, 4, 4, &r, &err), CL_ERR_ARG); /* NaN */
}

/* Subjects as blocks on simulated data: 10 subjects in each of 3 groups,
 * subject SD 40 over a residual SD of 10.  Under the null both blocked
 * tests reject at about 5 % (2,000 data sets; Friedman's chi-square
 * approximation is a little conservative with 10 blocks); with group 3
 * shifted by 1.5 residual SDs the blocked ANOVA finds it (power about 0.9
 * by the noncentral F, lambda = 15; seen 1785 of 2000) where Welch's ANOVA
 * on the same values, whose error holds the subjects' spread, does not
 * (seen 4: the groups share their subjects, so their means move together
 * and the one-way test is conservative besides). */
static void blocked_rates(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(rng);
    enum { RUNS = 2000, B = 10, K = 3 };
    size_t hit[2][3] = {{0}}; /* null, shifted x block ANOVA, Friedman, Welch */
    double y[B][K], col[K][B];
    size_t g[B * K], b[B * K];
    for (size_t i = 0; i < B * K; i++) {
        b[i] = i / K;
        g[i] = i % K;
    }
    for (int shift = 0; shift < 2; shift++)
        for (int run = 0; run < RUNS; run++) {
            gsl_rng_set(rng, 5000 + (unsigned long)run);
            for (int i = 0; i < B; i++) {
                double subj = 40 * gsl_ran_gaussian(rng, 1);
                for (int j = 0; j < K; j++)
                    col[j][i] = y[i][j] =
                        300 + subj + 10 * gsl_ran_gaussian(rng, 1) + (shift && j == 2 ? 15 : 0);
            }
            cl_stats_blocked ba;
            cl_stats_friedman fr;
            cl_stats_anova a;
            cl_stats_sample smp[] = {sample(col[0], B), sample(col[1], B), sample(col[2], B)};
            assert_int_equal(cl_stats_block_anova(&y[0][0], 1, g, b, B * K, K, B, &ba, NULL),
                             CL_OK);
            assert_int_equal(cl_stats_friedman_test(&y[0][0], B, K, K, &fr, NULL), CL_OK);
            assert_int_equal(cl_stats_welch_anova(smp, K, &a, NULL), CL_OK);
            hit[shift][0] += ba.p < 0.05;
            hit[shift][1] += fr.p < 0.05;
            hit[shift][2] += a.p < 0.05;
        }
    gsl_rng_free(rng);
    print_message("blocked, p < 0.05 of %d: null ANOVA %zu, Friedman %zu; shifted ANOVA %zu, "
                  "Friedman %zu, Welch %zu\n",
                  RUNS, hit[0][0], hit[0][1], hit[1][0], hit[1][1], hit[1][2]);
    assert_in_range(hit[0][0], 70, 130);
    assert_in_range(hit[0][1], 50, 130);
    assert_true(hit[1][0] > RUNS * 8 / 10);
    assert_true(hit[1][2] < RUNS * 3 / 10);
}

/* Fraction of p < 0.05 over `runs` simulated null data sets. */
static void null_rates(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(rng);
    enum { RUNS = 2000, N = 10 };
    size_t hit_t = 0, hit_w = 0, hit_k = 0, hit_b = 0;
    double x[3][N];
    for (int run = 0; run < RUNS; run++) {
        gsl_rng_set(rng, 1000 + (unsigned long)run);
        for (int g = 0; g < 3; g++)
            for (int i = 0; i < N; i++)
                x[g][i] = 300 + 20 * gsl_ran_gaussian(rng, 1);
        cl_stats_sample s[] = {sample(x[0], N), sample(x[1], N), sample(x[2], N)};
        cl_stats_ttest t;
        cl_stats_anova a;
        cl_stats_kruskal k;
        double f, d1, d2, p;
        assert_int_equal(cl_stats_welch_t(&s[0], &s[1], &t, NULL), CL_OK);
        assert_int_equal(cl_stats_welch_anova(s, 3, &a, NULL), CL_OK);
        assert_int_equal(cl_stats_kruskal_wallis(s, 3, &k, NULL), CL_OK);
        assert_int_equal(cl_stats_brown_forsythe(s, 3, &f, &d1, &d2, &p, NULL), CL_OK);
        hit_t += t.p < 0.05;
        hit_w += a.p < 0.05;
        hit_k += k.p < 0.05;
        hit_b += p < 0.05;
    }
    gsl_rng_free(rng);
    /* Binomial(2000, 0.05): SD 0.49 %; 3.5..6.5 % is three SDs.
     * Kruskal-Wallis' chi-square approximation is a little conservative
     * at n = 10 (2.5..6.5 %). */
    print_message("null p < 0.05: Welch t %zu, Welch ANOVA %zu, KW %zu, BF %zu of %d\n", hit_t,
                  hit_w, hit_k, hit_b, RUNS);
    assert_in_range(hit_t, 70, 130);
    assert_in_range(hit_w, 70, 130);
    assert_in_range(hit_k, 50, 130);
    assert_in_range(hit_b, 50, 130);
}

/* The tests detect a real difference: a shift of one SD at n = 10 is found
 * most of the time (power about 0.56 for Welch t at alpha 0.05). */
static void power(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(rng);
    enum { RUNS = 500, N = 10 };
    size_t hit = 0;
    double x[2][N];
    for (int run = 0; run < RUNS; run++) {
        gsl_rng_set(rng, 5000 + (unsigned long)run);
        for (int i = 0; i < N; i++) {
            x[0][i] = gsl_ran_gaussian(rng, 1);
            x[1][i] = 1 + gsl_ran_gaussian(rng, 1);
        }
        cl_stats_sample a = sample(x[0], N), b = sample(x[1], N);
        cl_stats_ttest t;
        assert_int_equal(cl_stats_welch_t(&a, &b, &t, NULL), CL_OK);
        hit += t.p < 0.05;
    }
    gsl_rng_free(rng);
    assert_in_range(hit, 230, 330);
}

static void errors(void **state)
{
    (void)state;
    const double one[] = {5}, two[] = {1, 2}, same[] = {4, 4, 4}, nan2[] = {NAN, 3};
    cl_stats_sample s1 = sample(one, 1), s2 = sample(two, 2), s3 = sample(same, 3),
                    sn = sample(nan2, 2);
    cl_stats_ttest t;
    cl_stats_anova a;
    cl_stats_kruskal k;
    cl_stats_icc icc;
    cl_error err;
    double f, d1, d2, p;

    assert_int_equal(cl_stats_welch_t(&s2, &s1, &t, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "group 2 has 1 value, at least 2 needed"));
    /* A NaN does not count as a value. */
    assert_int_equal(cl_stats_welch_t(&sn, &s2, &t, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "group 1 has 1 value"));
    cl_stats_sample same2 = sample(same, 2);
    assert_int_equal(cl_stats_welch_t(&s3, &same2, &t, &err), CL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "no variance"));

    cl_stats_sample g[] = {s2, s3};
    assert_int_equal(cl_stats_welch_anova(g, 2, &a, &err), CL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "group 2 has no variance"));
    cl_stats_sample h[] = {s2, s1};
    assert_int_equal(cl_stats_welch_anova(h, 2, &a, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "group 2 has 1 value"));
    assert_int_equal(cl_stats_welch_anova(h, 1, &a, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "1 group, at least 2 needed"));
    /* Kruskal-Wallis takes single values, but not all-equal data. */
    assert_int_equal(cl_stats_kruskal_wallis(h, 2, &k, &err), CL_OK);
    cl_stats_sample e[] = {s3, sample(same, 1)};
    assert_int_equal(cl_stats_kruskal_wallis(e, 2, &k, &err), CL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "all 4 values are equal"));
    assert_int_equal(cl_stats_brown_forsythe(h, 2, &f, &d1, &d2, &p, &err), CL_ERR_ARG);
    assert_true(isnan(f) && isnan(p));

    const double y[2][2] = {{1, NAN}, {2, 3}};
    assert_int_equal(cl_stats_icc21(&y[0][0], 2, 2, 2, &icc, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "target 1, rater 2 is missing"));
    assert_int_equal(cl_stats_icc21(&y[0][0], 1, 2, 2, &icc, &err), CL_ERR_ARG);
    const double flat[2][2] = {{3, 3}, {3, 3}};
    assert_int_equal(cl_stats_icc21(&flat[0][0], 2, 2, 2, &icc, &err), CL_ERR_RANGE);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(describe),      cmocka_unit_test(welch_t),
        cmocka_unit_test(holm),          cmocka_unit_test(bh),
        cmocka_unit_test(block_anova),   cmocka_unit_test(friedman),
        cmocka_unit_test(blocked_rates), cmocka_unit_test(welch_anova),
        cmocka_unit_test(kruskal),       cmocka_unit_test(brown_forsythe),
        cmocka_unit_test(icc),           cmocka_unit_test(null_rates),
        cmocka_unit_test(power),         cmocka_unit_test(errors),
        cmocka_unit_test(noncentral),    cmocka_unit_test(effect_cis),
        cmocka_unit_test(ci_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
