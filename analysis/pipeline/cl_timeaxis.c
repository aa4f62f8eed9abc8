/* cl_timeaxis: a device's analysis time axis (see cl_timeaxis.h). */
#include "pipeline/cl_timeaxis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_units.h"

int cl_timeaxis_load(cl_timeaxis *ax, cl_session_reader *r, size_t d, const char *name,
                     cl_error *err)
{
    double *dev = NULL;
    size_t n = cl_session_rows(r, d);
    int rc = CL_OK;
    *ax = (cl_timeaxis){.n = n};
    ax->t = malloc((n ? n : 1) * sizeof *ax->t);
    ax->host = malloc((n ? n : 1) * sizeof *ax->host);
    dev = malloc((n < CL_TIMEAXIS_BLOCK ? (n ? n : 1) : CL_TIMEAXIS_BLOCK) * sizeof *dev);
    if (!ax->t || !ax->host || !dev) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory for %zu rows", name, n);
        goto out;
    }
    const cl_session_device *info = cl_session_device_info(r, d);
    /* A damaged time column (cl_session_unreadable) is done without: the
     * other clock bridges. */
    unsigned bad = cl_session_unreadable(r, d);
    double scale = bad & CL_SESSION_DEVICE_TIME ? 0 : cl_unit_time_s(info ? info->time_units : NULL);
    if (scale == 0)
        scale = NAN; /* no device clock to follow */
    double prev_dev = NAN;
    for (size_t start = 0; start < n; start += CL_TIMEAXIS_BLOCK) {
        size_t k = n - start < CL_TIMEAXIS_BLOCK ? n - start : CL_TIMEAXIS_BLOCK;
        if (bad & CL_SESSION_HOST_TIME)
            for (size_t j = 0; j < k; j++)
                ax->host[start + j] = NAN;
        else
            rc = cl_session_read_host_time(r, d, start, k, ax->host + start, err);
        if (rc == CL_OK && isfinite(scale))
            rc = cl_session_read_device_time(r, d, start, k, dev, err);
        if (rc != CL_OK)
            goto out;
        for (size_t j = 0; j < k; j++) {
            size_t i = start + j;
            double h = ax->host[i];
            if (i == 0) {
                ax->t[0] = isfinite(h) ? h : 0;
            } else {
                double step = isfinite(scale) ? (dev[j] - prev_dev) * scale : NAN;
                if (!(step >= 0 && step < CL_TIMEAXIS_MAX_STEP_S)) {
                    /* No device clock, or it jumped: the host clock bridges. */
                    step = h - ax->host[i - 1];
                    if (!(step >= 0))
                        step = 0;
                }
                ax->t[i] = ax->t[i - 1] + step;
            }
            if (isfinite(scale))
                prev_dev = dev[j];
        }
    }
out:
    free(dev);
    if (rc != CL_OK)
        cl_timeaxis_release(ax);
    return rc;
}

void cl_timeaxis_release(cl_timeaxis *ax)
{
    free(ax->t);
    free(ax->host);
    *ax = (cl_timeaxis){0};
}

double cl_timeaxis_map(const cl_timeaxis *ax, double h)
{
    if (ax->n == 0)
        return h;
    size_t lo = 0, hi = ax->n;
    while (lo < hi) { /* first row with host > h */
        size_t mid = lo + (hi - lo) / 2;
        if (ax->host[mid] <= h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return ax->t[0] - (ax->host[0] - h);
    size_t i = lo - 1;
    double off = h - ax->host[i];
    if (i + 1 < ax->n && off > ax->t[i + 1] - ax->t[i])
        off = ax->t[i + 1] - ax->t[i];
    return ax->t[i] + off;
}
