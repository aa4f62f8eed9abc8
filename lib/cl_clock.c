/* cl_clock: device-to-host clock offset and drift from least-delayed
 * frames, fitted with GSL. */
#include "cl_clock.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cl_clock {
    double unit_s, bucket_s;
    double *dev_s, *host_s; /* kept point per closed bucket */
    size_t n, cap;
    long bucket;            /* index of the open bucket, -1 none */
    double best_dev, best_host, best_lag;
};

cl_clock *cl_clock_new(double device_unit_s, double bucket_s)
{
    cl_clock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->unit_s = device_unit_s > 0 ? device_unit_s : 1.0;
    c->bucket_s = bucket_s > 0 ? bucket_s : 0.1;
    c->bucket = -1;
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

static void close_bucket(cl_clock *c)
{
    if (c->bucket < 0)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *d = realloc(c->dev_s, cap * sizeof *d);
        if (!d)
            return;
        c->dev_s = d;
        d = realloc(c->host_s, cap * sizeof *d);
        if (!d)
            return;
        c->host_s = d;
        c->cap = cap;
    }
    c->dev_s[c->n] = c->best_dev;
    c->host_s[c->n] = c->best_host;
    c->n++;
}

void cl_clock_add(cl_clock *c, double device_time, double host_s)
{
    double dev_s = device_time * c->unit_s;
    long b;
    if (!isfinite(dev_s) || !isfinite(host_s))
        return;
    b = (long)floor(host_s / c->bucket_s);
    if (b != c->bucket) {
        close_bucket(c);
        c->bucket = b;
        c->best_lag = INFINITY;
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
    c->bucket = -1;
}

int cl_clock_estimate(const cl_clock *c, cl_clock_fit *fit, cl_error *err)
{
    double c0, c1, cov00, cov01, cov11, sumsq;
    size_t n = c->n;

    memset(fit, 0, sizeof *fit);
    /* The open bucket's point is complete enough to use when estimating. */
    if (c->bucket >= 0 && isfinite(c->best_lag))
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
    int rc = gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    free(x);
    free(y);
    if (rc != GSL_SUCCESS || !isfinite(c1))
        return cl_error_set(err, CL_ERR_NUMERIC, "clock fit failed: %s", gsl_strerror(rc));
    *fit = (cl_clock_fit){
        .points = n,
        .offset_s = c0,
        .slope = c1,
        .drift_ppm = (c1 - 1.0) * 1e6,
        .offset_se_s = sqrt(cov00),
        .slope_se = sqrt(cov11),
        .residual_sd_s = n > 2 ? sqrt(sumsq / (double)(n - 2)) : 0,
    };
    return CL_OK;
}

double cl_clock_unit_seconds(const char *units)
{
    if (!units)
        return 0;
    if (!strcmp(units, "us"))
        return 1e-6;
    if (!strcmp(units, "ms"))
        return 1e-3;
    if (!strcmp(units, "s"))
        return 1.0;
    return 0;
}
