/*
 * Unit tests of cl_cohortsession: a session packed for the pipe and
 * unpacked again keeps its metadata, its cups and their curves; a block cut
 * short, too short for its header or with a damaged header is refused.
 * (Reading session files is exercised end to end by the cohort
 * integration tests.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cohort/cl_cohortsession.h"

static void pack(void **state)
{
    (void)state;
    cl_cohortsession_cup cups[2];
    memset(cups, 0, sizeof cups);
    snprintf(cups[0].site, sizeof cups[0].site, "neck");
    snprintf(cups[1].site, sizeof cups[1].site, "back");
    cups[0].span_s = 600;
    cups[1].span_s = NAN;
    for (int i = 0; i < CL_COHORTSESSION_POINTS; i++) {
        cups[0].curve[i] = 33;
        cups[1].curve[i] = NAN;
    }
    cl_cohortsession s = {.ncups = 2, .cups = cups}, t;
    snprintf(s.practitioner, sizeof s.practitioner, "P1");
    void *buf;
    size_t len;
    assert_int_equal(cl_cohortsession_pack(&s, &buf, &len, NULL), CL_OK);
    assert_int_equal(cl_cohortsession_unpack(buf, len, &t, NULL), CL_OK);
    assert_int_equal(t.ncups, 2);
    assert_string_equal(t.practitioner, "P1");
    assert_string_equal(t.cups[1].site, "back");
    assert_close(t.cups[0].curve[50], 33, 0, 0);
    assert_true(isnan(t.cups[1].span_s));
    cl_cohortsession_release(&t);
    assert_null(t.cups);
    cl_error err;
    assert_int_equal(cl_cohortsession_unpack(buf, len - 1, &t, &err), CL_ERR_FORMAT);
    assert_int_equal(cl_cohortsession_unpack(buf, 8, &t, &err), CL_ERR_FORMAT);
    ((unsigned char *)buf)[0] ^= 0xFF;
    assert_int_equal(cl_cohortsession_unpack(buf, len, &t, &err), CL_ERR_FORMAT);
    free(buf);
    cl_cohortsession_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
