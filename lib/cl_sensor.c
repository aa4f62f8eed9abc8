/*
 * cl_sensor: sensor profiles (JSON via jansson, through cl_profile's
 * document helpers).  The layout written here is the one
 * docs/profile-format.md specifies; the parser accepts the minimal
 * hand-written form documented there and fills the rest with "unknown"
 * (NaN / NULL).
 */
#include "cl_sensor.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NDIM (CL_PROFILE_MAX_DEGREE + 1)
/* Raw readings a profile without a covered range is checked over: +-2^31,
 * any reading of a 32-bit device. */
#define RAW_SPAN 2147483648.0
/* A transfer function that gives more than this anywhere it is checked has
 * absurd coefficients (1e15 kPa: ten orders of magnitude beyond any
 * pressure, yet far from overflowing in any unit). */
#define MAX_ABS_KPA 1e15
#define CHECK_GRID 64 /* points of that range the function is evaluated at */

struct cl_sensor_profile {
    cl_sensor_calibration d;
};

/* ========================================================== sensor: data */

void cl_sensor_calibration_init(cl_sensor_calibration *d)
{
    memset(d, 0, sizeof *d);
    d->channel = -1;
    d->ref_u_kpa = NAN;
    d->ref_k = 2;
    d->temperature_c = NAN;
    d->raw_min = d->raw_max = NAN;
    d->k = 2;
    d->u_rep_kpa = d->u_hyst_kpa = d->u_ref_kpa = NAN;
    d->residual_sd_kpa = d->r2 = d->max_residual_kpa = d->nonlinearity_kpa = NAN;
    d->hysteresis_kpa = d->repeatability_kpa = d->u_max_kpa = d->tolerance_kpa = NAN;
}

void cl_sensor_calibration_release(cl_sensor_calibration *d)
{
    if (!d)
        return;
    free(d->serial);
    free(d->model);
    free(d->date);
    free(d->valid_until);
    free(d->operator_name);
    free(d->reference);
    free(d->notes);
    free(d->software);
    free(d->source);
    free(d->points);
    free(d->setpoints);
    cl_sensor_calibration_init(d);
}

double cl_sensor_calibration_kpa(const cl_sensor_calibration *d, double raw)
{
    if (d->degree < 1 || d->degree > CL_PROFILE_MAX_DEGREE)
        return NAN;
    double p = d->coef[d->degree];
    for (int i = d->degree - 1; i >= 0; i--)
        p = p * raw + d->coef[i];
    return p;
}

double cl_sensor_calibration_u_fit_kpa(const cl_sensor_calibration *d, double raw)
{
    double g[NDIM], v = 0;
    int n = d->degree + 1;
    if (d->degree < 1 || d->degree > CL_PROFILE_MAX_DEGREE)
        return NAN;
    g[0] = 1;
    for (int i = 1; i < n; i++)
        g[i] = g[i - 1] * raw;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            v += g[i] * d->cov[i][j] * g[j];
    return sqrt(v > 0 ? v : 0);
}

static double sq0(double x)
{
    return isfinite(x) ? x * x : 0;
}

double cl_sensor_calibration_u_kpa(const cl_sensor_calibration *d, double raw)
{
    if (!isfinite(d->u_rep_kpa) && !isfinite(d->u_hyst_kpa) && !isfinite(d->u_ref_kpa))
        return NAN; /* no uncertainty budget */
    double uf = cl_sensor_calibration_u_fit_kpa(d, raw);
    return d->k * sqrt(sq0(uf) + sq0(d->u_rep_kpa) + sq0(d->u_hyst_kpa) + sq0(d->u_ref_kpa));
}

/* The raw readings a profile is evaluated over: the range the calibration
 * covered widened by half its width on each side (true), or +-RAW_SPAN when
 * the profile has no range (false). */
static bool eval_range(const cl_sensor_calibration *d, double *lo, double *hi)
{
    *lo = d->raw_min;
    *hi = d->raw_max;
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = -RAW_SPAN;
        *hi = RAW_SPAN;
        return false;
    }
    double w = *hi - *lo;
    if (w <= 0)
        w = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1;
    *lo -= w / 2;
    *hi += w / 2;
    return true;
}

/* Evaluation over eval_range: finite pressure and uncertainty, pressures
 * within +-MAX_ABS_KPA. */
static int check_evaluation(const cl_sensor_calibration *d, cl_error *err)
{
    double lo, hi;
    eval_range(d, &lo, &hi);
    for (int i = 0; i <= CHECK_GRID; i++) {
        double x = lo + (hi - lo) * i / CHECK_GRID, kpa = cl_sensor_calibration_kpa(d, x),
               u = cl_sensor_calibration_u_fit_kpa(d, x);
        if (!isfinite(kpa) || fabs(kpa) > MAX_ABS_KPA)
            return cl_error_set(err, CL_ERR_FORMAT,
                                "transfer function gives %g kPa at raw %.6g, beyond +-%g kPa "
                                "(raw range checked: %.6g to %.6g)",
                                kpa, x, MAX_ABS_KPA, lo, hi);
        if (isinf(u))
            return cl_error_set(err, CL_ERR_FORMAT,
                                "uncertainty overflows at raw %.6g (raw range checked: %.6g to "
                                "%.6g)",
                                x, lo, hi);
    }
    return CL_OK;
}

static int check_transfer(const cl_sensor_calibration *d, cl_error *err)
{
    if (d->degree < 1 || d->degree > CL_PROFILE_MAX_DEGREE)
        return cl_error_set(err, CL_ERR_FORMAT, "transfer function of degree %d (1 to %d)",
                            d->degree, CL_PROFILE_MAX_DEGREE);
    for (int i = 0; i <= d->degree; i++) {
        if (!isfinite(d->coef[i]))
            return cl_error_set(err, CL_ERR_FORMAT, "coefficient %d is not finite", i);
        for (int j = 0; j <= d->degree; j++)
            if (!isfinite(d->cov[i][j]))
                return cl_error_set(err, CL_ERR_FORMAT, "covariance [%d][%d] is not finite", i,
                                    j);
    }
    if (d->coef[d->degree] == 0 && d->degree > 1)
        return cl_error_set(err, CL_ERR_FORMAT, "leading coefficient of degree %d is zero",
                            d->degree);
    if (d->degree == 1 && d->coef[1] == 0)
        return cl_error_set(err, CL_ERR_FORMAT, "transfer function has zero slope");
    if (isfinite(d->raw_min) && isfinite(d->raw_max) && d->raw_min > d->raw_max)
        return cl_error_set(err, CL_ERR_FORMAT, "raw_min is above raw_max");
    int rc = check_evaluation(d, err);
    if (rc != CL_OK)
        return rc;
    if (d->valid_until) {
        time_t t;
        rc = cl_profile_parse_date(d->valid_until, &t, err);
        if (rc != CL_OK)
            return rc;
    }
    return CL_OK;
}

int cl_sensor_profile_adopt(cl_sensor_calibration *d, cl_sensor_profile **out, cl_error *err)
{
    *out = NULL;
    int rc = check_transfer(d, err);
    if (rc != CL_OK) {
        cl_sensor_calibration_release(d);
        if (rc == CL_ERR_FORMAT) /* invalid data handed in, not a bad document */
            rc = err ? (err->code = CL_ERR_ARG) : CL_ERR_ARG;
        return rc;
    }
    cl_sensor_profile *p = malloc(sizeof *p);
    if (!p) {
        cl_sensor_calibration_release(d);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    p->d = *d;
    cl_sensor_calibration_init(d);
    *out = p;
    return CL_OK;
}

const cl_sensor_calibration *cl_sensor_profile_data(const cl_sensor_profile *p)
{
    return &p->d;
}

void cl_sensor_profile_free(cl_sensor_profile *p)
{
    if (!p)
        return;
    cl_sensor_calibration_release(&p->d);
    free(p);
}

const char *cl_sensor_profile_serial(const cl_sensor_profile *p)
{
    return p->d.serial ? p->d.serial : "";
}

double cl_sensor_profile_kpa(const cl_sensor_profile *p, double raw)
{
    return cl_sensor_calibration_kpa(&p->d, raw);
}

bool cl_sensor_profile_linear(const cl_sensor_profile *p, double *offset_kpa,
                              double *kpa_per_count)
{
    if (p->d.degree != 1)
        return false;
    *offset_kpa = p->d.coef[0];
    *kpa_per_count = p->d.coef[1];
    return true;
}

double cl_sensor_profile_u_kpa(const cl_sensor_profile *p, double raw)
{
    return cl_sensor_calibration_u_kpa(&p->d, raw);
}

void cl_sensor_profile_raw_range(const cl_sensor_profile *p, double *lo, double *hi)
{
    if (lo)
        *lo = p->d.raw_min;
    if (hi)
        *hi = p->d.raw_max;
}

int cl_sensor_profile_check_valid(const cl_sensor_profile *p, time_t now, cl_error *err)
{
    char what[128];
    snprintf(what, sizeof what, "sensor %s", p->d.serial && *p->d.serial ? p->d.serial : "?");
    return cl_profile_check_until(p->d.valid_until, what, now, err);
}

int cl_sensor_profile_raw_for_kpa(const cl_sensor_profile *p, double kpa, double *raw,
                                  cl_error *err)
{
    enum { GRID = 400 };
    double lo, hi;
    bool ranged = eval_range(&p->d, &lo, &hi);
    *raw = NAN;
    if (!isfinite(kpa))
        return cl_error_set(err, CL_ERR_RANGE, "pressure is not finite");
    if (!ranged && p->d.degree == 1) {
        *raw = (kpa - p->d.coef[0]) / p->d.coef[1]; /* a straight line needs no range */
        return CL_OK;
    }
    if (!ranged)
        return cl_error_set(err, CL_ERR_RANGE, "profile has no raw range");
    /* The curve must be monotonic over the search interval. */
    double prev = cl_sensor_profile_kpa(p, lo), sign = 0;
    double a = NAN, b = NAN;
    for (int i = 1; i <= GRID; i++) {
        double x = lo + (hi - lo) * i / GRID, y = cl_sensor_profile_kpa(p, x);
        double s = y > prev ? 1 : y < prev ? -1 : 0;
        if (s != 0) {
            if (sign != 0 && s != sign)
                return cl_error_set(err, CL_ERR_RANGE,
                                    "transfer function is not monotonic near raw %.6g", x);
            sign = s;
        }
        if (isnan(a) && (prev - kpa) * (y - kpa) <= 0) {
            a = x - (hi - lo) / GRID;
            b = x;
        }
        prev = y;
    }
    if (isnan(a))
        return cl_error_set(err, CL_ERR_RANGE, "%.6g kPa lies outside the calibrated range",
                            kpa);
    double fa = cl_sensor_profile_kpa(p, a) - kpa;
    for (int it = 0; it < 200 && b - a > 0; it++) {
        double m = 0.5 * (a + b), fm = cl_sensor_profile_kpa(p, m) - kpa;
        if (m <= a || m >= b)
            break;
        if ((fa <= 0 && fm <= 0) || (fa >= 0 && fm >= 0)) {
            a = m;
            fa = fm;
        } else {
            b = m;
        }
    }
    *raw = 0.5 * (a + b);
    return CL_OK;
}

/* ====================================================== sensor: to JSON */

/* `o` when it was built whole (ok), else NULL with `o` released. */
static json_t *built(json_t *o, bool ok)
{
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *sensor_id_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "serial", json_string(d->serial ? d->serial : ""));
    ok = ok && cl_profile_put(o, "model", cl_profile_jstr(d->model));
    ok = ok &&
         cl_profile_put(o, "channel", d->channel >= 0 ? json_integer(d->channel) : json_null());
    return built(o, ok);
}

static json_t *reference_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "instrument", cl_profile_jstr(d->reference));
    ok = ok && cl_profile_put(o, "U_kpa", cl_profile_jnum(d->ref_u_kpa));
    ok = ok && cl_profile_put(o, "k", cl_profile_jnum(d->ref_k));
    return built(o, ok);
}

static json_t *conditions_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "temperature_c", cl_profile_jnum(d->temperature_c));
    return built(o, ok);
}

static json_t *coefficients_json(const cl_sensor_calibration *d)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (int i = 0; ok && i <= d->degree; i++)
        ok = json_array_append_new(a, cl_profile_jnum(d->coef[i])) == 0;
    return built(a, ok);
}

static json_t *covariance_json(const cl_sensor_calibration *d)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (int i = 0; ok && i <= d->degree; i++) {
        json_t *row = json_array();
        ok = row && json_array_append_new(a, row) == 0;
        for (int j = 0; ok && j <= d->degree; j++)
            ok = json_array_append_new(row, cl_profile_jnum(d->cov[i][j])) == 0;
    }
    return built(a, ok);
}

/* The transfer function: its coefficients, their covariance, the raw range. */
static json_t *transfer_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "input", json_string("raw"));
    ok = ok && cl_profile_put(o, "output", json_string("kPa gauge"));
    ok = ok && cl_profile_put(o, "degree", json_integer(d->degree));
    ok = ok && cl_profile_put(o, "coefficients", coefficients_json(d));
    ok = ok && cl_profile_put(o, "covariance", covariance_json(d));
    ok = ok && cl_profile_put(o, "raw_min", cl_profile_jnum(d->raw_min));
    ok = ok && cl_profile_put(o, "raw_max", cl_profile_jnum(d->raw_max));
    return built(o, ok);
}

static json_t *uncertainty_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "k", cl_profile_jnum(d->k));
    ok = ok && cl_profile_put(o, "u_repeatability_kpa", cl_profile_jnum(d->u_rep_kpa));
    ok = ok && cl_profile_put(o, "u_hysteresis_kpa", cl_profile_jnum(d->u_hyst_kpa));
    ok = ok && cl_profile_put(o, "u_reference_kpa", cl_profile_jnum(d->u_ref_kpa));
    ok = ok && cl_profile_put(o, "U_max_kpa", cl_profile_jnum(d->u_max_kpa));
    return built(o, ok);
}

static json_t *figures_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "points", json_integer((json_int_t)d->npoints));
    ok = ok && cl_profile_put(o, "dof", json_integer((json_int_t)d->dof));
    ok = ok && cl_profile_put(o, "residual_sd_kpa", cl_profile_jnum(d->residual_sd_kpa));
    ok = ok && cl_profile_put(o, "r2", cl_profile_jnum(d->r2));
    ok = ok && cl_profile_put(o, "max_residual_kpa", cl_profile_jnum(d->max_residual_kpa));
    ok = ok && cl_profile_put(o, "nonlinearity_kpa", cl_profile_jnum(d->nonlinearity_kpa));
    ok = ok && cl_profile_put(o, "hysteresis_kpa", cl_profile_jnum(d->hysteresis_kpa));
    ok = ok && cl_profile_put(o, "repeatability_kpa", cl_profile_jnum(d->repeatability_kpa));
    ok = ok && cl_profile_put(o, "U_max_kpa", cl_profile_jnum(d->u_max_kpa));
    return built(o, ok);
}

static json_t *procedure_json(const cl_sensor_calibration *d)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok = ok && cl_profile_put(o, "setpoints", json_integer((json_int_t)d->nsetpoints));
    ok = ok && cl_profile_put(o, "ascending", json_boolean(d->ascending));
    ok = ok && cl_profile_put(o, "descending", json_boolean(d->descending));
    ok = ok && cl_profile_put(o, "repeats", json_boolean(d->repeats));
    ok = ok && cl_profile_put(o, "complete", json_boolean(d->procedure_complete));
    return built(o, ok);
}

/* The JSON of element i of one of the arrays of a calibration. */
typedef json_t *(*element_json)(const cl_sensor_calibration *d, size_t i);

static json_t *trial_json(const cl_sensor_calibration *d, size_t i)
{
    const cl_sensor_trial *t = &d->trials[i];
    json_t *e = json_object();
    bool ok = e != NULL;
    ok = ok && cl_profile_put(e, "degree", json_integer(t->degree));
    ok = ok && cl_profile_put(e, "monotonic", json_boolean(t->monotonic));
    ok = ok && cl_profile_put(e, "pass", json_boolean(t->pass));
    ok = ok && cl_profile_put(e, "max_residual_kpa", cl_profile_jnum(t->max_residual_kpa));
    ok = ok && cl_profile_put(e, "U_max_kpa", cl_profile_jnum(t->u_max_kpa));
    ok = ok && cl_profile_put(e, "worst_kpa", cl_profile_jnum(t->worst_kpa));
    return built(e, ok);
}

static json_t *point_json(const cl_sensor_calibration *d, size_t i)
{
    const cl_sensor_point *pt = &d->points[i];
    json_t *e = json_object();
    bool ok = e != NULL;
    ok = ok && cl_profile_put(e, "ref_kpa", cl_profile_jnum(pt->ref_kpa));
    ok = ok && cl_profile_put(e, "raw", cl_profile_jnum(pt->raw));
    ok = ok && cl_profile_put(e, "raw_sd", cl_profile_jnum(pt->raw_sd));
    ok = ok && cl_profile_put(e, "n", json_integer(pt->n_samples));
    ok = ok && cl_profile_put(e, "direction", json_string(cl_direction_name(pt->direction)));
    ok = ok && cl_profile_put(e, "temperature_c", cl_profile_jnum(pt->temperature_c));
    ok = ok && cl_profile_put(e, "setpoint", json_integer((json_int_t)pt->setpoint));
    ok = ok && cl_profile_put(e, "fit_kpa", cl_profile_jnum(pt->fit_kpa));
    ok = ok && cl_profile_put(e, "residual_kpa", cl_profile_jnum(pt->residual_kpa));
    ok = ok && cl_profile_put(e, "U_kpa", cl_profile_jnum(pt->u_kpa));
    return built(e, ok);
}

static json_t *setpoint_json(const cl_sensor_calibration *d, size_t i)
{
    const cl_sensor_setpoint *s = &d->setpoints[i];
    json_t *e = json_object();
    bool ok = e != NULL;
    ok = ok && cl_profile_put(e, "ref_kpa", cl_profile_jnum(s->ref_kpa));
    ok = ok && cl_profile_put(e, "n_up", json_integer((json_int_t)s->n_up));
    ok = ok && cl_profile_put(e, "n_down", json_integer((json_int_t)s->n_down));
    ok = ok && cl_profile_put(e, "n_unknown", json_integer((json_int_t)s->n_unknown));
    ok = ok && cl_profile_put(e, "raw_up", cl_profile_jnum(s->raw_up));
    ok = ok && cl_profile_put(e, "raw_down", cl_profile_jnum(s->raw_down));
    ok = ok && cl_profile_put(e, "error_up_kpa", cl_profile_jnum(s->error_up_kpa));
    ok = ok && cl_profile_put(e, "error_down_kpa", cl_profile_jnum(s->error_down_kpa));
    ok = ok && cl_profile_put(e, "hysteresis_kpa", cl_profile_jnum(s->hysteresis_kpa));
    ok = ok && cl_profile_put(e, "repeatability_kpa", cl_profile_jnum(s->repeatability_kpa));
    ok = ok && cl_profile_put(e, "U_kpa", cl_profile_jnum(s->u_kpa));
    return built(e, ok);
}

/* An array of the n elements of one of the arrays of a calibration. */
static json_t *array_json(const cl_sensor_calibration *d, size_t n, element_json one)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(a, one(d, i)) == 0;
    return built(a, ok);
}

static json_t *sensor_json(const cl_sensor_calibration *d)
{
    json_t *r = cl_profile_doc_new("sensor");
    bool ok = r != NULL;
    ok = ok && cl_profile_put(r, "sensor", sensor_id_json(d));
    ok = ok && cl_profile_put(r, "date", cl_profile_jstr(d->date));
    ok = ok && cl_profile_put(r, "valid_until", cl_profile_jstr(d->valid_until));
    ok = ok && cl_profile_put(r, "operator", cl_profile_jstr(d->operator_name));
    ok = ok && cl_profile_put(r, "reference", reference_json(d));
    ok = ok && cl_profile_put(r, "conditions", conditions_json(d));
    ok = ok && cl_profile_put(r, "software", cl_profile_jstr(d->software));
    ok = ok && cl_profile_put(r, "source", cl_profile_jstr(d->source));
    ok = ok && cl_profile_put(r, "notes", cl_profile_jstr(d->notes));
    ok = ok && cl_profile_put(r, "transfer", transfer_json(d));
    ok = ok && cl_profile_put(r, "uncertainty", uncertainty_json(d));
    ok = ok && cl_profile_put(r, "figures", figures_json(d));
    ok = ok && cl_profile_put(r, "tolerance_kpa", cl_profile_jnum(d->tolerance_kpa));
    ok = ok && cl_profile_put(r, "pass", json_boolean(d->pass));
    ok = ok && cl_profile_put(r, "procedure", procedure_json(d));
    ok = ok && cl_profile_put(r, "degree_selection", array_json(d, d->ntrials, trial_json));
    ok = ok && cl_profile_put(r, "points", array_json(d, d->npoints, point_json));
    ok = ok && cl_profile_put(r, "setpoints", array_json(d, d->nsetpoints, setpoint_json));
    return built(r, ok);
}

char *cl_sensor_profile_to_json(const cl_sensor_profile *p)
{
    return cl_profile_doc_text(sensor_json(&p->d));
}

/* ==================================================== sensor: from JSON */

const cl_sensor_profile *cl_sensor_profile_find(const cl_sensor_profile *const *ps, size_t n,
                                                const char *serial)
{
    for (size_t i = 0; serial && *serial && i < n; i++)
        if (strcmp(cl_sensor_profile_serial(ps[i]), serial) == 0)
            return ps[i];
    return NULL;
}

const char *cl_direction_name(cl_direction d)
{
    return d == CL_DIR_UP ? "up" : d == CL_DIR_DOWN ? "down" : "unknown";
}

int cl_direction_from_name(const char *name)
{
    static const char *up[] = {"up", "u", "asc", "ascending", "+", "loading"};
    static const char *down[] = {"down", "d", "desc", "descending", "-", "unloading"};
    if (!name || !*name || strcasecmp(name, "unknown") == 0)
        return CL_DIR_UNKNOWN;
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
        if (strcasecmp(name, up[i]) == 0)
            return CL_DIR_UP;
    for (size_t i = 0; i < sizeof down / sizeof down[0]; i++)
        if (strcasecmp(name, down[i]) == 0)
            return CL_DIR_DOWN;
    return -2;
}

static int get_size(json_t *obj, const char *key, const char *ctx, size_t *out, cl_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s.%s\" is not a count", ctx, key);
    *out = (size_t)json_integer_value(v);
    return CL_OK;
}

static int parse_points(json_t *arr, cl_sensor_calibration *d, cl_error *err)
{
    size_t n = json_array_size(arr);
    int rc = CL_OK;
    if (n == 0)
        return CL_OK;
    d->points = calloc(n, sizeof *d->points);
    if (!d->points)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == CL_OK; i++) {
        json_t *e = json_array_get(arr, i), *v;
        cl_sensor_point *pt = &d->points[i];
        char ctx[32];
        snprintf(ctx, sizeof ctx, "points[%zu]", i);
        if (!json_is_object(e))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", ctx);
        d->npoints = i + 1;
        size_t nsamp = 1, sp = 0;
        if ((rc = cl_profile_get_num(e, "ref_kpa", true, ctx, &pt->ref_kpa, err)) ||
            (rc = cl_profile_get_num(e, "raw", true, ctx, &pt->raw, err)) ||
            (rc = cl_profile_get_num(e, "raw_sd", false, ctx, &pt->raw_sd, err)) ||
            (rc =
                 cl_profile_get_num(e, "temperature_c", false, ctx, &pt->temperature_c, err)) ||
            (rc = cl_profile_get_num(e, "fit_kpa", false, ctx, &pt->fit_kpa, err)) ||
            (rc = cl_profile_get_num(e, "residual_kpa", false, ctx, &pt->residual_kpa, err)) ||
            (rc = cl_profile_get_num(e, "U_kpa", false, ctx, &pt->u_kpa, err)) ||
            (rc = get_size(e, "n", ctx, &nsamp, err)) ||
            (rc = get_size(e, "setpoint", ctx, &sp, err)))
            return rc;
        pt->n_samples = nsamp > 0 && nsamp < UINT32_MAX ? (unsigned)nsamp : 1;
        pt->setpoint = sp;
        v = json_object_get(e, "direction");
        if (v && !json_is_null(v)) {
            int dir = json_is_string(v) ? cl_direction_from_name(json_string_value(v)) : -2;
            if (dir == -2)
                return cl_error_set(err, CL_ERR_FORMAT, "\"%s.direction\" is not up or down",
                                    ctx);
            pt->direction = (cl_direction)dir;
        }
    }
    return rc;
}

static int parse_setpoints(json_t *arr, cl_sensor_calibration *d, cl_error *err)
{
    size_t n = json_array_size(arr);
    int rc;
    if (n == 0)
        return CL_OK;
    d->setpoints = calloc(n, sizeof *d->setpoints);
    if (!d->setpoints)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        cl_sensor_setpoint *s = &d->setpoints[i];
        char ctx[32];
        snprintf(ctx, sizeof ctx, "setpoints[%zu]", i);
        if (!json_is_object(e))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", ctx);
        d->nsetpoints = i + 1;
        if ((rc = cl_profile_get_num(e, "ref_kpa", true, ctx, &s->ref_kpa, err)) ||
            (rc = get_size(e, "n_up", ctx, &s->n_up, err)) ||
            (rc = get_size(e, "n_down", ctx, &s->n_down, err)) ||
            (rc = get_size(e, "n_unknown", ctx, &s->n_unknown, err)) ||
            (rc = cl_profile_get_num(e, "raw_up", false, ctx, &s->raw_up, err)) ||
            (rc = cl_profile_get_num(e, "raw_down", false, ctx, &s->raw_down, err)) ||
            (rc = cl_profile_get_num(e, "error_up_kpa", false, ctx, &s->error_up_kpa, err)) ||
            (rc = cl_profile_get_num(e, "error_down_kpa", false, ctx, &s->error_down_kpa,
                                     err)) ||
            (rc = cl_profile_get_num(e, "hysteresis_kpa", false, ctx, &s->hysteresis_kpa,
                                     err)) ||
            (rc = cl_profile_get_num(e, "repeatability_kpa", false, ctx, &s->repeatability_kpa,
                                     err)) ||
            (rc = cl_profile_get_num(e, "U_kpa", false, ctx, &s->u_kpa, err)))
            return rc;
    }
    return CL_OK;
}

static int parse_trials(json_t *arr, cl_sensor_calibration *d, cl_error *err)
{
    size_t n = json_array_size(arr);
    int rc;
    if (n > CL_PROFILE_MAX_DEGREE)
        return cl_error_set(err, CL_ERR_FORMAT, "\"degree_selection\" has more than %d entries",
                            CL_PROFILE_MAX_DEGREE);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i), *v;
        cl_sensor_trial *t = &d->trials[i];
        char ctx[40];
        snprintf(ctx, sizeof ctx, "degree_selection[%zu]", i);
        if (!json_is_object(e))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", ctx);
        v = json_object_get(e, "degree");
        if (!json_is_integer(v))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s.degree\" is not an integer", ctx);
        t->degree = (int)json_integer_value(v);
        if ((rc = cl_profile_get_bool(e, "monotonic", ctx, &t->monotonic, err)) ||
            (rc = cl_profile_get_bool(e, "pass", ctx, &t->pass, err)) ||
            (rc = cl_profile_get_num(e, "max_residual_kpa", false, ctx, &t->max_residual_kpa,
                                     err)) ||
            (rc = cl_profile_get_num(e, "U_max_kpa", false, ctx, &t->u_max_kpa, err)) ||
            (rc = cl_profile_get_num(e, "worst_kpa", false, ctx, &t->worst_kpa, err)))
            return rc;
        d->ntrials = i + 1;
    }
    return CL_OK;
}

static int parse_transfer(json_t *tr, cl_sensor_calibration *d, cl_error *err)
{
    json_t *co = json_object_get(tr, "coefficients"), *cov, *v;
    int rc;
    if (!json_is_array(co))
        return cl_error_set(err, CL_ERR_FORMAT, "missing \"transfer.coefficients\" array");
    size_t n = json_array_size(co);
    if (n < 2 || n > NDIM)
        return cl_error_set(err, CL_ERR_FORMAT,
                            "\"transfer.coefficients\" has %zu entries (2 to %d: degree 1 to "
                            "%d)",
                            n, NDIM, CL_PROFILE_MAX_DEGREE);
    d->degree = (int)n - 1;
    v = json_object_get(tr, "degree");
    if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) != d->degree))
        return cl_error_set(err, CL_ERR_FORMAT,
                            "\"transfer.degree\" does not match the %zu coefficients", n);
    for (size_t i = 0; i < n; i++) {
        v = json_array_get(co, i);
        if (!json_is_number(v))
            return cl_error_set(err, CL_ERR_FORMAT,
                                "\"transfer.coefficients[%zu]\" is not a "
                                "number",
                                i);
        d->coef[i] = json_number_value(v);
    }
    cov = json_object_get(tr, "covariance");
    if (cov && !json_is_null(cov)) {
        if (!json_is_array(cov) || json_array_size(cov) != n)
            return cl_error_set(err, CL_ERR_FORMAT,
                                "\"transfer.covariance\" is not a %zu x %zu matrix", n, n);
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_array_get(cov, i);
            if (!json_is_array(row) || json_array_size(row) != n)
                return cl_error_set(err, CL_ERR_FORMAT,
                                    "\"transfer.covariance\" is not a %zu x %zu matrix", n, n);
            for (size_t j = 0; j < n; j++) {
                v = json_array_get(row, j);
                if (!json_is_number(v))
                    return cl_error_set(err, CL_ERR_FORMAT,
                                        "\"transfer.covariance[%zu][%zu]\" is not a number", i,
                                        j);
                d->cov[i][j] = json_number_value(v);
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (d->cov[i][i] < 0)
                return cl_error_set(err, CL_ERR_FORMAT,
                                    "\"transfer.covariance\" has a negative variance");
            for (size_t j = 0; j < i; j++)
                if (fabs(d->cov[i][j] - d->cov[j][i]) >
                    1e-9 * (fabs(d->cov[i][j]) + fabs(d->cov[j][i])))
                    return cl_error_set(err, CL_ERR_FORMAT,
                                        "\"transfer.covariance\" is not symmetric");
        }
    }
    if ((rc = cl_profile_get_num(tr, "raw_min", false, "transfer", &d->raw_min, err)) ||
        (rc = cl_profile_get_num(tr, "raw_max", false, "transfer", &d->raw_max, err)))
        return rc;
    return CL_OK;
}

/* Object `key` of the document, which must be there. */
static int get_required_obj(json_t *r, const char *key, json_t **o, cl_error *err)
{
    int rc = cl_profile_get_obj(r, key, o, err);
    if (rc)
        return rc;
    if (!*o)
        return cl_error_set(err, CL_ERR_FORMAT, "missing \"%s\" object", key);
    return CL_OK;
}

/* The sensor calibrated: serial, model, channel. */
static int read_sensor(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *o;
    double ch = NAN;
    int rc;
    if ((rc = get_required_obj(r, "sensor", &o, err)) ||
        (rc = cl_profile_get_str(o, "serial", true, "sensor", &d->serial, err)) ||
        (rc = cl_profile_get_str(o, "model", false, "sensor", &d->model, err)) ||
        (rc = cl_profile_get_num(o, "channel", false, "sensor", &ch, err)))
        return rc;
    d->channel = isfinite(ch) && ch >= 0 && ch < 65536 ? (int)ch : -1;
    return CL_OK;
}

/* The texts of the record: date (a valid one), validity, operator, ... */
static int read_record(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    int rc;
    if ((rc = cl_profile_get_str(r, "date", false, NULL, &d->date, err)) ||
        (rc = cl_profile_get_str(r, "valid_until", false, NULL, &d->valid_until, err)) ||
        (rc = cl_profile_get_str(r, "operator", false, NULL, &d->operator_name, err)) ||
        (rc = cl_profile_get_str(r, "software", false, NULL, &d->software, err)) ||
        (rc = cl_profile_get_str(r, "source", false, NULL, &d->source, err)) ||
        (rc = cl_profile_get_str(r, "notes", false, NULL, &d->notes, err)))
        return rc;
    if (d->date) {
        time_t t;
        return cl_profile_parse_date(d->date, &t, err);
    }
    return CL_OK;
}

/* The reference instrument, and the conditions of the calibration. */
static int read_reference(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *o;
    int rc;
    if ((rc = cl_profile_get_obj(r, "reference", &o, err)))
        return rc;
    if (o) {
        if ((rc =
                 cl_profile_get_str(o, "instrument", false, "reference", &d->reference, err)) ||
            (rc = cl_profile_get_num(o, "U_kpa", false, "reference", &d->ref_u_kpa, err)) ||
            (rc = cl_profile_get_num(o, "k", false, "reference", &d->ref_k, err)))
            return rc;
        if (!isfinite(d->ref_k))
            d->ref_k = 2;
    }
    if ((rc = cl_profile_get_obj(r, "conditions", &o, err)))
        return rc;
    if (o)
        return cl_profile_get_num(o, "temperature_c", false, "conditions", &d->temperature_c,
                                  err);
    return CL_OK;
}

/* The uncertainty budget; terms left out are zero. */
static int read_uncertainty(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *o;
    int rc;
    if ((rc = cl_profile_get_obj(r, "uncertainty", &o, err)) || !o)
        return rc;
    if ((rc = cl_profile_get_num(o, "k", false, "uncertainty", &d->k, err)) ||
        (rc = cl_profile_get_num(o, "u_repeatability_kpa", false, "uncertainty", &d->u_rep_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "u_hysteresis_kpa", false, "uncertainty", &d->u_hyst_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "u_reference_kpa", false, "uncertainty", &d->u_ref_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "U_max_kpa", false, "uncertainty", &d->u_max_kpa, err)))
        return rc;
    if (!isfinite(d->k))
        d->k = 2;
    /* A budget given in part: the missing terms are zero. */
    if (!isfinite(d->u_rep_kpa))
        d->u_rep_kpa = 0;
    if (!isfinite(d->u_hyst_kpa))
        d->u_hyst_kpa = 0;
    if (!isfinite(d->u_ref_kpa))
        d->u_ref_kpa = 0;
    if (d->u_rep_kpa < 0 || d->u_hyst_kpa < 0 || d->u_ref_kpa < 0 || d->k <= 0)
        return cl_error_set(err, CL_ERR_FORMAT, "negative uncertainty in \"uncertainty\"");
    return CL_OK;
}

/* The figures of the fit (U_max from here only if the budget has none). */
static int read_figures(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *o;
    double dof = NAN;
    int rc;
    if ((rc = cl_profile_get_obj(r, "figures", &o, err)) || !o)
        return rc;
    if ((rc = cl_profile_get_num(o, "dof", false, "figures", &dof, err)) ||
        (rc = cl_profile_get_num(o, "residual_sd_kpa", false, "figures", &d->residual_sd_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "r2", false, "figures", &d->r2, err)) ||
        (rc = cl_profile_get_num(o, "max_residual_kpa", false, "figures", &d->max_residual_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "nonlinearity_kpa", false, "figures", &d->nonlinearity_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "hysteresis_kpa", false, "figures", &d->hysteresis_kpa,
                                 err)) ||
        (rc = cl_profile_get_num(o, "repeatability_kpa", false, "figures",
                                 &d->repeatability_kpa, err)))
        return rc;
    d->dof = isfinite(dof) && dof >= 0 ? (size_t)dof : 0;
    if (!isfinite(d->u_max_kpa))
        return cl_profile_get_num(o, "U_max_kpa", false, "figures", &d->u_max_kpa, err);
    return CL_OK;
}

/* The tolerance and the verdict. */
static int read_verdict(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    int rc = cl_profile_get_num(r, "tolerance_kpa", false, NULL, &d->tolerance_kpa, err);
    if (rc)
        return rc;
    d->pass = true; /* a hand-written profile without a verdict claims none */
    json_t *v = json_object_get(r, "pass");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return cl_error_set(err, CL_ERR_FORMAT, "\"pass\" is not true or false");
        d->pass = json_is_true(v);
    }
    return CL_OK;
}

static int read_procedure(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *o;
    double nsp;
    int rc;
    if ((rc = cl_profile_get_obj(r, "procedure", &o, err)) || !o)
        return rc;
    if ((rc = cl_profile_get_num(o, "setpoints", false, "procedure", &nsp, err)) ||
        (rc = cl_profile_get_bool(o, "ascending", "procedure", &d->ascending, err)) ||
        (rc = cl_profile_get_bool(o, "descending", "procedure", &d->descending, err)) ||
        (rc = cl_profile_get_bool(o, "repeats", "procedure", &d->repeats, err)) ||
        (rc = cl_profile_get_bool(o, "complete", "procedure", &d->procedure_complete, err)))
        return rc;
    return CL_OK;
}

/* The degree trials, the points and the setpoints; a point's setpoint must
 * be one of them. */
static int read_arrays(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *a;
    int rc;
    if ((rc = cl_profile_get_arr(r, "degree_selection", &a, err)) ||
        (a && (rc = parse_trials(a, d, err))))
        return rc;
    if ((rc = cl_profile_get_arr(r, "points", &a, err)) ||
        (a && (rc = parse_points(a, d, err))))
        return rc;
    if ((rc = cl_profile_get_arr(r, "setpoints", &a, err)) ||
        (a && (rc = parse_setpoints(a, d, err))))
        return rc;
    for (size_t i = 0; i < d->npoints; i++)
        if (d->nsetpoints && d->points[i].setpoint >= d->nsetpoints)
            return cl_error_set(err, CL_ERR_FORMAT, "\"points[%zu].setpoint\" is out of range",
                                i);
    return CL_OK;
}

static int sensor_from_json(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *tr;
    int rc;
    if ((rc = read_sensor(r, d, err)) || (rc = read_record(r, d, err)) ||
        (rc = read_reference(r, d, err)) || (rc = get_required_obj(r, "transfer", &tr, err)) ||
        (rc = parse_transfer(tr, d, err)) || (rc = read_uncertainty(r, d, err)) ||
        (rc = read_figures(r, d, err)) || (rc = read_verdict(r, d, err)) ||
        (rc = read_procedure(r, d, err)) || (rc = read_arrays(r, d, err)))
        return rc;
    return check_transfer(d, err);
}

int cl_sensor_profile_parse(const char *json, cl_sensor_profile **out, cl_error *err)
{
    json_t *r;
    cl_sensor_calibration d;
    *out = NULL;
    int rc = cl_profile_doc_parse(json, "sensor", &r, err);
    if (rc != CL_OK)
        return rc;
    cl_sensor_calibration_init(&d);
    rc = sensor_from_json(r, &d, err);
    json_decref(r);
    if (rc != CL_OK) {
        cl_sensor_calibration_release(&d);
        return rc;
    }
    return cl_sensor_profile_adopt(&d, out, err);
}

int cl_sensor_profile_load(const char *path, cl_sensor_profile **out, cl_error *err)
{
    char *text;
    *out = NULL;
    int rc = cl_profile_read_file(path, &text, err);
    if (rc != CL_OK)
        return rc;
    rc = cl_sensor_profile_parse(text, out, err);
    free(text);
    return cl_profile_name_file(rc, path, err);
}
