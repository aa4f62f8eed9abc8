/*
 * Unit tests of cl_calfile: the CSV inputs of a calibration read value by
 * value (units from the column name, a unit column or the default; several
 * raw readings averaged; quoting and comments), the points written back and
 * re-read, kept one by one as they are taken, and every malformed input
 * with a message naming file and line.
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
#include <unistd.h>

#include "unit.h"
#include "engine/cl_calfile.h"

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_create("calfile");
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmpdir_destroy();
}

/* Write `text` to the scratch folder's `name`; returns the path (static buffer). */
static const char *file(const char *name, const char *text)
{
    static char path[1100];
    unit_write_file(unit_path(path, sizeof path, name), text);
    return path;
}

static void test_points_units(void **state)
{
    (void)state;
    cl_sensor_point *p;
    size_t n;
    cl_error e;
    const char *path = file("a.csv", "# a comment\n"
                                     "ref_mmHg, raw1, raw2, raw3, direction, temperature_c\r\n"
                                     "0, 3767, 3768, 3769, up, 21.5\r\n"
                                     "\n"
                                     "-300, 2510, 2512,, down,\r\n");
    assert_int_equal(cl_calfile_sensor_points(path, 0, &p, &n, &e), CL_OK);
    assert_int_equal(n, 2);
    assert_near(p[0].ref_kpa, 0, 0);
    assert_near(p[0].raw, 3768, 1e-12);
    assert_near(p[0].raw_sd, 1, 1e-12);
    assert_int_equal(p[0].n_samples, 3);
    assert_int_equal(p[0].direction, CL_DIR_UP);
    assert_near(p[0].temperature_c, 21.5, 0);
    assert_near(p[1].ref_kpa, -300 * CL_KPA_PER_MMHG, 1e-12);
    assert_near(p[1].raw, 2511, 1e-12);
    assert_int_equal(p[1].n_samples, 2);
    assert_int_equal(p[1].direction, CL_DIR_DOWN);
    assert_true(isnan(p[1].temperature_c));
    free(p);

    /* per-row unit column; raw with raw_sd and n */
    path = file("b.csv", "ref,unit,raw,raw_sd,n,dir\n"
                         "-10,kPa,3400.5,0.8,50,\n"
                         "-100,mbar,3450.25,0.7,40,asc\n"
                         "\"-1.5\",psi,\"3100\",,,desc\n");
    assert_int_equal(cl_calfile_sensor_points(path, 0, &p, &n, &e), CL_OK);
    assert_int_equal(n, 3);
    assert_near(p[0].ref_kpa, -10, 1e-12);
    assert_near(p[1].ref_kpa, -10, 1e-12);
    assert_near(p[2].ref_kpa, -1.5 * CL_KPA_PER_PSI, 1e-12);
    assert_near(p[0].raw_sd, 0.8, 0);
    assert_int_equal(p[0].n_samples, 50);
    assert_int_equal(p[0].direction, CL_DIR_UNKNOWN);
    assert_int_equal(p[1].direction, CL_DIR_UP);
    assert_int_equal(p[2].direction, CL_DIR_DOWN);
    assert_true(isnan(p[2].raw_sd));
    free(p);

    /* the default unit when the file says nothing */
    path = file("c.csv", "reference,raw\n-20,3000\n");
    assert_int_equal(cl_calfile_sensor_points(path, CL_UNIT_INHG, &p, &n, &e), CL_OK);
    assert_near(p[0].ref_kpa, -20 * CL_KPA_PER_INHG, 1e-12);
    free(p);
}

static void expect(const char *name, const char *text, cl_unit dflt, int code, const char *part)
{
    cl_sensor_point *p = (cl_sensor_point *)1;
    size_t n = 7;
    cl_error e = {0};
    const char *path = file(name, text);
    assert_int_equal(cl_calfile_sensor_points(path, dflt, &p, &n, &e), code);
    assert_null(p);
    assert_int_equal(n, 0);
    if (!strstr(e.msg, part) || !strstr(e.msg, name))
        printf("# message: %s\n", e.msg);
    assert_non_null(strstr(e.msg, part));
    assert_non_null(strstr(e.msg, name)); /* names the file */
}

static void test_points_errors(void **state)
{
    (void)state;
    expect("u1.csv", "ref,raw\n-10,3000\n", 0, CL_ERR_ARG, "reference unit is unknown");
    expect("u2.csv", "ref,unit,raw\n-10,bar,3000\n", 0, CL_ERR_ARG, "u2.csv:2: unknown unit");
    expect("u3.csv", "ref_atm,raw\n-1,3000\n", 0, CL_ERR_ARG, "unknown unit 'atm'");
    expect("u4.csv", "ref,unit,raw\n-10,,3000\n", 0, CL_ERR_ARG, "u4.csv:2: the unit of ref");
    expect("m1.csv", "pressure,raw\n1,2\n", CL_UNIT_KPA, CL_ERR_FORMAT, "no reference column");
    expect("m2.csv", "ref,counts\n1,2\n", CL_UNIT_KPA, CL_ERR_FORMAT, "no raw reading column");
    expect("m3.csv", "ref,raw\n1,\n", CL_UNIT_KPA, CL_ERR_FORMAT, "m3.csv:2: no raw reading");
    expect("m4.csv", "ref,raw\n,5\n", CL_UNIT_KPA, CL_ERR_FORMAT, "no reference value");
    expect("n1.csv", "ref,raw\n1,2x\n", CL_UNIT_KPA, CL_ERR_FORMAT, "'2x' is not a number");
    expect("n2.csv", "ref,raw\n1,2\n3,inf\n", CL_UNIT_KPA, CL_ERR_FORMAT, "n2.csv:3");
    expect("d1.csv", "ref,raw,direction\n1,2,sideways\n", CL_UNIT_KPA, CL_ERR_FORMAT,
           "direction 'sideways'");
    expect("e1.csv", "", CL_UNIT_KPA, CL_ERR_FORMAT, "empty");
    expect("e2.csv", "ref,raw\n", CL_UNIT_KPA, CL_ERR_FORMAT, "no calibration points");
    expect("q1.csv", "ref,raw\n\"1,2\n", CL_UNIT_KPA, CL_ERR_FORMAT, "unterminated quote");
    expect("q2.csv", "ref,raw\n\"1\"x,2\n", CL_UNIT_KPA, CL_ERR_FORMAT, "after a closing");
    expect("h1.csv", "ref,raw,ref\n1,2,3\n", CL_UNIT_KPA, CL_ERR_FORMAT, "appears twice");
    expect("s1.csv", "ref,raw,raw_sd\n1,2,-1\n", CL_UNIT_KPA, CL_ERR_FORMAT, "negative raw_sd");
    expect("s2.csv", "ref,raw,n\n1,2,0.5\n", CL_UNIT_KPA, CL_ERR_FORMAT, "positive count");
    cl_sensor_point *p;
    size_t n;
    cl_error e;
    char missing[128];
    unit_path(missing, sizeof missing, "none.csv");
    assert_int_equal(cl_calfile_sensor_points(missing, 0, &p, &n, &e), CL_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "none.csv"));
}

static void test_points_write(void **state)
{
    (void)state;
    cl_sensor_point in[3] = {
        {.ref_kpa = -1.0 / 3,
         .raw = 3001.123456789,
         .raw_sd = 0.25,
         .n_samples = 30,
         .direction = CL_DIR_UP,
         .temperature_c = 20.5},
        {.ref_kpa = -40,
         .raw = 2500,
         .raw_sd = NAN,
         .n_samples = 1,
         .direction = CL_DIR_DOWN,
         .temperature_c = NAN},
        {.ref_kpa = -80,
         .raw = 1900.5,
         .raw_sd = 1,
         .n_samples = 2,
         .direction = CL_DIR_UNKNOWN,
         .temperature_c = NAN},
    };
    char path[128];
    cl_sensor_point *p;
    size_t n;
    cl_error e;
    unit_path(path, sizeof path, "saved.csv");
    assert_int_equal(cl_calfile_write_points(path, in, 3, false, &e), CL_OK);
    assert_int_equal(cl_calfile_write_points(path, in, 3, false, &e), CL_ERR_EXISTS);
    assert_int_equal(cl_calfile_sensor_points(path, 0, &p, &n, &e), CL_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(p[i].ref_kpa == in[i].ref_kpa); /* %.17g: exact */
        assert_true(p[i].raw == in[i].raw);
        assert_int_equal(p[i].n_samples, in[i].n_samples);
        assert_int_equal(p[i].direction, in[i].direction);
    }
    assert_true(p[0].raw_sd == 0.25 && isnan(p[1].raw_sd));
    assert_true(p[0].temperature_c == 20.5 && isnan(p[2].temperature_c));
    free(p);
}

/* Points kept as they are taken: each add is on disk at once (read back
 * while the log is still open), an existing file is refused, and appending
 * continues a file whose last row lost its newline on a new row. */
static void test_points_log(void **state)
{
    (void)state;
    cl_sensor_point a = {.ref_kpa = 0, .raw = 3750.25, .raw_sd = 0.5, .n_samples = 50,
                         .direction = CL_DIR_UP, .temperature_c = NAN};
    cl_sensor_point b = a;
    b.ref_kpa = -10.5;
    b.raw = 3420;
    char path[128];
    cl_sensor_point *p;
    size_t n;
    cl_error e;
    cl_calfile_points_log *lg, *lg2;
    unit_path(path, sizeof path, "log.csv");
    assert_int_equal(cl_calfile_points_log_open(&lg, path, false, false, &e), CL_OK);
    assert_int_equal(cl_calfile_points_log_open(&lg2, path, false, false, &e), CL_ERR_EXISTS);
    assert_non_null(strstr(e.msg, "log.csv exists (not replaced without --force)"));
    assert_null(lg2);
    assert_int_equal(cl_calfile_points_log_add(lg, &a, &e), CL_OK);
    assert_int_equal(cl_calfile_sensor_points(path, 0, &p, &n, &e), CL_OK);
    assert_int_equal(n, 1);
    assert_true(p[0].raw == a.raw && p[0].n_samples == 50 && p[0].direction == CL_DIR_UP);
    free(p);
    cl_calfile_points_log_close(lg);
    /* A torn last row (no newline): the next row starts on a line of its own. */
    FILE *f = fopen(path, "a");
    fputs("-5,3600,,1,up,", f);
    fclose(f);
    assert_int_equal(cl_calfile_points_log_open(&lg, path, false, true, &e), CL_OK);
    assert_int_equal(cl_calfile_points_log_add(lg, &b, &e), CL_OK);
    cl_calfile_points_log_close(lg);
    assert_int_equal(cl_calfile_sensor_points(path, 0, &p, &n, &e), CL_OK);
    assert_int_equal(n, 3);
    assert_true(p[1].ref_kpa == -5 && p[2].ref_kpa == b.ref_kpa && p[2].raw == b.raw);
    free(p);
    /* --force starts afresh; appending to a missing file is an error. */
    assert_int_equal(cl_calfile_points_log_open(&lg, path, true, false, &e), CL_OK);
    cl_calfile_points_log_close(lg);
    assert_int_equal(cl_calfile_sensor_points(path, 0, &p, &n, &e), CL_ERR_FORMAT);
    unit_path(path, sizeof path, "none.csv");
    assert_int_equal(cl_calfile_points_log_open(&lg, path, false, true, &e), CL_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "none.csv: cannot open"));
    cl_calfile_points_log_close(NULL);
}

static void test_cups(void **state)
{
    (void)state;
    cl_cuprow *r;
    size_t n;
    cl_error e;
    const char *path =
        file("cups.csv", "cup,material,size,volume_ml,volume_u_ml,vref_ml,vref_u_ml,p_ref_mmHg,"
                         "p_cup_mmHg,p_final_mmHg,p_u_mmHg,decay,decay_cup,from_s\n"
                         "C1,glass,M,120,1.5,,,,,,,leak1.h5,A,10\n"
                         "C2,\"silicone, soft\",L,,,50,0.2,0,-300,-210,0.3,/abs/leak.csv,,\n"
                         "C3,,,,,,,,,,,,,\n");
    assert_int_equal(cl_calfile_cups(path, 0, &r, &n, &e), CL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(r[0].cup, "C1");
    assert_string_equal(r[0].material, "glass");
    assert_near(r[0].volume_ml, 120, 0);
    assert_near(r[0].volume_u_ml, 1.5, 0);
    assert_true(isnan(r[0].vref_ml));
    char expect_path[256];
    unit_path(expect_path, sizeof expect_path, "leak1.h5");
    assert_string_equal(r[0].decay, expect_path); /* relative to the list */
    assert_string_equal(r[0].decay_cup, "A");
    assert_near(r[0].from_s, 10, 0);
    assert_true(isnan(r[0].to_s));
    assert_string_equal(r[1].material, "silicone, soft");
    assert_near(r[1].p_cup_kpa, -300 * CL_KPA_PER_MMHG, 1e-12);
    assert_near(r[1].p_final_kpa, -210 * CL_KPA_PER_MMHG, 1e-12);
    assert_near(r[1].p_u_kpa, 0.3 * CL_KPA_PER_MMHG, 1e-12);
    assert_false(r[1].p_absolute);
    assert_string_equal(r[1].decay, "/abs/leak.csv");
    assert_null(r[1].decay_cup);
    assert_null(r[2].material);
    assert_null(r[2].decay);
    assert_int_equal(r[2].line, 4);
    cl_calfile_cups_free(r, n);
    cl_calfile_cups_free(NULL, 0);

    path = file("cups2.csv",
                "cup,vref_ml,p_ref,p_cup,p_final,pressure\nC1,50,101,61,73,absolute\n");
    assert_int_equal(cl_calfile_cups(path, 0, &r, &n, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "cups2.csv:2"));
    assert_int_equal(cl_calfile_cups(path, CL_UNIT_KPA, &r, &n, &e), CL_OK);
    assert_true(r[0].p_absolute);
    assert_near(r[0].p_final_kpa, 73, 0);
    cl_calfile_cups_free(r, n);
    path = file("cups3.csv", "material\nglass\n");
    assert_int_equal(cl_calfile_cups(path, 0, &r, &n, &e), CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "no cup column"));
    path = file("cups4.csv", "cup,pressure\nC1,relative\n");
    assert_int_equal(cl_calfile_cups(path, 0, &r, &n, &e), CL_ERR_FORMAT);
    path = file("cups5.csv", "cup,volume_ml\n,3\n");
    assert_int_equal(cl_calfile_cups(path, 0, &r, &n, &e), CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "no cup id"));
}

static void test_decay(void **state)
{
    (void)state;
    double *t, *p;
    size_t n;
    cl_error e;
    const char *path = file("d.csv", "t_s,p_mmHg\n0,-300\n0.5,-299.5\n1.0,-299\n");
    assert_int_equal(cl_calfile_decay(path, 0, &t, &p, &n, &e), CL_OK);
    assert_int_equal(n, 3);
    assert_near(t[2], 1.0, 0);
    assert_near(p[1], -299.5 * CL_KPA_PER_MMHG, 1e-12);
    free(t);
    free(p);
    path = file("d2.csv", "time,pressure\n0,-40\n1,-39\n");
    assert_int_equal(cl_calfile_decay(path, 0, &t, &p, &n, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "pressure unit is unknown"));
    assert_int_equal(cl_calfile_decay(path, CL_UNIT_KPA, &t, &p, &n, &e), CL_OK);
    assert_near(p[1], -39, 0);
    free(t);
    free(p);
    path = file("d3.csv", "t,p,unit\n0,-40,kPa\n0,-39,kPa\n");
    assert_int_equal(cl_calfile_decay(path, 0, &t, &p, &n, &e), CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "d3.csv:3: time does not increase"));
    path = file("d4.csv", "seconds,p\n0,1\n");
    assert_int_equal(cl_calfile_decay(path, CL_UNIT_KPA, &t, &p, &n, &e), CL_ERR_FORMAT);
    assert_null(t);
}

/* Numbers beyond +-1e15 are refused where they are read, so that no unit
 * conversion, mean or square overflows (found by the fuzzer: a reference of
 * 1e308 psi read as inf kPa, two raw readings of 1e308 averaged to inf, a
 * decay pressure of 1e308 psi read as inf). */
static void test_out_of_range(void **state)
{
    (void)state;
    double *t = NULL, *p = NULL;
    size_t n;
    cl_error e;
    expect("r1.csv", "ref_psi,raw\n1e308,100\n", 0, CL_ERR_FORMAT,
           "r1.csv:2: reference '1e308' is out of range (beyond +-1e+15)");
    expect("r2.csv", "ref_kpa,raw1,raw2\n1,1e308,1e308\n", 0, CL_ERR_FORMAT,
           "r2.csv:2: raw reading '1e308' is out of range");
    expect("r3.csv", "ref_kpa,raw\n1,-2e15\n", 0, CL_ERR_FORMAT, "out of range");
    const char *path = file("r4.csv", "t,p_psi\n0,1e308\n");
    assert_int_equal(cl_calfile_decay(path, 0, &t, &p, &n, &e), CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "r4.csv:2:"));
    assert_non_null(strstr(e.msg, "out of range"));
    path = file("r5.csv", "ref_kpa,raw\n-1e15,1e15\n"); /* the limit itself is fine */
    cl_sensor_point *pt;
    assert_int_equal(cl_calfile_sensor_points(path, 0, &pt, &n, &e), CL_OK);
    free(pt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_units), cmocka_unit_test(test_points_errors),
        cmocka_unit_test(test_points_write), cmocka_unit_test(test_points_log),
        cmocka_unit_test(test_cups),
        cmocka_unit_test(test_decay), cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
