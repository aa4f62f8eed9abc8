/*
 * cl_report: per-cup rows, session statistics and summaries of
 * cuplab-analyze, rendered through cl_table (text, CSV) and jansson (the
 * JSON document).  The column list below is the single definition of the
 * output columns; docs/analysis.md documents it.
 */
#include "output/cl_report.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a column's unit is derived. */
typedef enum dim {
    D_NONE,
    D_S,      /* seconds */
    D_P,      /* pressure, the report's unit */
    D_PMIN,   /* pressure per minute */
    D_DOSE,   /* pressure times minutes */
    D_Q,      /* mbar*L/s */
    D_COUNTS, /* raw ADC counts */
    D_ML,     /* millilitres */
    D_PCT,    /* percent */
    D_MIN,    /* minutes */
    D_PERMIN, /* per minute (rate constants) */
    D_PCTMIN, /* percent per minute */
} dim;

typedef struct colspec {
    const char *name;
    bool str;
    dim d;
    int precision;
    bool compact; /* shown in the default text table */
    const char *page; /* its heading in the printed report; NULL: not there */
} colspec;

enum {
    C_FILE, C_UUID, C_STATUS, C_PRACTITIONER, C_SUBJECT, C_TECHNIQUE, C_CUP, C_DEVICE,
    C_CHANNEL, C_SITE, C_CUP_SET, C_MATERIAL, C_SIZE, C_SERIAL, C_CALIBRATION,
    C_SAMPLES, C_MISSING, C_SATURATED, C_DURATION, C_MIN_RAW, C_MAX_RAW, C_MEAN_RAW,
    C_UNIT, C_SIGN, C_ZERO, C_APPS, C_APPLIED, C_HOLD_START, C_REL_START, C_REL_END,
    C_RELEASED, C_STROKES, C_REPUMPS, C_PEAK, C_PEAK_U, C_PEAK_UN, C_PEAK_T, C_TTP, C_HOLD_DUR,
    C_WIN_START, C_WIN_END, C_HOLD_MEAN, C_HOLD_SD, C_HOLD_MIN, C_HOLD_MAX, C_FIT_START,
    C_FIT_END, C_FIT_POINTS, C_CHANGE, C_CHANGE_PCT, C_K, C_K_SE, C_REL, C_REL_SE, C_SLOPE,
    C_SLOPE_SE, C_LEAK, C_LEAK_SE, C_LIN_INTERCEPT,
    C_LIN_R2, C_MODEL, C_EXP_MODEL, C_TAU, C_TAU_SE, C_P0, C_P0_SE, C_PINF, C_PINF_SE,
    C_EXP_C, C_EXP_C_SE, C_CORR, C_IDENT, C_EXP_R2, C_RHO1, C_INFLATION, C_VOLUME, C_Q,
    C_Q_SE, C_PTI, C_DOSE, C_MARKERS, C_FLAGS, NCOL
};

static const colspec cols[NCOL] = {
    [C_FILE] = {"file", true, D_NONE, 0, false},
    [C_UUID] = {"session_uuid", true, D_NONE, 0, false},
    [C_STATUS] = {"status", true, D_NONE, 0, false},
    [C_PRACTITIONER] = {"practitioner", true, D_NONE, 0, false},
    [C_SUBJECT] = {"subject", true, D_NONE, 0, false},
    [C_TECHNIQUE] = {"technique", true, D_NONE, 0, false},
    [C_CUP] = {"cup", true, D_NONE, 0, true, "Cup"},
    [C_DEVICE] = {"device", false, D_NONE, 0, false},
    [C_CHANNEL] = {"channel", false, D_NONE, 0, false},
    [C_SITE] = {"site", true, D_NONE, 0, false, "Site"},
    [C_CUP_SET] = {"cup_set", true, D_NONE, 0, false},
    [C_MATERIAL] = {"material", true, D_NONE, 0, false},
    [C_SIZE] = {"size", true, D_NONE, 0, false},
    [C_SERIAL] = {"sensor_serial", true, D_NONE, 0, false},
    [C_CALIBRATION] = {"calibration", true, D_NONE, 0, false},
    [C_SAMPLES] = {"samples", false, D_NONE, 0, false},
    [C_MISSING] = {"missing", false, D_NONE, 0, false},
    [C_SATURATED] = {"saturated", false, D_NONE, 0, false},
    [C_DURATION] = {"duration_s", false, D_S, 6, false},
    [C_MIN_RAW] = {"min_raw", false, D_COUNTS, 8, false},
    [C_MAX_RAW] = {"max_raw", false, D_COUNTS, 8, false},
    [C_MEAN_RAW] = {"mean_raw", false, D_COUNTS, 8, false},
    [C_UNIT] = {"pressure_unit", true, D_NONE, 0, false},
    [C_SIGN] = {"vacuum_sign", true, D_NONE, 0, false},
    [C_ZERO] = {"zero_offset", false, D_P, 4, false},
    [C_APPS] = {"applications", false, D_NONE, 0, false},
    [C_APPLIED] = {"applied_s", false, D_S, 5, true},
    [C_HOLD_START] = {"hold_start_s", false, D_S, 5, true},
    [C_REL_START] = {"release_start_s", false, D_S, 5, true},
    [C_REL_END] = {"release_end_s", false, D_S, 5, false},
    [C_RELEASED] = {"released", false, D_NONE, 0, false},
    [C_STROKES] = {"strokes", false, D_NONE, 0, true},
    [C_REPUMPS] = {"repumps", false, D_NONE, 0, true},
    [C_PEAK] = {"peak_vacuum", false, D_P, 4, true, "Peak vacuum"},
    [C_PEAK_U] = {"peak_vacuum_u", false, D_P, 2, false, "Peak uncertainty (k = 2)"},
    [C_PEAK_UN] = {"peak_vacuum_u_noise", false, D_P, 2, false},
    [C_PEAK_T] = {"peak_time_s", false, D_S, 5, false},
    [C_TTP] = {"time_to_peak_s", false, D_S, 4, false, "Time to peak"},
    [C_HOLD_DUR] = {"hold_duration_s", false, D_S, 4, true, "Hold duration"},
    [C_WIN_START] = {"window_start_s", false, D_S, 5, false},
    [C_WIN_END] = {"window_end_s", false, D_S, 5, false},
    [C_HOLD_MEAN] = {"hold_mean", false, D_P, 4, true, "Hold mean"},
    [C_HOLD_SD] = {"hold_sd", false, D_P, 3, false},
    [C_HOLD_MIN] = {"hold_min", false, D_P, 4, false},
    [C_HOLD_MAX] = {"hold_max", false, D_P, 4, false},
    [C_FIT_START] = {"fit_start_s", false, D_S, 5, false},
    [C_FIT_END] = {"fit_end_s", false, D_S, 5, false},
    [C_FIT_POINTS] = {"fit_points", false, D_NONE, 0, false},
    [C_CHANGE] = {"hold_change", false, D_P, 3, false},
    [C_CHANGE_PCT] = {"hold_change_pct", false, D_PCT, 3, false},
    [C_K] = {"leak_k", false, D_PERMIN, 3, false, "Leak rate constant"},
    [C_K_SE] = {"leak_k_se", false, D_PERMIN, 2, false},
    [C_REL] = {"leak_rel_rate", false, D_PCTMIN, 3, false},
    [C_REL_SE] = {"leak_rel_rate_se", false, D_PCTMIN, 2, false},
    [C_SLOPE] = {"decay_slope", false, D_PMIN, 3, true, "Decay slope"},
    [C_SLOPE_SE] = {"decay_slope_se", false, D_PMIN, 2, false},
    [C_LEAK] = {"leak_rate", false, D_PMIN, 3, false},
    [C_LEAK_SE] = {"leak_rate_se", false, D_PMIN, 2, false},
    [C_LIN_INTERCEPT] = {"lin_intercept", false, D_P, 4, false},
    [C_LIN_R2] = {"lin_r2", false, D_NONE, 4, false},
    [C_MODEL] = {"model", true, D_NONE, 0, true},
    [C_EXP_MODEL] = {"exp_model", true, D_NONE, 0, false},
    [C_TAU] = {"tau_s", false, D_S, 4, true, "Time constant"},
    [C_TAU_SE] = {"tau_se", false, D_S, 2, false},
    [C_P0] = {"p0", false, D_P, 4, false},
    [C_P0_SE] = {"p0_se", false, D_P, 2, false},
    [C_PINF] = {"p_inf", false, D_P, 4, false},
    [C_PINF_SE] = {"p_inf_se", false, D_P, 2, false},
    [C_EXP_C] = {"exp_c", false, D_PMIN, 3, false},
    [C_EXP_C_SE] = {"exp_c_se", false, D_PMIN, 2, false},
    [C_CORR] = {"corr_pinf_tau", false, D_NONE, 4, false},
    [C_IDENT] = {"tau_identifiable", false, D_NONE, 0, false},
    [C_EXP_R2] = {"exp_r2", false, D_NONE, 4, false},
    [C_RHO1] = {"rho1", false, D_NONE, 3, false},
    [C_INFLATION] = {"se_inflation", false, D_NONE, 3, false},
    [C_VOLUME] = {"volume_ml", false, D_ML, 4, false},
    [C_Q] = {"q_leak", false, D_Q, 3, false},
    [C_Q_SE] = {"q_leak_se", false, D_Q, 2, false},
    [C_PTI] = {"pressure_time_integral", false, D_DOSE, 4, true, "Pressure-time integral"},
    [C_DOSE] = {"dose", false, D_DOSE, 4, false},
    [C_MARKERS] = {"markers", true, D_NONE, 0, false},
    [C_FLAGS] = {"flags", true, D_NONE, 0, true, "Flags"},
};

typedef struct cell {
    double num;
    char *str;
} cell;

typedef struct session {
    char *file, *uuid, *status;
    cell *rows; /* nrows * NCOL */
    size_t nrows;
    cl_stat stats[CL_STAT_COUNT];
    char summary[768];
    /* column views for write-back */
    cl_report_column colview[NCOL];
    double *numbuf;      /* NCOL * nrows */
    const char **strbuf; /* NCOL * nrows */
} session;

struct cl_report {
    cl_unit unit;
    char units[6][24]; /* per dim: pressure, per minute, dose */
    session *s;
    size_t ns;
};

static const char *dim_unit(const cl_report *r, dim d)
{
    switch (d) {
    case D_NONE: return NULL;
    case D_S: return "s";
    case D_P: return r->units[0];
    case D_PMIN: return r->units[1];
    case D_DOSE: return r->units[2];
    case D_Q: return "mbar*L/s";
    case D_COUNTS: return "counts";
    case D_ML: return "mL";
    case D_PCT: return "%";
    case D_MIN: return "min";
    case D_PERMIN: return "1/min";
    case D_PCTMIN: return "%/min";
    }
    return NULL;
}

/* kPa-based value -> the report's unit (pressure dims only). */
static double conv(const cl_report *r, dim d, double v)
{
    if (d == D_P || d == D_PMIN || d == D_DOSE)
        return cl_unit_from_kpa(v, r->unit);
    return v;
}

cl_report *cl_report_new(cl_unit unit)
{
    cl_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->unit = unit;
    const char *u = cl_unit_name(unit);
    snprintf(r->units[0], sizeof r->units[0], "%s", u);
    snprintf(r->units[1], sizeof r->units[1], "%s/min", u);
    snprintf(r->units[2], sizeof r->units[2], "%s*min", u);
    return r;
}

static void session_release(session *s)
{
    for (size_t i = 0; i < s->nrows * NCOL; i++)
        free(s->rows[i].str);
    free(s->rows);
    free(s->numbuf);
    free(s->strbuf);
    free(s->file);
    free(s->uuid);
    free(s->status);
}

void cl_report_free(cl_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ns; i++)
        session_release(&r->s[i]);
    free(r->s);
    free(r);
}

size_t cl_report_sessions(const cl_report *r) { return r->ns; }

const char *cl_report_summary(const cl_report *r, size_t i)
{
    return i < r->ns ? r->s[i].summary : "";
}

const char *cl_report_status(const cl_report *r, size_t i)
{
    return i < r->ns ? r->s[i].status : "";
}

/* ------------------------------------------------------------ rows */

static int set_str(cell *row, int c, const char *s)
{
    row[c].str = strdup(s ? s : "");
    return row[c].str ? CL_OK : CL_ERR_NOMEM;
}

/* The text columns of a row (CL_ERR_NOMEM if one cannot be copied). */
static int row_texts(const cl_report *r, const cl_report_session *s, const cl_cup_result *x,
                     cell *row)
{
    const cl_cup_metrics *m = &x->m;
    const cl_decay_fit *e = cl_metrics_exp_fit(m);
    char flags[CL_ANALYSIS_TEXT * 2];
    bool fit = m->fitted, eok = fit && e->ok;
    int rc = CL_OK;
    cl_analysis_flags_text(x->flags, flags, sizeof flags);
    rc |= set_str(row, C_FILE, s->file);
    rc |= set_str(row, C_UUID, s->session_uuid);
    rc |= set_str(row, C_STATUS, s->status);
    rc |= set_str(row, C_PRACTITIONER, s->practitioner);
    rc |= set_str(row, C_SUBJECT, s->subject);
    rc |= set_str(row, C_TECHNIQUE, s->technique);
    rc |= set_str(row, C_CUP, x->cup_id);
    rc |= set_str(row, C_SITE, x->site);
    rc |= set_str(row, C_CUP_SET, x->cup_set);
    rc |= set_str(row, C_MATERIAL, x->material);
    rc |= set_str(row, C_SIZE, x->size);
    rc |= set_str(row, C_SERIAL, x->sensor_serial);
    rc |= set_str(row, C_CALIBRATION, x->calibration);
    rc |= set_str(row, C_UNIT, cl_unit_name(r->unit));
    rc |= set_str(row, C_SIGN, CL_REPORT_SIGN);
    rc |= set_str(row, C_MODEL, fit ? cl_decay_model_name(m->best.model) : "");
    rc |= set_str(row, C_EXP_MODEL, eok ? cl_decay_model_name(e->model) : "");
    rc |= set_str(row, C_MARKERS, x->markers);
    rc |= set_str(row, C_FLAGS, flags);
    return rc != CL_OK ? CL_ERR_NOMEM : CL_OK;
}

/* The figures of the main application. */
static void application_values(const cl_cup_result *x, double *v)
{
    const cl_cup_metrics *m = &x->m;
    const cl_segment_app *a = &x->app;
    v[C_APPLIED] = a->onset_s;
    v[C_HOLD_START] = a->hold_start_s;
    v[C_REL_START] = a->release_start_s;
    v[C_REL_END] = a->release_end_s;
    v[C_RELEASED] = a->released;
    v[C_STROKES] = (double)a->strokes;
    v[C_REPUMPS] = (double)a->repumps;
    v[C_PEAK] = m->peak_kpa;
    v[C_PEAK_U] = x->peak_u_kpa;
    v[C_PEAK_UN] = m->peak_noise_u_kpa;
    v[C_PEAK_T] = m->peak_t_s;
    v[C_TTP] = m->time_to_peak_s;
    v[C_HOLD_DUR] = m->hold_duration_s;
    v[C_WIN_START] = m->win_start_s;
    v[C_WIN_END] = m->win_end_s;
    v[C_HOLD_MEAN] = m->hold_mean_kpa;
    v[C_HOLD_SD] = m->hold_sd_kpa;
    v[C_HOLD_MIN] = m->hold_min_kpa;
    v[C_HOLD_MAX] = m->hold_max_kpa;
    v[C_PTI] = m->dose_kpa_min;
    v[C_DOSE] = m->dose_kpa_min;
    v[C_VOLUME] = x->volume_ml;
}

/* The figures of the hold's fits. */
static void fit_values(const cl_cup_result *x, double *v)
{
    const cl_cup_metrics *m = &x->m;
    const cl_decay_fit *lin = &m->all[CL_DECAY_LINEAR - 1];
    v[C_FIT_START] = m->fit_start_s;
    v[C_FIT_END] = m->fit_end_s;
    v[C_FIT_POINTS] = (double)m->fit_points;
    v[C_CHANGE] = m->change_kpa;
    v[C_CHANGE_PCT] = m->change_pct;
    v[C_K] = m->k_per_min;
    v[C_K_SE] = m->k_se_per_min;
    v[C_REL] = m->rel_pct_min;
    v[C_REL_SE] = m->rel_se_pct_min;
    v[C_SLOPE] = m->leak_kpa_min;
    v[C_SLOPE_SE] = m->leak_se_kpa_min;
    v[C_LEAK] = m->leak_kpa_min;
    v[C_LEAK_SE] = m->leak_se_kpa_min;
    v[C_LIN_INTERCEPT] = lin->a_kpa;
    v[C_LIN_R2] = lin->r2;
    v[C_RHO1] = m->best.rho1;
    v[C_INFLATION] = m->best.inflation;
    v[C_Q] = x->q_mbarl_s;
    v[C_Q_SE] = x->q_se_mbarl_s;
}

/* The exponential's parameters. */
static void exp_values(const cl_decay_fit *e, double *v)
{
    v[C_TAU] = e->tau_s;
    v[C_TAU_SE] = e->tau_se;
    v[C_P0] = e->p0_kpa;
    v[C_P0_SE] = e->p0_se;
    v[C_PINF] = e->p_inf_kpa;
    v[C_PINF_SE] = e->p_inf_se;
    /* c: vacuum per second in the fit -> per minute here. */
    v[C_EXP_C] = e->c_kpa_s * 60;
    v[C_EXP_C_SE] = e->c_se * 60;
    v[C_CORR] = e->corr_pinf_tau;
    v[C_IDENT] = e->identifiable;
    v[C_EXP_R2] = e->r2;
}

static int fill_row(const cl_report *r, const cl_report_session *s, const cl_cup_result *x,
                    cell *row)
{
    const cl_cup_metrics *m = &x->m;
    const cl_decay_fit *e = cl_metrics_exp_fit(m);
    double v[NCOL];

    for (int c = 0; c < NCOL; c++)
        row[c] = (cell){.num = NAN, .str = NULL};
    if (row_texts(r, s, x, row) != CL_OK)
        return CL_ERR_NOMEM;
    for (int c = 0; c < NCOL; c++)
        v[c] = NAN;
    v[C_DEVICE] = x->device;
    v[C_CHANNEL] = x->channel;
    v[C_SAMPLES] = (double)x->samples;
    v[C_MISSING] = (double)x->missing;
    v[C_SATURATED] = (double)x->saturated;
    v[C_DURATION] = x->duration_s;
    v[C_MIN_RAW] = x->min_raw;
    v[C_MAX_RAW] = x->max_raw;
    v[C_MEAN_RAW] = x->mean_raw;
    v[C_ZERO] = x->zero_kpa;
    v[C_APPS] = (double)x->applications;
    if (x->applied)
        application_values(x, v);
    if (m->fitted)
        fit_values(x, v);
    if (m->fitted && e->ok)
        exp_values(e, v);
    for (int c = 0; c < NCOL; c++)
        if (!cols[c].str)
            row[c].num = conv(r, cols[c].d, v[c]);
    return CL_OK;
}

/* ------------------------------------------------------------ summary */

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    if (*len >= cap)
        return;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (w > 0)
        *len = *len + (size_t)w < cap ? *len + (size_t)w : cap;
}

static void stat_text(const cl_report *r, const session *s, cl_stat_metric m, const char *label,
                      double scale, const char *unit, char *buf, size_t cap, size_t *len)
{
    const cl_stat *st = &s->stats[m];
    if (st->n == 0)
        return;
    int d = cl_stat_metric_dimension(m);
    double mean = conv(r, d == 1 ? D_P : d == 2 ? D_PMIN : d == 3 ? D_DOSE : D_NONE, st->mean);
    double sd = conv(r, d == 1 ? D_P : d == 2 ? D_PMIN : d == 3 ? D_DOSE : D_NONE, st->sd);
    /* Decimals from the spread: two significant digits of the SD. */
    double spread = st->n > 1 && sd * scale > 0 ? fabs(sd * scale) : fabs(mean * scale) / 10;
    int dec = spread > 0 ? 1 - (int)floor(log10(spread)) : 1;
    dec = dec < 0 ? 0 : dec > 4 ? 4 : dec;
    if (st->n > 1)
        append(buf, cap, len, ", %s %.*f \u00b1 %.*f %s", label, dec, mean * scale, dec,
               sd * scale, unit);
    else
        append(buf, cap, len, ", %s %.*f %s", label, dec, mean * scale, unit);
}

static void summarise(const cl_report *r, session *s, const cl_report_session *info,
                      const cl_cup_result *res, size_t n)
{
    size_t len = 0, applied = 0, counts[CL_FLAG_COUNT] = {0};
    char *buf = s->summary;
    size_t cap = sizeof s->summary;
    for (size_t i = 0; i < n; i++) {
        applied += res[i].applied;
        for (unsigned k = 0; k < CL_FLAG_COUNT; k++)
            counts[k] += (res[i].flags >> k) & 1u;
    }
    append(buf, cap, &len, "%s: %s", info->file, info->status);
    if (info->technique && *info->technique)
        append(buf, cap, &len, ", %s", info->technique);
    append(buf, cap, &len, ", %zu cup%s, %zu applied", n, n == 1 ? "" : "s", applied);
    stat_text(r, s, CL_STAT_PEAK, "peak", 1, r->units[0], buf, cap, &len);
    stat_text(r, s, CL_STAT_HOLD_MEAN, "hold", 1, r->units[0], buf, cap, &len);
    stat_text(r, s, CL_STAT_HOLD_DURATION, "for", 1.0 / 60, "min", buf, cap, &len);
    stat_text(r, s, CL_STAT_LEAK, "decay slope", 1, r->units[1], buf, cap, &len);
    stat_text(r, s, CL_STAT_DOSE, "pressure-time integral", 1, r->units[2], buf, cap, &len);
    if (applied > 1)
        append(buf, cap, &len, " (mean \u00b1 SD)");
    append(buf, cap, &len, "; vacuum %s", CL_REPORT_SIGN);
    bool first = true;
    for (unsigned k = 0; k < CL_FLAG_COUNT; k++) {
        if (!counts[k])
            continue;
        append(buf, cap, &len, "%s%s %zu", first ? "; flags: " : ", ",
               cl_analysis_flag_name(1u << k), counts[k]);
        first = false;
    }
    if (info->gap_events)
        append(buf, cap, &len, "; %zu gap event%s in the file", info->gap_events,
               info->gap_events == 1 ? "" : "s");
}

int cl_report_add_session(cl_report *r, const cl_report_session *info,
                          const cl_cup_result *res, size_t n, cl_error *err)
{
    session *ns = realloc(r->s, (r->ns + 1) * sizeof *ns);
    if (!ns)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    r->s = ns;
    session *s = &r->s[r->ns];
    memset(s, 0, sizeof *s);
    s->file = strdup(info->file ? info->file : "");
    s->uuid = strdup(info->session_uuid ? info->session_uuid : "");
    s->status = strdup(info->status ? info->status : "");
    s->rows = calloc(n ? n * NCOL : 1, sizeof *s->rows);
    if (!s->file || !s->uuid || !s->status || !s->rows) {
        session_release(s);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    s->nrows = n;
    for (size_t i = 0; i < n; i++) {
        if (fill_row(r, info, &res[i], s->rows + i * NCOL) != CL_OK) {
            session_release(s);
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        }
    }
    int rc = cl_analysis_stats(res, n, s->stats, err);
    if (rc != CL_OK) {
        session_release(s);
        return rc;
    }
    summarise(r, s, info, res, n);
    r->ns++;
    return CL_OK;
}

/* ------------------------------------------------------------ tables */

/* The columns of a per-cup table. */
typedef enum selection { SEL_ALL, SEL_COMPACT, SEL_PAGE } selection;

static bool selected(int c, selection sel)
{
    return sel == SEL_ALL || (sel == SEL_COMPACT ? cols[c].compact : cols[c].page != NULL);
}

static cl_table *cup_table(const cl_report *r, size_t only, selection sel)
{
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    for (int c = 0; c < NCOL; c++) {
        if (!selected(c, sel))
            continue;
        if (cl_table_add_column(t, sel == SEL_PAGE ? cols[c].page : cols[c].name,
                                dim_unit(r, cols[c].d), cols[c].precision) != CL_OK)
            goto fail;
    }
    for (size_t k = 0; k < r->ns; k++) {
        if (only != (size_t)-1 && k != only)
            continue;
        const session *s = &r->s[k];
        for (size_t i = 0; i < s->nrows; i++) {
            const cell *row = s->rows + i * NCOL;
            if (cl_table_add_row(t) != CL_OK)
                goto fail;
            size_t tc = 0;
            for (int c = 0; c < NCOL; c++) {
                if (!selected(c, sel))
                    continue;
                int rc = cols[c].str ? cl_table_set_str(t, tc, row[c].str)
                                     : cl_table_set_num(t, tc, row[c].num);
                if (rc != CL_OK)
                    goto fail;
                tc++;
            }
        }
    }
    return t;
fail:
    cl_table_free(t);
    return NULL;
}

enum { S_FILE, S_UUID, S_METRIC, S_UNIT, S_N, S_MEAN, S_SD, S_CV, S_MEDIAN, S_Q1, S_Q3,
       S_MIN, S_MAX, NSCOL };

static cl_table *stats_table(const cl_report *r, size_t only)
{
    static const char *const names[NSCOL] = {"file", "session_uuid", "metric", "unit", "n",
                                             "mean", "sd", "cv", "median", "q1", "q3", "min",
                                             "max"};
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    for (int c = 0; c < NSCOL; c++)
        if (cl_table_add_column(t, names[c], NULL, c >= S_MEAN ? 4 : 0) != CL_OK)
            goto fail;
    for (size_t k = 0; k < r->ns; k++) {
        if (only != (size_t)-1 && k != only)
            continue;
        const session *s = &r->s[k];
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            const cl_stat *st = &s->stats[m];
            int d = cl_stat_metric_dimension((cl_stat_metric)m);
            dim dd = d == 1 ? D_P : d == 2 ? D_PMIN : d == 3 ? D_DOSE : D_NONE;
            const char *unit = dim_unit(r, dd);
            if (d == 0)
                unit = cl_stat_metric_fixed_unit((cl_stat_metric)m);
            double vals[] = {st->mean, st->sd, st->cv, st->median, st->q1, st->q3, st->min,
                             st->max};
            if (cl_table_add_row(t) != CL_OK || cl_table_set_str(t, S_FILE, s->file) ||
                cl_table_set_str(t, S_UUID, s->uuid) ||
                cl_table_set_str(t, S_METRIC, cl_stat_metric_name((cl_stat_metric)m)) ||
                cl_table_set_str(t, S_UNIT, unit ? unit : "") ||
                cl_table_set_num(t, S_N, (double)st->n))
                goto fail;
            for (int j = 0; j < 8; j++) {
                /* cv is a ratio: not converted. */
                double v = j == 2 ? vals[j] : conv(r, dd, vals[j]);
                if (cl_table_set_num(t, (size_t)(S_MEAN + j), v) != CL_OK)
                    goto fail;
            }
        }
    }
    return t;
fail:
    cl_table_free(t);
    return NULL;
}

/* A cl_table's JSON rendering, parsed back. */
static json_t *table_json(const cl_table *t, const char *title)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int rc = cl_table_write(t, f, CL_TABLE_JSON, title, NULL);
    if (fclose(f) != 0)
        rc = CL_ERR_IO;
    json_t *j = rc == CL_OK ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return j;
}

static char *title_text(const cl_report *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "cuplab-analyze: per-cup results; vacuum in %s, %s", r->units[0],
             CL_REPORT_SIGN);
    return buf;
}

/* The JSON document of one session (only) or all (-1). */
static json_t *document(const cl_report *r, size_t only)
{
    char title[160];
    cl_table *cups = cup_table(r, only, SEL_ALL), *stats = stats_table(r, only);
    json_t *root = NULL, *st = NULL, *sessions = json_array();
    if (!cups || !stats || !sessions)
        goto out;
    root = table_json(cups, title_text(r, title, sizeof title));
    st = table_json(stats, "session statistics across applied cups");
    if (!root || !st)
        goto fail;
    json_object_set_new(root, "format", json_string(CL_REPORT_FORMAT));
    json_object_set_new(root, "format_version", json_integer(CL_REPORT_VERSION));
    json_object_set_new(root, "software_version", json_string(CUPLAB_VERSION));
    json_object_set_new(root, "pressure_unit", json_string(cl_unit_name(r->unit)));
    json_object_set_new(root, "vacuum_sign", json_string(CL_REPORT_SIGN));
    for (size_t k = 0; k < r->ns; k++) {
        if (only != (size_t)-1 && k != only)
            continue;
        json_array_append_new(sessions,
                              json_pack("{s:s, s:s, s:s, s:s}", "file", r->s[k].file,
                                        "session_uuid", r->s[k].uuid, "status", r->s[k].status,
                                        "summary", r->s[k].summary));
    }
    json_object_set_new(root, "sessions", sessions);
    sessions = NULL;
    json_object_set_new(root, "statistics", st);
    st = NULL;
    goto out;
fail:
    json_decref(root);
    root = NULL;
out:
    json_decref(st);
    json_decref(sessions);
    cl_table_free(cups);
    cl_table_free(stats);
    return root;
}

int cl_report_write(const cl_report *r, FILE *out, cl_table_format fmt, bool wide,
                    cl_error *err)
{
    char title[160];
    int rc = CL_OK;
    if (fmt == CL_TABLE_JSON) {
        json_t *doc = document(r, (size_t)-1);
        if (!doc)
            return cl_error_set(err, CL_ERR_NOMEM, "cannot build the JSON document");
        if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) !=
                0 ||
            fputc('\n', out) == EOF)
            rc = cl_error_set(err, CL_ERR_IO, "cannot write the JSON document");
        json_decref(doc);
        return rc;
    }
    cl_table *cups =
        cup_table(r, (size_t)-1, fmt == CL_TABLE_TEXT && !wide ? SEL_COMPACT : SEL_ALL);
    if (!cups)
        return cl_error_set(err, CL_ERR_NOMEM, "cannot build the table");
    rc = cl_table_write(cups, out, fmt, title_text(r, title, sizeof title), err);
    cl_table_free(cups);
    if (rc != CL_OK || fmt != CL_TABLE_TEXT)
        return rc;
    cl_table *stats = stats_table(r, (size_t)-1);
    if (!stats)
        return cl_error_set(err, CL_ERR_NOMEM, "cannot build the table");
    fputc('\n', out);
    rc = cl_table_write(stats, out, fmt, "session statistics across applied cups", err);
    cl_table_free(stats);
    for (size_t k = 0; rc == CL_OK && k < r->ns; k++)
        fprintf(out, "%s%s\n", k ? "" : "\n", r->s[k].summary);
    if (rc == CL_OK && ferror(out))
        rc = cl_error_set(err, CL_ERR_IO, "cannot write the report");
    return rc;
}

cl_table *cl_report_page_table(const cl_report *r, size_t i)
{
    return i < r->ns ? cup_table(r, i, SEL_PAGE) : NULL;
}

char *cl_report_session_json(const cl_report *r, size_t i)
{
    if (i >= r->ns)
        return NULL;
    json_t *doc = document(r, i);
    if (!doc)
        return NULL;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(doc);
    return text;
}

const cl_report_column *cl_report_session_columns(cl_report *r, size_t i, size_t *ncols,
                                                  size_t *nrows)
{
    if (i >= r->ns)
        return NULL;
    session *s = &r->s[i];
    size_t n = s->nrows;
    if (!s->numbuf) {
        s->numbuf = malloc((n ? n : 1) * NCOL * sizeof *s->numbuf);
        s->strbuf = malloc((n ? n : 1) * NCOL * sizeof *s->strbuf);
        if (!s->numbuf || !s->strbuf) {
            free(s->numbuf);
            free(s->strbuf);
            s->numbuf = NULL;
            s->strbuf = NULL;
            return NULL;
        }
        for (int c = 0; c < NCOL; c++) {
            double *nb = s->numbuf + (size_t)c * (n ? n : 1);
            const char **sb = s->strbuf + (size_t)c * (n ? n : 1);
            for (size_t k = 0; k < n; k++) {
                nb[k] = s->rows[k * NCOL + c].num;
                sb[k] = s->rows[k * NCOL + c].str;
            }
            s->colview[c] = (cl_report_column){
                .name = cols[c].name,
                .unit = dim_unit(r, cols[c].d),
                .num = cols[c].str ? NULL : nb,
                .str = cols[c].str ? sb : NULL,
            };
        }
    }
    *ncols = NCOL;
    *nrows = n;
    return s->colview;
}
