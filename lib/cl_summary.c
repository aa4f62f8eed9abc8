/* cl_summary: streaming per-cup summary of raw readings. */
#include "cl_summary.h"

#include <math.h>
#include <stdlib.h>

#define BLOCK 65536

int cl_summary_cup(cl_session_reader *r, size_t cup, cl_cup_summary *out, cl_error *err)
{
    const cl_session_cup *c = cl_session_cup_info(r, cup);
    double *buf = NULL, sum = 0, first_t = NAN, last_t = NAN;
    size_t rows, finite = 0;
    int rc = CL_OK;

    *out = (cl_cup_summary){.min_raw = NAN, .max_raw = NAN, .mean_raw = NAN, .duration_s = 0};
    if (!c)
        return cl_error_set(err, CL_ERR_ARG, "no cup %zu", cup);
    rows = cl_session_rows(r, c->device);
    out->samples = rows;
    if (rows == 0)
        return CL_OK;
    buf = malloc(BLOCK * sizeof *buf);
    if (!buf)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t start = 0; start < rows; start += BLOCK) {
        size_t n = rows - start < BLOCK ? rows - start : BLOCK;
        rc = cl_session_read_channel(r, c->device, c->channel, start, n, buf, err);
        if (rc != CL_OK)
            goto out;
        for (size_t i = 0; i < n; i++) {
            double v = buf[i];
            if (!isfinite(v)) {
                out->missing++;
                continue;
            }
            if (finite == 0 || v < out->min_raw)
                out->min_raw = v;
            if (finite == 0 || v > out->max_raw)
                out->max_raw = v;
            sum += v;
            finite++;
        }
    }
    if (finite)
        out->mean_raw = sum / (double)finite;
    rc = cl_session_read_host_time(r, c->device, 0, 1, &first_t, err);
    if (rc == CL_OK)
        rc = cl_session_read_host_time(r, c->device, rows - 1, 1, &last_t, err);
    if (rc == CL_OK)
        out->duration_s = last_t - first_t;
out:
    free(buf);
    return rc;
}
