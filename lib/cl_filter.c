/*
 * cl_filter: NaN-aware wrappers around GSL's median, impulse, Gaussian and
 * moving-statistics filters.  Each function bridges missing samples into a
 * contiguous work copy, runs the GSL filter with truncated ends, and puts
 * the missing samples back as NaN.
 */
#include "cl_filter.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_filter.h>
#include <gsl/gsl_movstat.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cl_filter_kind cl_filter_from_name(const char *name)
{
    if (!name)
        return CL_FILTER_NONE;
    if (!strcasecmp(name, "median"))
        return CL_FILTER_MEDIAN;
    if (!strcasecmp(name, "hampel") || !strcasecmp(name, "impulse"))
        return CL_FILTER_HAMPEL;
    if (!strcasecmp(name, "gaussian") || !strcasecmp(name, "gauss"))
        return CL_FILTER_GAUSSIAN;
    if (!strcasecmp(name, "mean") || !strcasecmp(name, "moving-average"))
        return CL_FILTER_MEAN;
    return CL_FILTER_NONE;
}

const char *cl_filter_name(cl_filter_kind k)
{
    switch (k) {
    case CL_FILTER_NONE: return "none";
    case CL_FILTER_MEDIAN: return "median";
    case CL_FILTER_HAMPEL: return "hampel";
    case CL_FILTER_GAUSSIAN: return "gaussian";
    case CL_FILTER_MEAN: return "mean";
    }
    return "unknown";
}

/* Odd window of at least 1 and at most n (n >= 1). */
static size_t odd_window(size_t window, size_t n)
{
    if (window < 1)
        window = 1;
    if (window % 2 == 0)
        window++;
    if (window > n)
        window = n % 2 ? n : n - 1;
    return window < 1 ? 1 : window;
}

/* Copy x into w (contiguous), bridging non-finite samples linearly.
 * Returns false if no sample is finite. */
static bool bridge(const double *x, size_t stride, size_t n, double *w)
{
    size_t last = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (!isfinite(v))
            continue;
        if (last == (size_t)-1) {
            for (size_t j = 0; j < i; j++)
                w[j] = v;
        } else {
            double a = x[last * stride];
            for (size_t j = last + 1; j < i; j++)
                w[j] = a + (v - a) * (double)(j - last) / (double)(i - last);
        }
        w[i] = v;
        last = i;
    }
    if (last == (size_t)-1)
        return false;
    for (size_t j = last + 1; j < n; j++)
        w[j] = x[last * stride];
    return true;
}

static void restore_missing(const double *x, size_t stride, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i * stride]))
            y[i] = NAN;
}

/* The truncated discrete derivative kernel does not answer exactly 1 to a
 * unit ramp; divide its output by its ramp response so that a rate in
 * units per sample comes out. */
static int unit_ramp(double *y, size_t n, size_t k, double alpha)
{
    gsl_vector *h = gsl_vector_alloc(k);
    if (!h)
        return GSL_ENOMEM;
    int st = gsl_filter_gaussian_kernel(alpha, 1, 1, h);
    double gain = 0;
    for (size_t j = 0; j < k; j++)
        gain += ((double)j - (double)(k / 2)) * gsl_vector_get(h, j);
    gsl_vector_free(h);
    gain = fabs(gain);
    if (st != GSL_SUCCESS || !(gain > 0))
        return st != GSL_SUCCESS ? st : GSL_EZERODIV;
    for (size_t i = 0; i < n; i++)
        y[i] /= gain;
    return GSL_SUCCESS;
}

/* Shared frame: bridge into a work vector, run `kind`, restore NaN. */
static int run(cl_filter_kind kind, const double *x, size_t stride, size_t n, size_t window,
               double param, double *y, size_t *nout, cl_error *err)
{
    double *w = NULL;
    int rc = CL_OK, st = GSL_SUCCESS;
    if (nout)
        *nout = 0;
    if (n == 0)
        return CL_OK;
    if (!x || !y || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "filter: invalid arguments");
    w = malloc(n * sizeof *w);
    if (!w)
        return cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory for %zu samples", n);
    if (!bridge(x, stride, n, w)) {
        for (size_t i = 0; i < n; i++)
            y[i] = NAN;
        goto out;
    }
    gsl_vector_view vx = gsl_vector_view_array(w, n);
    /* y may alias x (stride 1): the input lives in w from here on. */
    gsl_vector_view vy = gsl_vector_view_array(y, n);
    size_t k = odd_window(window, n);
    switch (kind) {
    case CL_FILTER_NONE:
        memcpy(y, w, n * sizeof *y);
        break;
    case CL_FILTER_MEDIAN: {
        gsl_filter_median_workspace *ws = gsl_filter_median_alloc(k);
        if (!ws) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        st = gsl_filter_median(GSL_FILTER_END_TRUNCATE, &vx.vector, &vy.vector, ws);
        gsl_filter_median_free(ws);
        break;
    }
    case CL_FILTER_HAMPEL: {
        gsl_filter_impulse_workspace *ws = gsl_filter_impulse_alloc(k);
        gsl_vector *med = gsl_vector_alloc(n), *sig = gsl_vector_alloc(n);
        size_t no = 0;
        if (!ws || !med || !sig) {
            gsl_filter_impulse_free(ws);
            gsl_vector_free(med);
            gsl_vector_free(sig);
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        st = gsl_filter_impulse(GSL_FILTER_END_TRUNCATE, GSL_FILTER_SCALE_MAD, param,
                                &vx.vector, &vy.vector, med, sig, &no, NULL, ws);
        if (nout)
            *nout = no;
        gsl_filter_impulse_free(ws);
        gsl_vector_free(med);
        gsl_vector_free(sig);
        break;
    }
    case CL_FILTER_GAUSSIAN: {
        /* window = 6 sigma + 1 samples, alpha = (K - 1) / (2 sigma). */
        size_t kg = odd_window((size_t)ceil(6 * param) + 1, n);
        if (kg < 3 && n >= 3)
            kg = 3;
        gsl_filter_gaussian_workspace *ws = gsl_filter_gaussian_alloc(kg);
        if (!ws) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        double alpha = (double)(kg - 1) / (2 * param);
        st = gsl_filter_gaussian(GSL_FILTER_END_PADVALUE, alpha, (size_t)window, &vx.vector,
                                 &vy.vector, ws);
        gsl_filter_gaussian_free(ws);
        if (st == GSL_SUCCESS && window == 1)
            st = unit_ramp(y, n, kg, alpha);
        break;
    }
    case CL_FILTER_MEAN: {
        gsl_movstat_workspace *ws = gsl_movstat_alloc(k);
        if (!ws) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        st = gsl_movstat_mean(GSL_MOVSTAT_END_TRUNCATE, &vx.vector, &vy.vector, ws);
        gsl_movstat_free(ws);
        break;
    }
    }
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "%s filter failed: %s", cl_filter_name(kind),
                          gsl_strerror(st));
        goto out;
    }
    restore_missing(x, stride, n, y);
out:
    free(w);
    return rc;
}

int cl_filter_median(const double *x, size_t stride, size_t n, size_t window, double *y,
                     cl_error *err)
{
    return run(CL_FILTER_MEDIAN, x, stride, n, window, 0, y, NULL, err);
}

int cl_filter_hampel(const double *x, size_t stride, size_t n, size_t window, double nsigma,
                     double *y, size_t *noutliers, cl_error *err)
{
    if (!(nsigma > 0))
        return cl_error_set(err, CL_ERR_ARG, "Hampel filter: threshold must be positive");
    return run(CL_FILTER_HAMPEL, x, stride, n, window, nsigma, y, noutliers, err);
}

int cl_filter_gaussian(const double *x, size_t stride, size_t n, double sigma_samples,
                       int order, double *y, cl_error *err)
{
    if (!(sigma_samples > 0) || !isfinite(sigma_samples) || order < 0 || order > 1)
        return cl_error_set(err, CL_ERR_ARG, "Gaussian filter: sigma must be positive, order 0 or 1");
    /* `window` carries the derivative order for this kind. */
    return run(CL_FILTER_GAUSSIAN, x, stride, n, (size_t)order, sigma_samples, y, NULL, err);
}

int cl_filter_mean(const double *x, size_t stride, size_t n, size_t window, double *y,
                   cl_error *err)
{
    return run(CL_FILTER_MEAN, x, stride, n, window, 0, y, NULL, err);
}

int cl_filter_apply(cl_filter_kind kind, const double *x, size_t stride, size_t n,
                    double width_samples, double *y, cl_error *err)
{
    size_t w = width_samples >= 1 ? (size_t)llround(width_samples) : 1;
    switch (kind) {
    case CL_FILTER_NONE: return run(CL_FILTER_NONE, x, stride, n, 1, 0, y, NULL, err);
    case CL_FILTER_MEDIAN: return cl_filter_median(x, stride, n, w, y, err);
    case CL_FILTER_HAMPEL: return cl_filter_hampel(x, stride, n, w, 3.0, y, NULL, err);
    case CL_FILTER_GAUSSIAN: return cl_filter_gaussian(x, stride, n, width_samples, 0, y, err);
    case CL_FILTER_MEAN: return cl_filter_mean(x, stride, n, w, y, err);
    }
    return cl_error_set(err, CL_ERR_ARG, "unknown filter %d", (int)kind);
}
