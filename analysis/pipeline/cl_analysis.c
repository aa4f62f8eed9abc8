/*
 * cl_analysis: one session file through the per-cup pipeline (see
 * cl_analysis.h).  The time axis of each device is built once (two arrays of
 * its row count); each cup's channel is read into one array, turned into
 * vacuum in place, analysed, and released before the next cup.
 *
 * Read-ahead: while cup k is analysed, a thread reads cup k + 1's channel
 * (and its device's time axis), so the disk and the arithmetic overlap.
 * Only one thread at a time calls HDF5 (Debian's HDF5 is not thread-safe):
 * the analysis of a cup touches no file, and the read-ahead thread is
 * joined before cl_analysis_cup() goes back to the file or returns.
 */
#include "pipeline/cl_analysis.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_ident.h"
#include "cl_log.h"
#include "cl_profile.h"
#include "cl_units.h"
#include "pipeline/cl_timeaxis.h"

#define ZERO_WINDOW_S 2.0    /* baseline estimate from the first/last seconds */
#define ZERO_LIMIT_KPA 3.0   /* a "baseline" deeper than this is a cup already on */
#define ZERO_REFINE_S 30.0   /* refined on this much baseline before the onset */
/* Deeper than the top of the range of cupping vacuums reported in the
 * literature (about 60-750 mmHg): implausible. */
#define IMPLAUSIBLE_KPA (750 * CL_KPA_PER_MMHG)

/* A device's time axis, built when its first cup is read. */
typedef struct devtime {
    bool loaded;
    cl_timeaxis ax;
} devtime;

typedef struct event {
    double host_t;
    int cup;
    cl_event_kind kind;
    size_t index; /* in the session's event table */
} event;

struct cl_analysis {
    cl_session_reader *r;
    char *path;
    cl_analysis_options o;
    cl_sensor_profile **stored; /* sensor profiles the file carries */
    size_t nstored;
    cl_cupset **stored_sets;    /* cup sets the file carries */
    size_t nstored_sets;
    devtime *dev;
    size_t ndev;
    event *ev;
    size_t nev, gap_events;
    /* Read-ahead (see the top of the file): cup `ahead_cup`'s raw channel
     * once `ahead_raw` is set. */
    pthread_t ahead_thread;
    size_t ahead_cup;
    double *ahead_raw;
};

static const char *const flag_names[CL_FLAG_COUNT] = {
    "uncalibrated",   "no_transfer",        "no_data",
    "flat",           "missing",            "saturated",
    "gap",            "no_baseline",        "no_application",
    "multiple_applications", "not_released", "short_hold",
    "tau_not_identifiable",  "leak_high",    "profile_expired",
    "out_of_calibrated_range", "markers_disagree", "implausible_vacuum",
};

void cl_analysis_defaults(cl_analysis_options *o)
{
    memset(o, 0, sizeof *o);
    o->filter = CL_FILTER_NONE;
    cl_segment_defaults(&o->seg);
    cl_metrics_defaults(&o->met);
    o->marker_tol_s = 5.0;
    o->leak_factor = 3.0;
}

const char *cl_analysis_flag_name(unsigned bit)
{
    for (unsigned k = 0; k < CL_FLAG_COUNT; k++)
        if (bit == 1u << k)
            return flag_names[k];
    return NULL;
}

void cl_analysis_flags_text(unsigned flags, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    for (unsigned k = 0; k < CL_FLAG_COUNT; k++) {
        if (!(flags & (1u << k)))
            continue;
        int w = snprintf(buf + len, cap > len ? cap - len : 0, "%s%s", len ? ";" : "",
                         flag_names[k]);
        if (w > 0)
            len += (size_t)w;
        if (len >= cap)
            break;
    }
}

void cl_cup_trace_free(cl_cup_trace *tr)
{
    if (!tr)
        return;
    free(tr->t_s);
    free(tr->vac_kpa);
    free(tr->marker_t_s);
    free(tr->marker_kind);
    free(tr->marker_event);
    cl_segmentation_release(&tr->seg);
    free(tr);
}

/* ------------------------------------------------------------- opening */

void cl_analysis_close(cl_analysis *a)
{
    if (!a)
        return;
    for (size_t d = 0; d < a->ndev; d++)
        cl_timeaxis_release(&a->dev[d].ax);
    free(a->dev);
    free(a->ev);
    free(a->ahead_raw);
    for (size_t i = 0; i < a->nstored; i++)
        cl_sensor_profile_free(a->stored[i]);
    free(a->stored);
    for (size_t i = 0; i < a->nstored_sets; i++)
        cl_cupset_free(a->stored_sets[i]);
    free(a->stored_sets);
    free(a->path);
    cl_session_reader_close(a->r);
    free(a);
}

static bool is_gap_kind(cl_event_kind k)
{
    return k == CL_EVENT_GAP || k == CL_EVENT_DISCONNECT || k == CL_EVENT_OVERRUN;
}

/* The sensor profiles and cup sets stored in the file.  One that cannot be
 * read is skipped (logged): the user's profiles or the fallback stand in,
 * and the cup says which was used. */
static int load_stored_profiles(cl_analysis *a, cl_error *err)
{
    size_t n = cl_session_profile_count(a->r);
    a->stored = calloc(n ? n : 1, sizeof *a->stored);
    a->stored_sets = calloc(n ? n : 1, sizeof *a->stored_sets);
    if (!a->stored || !a->stored_sets)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", a->path);
    for (size_t i = 0; i < n; i++) {
        const char *json = cl_session_profile(a->r, i);
        const char *kind = json ? cl_profile_kind(json) : NULL;
        cl_error perr;
        int rc = CL_OK;
        /* Anything but a cup set is read as a sensor profile, so that one
         * that cannot be used (invalid JSON, another kind) is named. */
        if (kind && !strcmp(kind, "cupset")) {
            rc = cl_cupset_parse(json, &a->stored_sets[a->nstored_sets], &perr);
            a->nstored_sets += rc == CL_OK;
        } else {
            rc = cl_sensor_profile_parse(json, &a->stored[a->nstored], &perr);
            a->nstored += rc == CL_OK;
        }
        if (rc != CL_OK)
            cl_log(CL_LOG_WARN, "%s: stored profile %zu (/calibration/profiles[%zu]) skipped: %s",
                   a->path, i, i, perr.msg);
    }
    return CL_OK;
}

int cl_analysis_open(cl_analysis **out, const char *path, const cl_analysis_options *o,
                     cl_error *err)
{
    cl_analysis *a = NULL;
    int rc;
    *out = NULL;
    if (!path || !o)
        return cl_error_set(err, CL_ERR_ARG, "analysis: no file or options");
    a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    a->o = *o;
    if (a->o.now == 0)
        a->o.now = time(NULL);
    rc = cl_session_open(&a->r, path, err);
    if (rc != CL_OK)
        goto fail;
    if (cl_session_damaged(a->r))
        cl_log(CL_LOG_WARN,
               "%s: damaged session (its writer was killed while writing?): %s unreadable; "
               "analysed without (cups whose samples are unreadable: no_data)",
               path, cl_session_damage(a->r));
    a->ndev = cl_session_device_count(a->r);
    a->dev = calloc(a->ndev ? a->ndev : 1, sizeof *a->dev);
    a->nev = cl_session_event_count(a->r);
    a->ev = calloc(a->nev ? a->nev : 1, sizeof *a->ev);
    if (!a->dev || !a->ev) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < a->nev; i++) {
        cl_session_event ev;
        rc = cl_session_event_get(a->r, i, &ev, err);
        if (rc != CL_OK)
            goto fail;
        a->ev[i] = (event){ev.t, ev.cup, ev.kind, i};
        if (is_gap_kind(ev.kind))
            a->gap_events++;
    }
    rc = load_stored_profiles(a, err);
    if (rc != CL_OK)
        goto fail;
    *out = a;
    return CL_OK;
fail:
    cl_analysis_close(a);
    return rc;
}

cl_session_reader *cl_analysis_reader(cl_analysis *a) { return a->r; }
const char *cl_analysis_path(const cl_analysis *a) { return a->path; }
size_t cl_analysis_cup_count(const cl_analysis *a) { return cl_session_cup_count(a->r); }
size_t cl_analysis_gap_events(const cl_analysis *a) { return a->gap_events; }

/* ------------------------------------------------------------ helpers */

/* Device d's time axis, built once. */
static int load_time(cl_analysis *a, size_t d, cl_error *err)
{
    if (a->dev[d].loaded)
        return CL_OK;
    int rc = cl_timeaxis_load(&a->dev[d].ax, a->r, d, a->path, err);
    a->dev[d].loaded = rc == CL_OK;
    return rc;
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

static double median_of(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    gsl_sort(x, 1, n);
    return gsl_stats_median_from_sorted_data(x, 1, n);
}

/* Median of the finite v over t in [t0, t1]; NaN if fewer than `least`. */
static double window_median(const double *t, const double *v, size_t n, double t0, double t1,
                            size_t least)
{
    double *c = malloc((n ? n : 1) * sizeof *c);
    size_t k = 0;
    if (!c)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (t[i] >= t0 && t[i] <= t1 && isfinite(v[i]))
            c[k++] = v[i];
    double m = k >= least && k ? median_of(c, k) : NAN;
    free(c);
    return m;
}

/* Sensor profile for serial: the user's first (they win), then those the
 * session file carries.  *source names where it came from. */
static const cl_sensor_profile *find_profile(const cl_analysis *a, const char *serial,
                                             const char **source)
{
    *source = NULL;
    if (!serial || !*serial)
        return NULL;
    for (size_t i = 0; i < a->o.nprofiles; i++) {
        const char *s = cl_sensor_profile_serial(a->o.profiles[i]);
        if (s && !strcmp(s, serial)) {
            *source = a->o.profile_sources ? a->o.profile_sources[i] : "command line";
            return a->o.profiles[i];
        }
    }
    for (size_t i = 0; i < a->nstored; i++) {
        const char *s = cl_sensor_profile_serial(a->stored[i]);
        if (s && !strcmp(s, serial)) {
            *source = "stored in the session";
            return a->stored[i];
        }
    }
    return NULL;
}

/* Cup of a cup set: the set whose id is the cup's cup_set (or the only set
 * there is when the cup names none), then the cup by its id. */
static const cl_cupset_cup *find_in_sets(const cl_cupset *const *sets, size_t n,
                                         const cl_session_cup *c, size_t *set)
{
    *set = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const char *id = cl_cupset_id(sets[i]);
        bool match = c->cup_set && *c->cup_set ? id && !strcmp(id, c->cup_set) : n == 1;
        if (match) {
            *set = i;
            return cl_cupset_find(sets[i], c->cup_id);
        }
    }
    return NULL;
}

/* The user's cup sets win over those stored in the file; *from is the set
 * the cup was found in, *stored whether the file carries it. */
static const cl_cupset_cup *find_cupset_cup(const cl_analysis *a, const cl_session_cup *c,
                                            const cl_cupset **from, bool *stored)
{
    size_t set;
    const cl_cupset_cup *cc = find_in_sets(a->o.cupsets, a->o.ncupsets, c, &set);
    *stored = false;
    if (cc)
        *from = a->o.cupsets[set];
    if (!cc && a->o.ncupsets == 0 &&
        (cc = find_in_sets((const cl_cupset *const *)a->stored_sets, a->nstored_sets, c, &set))) {
        *from = a->stored_sets[set];
        *stored = true;
    }
    return cc;
}

bool cl_analysis_cupset_match(const cl_analysis *a, size_t cup, size_t *set)
{
    const cl_session_cup *c = cl_session_cup_info(a->r, cup);
    *set = SIZE_MAX;
    return c && find_in_sets(a->o.cupsets, a->o.ncupsets, c, set) != NULL;
}

/* Markers of cup k against the segmentation; picks the application the
 * applied markers name.  Text into res->markers. */
static void check_markers(const cl_analysis *a, const cl_timeaxis *dt, size_t k,
                          const cl_segmentation *seg, cl_cup_result *res, size_t *main_app)
{
    double tol = a->o.marker_tol_s;
    size_t nmark = 0, bad = 0, len = 0;
    char *buf = res->markers;
    size_t cap = sizeof res->markers;
    size_t repump_markers = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->nev; i++) {
        const event *e = &a->ev[i];
        if (e->cup != -1 && (size_t)e->cup != k)
            continue;
        if (e->kind != CL_EVENT_APPLIED && e->kind != CL_EVENT_RELEASED &&
            e->kind != CL_EVENT_REPUMPED)
            continue;
        nmark++;
        double t = cl_timeaxis_map(dt, e->host_t), best = INFINITY;
        size_t best_app = 0;
        for (size_t j = 0; j < seg->napps; j++) {
            const cl_segment_app *ap = &seg->apps[j];
            double d = INFINITY;
            if (e->kind == CL_EVENT_APPLIED)
                d = fabs(t - ap->onset_s);
            else if (e->kind == CL_EVENT_RELEASED)
                d = ap->released ? fabs(t - ap->release_start_s) : INFINITY;
            else
                for (size_t r = 0; r < ap->repumps && r < CL_SEGMENT_MAX_EVENTS; r++)
                    d = fmin(d, fabs(t - ap->repump_s[r]));
            if (d < best) {
                best = d;
                best_app = j;
            }
        }
        if (e->kind == CL_EVENT_REPUMPED)
            repump_markers++;
        if (best <= tol) {
            if (e->kind == CL_EVENT_APPLIED)
                *main_app = best_app;
            continue;
        }
        bad++;
        const char *what = cl_event_kind_name(e->kind);
        int w = isfinite(best)
                    ? snprintf(buf + len, cap - len, "%s%s marker at %.1f s is %.1f s from the signal",
                               len ? "; " : "", what, t, best)
                    : snprintf(buf + len, cap - len, "%s%s marker at %.1f s: not in the signal",
                               len ? "; " : "", what, t);
        if (w > 0 && (size_t)w < cap - len)
            len += (size_t)w;
    }
    if (nmark == 0) {
        copy_str(buf, cap, "none");
        return;
    }
    /* Re-pumps the signal shows but no marker names. */
    if (seg->napps && seg->apps[*main_app].repumps > repump_markers && repump_markers > 0) {
        int w = snprintf(buf + len, cap - len, "%s%zu re-pumps in the signal, %zu marked",
                         len ? "; " : "", seg->apps[*main_app].repumps, repump_markers);
        if (w > 0 && (size_t)w < cap - len)
            len += (size_t)w;
        bad++;
    }
    if (bad)
        res->flags |= CL_FLAG_MARKERS;
    else
        snprintf(buf, cap, "agree (%zu)", nmark);
}

/* Markers of cup k for the figures. */
static int trace_markers(const cl_analysis *a, const cl_timeaxis *dt, size_t k, cl_cup_trace *tr)
{
    tr->marker_t_s = malloc((a->nev ? a->nev : 1) * sizeof *tr->marker_t_s);
    tr->marker_kind = malloc((a->nev ? a->nev : 1) * sizeof *tr->marker_kind);
    tr->marker_event = malloc((a->nev ? a->nev : 1) * sizeof *tr->marker_event);
    if (!tr->marker_t_s || !tr->marker_kind || !tr->marker_event)
        return CL_ERR_NOMEM;
    for (size_t i = 0; i < a->nev; i++) {
        const event *e = &a->ev[i];
        if (e->cup != -1 && (size_t)e->cup != k)
            continue;
        if (e->kind != CL_EVENT_APPLIED && e->kind != CL_EVENT_RELEASED &&
            e->kind != CL_EVENT_REPUMPED && e->kind != CL_EVENT_MOVED && !is_gap_kind(e->kind))
            continue;
        tr->marker_t_s[tr->nmarkers] = cl_timeaxis_map(dt, e->host_t);
        tr->marker_kind[tr->nmarkers] = e->kind;
        tr->marker_event[tr->nmarkers] = e->index;
        tr->nmarkers++;
    }
    return CL_OK;
}

/* ------------------------------------------------------------ one cup */

static void result_reset(cl_cup_result *res, size_t cup)
{
    memset(res, 0, sizeof *res);
    res->cup = cup;
    res->duration_s = 0;
    res->min_raw = res->max_raw = res->mean_raw = NAN;
    res->zero_kpa = NAN;
    res->peak_u_kpa = NAN;
    res->volume_ml = res->q_mbarl_s = res->q_se_mbarl_s = NAN;
    cl_metrics_compute(NULL, NULL, 1, 0, &res->app, NULL, &res->m, NULL);
    copy_str(res->markers, sizeof res->markers, "none");
}

/* Transfer of one raw reading to gauge kPa; NaN when unusable. */
typedef struct transfer {
    const cl_sensor_profile *profile;
    double adc_max;     /* NaN unknown */
    double raw_lo, raw_hi;
} transfer;

static double to_kpa(const transfer *x, double raw)
{
    if (x->profile)
        return cl_sensor_profile_kpa(x->profile, raw);
    if (isfinite(x->adc_max))
        return (raw / x->adc_max - CL_NOMINAL_OFFSET) / CL_NOMINAL_SENSITIVITY_PER_KPA;
    return NAN;
}

bool cl_analysis_sensor_serial(const cl_analysis_options *o, const cl_session_reader *r,
                               size_t cup, char *out, size_t cap)
{
    const cl_session_cup *c = cl_session_cup_info(r, cup);
    const cl_session_device *dev = c ? cl_session_device_info(r, c->device) : NULL;
    cl_ident id;
    bool assigned = false;
    copy_str(out, cap, c ? c->sensor_serial : NULL);
    if (!c)
        return false;
    cl_ident_parse(&id, dev ? dev->announcement : NULL);
    if (!out[0] && c->channel < CL_WIRE_MAX_CHANNELS)
        copy_str(out, cap, id.sensor_serial[c->channel]);
    for (size_t i = 0; i < o->nsensors; i++)
        if (c->cup_id && !strcmp(o->sensor_cups[i], c->cup_id)) {
            copy_str(out, cap, o->sensor_serials[i]);
            assigned = true;
        }
    return assigned;
}

int cl_analysis_adc_bits(const cl_analysis_options *o, const cl_session_reader *r, size_t dev)
{
    const cl_session_device *d = cl_session_device_info(r, dev);
    cl_ident id;
    if (o->adc_bits > 0)
        return o->adc_bits;
    cl_ident_parse(&id, d ? d->announcement : NULL);
    return id.adc_bits > 0 ? id.adc_bits : 0;
}

static void choose_transfer(cl_analysis *a, size_t k, const cl_session_cup *c,
                            cl_cup_result *res, transfer *x)
{
    *x = (transfer){.profile = NULL, .adc_max = NAN, .raw_lo = NAN, .raw_hi = NAN};

    bool assigned =
        cl_analysis_sensor_serial(&a->o, a->r, k, res->sensor_serial, sizeof res->sensor_serial);
    res->adc_bits = cl_analysis_adc_bits(&a->o, a->r, c->device);
    x->adc_max = cl_ident_adc_max(res->adc_bits);

    const char *source;
    x->profile = find_profile(a, res->sensor_serial, &source);
    res->linear_offset_kpa = res->linear_kpa_per_count = NAN;
    if (x->profile)
        cl_sensor_profile_linear(x->profile, &res->linear_offset_kpa,
                                 &res->linear_kpa_per_count);
    else if (isfinite(x->adc_max)) { /* the nominal transfer of to_kpa() */
        res->linear_kpa_per_count = 1 / (x->adc_max * CL_NOMINAL_SENSITIVITY_PER_KPA);
        res->linear_offset_kpa = -CL_NOMINAL_OFFSET / CL_NOMINAL_SENSITIVITY_PER_KPA;
    }
    if (x->profile) {
        res->cal = CL_CAL_PROFILE;
        snprintf(res->calibration, sizeof res->calibration, "profile %s%s%s%s%s",
                 res->sensor_serial, source ? " (" : "", source ? source : "",
                 source ? ")" : "", assigned ? ", sensor assigned at analysis" : "");
        cl_sensor_profile_raw_range(x->profile, &x->raw_lo, &x->raw_hi);
        const cl_sensor_calibration *d = cl_sensor_profile_data(x->profile);
        copy_str(res->profile_until, sizeof res->profile_until, d ? d->valid_until : NULL);
        if (cl_sensor_profile_check_valid(x->profile, a->o.now, NULL) == CL_ERR_EXPIRED)
            res->flags |= CL_FLAG_PROFILE_EXPIRED;
    } else if (isfinite(x->adc_max)) {
        res->cal = CL_CAL_NOMINAL;
        res->flags |= CL_FLAG_UNCALIBRATED;
        snprintf(res->calibration, sizeof res->calibration,
                 "nominal MPXV6115V, %d-bit ADC%s", res->adc_bits,
                 res->sensor_serial[0] ? "" : ", no sensor serial");
    } else {
        res->cal = CL_CAL_NONE;
        res->flags |= CL_FLAG_UNCALIBRATED | CL_FLAG_NO_TRANSFER;
        copy_str(res->calibration, sizeof res->calibration,
                 "none: no profile and the ADC resolution is unknown");
    }
}

/* The file part of cup k: its device's time axis (once per device) and its
 * raw channel, into *raw (n samples). */
static int fetch_cup(cl_analysis *a, size_t k, double **raw, cl_error *err)
{
    const cl_session_cup *c = cl_session_cup_info(a->r, k);
    *raw = NULL;
    if (!c)
        return cl_error_set(err, CL_ERR_ARG, "%s: no cup %zu", a->path, k);
    if (c->device >= a->ndev)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: cup %s refers to device %u of %zu",
                            a->path, c->cup_id, c->device, a->ndev);
    int rc = load_time(a, c->device, err);
    if (rc != CL_OK)
        return rc;
    size_t n = a->dev[c->device].ax.n;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory for %zu samples", a->path, n);
    if (cl_session_unreadable(a->r, c->device) & CL_SESSION_SAMPLES) {
        for (size_t i = 0; i < n; i++)
            v[i] = NAN; /* a damaged samples dataset: no data (flagged) */
    } else {
        for (size_t start = 0; start < n && rc == CL_OK; start += CL_TIMEAXIS_BLOCK)
            rc = cl_session_read_channel(a->r, c->device, c->channel, start,
                                         n - start < CL_TIMEAXIS_BLOCK ? n - start : CL_TIMEAXIS_BLOCK, v + start, err);
    }
    if (rc != CL_OK) {
        free(v);
        return rc;
    }
    *raw = v;
    return CL_OK;
}

static void *ahead_main(void *arg)
{
    cl_analysis *a = arg;
    cl_error ignored;
    /* A failure is not reported here: the cup is read again when asked
     * for, and that read reports it. */
    if (fetch_cup(a, a->ahead_cup, &a->ahead_raw, &ignored) != CL_OK)
        a->ahead_raw = NULL;
    return NULL;
}

/* Raw channel -> vacuum (not yet zeroed) in place, with the raw summary. */
static void convert_cup(const transfer *x, cl_cup_result *res, double *v, size_t n)
{
    double sum = 0;
    size_t finite = 0, out_of_range = 0;
    for (size_t j = 0; j < n; j++) {
        double r = v[j];
        v[j] = NAN;
        if (!isfinite(r)) {
            res->missing++;
            continue;
        }
        if (finite == 0 || r < res->min_raw)
            res->min_raw = r;
        if (finite == 0 || r > res->max_raw)
            res->max_raw = r;
        sum += r;
        finite++;
        if (cl_ident_saturated(r, x->adc_max)) {
            res->saturated++;
            continue;
        }
        if (x->profile && isfinite(x->raw_lo) && isfinite(x->raw_hi)) {
            /* Beyond 2 % of the span: noise at the edge of the range
             * (the baseline at 0 kPa) is not a finding. */
            double margin = 0.02 * (x->raw_hi - x->raw_lo);
            if (r < x->raw_lo - margin || r > x->raw_hi + margin)
                out_of_range++;
        }
        v[j] = -to_kpa(x, r);
    }
    if (finite)
        res->mean_raw = sum / (double)finite;
    if (out_of_range)
        res->flags |= CL_FLAG_OUT_OF_RANGE;
}

/* Zero the vacuum on the baseline; the first estimate (before
 * segmentation). */
static double first_zero(const double *t, const double *v, size_t n, cl_cup_result *res)
{
    if (n == 0)
        return 0;
    double z = window_median(t, v, n, t[0], t[0] + ZERO_WINDOW_S, 1);
    if (isfinite(z) && fabs(z) <= ZERO_LIMIT_KPA)
        return z;
    /* Already on at the start: the end of the recording, if the cup was
     * off by then. */
    double tail = window_median(t, v, n, t[n - 1] - ZERO_WINDOW_S, t[n - 1], 1);
    if (isfinite(tail) && fabs(tail) <= ZERO_LIMIT_KPA)
        return tail;
    res->flags |= CL_FLAG_NO_BASELINE;
    return 0;
}

/* Cup k's names, time axis and transfer into res and *x; its device time
 * axis must be loaded (fetch_cup). */
static void describe_cup(cl_analysis *a, size_t k, cl_cup_result *res, transfer *x)
{
    const cl_session_cup *c = cl_session_cup_info(a->r, k);
    copy_str(res->cup_id, sizeof res->cup_id, c->cup_id);
    copy_str(res->site, sizeof res->site, c->site);
    copy_str(res->cup_set, sizeof res->cup_set, c->cup_set);
    copy_str(res->material, sizeof res->material, c->material);
    copy_str(res->size, sizeof res->size, c->size);
    res->device = c->device;
    res->channel = c->channel;
    const cl_timeaxis *dt = &a->dev[c->device].ax;
    res->samples = dt->n;
    if (dt->n)
        res->duration_s = dt->host[dt->n - 1] - dt->host[0];
    choose_transfer(a, k, c, res, x);
}

/* Zero the vacuum on its first baseline, then filter it if asked (*v may
 * be replaced by the filtered copy). */
static int condition(const cl_analysis *a, const double *t, size_t n, double **v,
                     cl_cup_result *res, cl_error *err)
{
    double *x = *v;
    res->zero_kpa = first_zero(t, x, n, res);
    for (size_t i = 0; i < n; i++)
        x[i] -= res->zero_kpa;
    if (a->o.filter == CL_FILTER_NONE)
        return CL_OK;
    double dt_s = n > 1 ? (t[n - 1] - t[0]) / (double)(n - 1) : 1;
    double w = dt_s > 0 ? a->o.filter_s / dt_s : 1;
    double *f = malloc((n ? n : 1) * sizeof *f);
    if (!f)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", a->path);
    int rc = cl_filter_apply(a->o.filter, x, 1, n, w < 1 ? 1 : w, f, err);
    if (rc != CL_OK) {
        free(f);
        return rc;
    }
    /* The filter never brings back a sample set aside. */
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            f[i] = NAN;
    free(x);
    *v = f;
    return CL_OK;
}

/* The applications of the cup; the zero refined on the baseline just
 * before the first onset. */
static int segment_cup(const cl_analysis *a, const double *t, double *v, size_t n,
                       cl_cup_result *res, cl_segmentation *seg, cl_error *err)
{
    int rc = cl_segment(t, v, 1, n, &a->o.seg, seg, err);
    if (rc == CL_ERR_ARG) {
        /* Time never advances: nothing to segment. */
        rc = CL_OK;
        seg->napps = 0;
    }
    if (rc != CL_OK)
        return rc;
    res->applications = seg->napps;
    if (seg->napps == 0) {
        res->flags |= CL_FLAG_NO_APPLICATION;
        return CL_OK;
    }
    double on = seg->apps[0].onset_s;
    if (!(res->flags & CL_FLAG_NO_BASELINE) && on - t[0] > 1.5) {
        double z = window_median(t, v, n, fmax(t[0], on - ZERO_REFINE_S), on - 0.5, 10);
        if (isfinite(z) && fabs(z) <= ZERO_LIMIT_KPA) {
            for (size_t i = 0; i < n; i++)
                v[i] -= z;
            res->zero_kpa += z;
        }
    }
    if (seg->napps > 1)
        res->flags |= CL_FLAG_MULTIPLE;
    return CL_OK;
}

/* Volume, volumetric leak, and the cup set's baseline leak. */
static void cupset_leak(const cl_analysis *a, const cl_session_cup *c, cl_cup_result *res)
{
    const cl_cup_metrics *m = &res->m;
    const cl_cupset *set = NULL;
    bool stored;
    const cl_cupset_cup *cc = find_cupset_cup(a, c, &set, &stored);
    if (!cc)
        return;
    const cl_cupset_meta *meta = cl_cupset_get_meta(set);
    snprintf(res->cupset_used, sizeof res->cupset_used, "%s%s%s%s",
             cl_cupset_id(set) ? cl_cupset_id(set) : "?",
             meta && meta->valid_until ? ", valid until " : "",
             meta && meta->valid_until ? meta->valid_until : "",
             stored ? " (stored in the session)" : "");
    if (isfinite(cc->volume_ml)) {
        res->volume_ml = cc->volume_ml;
        /* Q = V dp/dt: L * mbar/s; leak in kPa/min -> mbar/s is x 10/60. */
        res->q_mbarl_s = cc->volume_ml / 1000 * m->leak_kpa_min * 10 / 60;
        res->q_se_mbarl_s = cc->volume_ml / 1000 * m->leak_se_kpa_min * 10 / 60;
    }
    if (isfinite(res->q_mbarl_s) && isfinite(cc->leak_q_mbarl_s) && isfinite(cc->leak_at_kpa) &&
        cc->leak_at_kpa != 0 && isfinite(m->hold_mean_kpa)) {
        /* The baseline leak scaled to this cup's hold vacuum. */
        double base = fabs(cc->leak_q_mbarl_s) * m->hold_mean_kpa / fabs(cc->leak_at_kpa);
        if (res->q_mbarl_s > a->o.leak_factor * base)
            res->flags |= CL_FLAG_LEAK_HIGH;
    } else if (isfinite(cc->leak_tau_s)) {
        const cl_decay_fit *e = cl_metrics_exp_fit(m);
        if (e->ok && e->identifiable && e->tau_s < cc->leak_tau_s / a->o.leak_factor &&
            m->leak_kpa_min > 0)
            res->flags |= CL_FLAG_LEAK_HIGH;
    }
}

/* The flags and figures that follow from the main application's metrics. */
static void judge_cup(const cl_analysis *a, size_t k, const cl_timeaxis *dt,
                      const cl_segmentation *seg, cl_cup_result *res)
{
    const cl_segment_app *ap = &res->app;
    const cl_cup_metrics *m = &res->m;
    const double *t = dt->t;
    size_t n = dt->n;
    double end = ap->released ? ap->release_end_s : t[n - 1];
    if (!ap->released)
        res->flags |= CL_FLAG_NOT_RELEASED;
    if (!m->fitted)
        res->flags |= CL_FLAG_SHORT_HOLD;
    for (size_t i = 0; i < a->nev; i++) {
        const event *e = &a->ev[i];
        if (!is_gap_kind(e->kind) || (e->cup != -1 && (size_t)e->cup != k))
            continue;
        double te = cl_timeaxis_map(dt, e->host_t);
        if (te >= ap->onset_s && te <= end && te <= t[n - 1])
            res->gap_events++;
    }
    double gap_limit = fmax(1.0, 5 * seg->dt_s);
    if (res->gap_events || m->gap_s > gap_limit)
        res->flags |= CL_FLAG_GAP;
    if (m->peak_kpa > IMPLAUSIBLE_KPA)
        res->flags |= CL_FLAG_IMPLAUSIBLE;
    /* Not identifiable: an exponential beat the line but its tau is not
     * known to +-50 % at 95 % (cl_decay). */
    if (m->fitted && m->best.model == CL_DECAY_LINEAR) {
        for (int j = 1; j < 3; j++) {
            const cl_decay_fit *e = &m->all[j];
            if (e->ok && !e->identifiable && e->aicc < m->all[0].aicc)
                res->flags |= CL_FLAG_NOT_IDENTIFIABLE;
        }
    }
    if (res->cal == CL_CAL_NOMINAL)
        res->peak_u_kpa = CL_NOMINAL_U_REL * fabs(m->peak_kpa);
    cupset_leak(a, cl_session_cup_info(a->r, k), res);
}

/* The trace of the cup: its time axis, its vacuum *v (taken over) and
 * its segmentation *seg (taken over). */
static int fill_trace(const cl_analysis *a, const cl_timeaxis *dt, size_t k, cl_cup_trace *tr,
                      double **v, cl_segmentation *seg, cl_error *err)
{
    size_t n = dt->n;
    tr->n = n;
    tr->t_s = malloc((n ? n : 1) * sizeof *tr->t_s);
    if (!tr->t_s || trace_markers(a, dt, k, tr) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", a->path);
    if (n)
        memcpy(tr->t_s, dt->t, n * sizeof *dt->t);
    tr->vac_kpa = *v;
    *v = NULL;
    tr->seg = *seg;
    *seg = (cl_segmentation){0};
    return CL_OK;
}

/* The analysis of cup k from its raw channel v (taken over); touches no
 * file (see the top of the file). */
static int run_cup(cl_analysis *a, size_t k, const transfer *x, cl_cup_result *res,
                   cl_cup_trace *tr, double *v, cl_error *err)
{
    const cl_session_cup *c = cl_session_cup_info(a->r, k);
    const cl_timeaxis *dt = &a->dev[c->device].ax;
    size_t n = dt->n;
    const double *t = dt->t;
    cl_segmentation seg = {0};
    int rc = CL_OK;

    convert_cup(x, res, v, n);
    if (res->missing)
        res->flags |= CL_FLAG_MISSING;
    if (res->saturated)
        res->flags |= CL_FLAG_SATURATED;
    if (res->missing == n) {
        res->flags |= CL_FLAG_NO_DATA;
        goto out;
    }
    if (res->min_raw == res->max_raw) {
        /* A reading that never changes carries no pressure information. */
        res->flags |= CL_FLAG_FLAT | CL_FLAG_NO_APPLICATION;
        goto out;
    }
    if (res->cal == CL_CAL_NONE)
        goto out;
    if ((rc = condition(a, t, n, &v, res, err)) != CL_OK ||
        (rc = segment_cup(a, t, v, n, res, &seg, err)) != CL_OK)
        goto out;
    size_t main_app = seg.main;
    check_markers(a, dt, k, &seg, res, &main_app);
    if (seg.napps) {
        res->applied = true;
        res->app = seg.apps[main_app];
        rc = cl_metrics_compute(t, v, 1, n, &res->app, &a->o.met, &res->m, err);
        if (rc != CL_OK)
            goto out;
        judge_cup(a, k, dt, &seg, res);
    }
    if (tr)
        rc = fill_trace(a, dt, k, tr, &v, &seg, err);
out:
    cl_segmentation_release(&seg);
    free(v);
    return rc;
}

/* Calibration uncertainty at the peak, from the raw sample there (read
 * again: the analysis keeps only vacuum). */
static void peak_uncertainty(cl_analysis *a, size_t k, const transfer *x, cl_cup_result *res)
{
    const cl_session_cup *c = cl_session_cup_info(a->r, k);
    const cl_timeaxis *dt = &a->dev[c->device].ax;
    if (!res->applied || res->cal != CL_CAL_PROFILE || !isfinite(res->m.peak_t_s))
        return;
    size_t lo = 0, hi = dt->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dt->t[mid] < res->m.peak_t_s)
            lo = mid + 1;
        else
            hi = mid;
    }
    double raw = NAN;
    if (lo < dt->n &&
        cl_session_read_channel(a->r, c->device, c->channel, lo, 1, &raw, NULL) == CL_OK &&
        isfinite(raw))
        res->peak_u_kpa = cl_sensor_profile_u_kpa(x->profile, raw);
}

int cl_analysis_cup(cl_analysis *a, size_t cup, cl_cup_result *res, cl_cup_trace **trace,
                    cl_error *err)
{
    cl_cup_trace *tr = NULL;
    double *raw = NULL;
    transfer x;
    if (trace)
        *trace = NULL;
    if (!a || !res)
        return cl_error_set(err, CL_ERR_ARG, "analysis: no session or result");
    result_reset(res, cup);
    if (a->ahead_raw && a->ahead_cup == cup) {
        raw = a->ahead_raw;
        a->ahead_raw = NULL;
    } else {
        free(a->ahead_raw);
        a->ahead_raw = NULL;
        int rc = fetch_cup(a, cup, &raw, err);
        if (rc != CL_OK)
            return rc;
    }
    describe_cup(a, cup, res, &x);
    if (trace && !(tr = calloc(1, sizeof *tr))) {
        free(raw);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    /* Read the next cup while this one is analysed. */
    a->ahead_cup = cup + 1;
    bool ahead = a->ahead_cup < cl_session_cup_count(a->r) &&
                 pthread_create(&a->ahead_thread, NULL, ahead_main, a) == 0;
    int rc = run_cup(a, cup, &x, res, tr, raw, err);
    if (ahead)
        pthread_join(a->ahead_thread, NULL);
    if (rc == CL_OK) {
        peak_uncertainty(a, cup, &x, res);
        /* The peak's total expanded uncertainty: calibration and noise with
         * ripple (cl_metrics), in quadrature; none without a calibration
         * budget (e.g. outside the calibrated range). */
        double un = res->m.peak_noise_u_kpa;
        if (isfinite(un) && isfinite(res->peak_u_kpa))
            res->peak_u_kpa = hypot(res->peak_u_kpa, un);
    }
    if (rc != CL_OK || !trace) {
        cl_cup_trace_free(tr);
        return rc;
    }
    /* A cup with no pressures still gets an (empty) trace. */
    *trace = tr;
    return CL_OK;
}

/* ------------------------------------------------------------ statistics */

static const struct {
    const char *name;
    int dim;
    const char *unit; /* of a metric that is no pressure (dim 0) */
} stat_info[CL_STAT_COUNT] = {
    {"peak_vacuum", 1, ""},
    {"time_to_peak_s", 0, "s"},
    {"hold_duration_s", 0, "s"},
    {"hold_mean", 1, ""},
    {"hold_change", 1, ""},
    {"decay_slope", 2, ""},
    {"tau_s", 0, "s"},
    {"pressure_time_integral", 3, ""},
    {"strokes", 0, ""},
    {"repumps", 0, ""},
    {"leak_k", 0, "1/min"},
};

const char *cl_stat_metric_name(cl_stat_metric m)
{
    return m < CL_STAT_COUNT ? stat_info[m].name : "unknown";
}

int cl_stat_metric_from_name(const char *name)
{
    static const struct {
        const char *alias;
        cl_stat_metric m;
    } old[] = {{"leak_rate", CL_STAT_LEAK}, {"dose", CL_STAT_DOSE}};
    for (int m = 0; m < CL_STAT_COUNT; m++)
        if (!strcmp(name, stat_info[m].name))
            return m;
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
        if (!strcmp(name, old[i].alias))
            return (int)old[i].m;
    return -1;
}

int cl_stat_metric_dimension(cl_stat_metric m)
{
    return m < CL_STAT_COUNT ? stat_info[m].dim : 0;
}

const char *cl_stat_metric_fixed_unit(cl_stat_metric m)
{
    return m < CL_STAT_COUNT ? stat_info[m].unit : "";
}

static double metric_value(const cl_cup_result *r, cl_stat_metric m)
{
    const cl_cup_metrics *x = &r->m;
    switch (m) {
    case CL_STAT_PEAK: return x->peak_kpa;
    case CL_STAT_TIME_TO_PEAK: return x->time_to_peak_s;
    case CL_STAT_HOLD_DURATION: return r->app.released ? x->hold_duration_s : NAN;
    case CL_STAT_HOLD_MEAN: return x->hold_mean_kpa;
    case CL_STAT_CHANGE: return x->change_kpa;
    case CL_STAT_LEAK: return x->leak_kpa_min;
    case CL_STAT_TAU: {
        const cl_decay_fit *e = cl_metrics_exp_fit(x);
        return e->ok && e->identifiable ? e->tau_s : NAN;
    }
    case CL_STAT_DOSE: return r->app.released ? x->dose_kpa_min : NAN;
    case CL_STAT_STROKES: return (double)r->app.strokes;
    case CL_STAT_REPUMPS: return (double)r->app.repumps;
    case CL_STAT_LEAK_K: return x->k_per_min;
    case CL_STAT_COUNT: break;
    }
    return NAN;
}

int cl_analysis_stats(const cl_cup_result *res, size_t n, cl_stat out[CL_STAT_COUNT],
                      cl_error *err)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (!x)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (int m = 0; m < CL_STAT_COUNT; m++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!res[i].applied)
                continue;
            double v = metric_value(&res[i], (cl_stat_metric)m);
            if (isfinite(v))
                x[k++] = v;
        }
        cl_stat *s = &out[m];
        *s = (cl_stat){.n = k, .mean = NAN, .sd = NAN, .cv = NAN, .median = NAN, .q1 = NAN,
                       .q3 = NAN, .min = NAN, .max = NAN};
        if (k == 0)
            continue;
        gsl_sort(x, 1, k);
        s->mean = gsl_stats_mean(x, 1, k);
        s->median = gsl_stats_median_from_sorted_data(x, 1, k);
        s->q1 = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.25);
        s->q3 = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.75);
        s->min = x[0];
        s->max = x[k - 1];
        if (k > 1) {
            s->sd = gsl_stats_sd_m(x, 1, k, s->mean);
            s->cv = s->mean != 0 ? s->sd / fabs(s->mean) : NAN;
        }
    }
    free(x);
    return CL_OK;
}
