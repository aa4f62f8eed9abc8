/* cl_clock: device-to-host clock offset and drift from least-delayed
 * frames, fitted robustly with GSL. */
#include "engine/cl_clock.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIT_MAXITER 200

struct cl_clock {
    double unit_s, window0_s, window_s;
    double *dev_s, *host_s; /* kept point per closed window */
    size_t n;
    long window;            /* index of the open window, -1 none */
    double best_dev, best_host, best_lag;
};

cl_clock *cl_clock_new(double device_unit_s, double window_s)
{
    cl_clock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dev_s = malloc(CL_CLOCK_MAX_POINTS * sizeof *c->dev_s);
    c->host_s = malloc(CL_CLOCK_MAX_POINTS * sizeof *c->host_s);
    if (!c->dev_s || !c->host_s) {
        cl_clock_free(c);
        return NULL;
    }
    c->unit_s = device_unit_s > 0 ? device_unit_s : 1.0;
    c->window0_s = window_s > 0 ? window_s : CL_CLOCK_WINDOW_S;
    cl_clock_reset(c);
    return c;
}

void cl_clock_free(cl_clock *c)
{
    if (!c)
        return;
    free(c->dev_s);
    free(c->host_s);
    free(c);
}

static long window_of(const cl_clock *c, double host_s)
{
    return (long)floor(host_s / c->window_s);
}

/* Double the window width: points that now share a window keep the less
 * delayed one. */
static void widen(cl_clock *c)
{
    size_t m = 0;
    c->window_s *= 2;
    for (size_t i = 0; i < c->n; i++) {
        if (m > 0 && window_of(c, c->host_s[m - 1]) == window_of(c, c->host_s[i])) {
            if (c->host_s[i] - c->dev_s[i] < c->host_s[m - 1] - c->dev_s[m - 1]) {
                c->dev_s[m - 1] = c->dev_s[i];
                c->host_s[m - 1] = c->host_s[i];
            }
            continue;
        }
        c->dev_s[m] = c->dev_s[i];
        c->host_s[m] = c->host_s[i];
        m++;
    }
    c->n = m;
}

static void close_window(cl_clock *c)
{
    if (c->window < 0)
        return;
    while (c->n == CL_CLOCK_MAX_POINTS)
        widen(c);
    c->dev_s[c->n] = c->best_dev;
    c->host_s[c->n] = c->best_host;
    c->n++;
}

void cl_clock_add(cl_clock *c, double device_time, double host_s)
{
    double dev_s = device_time * c->unit_s;
    long w;
    if (!isfinite(dev_s) || !isfinite(host_s))
        return;
    w = window_of(c, host_s);
    if (w != c->window) {
        close_window(c);
        w = window_of(c, host_s); /* the width may have doubled */
        /* after a widening the last kept point may share the new window */
        if (c->n > 0 && window_of(c, c->host_s[c->n - 1]) == w) {
            c->n--;
            c->best_dev = c->dev_s[c->n];
            c->best_host = c->host_s[c->n];
            c->best_lag = c->best_host - c->best_dev;
        } else {
            c->best_lag = INFINITY;
        }
        c->window = w;
    }
    if (host_s - dev_s < c->best_lag) {
        c->best_lag = host_s - dev_s;
        c->best_dev = dev_s;
        c->best_host = host_s;
    }
}

void cl_clock_reset(cl_clock *c)
{
    c->n = 0;
    c->window = -1;
    c->window_s = c->window0_s;
    c->best_lag = INFINITY;
}

/* Robust straight line through (x - xref, y): c[0] at xref, c[1] slope. */
static int robust_line(const double *x, const double *y, size_t n, double xref,
                       cl_clock_fit *fit, cl_error *err)
{
    gsl_matrix *X = gsl_matrix_alloc(n, 2), *cov = gsl_matrix_alloc(2, 2);
    gsl_vector *Y = gsl_vector_alloc(n), *coef = gsl_vector_alloc(2);
    gsl_multifit_robust_workspace *w = gsl_multifit_robust_alloc(gsl_multifit_robust_bisquare,
                                                                 n, 2);
    int rc = CL_OK;

    if (!X || !cov || !Y || !coef || !w) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        gsl_matrix_set(X, i, 0, 1.0);
        gsl_matrix_set(X, i, 1, x[i] - xref);
        gsl_vector_set(Y, i, y[i]);
    }
    gsl_multifit_robust_maxiter(FIT_MAXITER, w);
    int grc = gsl_multifit_robust(X, Y, coef, cov, w);
    double slope = gsl_vector_get(coef, 1);
    /* not converging within FIT_MAXITER still leaves a usable estimate */
    if ((grc != GSL_SUCCESS && grc != GSL_EMAXITER) || !isfinite(slope)) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "clock fit failed: %s", gsl_strerror(grc));
        goto out;
    }
    gsl_multifit_robust_stats st = gsl_multifit_robust_statistics(w);
    *fit = (cl_clock_fit){
        .points = n,
        .ref_device_s = xref,
        .offset_s = gsl_vector_get(coef, 0),
        .slope = slope,
        .drift_ppm = (slope - 1.0) * 1e6,
        .offset_se_s = sqrt(gsl_matrix_get(cov, 0, 0)),
        .slope_se = sqrt(gsl_matrix_get(cov, 1, 1)),
        .residual_sd_s = st.sigma,
    };
out:
    gsl_multifit_robust_free(w);
    gsl_vector_free(coef);
    gsl_vector_free(Y);
    gsl_matrix_free(cov);
    gsl_matrix_free(X);
    return rc;
}

int cl_clock_estimate(const cl_clock *c, cl_clock_fit *fit, cl_error *err)
{
    size_t n = c->n;
    double xref = 0;

    memset(fit, 0, sizeof *fit);
    /* The open window's point is complete enough to use when estimating. */
    if (c->window >= 0 && isfinite(c->best_lag))
        n++;
    if (n < 3)
        return cl_error_set(err, CL_ERR_ARG, "clock: %zu points, need 3", n);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    memcpy(x, c->dev_s, c->n * sizeof *x);
    memcpy(y, c->host_s, c->n * sizeof *y);
    if (n > c->n) {
        x[c->n] = c->best_dev;
        y[c->n] = c->best_host;
    }
    for (size_t i = 0; i < n; i++)
        xref += x[i];
    xref /= (double)n;
    int rc = robust_line(x, y, n, xref, fit, err);
    free(x);
    free(y);
    return rc;
}
