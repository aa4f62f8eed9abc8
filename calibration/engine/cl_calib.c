/*
 * cl_calib: polynomial least squares with covariance and the sensor
 * calibration built on it (setpoints, figures, uncertainty, verdict).  See
 * cl_calib.h for the definitions of every figure.
 */
#include "engine/cl_calib.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_profile.h"

#define MAXP (CL_CALIB_FIT_MAX_DEGREE + 1)
#define MONO_GRID 200 /* points at which a curve's monotonicity is checked */
#define U_GRID 100    /* points at which U is evaluated over the raw range */

/* ============================================================ polyfit */

static double binom(int n, int k)
{
    double r = 1;
    for (int i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

/* The points can determine a polynomial of degree `degree` (p = degree + 1
 * coefficients); *c and *h the centre and half-range of the abscissae the
 * fit is scaled by. */
static int check_fit_points(const double *x, const double *y, const double *w, size_t stride,
                            size_t n, int degree, double *c, double *h, cl_error *err)
{
    const size_t p = (size_t)degree + 1;
    *c = *h = 0;
    if (n < p + 1)
        return cl_error_set(err, CL_ERR_ARG,
                            "too few points for degree %d: %zu points, need at least %zu",
                            degree, n, p + 1);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i * stride]) || !isfinite(y[i * stride]))
            return cl_error_set(err, CL_ERR_ARG, "point %zu is not finite", i + 1);
        if (w && !(w[i * stride] > 0 && isfinite(w[i * stride])))
            return cl_error_set(err, CL_ERR_ARG, "weight %zu is not positive", i + 1);
        *c += x[i * stride];
    }
    *c /= (double)n;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i * stride] - *c) > *h)
            *h = fabs(x[i * stride] - *c);
    /* Distinct abscissae: at least p of them, or the fit is not determined. */
    size_t distinct = 0;
    for (size_t i = 0; i < n && distinct < p; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = x[j * stride] == x[i * stride];
        distinct += !seen;
    }
    if (distinct < p || *h == 0)
        return cl_error_set(err, CL_ERR_ARG, "too few distinct readings for degree %d: need %zu",
                            degree, p);
    return CL_OK;
}

/* Back to powers of x: sum_k b_k ((x - c)/h)^k = sum_j a_j x^j with
 * a_j = sum_{k>=j} b_k C(k,j) (-c)^(k-j) / h^k; cov_a = A cov_b A'. */
static void unscale(const gsl_vector *b, const gsl_matrix *cov, size_t p, double c, double h,
                    cl_calib_fit *fit)
{
    double A[MAXP][MAXP] = {{0}};
    for (size_t k = 0; k < p; k++)
        for (size_t j = 0; j <= k; j++)
            A[j][k] = binom((int)k, (int)j) * pow(-c, (double)(k - j)) / pow(h, (double)k);
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t k = j; k < p; k++)
            s += A[j][k] * gsl_vector_get(b, k);
        fit->coef[j] = s;
    }
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++) {
            double s = 0;
            for (size_t k = i; k < p; k++)
                for (size_t l = j; l < p; l++)
                    s += A[i][k] * gsl_matrix_get(cov, k, l) * A[j][l];
            fit->cov[i][j] = s;
        }
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < i; j++) /* exactly symmetric, as a covariance is */
            fit->cov[i][j] = fit->cov[j][i] = 0.5 * (fit->cov[i][j] + fit->cov[j][i]);
    for (size_t i = 0; i < p; i++)
        fit->se[i] = sqrt(fit->cov[i][i] > 0 ? fit->cov[i][i] : 0);
}

/* R^2 of the (weighted) fit whose residual sum of squares is chisq. */
static double r_squared(const double *y, const double *w, size_t stride, size_t n, double chisq)
{
    double sw = 0, sy = 0, tss = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i * stride] : 1;
        sw += wi;
        sy += wi * y[i * stride];
    }
    double ym = sy / sw;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i * stride] : 1, dy = y[i * stride] - ym;
        tss += wi * dy * dy;
    }
    return tss > 0 ? 1 - chisq / tss : NAN;
}

int cl_calib_polyfit(const double *x, const double *y, const double *w, size_t stride, size_t n,
                     int degree, cl_calib_fit *fit, cl_error *err)
{
    const size_t p = (size_t)degree + 1;
    gsl_matrix *X = NULL, *cov = NULL;
    gsl_vector *yv = NULL, *wv = NULL, *b = NULL;
    gsl_multifit_linear_workspace *ws = NULL;
    double chisq, c, h;
    int rc, st;

    memset(fit, 0, sizeof *fit);
    fit->sigma = fit->r2 = fit->rss = NAN;
    if (degree < 1 || degree > CL_CALIB_FIT_MAX_DEGREE)
        return cl_error_set(err, CL_ERR_ARG, "polynomial degree %d (1 to %d)", degree,
                            CL_CALIB_FIT_MAX_DEGREE);
    if (stride == 0)
        stride = 1;
    if ((rc = check_fit_points(x, y, w, stride, n, degree, &c, &h, err)) != CL_OK)
        return rc;
    X = gsl_matrix_alloc(n, p);
    yv = gsl_vector_alloc(n);
    b = gsl_vector_alloc(p);
    cov = gsl_matrix_alloc(p, p);
    ws = gsl_multifit_linear_alloc(n, p);
    if (w)
        wv = gsl_vector_alloc(n);
    if (!X || !yv || !b || !cov || !ws || (w && !wv)) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        double z = (x[i * stride] - c) / h, zk = 1;
        for (size_t k = 0; k < p; k++) {
            gsl_matrix_set(X, i, k, zk);
            zk *= z;
        }
        gsl_vector_set(yv, i, y[i * stride]);
        if (wv)
            gsl_vector_set(wv, i, w[i * stride]);
    }
    st = wv ? gsl_multifit_wlinear(X, wv, yv, b, cov, &chisq, ws)
            : gsl_multifit_linear(X, yv, b, cov, &chisq, ws);
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "least-squares fit failed: %s", gsl_strerror(st));
        goto out;
    }
    unscale(b, cov, p, c, h, fit);
    fit->degree = degree;
    fit->n = n;
    fit->dof = n - p;
    fit->rss = chisq;
    fit->sigma = sqrt(chisq / (double)fit->dof);
    fit->r2 = r_squared(y, w, stride, n, chisq);
out:
    gsl_multifit_linear_free(ws);
    gsl_matrix_free(cov);
    gsl_vector_free(b);
    gsl_vector_free(wv);
    gsl_vector_free(yv);
    gsl_matrix_free(X);
    return rc;
}

double cl_calib_fit_eval(const cl_calib_fit *f, double x)
{
    double y = f->coef[f->degree];
    for (int i = f->degree - 1; i >= 0; i--)
        y = y * x + f->coef[i];
    return y;
}

double cl_calib_fit_u(const cl_calib_fit *f, double x)
{
    double g[MAXP], v = 0;
    int p = f->degree + 1;
    g[0] = 1;
    for (int i = 1; i < p; i++)
        g[i] = g[i - 1] * x;
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++)
            v += g[i] * f->cov[i][j] * g[j];
    return sqrt(v > 0 ? v : 0);
}

/* ==================================================== sensor calibration */

void cl_calib_options_init(cl_calib_options *o)
{
    o->degree = 0;
    o->tolerance_kpa = NAN;
    o->ref_u_kpa = NAN;
    o->ref_k = 2;
    o->group_kpa = 0;
}

/* (reference, index) pairs, sorted by reference. */
typedef struct ref_index {
    double ref_kpa;
    size_t i;
} ref_index;

static int cmp_ref(const void *a, const void *b)
{
    double x = ((const ref_index *)a)->ref_kpa, y = ((const ref_index *)b)->ref_kpa;
    return x < y ? -1 : x > y;
}

/* Fill unknown directions from the sequence of |ref| (see cl_calib.h). */
static void infer_directions(cl_sensor_point *p, size_t n, double tol)
{
    cl_direction prev = CL_DIR_UNKNOWN, first = CL_DIR_UP;
    for (size_t i = 1; i < n; i++) {
        double d = fabs(p[i].ref_kpa) - fabs(p[i - 1].ref_kpa);
        if (fabs(d) > tol) {
            first = d > 0 ? CL_DIR_UP : CL_DIR_DOWN;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        cl_direction dir = prev == CL_DIR_UNKNOWN ? first : prev;
        if (i > 0) {
            double d = fabs(p[i].ref_kpa) - fabs(p[i - 1].ref_kpa);
            if (fabs(d) > tol)
                dir = d > 0 ? CL_DIR_UP : CL_DIR_DOWN;
        }
        if (p[i].direction == CL_DIR_UNKNOWN)
            p[i].direction = dir;
        prev = p[i].direction;
    }
}

/* Group points into setpoints, numbered by increasing reference; returns
 * the number of setpoints.  `order` has room for n entries. */
static size_t group_setpoints(cl_sensor_point *p, size_t n, double tol, ref_index *order)
{
    size_t ng = 0;
    for (size_t i = 0; i < n; i++)
        order[i] = (ref_index){p[i].ref_kpa, i};
    qsort(order, n, sizeof *order, cmp_ref);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && order[i].ref_kpa - order[i - 1].ref_kpa > tol)
            ng++;
        p[order[i].i].setpoint = ng;
    }
    return ng + 1;
}

static bool curve_monotonic(const cl_calib_fit *f, double lo, double hi)
{
    double prev = cl_calib_fit_eval(f, lo), sign = 0;
    for (int i = 1; i <= MONO_GRID; i++) {
        double y = cl_calib_fit_eval(f, lo + (hi - lo) * i / MONO_GRID);
        double s = y > prev ? 1 : y < prev ? -1 : 0;
        if (s == 0 || (sign != 0 && s != sign))
            return false;
        sign = s;
        prev = y;
    }
    return true;
}

typedef struct work {
    double *raw, *ref; /* per point, in input order */
} work;

/* Fit degree `deg` and compute every figure into d (arrays already
 * allocated: d->points, d->setpoints).  `trial` receives the summary. */
/* The fit's coefficients, covariance and figures into d, and each point's
 * fitted value and residual. */
static void take_fit(cl_sensor_calibration *d, int deg, const cl_calib_fit *fit)
{
    d->degree = deg;
    memset(d->coef, 0, sizeof d->coef);
    memset(d->cov, 0, sizeof d->cov);
    for (int i = 0; i <= deg; i++) {
        d->coef[i] = fit->coef[i];
        for (int j = 0; j <= deg; j++)
            d->cov[i][j] = fit->cov[i][j];
    }
    d->dof = fit->dof;
    d->residual_sd_kpa = fit->sigma;
    d->r2 = fit->r2;
    d->max_residual_kpa = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        cl_sensor_point *pt = &d->points[i];
        pt->fit_kpa = cl_calib_fit_eval(fit, pt->raw);
        pt->residual_kpa = pt->fit_kpa - pt->ref_kpa;
        if (fabs(pt->residual_kpa) > d->max_residual_kpa)
            d->max_residual_kpa = fabs(pt->residual_kpa);
    }
}

/* Index of a direction in the per-direction sums: up, down, unknown. */
static int dir_index(cl_direction dir)
{
    return dir == CL_DIR_UP ? 0 : dir == CL_DIR_DOWN ? 1 : 2;
}

/* Setpoint s's means by direction, hysteresis and repeatability; *ss and
 * *dof its sum of squares about the direction means and their degrees of
 * freedom. */
static void setpoint_stats(const cl_sensor_calibration *d, size_t s, cl_sensor_setpoint *sp,
                           double *ss, size_t *dof)
{
    double sum_ref = 0, sum_raw[3] = {0}, sum_res[3] = {0}, mean_res[3];
    size_t cnt[3] = {0}, total = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        const cl_sensor_point *pt = &d->points[i];
        if (pt->setpoint != s)
            continue;
        int k = dir_index(pt->direction);
        cnt[k]++;
        total++;
        sum_ref += pt->ref_kpa;
        sum_raw[k] += pt->raw;
        sum_res[k] += pt->residual_kpa;
    }
    for (int k = 0; k < 3; k++)
        mean_res[k] = cnt[k] ? sum_res[k] / (double)cnt[k] : NAN;
    sp->ref_kpa = total ? sum_ref / (double)total : NAN;
    sp->n_up = cnt[0];
    sp->n_down = cnt[1];
    sp->n_unknown = cnt[2];
    sp->raw_up = cnt[0] ? sum_raw[0] / (double)cnt[0] : NAN;
    sp->raw_down = cnt[1] ? sum_raw[1] / (double)cnt[1] : NAN;
    sp->error_up_kpa = mean_res[0];
    sp->error_down_kpa = mean_res[1];
    sp->hysteresis_kpa = cnt[0] && cnt[1] ? mean_res[1] - mean_res[0] : NAN;
    *ss = 0;
    *dof = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        const cl_sensor_point *pt = &d->points[i];
        if (pt->setpoint != s)
            continue;
        double r = pt->residual_kpa - mean_res[dir_index(pt->direction)];
        *ss += r * r;
    }
    for (int k = 0; k < 3; k++)
        *dof += cnt[k] > 1 ? cnt[k] - 1 : 0;
    sp->repeatability_kpa = *dof ? sqrt(*ss / (double)*dof) : NAN;
}

/* The expanded uncertainty at each point, setpoint and over the range;
 * trial->worst_kpa the largest |residual| + U at a point. */
static void uncertainty_budget(cl_sensor_calibration *d, const cl_calib_fit *fit,
                               const cl_calib_options *o, size_t dof_rep,
                               cl_sensor_trial *trial)
{
    d->k = CL_CALIB_K;
    d->u_rep_kpa = dof_rep ? d->repeatability_kpa : fit->sigma;
    d->u_hyst_kpa = isfinite(d->hysteresis_kpa) ? d->hysteresis_kpa / (2 * sqrt(3.0)) : 0;
    d->u_ref_kpa = o->ref_u_kpa / o->ref_k;
    d->u_max_kpa = 0;
    trial->worst_kpa = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        cl_sensor_point *pt = &d->points[i];
        pt->u_kpa = cl_sensor_calibration_u_kpa(d, pt->raw);
        if (pt->u_kpa > d->u_max_kpa)
            d->u_max_kpa = pt->u_kpa;
        double worst = fabs(pt->residual_kpa) + pt->u_kpa;
        if (!(worst <= trial->worst_kpa))
            trial->worst_kpa = worst;
    }
    for (int i = 0; i <= U_GRID; i++) {
        double u =
            cl_sensor_calibration_u_kpa(d, d->raw_min + (d->raw_max - d->raw_min) * i / U_GRID);
        if (u > d->u_max_kpa)
            d->u_max_kpa = u;
    }
    for (size_t s = 0; s < d->nsetpoints; s++) {
        cl_sensor_setpoint *sp = &d->setpoints[s];
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < d->npoints; i++)
            if (d->points[i].setpoint == s) {
                sum += d->points[i].raw;
                cnt++;
            }
        sp->u_kpa = cnt ? cl_sensor_calibration_u_kpa(d, sum / (double)cnt) : NAN;
    }
}

static int evaluate(cl_sensor_calibration *d, const work *wk, int deg,
                    const cl_calib_options *o, cl_sensor_trial *trial, cl_calib_fit *fit,
                    cl_error *err)
{
    double ss_rep = 0, h_max = NAN;
    size_t dof_rep = 0;
    int rc = cl_calib_polyfit(wk->raw, wk->ref, NULL, 1, d->npoints, deg, fit, err);
    if (rc != CL_OK)
        return rc;
    take_fit(d, deg, fit);
    for (size_t s = 0; s < d->nsetpoints; s++) {
        cl_sensor_setpoint *sp = &d->setpoints[s];
        double ss;
        size_t dof;
        setpoint_stats(d, s, sp, &ss, &dof);
        if (isfinite(sp->hysteresis_kpa) && !(fabs(sp->hysteresis_kpa) <= h_max))
            h_max = fabs(sp->hysteresis_kpa);
        ss_rep += ss;
        dof_rep += dof;
    }
    d->hysteresis_kpa = h_max;
    d->repeatability_kpa = dof_rep ? sqrt(ss_rep / (double)dof_rep) : NAN;
    d->repeats = dof_rep > 0;
    uncertainty_budget(d, fit, o, dof_rep, trial);
    trial->degree = deg;
    trial->monotonic = curve_monotonic(fit, d->raw_min, d->raw_max);
    trial->max_residual_kpa = d->max_residual_kpa;
    trial->u_max_kpa = d->u_max_kpa;
    trial->pass = isfinite(o->tolerance_kpa) && trial->worst_kpa <= o->tolerance_kpa;
    d->pass = trial->pass && trial->monotonic;
    return CL_OK;
}

/* Largest deviation of a setpoint's mean reading from the best straight
 * line (independent linearity), kPa; NaN when a line cannot be fitted. */
static double nonlinearity(const cl_sensor_calibration *d, const work *wk)
{
    cl_calib_fit line;
    double worst = NAN;
    if (cl_calib_polyfit(wk->raw, wk->ref, NULL, 1, d->npoints, 1, &line, NULL) != CL_OK)
        return NAN;
    for (size_t s = 0; s < d->nsetpoints; s++) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < d->npoints; i++)
            if (d->points[i].setpoint == s) {
                sum += cl_calib_fit_eval(&line, d->points[i].raw) - d->points[i].ref_kpa;
                cnt++;
            }
        double m = cnt ? fabs(sum / (double)cnt) : NAN;
        if (isfinite(m) && !(m <= worst))
            worst = m;
    }
    return worst;
}

/* The options and points are usable; [*lo, *hi] their reference range. */
static int check_inputs(const cl_sensor_point *pts, size_t n, const cl_calib_options *o,
                        double *lo, double *hi, cl_error *err)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    if (n < 2)
        return cl_error_set(err, CL_ERR_ARG, "too few points: %zu", n);
    if (o->degree < 0 || o->degree > CL_PROFILE_MAX_DEGREE)
        return cl_error_set(err, CL_ERR_ARG, "degree %d (1 to %d)", o->degree,
                            CL_PROFILE_MAX_DEGREE);
    if (!(o->ref_u_kpa >= 0) || !isfinite(o->ref_u_kpa) || !(o->ref_k > 0))
        return cl_error_set(err, CL_ERR_ARG,
                            "the reference instrument's uncertainty is missing or invalid");
    if (isfinite(o->tolerance_kpa) && !(o->tolerance_kpa > 0))
        return cl_error_set(err, CL_ERR_ARG, "tolerance must be positive");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(pts[i].ref_kpa) || !isfinite(pts[i].raw))
            return cl_error_set(err, CL_ERR_ARG, "point %zu: reference or reading not finite",
                                i + 1);
        if (pts[i].ref_kpa < *lo)
            *lo = pts[i].ref_kpa;
        if (pts[i].ref_kpa > *hi)
            *hi = pts[i].ref_kpa;
    }
    if (!(*hi > *lo))
        return cl_error_set(err, CL_ERR_ARG, "all reference pressures are equal (%.6g kPa)",
                            *lo);
    return CL_OK;
}

/* d's points (a copy of pts), their raw range and directions, grouped into
 * setpoints `tol` apart; wk gets the columns the fits use. */
static int take_points(cl_sensor_calibration *d, const cl_sensor_point *pts, size_t n,
                       double tol, work *wk, cl_error *err)
{
    ref_index *order = malloc(n * sizeof *order);
    d->points = malloc(n * sizeof *d->points);
    wk->raw = malloc(n * sizeof *wk->raw);
    wk->ref = malloc(n * sizeof *wk->ref);
    if (!d->points || !order || !wk->raw || !wk->ref) {
        free(order);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    memcpy(d->points, pts, n * sizeof *pts);
    d->npoints = n;
    d->raw_min = INFINITY;
    d->raw_max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        cl_sensor_point *p = &d->points[i];
        if (p->n_samples < 1)
            p->n_samples = 1;
        wk->raw[i] = p->raw;
        wk->ref[i] = p->ref_kpa;
        if (p->raw < d->raw_min)
            d->raw_min = p->raw;
        if (p->raw > d->raw_max)
            d->raw_max = p->raw;
    }
    infer_directions(d->points, n, tol);
    d->ascending = d->descending = false;
    for (size_t i = 0; i < n; i++) {
        d->ascending |= d->points[i].direction == CL_DIR_UP;
        d->descending |= d->points[i].direction == CL_DIR_DOWN;
    }
    d->nsetpoints = group_setpoints(d->points, n, tol, order);
    free(order);
    d->setpoints = calloc(d->nsetpoints, sizeof *d->setpoints);
    if (!d->setpoints)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    return CL_OK;
}

/* The raw readings must move one way with the reference. */
static int check_raw_monotonic(const cl_sensor_calibration *d, cl_error *err)
{
    double prev_raw = NAN, prev_ref = NAN, sign = 0;
    for (size_t s = 0; s < d->nsetpoints; s++) {
        double sr = 0, sf = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < d->npoints; i++)
            if (d->points[i].setpoint == s) {
                sr += d->points[i].raw;
                sf += d->points[i].ref_kpa;
                cnt++;
            }
        double raw = sr / (double)cnt, ref = sf / (double)cnt;
        if (s > 0) {
            double sg = raw > prev_raw ? 1 : raw < prev_raw ? -1 : 0;
            if (sg == 0 || (sign != 0 && sg != sign))
                return cl_error_set(err, CL_ERR_RANGE,
                                    "non-monotonic data: mean raw reading %.6g at %.6g kPa, "
                                    "%.6g at %.6g kPa",
                                    prev_raw, prev_ref, raw, ref);
            sign = sg;
        }
        prev_raw = raw;
        prev_ref = ref;
    }
    return CL_OK;
}

/* The degrees to try, [*from, *to], from the setpoints there are. */
static int degree_range(const cl_sensor_calibration *d, const cl_calib_options *o, int *from,
                        int *to, cl_error *err)
{
    const size_t ns = d->nsetpoints;
    int max_deg = ns >= 2 ? (int)ns - 2 : 0;
    if (max_deg > CL_PROFILE_MAX_DEGREE)
        max_deg = CL_PROFILE_MAX_DEGREE;
    if (o->degree > 0 && (size_t)o->degree + 2 > ns)
        return cl_error_set(err, CL_ERR_ARG,
                            "too few points for degree %d: %zu setpoints, need at least %d",
                            o->degree, ns, o->degree + 2);
    if (max_deg < 1)
        return cl_error_set(err, CL_ERR_ARG,
                            "too few points: %zu setpoints, need at least 3 for a straight "
                            "line",
                            ns);
    *from = o->degree > 0 ? o->degree : 1;
    *to = o->degree > 0 ? o->degree : max_deg;
    return CL_OK;
}

/* Try each degree (d->trials) and choose one: the one asked for; else the
 * lowest meeting the tolerance, or failing it the closest; without a
 * tolerance the lowest monotonic one whose next higher term is not
 * significant (|c| < 2 SE). */
static int choose_degree(cl_sensor_calibration *d, const work *wk, const cl_calib_options *o,
                         int *chosen, cl_error *err)
{
    int from = 0, to = 0, rc = degree_range(d, o, &from, &to, err);
    if (rc != CL_OK)
        return rc;
    double best = INFINITY;
    int best_deg = 0, first_mono = 0;
    cl_calib_fit fits[CL_PROFILE_MAX_DEGREE + 1];
    *chosen = 0;
    for (int deg = from; deg <= to; deg++) {
        cl_sensor_trial *t = &d->trials[d->ntrials];
        memset(t, 0, sizeof *t);
        if ((rc = evaluate(d, wk, deg, o, t, &fits[deg], err)) != CL_OK)
            return rc;
        d->ntrials++;
        if (!t->monotonic)
            continue;
        if (!first_mono)
            first_mono = deg;
        if (t->pass && !*chosen && o->degree == 0 && isfinite(o->tolerance_kpa))
            *chosen = deg;
        if (t->worst_kpa < best) {
            best = t->worst_kpa;
            best_deg = deg;
        }
    }
    if (o->degree > 0) {
        if (!d->trials[0].monotonic)
            return cl_error_set(err, CL_ERR_RANGE,
                                "the fitted polynomial of degree %d is not monotonic over "
                                "the calibrated range",
                                o->degree);
        *chosen = o->degree;
        return CL_OK;
    }
    if (*chosen)
        return CL_OK;
    if (!first_mono)
        return cl_error_set(err, CL_ERR_RANGE,
                            "no fitted polynomial of degree 1 to %d is monotonic over "
                            "the calibrated range",
                            to);
    if (isfinite(o->tolerance_kpa)) {
        *chosen = best_deg; /* fails the tolerance: the closest */
        return CL_OK;
    }
    *chosen = first_mono;
    for (int deg = first_mono + 1; deg <= to; deg++) {
        const cl_calib_fit *f = &fits[deg];
        if (!d->trials[deg - 1].monotonic || !(fabs(f->coef[deg]) >= 2 * f->se[deg]))
            break;
        *chosen = deg;
    }
    return CL_OK;
}

static void calibration_clear(cl_sensor_calibration *d)
{
    free(d->points);
    free(d->setpoints);
    d->points = NULL;
    d->setpoints = NULL;
    d->npoints = d->nsetpoints = d->ntrials = 0;
}

int cl_calib_sensor(const cl_sensor_point *pts, size_t n, const cl_calib_options *o,
                    cl_sensor_calibration *d, cl_error *err)
{
    work wk = {NULL, NULL};
    cl_calib_fit fit;
    cl_sensor_trial last;
    double lo, hi;
    int chosen = 0;

    calibration_clear(d);
    int rc = check_inputs(pts, n, o, &lo, &hi, err);
    if (rc != CL_OK)
        return rc;
    double tol = o->group_kpa > 0 ? o->group_kpa : 0.01 * (hi - lo);
    if ((rc = take_points(d, pts, n, tol, &wk, err)) == CL_OK &&
        (rc = check_raw_monotonic(d, err)) == CL_OK &&
        (rc = choose_degree(d, &wk, o, &chosen, err)) == CL_OK)
        rc = evaluate(d, &wk, chosen, o, &last, &fit, err);
    if (rc == CL_OK) {
        d->tolerance_kpa = o->tolerance_kpa;
        d->ref_u_kpa = o->ref_u_kpa;
        d->ref_k = o->ref_k;
        d->nonlinearity_kpa = nonlinearity(d, &wk);
        d->procedure_complete = d->nsetpoints >= CL_CALIB_MIN_SETPOINTS && d->ascending &&
                                d->descending && d->repeats;
    } else {
        calibration_clear(d);
    }
    free(wk.raw);
    free(wk.ref);
    return rc;
}
