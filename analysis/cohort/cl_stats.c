/*
 * cl_stats: descriptive statistics, Welch's t and ANOVA, Kruskal-Wallis,
 * Brown-Forsythe, Holm's and Benjamini-Hochberg's adjustments, the blocked
 * ANOVA and Friedman's test, ICC(2,1) (formulas in cl_stats.h).
 *
 * Every function first copies the finite values it is given into a scratch
 * buffer (one allocation, groups back to back), so the formulas below work
 * on plain contiguous arrays and never see a NaN.  Sums run in input order
 * in double precision; for cohort-sized data (tens to thousands of values)
 * that agrees with scipy to about 1e-12 relative.
 */
#include "cohort/cl_stats.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Finite values of k groups, back to back: group i is v[off[i] .. off[i]+n[i]). */
typedef struct pool {
    double *v;
    size_t *off, *n;
    size_t k, total;
} pool;

static void pool_free(pool *p)
{
    free(p->v);
    free(p->off);
    free(p->n);
    memset(p, 0, sizeof *p);
}

static int pool_fill(pool *p, const cl_stats_sample *g, size_t k, cl_error *err)
{
    size_t cap = 0;
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < k; i++)
        cap += g[i].n;
    p->v = malloc((cap ? cap : 1) * sizeof *p->v);
    p->off = malloc((k ? k : 1) * sizeof *p->off);
    p->n = malloc((k ? k : 1) * sizeof *p->n);
    if (!p->v || !p->off || !p->n) {
        pool_free(p);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    p->k = k;
    for (size_t i = 0; i < k; i++) {
        p->off[i] = p->total;
        for (size_t j = 0; j < g[i].n; j++) {
            double x = g[i].x[j * g[i].stride];
            if (isfinite(x))
                p->v[p->total++] = x;
        }
        p->n[i] = p->total - p->off[i];
    }
    return CL_OK;
}

static const double *grp(const pool *p, size_t i)
{
    return p->v + p->off[i];
}

/* A p-value or quantile from GSL: finite, or CL_ERR_NUMERIC. */
static int check_num(double v, const char *what, cl_error *err)
{
    if (!isfinite(v))
        return cl_error_set(err, CL_ERR_NUMERIC, "%s: GSL returned no finite value", what);
    return CL_OK;
}

/* Upper quantile of Student's t: the value exceeded with probability q. */
static double t_upper(double q, double df)
{
    return gsl_cdf_tdist_Qinv(q, df);
}

int cl_stats_describe(const double *x, size_t stride, size_t n, cl_stats_desc *out,
                      cl_error *err)
{
    cl_stats_sample s = {x, stride, n};
    pool p;
    int rc = pool_fill(&p, &s, 1, err);
    *out = (cl_stats_desc){.n = 0,
                           .mean = NAN,
                           .sd = NAN,
                           .cv = NAN,
                           .se = NAN,
                           .median = NAN,
                           .q1 = NAN,
                           .q3 = NAN,
                           .iqr = NAN,
                           .min = NAN,
                           .max = NAN};
    if (rc != CL_OK)
        return rc;
    size_t m = p.total;
    out->n = m;
    if (m > 0) {
        gsl_sort(p.v, 1, m);
        out->mean = gsl_stats_mean(p.v, 1, m);
        out->median = gsl_stats_median_from_sorted_data(p.v, 1, m);
        out->q1 = gsl_stats_quantile_from_sorted_data(p.v, 1, m, 0.25);
        out->q3 = gsl_stats_quantile_from_sorted_data(p.v, 1, m, 0.75);
        out->iqr = out->q3 - out->q1;
        out->min = p.v[0];
        out->max = p.v[m - 1];
    }
    if (m > 1) {
        out->sd = gsl_stats_sd_m(p.v, 1, m, out->mean);
        out->se = out->sd / sqrt((double)m);
        out->cv = out->mean != 0 ? out->sd / fabs(out->mean) : NAN;
    }
    pool_free(&p);
    return CL_OK;
}

int cl_stats_mean_ci(const double *x, size_t stride, size_t n, double *mean, double *half,
                     cl_error *err)
{
    double sum = 0, ss = 0;
    size_t m = 0;
    *mean = *half = NAN;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (isfinite(v)) {
            sum += v;
            m++;
        }
    }
    if (m == 0)
        return CL_OK;
    *mean = sum / (double)m;
    if (m < 2)
        return CL_OK;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (isfinite(v))
            ss += (v - *mean) * (v - *mean);
    }
    double tq = t_upper((1 - CL_STATS_LEVEL) / 2, (double)(m - 1));
    if (check_num(tq, "t quantile", err) != CL_OK)
        return CL_ERR_NUMERIC;
    *half = tq * sqrt(ss / (double)(m - 1) / (double)m);
    return CL_OK;
}

/* ----------------------------------------------- noncentral distributions */

/* The j of the Poisson mixture with mean m whose weights count;
 * CL_ERR_RANGE beyond CL_STATS_NONCENTRALITY_MAX / 2. */
static int mixture_range(double m, double *j0, double *j1, cl_error *err)
{
    if (m > CL_STATS_NONCENTRALITY_MAX / 2)
        return cl_error_set(err, CL_ERR_RANGE, "noncentrality %g: beyond %g", 2 * m,
                            CL_STATS_NONCENTRALITY_MAX);
    double w = 12 * sqrt(m) + 30;
    *j0 = fmax(0, floor(m - w));
    *j1 = ceil(m + w);
    return CL_OK;
}

/* I_x(a, b) into *v (0 where it underflows), or CL_ERR_NUMERIC. */
static int beta_inc(double a, double b, double x, double *v, cl_error *err)
{
    gsl_sf_result r;
    if (x <= 0) {
        *v = 0;
        return CL_OK;
    }
    if (x >= 1) {
        *v = 1;
        return CL_OK;
    }
    int status = gsl_sf_beta_inc_e(a, b, x, &r);
    if (status == GSL_EUNDRFLW) { /* below the smallest double: nothing to add */
        *v = 0;
        return CL_OK;
    }
    if (status != GSL_SUCCESS)
        return cl_error_set(err, CL_ERR_NUMERIC,
                            "incomplete beta I_%g(%g, %g): GSL failed", x, a, b);
    *v = r.val;
    return CL_OK;
}

int cl_stats_ncf_cdf(double f, double d1, double d2, double lambda, double *p, cl_error *err)
{
    *p = NAN;
    if (!(d1 > 0) || !(d2 > 0) || !(lambda >= 0) || isnan(f))
        return cl_error_set(err, CL_ERR_ARG, "noncentral F: d1 %g, d2 %g, lambda %g", d1, d2,
                            lambda);
    if (f <= 0) {
        *p = 0;
        return CL_OK;
    }
    double x = d1 * f / (d1 * f + d2), m = lambda / 2, j0, j1, sum = 0;
    int rc = mixture_range(m, &j0, &j1, err);
    if (rc != CL_OK)
        return rc;
    for (double j = j0; j <= j1; j++) {
        double w = m > 0 ? exp(-m + j * log(m) - gsl_sf_lngamma(j + 1)) : (j == 0), v;
        if (w == 0)
            continue;
        if ((rc = beta_inc(d1 / 2 + j, d2 / 2, x, &v, err)) != CL_OK)
            return rc;
        sum += w * v;
    }
    *p = fmin(1, fmax(0, sum));
    return CL_OK;
}

int cl_stats_nct_cdf(double t, double nu, double delta, double *p, cl_error *err)
{
    *p = NAN;
    if (!(nu > 0) || !isfinite(delta) || isnan(t))
        return cl_error_set(err, CL_ERR_ARG, "noncentral t: nu %g, delta %g", nu, delta);
    if (t < 0) {
        double q;
        int rc = cl_stats_nct_cdf(-t, nu, -delta, &q, err);
        if (rc == CL_OK)
            *p = fmin(1, fmax(0, 1 - q));
        return rc;
    }
    double x = t * t / (t * t + nu), m = delta * delta / 2, j0, j1;
    double sum = 0;
    int rc = mixture_range(m, &j0, &j1, err);
    if (rc != CL_OK)
        return rc;
    for (double j = j0; j <= j1; j++) {
        double lw = m > 0 ? -m + j * log(m) : 0, vp, vq;
        double wp = m > 0 ? exp(lw - gsl_sf_lngamma(j + 1)) : (j == 0);
        double wq = m > 0 ? copysign(exp(log(fabs(delta)) - M_LN2 / 2 + lw - gsl_sf_lngamma(j + 1.5)),
                                     delta)
                          : 0;
        if (wp == 0 && wq == 0)
            continue;
        rc = beta_inc(j + 0.5, nu / 2, x, &vp, err);
        if (rc == CL_OK)
            rc = beta_inc(j + 1, nu / 2, x, &vq, err);
        if (rc != CL_OK)
            return rc;
        sum += wp * vp + wq * vq;
    }
    *p = fmin(1, fmax(0, gsl_cdf_ugaussian_P(-delta) + sum / 2));
    return CL_OK;
}

/* One noncentral CDF at the observed statistic as a function of the
 * noncentrality, less the target probability (for the root solver). */
typedef struct nc_eq {
    bool t;                  /* t, else F */
    double stat, d1, d2;     /* d2 unused for t */
    double target;
    int rc;                  /* the first failure */
    cl_error *err;
} nc_eq;

static double nc_eq_value(double nc, void *arg)
{
    nc_eq *q = arg;
    double p = NAN;
    if (q->rc == CL_OK)
        q->rc = q->t ? cl_stats_nct_cdf(q->stat, q->d1, nc, &p, q->err)
                     : cl_stats_ncf_cdf(q->stat, q->d1, q->d2, nc, &p, q->err);
    return p - q->target;
}

/* The root of q in [lo, hi] (q(lo) >= 0 >= q(hi): the CDF falls with the
 * noncentrality) by Brent's method, to 1e-10 relative or absolute. */
static int nc_root(nc_eq *q, double lo, double hi, double *root)
{
    gsl_function fn = {nc_eq_value, q};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s)
        return cl_error_set(q->err, CL_ERR_NOMEM, "out of memory");
    int status = gsl_root_fsolver_set(s, &fn, lo, hi), it = 0;
    while (status == GSL_SUCCESS && q->rc == CL_OK && it++ < 200) {
        status = gsl_root_fsolver_iterate(s);
        if (status != GSL_SUCCESS)
            break;
        status = gsl_root_test_interval(gsl_root_fsolver_x_lower(s),
                                        gsl_root_fsolver_x_upper(s), 1e-10, 1e-10);
        if (status == GSL_SUCCESS)
            break;
        status = status == GSL_CONTINUE ? GSL_SUCCESS : status;
    }
    *root = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    if (q->rc != CL_OK)
        return q->rc;
    if (status != GSL_SUCCESS || it > 200)
        return cl_error_set(q->err, CL_ERR_NUMERIC,
                            "noncentrality interval: the root was not found (%s)",
                            gsl_strerror(status));
    return CL_OK;
}

/* The noncentrality at which q's CDF equals q->target, at least `floor`
 * (F: 0, where the CDF is highest: a target above it gives 0): the search
 * starts from [a, b] and widens it (doubling the width) until it brackets. */
static int nc_solve(nc_eq *q, double a, double b, double floor_nc, double *nc)
{
    double fa = nc_eq_value(a, q), fb = nc_eq_value(b, q);
    for (int i = 0; q->rc == CL_OK && i < 60 && (fa < 0 || fb > 0); i++) {
        double w = b - a;
        if (fa < 0) {
            if (a <= floor_nc) {
                *nc = floor_nc; /* below the target even at the floor */
                return CL_OK;
            }
            a = fmax(floor_nc, a - w);
            fa = nc_eq_value(a, q);
        }
        if (fb > 0) {
            b += w;
            fb = nc_eq_value(b, q);
        }
    }
    if (q->rc != CL_OK)
        return q->rc;
    if (fa < 0 || fb > 0)
        return cl_error_set(q->err, CL_ERR_NUMERIC,
                            "noncentrality interval: no bracket found for %g", q->stat);
    if (fa == 0 || fb == 0) {
        *nc = fa == 0 ? a : b;
        return CL_OK;
    }
    return nc_root(q, a, b, nc);
}

int cl_stats_ncf_ci(double f, double d1, double d2, double *lo, double *hi, cl_error *err)
{
    double alpha = 1 - CL_STATS_LEVEL;
    *lo = *hi = NAN;
    if (!isfinite(f) || !(d1 > 0) || !(d2 > 0))
        return cl_error_set(err, CL_ERR_ARG, "noncentral F interval: F %g, d1 %g, d2 %g", f,
                            d1, d2);
    nc_eq q = {false, f, d1, d2, 1 - alpha / 2, CL_OK, err};
    double guess = fmax(1, f * d1);
    int rc = nc_solve(&q, 0, guess, 0, lo);
    q.target = alpha / 2;
    return rc == CL_OK ? nc_solve(&q, 0, guess, 0, hi) : rc;
}

int cl_stats_nct_ci(double t, double nu, double *lo, double *hi, cl_error *err)
{
    double alpha = 1 - CL_STATS_LEVEL;
    *lo = *hi = NAN;
    if (!isfinite(t) || !(nu > 0))
        return cl_error_set(err, CL_ERR_ARG, "noncentral t interval: t %g, nu %g", t, nu);
    nc_eq q = {true, t, nu, NAN, 1 - alpha / 2, CL_OK, err};
    int rc = nc_solve(&q, t - 1, t + 1, -INFINITY, lo);
    q.target = alpha / 2;
    return rc == CL_OK ? nc_solve(&q, t - 1, t + 1, -INFINITY, hi) : rc;
}

/* ------------------------------------------------------------ two groups */

/* Exact small-sample correction of Cohen's d (Hedges 1981). */
static int hedges_j(double m, double *j, cl_error *err)
{
    gsl_sf_result a, b;
    if (gsl_sf_lngamma_e(m / 2, &a) != GSL_SUCCESS ||
        gsl_sf_lngamma_e((m - 1) / 2, &b) != GSL_SUCCESS)
        return cl_error_set(err, CL_ERR_NUMERIC, "Hedges' correction: log-gamma failed");
    *j = exp(a.val - b.val) / sqrt(m / 2);
    return CL_OK;
}

int cl_stats_welch_t(const cl_stats_sample *a, const cl_stats_sample *b, cl_stats_ttest *out,
                     cl_error *err)
{
    cl_stats_sample g[2] = {*a, *b};
    pool p;
    int rc = pool_fill(&p, g, 2, err);
    memset(out, 0, sizeof *out);
    if (rc != CL_OK)
        return rc;
    size_t n1 = p.n[0], n2 = p.n[1];
    out->n1 = n1;
    out->n2 = n2;
    if (n1 < 2 || n2 < 2) {
        rc = cl_error_set(err, CL_ERR_ARG,
                          "Welch t-test: group %d has %zu value%s, at least 2 needed",
                          n1 < 2 ? 1 : 2, n1 < 2 ? n1 : n2, (n1 < 2 ? n1 : n2) == 1 ? "" : "s");
        goto out;
    }
    out->mean1 = gsl_stats_mean(grp(&p, 0), 1, n1);
    out->mean2 = gsl_stats_mean(grp(&p, 1), 1, n2);
    double v1 = gsl_stats_variance_m(grp(&p, 0), 1, n1, out->mean1);
    double v2 = gsl_stats_variance_m(grp(&p, 1), 1, n2, out->mean2);
    out->sd1 = sqrt(v1);
    out->sd2 = sqrt(v2);
    out->diff = out->mean1 - out->mean2;
    double q1 = v1 / (double)n1, q2 = v2 / (double)n2;
    out->se = sqrt(q1 + q2);
    if (!(out->se > 0)) {
        rc = cl_error_set(err, CL_ERR_RANGE, "Welch t-test: no variance in either group");
        goto out;
    }
    out->t = out->diff / out->se;
    out->df = (q1 + q2) * (q1 + q2) / (q1 * q1 / (double)(n1 - 1) + q2 * q2 / (double)(n2 - 1));
    out->p = 2 * gsl_cdf_tdist_Q(fabs(out->t), out->df);
    if (out->p > 1)
        out->p = 1;
    double tq = t_upper((1 - CL_STATS_LEVEL) / 2, out->df);
    if ((rc = check_num(out->p, "Welch t-test p", err)) != CL_OK ||
        (rc = check_num(tq, "Welch t-test quantile", err)) != CL_OK)
        goto out;
    out->ci_lo = out->diff - tq * out->se;
    out->ci_hi = out->diff + tq * out->se;
    double m = (double)(n1 + n2 - 2), j = NAN;
    double sp = sqrt(((double)(n1 - 1) * v1 + (double)(n2 - 1) * v2) / m);
    out->cohen_d = sp > 0 ? out->diff / sp : NAN;
    if ((rc = hedges_j(m, &j, err)) != CL_OK) /* m >= 2 here */
        goto out;
    out->hedges_g = out->cohen_d * j;
    double nn = (double)(n1 + n2);
    out->g_se = sqrt(nn / ((double)n1 * (double)n2) + out->hedges_g * out->hedges_g / (2 * nn));
    out->g_lo = out->g_hi = NAN;
    if (isfinite(out->cohen_d)) {
        double scale = sqrt(1 / (double)n1 + 1 / (double)n2), lo, hi;
        rc = cl_stats_nct_ci(out->cohen_d / scale, m, &lo, &hi, err);
        if (rc == CL_ERR_RANGE) { /* out of reach: no interval, the test stands */
            lo = hi = NAN;
            rc = CL_OK;
        } else if (rc != CL_OK) {
            goto out;
        }
        out->g_lo = lo * scale;
        out->g_hi = hi * scale;
    }
out:
    pool_free(&p);
    return rc;
}

typedef struct pv {
    double p;
    size_t i;
} pv;

static int cmp_pv(const void *a, const void *b)
{
    const pv *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The finite p-values p[i*stride] sorted ascending (ties in input order)
 * into *out (malloc'ed, *m of them); adj[0..n) set to NaN. */
static int sort_p(const double *p, size_t stride, size_t n, double *adj, pv **out, size_t *m,
                  cl_error *err)
{
    pv *s = malloc((n ? n : 1) * sizeof *s);
    *m = 0;
    *out = s;
    if (!s)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        adj[i] = NAN;
        if (isfinite(p[i * stride]))
            s[(*m)++] = (pv){p[i * stride], i};
    }
    qsort(s, *m, sizeof *s, cmp_pv);
    return CL_OK;
}

int cl_stats_holm(const double *p, size_t stride, size_t n, double *adj, cl_error *err)
{
    pv *s;
    size_t m;
    int rc = sort_p(p, stride, n, adj, &s, &m, err);
    double run = 0;
    for (size_t r = 0; rc == CL_OK && r < m; r++) {
        double v = fmin(1, (double)(m - r) * s[r].p);
        if (v > run)
            run = v;
        adj[s[r].i] = run;
    }
    free(s);
    return rc;
}

int cl_stats_bh(const double *p, size_t stride, size_t n, double *adj, cl_error *err)
{
    pv *s;
    size_t m;
    int rc = sort_p(p, stride, n, adj, &s, &m, err);
    double run = 1;
    for (size_t r = m; rc == CL_OK && r > 0; r--) { /* from the largest p down */
        double v = fmin(1, (double)m / (double)r * s[r - 1].p);
        if (v < run)
            run = v;
        adj[s[r - 1].i] = run;
    }
    free(s);
    return rc;
}

/* -------------------------------------------------------------- k groups */

/* Every group has at least `min` values. */
static int need_values(const pool *p, size_t min, const char *test, cl_error *err)
{
    if (p->k < 2)
        return cl_error_set(err, CL_ERR_ARG, "%s: %zu group%s, at least 2 needed", test, p->k,
                            p->k == 1 ? "" : "s");
    for (size_t i = 0; i < p->k; i++)
        if (p->n[i] < min)
            return cl_error_set(err, CL_ERR_ARG,
                                "%s: group %zu has %zu value%s, at least %zu needed", test,
                                i + 1, p->n[i], p->n[i] == 1 ? "" : "s", min);
    return CL_OK;
}

/* Ordinary one-way ANOVA of the pooled groups. */
static void oneway(const pool *p, double *ssb, double *ssw, double *grand)
{
    double sum = 0;
    for (size_t i = 0; i < p->total; i++)
        sum += p->v[i];
    *grand = sum / (double)p->total;
    *ssb = *ssw = 0;
    for (size_t i = 0; i < p->k; i++) {
        double m = gsl_stats_mean(grp(p, i), 1, p->n[i]);
        *ssb += (double)p->n[i] * (m - *grand) * (m - *grand);
        for (size_t j = 0; j < p->n[i]; j++)
            *ssw += (grp(p, i)[j] - m) * (grp(p, i)[j] - m);
    }
}

/* F = MS_between / MS_within and its p-value. */
static int oneway_f(const pool *p, double ssb, double ssw, double *f, double *df1, double *df2,
                    double *pval, cl_error *err)
{
    *df1 = (double)(p->k - 1);
    *df2 = (double)(p->total - p->k);
    *f = *pval = NAN;
    if (!(*df2 > 0) || !(ssw > 0))
        return CL_OK;
    *f = (ssb / *df1) / (ssw / *df2);
    *pval = gsl_cdf_fdist_Q(*f, *df1, *df2);
    return check_num(*pval, "ANOVA p", err);
}

int cl_stats_welch_anova(const cl_stats_sample *g, size_t k, cl_stats_anova *out, cl_error *err)
{
    pool p;
    double *w = NULL, *mean = NULL;
    int rc = pool_fill(&p, g, k, err);
    memset(out, 0, sizeof *out);
    out->k = k;
    if (rc != CL_OK)
        return rc;
    out->n = p.total;
    if ((rc = need_values(&p, 2, "Welch ANOVA", err)) != CL_OK)
        goto out;
    w = malloc(k * sizeof *w);
    mean = malloc(k * sizeof *mean);
    if (!w || !mean) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    double W = 0, wm = 0;
    for (size_t i = 0; i < k; i++) {
        mean[i] = gsl_stats_mean(grp(&p, i), 1, p.n[i]);
        double var = gsl_stats_variance_m(grp(&p, i), 1, p.n[i], mean[i]);
        if (!(var > 0)) {
            rc = cl_error_set(err, CL_ERR_RANGE,
                              "Welch ANOVA: group %zu has no variance (all %zu values equal)",
                              i + 1, p.n[i]);
            goto out;
        }
        w[i] = (double)p.n[i] / var;
        W += w[i];
        wm += w[i] * mean[i];
    }
    wm /= W;
    double A = 0, L = 0, kk = (double)k;
    for (size_t i = 0; i < k; i++) {
        A += w[i] * (mean[i] - wm) * (mean[i] - wm);
        L += (1 - w[i] / W) * (1 - w[i] / W) / (double)(p.n[i] - 1);
    }
    A /= kk - 1;
    out->f = A / (1 + 2 * (kk - 2) * L / (kk * kk - 1));
    out->df1 = kk - 1;
    out->df2 = (kk * kk - 1) / (3 * L);
    out->p = gsl_cdf_fdist_Q(out->f, out->df1, out->df2);
    if ((rc = check_num(out->p, "Welch ANOVA p", err)) != CL_OK)
        goto out;

    double grand, df1, df2;
    oneway(&p, &out->ss_between, &out->ss_within, &grand);
    if ((rc = oneway_f(&p, out->ss_between, out->ss_within, &out->f_classic, &df1, &df2,
                       &out->p_classic, err)) != CL_OK)
        goto out;
    double sst = out->ss_between + out->ss_within, msw = out->ss_within / df2;
    out->eta2 = sst > 0 ? out->ss_between / sst : NAN;
    out->omega2 = sst + msw > 0 ? (out->ss_between - df1 * msw) / (sst + msw) : NAN;
    out->omega2_lo = out->omega2_hi = NAN;
    if (isfinite(out->f_classic)) {
        double lo, hi, n = (double)p.total;
        rc = cl_stats_ncf_ci(out->f_classic, df1, df2, &lo, &hi, err);
        if (rc == CL_ERR_RANGE) { /* out of reach: no interval, the test stands */
            lo = hi = NAN;
            rc = CL_OK;
        } else if (rc != CL_OK) {
            goto out;
        }
        out->omega2_lo = lo / (lo + n);
        out->omega2_hi = hi / (hi + n);
    }
out:
    free(w);
    free(mean);
    pool_free(&p);
    return rc;
}

typedef struct ranked {
    double v;
    size_t g;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return x < y ? -1 : x > y;
}

/* Sort r[0..N) and add each value's mid-rank (ties share the mean of their
 * ranks) to rsum[r[i].g]; returns sum(t^3 - t) over the sets of t ties. */
static double midranks(ranked *r, size_t N, double *rsum)
{
    double ties = 0;
    qsort(r, N, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < N;) {
        size_t e = i + 1;
        while (e < N && r[e].v == r[i].v)
            e++;
        double mid = ((double)i + 1 + (double)e) / 2, t = (double)(e - i); /* ranks i+1..e */
        for (size_t j = i; j < e; j++)
            rsum[r[j].g] += mid;
        ties += t * t * t - t;
        i = e;
    }
    return ties;
}

int cl_stats_kruskal_wallis(const cl_stats_sample *g, size_t k, cl_stats_kruskal *out,
                            cl_error *err)
{
    pool p;
    ranked *r = NULL;
    double *rsum = NULL;
    int rc = pool_fill(&p, g, k, err);
    memset(out, 0, sizeof *out);
    out->k = k;
    if (rc != CL_OK)
        return rc;
    size_t N = p.total;
    out->n = N;
    if ((rc = need_values(&p, 1, "Kruskal-Wallis", err)) != CL_OK)
        goto out;
    r = malloc(N * sizeof *r);
    rsum = calloc(k, sizeof *rsum);
    if (!r || !rsum) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < p.n[i]; j++)
            r[p.off[i] + j] = (ranked){grp(&p, i)[j], i};
    double ties = midranks(r, N, rsum), n = (double)N;
    double c = 1 - ties / (n * n * n - n);
    if (!(c > 0)) {
        rc = cl_error_set(err, CL_ERR_RANGE, "Kruskal-Wallis: all %zu values are equal", N);
        goto out;
    }
    double h = 0;
    for (size_t i = 0; i < k; i++)
        h += rsum[i] * rsum[i] / (double)p.n[i];
    h = (12 / (n * (n + 1)) * h - 3 * (n + 1)) / c;
    out->h = h;
    out->df = (double)(k - 1);
    out->p = gsl_cdf_chisq_Q(h, out->df);
    out->epsilon2 = h / (n - 1);
    rc = check_num(out->p, "Kruskal-Wallis p", err);
out:
    free(r);
    free(rsum);
    pool_free(&p);
    return rc;
}

int cl_stats_brown_forsythe(const cl_stats_sample *g, size_t k, double *f, double *df1,
                            double *df2, double *p, cl_error *err)
{
    pool q;
    int rc = pool_fill(&q, g, k, err);
    *f = *df1 = *df2 = *p = NAN;
    if (rc != CL_OK)
        return rc;
    if ((rc = need_values(&q, 2, "Brown-Forsythe", err)) != CL_OK)
        goto out;
    for (size_t i = 0; i < k; i++) {
        double *x = q.v + q.off[i];
        size_t n = q.n[i];
        /* The median needs sorted data; the order within a group does not
         * matter to the ANOVA that follows. */
        gsl_sort(x, 1, n);
        double med = gsl_stats_median_from_sorted_data(x, 1, n);
        for (size_t j = 0; j < n; j++)
            x[j] = fabs(x[j] - med);
    }
    double ssb, ssw, grand;
    oneway(&q, &ssb, &ssw, &grand);
    if (!(ssw > 0)) {
        rc = cl_error_set(err, CL_ERR_RANGE, "Brown-Forsythe: no spread within the groups");
        goto out;
    }
    rc = oneway_f(&q, ssb, ssw, f, df1, df2, p, err);
out:
    pool_free(&q);
    return rc;
}

/* ------------------------------------------------------- blocked designs */

typedef struct block_work {
    size_t *cnt;                 /* n_bj: nb x k */
    double *bsum, *gsum, *bmean; /* block totals, group totals, block means */
    size_t *bn, *gn;             /* n_b, r_j */
    gsl_matrix *C;
    gsl_vector *Q, *eval;
    gsl_matrix *evec;
    gsl_eigen_symmv_workspace *ws;
} block_work;

static void block_work_free(block_work *w)
{
    free(w->cnt);
    free(w->bsum);
    free(w->gsum);
    free(w->bmean);
    free(w->bn);
    free(w->gn);
    if (w->C)
        gsl_matrix_free(w->C);
    if (w->evec)
        gsl_matrix_free(w->evec);
    if (w->Q)
        gsl_vector_free(w->Q);
    if (w->eval)
        gsl_vector_free(w->eval);
    if (w->ws)
        gsl_eigen_symmv_free(w->ws);
    memset(w, 0, sizeof *w);
}

static bool block_work_alloc(block_work *w, size_t k, size_t nb)
{
    memset(w, 0, sizeof *w);
    w->cnt = calloc(nb * k, sizeof *w->cnt);
    w->bsum = calloc(nb, sizeof *w->bsum);
    w->bmean = calloc(nb, sizeof *w->bmean);
    w->bn = calloc(nb, sizeof *w->bn);
    w->gsum = calloc(k, sizeof *w->gsum);
    w->gn = calloc(k, sizeof *w->gn);
    w->C = gsl_matrix_calloc(k, k);
    w->evec = gsl_matrix_alloc(k, k);
    w->Q = gsl_vector_calloc(k);
    w->eval = gsl_vector_alloc(k);
    w->ws = gsl_eigen_symmv_alloc(k);
    return w->cnt && w->bsum && w->bmean && w->bn && w->gsum && w->gn && w->C && w->evec &&
           w->Q && w->eval && w->ws;
}

/* Relative size below which an eigenvalue of C counts as zero (C is made of
 * ratios of small counts: its non-zero eigenvalues are far above this). */
#define RANK_TOL 1e-9

int cl_stats_block_anova(const double *y, size_t stride, const size_t *group,
                         const size_t *block, size_t n, size_t k, size_t nb,
                         cl_stats_blocked *out, cl_error *err)
{
    block_work w;
    int rc = CL_OK;
    memset(out, 0, sizeof *out);
    out->k = k;
    out->ss_block = out->ss_group = out->ss_resid = out->f = out->p = NAN;
    out->df_group = out->df_resid = NAN;
    if (k < 2 || nb < 1)
        return cl_error_set(err, CL_ERR_ARG,
                            "blocked ANOVA: %zu groups in %zu blocks, at "
                            "least 2 groups needed",
                            k, nb);
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i * stride]) && (group[i] >= k || block[i] >= nb))
            return cl_error_set(err, CL_ERR_ARG,
                                "blocked ANOVA: value %zu has group %zu / block %zu, out of "
                                "%zu / %zu",
                                i + 1, group[i] + 1, block[i] + 1, k, nb);
    if (!block_work_alloc(&w, k, nb)) {
        block_work_free(&w);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double v = y[i * stride];
        if (!isfinite(v))
            continue;
        w.cnt[block[i] * k + group[i]]++;
        w.bsum[block[i]] += v;
        w.bn[block[i]]++;
        w.gsum[group[i]] += v;
        w.gn[group[i]]++;
        total += v;
        out->n++;
    }
    for (size_t b = 0; b < nb; b++)
        if (w.bn[b]) {
            w.bmean[b] = w.bsum[b] / (double)w.bn[b];
            out->blocks++;
        }
    double grand = out->n ? total / (double)out->n : NAN, within = 0, ssb = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i * stride])) {
            double d = y[i * stride] - w.bmean[block[i]];
            within += d * d;
        }
    for (size_t b = 0; b < nb; b++)
        if (w.bn[b])
            ssb += (double)w.bn[b] * (w.bmean[b] - grand) * (w.bmean[b] - grand);
    /* The reduced normal equations of the group effects. */
    for (size_t j = 0; j < k; j++) {
        double q = w.gsum[j];
        for (size_t b = 0; b < nb; b++)
            q -= (double)w.cnt[b * k + j] * w.bmean[b];
        gsl_vector_set(w.Q, j, q);
        gsl_matrix_set(w.C, j, j, (double)w.gn[j]);
    }
    for (size_t b = 0; b < nb; b++) {
        if (!w.bn[b])
            continue;
        for (size_t j = 0; j < k; j++)
            for (size_t l = 0; l < k; l++) {
                double c =
                    (double)w.cnt[b * k + j] * (double)w.cnt[b * k + l] / (double)w.bn[b];
                if (c != 0)
                    gsl_matrix_set(w.C, j, l, gsl_matrix_get(w.C, j, l) - c);
            }
    }
    if (gsl_eigen_symmv(w.C, w.eval, w.evec, w.ws) != GSL_SUCCESS) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "blocked ANOVA: eigen decomposition failed");
        goto out;
    }
    double lmax = 0, ssg = 0;
    for (size_t j = 0; j < k; j++)
        lmax = fmax(lmax, gsl_vector_get(w.eval, j));
    size_t rank = 0;
    for (size_t j = 0; j < k; j++) {
        double l = gsl_vector_get(w.eval, j);
        if (!(l > RANK_TOL * lmax))
            continue;
        gsl_vector_view v = gsl_matrix_column(w.evec, j);
        double vq;
        gsl_blas_ddot(&v.vector, w.Q, &vq);
        ssg += vq * vq / l;
        rank++;
    }
    out->ss_block = ssb;
    out->ss_group = ssg;
    out->ss_resid = fmax(within - ssg, 0); /* rounding */
    out->df_group = (double)rank;
    out->df_resid = (double)out->n - (double)out->blocks - (double)rank;
    if (rank == 0) {
        rc =
            cl_error_set(err, CL_ERR_RANGE, "blocked ANOVA: no block has values in two groups");
        goto out;
    }
    if (!(out->df_resid > 0) || !(out->ss_resid > 0)) {
        rc = cl_error_set(err, CL_ERR_RANGE, "blocked ANOVA: %s",
                          out->df_resid > 0 ? "no residual variance"
                                            : "no residual degrees of freedom");
        goto out;
    }
    out->f = (ssg / out->df_group) / (out->ss_resid / out->df_resid);
    out->p = gsl_cdf_fdist_Q(out->f, out->df_group, out->df_resid);
    rc = check_num(out->p, "blocked ANOVA p", err);
out:
    block_work_free(&w);
    return rc;
}

int cl_stats_friedman_test(const double *y, size_t n, size_t k, size_t ld,
                           cl_stats_friedman *out, cl_error *err)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->k = k;
    out->chi2 = out->df = out->p = out->w = NAN;
    if (n < 2 || k < 2)
        return cl_error_set(
            err, CL_ERR_ARG,
            "Friedman: %zu block%s of %zu group%s, at least 2 blocks of 2 groups needed", n,
            n == 1 ? "" : "s", k, k == 1 ? "" : "s");
    if (ld < k)
        return cl_error_set(err, CL_ERR_ARG, "Friedman: row stride %zu below %zu groups", ld,
                            k);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            if (!isfinite(y[i * ld + j]))
                return cl_error_set(err, CL_ERR_ARG,
                                    "Friedman: value of block %zu, group %zu is missing", i + 1,
                                    j + 1);
    ranked *r = malloc(k * sizeof *r);
    double *rsum = calloc(k, sizeof *rsum);
    int rc = CL_OK;
    if (!r || !rsum) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    double ties = 0, dn = (double)n, dk = (double)k, ss = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < k; j++)
            r[j] = (ranked){y[i * ld + j], j};
        ties += midranks(r, k, rsum);
    }
    for (size_t j = 0; j < k; j++)
        ss += (rsum[j] - dn * (dk + 1) / 2) * (rsum[j] - dn * (dk + 1) / 2);
    double den = dn * dk * (dk + 1) - ties / (dk - 1);
    if (!(den > 0)) {
        rc = cl_error_set(err, CL_ERR_RANGE, "Friedman: every block is tied throughout");
        goto out;
    }
    out->chi2 = 12 * ss / den;
    out->df = dk - 1;
    out->p = gsl_cdf_chisq_Q(out->chi2, out->df);
    out->w = out->chi2 / (dn * (dk - 1));
    rc = check_num(out->p, "Friedman p", err);
out:
    free(r);
    free(rsum);
    return rc;
}

/* ------------------------------------------------------------- agreement */

int cl_stats_icc21(const double *y, size_t n, size_t k, size_t ld, cl_stats_icc *out,
                   cl_error *err)
{
    double *rm = NULL, *cm = NULL;
    int rc = CL_OK;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->k = k;
    out->icc = out->lo = out->hi = out->f = out->p = out->sem = out->cv_within = NAN;
    if (n < 2 || k < 2)
        return cl_error_set(err, CL_ERR_ARG,
                            "ICC: %zu target%s by %zu rater%s, at least 2 by 2 needed", n,
                            n == 1 ? "" : "s", k, k == 1 ? "" : "s");
    if (ld < k)
        return cl_error_set(err, CL_ERR_ARG, "ICC: row stride %zu below %zu raters", ld, k);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            if (!isfinite(y[i * ld + j]))
                return cl_error_set(err, CL_ERR_ARG,
                                    "ICC: value of target %zu, rater %zu is missing", i + 1,
                                    j + 1);
    rm = calloc(n, sizeof *rm);
    cm = calloc(k, sizeof *cm);
    if (!rm || !cm) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    double grand = 0, dn = (double)n, dk = (double)k;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) {
            rm[i] += y[i * ld + j];
            cm[j] += y[i * ld + j];
            grand += y[i * ld + j];
        }
    grand /= dn * dk;
    double ssr = 0, ssc = 0, sst = 0, cv2 = 0;
    for (size_t i = 0; i < n; i++) {
        rm[i] /= dk;
        ssr += dk * (rm[i] - grand) * (rm[i] - grand);
    }
    for (size_t j = 0; j < k; j++) {
        cm[j] /= dn;
        ssc += dn * (cm[j] - grand) * (cm[j] - grand);
    }
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t j = 0; j < k; j++) {
            double d = y[i * ld + j] - grand, e = y[i * ld + j] - rm[i];
            sst += d * d;
            ss += e * e;
        }
        cv2 += rm[i] != 0 ? ss / (dk - 1) / (rm[i] * rm[i]) : NAN;
    }
    double sse = sst - ssr - ssc;
    if (sse < 0)
        sse = 0; /* rounding */
    out->msr = ssr / (dn - 1);
    out->msc = ssc / (dk - 1);
    out->mse = sse / ((dn - 1) * (dk - 1));
    out->cv_within = sqrt(cv2 / dn);
    double msr = out->msr, msc = out->msc, mse = out->mse;
    double den = msr + (dk - 1) * mse + dk * (msc - mse) / dn;
    if (!(sst > 0) || !(den != 0)) {
        rc = cl_error_set(err, CL_ERR_RANGE, "ICC: all %zu values are equal", n * k);
        goto out;
    }
    out->icc = (msr - mse) / den;
    /* (MSC - MSE)/n + MSE = MSC/n + MSE (n - 1)/n >= 0: defined for every
     * matrix, below sqrt(MSE) when MSC < MSE. */
    out->sem = sqrt((msc - mse) / dn + mse);
    out->df1 = dn - 1;
    out->df2 = (dn - 1) * (dk - 1);
    if (mse > 0) {
        out->f = msr / mse;
        out->p = gsl_cdf_fdist_Q(out->f, out->df1, out->df2);
        if ((rc = check_num(out->p, "ICC F-test p", err)) != CL_OK)
            goto out;
    }
    double icc = out->icc;
    if (mse > 0 && icc < 1) {
        double a = dk * icc / (dn * (1 - icc));
        double b = 1 + dk * icc * (dn - 1) / (dn * (1 - icc));
        double num = a * msc + b * mse;
        double v =
            num * num / ((a * msc) * (a * msc) / (dk - 1) + (b * mse) * (b * mse) / out->df2);
        double alpha2 = (1 - CL_STATS_LEVEL) / 2;
        double fu = v > 0 ? gsl_cdf_fdist_Qinv(alpha2, dn - 1, v) : NAN;
        double fl = v > 0 ? gsl_cdf_fdist_Qinv(alpha2, v, dn - 1) : NAN;
        double c = dk * msc + (dk * dn - dk - dn) * mse;
        /* Where the quantiles do not exist (no rater variance and no
         * residual left to share it), the interval stays NaN. */
        if (isfinite(fu) && isfinite(fl)) {
            out->lo = dn * (msr - fu * mse) / (fu * c + dn * msr);
            out->hi = dn * (fl * msr - mse) / (c + dn * fl * msr);
        }
    }
out:
    free(rm);
    free(cm);
    return rc;
}
