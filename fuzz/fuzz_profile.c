/*
 * libFuzzer target for the calibration-profile parser (built and run by
 * fuzz/fuzz.mk).  The input is a JSON text, parsed as a sensor profile and
 * as a cup set.  Invariants: a refused text comes with a message; a sensor
 * profile that parses evaluates to finite pressures over its raw range and
 * writes JSON that parses again and writes the same JSON; likewise a cup
 * set.  Seeds: the repository's profiles (datasets/calibration/profiles).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_cupset.h"
#include "cl_profile.h"
#include "cl_sensor.h"
#include "fuzz_file.h"

static void sensor(const char *text)
{
    cl_sensor_profile *p = NULL, *q = NULL;
    cl_error e;
    if (cl_sensor_profile_parse(text, &p, &e) != 0) {
        FUZZ_CHECK(p == NULL && e.msg[0]);
        return;
    }
    double lo, hi, raw;
    cl_sensor_profile_raw_range(p, &lo, &hi);
    if (isfinite(lo) && isfinite(hi)) { /* the parser checked the evaluation there */
        FUZZ_CHECK(isfinite(cl_sensor_profile_kpa(p, lo)));
        FUZZ_CHECK(isfinite(cl_sensor_profile_kpa(p, hi)));
        FUZZ_CHECK(!isinf(cl_sensor_profile_u_kpa(p, 0.5 * (lo + hi))));
    }
    if (cl_sensor_profile_raw_for_kpa(p, cl_sensor_profile_kpa(p, isfinite(lo) ? lo : 0), &raw,
                                      &e) != 0)
        FUZZ_CHECK(e.msg[0]);
    (void)cl_sensor_profile_check_valid(p, 0, &e);
    char *a = cl_sensor_profile_to_json(p);
    FUZZ_CHECK(a);
    if (cl_sensor_profile_parse(a, &q, &e) != 0) {
        fprintf(stderr, "written profile does not parse: %s\n%s\n", e.msg, a);
        FUZZ_CHECK(!"round trip");
    }
    char *b = cl_sensor_profile_to_json(q);
    FUZZ_CHECK(b && strcmp(a, b) == 0);
    free(a);
    free(b);
    cl_sensor_profile_free(q);
    cl_sensor_profile_free(p);
}

static void cupset(const char *text)
{
    cl_cupset *c = NULL, *d = NULL;
    cl_error e;
    if (cl_cupset_parse(text, &c, &e) != 0) {
        FUZZ_CHECK(c == NULL && e.msg[0]);
        return;
    }
    for (size_t i = 0; i < cl_cupset_count(c); i++)
        FUZZ_CHECK(cl_cupset_find(c, cl_cupset_get(c, i)->cup_id) != NULL);
    char *a = cl_cupset_to_json(c);
    FUZZ_CHECK(a);
    if (cl_cupset_parse(a, &d, &e) != 0) {
        fprintf(stderr, "written cup set does not parse: %s\n%s\n", e.msg, a);
        FUZZ_CHECK(!"round trip");
    }
    char *b = cl_cupset_to_json(d);
    FUZZ_CHECK(b && strcmp(a, b) == 0);
    free(a);
    free(b);
    cl_cupset_free(d);
    cl_cupset_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_file_text(data, size);
    const char *kind = cl_profile_kind(text);
    FUZZ_CHECK(!kind || !strcmp(kind, "sensor") || !strcmp(kind, "cupset"));
    sensor(text);
    cupset(text);
    free(text);
    return 0;
}
