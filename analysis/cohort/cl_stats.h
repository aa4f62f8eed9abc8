/*
 * cl_stats: the statistics of a cohort comparison, pure numerics on arrays
 * of doubles in the GSL style (x[i*stride], i < n).  p-values come from
 * GSL's distributions (gsl_cdf_fdist_Q, gsl_cdf_chisq_Q, gsl_cdf_tdist_Q);
 * quantiles are GSL's (linear interpolation between order statistics, the
 * same as R's type 7 and numpy's default).
 *
 * Missing values: non-finite values (NaN, inf) are left out everywhere;
 * every result says how many values were used.  Nothing here prints;
 * errors are CL_ERR_ARG (too few values, with a message saying how many
 * were found and how many are needed), CL_ERR_RANGE (no variance where a
 * variance divides), CL_ERR_NUMERIC (a GSL function failed) and
 * CL_ERR_NOMEM.  Group numbers in messages count from 1.
 *
 * Confidence intervals are two-sided at CL_STATS_LEVEL (95 %).
 */
#ifndef CL_STATS_H
#define CL_STATS_H

#include <stddef.h>

#include "cl_error.h"

#define CL_STATS_LEVEL 0.95

/* One sample: x[i*stride], i < n (non-finite values are left out). */
typedef struct cl_stats_sample {
    const double *x;
    size_t stride, n;
} cl_stats_sample;

/* ---------------------------------------------------------- description */

typedef struct cl_stats_desc {
    size_t n;        /* finite values used */
    double mean, sd; /* sd with n - 1 in the denominator (NaN for n < 2) */
    double cv;       /* sd / |mean| (a ratio, not %); NaN for n < 2 or mean 0 */
    double se;       /* sd / sqrt(n) */
    double median, q1, q3, iqr, min, max;
} cl_stats_desc;

/* Describe one sample.  n = 0 gives every number NaN (not an error). */
int cl_stats_describe(const double *x, size_t stride, size_t n, cl_stats_desc *out,
                      cl_error *err);

/* Mean and the half-width of its confidence interval at CL_STATS_LEVEL
 * (Student t with n - 1 degrees of freedom); half-width NaN for n < 2. */
int cl_stats_mean_ci(const double *x, size_t stride, size_t n, double *mean, double *half,
                     cl_error *err);

/* ------------------------------------------------------- two groups */

/* Welch's t-test of a against b (unequal variances), with effect sizes. */
typedef struct cl_stats_ttest {
    size_t n1, n2;
    double mean1, mean2, sd1, sd2;
    double diff;         /* mean1 - mean2 */
    double se;           /* sqrt(s1^2/n1 + s2^2/n2) */
    double t, df;        /* df: Welch-Satterthwaite */
    double p;            /* two-sided, 2 * gsl_cdf_tdist_Q(|t|, df) */
    double ci_lo, ci_hi; /* confidence interval of diff (Welch) */
    double cohen_d;      /* diff / pooled SD, pooled SD with n1 + n2 - 2 df */
    double hedges_g;     /* cohen_d times the exact small-sample correction
                            J = G(m/2) / (sqrt(m/2) G((m-1)/2)), m = n1 + n2 - 2 */
    double g_se;         /* approximate SE of g:
                            sqrt((n1+n2)/(n1 n2) + g^2 / (2 (n1+n2))) */
    double g_lo, g_hi;   /* confidence interval of the population
                            standardised difference that g estimates: the
                            noncentral-t interval (cl_stats_nct_ci) of the
                            pooled t = d / sqrt(1/n1 + 1/n2) with n1 + n2 - 2
                            df, times sqrt(1/n1 + 1/n2) (exact for normal
                            groups of equal variance; not multiplied by J);
                            NaN with g, and where the interval is out of
                            cl_stats_nct_ci's reach (CL_ERR_RANGE) */
} cl_stats_ttest;

/* Needs at least 2 values per group and a non-zero variance in at least
 * one of them (CL_ERR_RANGE otherwise); cohen_d, hedges_g and its interval
 * are NaN when the pooled SD is 0. */
int cl_stats_welch_t(const cl_stats_sample *a, const cl_stats_sample *b, cl_stats_ttest *out,
                     cl_error *err);

/* Holm's step-down adjustment of m p-values p[i*stride]: sorted ascending,
 * p_(j) becomes max over i <= j of min(1, (m - i + 1) p_(i)).  adj[i]
 * (contiguous, n entries; may not alias p) receives the adjusted value of
 * p[i*stride]; non-finite p-values are not counted in m and stay NaN. */
int cl_stats_holm(const double *p, size_t stride, size_t n, double *adj, cl_error *err);

/* Benjamini-Hochberg step-up adjustment (false discovery rate) of m
 * p-values, as R's p.adjust(p, "BH"): sorted ascending, p_(j) becomes
 * min over i >= j of min(1, m p_(i) / i).  Arguments and missing values as
 * cl_stats_holm. */
int cl_stats_bh(const double *p, size_t stride, size_t n, double *adj, cl_error *err);

/* --------------------------------------------- noncentral distributions */

/* The noncentral F and t distributions as Poisson mixtures of GSL's
 * regularised incomplete beta function I_x(a, b) (gsl_sf_beta_inc_e):
 *   F  P(F <= f; d1, d2, lambda) = sum_j w_j(lambda / 2) I_x(d1/2 + j, d2/2),
 *      x = d1 f / (d1 f + d2), w_j(m) = e^-m m^j / j!
 *   t  (Lenth 1989, AS 243) for t >= 0, x = t^2 / (t^2 + nu), m = delta^2 / 2:
 *      P(T <= t; nu, delta) = Phi(-delta) + 1/2 sum_j [w_j(m) I_x(j + 1/2, nu/2)
 *                             + delta e^-m m^j / (sqrt 2 G(j + 3/2)) I_x(j + 1, nu/2)],
 *      and 1 - P(T <= -t; nu, -delta) for t < 0
 * The sums run over the j within 12 sqrt(m) + 30 of m, where the Poisson
 * weights are not negligible.  R's pf(f, d1, d2, ncp = lambda) and
 * pt(t, nu, ncp = delta).  CL_ERR_NUMERIC when GSL fails, CL_ERR_RANGE for
 * a noncentrality (lambda, delta^2) above CL_STATS_NONCENTRALITY_MAX, whose
 * sum would take too many terms. */
#define CL_STATS_NONCENTRALITY_MAX 2e6
int cl_stats_ncf_cdf(double f, double d1, double d2, double lambda, double *p, cl_error *err);
int cl_stats_nct_cdf(double t, double nu, double delta, double *p, cl_error *err);

/* The confidence interval at CL_STATS_LEVEL of the noncentrality of an
 * observed F (d1, d2 df) or t (nu df), by inverting the CDF in the
 * noncentrality with GSL's Brent solver: lo with P(<= observed; lo) =
 * 1 - alpha/2 and hi with P = alpha/2.  For F the bounds are clipped at 0
 * (a bound whose equation has no root at lambda >= 0 is 0).  Errors: those
 * of the CDFs (CL_ERR_RANGE: the bound lies beyond the noncentrality they
 * sum). */
int cl_stats_ncf_ci(double f, double d1, double d2, double *lo, double *hi, cl_error *err);
int cl_stats_nct_ci(double t, double nu, double *lo, double *hi, cl_error *err);

/* ----------------------------------------------------------- k groups */

/* Welch's one-way ANOVA (unequal variances) with the ordinary one-way
 * ANOVA's sums of squares and effect sizes beside it.
 *   w_i = n_i / s_i^2, W = sum w_i, m = sum w_i xbar_i / W
 *   A = sum w_i (xbar_i - m)^2 / (k - 1)
 *   L = sum (1 - w_i/W)^2 / (n_i - 1)
 *   F = A / (1 + 2 (k - 2) L / (k^2 - 1)),  df1 = k - 1,  df2 = (k^2 - 1) / (3 L)
 *   p = gsl_cdf_fdist_Q(F, df1, df2)
 *   eta2 = SS_between / SS_total
 *   omega2 = (SS_between - (k - 1) MS_within) / (SS_total + MS_within)
 * and the confidence interval of omega2 (Steiger 2004): the noncentrality
 * interval [lambda_lo, lambda_hi] of the ordinary F with (k - 1, n - k) df
 * (cl_stats_ncf_ci), each bound as omega2 = lambda / (lambda + n).
 */
typedef struct cl_stats_anova {
    size_t k, n;                                        /* groups, values */
    double f, df1, df2, p;                              /* Welch */
    double ss_between, ss_within, f_classic, p_classic; /* ordinary ANOVA */
    double eta2, omega2;
    double omega2_lo, omega2_hi; /* NaN where f_classic is, and where the
                                    interval is out of cl_stats_ncf_ci's
                                    reach (CL_ERR_RANGE) */
} cl_stats_anova;

/* Needs k >= 2 groups, each with at least 2 values and a non-zero
 * variance (CL_ERR_ARG / CL_ERR_RANGE naming the group). */
int cl_stats_welch_anova(const cl_stats_sample *g, size_t k, cl_stats_anova *out,
                         cl_error *err);

/* Kruskal-Wallis H test with mid-ranks for ties and the tie correction
 * H = [12 / (N (N+1)) sum R_i^2 / n_i - 3 (N+1)] / [1 - sum(t^3 - t) / (N^3 - N)],
 * p = gsl_cdf_chisq_Q(H, k - 1); effect size epsilon2 = H / (N - 1)
 * (Tomczak & Tomczak 2014: H (N+1) / (N^2 - 1)). */
typedef struct cl_stats_kruskal {
    size_t k, n;
    double h, df, p, epsilon2;
} cl_stats_kruskal;

/* Needs k >= 2 groups with at least one value each and not all values
 * equal (CL_ERR_RANGE). */
int cl_stats_kruskal_wallis(const cl_stats_sample *g, size_t k, cl_stats_kruskal *out,
                            cl_error *err);

/* Brown-Forsythe test for equal spread: the ordinary one-way ANOVA of the
 * absolute deviations from each group's median (scipy's levene with
 * center='median').  Needs k >= 2 groups with at least 2 values each and
 * some spread within the groups. */
int cl_stats_brown_forsythe(const cl_stats_sample *g, size_t k, double *f, double *df1,
                            double *df2, double *p, cl_error *err);

/* --------------------------------------------------- blocked designs */

/* Two-way additive ANOVA of k groups in blocks (subjects), the fixed-effects
 * model y = block + group + error fitted by least squares, the group effect
 * tested after the blocks: R's anova(lm(y ~ block + group)) (sequential sums
 * of squares, the blocks entered first; for the group term of this additive
 * model that is also its type II sum of squares).  Any pattern of cells is
 * accepted (unbalanced, replicated, empty cells).  With r_j the values of
 * group j, n_b those of block b, n_bj those of the cell, T_j the group
 * totals and ybar_b the block means:
 *   C[j][j'] = r_j [j = j'] - sum_b n_bj n_bj' / n_b   (k x k)
 *   Q_j = T_j - sum_b n_bj ybar_b
 *   SS_group = Q' C^+ Q (C^+ the pseudo-inverse), df_group = rank C
 *   SS_block = sum_b n_b (ybar_b - ybar)^2, df_block = blocks - 1
 *   SS_resid = sum (y - ybar_b)^2 - SS_group, df_resid = n - blocks - rank C
 *   F = (SS_group / df_group) / (SS_resid / df_resid),
 *   p = gsl_cdf_fdist_Q(F, df_group, df_resid)
 * rank C counts the groups the blocks connect, less one: k - 1 when every
 * group is linked to every other through blocks having values in both. */
typedef struct cl_stats_blocked {
    size_t n, k, blocks; /* values, groups and blocks with a value */
    double ss_block, ss_group, ss_resid;
    double df_group, df_resid;
    double f, p;
} cl_stats_blocked;

/* Value i is y[i*stride] of group group[i] < k in block block[i] < nb
 * (non-finite values left out).  CL_ERR_ARG for an index out of range;
 * CL_ERR_RANGE when no block has values in two groups (df_group 0), when
 * no degree of freedom is left for the residual, or when the residual is 0. */
int cl_stats_block_anova(const double *y, size_t stride, const size_t *group,
                         const size_t *block, size_t n, size_t k, size_t nb,
                         cl_stats_blocked *out, cl_error *err);

/* Friedman's test of k groups in n complete blocks, R's friedman.test:
 * values ranked within each block (mid-ranks for ties), R_j the rank sums
 *   chi2 = 12 sum_j (R_j - n (k+1)/2)^2 / (n k (k+1) - sum(t^3 - t) / (k-1))
 * (t: the sizes of the ties within the blocks), p = gsl_cdf_chisq_Q(chi2,
 * k - 1); Kendall's W = chi2 / (n (k - 1)). */
typedef struct cl_stats_friedman {
    size_t n, k; /* blocks, groups */
    double chi2, df, p, w;
} cl_stats_friedman;

/* y[i*ld + j]: block i < n, group j < k (ld >= k).  Every value must be
 * finite (CL_ERR_ARG); n >= 2 and k >= 2; CL_ERR_RANGE when every block is
 * tied throughout. */
int cl_stats_friedman_test(const double *y, size_t n, size_t k, size_t ld,
                           cl_stats_friedman *out, cl_error *err);

/* -------------------------------------------------------- agreement */

/* Intraclass correlation ICC(2,1) (Shrout & Fleiss 1979; McGraw & Wong's
 * ICC(A,1)): two-way random effects, absolute agreement, single measurement,
 * of a complete matrix of n targets (rows) by k raters (columns):
 *   ICC = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)
 * Confidence interval at CL_STATS_LEVEL (McGraw & Wong 1996, case 2A), with
 * a = k ICC / (n (1 - ICC)), b = 1 + k ICC (n-1) / (n (1 - ICC)),
 * v = (a MSC + b MSE)^2 / ((a MSC)^2 / (k-1) + (b MSE)^2 / ((n-1)(k-1))),
 * Fu = F quantile 1-alpha/2 (n-1, v), Fl = F quantile 1-alpha/2 (v, n-1):
 *   lo = n (MSR - Fu MSE) / (Fu (k MSC + (kn - k - n) MSE) + n MSR)
 *   hi = n (Fl MSR - MSE) / (k MSC + (kn - k - n) MSE + n Fl MSR)
 * f = MSR / MSE tests ICC = 0 with (n-1, (n-1)(k-1)) df.
 * sem = sqrt((MSC - MSE) / n + MSE) (raters' and residual variance: the
 * measurement error of one rating under absolute agreement; not clipped:
 * equal to MSC/n + MSE (n-1)/n, never negative, below sqrt(MSE) when
 * MSC < MSE).
 * cv_within: root mean square over the targets of each target's CV across
 * the raters (SD / |mean|), the within-subject CV. */
typedef struct cl_stats_icc {
    size_t n, k;          /* targets, raters */
    double msr, msc, mse; /* mean squares: rows, columns, residual */
    double icc, lo, hi;
    double f, df1, df2, p;
    double sem, cv_within;
} cl_stats_icc;

/* y[i*ld + j]: target i < n, rater j < k (ld >= k).  Every value must be
 * finite (CL_ERR_ARG); n >= 2 and k >= 2; CL_ERR_RANGE when all values are
 * equal.  The interval is NaN where it is undefined (ICC = 1). */
int cl_stats_icc21(const double *y, size_t n, size_t k, size_t ld, cl_stats_icc *out,
                   cl_error *err);

#endif
