/* analysis/export: calibrated series as CSV, MATLAB, EDF+ and BDF+ (see
 * export.h). */
#include "output/export.h"

#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <matio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cl_output.h"
#include "cl_session_read.h"
#include "cl_table.h"


/* Fields of each element of the MATLAB struct array `sessions`. */
static const char *const session_fields[] = {
    "file", "session_uuid", "created_utc", "vacuum_sign", "practitioner", "subject",
    "technique", "site", "notes", "cups"};
enum { SESSION_FIELDS = sizeof session_fields / sizeof *session_fields };

typedef struct xmarker {
    double t_s;
    char kind[24], text[CL_SESSION_EVENT_TEXT];
} xmarker;

/* One cup of the session being exported (copies: the trace is the
 * caller's). */
typedef struct xcup {
    char id[CL_ANALYSIS_STR], site[CL_ANALYSIS_STR], cup_set[CL_ANALYSIS_STR],
        sensor[CL_ANALYSIS_STR], material[CL_ANALYSIS_STR], size[CL_ANALYSIS_STR],
        calibration[CL_ANALYSIS_TEXT];
    unsigned device, channel;
    size_t n;
    double *t, *v; /* v in the export unit */
    uint8_t *phase;
    double dt_s;   /* median sample interval */
    cl_segment_app *apps;
    size_t napps;
    xmarker *mk;
    size_t nmk;
} xcup;

struct an_export {
    an_export_format fmt;
    bool wide, force, dir; /* dir: EDF/BDF, one file per session in folder `path` */
    cl_unit unit;
    char *path, *tmp;      /* tmp: CSV / MAT written here, renamed at close */
    FILE *csv;
    mat_t *mat;
    matvar_t **msessions; /* MAT: SESSION_FIELDS values per session, assembled at close */
    size_t nmsessions;
    size_t sessions;      /* exported so far */
    char (*wide_cups)[CL_ANALYSIS_STR]; /* CSV wide: the columns */
    size_t nwide;
    /* the session in progress */
    cl_session_reader *r;
    char file[4096], stem[256], uuid[64], created[32];
    time_t t0;
    xcup *cups;
    size_t ncups;
};

an_export_format an_export_format_from_name(const char *name)
{
    return !strcmp(name, "csv")   ? AN_EXPORT_CSV
           : !strcmp(name, "mat") ? AN_EXPORT_MAT
           : !strcmp(name, "edf") ? AN_EXPORT_EDF
           : !strcmp(name, "bdf") ? AN_EXPORT_BDF
                                  : 0;
}

/* EDF+ or BDF+: the formats of EDFlib. */
static bool edf_like(an_export_format fmt) { return fmt == AN_EXPORT_EDF || fmt == AN_EXPORT_BDF; }

/* ".NAME.cuplab-tmp" beside `path`. */
static char *tmp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *t = malloc(strlen(path) + 16);
    if (t)
        sprintf(t, "%.*s.%s.cuplab-tmp", (int)(base - path), path, base);
    return t;
}

int an_export_open(an_export **out, an_export_format fmt, const char *path, size_t nsessions,
                   bool wide, cl_unit unit, bool force, cl_error *err)
{
    struct stat st;
    an_export *x;
    int rc;
    *out = NULL;
    if (!path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "export: no output name (-o OUT)");
    bool dir = edf_like(fmt) && nsessions > 1;
    if (dir && stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: not a folder (%s: one file per session, so -o names a "
                            "folder when there are several)",
                            path, fmt == AN_EXPORT_BDF ? "BDF" : "EDF");
    if ((rc = dir ? cl_output_dir(path, err) : cl_output_check(path, force, err)) != CL_OK)
        return rc;
    if (!(x = calloc(1, sizeof *x)) || !(x->path = strdup(path))) {
        free(x);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    x->fmt = fmt;
    x->wide = wide;
    x->force = force;
    x->dir = dir;
    x->unit = unit;
    if (edf_like(fmt)) {
        *out = x;
        return CL_OK;
    }
    if (!(x->tmp = tmp_name(path))) {
        an_export_abort(x);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    unlink(x->tmp); /* stale, from a killed export */
    errno = 0;
    if (fmt == AN_EXPORT_CSV ? !(x->csv = fopen(x->tmp, "wx"))
                             : !(x->mat = Mat_CreateVer(x->tmp, NULL, MAT_FT_MAT5))) {
        rc = cl_error_set(err, errno ? cl_error_from_errno(errno) : CL_ERR_IO,
                          "%s: cannot create: %s", path, errno ? strerror(errno) : "matio");
        an_export_abort(x);
        return rc;
    }
    *out = x;
    return CL_OK;
}

static void drop_cups(an_export *x)
{
    for (size_t i = 0; i < x->ncups; i++) {
        free(x->cups[i].t);
        free(x->cups[i].v);
        free(x->cups[i].phase);
        free(x->cups[i].apps);
        free(x->cups[i].mk);
    }
    free(x->cups);
    x->cups = NULL;
    x->ncups = 0;
}

void an_export_abort(an_export *x)
{
    if (!x)
        return;
    drop_cups(x);
    if (x->csv)
        fclose(x->csv);
    if (x->mat)
        Mat_Close(x->mat);
    if (x->tmp)
        unlink(x->tmp);
    for (size_t i = 0; i < x->nmsessions * SESSION_FIELDS; i++)
        Mat_VarFree(x->msessions[i]);
    free(x->msessions);
    free(x->wide_cups);
    free(x->tmp);
    free(x->path);
    free(x);
}

/* "YYYY-MM-DDThh:mm:ssZ" -> seconds since the epoch; -1 if malformed. */
static time_t parse_utc(const char *s)
{
    struct tm tm = {0};
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return (time_t)-1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

int an_export_session(an_export *x, cl_session_reader *r, const char *file, cl_error *err)
{
    drop_cups(x);
    x->r = r;
    snprintf(x->file, sizeof x->file, "%s", file);
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    const char *dot = strrchr(b, '.');
    snprintf(x->stem, sizeof x->stem, "%.*s", (int)(dot && dot != b ? dot - b : (long)strlen(b)),
             b);
    snprintf(x->uuid, sizeof x->uuid, "%s", cl_session_attr(r, "session_uuid"));
    snprintf(x->created, sizeof x->created, "%s", cl_session_attr(r, "created_utc"));
    x->t0 = parse_utc(x->created);
    if (x->t0 == (time_t)-1)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: no valid created_utc to export times from",
                            file);
    return CL_OK;
}

int an_export_cup(an_export *x, const cl_cup_result *res, const cl_cup_trace *tr,
                  cl_error *err)
{
    xcup *grown = realloc(x->cups, (x->ncups + 1) * sizeof *grown);
    if (!grown)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", x->file);
    x->cups = grown;
    xcup *c = &x->cups[x->ncups++];
    memset(c, 0, sizeof *c);
    const cl_session_cup *info = cl_session_cup_info(x->r, res->cup);
    snprintf(c->id, sizeof c->id, "%s", res->cup_id);
    snprintf(c->site, sizeof c->site, "%s", res->site);
    snprintf(c->cup_set, sizeof c->cup_set, "%s", res->cup_set);
    snprintf(c->sensor, sizeof c->sensor, "%s", res->sensor_serial);
    snprintf(c->material, sizeof c->material, "%s", info && info->material ? info->material : "");
    snprintf(c->size, sizeof c->size, "%s", info && info->size ? info->size : "");
    snprintf(c->calibration, sizeof c->calibration, "%s", res->calibration);
    c->device = res->device;
    c->channel = res->channel;
    size_t n = tr && tr->vac_kpa ? tr->n : 0; /* no pressures: an empty series */
    c->n = n;
    c->dt_s = tr ? tr->seg.dt_s : NAN;
    c->t = malloc((n ? n : 1) * sizeof *c->t);
    c->v = malloc((n ? n : 1) * sizeof *c->v);
    c->phase = malloc(n ? n : 1);
    size_t na = tr ? tr->seg.napps : 0, nm = tr ? tr->nmarkers : 0;
    c->apps = malloc((na ? na : 1) * sizeof *c->apps);
    c->mk = calloc(nm ? nm : 1, sizeof *c->mk);
    if (!c->t || !c->v || !c->phase || !c->apps || !c->mk)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", x->file);
    for (size_t i = 0; i < n; i++) {
        c->t[i] = tr->t_s[i];
        c->v[i] = cl_unit_from_kpa(tr->vac_kpa[i], x->unit);
    }
    if (n)
        cl_segment_phases(&tr->seg, n, c->phase);
    if (na)
        memcpy(c->apps, tr->seg.apps, na * sizeof *c->apps);
    c->napps = na;
    for (size_t i = 0; i < nm; i++) {
        cl_session_event ev;
        xmarker *m = &c->mk[c->nmk];
        m->t_s = tr->marker_t_s[i];
        snprintf(m->kind, sizeof m->kind, "%s", cl_event_kind_name(tr->marker_kind[i]));
        if (cl_session_event_get(x->r, tr->marker_event[i], &ev, NULL) == CL_OK && ev.text)
            snprintf(m->text, sizeof m->text, "%s", ev.text);
        c->nmk++;
    }
    return CL_OK;
}

/* ------------------------------------------------------------------ CSV */

static void iso_time(const an_export *x, double t_s, char *buf, size_t cap)
{
    double whole = floor(t_s);
    long ms = lround((t_s - whole) * 1000);
    time_t t = x->t0 + (time_t)whole;
    if (ms == 1000) {
        t++;
        ms = 0;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, cap - k, ".%03ldZ", ms);
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
}

static int csv_long(an_export *x)
{
    FILE *f = x->csv;
    const char *unit = cl_unit_name(x->unit);
    char iso[40];
    if (x->sessions == 0)
        fputs("session,cup,time_s,iso_time,vacuum,unit,phase\n", f);
    for (size_t k = 0; k < x->ncups; k++) {
        const xcup *c = &x->cups[k];
        for (size_t i = 0; i < c->n; i++) {
            iso_time(x, c->t[i], iso, sizeof iso);
            cl_table_csv_field(f, x->stem);
            fputc(',', f);
            cl_table_csv_field(f, c->id);
            fprintf(f, ",%.6f,%s,", c->t[i], iso);
            csv_num(f, c->v[i]);
            fprintf(f, ",%s,%s\n", unit, cl_segment_phase_name(c->phase[i]));
        }
    }
    return CL_OK;
}

/* Wide: per device, one row per sample time, one column per cup of the
 * first session (every session must have the same cups). */
static int csv_wide(an_export *x, cl_error *err)
{
    FILE *f = x->csv;
    char iso[40];
    if (x->sessions == 0) {
        if (!(x->wide_cups = calloc(x->ncups ? x->ncups : 1, sizeof *x->wide_cups)))
            return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", x->file);
        x->nwide = x->ncups;
        fputs("session,device,time_s,iso_time,unit", f);
        for (size_t k = 0; k < x->ncups; k++) {
            snprintf(x->wide_cups[k], sizeof x->wide_cups[k], "%s", x->cups[k].id);
            fputc(',', f);
            cl_table_csv_field(f, x->cups[k].id);
        }
        fputc('\n', f);
    }
    bool same = x->ncups == x->nwide;
    for (size_t k = 0; same && k < x->ncups; k++)
        same = !strcmp(x->wide_cups[k], x->cups[k].id);
    if (!same)
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: its cups differ from the first session's: the wide form needs "
                            "the same cups in every session (the long form does not)",
                            x->file);
    for (size_t d = 0; d < cl_session_device_count(x->r); d++) {
        const xcup *first = NULL;
        for (size_t k = 0; k < x->ncups && !first; k++)
            if (x->cups[k].device == d && x->cups[k].n)
                first = &x->cups[k];
        if (!first)
            continue;
        for (size_t i = 0; i < first->n; i++) {
            iso_time(x, first->t[i], iso, sizeof iso);
            cl_table_csv_field(f, x->stem);
            fprintf(f, ",%zu,%.6f,%s,%s", d, first->t[i], iso, cl_unit_name(x->unit));
            for (size_t k = 0; k < x->ncups; k++) {
                const xcup *c = &x->cups[k];
                fputc(',', f);
                if (c->device == d && i < c->n)
                    csv_num(f, c->v[i]);
            }
            fputc('\n', f);
        }
    }
    return CL_OK;
}

/* ------------------------------------------------------------------ MAT */

static matvar_t *mat_str(const char *s)
{
    size_t dims[2] = {1, strlen(s)};
    return Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UTF8, 2, dims, (void *)s, 0);
}

static matvar_t *mat_col(const double *v, size_t n)
{
    size_t dims[2] = {n, 1};
    return Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, (void *)v, 0);
}

static matvar_t *mat_num(double v) { return mat_col(&v, 1); }

/* A 1 x n cell array of strings get(i). */
static matvar_t *mat_cellstr(size_t n, const char *(*get)(const void *, size_t),
                             const void *ctx)
{
    size_t dims[2] = {1, n};
    matvar_t *cell = Mat_VarCreate(NULL, MAT_C_CELL, MAT_T_CELL, 2, dims, NULL, 0);
    for (size_t i = 0; cell && i < n; i++) {
        matvar_t *s = mat_str(get(ctx, i));
        if (!s) {
            Mat_VarFree(cell);
            return NULL;
        }
        Mat_VarFree(Mat_VarSetCell(cell, (int)i, s)); /* returns the cell's old value */
    }
    return cell;
}

static const char *phase_name_at(const void *ctx, size_t i)
{
    (void)ctx;
    return cl_segment_phase_name((int)i);
}
static const char *mk_kind_at(const void *ctx, size_t i) { return ((const xmarker *)ctx)[i].kind; }
static const char *mk_text_at(const void *ctx, size_t i) { return ((const xmarker *)ctx)[i].text; }

/* A 1 x n struct array with fields `names`; vals[i * nf + f] is field f of
 * element i.  Takes the values over (all freed on failure). */
static matvar_t *mat_structs(const char *name, const char *const *names, size_t nf,
                             matvar_t **vals, size_t n)
{
    size_t dims[2] = {1, n};
    bool ok = true;
    for (size_t i = 0; i < n * nf; i++)
        ok = ok && vals[i];
    matvar_t *s = ok ? Mat_VarCreateStruct(name, 2, dims, (const char **)names, (unsigned)nf)
                     : NULL;
    for (size_t i = 0; i < n * nf; i++) {
        if (s && Mat_VarSetStructFieldByIndex(s, i % nf, i / nf, vals[i]) != NULL)
            ok = false; /* it returns the field's previous value: there is none */
        else if (!s)
            Mat_VarFree(vals[i]);
    }
    if (s && !ok) {
        Mat_VarFree(s);
        return NULL;
    }
    return s;
}

static const char *const cup_fields[] = {
    "cup",         "device", "channel", "site",  "cup_set", "material",    "size",   "sensor_serial",
    "calibration", "unit",   "time_s",  "vacuum", "phase",  "phase_names", "markers"};
enum { CUP_FIELDS = sizeof cup_fields / sizeof *cup_fields };

/* The fields of cup c into vals[CUP_FIELDS]. */
static void mat_cup(const an_export *x, const xcup *c, matvar_t **vals)
{
    static const char *const mk_fields[] = {"t_s", "kind", "text"};
    size_t pdims[2] = {c->n, 1};
    double *mt = malloc((c->nmk ? c->nmk : 1) * sizeof *mt);
    for (size_t i = 0; mt && i < c->nmk; i++)
        mt[i] = c->mk[i].t_s;
    matvar_t *mk[] = {mt ? mat_col(mt, c->nmk) : NULL, mat_cellstr(c->nmk, mk_kind_at, c->mk),
                      mat_cellstr(c->nmk, mk_text_at, c->mk)};
    free(mt);
    matvar_t *v[CUP_FIELDS] = {
        mat_str(c->id),
        mat_num(c->device),
        mat_num(c->channel),
        mat_str(c->site),
        mat_str(c->cup_set),
        mat_str(c->material),
        mat_str(c->size),
        mat_str(c->sensor),
        mat_str(c->calibration),
        mat_str(cl_unit_name(x->unit)),
        mat_col(c->t, c->n),
        mat_col(c->v, c->n),
        Mat_VarCreate(NULL, MAT_C_UINT8, MAT_T_UINT8, 2, pdims, c->phase, 0),
        mat_cellstr(CL_SEGMENT_PHASES, phase_name_at, NULL),
        mat_structs(NULL, mk_fields, 3, mk, 1),
    };
    memcpy(vals, v, sizeof v);
}


/* The session's fields, kept until the close writes them all. */
static int mat_session(an_export *x, cl_error *err)
{
    matvar_t **grown = realloc(x->msessions, (x->nmsessions + 1) * SESSION_FIELDS * sizeof *grown);
    matvar_t **cupvals = calloc((x->ncups ? x->ncups : 1) * CUP_FIELDS, sizeof *cupvals);
    if (!grown || !cupvals) {
        free(cupvals);
        if (grown)
            x->msessions = grown;
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", x->file);
    }
    x->msessions = grown;
    for (size_t c = 0; c < x->ncups; c++)
        mat_cup(x, &x->cups[c], cupvals + c * CUP_FIELDS);
    matvar_t **v = x->msessions + x->nmsessions * SESSION_FIELDS;
    v[0] = mat_str(x->file);
    v[1] = mat_str(x->uuid);
    v[2] = mat_str(x->created);
    v[3] = mat_str("positive below ambient");
    for (size_t i = 4; i < SESSION_FIELDS - 1; i++)
        v[i] = mat_str(cl_session_attr(x->r, session_fields[i]));
    v[SESSION_FIELDS - 1] = mat_structs(NULL, cup_fields, CUP_FIELDS, cupvals, x->ncups);
    free(cupvals);
    x->nmsessions++;
    for (size_t i = 0; i < SESSION_FIELDS; i++)
        if (!v[i])
            return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory building the MATLAB struct",
                                x->file);
    return CL_OK;
}

/* All sessions as the 1 x N struct array `sessions`. */
static int mat_write(an_export *x, cl_error *err)
{
    matvar_t *all = mat_structs("sessions", session_fields, SESSION_FIELDS, x->msessions,
                                x->nmsessions);
    free(x->msessions); /* the values now belong to `all` (or are freed) */
    x->msessions = NULL;
    x->nmsessions = 0;
    int rc = all && Mat_VarWrite(x->mat, all, MAT_COMPRESSION_ZLIB) == 0
                 ? CL_OK
                 : cl_error_set(err, CL_ERR_IO, "%s: cannot write the MATLAB file", x->path);
    Mat_VarFree(all);
    return rc;
}

/* ------------------------------------------------------------------ EDF */

/* EDF samples: the series resampled to fs on the grid k / fs from the
 * session start, linearly between neighbours no more than 2.5 samples
 * apart; NaN where there is no value. */
static void resample(const xcup *c, double fs, size_t nout, double *out)
{
    size_t j = 0;
    for (size_t k = 0; k < nout; k++) {
        double t = (double)k / fs;
        while (j + 1 < c->n && c->t[j + 1] <= t)
            j++;
        out[k] = NAN;
        if (c->n == 0 || t < c->t[0] || j + 1 >= c->n) {
            if (c->n && fabs(t - c->t[c->n - 1]) < 1e-9)
                out[k] = c->v[c->n - 1];
            continue;
        }
        double t0 = c->t[j], t1 = c->t[j + 1];
        if (t1 - t0 > 2.5 / fs || !isfinite(c->v[j]) || !isfinite(c->v[j + 1]))
            continue;
        out[k] = t1 > t0 ? c->v[j] + (c->v[j + 1] - c->v[j]) * (t - t0) / (t1 - t0) : c->v[j];
    }
}

static long long tenth_ms(double s) { return llround(s * 10000); }

static int edf_annotate(int h, double onset, double dur, const char *text)
{
    if (!isfinite(onset) || onset < 0)
        return 0;
    return edfwrite_annotation_utf8(h, tenth_ms(onset), isfinite(dur) && dur > 0 ? tenth_ms(dur) : -1,
                                    text);
}

/* The EDF+ header: start time, subject, equipment, technique and site. */
static bool edf_header(const an_export *x, int h)
{
    struct tm tm;
    char info[81];
    gmtime_r(&x->t0, &tm);
    const char *subject = cl_session_attr(x->r, "subject");
    snprintf(info, sizeof info, "%s %s", cl_session_attr(x->r, "technique"),
             cl_session_attr(x->r, "site"));
    return edf_set_startdatetime(h, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec) == 0 &&
           edf_set_patientcode(h, subject[0] ? subject : "X") == 0 &&
           edf_set_equipment(h, "cuplab " CUPLAB_VERSION) == 0 &&
           edf_set_recording_additional(h, info) == 0;
}

/* The largest digital value of a sample: EDF 16 bits, BDF 24; the smallest
 * is -(max + 1), which marks a time without a value. */
#define EDF_DIGITAL_MAX 32767
#define BDF_DIGITAL_MAX 8388607
/* The header's physical minimum and maximum are 8 characters each. */
#define EDF_PHYSICAL_LOWEST -9999999.0
#define EDF_PHYSICAL_HIGHEST 99999999.0

/* A signal's scaling: the physical range [pmin, pmax] (whole units of the
 * export, which the header's 8 characters hold exactly, so that a reader
 * scales with the very numbers the samples were converted with) onto the
 * digital range [dmin, dmax]. */
typedef struct edf_scale {
    double pmin, pmax;
    int dmin, dmax;
} edf_scale;

static double edf_step(const edf_scale *sc)
{
    return (sc->pmax - sc->pmin) / ((double)sc->dmax - sc->dmin);
}

/* Cup c's scaling: the data's range with 1 % of it beyond each end (so that
 * the digital minimum is never a real reading), widened to whole units;
 * refused when half a digital step would exceed AN_EXPORT_PRECISION_MMHG. */
static int edf_range(const an_export *x, const xcup *c, edf_scale *sc, cl_error *err)
{
    bool bdf = x->fmt == AN_EXPORT_BDF;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->v[i])) {
            lo = fmin(lo, c->v[i]);
            hi = fmax(hi, c->v[i]);
        }
    if (!isfinite(lo))
        lo = 0, hi = 1;
    double pad = fmax((hi - lo) * 0.01, 1e-3);
    sc->pmin = floor(lo - pad);
    sc->pmax = ceil(hi + pad);
    sc->dmax = bdf ? BDF_DIGITAL_MAX : EDF_DIGITAL_MAX;
    sc->dmin = -sc->dmax - 1;
    const char *unit = cl_unit_name(x->unit);
    if (sc->pmin < EDF_PHYSICAL_LOWEST || sc->pmax > EDF_PHYSICAL_HIGHEST)
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: cup %s: its vacuum (%.6g to %.6g %s) does not fit the %s "
                            "header's 8 characters",
                            x->file, c->id, lo, hi, unit, bdf ? "BDF" : "EDF");
    double mmhg_per_unit = cl_unit_to_kpa(1, x->unit) / CL_KPA_PER_MMHG;
    if (edf_step(sc) / 2 * mmhg_per_unit > AN_EXPORT_PRECISION_MMHG) {
        double most = 2 * AN_EXPORT_PRECISION_MMHG * ((double)sc->dmax - sc->dmin);
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: cup %s: its vacuum spans %.6g mmHg with its margin, more than "
                            "the %d-bit samples of %s hold to %g mmHg (%.0f mmHg)%s",
                            x->file, c->id, (sc->pmax - sc->pmin) * mmhg_per_unit,
                            bdf ? 24 : 16, bdf ? "BDF" : "EDF", AN_EXPORT_PRECISION_MMHG, most,
                            bdf ? "" : ": export it as BDF (--export bdf)");
    }
    return CL_OK;
}

/* Physical values to the nearest digital step; no value: the minimum. */
static void edf_digitise(const edf_scale *sc, const double *v, size_t n, int *out)
{
    double step = edf_step(sc);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            out[i] = sc->dmin;
            continue;
        }
        double d = sc->dmin + round((v[i] - sc->pmin) / step);
        out[i] = (int)fmax(sc->dmin + 1, fmin(sc->dmax, d));
    }
}

/* Signal s of the file: cup c resampled at *fs per second into *buf (nrec
 * one-second records) of digital samples on the scaling sc. */
static bool edf_signal(const an_export *x, int h, int s, const xcup *c, const edf_scale *sc,
                       size_t nrec, int *fs, int **buf)
{
    *fs = (int)fmax(1, lround(isfinite(c->dt_s) && c->dt_s > 0 ? 1 / c->dt_s : 1));
    size_t total = (size_t)*fs * nrec;
    double *v = malloc(total * sizeof *v);
    bool ok = v && (*buf = malloc(total * sizeof **buf)) != NULL &&
              edf_set_samplefrequency(h, s, *fs) == 0 &&
              edf_set_physical_minimum(h, s, sc->pmin) == 0 &&
              edf_set_physical_maximum(h, s, sc->pmax) == 0 &&
              edf_set_digital_minimum(h, s, sc->dmin) == 0 &&
              edf_set_digital_maximum(h, s, sc->dmax) == 0 && edf_set_label(h, s, c->id) == 0 &&
              edf_set_physical_dimension(h, s, cl_unit_name(x->unit)) == 0;
    if (ok) {
        resample(c, *fs, total, v);
        edf_digitise(sc, v, total, *buf);
    }
    free(v);
    return ok;
}

/* Cup c's markers and phases as EDF+ annotations. */
static bool edf_annotations(int h, const xcup *c, double tend)
{
    char text[EDFLIB_MAX_ANNOTATION_LEN];
    bool ok = true;
    for (size_t i = 0; ok && i < c->nmk; i++) {
        snprintf(text, sizeof text, "%s %s%s%s", c->id, c->mk[i].kind,
                 c->mk[i].text[0] ? ": " : "", c->mk[i].text);
        ok = edf_annotate(h, c->mk[i].t_s, NAN, text) == 0;
    }
    for (size_t a = 0; ok && a < c->napps; a++) {
        const cl_segment_app *ap = &c->apps[a];
        double rel = isfinite(ap->release_start_s) ? ap->release_start_s : tend;
        snprintf(text, sizeof text, "%s evacuation", c->id);
        ok = edf_annotate(h, ap->onset_s, ap->hold_start_s - ap->onset_s, text) == 0;
        snprintf(text, sizeof text, "%s hold", c->id);
        ok = ok && edf_annotate(h, ap->hold_start_s, rel - ap->hold_start_s, text) == 0;
        snprintf(text, sizeof text, "%s release", c->id);
        ok = ok && (!ap->released || edf_annotate(h, ap->release_start_s,
                                                  ap->release_end_s - ap->release_start_s,
                                                  text) == 0);
    }
    return ok;
}

/* Everything into the open EDF/BDF file h: header, one signal per cup with
 * a series (nsig of them, scaled by sc[], the last ending at tend), the
 * records, the annotations. */
static bool edf_write(const an_export *x, int h, size_t nsig, const edf_scale *sc, double tend)
{
    size_t nrec = (size_t)ceil(tend + 1e-9);
    if (nrec == 0)
        nrec = 1;
    size_t nmk = 0;
    int *fs = calloc(nsig, sizeof *fs);
    const xcup **sig = calloc(nsig, sizeof *sig);
    int **buf = calloc(nsig, sizeof *buf);
    bool ok = fs && sig && buf && edf_header(x, h);
    for (size_t k = 0, s = 0; ok && k < x->ncups; k++) {
        const xcup *c = &x->cups[k];
        if (!c->n)
            continue;
        nmk += c->nmk + 3 * c->napps;
        sig[s] = c;
        ok = edf_signal(x, h, (int)s, c, &sc[s], nrec, &fs[s], &buf[s]);
        s++;
    }
    /* Room for every annotation: one annotation signal holds a few per record. */
    int asig = (int)fmin(64, ceil((double)(nmk + 1) / (double)nrec) + 1);
    ok = ok && edf_set_number_of_annotation_signals(h, asig) == 0;
    for (size_t r = 0; ok && r < nrec; r++)
        for (size_t s = 0; ok && s < nsig; s++)
            ok = edfwrite_digital_samples(h, buf[s] + r * (size_t)fs[s]) == 0;
    for (size_t s = 0; ok && s < nsig; s++)
        ok = edf_annotations(h, sig[s], tend);
    for (size_t s = 0; buf && s < nsig; s++)
        free(buf[s]);
    free(buf);
    free(sig);
    free(fs);
    return ok;
}

static int edf_session(an_export *x, cl_error *err)
{
    bool bdf = x->fmt == AN_EXPORT_BDF;
    const char *kind = bdf ? "BDF" : "EDF";
    char path[4096];
    size_t nsig = 0;
    double tend = 0;
    for (size_t k = 0; k < x->ncups; k++)
        if (x->cups[k].n) {
            nsig++;
            tend = fmax(tend, x->cups[k].t[x->cups[k].n - 1]);
        }
    if (nsig == 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: no calibrated series to export", x->file);
    edf_scale *sc = calloc(nsig, sizeof *sc);
    if (!sc)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", x->file);
    int rc = CL_OK;
    for (size_t k = 0, s = 0; rc == CL_OK && k < x->ncups; k++)
        if (x->cups[k].n)
            rc = edf_range(x, &x->cups[k], &sc[s++], err);
    if (rc != CL_OK) {
        free(sc);
        return rc;
    }
    if (x->dir)
        snprintf(path, sizeof path, "%s/%s.%s", x->path, x->stem, bdf ? "bdf" : "edf");
    else
        snprintf(path, sizeof path, "%s", x->path);
    struct stat st;
    if (x->dir && stat(path, &st) == 0 && !x->force) {
        free(sc);
        return cl_output_exists(err, path);
    }
    char *tmp = tmp_name(path);
    if (!tmp) {
        free(sc);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    unlink(tmp);
    int h = edfopen_file_writeonly(tmp, bdf ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS,
                                   (int)nsig);
    if (h < 0) {
        free(sc);
        free(tmp);
        return cl_error_set(err, CL_ERR_IO, "%s: cannot create the %s file (EDFlib error %d)",
                            path, kind, h);
    }
    bool ok = edf_write(x, h, nsig, sc, tend);
    free(sc);
    int closed = edfclose_file(h);
    if (!ok || closed != 0)
        rc = cl_error_set(err, CL_ERR_IO, "%s: cannot write the %s file", path, kind);
    else if (rename(tmp, path) != 0)
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: cannot put in place: %s", path,
                          strerror(errno));
    if (rc != CL_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ */

int an_export_session_end(an_export *x, cl_error *err)
{
    int rc = x->fmt == AN_EXPORT_CSV ? (x->wide ? csv_wide(x, err) : csv_long(x))
             : x->fmt == AN_EXPORT_MAT ? mat_session(x, err)
                                       : edf_session(x, err);
    if (rc == CL_OK && x->csv && ferror(x->csv))
        rc = cl_error_set(err, CL_ERR_IO, "%s: cannot write: %s", x->path, strerror(errno));
    if (rc == CL_OK)
        x->sessions++;
    drop_cups(x);
    return rc;
}

int an_export_close(an_export *x, cl_error *err)
{
    int rc = CL_OK;
    if (!x)
        return CL_OK;
    if (x->sessions == 0 && !edf_like(x->fmt)) {
        an_export_abort(x);
        return cl_error_set(err, CL_ERR_ARG, "no session exported: nothing written");
    }
    if (x->mat && (rc = mat_write(x, err)) == CL_OK && Mat_Close(x->mat) != 0)
        rc = cl_error_set(err, CL_ERR_IO, "%s: cannot write the MATLAB file", x->path);
    x->mat = NULL;
    if (x->csv) {
        if ((fflush(x->csv) != 0 || fsync(fileno(x->csv)) != 0) && rc == CL_OK)
            rc = cl_error_set(err, cl_error_from_errno(errno), "%s: cannot write: %s", x->path,
                              strerror(errno));
        if (fclose(x->csv) != 0 && rc == CL_OK)
            rc = cl_error_set(err, CL_ERR_IO, "%s: cannot write: %s", x->path, strerror(errno));
        x->csv = NULL;
    }
    if (rc == CL_OK && x->tmp && rename(x->tmp, x->path) != 0)
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: cannot put in place: %s",
                          x->path, strerror(errno));
    if (rc == CL_OK && x->tmp) {
        free(x->tmp);
        x->tmp = NULL; /* in place: not to be removed */
    }
    an_export_abort(x);
    return rc;
}
