/*
 * cl_profile: reading, writing and evaluating calibration profiles (JSON via
 * jansson).  The layout written here is the one docs/profile-format.md
 * specifies; the parser accepts the minimal hand-written form documented
 * there and fills the rest with "unknown" (NaN / NULL).
 */
#include "cl_profile.h"
#include "cl_output.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (64L * 1024 * 1024)
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

struct cl_cupset {
    char *id;
    cl_cupset_meta meta; /* strings owned */
    cl_cupset_cup *cups; /* strings owned */
    size_t n, cap;
};

/* ================================================================ helpers */

int cl_profile_set_str(char **field, const char *s)
{
    char *copy = NULL;
    if (s) {
        copy = strdup(s);
        if (!copy)
            return CL_ERR_NOMEM;
    }
    free(*field);
    *field = copy;
    return CL_OK;
}

/* A number for JSON: null when not finite. */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Set obj[key] = v, taking the reference; returns false on failure. */
static bool put(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0;
}

/* Reading: `ctx` names the object for messages ("transfer"). */
static int get_num(json_t *obj, const char *key, bool required, const char *ctx, double *out,
                   cl_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = NAN;
    if (!v || json_is_null(v)) {
        if (required)
            return cl_error_set(err, CL_ERR_FORMAT, "missing \"%s%s%s\"", ctx ? ctx : "",
                                ctx ? "." : "", key);
        return CL_OK;
    }
    if (!json_is_number(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s%s%s\" is not a number", ctx ? ctx : "",
                            ctx ? "." : "", key);
    *out = json_number_value(v);
    return CL_OK;
}

static int get_str(json_t *obj, const char *key, bool required, const char *ctx, char **out,
                   cl_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return cl_error_set(err, CL_ERR_FORMAT, "missing \"%s%s%s\"", ctx ? ctx : "",
                                ctx ? "." : "", key);
        return cl_profile_set_str(out, NULL);
    }
    if (!json_is_string(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s%s%s\" is not a string", ctx ? ctx : "",
                            ctx ? "." : "", key);
    if (cl_profile_set_str(out, json_string_value(v)) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    return CL_OK;
}

/* Boolean; absent/null leaves *out unchanged. */
static int get_bool(json_t *obj, const char *key, const char *ctx, bool *out, cl_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_boolean(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s%s%s\" is not true or false",
                            ctx ? ctx : "", ctx ? "." : "", key);
    *out = json_is_true(v);
    return CL_OK;
}

/* Optional sub-object: NULL if absent or null, error if another type. */
static int get_obj(json_t *obj, const char *key, json_t **out, cl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_object(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", key);
    *out = v;
    return CL_OK;
}

static int get_arr(json_t *obj, const char *key, json_t **out, cl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_array(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an array", key);
    *out = v;
    return CL_OK;
}

/* Parse `json` and check format, version and kind.  *root is a new reference. */
static int parse_header(const char *json, const char *kind, json_t **root, cl_error *err)
{
    json_error_t je;
    json_t *r, *v;

    *root = NULL;
    if (!json)
        return cl_error_set(err, CL_ERR_ARG, "no profile text");
    r = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return cl_error_set(err, CL_ERR_FORMAT, "not valid JSON (line %d, column %d: %s)",
                            je.line, je.column, je.text);
    if (!json_is_object(r)) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT, "not a cuplab profile (not a JSON object)");
    }
    v = json_object_get(r, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), CL_PROFILE_FORMAT) != 0) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT,
                            "not a cuplab profile (\"format\" is not \"" CL_PROFILE_FORMAT
                            "\")");
    }
    v = json_object_get(r, "version");
    if (!json_is_integer(v)) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT, "\"version\" is missing or not an integer");
    }
    if (json_integer_value(v) != CL_PROFILE_VERSION) {
        long long ver = (long long)json_integer_value(v);
        json_decref(r);
        return cl_error_set(err, CL_ERR_VERSION,
                            "profile format version %lld is not supported (this program "
                            "reads version %d)",
                            ver, CL_PROFILE_VERSION);
    }
    v = json_object_get(r, "kind");
    if (!json_is_string(v)) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT, "\"kind\" is missing or not a string");
    }
    if (strcmp(json_string_value(v), kind) != 0) {
        int rc = cl_error_set(err, CL_ERR_FORMAT, "a %s profile, not a %s profile",
                              json_string_value(v), kind);
        json_decref(r);
        return rc;
    }
    *root = r;
    return CL_OK;
}

/* Prefix err->msg with "path: ". */
static int name_file(int rc, const char *path, cl_error *err)
{
    if (rc != CL_OK && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cl_error_set(err, rc, "%s: %s", path, msg);
    }
    return rc;
}

/* ================================================================= dates */

int cl_profile_parse_date(const char *s, time_t *out, cl_error *err)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    struct tm tm = {0}, back;

    *out = (time_t)-1;
    if (!s)
        return cl_error_set(err, CL_ERR_FORMAT, "missing date");
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a date (YYYY-MM-DD)", s);
    const char *p = s + n;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8)
            return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a date-time", s);
        p += 1 + m;
        if (*p == 'Z')
            p++;
        else if (strcmp(p, "+00:00") == 0)
            p += 6;
    }
    if (*p)
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a UTC date or date-time", s);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 ||
        back.tm_mon != mo - 1 || back.tm_mday != d || back.tm_hour != h || back.tm_min != mi ||
        back.tm_sec != sec)
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a valid date", s);
    *out = t;
    return CL_OK;
}

void cl_profile_format_datetime(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "?");
}

void cl_profile_format_date(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, cap, "?");
}

int cl_profile_check_until(const char *valid_until, const char *what, time_t now, cl_error *err)
{
    time_t t;
    if (!valid_until)
        return CL_OK;
    int rc = cl_profile_parse_date(valid_until, &t, err);
    if (rc != CL_OK)
        return rc;
    if (strlen(valid_until) == 10)
        t += 86400 - 1; /* valid through the end of that day */
    if (now > t)
        return cl_error_set(err, CL_ERR_EXPIRED, "%s: calibration expired (valid until %s)",
                            what, valid_until);
    return CL_OK;
}

/* ================================================================= files */

int cl_profile_read_file(const char *path, char **text, cl_error *err)
{
    FILE *f;
    char *buf = NULL;
    long len;
    int rc = CL_OK;

    *text = NULL;
    f = fopen(path, "rb");
    if (!f)
        return cl_error_set(err, cl_error_from_errno(errno), "%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if (len > MAX_FILE_BYTES) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: too large for a profile (%ld bytes)", path,
                          len);
        goto out;
    }
    buf = malloc((size_t)len + 1);
    if (!buf) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: read error", path);
        goto out;
    }
    buf[len] = '\0';
    if (strlen(buf) != (size_t)len) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: contains NUL bytes, not a text file", path);
        goto out;
    }
    *text = buf;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

int cl_profile_write_file(const char *path, const char *text, bool force, cl_error *err)
{
    static unsigned counter;
    char tmp[4096];
    int fd = -1, rc = CL_OK;
    size_t len = strlen(text), off = 0;
    struct stat st;

    if (!force && stat(path, &st) == 0)
        return cl_output_exists(err, path);
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), counter++);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return cl_error_set(err, CL_ERR_ARG, "%s: path too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            return cl_error_set(err, cl_error_from_errno(errno), "%s: cannot create: %s", path,
                                strerror(errno));
    }
    if (fd < 0)
        return cl_error_set(err, CL_ERR_IO, "%s: cannot create a temporary file", path);
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = cl_error_set(err, cl_error_from_errno(errno), "%s: write failed: %s", path,
                              strerror(errno));
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: fsync failed: %s", path,
                          strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: write failed: %s", path,
                          strerror(errno));
        goto fail;
    }
    fd = -1;
    if (!force) {
        /* link() refuses an existing target, so a file that appeared
         * meanwhile is not replaced either. */
        if (link(tmp, path) == 0) {
            unlink(tmp);
            return CL_OK;
        }
        if (errno == EEXIST) {
            rc = cl_output_exists(err, path);
            goto fail;
        }
        if (stat(path, &st) == 0) {
            rc = cl_output_exists(err, path);
            goto fail;
        }
    }
    if (rename(tmp, path) != 0) {
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: cannot write: %s", path,
                          strerror(errno));
        goto fail;
    }
    return CL_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

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

static json_t *sensor_json(const cl_sensor_calibration *d)
{
    json_t *r = json_object(), *o, *a;
    int n = d->degree + 1;
    bool ok = r != NULL;

    ok = ok && put(r, "format", json_string(CL_PROFILE_FORMAT));
    ok = ok && put(r, "version", json_integer(CL_PROFILE_VERSION));
    ok = ok && put(r, "kind", json_string("sensor"));
    o = json_object();
    ok = ok && put(r, "sensor", o);
    ok = ok && put(o, "serial", json_string(d->serial ? d->serial : ""));
    ok = ok && put(o, "model", jstr(d->model));
    ok = ok && put(o, "channel", d->channel >= 0 ? json_integer(d->channel) : json_null());
    ok = ok && put(r, "date", jstr(d->date));
    ok = ok && put(r, "valid_until", jstr(d->valid_until));
    ok = ok && put(r, "operator", jstr(d->operator_name));
    o = json_object();
    ok = ok && put(r, "reference", o);
    ok = ok && put(o, "instrument", jstr(d->reference));
    ok = ok && put(o, "U_kpa", jnum(d->ref_u_kpa));
    ok = ok && put(o, "k", jnum(d->ref_k));
    o = json_object();
    ok = ok && put(r, "conditions", o);
    ok = ok && put(o, "temperature_c", jnum(d->temperature_c));
    ok = ok && put(r, "software", jstr(d->software));
    ok = ok && put(r, "source", jstr(d->source));
    ok = ok && put(r, "notes", jstr(d->notes));

    o = json_object();
    ok = ok && put(r, "transfer", o);
    ok = ok && put(o, "input", json_string("raw"));
    ok = ok && put(o, "output", json_string("kPa gauge"));
    ok = ok && put(o, "degree", json_integer(d->degree));
    a = json_array();
    ok = ok && put(o, "coefficients", a);
    for (int i = 0; ok && i < n; i++)
        ok = json_array_append_new(a, jnum(d->coef[i])) == 0;
    a = json_array();
    ok = ok && put(o, "covariance", a);
    for (int i = 0; ok && i < n; i++) {
        json_t *row = json_array();
        ok = row && json_array_append_new(a, row) == 0;
        for (int j = 0; ok && j < n; j++)
            ok = json_array_append_new(row, jnum(d->cov[i][j])) == 0;
    }
    ok = ok && put(o, "raw_min", jnum(d->raw_min));
    ok = ok && put(o, "raw_max", jnum(d->raw_max));

    o = json_object();
    ok = ok && put(r, "uncertainty", o);
    ok = ok && put(o, "k", jnum(d->k));
    ok = ok && put(o, "u_repeatability_kpa", jnum(d->u_rep_kpa));
    ok = ok && put(o, "u_hysteresis_kpa", jnum(d->u_hyst_kpa));
    ok = ok && put(o, "u_reference_kpa", jnum(d->u_ref_kpa));
    ok = ok && put(o, "U_max_kpa", jnum(d->u_max_kpa));

    o = json_object();
    ok = ok && put(r, "figures", o);
    ok = ok && put(o, "points", json_integer((json_int_t)d->npoints));
    ok = ok && put(o, "dof", json_integer((json_int_t)d->dof));
    ok = ok && put(o, "residual_sd_kpa", jnum(d->residual_sd_kpa));
    ok = ok && put(o, "r2", jnum(d->r2));
    ok = ok && put(o, "max_residual_kpa", jnum(d->max_residual_kpa));
    ok = ok && put(o, "nonlinearity_kpa", jnum(d->nonlinearity_kpa));
    ok = ok && put(o, "hysteresis_kpa", jnum(d->hysteresis_kpa));
    ok = ok && put(o, "repeatability_kpa", jnum(d->repeatability_kpa));
    ok = ok && put(o, "U_max_kpa", jnum(d->u_max_kpa));
    ok = ok && put(r, "tolerance_kpa", jnum(d->tolerance_kpa));
    ok = ok && put(r, "pass", json_boolean(d->pass));

    o = json_object();
    ok = ok && put(r, "procedure", o);
    ok = ok && put(o, "setpoints", json_integer((json_int_t)d->nsetpoints));
    ok = ok && put(o, "ascending", json_boolean(d->ascending));
    ok = ok && put(o, "descending", json_boolean(d->descending));
    ok = ok && put(o, "repeats", json_boolean(d->repeats));
    ok = ok && put(o, "complete", json_boolean(d->procedure_complete));

    a = json_array();
    ok = ok && put(r, "degree_selection", a);
    for (size_t i = 0; ok && i < d->ntrials; i++) {
        const cl_sensor_trial *t = &d->trials[i];
        json_t *e = json_object();
        ok = e && json_array_append_new(a, e) == 0;
        ok = ok && put(e, "degree", json_integer(t->degree));
        ok = ok && put(e, "monotonic", json_boolean(t->monotonic));
        ok = ok && put(e, "pass", json_boolean(t->pass));
        ok = ok && put(e, "max_residual_kpa", jnum(t->max_residual_kpa));
        ok = ok && put(e, "U_max_kpa", jnum(t->u_max_kpa));
        ok = ok && put(e, "worst_kpa", jnum(t->worst_kpa));
    }

    a = json_array();
    ok = ok && put(r, "points", a);
    for (size_t i = 0; ok && i < d->npoints; i++) {
        const cl_sensor_point *pt = &d->points[i];
        json_t *e = json_object();
        ok = e && json_array_append_new(a, e) == 0;
        ok = ok && put(e, "ref_kpa", jnum(pt->ref_kpa));
        ok = ok && put(e, "raw", jnum(pt->raw));
        ok = ok && put(e, "raw_sd", jnum(pt->raw_sd));
        ok = ok && put(e, "n", json_integer(pt->n_samples));
        ok = ok && put(e, "direction", json_string(cl_direction_name(pt->direction)));
        ok = ok && put(e, "temperature_c", jnum(pt->temperature_c));
        ok = ok && put(e, "setpoint", json_integer((json_int_t)pt->setpoint));
        ok = ok && put(e, "fit_kpa", jnum(pt->fit_kpa));
        ok = ok && put(e, "residual_kpa", jnum(pt->residual_kpa));
        ok = ok && put(e, "U_kpa", jnum(pt->u_kpa));
    }
    a = json_array();
    ok = ok && put(r, "setpoints", a);
    for (size_t i = 0; ok && i < d->nsetpoints; i++) {
        const cl_sensor_setpoint *s = &d->setpoints[i];
        json_t *e = json_object();
        ok = e && json_array_append_new(a, e) == 0;
        ok = ok && put(e, "ref_kpa", jnum(s->ref_kpa));
        ok = ok && put(e, "n_up", json_integer((json_int_t)s->n_up));
        ok = ok && put(e, "n_down", json_integer((json_int_t)s->n_down));
        ok = ok && put(e, "n_unknown", json_integer((json_int_t)s->n_unknown));
        ok = ok && put(e, "raw_up", jnum(s->raw_up));
        ok = ok && put(e, "raw_down", jnum(s->raw_down));
        ok = ok && put(e, "error_up_kpa", jnum(s->error_up_kpa));
        ok = ok && put(e, "error_down_kpa", jnum(s->error_down_kpa));
        ok = ok && put(e, "hysteresis_kpa", jnum(s->hysteresis_kpa));
        ok = ok && put(e, "repeatability_kpa", jnum(s->repeatability_kpa));
        ok = ok && put(e, "U_kpa", jnum(s->u_kpa));
    }
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static char *dump(json_t *r)
{
    if (!r)
        return NULL;
    char *s = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(r);
    if (!s)
        return NULL;
    /* Files end with a newline. */
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

char *cl_sensor_profile_to_json(const cl_sensor_profile *p)
{
    return dump(sensor_json(&p->d));
}

/* ==================================================== sensor: from JSON */

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
        if ((rc = get_num(e, "ref_kpa", true, ctx, &pt->ref_kpa, err)) ||
            (rc = get_num(e, "raw", true, ctx, &pt->raw, err)) ||
            (rc = get_num(e, "raw_sd", false, ctx, &pt->raw_sd, err)) ||
            (rc = get_num(e, "temperature_c", false, ctx, &pt->temperature_c, err)) ||
            (rc = get_num(e, "fit_kpa", false, ctx, &pt->fit_kpa, err)) ||
            (rc = get_num(e, "residual_kpa", false, ctx, &pt->residual_kpa, err)) ||
            (rc = get_num(e, "U_kpa", false, ctx, &pt->u_kpa, err)) ||
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
        if ((rc = get_num(e, "ref_kpa", true, ctx, &s->ref_kpa, err)) ||
            (rc = get_size(e, "n_up", ctx, &s->n_up, err)) ||
            (rc = get_size(e, "n_down", ctx, &s->n_down, err)) ||
            (rc = get_size(e, "n_unknown", ctx, &s->n_unknown, err)) ||
            (rc = get_num(e, "raw_up", false, ctx, &s->raw_up, err)) ||
            (rc = get_num(e, "raw_down", false, ctx, &s->raw_down, err)) ||
            (rc = get_num(e, "error_up_kpa", false, ctx, &s->error_up_kpa, err)) ||
            (rc = get_num(e, "error_down_kpa", false, ctx, &s->error_down_kpa, err)) ||
            (rc = get_num(e, "hysteresis_kpa", false, ctx, &s->hysteresis_kpa, err)) ||
            (rc = get_num(e, "repeatability_kpa", false, ctx, &s->repeatability_kpa, err)) ||
            (rc = get_num(e, "U_kpa", false, ctx, &s->u_kpa, err)))
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
        if ((rc = get_bool(e, "monotonic", ctx, &t->monotonic, err)) ||
            (rc = get_bool(e, "pass", ctx, &t->pass, err)) ||
            (rc = get_num(e, "max_residual_kpa", false, ctx, &t->max_residual_kpa, err)) ||
            (rc = get_num(e, "U_max_kpa", false, ctx, &t->u_max_kpa, err)) ||
            (rc = get_num(e, "worst_kpa", false, ctx, &t->worst_kpa, err)))
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
    if ((rc = get_num(tr, "raw_min", false, "transfer", &d->raw_min, err)) ||
        (rc = get_num(tr, "raw_max", false, "transfer", &d->raw_max, err)))
        return rc;
    return CL_OK;
}

static int sensor_from_json(json_t *r, cl_sensor_calibration *d, cl_error *err)
{
    json_t *o, *a, *v;
    int rc;
    double ch = NAN, nsp = NAN;

    if ((rc = get_obj(r, "sensor", &o, err)))
        return rc;
    if (!o)
        return cl_error_set(err, CL_ERR_FORMAT, "missing \"sensor\" object");
    if ((rc = get_str(o, "serial", true, "sensor", &d->serial, err)) ||
        (rc = get_str(o, "model", false, "sensor", &d->model, err)) ||
        (rc = get_num(o, "channel", false, "sensor", &ch, err)))
        return rc;
    d->channel = isfinite(ch) && ch >= 0 && ch < 65536 ? (int)ch : -1;
    if ((rc = get_str(r, "date", false, NULL, &d->date, err)) ||
        (rc = get_str(r, "valid_until", false, NULL, &d->valid_until, err)) ||
        (rc = get_str(r, "operator", false, NULL, &d->operator_name, err)) ||
        (rc = get_str(r, "software", false, NULL, &d->software, err)) ||
        (rc = get_str(r, "source", false, NULL, &d->source, err)) ||
        (rc = get_str(r, "notes", false, NULL, &d->notes, err)))
        return rc;
    if (d->date) {
        time_t t;
        if ((rc = cl_profile_parse_date(d->date, &t, err)))
            return rc;
    }
    if ((rc = get_obj(r, "reference", &o, err)))
        return rc;
    if (o) {
        if ((rc = get_str(o, "instrument", false, "reference", &d->reference, err)) ||
            (rc = get_num(o, "U_kpa", false, "reference", &d->ref_u_kpa, err)) ||
            (rc = get_num(o, "k", false, "reference", &d->ref_k, err)))
            return rc;
        if (!isfinite(d->ref_k))
            d->ref_k = 2;
    }
    if ((rc = get_obj(r, "conditions", &o, err)))
        return rc;
    if (o && (rc = get_num(o, "temperature_c", false, "conditions", &d->temperature_c, err)))
        return rc;
    if ((rc = get_obj(r, "transfer", &o, err)))
        return rc;
    if (!o)
        return cl_error_set(err, CL_ERR_FORMAT, "missing \"transfer\" object");
    if ((rc = parse_transfer(o, d, err)))
        return rc;
    if ((rc = get_obj(r, "uncertainty", &o, err)))
        return rc;
    if (o) {
        if ((rc = get_num(o, "k", false, "uncertainty", &d->k, err)) ||
            (rc =
                 get_num(o, "u_repeatability_kpa", false, "uncertainty", &d->u_rep_kpa, err)) ||
            (rc = get_num(o, "u_hysteresis_kpa", false, "uncertainty", &d->u_hyst_kpa, err)) ||
            (rc = get_num(o, "u_reference_kpa", false, "uncertainty", &d->u_ref_kpa, err)) ||
            (rc = get_num(o, "U_max_kpa", false, "uncertainty", &d->u_max_kpa, err)))
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
    }
    if ((rc = get_obj(r, "figures", &o, err)))
        return rc;
    if (o) {
        double dof = NAN;
        if ((rc = get_num(o, "dof", false, "figures", &dof, err)) ||
            (rc = get_num(o, "residual_sd_kpa", false, "figures", &d->residual_sd_kpa, err)) ||
            (rc = get_num(o, "r2", false, "figures", &d->r2, err)) ||
            (rc =
                 get_num(o, "max_residual_kpa", false, "figures", &d->max_residual_kpa, err)) ||
            (rc =
                 get_num(o, "nonlinearity_kpa", false, "figures", &d->nonlinearity_kpa, err)) ||
            (rc = get_num(o, "hysteresis_kpa", false, "figures", &d->hysteresis_kpa, err)) ||
            (rc =
                 get_num(o, "repeatability_kpa", false, "figures", &d->repeatability_kpa, err)))
            return rc;
        d->dof = isfinite(dof) && dof >= 0 ? (size_t)dof : 0;
        if (!isfinite(d->u_max_kpa) &&
            (rc = get_num(o, "U_max_kpa", false, "figures", &d->u_max_kpa, err)))
            return rc;
    }
    if ((rc = get_num(r, "tolerance_kpa", false, NULL, &d->tolerance_kpa, err)))
        return rc;
    d->pass = true; /* a hand-written profile without a verdict claims none */
    v = json_object_get(r, "pass");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return cl_error_set(err, CL_ERR_FORMAT, "\"pass\" is not true or false");
        d->pass = json_is_true(v);
    }
    if ((rc = get_obj(r, "procedure", &o, err)))
        return rc;
    if (o) {
        if ((rc = get_num(o, "setpoints", false, "procedure", &nsp, err)) ||
            (rc = get_bool(o, "ascending", "procedure", &d->ascending, err)) ||
            (rc = get_bool(o, "descending", "procedure", &d->descending, err)) ||
            (rc = get_bool(o, "repeats", "procedure", &d->repeats, err)) ||
            (rc = get_bool(o, "complete", "procedure", &d->procedure_complete, err)))
            return rc;
    }
    if ((rc = get_arr(r, "degree_selection", &a, err)) || (a && (rc = parse_trials(a, d, err))))
        return rc;
    if ((rc = get_arr(r, "points", &a, err)) || (a && (rc = parse_points(a, d, err))))
        return rc;
    if ((rc = get_arr(r, "setpoints", &a, err)) || (a && (rc = parse_setpoints(a, d, err))))
        return rc;
    for (size_t i = 0; i < d->npoints; i++)
        if (d->nsetpoints && d->points[i].setpoint >= d->nsetpoints)
            return cl_error_set(err, CL_ERR_FORMAT, "\"points[%zu].setpoint\" is out of range",
                                i);
    return check_transfer(d, err);
}

int cl_sensor_profile_parse(const char *json, cl_sensor_profile **out, cl_error *err)
{
    json_t *r;
    cl_sensor_calibration d;
    *out = NULL;
    int rc = parse_header(json, "sensor", &r, err);
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
    return name_file(rc, path, err);
}

/* ================================================================ cupset */

void cl_cupset_cup_init(cl_cupset_cup *c)
{
    memset(c, 0, sizeof *c);
    c->volume_ml = c->volume_u_ml = NAN;
    c->leak_tau_s = c->leak_tau_se = c->leak_q_mbarl_s = c->leak_at_kpa = NAN;
    c->exp_vref_ml = c->exp_vref_u_ml = c->exp_p_ref_kpa = c->exp_p_cup_kpa = NAN;
    c->exp_p_final_kpa = c->exp_p_u_kpa = NAN;
    c->leak_q_u_mbarl_s = c->leak_p0_kpa = c->leak_p0_se = c->leak_p_inf_kpa = NAN;
    c->leak_p_inf_se = c->leak_corr_pinf_tau = c->leak_slope_kpa_s = c->leak_slope_se = NAN;
    c->leak_r2 = c->leak_sigma_kpa = c->leak_t_from_s = c->leak_t_to_s = NAN;
    c->leak_identifiable = -1;
}

static void cup_release(cl_cupset_cup *c)
{
    free((char *)c->cup_id);
    free((char *)c->material);
    free((char *)c->size);
    free((char *)c->volume_method);
    free((char *)c->leak_model);
    free((char *)c->leak_source);
}

static void meta_release(cl_cupset_meta *m)
{
    free((char *)m->date);
    free((char *)m->valid_until);
    free((char *)m->operator_name);
    free((char *)m->notes);
    free((char *)m->software);
}

cl_cupset *cl_cupset_new(const char *id)
{
    cl_cupset *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->meta.ambient_kpa = c->meta.temperature_c = NAN;
    if (cl_profile_set_str(&c->id, id ? id : "") != CL_OK) {
        free(c);
        return NULL;
    }
    return c;
}

void cl_cupset_free(cl_cupset *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        cup_release(&c->cups[i]);
    free(c->cups);
    meta_release(&c->meta);
    free(c->id);
    free(c);
}

/* strdup that keeps NULL; sets *ok false on allocation failure. */
static const char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

int cl_cupset_add(cl_cupset *c, const cl_cupset_cup *cup, cl_error *err)
{
    if (!cup->cup_id || !*cup->cup_id)
        return cl_error_set(err, CL_ERR_ARG, "cup without an id");
    if (cl_cupset_find(c, cup->cup_id))
        return cl_error_set(err, CL_ERR_ARG, "cup %s appears twice", cup->cup_id);
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        cl_cupset_cup *p = realloc(c->cups, cap * sizeof *p);
        if (!p)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        c->cups = p;
        c->cap = cap;
    }
    bool ok = true;
    cl_cupset_cup *d = &c->cups[c->n];
    *d = *cup;
    d->cup_id = dup_or_null(cup->cup_id, &ok);
    d->material = dup_or_null(cup->material, &ok);
    d->size = dup_or_null(cup->size, &ok);
    d->volume_method = dup_or_null(cup->volume_method, &ok);
    d->leak_model = dup_or_null(cup->leak_model, &ok);
    d->leak_source = dup_or_null(cup->leak_source, &ok);
    if (!ok) {
        cup_release(d);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    c->n++;
    return CL_OK;
}

int cl_cupset_set_meta(cl_cupset *c, const cl_cupset_meta *m, cl_error *err)
{
    bool ok = true;
    cl_cupset_meta n = *m;
    n.date = dup_or_null(m->date, &ok);
    n.valid_until = dup_or_null(m->valid_until, &ok);
    n.operator_name = dup_or_null(m->operator_name, &ok);
    n.notes = dup_or_null(m->notes, &ok);
    n.software = dup_or_null(m->software, &ok);
    if (!ok) {
        meta_release(&n);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    meta_release(&c->meta);
    c->meta = n;
    return CL_OK;
}

const cl_cupset_meta *cl_cupset_get_meta(const cl_cupset *c)
{
    return &c->meta;
}
const char *cl_cupset_id(const cl_cupset *c)
{
    return c->id;
}
size_t cl_cupset_count(const cl_cupset *c)
{
    return c->n;
}

const cl_cupset_cup *cl_cupset_get(const cl_cupset *c, size_t i)
{
    return i < c->n ? &c->cups[i] : NULL;
}

const cl_cupset_cup *cl_cupset_find(const cl_cupset *c, const char *cup_id)
{
    for (size_t i = 0; cup_id && i < c->n; i++)
        if (strcmp(c->cups[i].cup_id, cup_id) == 0)
            return &c->cups[i];
    return NULL;
}

static json_t *cup_json(const cl_cupset_cup *c)
{
    json_t *e = json_object(), *o, *x;
    bool ok = e != NULL;
    ok = ok && put(e, "id", json_string(c->cup_id));
    ok = ok && put(e, "material", jstr(c->material));
    ok = ok && put(e, "size", jstr(c->size));
    if (isfinite(c->volume_ml)) {
        o = json_object();
        ok = ok && put(e, "volume", o);
        ok = ok && put(o, "ml", jnum(c->volume_ml));
        ok = ok && put(o, "u_ml", jnum(c->volume_u_ml));
        ok = ok && put(o, "method", jstr(c->volume_method));
        if (isfinite(c->exp_vref_ml)) {
            x = json_object();
            ok = ok && put(o, "expansion", x);
            ok = ok && put(x, "vref_ml", jnum(c->exp_vref_ml));
            ok = ok && put(x, "vref_u_ml", jnum(c->exp_vref_u_ml));
            ok = ok && put(x, "p_ref_abs_kpa", jnum(c->exp_p_ref_kpa));
            ok = ok && put(x, "p_cup_abs_kpa", jnum(c->exp_p_cup_kpa));
            ok = ok && put(x, "p_final_abs_kpa", jnum(c->exp_p_final_kpa));
            ok = ok && put(x, "p_u_kpa", jnum(c->exp_p_u_kpa));
        }
    } else {
        ok = ok && put(e, "volume", json_null());
    }
    if (isfinite(c->leak_tau_s) || isfinite(c->leak_q_mbarl_s) ||
        isfinite(c->leak_slope_kpa_s)) {
        o = json_object();
        ok = ok && put(e, "leak", o);
        ok = ok && put(o, "model", jstr(c->leak_model));
        ok = ok && put(o, "source", jstr(c->leak_source));
        ok = ok && put(o, "tau_s", jnum(c->leak_tau_s));
        ok = ok && put(o, "tau_se_s", jnum(c->leak_tau_se));
        ok = ok && put(o, "p0_kpa", jnum(c->leak_p0_kpa));
        ok = ok && put(o, "p0_se_kpa", jnum(c->leak_p0_se));
        ok = ok && put(o, "p_inf_kpa", jnum(c->leak_p_inf_kpa));
        ok = ok && put(o, "p_inf_se_kpa", jnum(c->leak_p_inf_se));
        ok = ok && put(o, "corr_pinf_tau", jnum(c->leak_corr_pinf_tau));
        ok = ok &&
             put(o, "identifiable",
                 c->leak_identifiable < 0 ? json_null() : json_boolean(c->leak_identifiable));
        ok = ok && put(o, "slope_kpa_s", jnum(c->leak_slope_kpa_s));
        ok = ok && put(o, "slope_se_kpa_s", jnum(c->leak_slope_se));
        ok = ok && put(o, "r2", jnum(c->leak_r2));
        ok = ok && put(o, "sigma_kpa", jnum(c->leak_sigma_kpa));
        ok = ok && put(o, "t_from_s", jnum(c->leak_t_from_s));
        ok = ok && put(o, "t_to_s", jnum(c->leak_t_to_s));
        ok = ok && put(o, "n", json_integer((json_int_t)c->leak_n));
        ok = ok && put(o, "at_kpa", jnum(c->leak_at_kpa));
        ok = ok && put(o, "q_mbarl_s", jnum(c->leak_q_mbarl_s));
        ok = ok && put(o, "q_u_mbarl_s", jnum(c->leak_q_u_mbarl_s));
    } else {
        ok = ok && put(e, "leak", json_null());
    }
    if (!ok) {
        json_decref(e);
        return NULL;
    }
    return e;
}

char *cl_cupset_to_json(const cl_cupset *c)
{
    json_t *r = json_object(), *o, *a;
    bool ok = r != NULL;
    ok = ok && put(r, "format", json_string(CL_PROFILE_FORMAT));
    ok = ok && put(r, "version", json_integer(CL_PROFILE_VERSION));
    ok = ok && put(r, "kind", json_string("cupset"));
    o = json_object();
    ok = ok && put(r, "cupset", o);
    ok = ok && put(o, "id", json_string(c->id));
    ok = ok && put(r, "date", jstr(c->meta.date));
    ok = ok && put(r, "valid_until", jstr(c->meta.valid_until));
    ok = ok && put(r, "operator", jstr(c->meta.operator_name));
    ok = ok && put(r, "software", jstr(c->meta.software));
    ok = ok && put(r, "notes", jstr(c->meta.notes));
    o = json_object();
    ok = ok && put(r, "conditions", o);
    ok = ok && put(o, "ambient_kpa", jnum(c->meta.ambient_kpa));
    ok = ok && put(o, "temperature_c", jnum(c->meta.temperature_c));
    a = json_array();
    ok = ok && put(r, "cups", a);
    for (size_t i = 0; ok && i < c->n; i++) {
        json_t *e = cup_json(&c->cups[i]);
        ok = e && json_array_append_new(a, e) == 0;
    }
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return dump(r);
}

/* Read a string member into a cup field (owned by the set being built). */
static int cup_str(json_t *o, const char *key, const char *ctx, const char **out, cl_error *err)
{
    char *s = NULL;
    int rc = get_str(o, key, false, ctx, &s, err);
    *out = s;
    return rc;
}

static int parse_cup(json_t *e, const char *ctx, cl_cupset_cup *c, cl_error *err)
{
    json_t *o, *x, *v;
    int rc;
    char *id = NULL;
    if (!json_is_object(e))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", ctx);
    if ((rc = get_str(e, "id", true, ctx, &id, err)))
        return rc;
    c->cup_id = id;
    if (!*id)
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s.id\" is empty", ctx);
    if ((rc = cup_str(e, "material", ctx, &c->material, err)) ||
        (rc = cup_str(e, "size", ctx, &c->size, err)))
        return rc;
    if ((rc = get_obj(e, "volume", &o, err)))
        return rc;
    if (o) {
        if ((rc = get_num(o, "ml", true, "volume", &c->volume_ml, err)) ||
            (rc = get_num(o, "u_ml", false, "volume", &c->volume_u_ml, err)) ||
            (rc = cup_str(o, "method", "volume", &c->volume_method, err)))
            return rc;
        if (!(c->volume_ml > 0))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s.volume.ml\" is not positive", ctx);
        if ((rc = get_obj(o, "expansion", &x, err)))
            return rc;
        if (x &&
            ((rc = get_num(x, "vref_ml", false, "expansion", &c->exp_vref_ml, err)) ||
             (rc = get_num(x, "vref_u_ml", false, "expansion", &c->exp_vref_u_ml, err)) ||
             (rc = get_num(x, "p_ref_abs_kpa", false, "expansion", &c->exp_p_ref_kpa, err)) ||
             (rc = get_num(x, "p_cup_abs_kpa", false, "expansion", &c->exp_p_cup_kpa, err)) ||
             (rc = get_num(x, "p_final_abs_kpa", false, "expansion", &c->exp_p_final_kpa,
                           err)) ||
             (rc = get_num(x, "p_u_kpa", false, "expansion", &c->exp_p_u_kpa, err))))
            return rc;
    }
    if ((rc = get_obj(e, "leak", &o, err)))
        return rc;
    if (o) {
        double n = NAN;
        if ((rc = cup_str(o, "model", "leak", &c->leak_model, err)) ||
            (rc = cup_str(o, "source", "leak", &c->leak_source, err)) ||
            (rc = get_num(o, "tau_s", false, "leak", &c->leak_tau_s, err)) ||
            (rc = get_num(o, "tau_se_s", false, "leak", &c->leak_tau_se, err)) ||
            (rc = get_num(o, "p0_kpa", false, "leak", &c->leak_p0_kpa, err)) ||
            (rc = get_num(o, "p0_se_kpa", false, "leak", &c->leak_p0_se, err)) ||
            (rc = get_num(o, "p_inf_kpa", false, "leak", &c->leak_p_inf_kpa, err)) ||
            (rc = get_num(o, "p_inf_se_kpa", false, "leak", &c->leak_p_inf_se, err)) ||
            (rc = get_num(o, "corr_pinf_tau", false, "leak", &c->leak_corr_pinf_tau, err)) ||
            (rc = get_num(o, "slope_kpa_s", false, "leak", &c->leak_slope_kpa_s, err)) ||
            (rc = get_num(o, "slope_se_kpa_s", false, "leak", &c->leak_slope_se, err)) ||
            (rc = get_num(o, "r2", false, "leak", &c->leak_r2, err)) ||
            (rc = get_num(o, "sigma_kpa", false, "leak", &c->leak_sigma_kpa, err)) ||
            (rc = get_num(o, "t_from_s", false, "leak", &c->leak_t_from_s, err)) ||
            (rc = get_num(o, "t_to_s", false, "leak", &c->leak_t_to_s, err)) ||
            (rc = get_num(o, "n", false, "leak", &n, err)) ||
            (rc = get_num(o, "at_kpa", false, "leak", &c->leak_at_kpa, err)) ||
            (rc = get_num(o, "q_mbarl_s", false, "leak", &c->leak_q_mbarl_s, err)) ||
            (rc = get_num(o, "q_u_mbarl_s", false, "leak", &c->leak_q_u_mbarl_s, err)))
            return rc;
        c->leak_n = isfinite(n) && n >= 0 ? (size_t)n : 0;
        v = json_object_get(o, "identifiable");
        if (v && !json_is_null(v)) {
            if (!json_is_boolean(v))
                return cl_error_set(err, CL_ERR_FORMAT,
                                    "\"leak.identifiable\" is not true or false");
            c->leak_identifiable = json_is_true(v);
        }
        if (isfinite(c->leak_tau_s) && !(c->leak_tau_s > 0))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s.leak.tau_s\" is not positive", ctx);
    }
    return CL_OK;
}

int cl_cupset_parse(const char *json, cl_cupset **out, cl_error *err)
{
    json_t *r, *o, *a;
    cl_cupset *c = NULL;
    char *id = NULL;
    cl_cupset_meta m = {0};
    int rc;

    *out = NULL;
    if ((rc = parse_header(json, "cupset", &r, err)))
        return rc;
    if ((rc = get_obj(r, "cupset", &o, err)))
        goto out;
    if (!o) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "missing \"cupset\" object");
        goto out;
    }
    if ((rc = get_str(o, "id", true, "cupset", &id, err)))
        goto out;
    c = cl_cupset_new(id);
    if (!c) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    m.ambient_kpa = m.temperature_c = NAN;
    if ((rc = cup_str(r, "date", NULL, &m.date, err)) ||
        (rc = cup_str(r, "valid_until", NULL, &m.valid_until, err)) ||
        (rc = cup_str(r, "operator", NULL, &m.operator_name, err)) ||
        (rc = cup_str(r, "notes", NULL, &m.notes, err)) ||
        (rc = cup_str(r, "software", NULL, &m.software, err)))
        goto out;
    if (m.valid_until) {
        time_t t;
        if ((rc = cl_profile_parse_date(m.valid_until, &t, err)))
            goto out;
    }
    if ((rc = get_obj(r, "conditions", &o, err)))
        goto out;
    if (o && ((rc = get_num(o, "ambient_kpa", false, "conditions", &m.ambient_kpa, err)) ||
              (rc = get_num(o, "temperature_c", false, "conditions", &m.temperature_c, err))))
        goto out;
    c->meta = m;
    memset(&m, 0, sizeof m);
    if ((rc = get_arr(r, "cups", &a, err)))
        goto out;
    if (!a) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "missing \"cups\" array");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        cl_cupset_cup cup;
        char ctx[32];
        snprintf(ctx, sizeof ctx, "cups[%zu]", i);
        cl_cupset_cup_init(&cup);
        rc = parse_cup(json_array_get(a, i), ctx, &cup, err);
        if (rc == CL_OK)
            rc = cl_cupset_add(c, &cup, err);
        cup_release(&cup);
        if (rc != CL_OK) {
            if (rc == CL_ERR_ARG)
                rc = err ? (err->code = CL_ERR_FORMAT) : CL_ERR_FORMAT;
            goto out;
        }
    }
    *out = c;
    c = NULL;
out:
    meta_release(&m);
    free(id);
    cl_cupset_free(c);
    json_decref(r);
    return rc;
}

int cl_cupset_load(const char *path, cl_cupset **out, cl_error *err)
{
    char *text;
    *out = NULL;
    int rc = cl_profile_read_file(path, &text, err);
    if (rc != CL_OK)
        return rc;
    rc = cl_cupset_parse(text, out, err);
    free(text);
    return name_file(rc, path, err);
}

const char *cl_profile_kind(const char *json)
{
    json_t *r = json ? json_loads(json, 0, NULL) : NULL, *v;
    const char *kind = NULL;
    if (r && json_is_object(r)) {
        v = json_object_get(r, "format");
        if (json_is_string(v) && strcmp(json_string_value(v), CL_PROFILE_FORMAT) == 0) {
            v = json_object_get(r, "kind");
            if (json_is_string(v)) {
                if (strcmp(json_string_value(v), "sensor") == 0)
                    kind = "sensor";
                else if (strcmp(json_string_value(v), "cupset") == 0)
                    kind = "cupset";
            }
        }
    }
    json_decref(r);
    return kind;
}

const cl_sensor_profile *cl_sensor_profile_find(const cl_sensor_profile *const *ps, size_t n,
                                                const char *serial)
{
    for (size_t i = 0; serial && *serial && i < n; i++)
        if (strcmp(cl_sensor_profile_serial(ps[i]), serial) == 0)
            return ps[i];
    return NULL;
}
