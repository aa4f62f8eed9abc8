/*
 * cl_decay: least-squares fits of a vacuum trace over a window.
 *
 * The linear model is solved in closed form (gsl_fit_linear).  The two
 * exponential models are solved with GSL's trust-region nonlinear least
 * squares (Levenberg-Marquardt).  Internally tau is carried as ln(tau) so
 * that the solver can never step to a non-positive time constant; the
 * covariance is mapped back to tau by the delta method (d tau = tau d ln tau).
 *
 * Starting values come from a variable-projection scan: for a fixed tau the
 * models are linear in their other parameters, so a log-spaced grid of tau
 * values, each solved by linear least squares, gives the starting tau with
 * the smallest residual sum of squares.  That makes the fit independent of
 * the caller's guesses and robust on nearly linear traces.
 *
 * Standard errors: the frequency-domain sandwich of cl_specvar on the
 * Jacobian J at the optimum and the residuals; on a stretch too short for
 * its low band, the Newey-West (HAC) sandwich
 *   cov = n/(n-p) (J'J)^-1 Omega (J'J)^-1,
 *   Omega = sum_{|l| <= L} (1 - |l|/(L+1)) sum_i u_i u_{i-l} J_i' J_{i-l}
 * on residuals prewhitened by AR(8) and recoloured, Bartlett weights and
 * Andrews' (1991) AR(1) plug-in bandwidth
 *   L = ceil(1.1447 (alpha n)^(1/3)), alpha = 4 rho^2 / ((1-rho)^2 (1+rho)^2),
 * rho the lag-1 autocorrelation of u limited to |rho| <= 0.97, L at most
 * n/4.  The decay slope's error uses the residuals of the richest
 * converged model (cl_decay_fit_best), not the line's own misfit.
 */
#include "cl_decay.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_specvar.h"

#define TAU_CI_HALF 0.5 /* identifiable: 95 % interval of tau within +-50 % */
#define Z95 1.959963984540054
#define RHO_MAX 0.99     /* effective sample size of AICc */
#define HAC_RHO_MAX 0.97 /* bandwidth plug-in, prewhitening */
#define HAC_AR_ORDER 8   /* prewhitening order: 8 blocks > one breathing period */
#define GRID_POINTS 61
#define MAX_ITER 500

/* Finite points of the window, contiguous. */
typedef struct points {
    double *t, *p;
    size_t n;
} points;

static void points_free(points *pt)
{
    free(pt->t);
    free(pt->p);
    pt->t = pt->p = NULL;
}

static int points_collect(const double *t, const double *p, size_t stride, size_t n, points *pt,
                          cl_error *err)
{
    pt->n = 0;
    pt->t = malloc((n ? n : 1) * sizeof *pt->t);
    pt->p = malloc((n ? n : 1) * sizeof *pt->p);
    if (!pt->t || !pt->p) {
        points_free(pt);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory for %zu points", n);
    }
    for (size_t i = 0; i < n; i++) {
        double ti = t[i * stride], pi = p[i * stride];
        if (isfinite(ti) && isfinite(pi)) {
            pt->t[pt->n] = ti;
            pt->p[pt->n] = pi;
            pt->n++;
        }
    }
    return CL_OK;
}

static size_t model_params(cl_decay_model m)
{
    return m == CL_DECAY_LINEAR ? 2 : m == CL_DECAY_EXP ? 3 : 4;
}

const char *cl_decay_model_name(cl_decay_model m)
{
    switch (m) {
    case CL_DECAY_LINEAR: return "linear";
    case CL_DECAY_EXP: return "exp";
    case CL_DECAY_EXP_SLOPE: return "exp+slope";
    }
    return "unknown";
}

static void fit_reset(cl_decay_fit *f, cl_decay_model m)
{
    *f = (cl_decay_fit){
        .model = m,
        .ok = false,
        .a_kpa = NAN, .a_se = NAN, .slope_kpa_s = NAN, .slope_se = NAN,
        .p0_kpa = NAN, .p0_se = NAN, .p_inf_kpa = NAN, .p_inf_se = NAN,
        .tau_s = NAN, .tau_se = NAN, .c_kpa_s = NAN, .c_se = NAN,
        .corr_pinf_tau = NAN, .identifiable = false, .k_per_min = NAN, .k_se_per_min = NAN,
        .r2 = NAN, .rss = NAN, .sigma_kpa = NAN, .aicc = NAN, .rho1 = NAN,
        .inflation = NAN, .hac_lag = 0,
    };
}

double cl_decay_eval(const cl_decay_fit *f, double t_s)
{
    switch (f->model) {
    case CL_DECAY_LINEAR:
        return f->a_kpa + f->slope_kpa_s * t_s;
    case CL_DECAY_EXP:
        return f->p_inf_kpa + (f->p0_kpa - f->p_inf_kpa) * exp(-t_s / f->tau_s);
    case CL_DECAY_EXP_SLOPE:
        return f->p_inf_kpa + (f->p0_kpa - f->p_inf_kpa) * exp(-t_s / f->tau_s) +
               f->c_kpa_s * t_s;
    }
    return NAN;
}

double cl_decay_rate(const cl_decay_fit *f, double t_s)
{
    switch (f->model) {
    case CL_DECAY_LINEAR:
        return f->slope_kpa_s;
    case CL_DECAY_EXP:
        return -(f->p0_kpa - f->p_inf_kpa) / f->tau_s * exp(-t_s / f->tau_s);
    case CL_DECAY_EXP_SLOPE:
        return -(f->p0_kpa - f->p_inf_kpa) / f->tau_s * exp(-t_s / f->tau_s) + f->c_kpa_s;
    }
    return NAN;
}

/* Raw lag-1 autocorrelation of r[0..n). */
static double lag1_raw(const double *r, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        den += r[i] * r[i];
        if (i + 1 < n)
            num += r[i] * r[i + 1];
    }
    return den > 0 ? num / den : 0;
}

/* Lag-1 autocorrelation of residuals r[0..n), clipped to [0, RHO_MAX]. */
static double lag1(const double *r, size_t n)
{
    double rho = lag1_raw(r, n);
    return rho > 0 ? fmin(rho, RHO_MAX) : 0;
}

/* Lag-1 autocorrelation limited to |rho| <= HAC_RHO_MAX. */
static double lag1_hac(const double *r, size_t n)
{
    double rho = lag1_raw(r, n);
    return fmax(-HAC_RHO_MAX, fmin(HAC_RHO_MAX, rho));
}

/* Andrews' AR(1) plug-in bandwidth for the Bartlett kernel. */
static size_t hac_lag(const double *u, size_t n)
{
    double rho = lag1_hac(u, n);
    double a = 4 * rho * rho / ((1 - rho) * (1 - rho) * (1 + rho) * (1 + rho));
    double l = ceil(1.1447 * cbrt(a * (double)n));
    size_t cap = n / 4;
    return l > (double)cap ? cap : (size_t)l;
}

/* AR(HAC_AR_ORDER) prewhitening by Yule-Walker: u_i = r_i - sum_j phi_j
 * r_{i-j} (u_i = r_i for the first points); *phisum = sum_j phi_j, limited
 * to HAC_RHO_MAX. */
static int prewhiten(const double *r, size_t n, double *u, double *phisum)
{
    size_t q = HAC_AR_ORDER < n / 4 ? HAC_AR_ORDER : n / 4;
    double g[HAC_AR_ORDER + 1] = {0};
    *phisum = 0;
    memcpy(u, r, n * sizeof *u);
    if (q == 0)
        return GSL_SUCCESS;
    for (size_t l = 0; l <= q; l++)
        for (size_t i = l; i < n; i++)
            g[l] += r[i] * r[i - l];
    if (!(g[0] > 0))
        return GSL_SUCCESS;
    gsl_matrix *R = gsl_matrix_alloc(q, q);
    gsl_vector *b = gsl_vector_alloc(q), *phi = gsl_vector_alloc(q);
    gsl_permutation *perm = gsl_permutation_alloc(q);
    int rc = GSL_ENOMEM, sgn;
    if (R && b && phi && perm) {
        for (size_t i = 0; i < q; i++) {
            gsl_vector_set(b, i, g[i + 1]);
            for (size_t j = 0; j < q; j++)
                gsl_matrix_set(R, i, j, g[i > j ? i - j : j - i]);
        }
        rc = gsl_linalg_LU_decomp(R, perm, &sgn);
        if (rc == GSL_SUCCESS)
            rc = gsl_linalg_LU_solve(R, perm, b, phi);
    }
    if (rc == GSL_SUCCESS) {
        double sum = 0;
        for (size_t j = 0; j < q; j++)
            sum += gsl_vector_get(phi, j);
        /* Keep the recolouring 1/(1-sum)^2 bounded: scale phi down. */
        double scale = sum > HAC_RHO_MAX ? HAC_RHO_MAX / sum : 1;
        for (size_t i = q; i < n; i++)
            for (size_t j = 0; j < q; j++)
                u[i] -= scale * gsl_vector_get(phi, j) * r[i - j - 1];
        *phisum = scale * sum;
    }
    gsl_permutation_free(perm);
    gsl_vector_free(phi);
    gsl_vector_free(b);
    gsl_matrix_free(R);
    return rc;
}

/* Newey-West covariance of least-squares parameters: J (n x p), residuals r,
 * prewhitened (Andrews and Monahan 1992) by prewhiten(), Omega from u,
 * recoloured by 1/(1-sum phi)^2.  cov receives
 * n/(n-p) (J'J)^-1 Omega (J'J)^-1; *lag the bandwidth used. */
static int hac_cov(const gsl_matrix *J, const double *r, gsl_matrix *cov, size_t *lag)
{
    size_t n = J->size1, p = J->size2;
    gsl_matrix *A = gsl_matrix_alloc(p, p), *O = gsl_matrix_calloc(p, p),
               *T = gsl_matrix_alloc(p, p);
    gsl_permutation *perm = gsl_permutation_alloc(p);
    double *u = malloc(n * sizeof *u);
    int rc = GSL_ENOMEM, sgn;
    if (!A || !O || !T || !perm || !u)
        goto out;
    double phi;
    rc = prewhiten(r, n, u, &phi);
    if (rc != GSL_SUCCESS)
        goto out;
    rc = GSL_ENOMEM;
    size_t L = hac_lag(u, n);
    r = u;
    gsl_blas_dsyrk(CblasUpper, CblasTrans, 1.0, J, 0.0, A);
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < i; j++)
            gsl_matrix_set(A, i, j, gsl_matrix_get(A, j, i));
    for (size_t l = 0; l <= L; l++) {
        double w = l ? 2 * (1 - (double)l / (double)(L + 1)) : 1;
        for (size_t i = l; i < n; i++) {
            double rr = w * r[i] * r[i - l];
            for (size_t a = 0; a < p; a++)
                for (size_t b = 0; b < p; b++) {
                    /* symmetrised: (J_i' J_{i-l} + J_{i-l}' J_i) / 2 */
                    double v = 0.5 * (gsl_matrix_get(J, i, a) * gsl_matrix_get(J, i - l, b) +
                                      gsl_matrix_get(J, i - l, a) * gsl_matrix_get(J, i, b));
                    *gsl_matrix_ptr(O, a, b) += rr * v;
                }
        }
    }
    gsl_matrix_scale(O, (double)n / (double)(n - p) / ((1 - phi) * (1 - phi)));
    rc = gsl_linalg_LU_decomp(A, perm, &sgn);
    if (rc == GSL_SUCCESS)
        rc = gsl_linalg_LU_invx(A, perm);
    if (rc == GSL_SUCCESS) {
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, O, 0.0, T);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, T, A, 0.0, cov);
    }
    *lag = L;
out:
    free(u);
    gsl_permutation_free(perm);
    gsl_matrix_free(T);
    gsl_matrix_free(O);
    gsl_matrix_free(A);
    return rc;
}

/* The parameters' covariance from J and the residuals r: the spectral
 * sandwich (cl_specvar); on a window too short for its low band, the HAC
 * above.  *lag: the HAC's bandwidth, 0 for the spectral estimate.  Returns
 * a GSL status. */
static int error_cov(const gsl_matrix *J, const double *r, gsl_matrix *cov, size_t *lag)
{
    int rc = cl_specvar_cov(J, r, cov, NULL);
    if (rc == CL_ERR_RANGE)
        return hac_cov(J, r, cov, lag);
    *lag = 0;
    return rc == CL_OK ? GSL_SUCCESS : rc == CL_ERR_NOMEM ? GSL_ENOMEM : GSL_ESING;
}

static double aicc_value(double n_eff, double rss, size_t n, size_t npar)
{
    double k = (double)npar + 1; /* parameters plus the noise variance */
    if (!(rss > 0) || n_eff - k - 1 <= 0)
        return NAN;
    return n_eff * log(rss / (double)n) + 2 * k + 2 * k * (k + 1) / (n_eff - k - 1);
}

/* Goodness-of-fit figures from the residuals r = model - data. */
static void fill_gof(cl_decay_fit *f, const points *pt, const double *r, size_t npar)
{
    double mean = 0, tss = 0, rss = 0;
    for (size_t i = 0; i < pt->n; i++)
        mean += pt->p[i];
    mean /= (double)pt->n;
    for (size_t i = 0; i < pt->n; i++) {
        tss += (pt->p[i] - mean) * (pt->p[i] - mean);
        rss += r[i] * r[i];
    }
    f->n = pt->n;
    f->rss = rss;
    f->sigma_kpa = sqrt(rss / (double)(pt->n - npar));
    f->r2 = tss > 0 ? 1 - rss / tss : NAN;
    f->rho1 = lag1(r, pt->n);
    f->aicc = aicc_value((double)pt->n, rss, pt->n, npar);
}

/* The line's intercept and slope errors from the residuals r (HAC); the
 * inflation is the slope's HAC SE over its iid SE. */
static int linear_errors(const points *pt, const double *r, cl_decay_fit *f)
{
    gsl_matrix *J = gsl_matrix_alloc(pt->n, 2), *cov = gsl_matrix_alloc(2, 2);
    int rc = GSL_ENOMEM;
    if (J && cov) {
        double mt = 0, sxx = 0, rss = 0;
        for (size_t i = 0; i < pt->n; i++) {
            gsl_matrix_set(J, i, 0, 1);
            gsl_matrix_set(J, i, 1, pt->t[i]);
            mt += pt->t[i];
            rss += r[i] * r[i];
        }
        mt /= (double)pt->n;
        for (size_t i = 0; i < pt->n; i++)
            sxx += (pt->t[i] - mt) * (pt->t[i] - mt);
        rc = error_cov(J, r, cov, &f->hac_lag);
        if (rc == GSL_SUCCESS) {
            f->a_se = sqrt(gsl_matrix_get(cov, 0, 0));
            f->slope_se = sqrt(gsl_matrix_get(cov, 1, 1));
            double iid = sqrt(rss / (double)(pt->n - 2) / sxx);
            f->inflation = iid > 0 ? f->slope_se / iid : NAN;
            f->p0_se = f->a_se;
        }
    }
    gsl_matrix_free(cov);
    gsl_matrix_free(J);
    return rc;
}

static int fit_linear(const points *pt, cl_decay_fit *f, cl_error *err)
{
    double a, b, c00, c01, c11, rss;
    double *r = NULL;
    int rc = gsl_fit_linear(pt->t, 1, pt->p, 1, pt->n, &a, &b, &c00, &c01, &c11, &rss);
    if (rc != GSL_SUCCESS || !isfinite(a) || !isfinite(b))
        return cl_error_set(err, CL_ERR_NUMERIC, "linear fit failed: %s", gsl_strerror(rc));
    r = malloc(pt->n * sizeof *r);
    if (!r)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < pt->n; i++)
        r[i] = a + b * pt->t[i] - pt->p[i];
    fill_gof(f, pt, r, 2);
    f->a_kpa = a;
    f->slope_kpa_s = b;
    f->p0_kpa = a;
    rc = linear_errors(pt, r, f);
    free(r);
    if (rc == GSL_ENOMEM)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    f->iterations = 0;
    f->identifiable = true;
    f->ok = rc == GSL_SUCCESS && isfinite(f->a_se) && isfinite(f->slope_se);
    if (!f->ok)
        return cl_error_set(err, CL_ERR_NUMERIC, "linear fit: degenerate covariance");
    return CL_OK;
}

/* ---------------------------------------------------------- exponential */

typedef struct exp_data {
    const points *pt;
    bool slope;
} exp_data;

/* Parameter vector: x0 = p_inf, x1 = p0, x2 = ln tau, [x3 = c]. */
static int exp_f(const gsl_vector *x, void *params, gsl_vector *f)
{
    const exp_data *d = params;
    double pinf = gsl_vector_get(x, 0), p0 = gsl_vector_get(x, 1);
    double tau = exp(gsl_vector_get(x, 2)), c = d->slope ? gsl_vector_get(x, 3) : 0;
    if (!isfinite(tau) || !(tau > 0))
        return GSL_EDOM;
    for (size_t i = 0; i < d->pt->n; i++) {
        double t = d->pt->t[i];
        gsl_vector_set(f, i, pinf + (p0 - pinf) * exp(-t / tau) + c * t - d->pt->p[i]);
    }
    return GSL_SUCCESS;
}

static int exp_df(const gsl_vector *x, void *params, gsl_matrix *J)
{
    const exp_data *d = params;
    double pinf = gsl_vector_get(x, 0), p0 = gsl_vector_get(x, 1);
    double tau = exp(gsl_vector_get(x, 2));
    if (!isfinite(tau) || !(tau > 0))
        return GSL_EDOM;
    for (size_t i = 0; i < d->pt->n; i++) {
        double t = d->pt->t[i], e = exp(-t / tau);
        gsl_matrix_set(J, i, 0, 1 - e);
        gsl_matrix_set(J, i, 1, e);
        gsl_matrix_set(J, i, 2, (p0 - pinf) * e * t / tau);
        if (d->slope)
            gsl_matrix_set(J, i, 3, t);
    }
    return GSL_SUCCESS;
}

/* Variable projection scan: the tau on a log grid over [span/50, 50 span]
 * whose linear sub-problem has the smallest residual; the linear
 * parameters for it go to x. */
static int exp_start(const points *pt, bool slope, gsl_vector *x, cl_error *err)
{
    size_t np = slope ? 3 : 2;
    double tmin = pt->t[0], tmax = pt->t[0];
    for (size_t i = 1; i < pt->n; i++) {
        if (pt->t[i] < tmin)
            tmin = pt->t[i];
        if (pt->t[i] > tmax)
            tmax = pt->t[i];
    }
    double span = tmax - tmin;
    if (!(span > 0))
        return cl_error_set(err, CL_ERR_ARG, "all points at the same time");
    gsl_matrix *X = gsl_matrix_alloc(pt->n, np), *cov = gsl_matrix_alloc(np, np);
    gsl_vector *y = gsl_vector_alloc(pt->n), *c = gsl_vector_alloc(np);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(pt->n, np);
    double best_rss = INFINITY;
    int rc = CL_OK;
    if (!X || !cov || !y || !c || !w) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < pt->n; i++)
        gsl_vector_set(y, i, pt->p[i]);
    for (int g = 0; g < GRID_POINTS; g++) {
        double tau = span / 50 * pow(2500.0, (double)g / (GRID_POINTS - 1)), rss;
        for (size_t i = 0; i < pt->n; i++) {
            gsl_matrix_set(X, i, 0, 1);
            gsl_matrix_set(X, i, 1, exp(-pt->t[i] / tau));
            if (slope)
                gsl_matrix_set(X, i, 2, pt->t[i]);
        }
        if (gsl_multifit_linear(X, y, c, cov, &rss, w) != GSL_SUCCESS || !isfinite(rss))
            continue;
        if (rss < best_rss) {
            best_rss = rss;
            gsl_vector_set(x, 0, gsl_vector_get(c, 0));
            gsl_vector_set(x, 1, gsl_vector_get(c, 0) + gsl_vector_get(c, 1));
            gsl_vector_set(x, 2, log(tau));
            if (slope)
                gsl_vector_set(x, 3, gsl_vector_get(c, 2));
        }
    }
    if (!isfinite(best_rss))
        rc = cl_error_set(err, CL_ERR_NUMERIC, "no starting point for the exponential fit");
out:
    gsl_multifit_linear_free(w);
    gsl_vector_free(c);
    gsl_vector_free(y);
    gsl_matrix_free(cov);
    gsl_matrix_free(X);
    return rc;
}

static double corr(const gsl_matrix *cov, size_t i, size_t j)
{
    double d = sqrt(gsl_matrix_get(cov, i, i) * gsl_matrix_get(cov, j, j));
    return d > 0 ? gsl_matrix_get(cov, i, j) / d : NAN;
}

static int fit_exp(const points *pt, bool slope, cl_decay_fit *f, cl_error *err)
{
    size_t np = slope ? 4 : 3;
    exp_data d = {pt, slope};
    gsl_multifit_nlinear_fdf fdf = {.f = exp_f, .df = exp_df, .fvv = NULL, .n = pt->n,
                                    .p = np, .params = &d};
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w = NULL;
    gsl_vector *x0 = gsl_vector_alloc(np);
    gsl_matrix *cov = gsl_matrix_alloc(np, np);
    int rc, info = 0;

    if (!x0 || !cov) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = exp_start(pt, slope, x0, err);
    if (rc != CL_OK)
        goto out;
    par.scale = gsl_multifit_nlinear_scale_more;
    w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, pt->n, np);
    if (!w) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    int st = gsl_multifit_nlinear_init(x0, &fdf, w);
    if (st == GSL_SUCCESS)
        st = gsl_multifit_nlinear_driver(MAX_ITER, 1e-10, 1e-10, 0.0, NULL, NULL, &info, w);
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "%s fit did not converge: %s",
                          cl_decay_model_name(f->model), gsl_strerror(st));
        goto out;
    }
    const gsl_vector *x = gsl_multifit_nlinear_position(w);
    const gsl_vector *r = gsl_multifit_nlinear_residual(w);
    st = gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, cov);
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "%s fit: covariance failed: %s",
                          cl_decay_model_name(f->model), gsl_strerror(st));
        goto out;
    }
    fill_gof(f, pt, r->data, np);
    f->iterations = gsl_multifit_nlinear_niter(w);
    double s2 = f->rss / (double)(pt->n - np), tau = exp(gsl_vector_get(x, 2));
    double iid_lntau = sqrt(s2 * gsl_matrix_get(cov, 2, 2));
    /* From here on cov is the serial-correlation-robust covariance. */
    st = error_cov(gsl_multifit_nlinear_jac(w), r->data, cov, &f->hac_lag);
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, st == GSL_ENOMEM ? CL_ERR_NOMEM : CL_ERR_NUMERIC,
                          "%s fit: covariance of the errors failed: %s",
                          cl_decay_model_name(f->model), gsl_strerror(st));
        goto out;
    }
    f->corr_pinf_tau = corr(cov, 0, 2);
    f->p_inf_kpa = gsl_vector_get(x, 0);
    f->p0_kpa = gsl_vector_get(x, 1);
    f->tau_s = tau;
    f->p_inf_se = sqrt(gsl_matrix_get(cov, 0, 0));
    f->p0_se = sqrt(gsl_matrix_get(cov, 1, 1));
    f->tau_se = tau * sqrt(gsl_matrix_get(cov, 2, 2));
    f->inflation = iid_lntau > 0 ? sqrt(gsl_matrix_get(cov, 2, 2)) / iid_lntau : NAN;
    if (slope) {
        f->c_kpa_s = gsl_vector_get(x, 3);
        f->c_se = sqrt(gsl_matrix_get(cov, 3, 3));
    } else {
        f->c_kpa_s = 0;
        f->c_se = 0;
    }
    /* Identifiable: the 95 % interval of tau within +-TAU_CI_HALF of it. */
    f->identifiable = Z95 * f->tau_se < TAU_CI_HALF * tau;
    f->k_per_min = 60 / tau;
    f->k_se_per_min = 60 * f->tau_se / (tau * tau);
    /* Slope at the window start, so that every model reports a rate; its
     * SE by the delta method. */
    f->slope_kpa_s = cl_decay_rate(f, 0);
    double g[4] = {1 / tau, -1 / tau, (f->p0_kpa - f->p_inf_kpa) / tau, 1}, v = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++)
            v += g[i] * g[j] * gsl_matrix_get(cov, i, j);
    f->slope_se = sqrt(v);
    f->a_kpa = f->p0_kpa;
    f->a_se = f->p0_se;
    f->ok = isfinite(f->p_inf_kpa) && isfinite(f->p0_kpa) && isfinite(f->tau_s) &&
            isfinite(f->p_inf_se) && isfinite(f->p0_se) && isfinite(f->tau_se) &&
            isfinite(f->c_kpa_s) && isfinite(f->c_se);
    if (!f->ok) {
        f->identifiable = false;
        rc = cl_error_set(err, CL_ERR_NUMERIC, "%s fit: parameters not finite",
                          cl_decay_model_name(f->model));
    }
out:
    gsl_multifit_nlinear_free(w);
    gsl_matrix_free(cov);
    gsl_vector_free(x0);
    return rc;
}

static int fit_points(const points *pt, cl_decay_model model, cl_decay_fit *fit, cl_error *err)
{
    size_t np = model_params(model);
    if (pt->n < np + 2)
        return cl_error_set(err, CL_ERR_ARG, "%s fit needs at least %zu points, have %zu",
                            cl_decay_model_name(model), np + 2, pt->n);
    double t0 = pt->t[0];
    bool spread = false;
    for (size_t i = 1; i < pt->n && !spread; i++)
        spread = pt->t[i] != t0;
    if (!spread)
        return cl_error_set(err, CL_ERR_ARG, "all points at the same time");
    if (model == CL_DECAY_LINEAR)
        return fit_linear(pt, fit, err);
    return fit_exp(pt, model == CL_DECAY_EXP_SLOPE, fit, err);
}

int cl_decay_fit_model(const double *t_s, const double *p_kpa, size_t stride, size_t n,
                       cl_decay_model model, cl_decay_fit *fit, cl_error *err)
{
    points pt = {0};
    int rc;
    if (!fit || (n && (!t_s || !p_kpa)) || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "cl_decay_fit_model: invalid arguments");
    if (model < CL_DECAY_LINEAR || model > CL_DECAY_EXP_SLOPE)
        return cl_error_set(err, CL_ERR_ARG, "unknown decay model %d", (int)model);
    fit_reset(fit, model);
    rc = points_collect(t_s, p_kpa, stride, n, &pt, err);
    if (rc == CL_OK)
        rc = fit_points(&pt, model, fit, err);
    if (rc != CL_OK)
        fit->ok = false;
    points_free(&pt);
    return rc;
}

int cl_decay_fit_best(const double *t_s, const double *p_kpa, size_t stride, size_t n,
                      cl_decay_fit *best, cl_decay_fit all[3], cl_error *err)
{
    cl_decay_fit f[3];
    points pt = {0};
    int rc;
    if (!best || (n && (!t_s || !p_kpa)) || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "cl_decay_fit_best: invalid arguments");
    for (int m = 0; m < 3; m++)
        fit_reset(&f[m], (cl_decay_model)(m + 1));
    fit_reset(best, CL_DECAY_LINEAR);
    rc = points_collect(t_s, p_kpa, stride, n, &pt, err);
    if (rc != CL_OK)
        goto out;
    rc = fit_points(&pt, CL_DECAY_LINEAR, &f[0], err);
    if (rc != CL_OK)
        goto out;
    /* The exponential models may fail; the linear fit stands then. */
    for (int m = 1; m < 3; m++) {
        if (fit_points(&pt, (cl_decay_model)(m + 1), &f[m], NULL) != CL_OK)
            f[m].ok = false;
    }
    /* AICc with one effective sample size for all models, from the
     * residuals of the richest model that converged (the residuals of a
     * misfitting model are autocorrelated by the misfit itself). */
    int rich = 0;
    for (int m = 2; m >= 1 && !rich; m--)
        if (f[m].ok)
            rich = m;
    double rho = f[rich].rho1;
    /* The decay slope's errors from the richest model's residuals: the
     * line's own residuals carry its misfit of a curved decay. */
    if (rich) {
        double *r = malloc(pt.n * sizeof *r);
        if (!r) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < pt.n; i++)
            r[i] = cl_decay_eval(&f[rich], pt.t[i]) - pt.p[i];
        int st = linear_errors(&pt, r, &f[0]);
        free(r);
        if (st != GSL_SUCCESS) {
            rc = cl_error_set(err, st == GSL_ENOMEM ? CL_ERR_NOMEM : CL_ERR_NUMERIC,
                              "linear fit: HAC covariance failed");
            goto out;
        }
    }
    double n_eff = (double)pt.n * (1 - rho) / (1 + rho);
    int pick = 0;
    for (int m = 0; m < 3; m++) {
        if (!f[m].ok)
            continue;
        f[m].aicc = aicc_value(n_eff, f[m].rss, pt.n, model_params((cl_decay_model)(m + 1)));
        if (m > 0 && f[m].identifiable && isfinite(f[m].aicc) &&
            (!isfinite(f[pick].aicc) || f[m].aicc < f[pick].aicc))
            pick = m;
    }
    *best = f[pick];
out:
    if (all)
        memcpy(all, f, sizeof f);
    points_free(&pt);
    return rc;
}
