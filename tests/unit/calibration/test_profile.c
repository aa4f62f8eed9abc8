/*
 * Unit tests of cl_profile: sensor and cup-set profiles written and read
 * back field by field, the minimal hand-written profile, evaluation and
 * its inverse, expiry at the day boundary, every parse error, dates, and
 * the atomic file writer that refuses to replace a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "engine/cl_calib.h"
#include "cl_cupset.h"
#include "cl_profile.h"
#include "cl_sensor.h"

/* A calibration of a noise-free quadratic sensor with a scatter pattern. */
static void make_calibration(cl_sensor_calibration *d)
{
    cl_sensor_point pts[24];
    size_t n = 0;
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 12; j++) {
            int s = j < 6 ? j : 11 - j;
            double p = -20.0 * s;
            double raw = 3767 + 31.3 * p + 0.002 * p * p + ((j + c) % 3 - 1) * 0.4;
            pts[n++] = (cl_sensor_point){.ref_kpa = p,
                                         .raw = raw,
                                         .raw_sd = 0.7,
                                         .n_samples = 20,
                                         .direction = j < 6 ? CL_DIR_UP : CL_DIR_DOWN,
                                         .temperature_c = 21.0 + c};
        }
    cl_calib_options o;
    cl_error e;
    cl_calib_options_init(&o);
    o.degree = 2;
    o.tolerance_kpa = 0.4;
    o.ref_u_kpa = 0.02;
    cl_sensor_calibration_init(d);
    assert_int_equal(cl_calib_sensor(pts, n, &o, d, &e), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->serial, "SN-42"), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->model, "MPXV6115V"), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->date, "2025-03-01T10:00:00Z"), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->valid_until, "2026-03-01"), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->operator_name, "A. \"Tech\" \xc3\xa9"), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->reference, "DPI 620"), CL_OK);
    d->channel = 2;
    d->temperature_c = 21.5;
}

static void test_sensor_round_trip(void **state)
{
    (void)state;
    cl_sensor_calibration d;
    cl_sensor_profile *p, *q;
    cl_error e;
    make_calibration(&d);
    cl_sensor_calibration copy = d; /* shallow: numbers to compare with */
    cl_sensor_point pt5 = d.points[5];
    cl_sensor_setpoint sp2 = d.setpoints[2];
    assert_int_equal(cl_sensor_profile_adopt(&d, &p, &e), CL_OK);
    assert_null(d.points); /* taken over */
    char *json = cl_sensor_profile_to_json(p);
    assert_non_null(json);
    assert_string_equal(cl_profile_kind(json), "sensor");
    assert_int_equal(cl_sensor_profile_parse(json, &q, &e), CL_OK);
    const cl_sensor_calibration *a = cl_sensor_profile_data(q);
    assert_string_equal(a->serial, "SN-42");
    assert_string_equal(cl_sensor_profile_serial(q), "SN-42");
    assert_string_equal(a->model, "MPXV6115V");
    assert_string_equal(a->operator_name, "A. \"Tech\" \xc3\xa9");
    assert_string_equal(a->valid_until, "2026-03-01");
    assert_int_equal(a->channel, 2);
    assert_int_equal(a->degree, 2);
    for (int i = 0; i <= 2; i++) {
        assert_true(a->coef[i] == copy.coef[i]); /* %.17g round-trips exactly */
        for (int j = 0; j <= 2; j++)
            assert_true(a->cov[i][j] == copy.cov[i][j]);
    }
    assert_true(a->u_rep_kpa == copy.u_rep_kpa);
    assert_true(a->u_hyst_kpa == copy.u_hyst_kpa);
    assert_true(a->u_ref_kpa == copy.u_ref_kpa);
    assert_true(a->u_max_kpa == copy.u_max_kpa);
    assert_true(a->tolerance_kpa == copy.tolerance_kpa);
    assert_int_equal(a->pass, copy.pass);
    assert_int_equal(a->npoints, 24);
    assert_int_equal(a->nsetpoints, copy.nsetpoints);
    assert_int_equal(a->ntrials, 1);
    assert_true(a->points[5].raw == pt5.raw);
    assert_true(a->points[5].residual_kpa == pt5.residual_kpa);
    assert_int_equal(a->points[5].direction, pt5.direction);
    assert_int_equal(a->points[5].n_samples, 20);
    assert_true(a->setpoints[2].hysteresis_kpa == sp2.hysteresis_kpa);
    assert_true(a->procedure_complete);
    /* evaluation equals the data's */
    for (double raw = 2000; raw <= 3800; raw += 300) {
        assert_true(cl_sensor_profile_kpa(q, raw) == cl_sensor_profile_kpa(p, raw));
        assert_true(cl_sensor_profile_u_kpa(q, raw) == cl_sensor_profile_u_kpa(p, raw));
        assert_true(cl_sensor_profile_u_kpa(q, raw) > 0);
    }
    double lo, hi;
    cl_sensor_profile_raw_range(q, &lo, &hi);
    assert_true(lo == copy.raw_min && hi == copy.raw_max);
    /* the inverse */
    double raw;
    assert_int_equal(cl_sensor_profile_raw_for_kpa(q, -55, &raw, &e), CL_OK);
    assert_near(cl_sensor_profile_kpa(q, raw), -55, 1e-9);
    assert_int_equal(cl_sensor_profile_raw_for_kpa(q, -5000, &raw, &e), CL_ERR_RANGE);
    free(json);
    cl_sensor_profile_free(p);
    cl_sensor_profile_free(q);
    cl_sensor_profile_free(NULL);
}

static const char minimal[] =
    "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\",\n"
    " \"sensor\": {\"serial\": \"HAND-1\"},\n"
    " \"transfer\": {\"coefficients\": [-120.0, 0.032]}}";

static void test_minimal_profile(void **state)
{
    (void)state;
    cl_sensor_profile *p;
    cl_error e;
    assert_int_equal(cl_sensor_profile_parse(minimal, &p, &e), CL_OK);
    assert_near(cl_sensor_profile_kpa(p, 2500), -40, 1e-12);
    assert_true(isnan(cl_sensor_profile_u_kpa(p, 2500))); /* no budget: unknown */
    assert_int_equal(cl_sensor_profile_check_valid(p, time(NULL), &e), CL_OK);
    double lo, hi;
    cl_sensor_profile_raw_range(p, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    assert_true(cl_sensor_profile_data(p)->pass);
    double raw;
    assert_int_equal(cl_sensor_profile_raw_for_kpa(p, -40, &raw, &e), CL_OK);
    assert_true(fabs(raw - 2500) < 1e-9);
    cl_sensor_profile_free(p);

    /* with a partial budget: the missing terms are zero */
    static const char budget[] =
        "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\",\n"
        " \"sensor\": {\"serial\": \"HAND-2\"}, \"valid_until\": \"2099-12-31\",\n"
        " \"transfer\": {\"coefficients\": [-120.0, 0.032, 1e-7],\n"
        "   \"covariance\": [[1e-4, 0, 0], [0, 0, 0], [0, 0, 0]]},\n"
        " \"uncertainty\": {\"u_reference_kpa\": 0.03}}";
    assert_int_equal(cl_sensor_profile_parse(budget, &p, &e), CL_OK);
    assert_near(cl_sensor_profile_kpa(p, 1000), -120 + 32 + 0.1, 1e-12);
    assert_near(cl_sensor_profile_u_kpa(p, 1000), 2 * sqrt(1e-4 + 0.03 * 0.03), 1e-15);
    assert_int_equal(cl_sensor_profile_raw_for_kpa(p, -40, &raw, &e), CL_ERR_RANGE);
    assert_non_null(strstr(e.msg, "no raw range"));
    cl_sensor_profile_free(p);
}

static void expect_error(const char *json, int code, const char *part)
{
    cl_sensor_profile *p = (cl_sensor_profile *)1;
    cl_error e = {0};
    assert_int_equal(cl_sensor_profile_parse(json, &p, &e), code);
    assert_null(p);
    if (!strstr(e.msg, part))
        printf("# message: %s\n", e.msg);
    assert_non_null(strstr(e.msg, part));
}

#define HEAD "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\", "

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("not json", CL_ERR_FORMAT, "not valid JSON");
    expect_error("[1, 2]", CL_ERR_FORMAT, "not a cuplab profile");
    expect_error("{\"format\": \"other\"}", CL_ERR_FORMAT, "not a cuplab profile");
    expect_error("{\"format\": \"cuplab-profile\", \"version\": 2, \"kind\": \"sensor\"}",
                 CL_ERR_VERSION, "version 2");
    expect_error("{\"format\": \"cuplab-profile\", \"version\": \"1\"}", CL_ERR_FORMAT,
                 "version");
    expect_error("{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"cupset\"}",
                 CL_ERR_FORMAT, "a cupset profile, not a sensor profile");
    expect_error(HEAD "\"transfer\": {\"coefficients\": [1, 2]}}", CL_ERR_FORMAT,
                 "missing \"sensor\"");
    expect_error(HEAD "\"sensor\": {}, \"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "sensor.serial");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}}", CL_ERR_FORMAT, "transfer");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": [1]}}",
                 CL_ERR_FORMAT, "has 1 entries");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 2, 3, 4, 5]}}",
                 CL_ERR_FORMAT, "has 5 entries");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, \"2\"]}}",
                 CL_ERR_FORMAT, "coefficients[1]");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 0]}}",
                 CL_ERR_FORMAT, "zero slope");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 2], \"degree\": 2}}",
                 CL_ERR_FORMAT, "degree");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 2], \"covariance\": [[1, 0.5], [0.4, 1]]}}",
                 CL_ERR_FORMAT, "not symmetric");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 2], \"covariance\": [[1, 0], [0]]}}",
                 CL_ERR_FORMAT, "2 x 2");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 2], \"covariance\": [[-1, 0], [0, 1]]}}",
                 CL_ERR_FORMAT, "negative variance");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"valid_until\": \"2025-02-30\", "
                      "\"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "not a valid date");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"date\": \"yesterday\", "
                      "\"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "not a date");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"uncertainty\": "
                      "{\"u_reference_kpa\": -1}, \"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "negative uncertainty");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"pass\": \"yes\", "
                      "\"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "pass");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"points\": [{\"ref_kpa\": 1}], "
                      "\"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "points[0].raw");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"points\": [{\"ref_kpa\": 1, "
                      "\"raw\": 2, \"direction\": \"sideways\"}], "
                      "\"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "direction");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"sensor\": {\"serial\": \"y\"}, "
                      "\"transfer\": {\"coefficients\": [1, 2]}}",
                 CL_ERR_FORMAT, "JSON");
    cl_sensor_profile *p;
    assert_int_equal(cl_sensor_profile_parse(NULL, &p, NULL), CL_ERR_ARG);
    assert_null(cl_profile_kind("{}"));
    assert_null(cl_profile_kind("garbage"));
    assert_null(cl_profile_kind(NULL));
}

/* A profile is checked when it is read: where invalid JSON goes wrong
 * (line and column), nesting too deep to parse, non-finite numbers, and a
 * transfer function or uncertainty that overflows or is absurd over the raw
 * range (the covered one widened, or any 32-bit reading without one). */
static void test_checked_on_read(void **state)
{
    (void)state;
    expect_error("{\"format\": \"cuplab-profile\",\n \"version\": 1 1}", CL_ERR_FORMAT,
                 "not valid JSON (line 2, column");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[NaN, 2]}}",
                 CL_ERR_FORMAT, "not valid JSON (line 1, column");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1, 1e999]}}",
                 CL_ERR_FORMAT, "not valid JSON");
    size_t depth = 200000, n = strlen(HEAD "\"x\": ") + 2 * depth + 2;
    char *deep = malloc(n + 1);
    assert_non_null(deep);
    strcpy(deep, HEAD "\"x\": ");
    size_t at = strlen(deep);
    memset(deep + at, '[', depth);
    memset(deep + at + depth, ']', depth);
    strcpy(deep + at + 2 * depth, "}");
    expect_error(deep, CL_ERR_FORMAT, "maximum parsing depth");
    free(deep);
    /* huge coefficients: the calibrated pressure overflows within the range */
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1e308, 1e308], \"raw_min\": 1000, \"raw_max\": 3000}}",
                 CL_ERR_FORMAT, "transfer function gives 1e+308 kPa at raw 0, beyond +-1e+15 "
                                "kPa (raw range checked: 0 to 4000)");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[1e308, 1]}}",
                 CL_ERR_FORMAT, "beyond +-1e+15 kPa (raw range checked: -2.14748e+09 to");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": {\"coefficients\": "
                      "[0, 1, 0, 1e-100], \"raw_min\": 0, \"raw_max\": 1e200}}",
                 CL_ERR_FORMAT, "inf kPa at raw");
    expect_error(HEAD "\"sensor\": {\"serial\": \"x\"}, \"uncertainty\": {\"k\": 2}, "
                      "\"transfer\": {\"coefficients\": [0, 1], \"raw_min\": 0, "
                      "\"raw_max\": 4000, \"covariance\": [[1e306, 0], [0, 1e306]]}}",
                 CL_ERR_FORMAT, "uncertainty overflows at raw");
    /* the repository's own profiles pass */
    cl_sensor_profile *p;
    cl_error e;
    static const char ok[] = HEAD "\"sensor\": {\"serial\": \"x\"}, \"transfer\": "
                                  "{\"coefficients\": [-120, 0.032, 1e-7, -1e-12], "
                                  "\"raw_min\": 1300, \"raw_max\": 3800}}";
    assert_int_equal(cl_sensor_profile_parse(ok, &p, &e), CL_OK);
    cl_sensor_profile_free(p);
}

static void test_expiry(void **state)
{
    (void)state;
    static const char json[] =
        HEAD "\"sensor\": {\"serial\": \"OLD-7\"}, \"valid_until\": \"2020-01-01\", "
             "\"transfer\": {\"coefficients\": [1, 2]}}";
    cl_sensor_profile *p;
    cl_error e;
    time_t last, after;
    assert_int_equal(cl_sensor_profile_parse(json, &p, &e), CL_OK);
    assert_int_equal(cl_profile_parse_date("2020-01-01T23:59:59Z", &last, &e), CL_OK);
    assert_int_equal(cl_profile_parse_date("2020-01-02", &after, &e), CL_OK);
    assert_int_equal(after - last, 1);
    assert_int_equal(cl_sensor_profile_check_valid(p, last, &e), CL_OK);
    assert_int_equal(cl_sensor_profile_check_valid(p, after, &e), CL_ERR_EXPIRED);
    assert_non_null(strstr(e.msg, "OLD-7"));
    assert_non_null(strstr(e.msg, "2020-01-01"));
    assert_int_equal(cl_sensor_profile_check_valid(p, time(NULL), &e), CL_ERR_EXPIRED);
    cl_sensor_profile_free(p);
}

static void test_dates(void **state)
{
    (void)state;
    time_t t;
    char buf[32];
    assert_int_equal(cl_profile_parse_date("1970-01-02", &t, NULL), CL_OK);
    assert_int_equal(t, 86400);
    assert_int_equal(cl_profile_parse_date("2024-02-29T12:30:05Z", &t, NULL), CL_OK);
    cl_profile_format_datetime(t, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T12:30:05Z");
    cl_profile_format_date(t, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29");
    assert_int_equal(cl_profile_parse_date("2024-02-29T12:30:05", &t, NULL), CL_OK);
    assert_int_equal(cl_profile_parse_date("2023-02-29", &t, NULL), CL_ERR_FORMAT);
    assert_int_equal(cl_profile_parse_date("2023-13-01", &t, NULL), CL_ERR_FORMAT);
    assert_int_equal(cl_profile_parse_date("2023-1-01", &t, NULL), CL_ERR_FORMAT);
    assert_int_equal(cl_profile_parse_date("2023-01-01T25:00:00Z", &t, NULL), CL_ERR_FORMAT);
    assert_int_equal(cl_profile_parse_date("2023-01-01+01", &t, NULL), CL_ERR_FORMAT);
    assert_int_equal(cl_profile_parse_date("2023-01-01T10:00:00+02:00", &t, NULL),
                     CL_ERR_FORMAT);
    assert_int_equal(cl_profile_check_until(NULL, "x", 0, NULL), CL_OK);
    /* a date-time is valid up to that second, not to the end of its day */
    assert_int_equal(cl_profile_parse_date("2000-01-01T00:00:00Z", &t, NULL), CL_OK);
    assert_int_equal(cl_profile_check_until("2000-01-01T00:00:00Z", "x", t, NULL), CL_OK);
    assert_int_equal(cl_profile_check_until("2000-01-01T00:00:00Z", "x", t + 1, NULL),
                     CL_ERR_EXPIRED);
    assert_int_equal(cl_profile_check_until("2000-01-01", "x", t + 86399, NULL), CL_OK);
    assert_int_equal(cl_profile_check_until("2000-01-01", "x", t + 86400, NULL),
                     CL_ERR_EXPIRED);
}

static void test_cupset_round_trip(void **state)
{
    (void)state;
    cl_cupset *c = cl_cupset_new("SET-A"), *d;
    cl_cupset_cup cup;
    cl_error e;
    assert_non_null(c);
    cl_cupset_cup_init(&cup);
    cup.cup_id = "C1";
    cup.material = "glass";
    cup.size = "M";
    cup.volume_ml = 118.25;
    cup.volume_u_ml = 0.9;
    cup.volume_method = "gas-expansion";
    cup.exp_vref_ml = 50;
    cup.exp_p_ref_kpa = 101.3;
    cup.exp_p_cup_kpa = 61.3;
    cup.exp_p_final_kpa = 73.2;
    cup.leak_tau_s = 812.5;
    cup.leak_tau_se = 20.1;
    cup.leak_q_mbarl_s = 0.0123;
    cup.leak_at_kpa = -40;
    cup.leak_model = "exp";
    cup.leak_identifiable = 1;
    cup.leak_n = 3000;
    assert_int_equal(cl_cupset_add(c, &cup, &e), CL_OK);
    cl_cupset_cup_init(&cup);
    cup.cup_id = "C2";
    assert_int_equal(cl_cupset_add(c, &cup, &e), CL_OK);
    assert_int_equal(cl_cupset_add(c, &cup, &e), CL_ERR_ARG); /* duplicate */
    cup.cup_id = "";
    assert_int_equal(cl_cupset_add(c, &cup, &e), CL_ERR_ARG);
    cl_cupset_meta m = {"2025-01-01T00:00:00Z", "2026-01-01", "op", NULL, "sw", 101.3, NAN};
    assert_int_equal(cl_cupset_set_meta(c, &m, &e), CL_OK);
    char *json = cl_cupset_to_json(c);
    assert_non_null(json);
    assert_string_equal(cl_profile_kind(json), "cupset");
    assert_int_equal(cl_cupset_parse(json, &d, &e), CL_OK);
    assert_string_equal(cl_cupset_id(d), "SET-A");
    assert_int_equal(cl_cupset_count(d), 2);
    const cl_cupset_cup *a = cl_cupset_find(d, "C1");
    assert_non_null(a);
    assert_string_equal(a->material, "glass");
    assert_true(a->volume_ml == 118.25 && a->volume_u_ml == 0.9);
    assert_string_equal(a->volume_method, "gas-expansion");
    assert_true(a->exp_p_final_kpa == 73.2);
    assert_true(a->leak_tau_s == 812.5 && a->leak_tau_se == 20.1);
    assert_true(a->leak_q_mbarl_s == 0.0123 && a->leak_at_kpa == -40);
    assert_int_equal(a->leak_identifiable, 1);
    assert_int_equal(a->leak_n, 3000);
    const cl_cupset_cup *b = cl_cupset_get(d, 1);
    assert_string_equal(b->cup_id, "C2");
    assert_true(isnan(b->volume_ml) && isnan(b->leak_tau_s));
    assert_null(b->material);
    assert_null(cl_cupset_find(d, "C3"));
    assert_null(cl_cupset_get(d, 2));
    assert_string_equal(cl_cupset_get_meta(d)->valid_until, "2026-01-01");
    assert_true(cl_cupset_get_meta(d)->ambient_kpa == 101.3);
    free(json);
    cl_cupset_free(c);
    cl_cupset_free(d);
    cl_cupset_free(NULL);

    /* errors */
    cl_cupset *x;
    assert_int_equal(cl_cupset_parse(minimal, &x, &e), CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "not a cupset profile"));
    assert_int_equal(cl_cupset_parse("{\"format\": \"cuplab-profile\", \"version\": 1, "
                                     "\"kind\": \"cupset\", \"cupset\": {\"id\": \"S\"}, "
                                     "\"cups\": [{\"id\": \"A\"}, {\"id\": \"A\"}]}",
                                     &x, &e),
                     CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "twice"));
    assert_int_equal(cl_cupset_parse("{\"format\": \"cuplab-profile\", \"version\": 1, "
                                     "\"kind\": \"cupset\", \"cupset\": {\"id\": \"S\"}, "
                                     "\"cups\": [{\"id\": \"A\", \"volume\": {\"ml\": -3}}]}",
                                     &x, &e),
                     CL_ERR_FORMAT);
    assert_int_equal(cl_cupset_parse("{\"format\": \"cuplab-profile\", \"version\": 1, "
                                     "\"kind\": \"cupset\", \"cupset\": {\"id\": \"S\"}}",
                                     &x, &e),
                     CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, "cups"));
}

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_create("profile");
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmpdir_destroy();
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_files(void **state)
{
    (void)state;
    char path[1100], *text;
    cl_error e;
    cl_sensor_profile *p;
    unit_path(path, sizeof path, "p.json");
    assert_int_equal(cl_profile_write_file(path, minimal, false, &e), CL_OK);
    assert_int_equal(cl_profile_write_file(path, "other", false, &e), CL_ERR_EXISTS);
    assert_non_null(strstr(e.msg, "p.json"));
    assert_int_equal(cl_profile_read_file(path, &text, &e), CL_OK);
    assert_string_equal(text, minimal); /* not replaced */
    free(text);
    assert_int_equal(cl_sensor_profile_load(path, &p, &e), CL_OK);
    cl_sensor_profile_free(p);
    assert_int_equal(cl_profile_write_file(path, "{}", true, &e), CL_OK);
    assert_int_equal(cl_sensor_profile_load(path, &p, &e), CL_ERR_FORMAT);
    assert_non_null(strstr(e.msg, path));    /* the message names the file */
    assert_int_equal(count_entries(unit_tmpdir()), 1); /* no temporary file left */
    unit_path(path, sizeof path, "missing.json");
    assert_int_equal(cl_sensor_profile_load(path, &p, &e), CL_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "missing.json"));
    unit_path(path, sizeof path, "no/such/dir.json");
    assert_true(cl_profile_write_file(path, "x", false, &e) != CL_OK);
    unit_path(path, sizeof path, "p.json");
    unlink(path);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sensor_round_trip),
        cmocka_unit_test(test_minimal_profile),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_checked_on_read),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_cupset_round_trip),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
