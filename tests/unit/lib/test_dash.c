/* Unit tests for cl_dash: the live view's snapshot, history and markers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_dash.h"
#include "cl_units.h"

/* kPa = -120 + 0.032 raw: raw 3750 is ambient, 3000 is 24 kPa of vacuum. */
static const char profile[] =
    "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\",\n"
    " \"sensor\": {\"serial\": \"HAND-1\"},\n"
    " \"transfer\": {\"coefficients\": [-120.0, 0.032]}}";

typedef struct fixture {
    cl_dash *d;
    cl_sensor_profile *p; /* C1's profile: outlives the dash */
    double last[2];
    cl_dash_device dev;
} fixture;

/* The recording's check of a marker command, as a stand-in: a known
 * command word, and for all but a note a cup of the session. */
static int check(void *ctx, const char *line, const char *const *ids, size_t n, cl_error *err)
{
    char word[32], cup[32];
    int got = sscanf(line, "%31s %31s", word, cup);
    (void)ctx;
    if (got >= 1 && strcmp(word, "note") == 0)
        return CL_OK;
    if (got < 2 || (strcmp(word, "applied") && strcmp(word, "released")))
        return cl_error_set(err, CL_ERR_ARG, "'%s': not a command", line);
    for (size_t k = 0; k < n; k++)
        if (strcmp(ids[k], cup) == 0)
            return CL_OK;
    return cl_error_set(err, CL_ERR_ARG, "no cup %s", cup);
}

/* The session's two cups on one device with a 12-bit ADC; C1 has a
 * profile; the target is 30 kPa +- 3 kPa for 10 min. */
static void begin(fixture *f)
{
    const cl_dash_cup cups[] = {{"C1", "HAND-1", 0, 0, f->p}, {"neck", "", 0, 1, NULL}};
    const cl_dash_port ports[] = {{"/dev/ttyX", 12}};
    cl_target target;
    cl_error e;
    assert_int_equal(cl_target_parse("30kPa:10min", &target, &e), CL_OK);
    assert_int_equal(cl_target_parse_band("3kPa", &target, &e), CL_OK);
    assert_int_equal(cl_dash_begin(f->d, cups, 2, ports, 1, &target, &e), CL_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cl_error e;
    assert_int_equal(cl_sensor_profile_parse(profile, &f->p, &e), CL_OK);
    assert_int_equal(cl_dash_new(&f->d, check, NULL, &e), CL_OK);
    f->dev = (cl_dash_device){.connected = true, .last_frame_s = -1, .last = f->last};
    begin(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cl_dash_free(f->d);
    cl_sensor_profile_free(f->p);
    free(f);
    return 0;
}

/* Publish one moment: time t, raw values of both channels. */
static void at(fixture *f, double t, double raw0, double raw1)
{
    f->last[0] = raw0;
    f->last[1] = raw1;
    f->dev.last_frame_s = t;
    f->dev.counters.frames = (uint64_t)(t * 100);
    cl_dash_observe(f->d, t, &f->dev);
    assert_true(cl_dash_publish(f->d, false));
}

static json_t *snapshot(fixture *f, uint64_t since)
{
    char *s = cl_dash_json(f->d, since, NULL);
    assert_non_null(s);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(j);
    return j;
}

static void test_before_recording(void **state)
{
    fixture *f = *state;
    uint64_t id;
    cl_error e;
    json_t *j = snapshot(f, 0);
    assert_false(json_is_true(json_object_get(j, "recording")));
    assert_int_equal(json_array_size(json_object_get(j, "cups")), 0);
    json_decref(j);
    assert_int_equal(cl_dash_queue_marker(f->d, "note early", &id, &e), CL_ERR_BUSY);
}

static void test_values_and_units(void **state)
{
    fixture *f = *state;
    at(f, 0.1, 3000, 1234);
    json_t *j = snapshot(f, 0), *cup = json_array_get(json_object_get(j, "cups"), 0),
           *raw = json_array_get(json_object_get(j, "cups"), 1);
    assert_true(json_is_true(json_object_get(j, "recording")));
    assert_string_equal(json_string_value(json_object_get(cup, "id")), "C1");
    assert_true(json_is_true(json_object_get(cup, "calibrated")));
    assert_string_equal(json_string_value(json_object_get(cup, "unit")), "kPa");
    assert_float_equal(json_number_value(json_object_get(cup, "value")), 24.0, 1e-9);
    assert_string_equal(json_string_value(json_object_get(raw, "unit")), "raw");
    assert_float_equal(json_number_value(json_object_get(raw, "value")), 1234, 1e-9);
    assert_float_equal(json_number_value(json_object_get(json_object_get(j, "units"), "mmHg")),
                       CL_KPA_PER_MMHG, 1e-12);
    json_t *dev = json_array_get(json_object_get(j, "devices"), 0);
    assert_string_equal(json_string_value(json_object_get(dev, "port")), "/dev/ttyX");
    assert_true(json_is_true(json_object_get(dev, "connected")));
    json_decref(j);
}

/* Applied from the engage threshold on, not after the release threshold. */
static void test_applied_since(void **state)
{
    fixture *f = *state;
    at(f, 1.0, 3750, 0); /* ambient */
    at(f, 2.0, 3000, 0); /* 24 kPa: applied */
    at(f, 5.0, 3000, 0);
    json_t *j = snapshot(f, 0);
    json_t *c1 = json_array_get(json_object_get(j, "cups"), 0);
    assert_float_equal(json_number_value(json_object_get(c1, "applied_s")), 3.0, 1e-9);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "cups"), 1),
                                             "applied_s")));
    json_decref(j);
    at(f, 6.0, 3750, 0); /* released */
    j = snapshot(f, 0);
    c1 = json_array_get(json_object_get(j, "cups"), 0);
    assert_true(json_is_null(json_object_get(c1, "applied_s")));
    json_decref(j);
}

/* C1's vacuum (kPa) as its raw reading through the fixture's profile. */
static double raw_of(double vacuum_kpa)
{
    return (120 - vacuum_kpa) / 0.032;
}

static json_t *cup_at(fixture *f, json_t **snap, size_t k)
{
    *snap = snapshot(f, 0);
    return json_array_get(json_object_get(*snap, "cups"), k);
}

/* C1 applied with one stroke to 40 kPa at 5 s, decaying by k_per_s, and
 * released at 70 s, at the dash's 10 moments a second; its phase and leak
 * along the way, checked at the times given. */
static void run_phases(fixture *f, double k_per_s, bool leaking)
{
    json_t *snap, *c;
    for (int i = 1; i <= 720; i++) {
        double t = i * CL_DASH_PERIOD_S, v;
        if (t < 5)
            v = 0;
        else if (t < 5.5)
            v = 80 * (t - 5);
        else if (t < 70)
            v = 40 * exp(-k_per_s * (t - 5.5));
        else
            v = fmax(0, 40 * exp(-k_per_s * 64.5) - 80 * (t - 70));
        at(f, t, raw_of(v), 1000);
        const char *want = NULL;
        if (i == 40)
            want = "baseline";
        else if (i == 53 || i == 80) /* rising, then not yet settled for 3 s */
            want = "evacuation";
        else if (i == 90 || i == 400 || i == 690)
            want = "hold";
        else if (i == 702)
            want = "release";
        else if (i == 720)
            want = "baseline";
        if (!want)
            continue;
        c = cup_at(f, &snap, 0);
        assert_string_equal(json_string_value(json_object_get(c, "phase")), want);
        json_t *raw = json_array_get(json_object_get(snap, "cups"), 1);
        assert_true(json_is_null(json_object_get(raw, "phase")));
        double leak = json_number_value(json_object_get(c, "leak_kpa_min"));
        double pct = json_number_value(json_object_get(c, "leak_pct_min"));
        if (i == 400 || i == 690) { /* the window (30 s) full from 38.4 s on */
            /* an exponential's secant slope over 30 s: within 1 % of k */
            double mid = t - CL_DASH_LEAK_WINDOW_S / 2;
            assert_float_equal(leak, 60 * k_per_s * 40 * exp(-k_per_s * (mid - 5.5)),
                               0.01 * leak + 1e-9);
            assert_float_equal(pct, 100 * 60 * k_per_s, 0.01 * pct + 1e-9);
            assert_int_equal(json_is_true(json_object_get(c, "leaking")), leaking);
        } else {
            assert_true(json_is_null(json_object_get(c, "leak_kpa_min")));
            assert_false(json_is_true(json_object_get(c, "leaking")));
        }
        json_decref(snap);
    }
}

/* Phases as cl_segment names them; a cup losing 30 %/min is leaking, one
 * losing 2 %/min is not (CL_DASH_LEAK_WARN_PCT_MIN 20). */
static void test_phases_leaking(void **state)
{
    run_phases(*state, 0.3 / 60, true);
}

static void test_phases_holding(void **state)
{
    run_phases(*state, 0.02 / 60, false);
}

/* Every published point once, in order; `since` gives the newer ones; the
 * oldest go beyond CL_DASH_HISTORY_S. */
static void test_history(void **state)
{
    fixture *f = *state;
    size_t hist = (size_t)(CL_DASH_HISTORY_S / CL_DASH_PERIOD_S + 0.5);
    for (size_t i = 1; i <= hist + 10; i++)
        at(f, (double)i * CL_DASH_PERIOD_S, (double)i, (double)(2 * i));
    json_t *j = snapshot(f, 0), *h = json_object_get(j, "history");
    assert_int_equal(json_integer_value(json_object_get(h, "seconds")), CL_DASH_HISTORY_S);
    assert_int_equal(json_integer_value(json_object_get(h, "first")), 11);
    assert_int_equal(json_integer_value(json_object_get(h, "last")), hist + 10);
    json_t *raw = json_array_get(json_object_get(h, "values"), 1);
    assert_int_equal(json_array_size(raw), hist);
    for (size_t p = 0; p < hist; p++)
        assert_float_equal(json_number_value(json_array_get(raw, p)), 2.0 * (double)(p + 11),
                           1e-9);
    json_decref(j);
    j = snapshot(f, hist + 7);
    h = json_object_get(j, "history");
    assert_int_equal(json_integer_value(json_object_get(h, "first")), hist + 8);
    assert_int_equal(json_array_size(json_object_get(h, "t")), 3);
    json_decref(j);
}

static const char *marker_state(fixture *f, uint64_t id)
{
    static char buf[32];
    json_t *j = snapshot(f, 0), *m;
    size_t i;
    buf[0] = '\0';
    json_array_foreach(json_object_get(j, "markers"), i, m)
        if ((uint64_t)json_integer_value(json_object_get(m, "id")) == id)
            snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(m, "state")));
    json_decref(j);
    return buf;
}

/* Markers: checked by the recording's check, handed over in order, their
 * outcome shown after the next publish. */
static void test_markers(void **state)
{
    fixture *f = *state;
    uint64_t a, b;
    cl_error e;
    char line[128];
    at(f, 0.1, 3750, 0);
    assert_int_equal(cl_dash_queue_marker(f->d, "applied neck first", &a, &e), CL_OK);
    assert_int_equal(cl_dash_queue_marker(f->d, "released C9", &b, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "C9"));
    assert_int_equal(cl_dash_queue_marker(f->d, "note second", &b, &e), CL_OK);
    assert_true(b > a);
    assert_string_equal(marker_state(f, a), "queued");
    assert_true(cl_dash_next_marker(f->d, line, sizeof line));
    assert_string_equal(line, "applied neck first");
    cl_dash_marker_done(f->d, true, NULL);
    assert_true(cl_dash_next_marker(f->d, line, sizeof line));
    assert_string_equal(line, "note second");
    cl_dash_marker_done(f->d, false, "refused");
    assert_false(cl_dash_next_marker(f->d, line, sizeof line));
    assert_string_equal(marker_state(f, a), "queued"); /* until the next publish */
    at(f, 0.2, 3750, 0);
    assert_string_equal(marker_state(f, a), "recorded");
    assert_string_equal(marker_state(f, b), "rejected");
    for (int i = 0; i < CL_DASH_MARKERS; i++)
        assert_int_equal(cl_dash_queue_marker(f->d, "note n", &b, &e), CL_OK);
    assert_int_equal(cl_dash_queue_marker(f->d, "note one too many", &b, &e), CL_ERR_BUSY);
}

/* Without a check the dash takes no markers, and its snapshot says so. */
static void test_read_only(void **state)
{
    fixture *f = *state;
    cl_dash *ro;
    cl_error e;
    uint64_t id;
    const cl_dash_cup cups[] = {{"C1", "HAND-1", 0, 0, f->p}};
    const cl_dash_port ports[] = {{"/dev/ttyY", 0}};
    at(f, 0.1, 3750, 0);
    json_t *j = snapshot(f, 0);
    assert_true(json_is_false(json_object_get(j, "read_only")));
    json_decref(j);
    assert_false(cl_dash_read_only(f->d, NULL));

    assert_int_equal(cl_dash_new(&ro, NULL, NULL, &e), CL_OK);
    assert_int_equal(cl_dash_begin(ro, cups, 1, ports, 1, NULL, &e), CL_OK);
    cl_dash_event(ro, &(cl_session_event){0.05, 0, CL_EVENT_APPLIED, "typed at the recorder"});
    f->dev.last_frame_s = 0.1;
    cl_dash_observe(ro, 0.1, &f->dev);
    assert_true(cl_dash_publish(ro, true));
    assert_true(cl_dash_read_only(ro, &e));
    assert_int_equal(cl_dash_queue_marker(ro, "note from afar", &id, &e), CL_ERR_PERM);
    assert_non_null(strstr(e.msg, "read-only"));
    char *s = cl_dash_json(ro, 0, NULL);
    assert_non_null(s);
    j = json_loads(s, 0, NULL);
    free(s);
    assert_true(json_is_true(json_object_get(j, "read_only")));
    assert_true(json_is_true(json_object_get(j, "recording")));
    assert_int_equal(json_array_size(json_object_get(j, "markers")), 0);
    /* the file's events are shown; no target, no ADC resolution: no band,
     * and raw 0 is not taken for saturation */
    json_t *ev = json_array_get(json_object_get(j, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "text")), "typed at the recorder");
    assert_true(json_is_null(json_object_get(j, "target")));
    json_t *c1 = json_array_get(json_object_get(j, "cups"), 0);
    assert_true(json_is_false(json_object_get(c1, "saturated")));
    assert_true(json_is_null(json_object_get(c1, "target")));
    json_decref(j);
    cl_dash_free(ro);
}

/* A reading at 0 or 4095 (12 bits) is saturated, calibrated or not; an
 * applied, calibrated cup is below, within or above 30 +- 3 kPa. */
static void test_saturation_and_target(void **state)
{
    fixture *f = *state;
    static const struct {
        double t, vacuum_kpa, raw1;
        const char *band; /* NULL: none shown */
        bool sat0, sat1;
    } steps[] = {
        {1.0, 0, 1000, NULL, false, false},     /* not applied */
        {2.0, 31, 4095, "within", false, true}, /* neck at full scale */
        {3.0, 33.5, 4094, "above", false, false},
        {4.0, 26.9, 0, "below", false, true},   /* neck at 0 */
        {5.0, 27.1, 1, "within", false, false},
        {6.0, 120, 1, "above", true, false},    /* C1 at raw 0: saturated */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        json_t *snap, *c = NULL;
        at(f, steps[i].t, raw_of(steps[i].vacuum_kpa), steps[i].raw1);
        c = cup_at(f, &snap, 0);
        const char *band = json_string_value(json_object_get(c, "target"));
        if (steps[i].band)
            assert_string_equal(band, steps[i].band);
        else if (i == 0)
            assert_null(band);
        assert_int_equal(json_is_true(json_object_get(c, "saturated")), steps[i].sat0);
        json_t *neck = json_array_get(json_object_get(snap, "cups"), 1);
        assert_int_equal(json_is_true(json_object_get(neck, "saturated")), steps[i].sat1);
        assert_true(json_is_null(json_object_get(neck, "target")));
        json_t *t = json_object_get(snap, "target");
        assert_float_equal(json_number_value(json_object_get(t, "vacuum_kpa")), 30, 1e-9);
        assert_float_equal(json_number_value(json_object_get(t, "band_kpa")), 3, 1e-9);
        assert_float_equal(json_number_value(json_object_get(t, "duration_s")), 600, 1e-9);
        json_decref(snap);
    }
}

/* The recording's events, the last CL_DASH_EVENTS of them, oldest first,
 * with the cup named by its id; none lost while the lock is busy. */
static void test_events(void **state)
{
    fixture *f = *state;
    char text[32];
    at(f, 0.1, 3750, 0);
    for (int i = 0; i < CL_DASH_EVENTS + 8; i++) {
        snprintf(text, sizeof text, "event %d", i);
        cl_dash_event(f->d, &(cl_session_event){1.0 + i, i % 3 - 1,
                                                i % 2 ? CL_EVENT_NOTE : CL_EVENT_APPLIED, text});
        if (i == 3) {
            at(f, 0.2, 3750, 0);
            json_t *j = snapshot(f, 0), *evs = json_object_get(j, "events");
            assert_int_equal(json_array_size(evs), 4);
            json_t *e1 = json_array_get(evs, 1);
            assert_string_equal(json_string_value(json_object_get(e1, "text")), "event 1");
            assert_string_equal(json_string_value(json_object_get(e1, "cup")), "C1");
            assert_string_equal(json_string_value(json_object_get(e1, "kind")),
                                cl_event_kind_name(CL_EVENT_NOTE));
            assert_float_equal(json_number_value(json_object_get(e1, "t")), 2.0, 1e-9);
            assert_true(json_is_null(json_object_get(json_array_get(evs, 0), "cup")));
            json_decref(j);
        }
    }
    at(f, 0.3, 3750, 0);
    json_t *j = snapshot(f, 0), *evs = json_object_get(j, "events");
    assert_int_equal(json_array_size(evs), CL_DASH_EVENTS);
    for (size_t i = 0; i < CL_DASH_EVENTS; i++) {
        snprintf(text, sizeof text, "event %zu", i + 8);
        assert_string_equal(json_string_value(json_object_get(json_array_get(evs, i), "text")),
                            text);
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_before_recording, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_and_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_applied_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phases_leaking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phases_holding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_markers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saturation_and_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
