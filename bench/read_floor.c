/*
 * read_floor: the least any analysis of a session file has to do, for the
 * analysis benchmark (bench/analysis.sh).  Opens the file with the session
 * reader and reads what cuplab-analyze reads, in the same blocks: the host
 * and device time columns of every device once, then every cup's channel.
 * The values are summed so that no read can be optimised away; prints the
 * rows, the samples read and the sum.
 *
 *   read_floor FILE
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cl_error.h"
#include "cl_session_read.h"

#define BLOCK 65536

static double sum_finite(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s += x[i];
    return s;
}

int main(int argc, char **argv)
{
    cl_session_reader *r = NULL;
    cl_error err;
    double *buf = NULL, sum = 0;
    size_t rows = 0, samples = 0;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: read_floor FILE\n");
        return 2;
    }
    if (cl_session_open(&r, argv[1], &err) != CL_OK) {
        fprintf(stderr, "read_floor: %s\n", err.msg);
        return 1;
    }
    buf = malloc(BLOCK * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "read_floor: out of memory\n");
        cl_session_reader_close(r);
        return 1;
    }
    for (size_t d = 0; d < cl_session_device_count(r); d++) {
        size_t n = cl_session_rows(r, d);
        rows += n;
        for (size_t start = 0; start < n; start += BLOCK) {
            size_t k = n - start < BLOCK ? n - start : BLOCK;
            rc = cl_session_read_host_time(r, d, start, k, buf, &err);
            if (rc != CL_OK)
                goto fail;
            sum += sum_finite(buf, k);
            rc = cl_session_read_device_time(r, d, start, k, buf, &err);
            if (rc != CL_OK)
                goto fail;
            sum += sum_finite(buf, k);
        }
    }
    for (size_t c = 0; c < cl_session_cup_count(r); c++) {
        const cl_session_cup *cup = cl_session_cup_info(r, c);
        size_t n = cl_session_rows(r, cup->device);
        for (size_t start = 0; start < n; start += BLOCK) {
            size_t k = n - start < BLOCK ? n - start : BLOCK;
            rc = cl_session_read_channel(r, cup->device, cup->channel, start, k, buf, &err);
            if (rc != CL_OK)
                goto fail;
            sum += sum_finite(buf, k);
            samples += k;
        }
    }
    printf("rows %zu samples %zu sum %.17g\n", rows, samples, sum);
    free(buf);
    cl_session_reader_close(r);
    return 0;
fail:
    fprintf(stderr, "read_floor: %s\n", err.msg);
    free(buf);
    cl_session_reader_close(r);
    return 1;
}
