/* Unit tests for acquire/status: the terminal status block. */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_units.h"
#include "status.h"

/* kPa = -120 + 0.032 raw: raw 3750 is ambient, 3000 is 24 kPa of vacuum. */
static const char profile[] =
    "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\",\n"
    " \"sensor\": {\"serial\": \"HAND-1\"},\n"
    " \"transfer\": {\"coefficients\": [-120.0, 0.032]}}";

#define NCUPS 12

typedef struct fixture {
    cl_sensor_profile *p;
    const cl_sensor_profile *ps[1];
    char ids[NCUPS][16];
    cl_acq_cup cups[NCUPS];
    cl_acq_device_status dev[2];
    cl_acq_status st;
} fixture;

/* Two devices of 6 channels; C1..C6 on the first with the profile's
 * sensor, C7..C12 on the second without a profile. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cl_error e;
    assert_int_equal(cl_sensor_profile_parse(profile, &f->p, &e), CL_OK);
    f->ps[0] = f->p;
    for (int k = 0; k < NCUPS; k++) {
        snprintf(f->ids[k], sizeof f->ids[k], "C%d", k + 1);
        f->cups[k] = (cl_acq_cup){f->ids[k], (uint16_t)(k / 6), (uint16_t)(k % 6),
                                  k < 6 ? "HAND-1" : ""};
    }
    for (int i = 0; i < 2; i++)
        f->dev[i] = (cl_acq_device_status){
            .port = i ? "/dev/serial/by-id/usb-Arduino__www.arduino.cc__0043_75834353-if00"
                      : "/dev/ttyACM0",
            .channels = 6, .connected = true, .rate_hz = 200, .last_frame_s = 61.5,
            .counters = {.checksum_errors = (uint64_t)i * 3}};
    for (int k = 0; k < NCUPS; k++)
        f->dev[k / 6].last[k % 6] = 3000 + 10 * k;
    f->st = (cl_acq_status){.elapsed_s = 62, .ndevices = 2, .devices = f->dev,
                            .rows_written = 24000, .cups = f->cups, .ncups = NCUPS};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cl_sensor_profile_free(f->p);
    free(f);
    return 0;
}

/* The lines of text, each checked to fit `width` columns. */
static int lines_of(char *text, char **line, int cap, int width)
{
    int n = 0;
    for (char *l = strtok(text, "\n"); l && n < cap; l = strtok(NULL, "\n")) {
        assert_true(strlen(l) <= (size_t)width);
        line[n++] = l;
    }
    return n;
}

/* 12 cups fit 80 columns in 3 lines, after the header and a line per
 * device; calibrated cups show vacuum (positive) in mmHg, the others counts. */
static void test_block_80(void **state)
{
    fixture *f = *state;
    char text[4096], *line[16];
    int n = acq_status_render(text, sizeof text, &f->st, f->ps, 1, 1.5, 80);
    assert_int_equal(n, 1 + 2 + 3);
    assert_int_equal(lines_of(text, line, 16, 80), n);
    assert_non_null(strstr(line[0], "62.0 s"));
    assert_non_null(strstr(line[0], "24000 rows"));
    assert_non_null(strstr(line[0], "1.5 MB"));
    assert_non_null(strstr(line[1], "/dev/ttyACM0"));
    assert_non_null(strstr(line[1], "200 Hz"));
    assert_non_null(strstr(line[1], "no errors"));
    assert_non_null(strstr(line[2], "errors: checksum 3"));
    for (int k = 0; k < NCUPS; k++) {
        char id[16], unit[8];
        double v;
        const char *at = line[3 + k / 4];
        snprintf(id, sizeof id, "C%d ", k + 1);
        const char *c = strstr(at, id);
        assert_non_null(c);
        assert_int_equal(sscanf(c + strlen(id), "%lf %7s", &v, unit), 2);
        double raw = 3000 + 10 * k;
        if (k < 6) {
            assert_string_equal(unit, "mmHg");
            assert_near(v, cl_unit_from_kpa(120 - 0.032 * raw, CL_UNIT_MMHG), 0.05);
            assert_true(v > 0);
        } else {
            assert_string_equal(unit, "counts");
            assert_near(v, raw, 0.5);
        }
    }
}

/* A gone device says for how long; its cups have no value; a narrow
 * terminal gets fewer cups to a line, never a longer line. */
static void test_gone_and_narrow(void **state)
{
    fixture *f = *state;
    char text[4096], *line[32];
    f->dev[0].connected = false;
    f->dev[0].last_frame_s = 50;
    int n = acq_status_render(text, sizeof text, &f->st, f->ps, 1, -1, 40);
    assert_int_equal(n, 1 + 2 + 6);
    assert_int_equal(lines_of(text, line, 32, 40), n);
    assert_null(strstr(line[0], "MB"));
    assert_non_null(strstr(line[1], "GONE 12 s"));
    assert_non_null(strstr(line[3], "C1 "));
    assert_non_null(strstr(line[3], "-- mmHg"));
}

/* A reading at an end of the ADC's range (12 bits announced) says SAT
 * instead of its unit, calibrated or not; unknown resolution: never. */
static void test_saturated(void **state)
{
    fixture *f = *state;
    char text[4096];
    f->dev[0].last[1] = 4095;
    f->dev[1].last[2] = 0;
    f->dev[1].last[3] = 4094;
    assert_int_equal(acq_status_render(text, sizeof text, &f->st, f->ps, 1, 2, 80), 6);
    assert_null(strstr(text, "SAT"));
    f->dev[0].adc_bits = f->dev[1].adc_bits = 12;
    assert_int_equal(acq_status_render(text, sizeof text, &f->st, f->ps, 1, 2, 80), 6);
    assert_non_null(strstr(text, "C2 "));
    assert_non_null(strstr(strstr(text, "C2 "), "SAT"));
    assert_true(strstr(strstr(text, "C2 "), "SAT") < strstr(text, "C3 "));
    assert_non_null(strstr(text, "C9         0 SAT    C10 "));
    assert_non_null(strstr(text, "C10     4094 counts"));
    assert_int_equal(acq_status_render(text, sizeof text, &f->st, f->ps, 1, 2, 0), 1);
    assert_non_null(strstr(text, " C9 0 SAT"));
}

/* Width 0: one line with everything. */
static void test_one_line(void **state)
{
    fixture *f = *state;
    char text[4096];
    assert_int_equal(acq_status_render(text, sizeof text, &f->st, f->ps, 1, 2, 0), 1);
    assert_null(strchr(text, '\n'));
    assert_non_null(strstr(text, "| /dev/ttyACM0 200 Hz"));
    assert_non_null(strstr(text, " C12 3110 counts"));
}

/* The example of docs/recording.md ("The terminal status") is this
 * fixture with the second device gone for 12 s. */
static void test_docs_example(void **state)
{
    fixture *f = *state;
    char text[4096], block[4200];
    f->dev[1].connected = false;
    f->dev[1].last_frame_s = 50;
    acq_status_render(text, sizeof text, &f->st, f->ps, 1, 1.5, 80);
    size_t n = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
        n += (size_t)snprintf(block + n, sizeof block - n, "\n    %s", l);
    size_t len;
    char *doc = unit_read_file("docs/recording.md", &len);
    if (!strstr(doc, block))
        fail_msg("docs/recording.md lacks the example as rendered now:%s", block);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_block_80, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_and_narrow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saturated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_docs_example, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
