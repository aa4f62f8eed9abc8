/*
 * Unit tests of the session pipeline (cl_analysis), its report (cl_report)
 * and the write-back (cl_session_write_analysis) on a session file written
 * here with cl_session from the virtual device's model: three cups (pump,
 * fire, pump) through 12-bit sensors, the host clock running at half the
 * device clock (the analysis must follow the device clock), one marker.
 * Tolerances: onset 0.3 s, hold start 0.6 s, release 0.4 s of the model;
 * peak 0.5 kPa of gain * the model's deepest vacuum (nominal transfer) or of
 * the model itself (exact profile).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "pipeline/cl_analysis.h"
#include "cl_profile.h"
#include "cl_sensor.h"
#include "output/cl_report.h"
#include "cl_session_read.h"
#include "cl_session_results.h"
#include "cl_session_write.h"
#include "cl_sim.h"

#define NCUPS 3
#define RATE_HZ 50.0
#define DURATION_S 420.0

static char path[1100];
static cl_sim_cup cups[NCUPS];
static cl_sim_sensor sensors[NCUPS];
static double marker_t; /* device time of the applied marker of C1 */

static double model_peak(const cl_sim_cup *c)
{
    double m = 0;
    for (double t = c->t_apply_s; t < cl_sim_release_start(c); t += 0.01)
        m = fmax(m, -cl_sim_pressure_kpa(c, t));
    return m;
}

/* Write the session file once for all tests. */
static int make_session(void **state)
{
    (void)state;
    if (unit_tmpdir_create("analysis") != 0)
        return -1;
    unit_path(path, sizeof path, "s.h5");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 17);
    double t0 = 4;
    for (int k = 0; k < NCUPS; k++) {
        cl_sim_cup_random(&cups[k], k == 1 ? CL_SIM_FIRE : CL_SIM_PUMP, t0, r);
        cl_sim_sensor_random(&sensors[k], r);
        cups[k].hold_s = 200 + 40 * k;
        t0 = cl_sim_hold_start(&cups[k]) + 2;
    }
    cl_session_meta meta = {.technique = "mixed", .practitioner = "T"};
    cl_session_device dev = {.port = "/dev/null", .protocol = "text", .baud = 115200,
                             .channels = NCUPS, .time_units = "ms",
                             .usb_vendor_id = -1, .usb_product_id = -1,
                             .announcement = "device: T\nadc_bits: 12\n"
                                             "sensor_serials: S1, S2,S3\n"};
    cl_session_cup cup[NCUPS] = {
        {.cup_id = "C1", .device = 0, .channel = 0, .sensor_serial = "S1", .site = "neck"},
        {.cup_id = "C2", .device = 0, .channel = 1},
        {.cup_id = "C3", .device = 0, .channel = 2},
    };
    cl_session *s;
    cl_error err;
    if (cl_session_create(&s, path, &meta, &dev, 1, cup, NCUPS, NULL, &err) != CL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    size_t n = (size_t)(DURATION_S * RATE_HZ);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE_HZ, samples[NCUPS], dt = t * 1000, ht = t / 2;
        uint32_t seq = (uint32_t)i;
        for (int k = 0; k < NCUPS; k++)
            samples[k] = cl_sim_sensor_read(&sensors[k], cl_sim_sample_kpa(&cups[k], t),
                                            cups[k].noise_kpa, r);
        if (cl_session_append(s, 0, 1, samples, &dt, &ht, &seq, &err) != CL_OK)
            return -1;
    }
    /* C1 applied, marked 1 s late (host clock: half the time). */
    marker_t = cups[0].t_apply_s + 1;
    cl_session_event ev = {.t = marker_t / 2, .cup = 0, .kind = CL_EVENT_APPLIED, .text = ""};
    if (cl_session_add_event(s, &ev, &err) != CL_OK ||
        cl_session_close(s, CL_SESSION_COMPLETE, &err) != CL_OK)
        return -1;
    gsl_rng_free(r);
    return 0;
}

static int remove_session(void **state)
{
    (void)state;
    return getenv("KEEP") ? 0 : unit_tmpdir_destroy();
}

static void analyse_all(const cl_analysis_options *o, cl_cup_result res[NCUPS])
{
    cl_analysis *a;
    cl_error err;
    assert_int_equal(cl_analysis_open(&a, path, o, &err), CL_OK);
    assert_int_equal(cl_analysis_cup_count(a), NCUPS);
    for (size_t k = 0; k < NCUPS; k++)
        assert_int_equal(cl_analysis_cup(a, k, &res[k], NULL, &err), CL_OK);
    cl_cup_result scratch;
    assert_int_equal(cl_analysis_cup(a, NCUPS, &scratch, NULL, &err), CL_ERR_ARG);
    cl_analysis_close(a);
}

static void test_pipeline_nominal(void **state)
{
    (void)state;
    cl_analysis_options o;
    cl_cup_result res[NCUPS];
    cl_analysis_defaults(&o);
    analyse_all(&o, res);
    for (int k = 0; k < NCUPS; k++) {
        const cl_cup_result *x = &res[k];
        const cl_sim_cup *c = &cups[k];
        assert_true(x->applied);
        assert_int_equal(x->applications, 1);
        assert_int_equal(x->cal, CL_CAL_NOMINAL);
        assert_true(x->flags & CL_FLAG_UNCALIBRATED);
        assert_int_equal(x->adc_bits, 12);
        assert_int_equal(x->samples, (size_t)(DURATION_S * RATE_HZ));
        /* Device clock, not the host clock at half speed. */
        assert_near(x->app.onset_s, c->t_apply_s, 0.3);
        assert_near(x->app.hold_start_s, cl_sim_hold_start(c), 0.6);
        assert_near(x->app.release_start_s, cl_sim_release_start(c), 0.4);
        assert_near(x->app.release_end_s, cl_sim_release_end(c), 0.4);
        assert_int_equal(x->app.strokes, c->technique == CL_SIM_PUMP ? (size_t)c->pump_strokes : 1);
        assert_near(x->m.peak_kpa, sensors[k].gain * model_peak(c), 0.5);
        /* Calibration and noise (both expanded) in quadrature. */
        assert_true(x->m.peak_noise_u_kpa > 0);
        assert_near(x->peak_u_kpa, hypot(CL_NOMINAL_U_REL * x->m.peak_kpa, x->m.peak_noise_u_kpa),
                    1e-12);
        assert_true(fabs(x->zero_kpa) < 2.0);
        assert_near(x->duration_s, (DURATION_S - 1 / RATE_HZ) / 2, 1e-9);
    }
    /* Serials: the cup table's, else the announcement's by channel. */
    assert_string_equal(res[0].sensor_serial, "S1");
    assert_string_equal(res[1].sensor_serial, "S2");
    assert_string_equal(res[2].sensor_serial, "S3");
    assert_string_equal(res[0].site, "neck");
    assert_string_equal(res[0].markers, "agree (1)");
    assert_string_equal(res[1].markers, "none");
    assert_false(res[0].flags & CL_FLAG_MARKERS);

    /* A tolerance below the marker's 1 s delay: it disagrees, and says so. */
    o.marker_tol_s = 0.5;
    analyse_all(&o, res);
    assert_true(res[0].flags & CL_FLAG_MARKERS);
    assert_non_null(strstr(res[0].markers, "applied marker at"));
    double said = atof(strstr(res[0].markers, " at ") + 4);
    assert_near(said, marker_t, 0.1);

    /* Thresholds above the deepest vacuum: nothing engages. */
    cl_analysis_defaults(&o);
    o.seg.on_kpa = 200;
    o.seg.off_kpa = 150;
    analyse_all(&o, res);
    for (int k = 0; k < NCUPS; k++) {
        assert_false(res[k].applied);
        assert_true(res[k].flags & CL_FLAG_NO_APPLICATION);
        assert_true(isnan(res[k].m.peak_kpa));
    }
}

static void test_pipeline_profile_and_filter(void **state)
{
    (void)state;
    /* An exact profile for S1: kPa = (raw / max - offset) / (gain * s). */
    cl_sensor_calibration d;
    cl_sensor_calibration_init(&d);
    double max = cl_sim_sensor_max(&sensors[0]);
    double gs = sensors[0].gain * CL_NOMINAL_SENSITIVITY_PER_KPA;
    d.degree = 1;
    d.coef[0] = -sensors[0].offset / gs;
    d.coef[1] = 1 / (max * gs);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d.cov[i][j] = 0;
    d.raw_min = cl_sim_sensor_ideal(&sensors[0], -80);
    d.raw_max = cl_sim_sensor_ideal(&sensors[0], 0);
    d.u_rep_kpa = 0;
    d.u_hyst_kpa = 0;
    d.u_ref_kpa = 0.025;
    d.k = 2;
    assert_int_equal(cl_profile_set_str(&d.serial, "S1"), CL_OK);
    cl_sensor_profile *p;
    cl_error err;
    assert_int_equal(cl_sensor_profile_adopt(&d, &p, &err), CL_OK);
    const cl_sensor_profile *ps[1] = {p};
    const char *src[1] = {"s1.json"};
    cl_analysis_options o;
    cl_analysis_defaults(&o);
    o.profiles = ps;
    o.nprofiles = 1;
    o.profile_sources = src;
    o.filter = CL_FILTER_HAMPEL;
    o.filter_s = 0.2;
    cl_cup_result res[NCUPS];
    analyse_all(&o, res);
    assert_int_equal(res[0].cal, CL_CAL_PROFILE);
    assert_false(res[0].flags & CL_FLAG_UNCALIBRATED);
    assert_false(res[0].flags & CL_FLAG_OUT_OF_RANGE);
    assert_string_equal(res[0].calibration, "profile S1 (s1.json)");
    assert_near(res[0].m.peak_kpa, model_peak(&cups[0]), 0.5);
    assert_near(res[0].peak_u_kpa, hypot(0.05, res[0].m.peak_noise_u_kpa), 1e-9);
    assert_int_equal(res[1].cal, CL_CAL_NOMINAL);
    /* A profile covering a narrow raw range: readings outside are flagged. */
    cl_sensor_profile_free(p);
    cl_sensor_calibration_init(&d);
    d.degree = 1;
    d.coef[0] = -sensors[0].offset / gs;
    d.coef[1] = 1 / (max * gs);
    d.raw_min = cl_sim_sensor_ideal(&sensors[0], -5);
    d.raw_max = cl_sim_sensor_ideal(&sensors[0], 0);
    assert_int_equal(cl_profile_set_str(&d.serial, "S1"), CL_OK);
    assert_int_equal(cl_sensor_profile_adopt(&d, &p, &err), CL_OK);
    ps[0] = p;
    analyse_all(&o, res);
    assert_true(res[0].flags & CL_FLAG_OUT_OF_RANGE);
    assert_true(isnan(res[0].peak_u_kpa)); /* no uncertainty budget */
    cl_sensor_profile_free(p);
}

static void test_trace(void **state)
{
    (void)state;
    cl_analysis_options o;
    cl_analysis_defaults(&o);
    cl_analysis *a;
    cl_cup_result res;
    cl_cup_trace *tr;
    assert_int_equal(cl_analysis_open(&a, path, &o, NULL), CL_OK);
    assert_int_equal(cl_analysis_cup(a, 0, &res, &tr, NULL), CL_OK);
    assert_non_null(tr);
    assert_int_equal(tr->n, res.samples);
    assert_int_equal(tr->seg.napps, 1);
    assert_int_equal(tr->nmarkers, 1);
    assert_int_equal(tr->marker_kind[0], CL_EVENT_APPLIED);
    assert_near(tr->marker_t_s[0], marker_t, 0.05);
    assert_near(tr->t_s[100], 2.0, 1e-9);
    cl_cup_trace_free(tr);
    cl_cup_trace_free(NULL);
    cl_analysis_close(a);
    cl_analysis_close(NULL);
}

static void test_report_and_stats(void **state)
{
    (void)state;
    cl_analysis_options o;
    cl_cup_result res[NCUPS];
    cl_analysis_defaults(&o);
    analyse_all(&o, res);
    cl_stat st[CL_STAT_COUNT];
    assert_int_equal(cl_analysis_stats(res, NCUPS, st, NULL), CL_OK);
    assert_int_equal(st[CL_STAT_PEAK].n, 3);
    assert_near(st[CL_STAT_PEAK].mean,
                (res[0].m.peak_kpa + res[1].m.peak_kpa + res[2].m.peak_kpa) / 3, 1e-12);
    assert_near(st[CL_STAT_STROKES].max, (double)cups[0].pump_strokes > cups[2].pump_strokes
                                             ? cups[0].pump_strokes
                                             : cups[2].pump_strokes,
                0);
    assert_string_equal(cl_stat_metric_name(CL_STAT_DOSE), "pressure_time_integral");
    assert_int_equal(cl_stat_metric_from_name("pressure_time_integral"), CL_STAT_DOSE);
    assert_int_equal(cl_stat_metric_from_name("dose"), CL_STAT_DOSE); /* the old name */
    assert_int_equal(cl_stat_metric_from_name("leak_rate"), CL_STAT_LEAK);
    assert_int_equal(cl_stat_metric_from_name("decay_slope"), CL_STAT_LEAK);
    assert_int_equal(cl_stat_metric_from_name("leak"), -1);

    cl_report *rep = cl_report_new(CL_UNIT_MMHG);
    assert_non_null(rep);
    cl_report_session info = {.file = "s.h5", .session_uuid = "u", .status = "complete",
                              .technique = "mixed"};
    assert_int_equal(cl_report_add_session(rep, &info, res, NCUPS, NULL), CL_OK);
    assert_int_equal(cl_report_sessions(rep), 1);
    assert_string_equal(cl_report_status(rep, 0), "complete");
    assert_non_null(strstr(cl_report_summary(rep, 0), "s.h5: complete, mixed, 3 cups, 3 applied"));
    assert_non_null(strstr(cl_report_summary(rep, 0), "uncalibrated 3"));
    size_t ncols, nrows, found = 0;
    const cl_report_column *c = cl_report_session_columns(rep, 0, &ncols, &nrows);
    assert_non_null(c);
    assert_int_equal(nrows, NCUPS);
    for (size_t i = 0; i < ncols; i++) {
        if (!strcmp(c[i].name, "peak_vacuum")) {
            assert_string_equal(c[i].unit, "mmHg");
            assert_near(c[i].num[1], res[1].m.peak_kpa / CL_KPA_PER_MMHG, 1e-9);
            found++;
        } else if (!strcmp(c[i].name, "vacuum_sign")) {
            assert_null(c[i].num);
            assert_string_equal(c[i].str[2], "positive below ambient");
            found++;
        } else if (!strcmp(c[i].name, "dose")) {
            assert_string_equal(c[i].unit, "mmHg*min");
            found++;
        }
    }
    assert_int_equal(found, 3);
    char *text = cl_report_session_json(rep, 0);
    assert_non_null(text);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "cuplab-analysis");
    assert_string_equal(json_string_value(json_object_get(doc, "pressure_unit")), "mmHg");
    assert_int_equal(json_array_size(json_object_get(doc, "rows")), NCUPS);
    json_t *srows = json_object_get(json_object_get(doc, "statistics"), "rows");
    assert_int_equal(json_array_size(srows), CL_STAT_COUNT);
    json_decref(doc);
    free(text);
    assert_null(cl_report_session_json(rep, 1));
    /* Every format renders. */
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(cl_report_write(rep, f, CL_TABLE_TEXT, false, NULL), CL_OK);
    assert_int_equal(cl_report_write(rep, f, CL_TABLE_CSV, false, NULL), CL_OK);
    assert_int_equal(cl_report_write(rep, f, CL_TABLE_JSON, false, NULL), CL_OK);
    fclose(f);
    cl_report_free(rep);
    cl_report_free(NULL);
}

static int has_analysis(const char *p)
{
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    htri_t ex = H5Lexists(f, "analysis", H5P_DEFAULT) > 0 &&
                H5Lexists(f, "analysis/cups", H5P_DEFAULT) > 0 &&
                H5Lexists(f, "analysis/cups/peak", H5P_DEFAULT) > 0 &&
                H5Lexists(f, "analysis/results", H5P_DEFAULT) > 0;
    H5Fclose(f);
    return ex > 0;
}

static void test_write_analysis(void **state)
{
    (void)state;
    double peak[2] = {1.5, NAN};
    const char *cup[2] = {"C1", NULL};
    cl_session_column cols[2] = {{"peak", "kPa", peak, NULL}, {"cup", NULL, NULL, cup}};
    cl_error err;
    assert_int_equal(cl_session_write_analysis(path, "{\"x\": 1}", cols, 2, 2, &err), CL_OK);
    assert_int_equal(has_analysis(path), 1);
    /* Again: replaced, the file still a readable session. */
    assert_int_equal(cl_session_write_analysis(path, "{}", cols, 2, 2, &err), CL_OK);
    cl_session_reader *r;
    assert_int_equal(cl_session_open(&r, path, &err), CL_OK);
    assert_int_equal(cl_session_reader_status(r), CL_SESSION_COMPLETE);
    assert_int_equal(cl_session_rows(r, 0), (size_t)(DURATION_S * RATE_HZ));
    cl_session_reader_close(r);
    /* Bad columns. */
    cl_session_column bad = {"a/b", NULL, peak, NULL};
    assert_int_equal(cl_session_write_analysis(path, "{}", &bad, 1, 2, &err), CL_ERR_ARG);
    bad.name = "";
    assert_int_equal(cl_session_write_analysis(path, "{}", &bad, 1, 2, &err), CL_ERR_ARG);
    bad = (cl_session_column){"n", NULL, NULL, NULL};
    assert_int_equal(cl_session_write_analysis(path, "{}", &bad, 1, 2, &err), CL_ERR_ARG);
    assert_int_equal(cl_session_write_analysis(NULL, "{}", cols, 2, 2, &err), CL_ERR_ARG);

    /* A file being written, then one without a final status: refused. */
    char live[160];
    unit_path(live, sizeof live, "live.h5");
    cl_session_meta meta = {0};
    cl_session_device dev = {.port = "p", .protocol = "text", .channels = 1,
                             .usb_vendor_id = -1, .usb_product_id = -1};
    cl_session_cup c = {.cup_id = "C1"};
    cl_session *s;
    assert_int_equal(cl_session_create(&s, live, &meta, &dev, 1, &c, 1, NULL, &err), CL_OK);
    assert_int_equal(cl_session_flush(s, &err), CL_OK);
    assert_int_equal(cl_session_write_analysis(live, "{}", cols, 2, 2, &err), CL_ERR_BUSY);
    assert_non_null(strstr(err.msg, "still being recorded"));
    cl_session_abandon(s);
    assert_int_equal(cl_session_write_analysis(live, "{}", cols, 2, 2, &err), CL_ERR_BUSY);
    assert_non_null(strstr(err.msg, "no final status"));
    /* Not a session at all. */
    char other[160];
    unit_path(other, sizeof other, "other.h5");
    unit_write_file(other, "not hdf5");
    assert_int_equal(cl_session_write_analysis(other, "{}", cols, 2, 2, &err), CL_ERR_FORMAT);
}

static void test_flag_names(void **state)
{
    (void)state;
    char buf[256];
    cl_analysis_flags_text(CL_FLAG_UNCALIBRATED | CL_FLAG_GAP, buf, sizeof buf);
    assert_string_equal(buf, "uncalibrated;gap");
    cl_analysis_flags_text(0, buf, sizeof buf);
    assert_string_equal(buf, "");
    cl_analysis_flags_text(CL_FLAG_UNCALIBRATED | CL_FLAG_GAP, buf, 8);
    assert_int_equal(strlen(buf), 7);
    assert_string_equal(cl_analysis_flag_name(CL_FLAG_IMPLAUSIBLE), "implausible_vacuum");
    assert_null(cl_analysis_flag_name(3));
    for (unsigned k = 0; k < CL_FLAG_COUNT; k++)
        assert_non_null(cl_analysis_flag_name(1u << k));
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_nominal),
        cmocka_unit_test(test_pipeline_profile_and_filter),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_report_and_stats),
        cmocka_unit_test(test_write_analysis),
        cmocka_unit_test(test_flag_names),
    };
    return cmocka_run_group_tests(tests, make_session, remove_session);
}
