/* sim/file: the session file (--output) and calibration points
 * (--calibration-points) of cuplab-sim, written without a pty. */
#include "file.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "cl_log.h"
#include "cl_profile.h"
#include "cl_session_write.h"

#define BATCH 1024 /* rows appended at a time */
#define DEFAULT_CREATED "2025-01-01T09:00:00Z"
#define TAIL_S 10              /* recorded after the last release */
#define MARKER_DELAY_MIN_S 0.5 /* an observer types a marker this late ... */
#define MARKER_DELAY_MAX_S 2.0 /* ... to this late */
/* Calibration points: setpoints 0, -75, ..., -600 mmHg, up then down, twice;
 * each the mean of POINT_SAMPLES readings at the pressure actually set
 * (the setpoint missed by N(0, SET_SD)), read by a reference gauge with
 * error N(0, REF_SD) shown to 0.1 mmHg, at 21.5 degrees C. */
#define SETPOINTS 9
#define SETPOINT_STEP_MMHG 75.0
#define CYCLES 2
#define POINT_SAMPLES 50
#define SET_SD_MMHG 1.0
#define REF_SD_MMHG 0.03
#define POINTS_TEMPERATURE_C 21.5
/* Generator streams derived from the seeds, beside session.c's 1..3 (and 5
 * for --sensor-seed): observer's markers and calibration points. */
#define STREAM_POINTS 4
#define STREAM_MARKERS 6

double sim_file_duration(const sim_options *o, const sim_session *ses)
{
    double end = 0;
    for (int i = 0; i < o->cups; i++)
        end = fmax(end, cl_sim_release_end(&ses->cup[i]));
    return ceil(end + TAIL_S);
}

/* ---- identity ------------------------------------------------------------------ */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
    return (h ^ 0xFF) * 0x100000001B3ULL; /* field separator */
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A version-4-shaped UUID that is a function of the options that make the
 * session what it is. */
static void derive_uuid(const sim_options *o, const char *created, char out[37])
{
    char seed[64];
    uint64_t h = 0xCBF29CE484222325ULL;
    snprintf(seed, sizeof seed, "%lu/%lu/%d", o->seed, o->sensor_seed, o->cups);
    h = fnv1a(h, seed);
    h = fnv1a(h, o->practitioner);
    h = fnv1a(h, o->subject);
    h = fnv1a(h, created);
    h = fnv1a(h, o->output);
    uint64_t a = mix(h + 0x9E3779B97F4A7C15ULL), b = mix(h + 2 * 0x9E3779B97F4A7C15ULL);
    a = (a & ~0xF000ULL) | 0x4000ULL;                        /* version 4 */
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; /* RFC 4122 variant */
    snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
             a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF, b >> 48,
             (uint64_t)(b & 0xFFFFFFFFFFFFULL));
}

/* created + seconds, same format. */
static int add_seconds(const char *created, double s, char *out, size_t cap)
{
    time_t t;
    cl_error err;
    if (cl_profile_parse_date(created, &t, &err) != CL_OK)
        return -1;
    cl_profile_format_datetime(t + (time_t)llround(s), out, cap);
    return 0;
}

/* ---- calibration points -------------------------------------------------------- */

static int write_points_file(const char *path, const sim_options *o, const cl_sim_sensor *s,
                             const char *serial, double noise_kpa, gsl_rng *r)
{
    double raw[POINT_SAMPLES];
    FILE *f = fopen(path, "w");
    if (!f) {
        cl_log(CL_LOG_ERROR, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# %s against a simulated reference gauge (%s, sensor seed %lu)\n", serial,
            SIM_PROG, o->sensor_seed_given ? o->sensor_seed : o->seed);
    fprintf(f, "ref_mmHg,raw,raw_sd,n,direction,temperature_c\n");
    for (int cycle = 0; cycle < CYCLES; cycle++)
        for (int k = 0; k < 2 * SETPOINTS; k++) {
            bool up = k < SETPOINTS;
            int step = up ? k : 2 * SETPOINTS - 1 - k;
            double set = -SETPOINT_STEP_MMHG * step;
            double actual = set + (step ? gsl_ran_gaussian(r, SET_SD_MMHG) : 0);
            double shown = round((actual + gsl_ran_gaussian(r, REF_SD_MMHG)) * 10) / 10;
            for (int j = 0; j < POINT_SAMPLES; j++)
                raw[j] = cl_sim_sensor_read(s, actual * CL_KPA_PER_MMHG, noise_kpa, r);
            double mean = gsl_stats_mean(raw, 1, POINT_SAMPLES);
            fprintf(f, "%.1f,%.4f,%.4f,%d,%s,%.1f\n", shown == 0 ? 0.0 : shown, mean,
                    gsl_stats_sd_m(raw, 1, POINT_SAMPLES, mean), POINT_SAMPLES,
                    up ? "up" : "down", POINTS_TEMPERATURE_C);
        }
    if (ferror(f) | (fclose(f) != 0)) {
        cl_log(CL_LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* One CSV per sensor in o->points_dir (created if missing). */
static int write_points(const sim_options *o, const sim_session *ses)
{
    char path[4096];
    int rc = 0;
    if (mkdir(o->points_dir, 0777) != 0 && errno != EEXIST) {
        cl_log(CL_LOG_ERROR, "cannot create %s: %s", o->points_dir, strerror(errno));
        return -1;
    }
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) {
        cl_log(CL_LOG_ERROR, "out of memory");
        return -1;
    }
    gsl_rng_set(r, sim_session_derive_seed(o->sensor_seed_given ? o->sensor_seed : o->seed,
                                           STREAM_POINTS));
    for (int i = 0; i < o->cups && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s.csv", o->points_dir, ses->serial[i]);
        rc = write_points_file(path, o, &ses->sensor[i], ses->serial[i], ses->cup[i].noise_kpa,
                               r);
        if (rc == 0)
            cl_log(CL_LOG_INFO, "wrote %s", path);
    }
    gsl_rng_free(r);
    return rc;
}

/* ---- the session file ---------------------------------------------------------- */

typedef struct announce_buf {
    char text[4096];
    size_t len;
} announce_buf;

static void put_line(void *ctx, const char *key, const char *value)
{
    announce_buf *b = ctx;
    int n = snprintf(b->text + b->len, sizeof b->text - b->len, "%s%s: %s", b->len ? "\n" : "",
                     key, value); /* as cuplab-acquire joins them */
    if (n > 0 && (size_t)n < sizeof b->text - b->len)
        b->len += (size_t)n;
}

static int cmp_event(const void *a, const void *b)
{
    const cl_session_event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->cup < y->cup ? -1 : x->cup > y->cup;
}

/* Start, the observer's markers (--markers) and stop, in time order. */
static size_t make_events(const sim_options *o, const sim_session *ses, double duration,
                          cl_session_event *ev, gsl_rng *r)
{
    size_t n = 0;
    ev[n++] = (cl_session_event){0, -1, CL_EVENT_START, "recording started"};
    for (int i = 0; o->markers && i < o->cups; i++) {
        const cl_sim_cup *c = &ses->cup[i];
        double d1 =
            MARKER_DELAY_MIN_S + (MARKER_DELAY_MAX_S - MARKER_DELAY_MIN_S) * gsl_rng_uniform(r);
        double d2 =
            MARKER_DELAY_MIN_S + (MARKER_DELAY_MAX_S - MARKER_DELAY_MIN_S) * gsl_rng_uniform(r);
        ev[n++] = (cl_session_event){round((c->t_apply_s + d1) * 1000) / 1000, i,
                                     CL_EVENT_APPLIED, ""};
        ev[n++] = (cl_session_event){round((cl_sim_release_start(c) + d2) * 1000) / 1000, i,
                                     CL_EVENT_RELEASED, ""};
    }
    qsort(ev + 1, n - 1, sizeof *ev, cmp_event);
    ev[n++] = (cl_session_event){duration, -1, CL_EVENT_STOP, "recording stopped"};
    return n;
}

/* Append every frame: device time in ms as the text protocol sends it,
 * host time the same in seconds. */
static int write_rows(cl_session *s, const sim_options *o, sim_session *ses, cl_error *err)
{
    size_t cups = (size_t)o->cups;
    double *samples = malloc(BATCH * cups * sizeof *samples);
    double dev[BATCH], host[BATCH];
    uint32_t seq[BATCH];
    int32_t raw[SIM_MAX_CUPS];
    int rc = CL_OK;
    if (!samples)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (uint64_t k0 = 0; k0 < ses->nframes && rc == CL_OK; k0 += BATCH) {
        size_t m = ses->nframes - k0 < BATCH ? (size_t)(ses->nframes - k0) : BATCH;
        for (size_t j = 0; j < m; j++) {
            uint64_t k = k0 + j;
            double t = (double)k / o->rate_hz;
            int64_t ms = llround(t * 1e6) / 1000;
            sim_session_read(ses, t, raw);
            for (size_t c = 0; c < cups; c++)
                samples[j * cups + c] = raw[c];
            dev[j] = (double)ms;
            host[j] = (double)ms / 1000;
            seq[j] = (uint32_t)k;
        }
        rc = cl_session_append(s, 0, m, samples, dev, host, seq, err);
    }
    free(samples);
    return rc;
}

/* Contents of the --profile files, for the session's copy. */
static int read_profiles(const sim_options *o, char **text)
{
    for (int i = 0; i < o->nprofiles; i++) {
        cl_error err;
        if (cl_profile_read_file(o->profile[i], &text[i], &err) != CL_OK) {
            cl_log(CL_LOG_ERROR, "%s", err.msg);
            return -1;
        }
        if (!cl_profile_kind(text[i])) {
            cl_log(CL_LOG_ERROR, "%s: not a cuplab calibration profile", o->profile[i]);
            return -1;
        }
    }
    return 0;
}

/* The cup table: one cup per channel, with site, size, material, sensor. */
static void cup_table(const sim_options *o, const sim_session *ses, cl_session_cup *cups)
{
    static const char *const size_name[] = {"S", "M", "L"};
    for (int i = 0; i < o->cups; i++) {
        char z = o->nsites ? o->site[i].size : 0;
        cups[i] = (cl_session_cup){.cup_id = ses->cup_id[i],
                                   .device = 0,
                                   .channel = (uint16_t)i,
                                   .cup_set = o->cup_set,
                                   .size = z == 'S'   ? size_name[0]
                                           : z == 'M' ? size_name[1]
                                           : z == 'L' ? size_name[2]
                                                      : "",
                                   .material = ses->cup[i].technique == CL_SIM_FIRE ? "glass"
                                                                                    : "plastic",
                                   .site = o->nsites ? o->site[i].name : "",
                                   .sensor_serial = ses->serial[i]};
    }
}

/* The rows, the markers (drawn from r), the counters and the clock. */
static int write_content(cl_session *s, const sim_options *o, sim_session *ses, double duration,
                         gsl_rng *r, cl_error *err)
{
    cl_session_event ev[2 * SIM_MAX_CUPS + 2];
    size_t nev = make_events(o, ses, duration, ev, r);
    cl_session_counters cnt = {.frames = ses->nframes};
    cl_session_clock clk = {0, 1, 0, 0, 0, 0, (double)ses->nframes, 0};
    int rc = write_rows(s, o, ses, err);
    for (size_t i = 0; rc == CL_OK && i < nev; i++)
        rc = cl_session_add_event(s, &ev[i], err);
    if (rc == CL_OK)
        rc = cl_session_set_counters(s, 0, &cnt, err);
    if (rc == CL_OK)
        rc = cl_session_set_clock(s, 0, &clk, err);
    return rc;
}

static int write_session(const sim_options *o, sim_session *ses, sim_truth_file *tf)
{
    static char *profiles[SIM_MAX_PROFILES];
    cl_session_cup cups[SIM_MAX_CUPS];
    announce_buf ann = {{0}, 0};
    char port[64], ended[32];
    cl_session *s = NULL;
    gsl_rng *r = NULL;
    cl_error err;
    int rc = -1;
    double duration = (double)ses->nframes / o->rate_hz;

    if (read_profiles(o, profiles) < 0)
        goto out;
    if (add_seconds(tf->created_utc, duration, ended, sizeof ended) < 0) {
        cl_log(CL_LOG_ERROR, "--created '%s': expected YYYY-MM-DDThh:mm:ssZ", tf->created_utc);
        goto out;
    }
    tf->ended_utc = ended;
    sim_session_announce(ses, o, put_line, &ann);
    snprintf(port, sizeof port, "sim:%s", ses->device_id);
    cl_session_device dev = {.port = port,
                             .protocol = "text",
                             .baud = 0,
                             .channels = (uint16_t)o->cups,
                             .time_units = "ms",
                             .description = SIM_PROG " (written directly, no transport)",
                             .usb_vendor_id = -1,
                             .usb_product_id = -1,
                             .announcement = ann.text};
    cup_table(o, ses, cups);
    char notes[128];
    snprintf(notes, sizeof notes, "simulated by %s, seed %lu", SIM_PROG " " CUPLAB_VERSION,
             o->seed);
    cl_session_meta meta = {
        .practitioner = o->practitioner,
        .subject = o->subject,
        .technique = o->technique ? cl_sim_technique_name(o->technique) : "mixed",
        .notes = notes,
        .profiles = (const char *const *)profiles,
        .nprofiles = (size_t)o->nprofiles,
    };
    cl_session_options so = {
        .force = o->force, .uuid = tf->uuid, .created_utc = tf->created_utc};
    if (cl_session_create(&s, o->output, &meta, &dev, 1, cups, (size_t)o->cups, &so, &err) !=
        CL_OK) {
        cl_log(CL_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    if (!(r = gsl_rng_alloc(gsl_rng_mt19937))) {
        cl_log(CL_LOG_ERROR, "out of memory");
        goto out;
    }
    gsl_rng_set(r, sim_session_derive_seed(o->seed, STREAM_MARKERS));
    if (write_content(s, o, ses, duration, r, &err) != CL_OK)
        goto fail;
    rc = cl_session_close_at(s, CL_SESSION_COMPLETE, ended, &err) == CL_OK ? 0 : -1;
    s = NULL;
    if (rc < 0)
        cl_log(CL_LOG_ERROR, "%s", err.msg);
    goto out;
fail:
    cl_log(CL_LOG_ERROR, "%s", err.msg);
    cl_session_abandon(s);
    remove(o->output); /* never leave half a file that looks like a session */
out:
    gsl_rng_free(r);
    for (int i = 0; i < o->nprofiles; i++) {
        free(profiles[i]);
        profiles[i] = NULL;
    }
    return rc;
}

int sim_file_run(const sim_options *o, sim_session *ses, sim_truth *truth)
{
    char uuid[37];
    if (o->points_dir && write_points(o, ses) < 0)
        return SIM_EXIT_RUNTIME;
    if (!o->output)
        return SIM_EXIT_OK;
    sim_truth_file tf = {.created_utc = o->created ? o->created : DEFAULT_CREATED};
    if (o->uuid) {
        tf.uuid = o->uuid;
    } else {
        derive_uuid(o, tf.created_utc, uuid);
        tf.uuid = uuid;
    }
    if (write_session(o, ses, &tf) < 0)
        return SIM_EXIT_RUNTIME;
    cl_log(CL_LOG_INFO, "wrote %s: %d cups, %" PRIu64 " frames", o->output, o->cups,
           ses->nframes);
    return sim_truth_write_file(truth, o, ses, &tf) < 0 ? SIM_EXIT_RUNTIME : SIM_EXIT_OK;
}
