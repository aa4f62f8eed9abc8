/*
 * libFuzzer target for the calibration CSV readers (built and run by
 * fuzz/fuzz.mk): the input is written to a scratch file and read as sensor
 * points (with and without a default unit), as a cup list and as a decay
 * recording.  Invariants: a refused file comes with a message naming it;
 * points that are read have finite reference pressures and raw readings,
 * at least one sample, and no negative SD; a decay has finite times and
 * pressures.  Seeds: the repository's points (datasets/calibration/points).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cl_calfile.h"
#include "fuzz_file.h"

static void points(const char *path, cl_unit unit)
{
    cl_sensor_point *p = NULL;
    size_t n = 0;
    cl_error e;
    if (cl_calfile_sensor_points(path, unit, &p, &n, &e) != 0) {
        FUZZ_CHECK(e.msg[0] && strstr(e.msg, path));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(isfinite(p[i].ref_kpa) && isfinite(p[i].raw));
        FUZZ_CHECK(p[i].n_samples >= 1);
        FUZZ_CHECK(!(p[i].raw_sd < 0));
    }
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write("points.csv", data, size);
    cl_cuprow *rows = NULL;
    double *t = NULL, *p = NULL;
    size_t n = 0;
    cl_error e;

    points(path, 0);
    points(path, CL_UNIT_MMHG);
    if (cl_calfile_cups(path, CL_UNIT_KPA, &rows, &n, &e) != 0)
        FUZZ_CHECK(e.msg[0] && strstr(e.msg, path));
    else
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(rows[i].cup && rows[i].cup[0]);
    cl_calfile_cups_free(rows, n);
    if (cl_calfile_decay(path, CL_UNIT_KPA, &t, &p, &n, &e) != 0) {
        FUZZ_CHECK(e.msg[0] && strstr(e.msg, path));
    } else {
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(isfinite(t[i]) && isfinite(p[i]));
        free(t);
        free(p);
    }
    return 0;
}
