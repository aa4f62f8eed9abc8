/*
 * cl_cohort: sessions reduced to metrics and normalised curves, grouped by
 * metadata and compared (see cl_cohort.h for what is computed).
 *
 * Layout.  The cohort keeps every session it was given (file name, the
 * session's metadata and its cups, fixed-size records).  A comparison builds
 * groups (one per combination of levels of the grouping fields, sorted in
 * natural order of the second level then the first) and observations (a
 * session within a group: the indexes of its cups there).  Everything the
 * tables need is computed once in cl_cohort_compare() and kept in plain
 * arrays, so writing the tables and drawing the figures only read them.
 */
#include "cohort/cl_cohort.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cl_profile.h"
#include "cohort/cl_stats.h"

#define NP CL_COHORT_POINTS
#define PACK_MAGIC 0x43484f52u /* "CHOR" */
#define ABS_GRID 201           /* points of the absolute-time grid of a distance */

/* ------------------------------------------------------------------ fields */

static const char *const field_names[CL_FIELD_COUNT] = {
    "practitioner", "subject", "technique", "site", "material", "size", "cup_set", "cup"};

const char *cl_cohort_field_name(cl_cohort_field f)
{
    return (unsigned)f < CL_FIELD_COUNT ? field_names[f] : NULL;
}

int cl_cohort_field_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < CL_FIELD_COUNT; i++)
        if (!strcasecmp(name, field_names[i]))
            return i;
    if (!strcasecmp(name, "cup-set"))
        return CL_FIELD_CUP_SET;
    if (!strcasecmp(name, "body_site") || !strcasecmp(name, "body-site"))
        return CL_FIELD_SITE;
    return -1;
}

const char *cl_cohort_field_names(void)
{
    return "practitioner, subject, technique, site, material, size, cup_set, cup";
}

static bool session_field(cl_cohort_field f)
{
    return f == CL_FIELD_PRACTITIONER || f == CL_FIELD_SUBJECT || f == CL_FIELD_TECHNIQUE;
}

/* The level of field f for cup k of session s ("" when not recorded). */
static const char *level_of(const cl_cohort_session *s, size_t k, cl_cohort_field f)
{
    const cl_cohort_cup *c = &s->cups[k];
    switch (f) {
    case CL_FIELD_PRACTITIONER:
        return s->practitioner;
    case CL_FIELD_SUBJECT:
        return s->subject;
    case CL_FIELD_TECHNIQUE:
        return s->technique;
    case CL_FIELD_SITE:
        return c->site[0] ? c->site : s->site;
    case CL_FIELD_MATERIAL:
        return c->material;
    case CL_FIELD_SIZE:
        return c->size;
    case CL_FIELD_CUP_SET:
        return c->cup_set;
    case CL_FIELD_CUP:
        return c->cup_id;
    case CL_FIELD_COUNT:
        break;
    }
    return "";
}

/* ------------------------------------------------------------ one session */

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Vacuum of the trace at time t, linearly interpolated (NaN outside). */
static double trace_at(const cl_cup_trace *tr, double t)
{
    size_t lo = 0, hi = tr->n;
    while (lo < hi) { /* first sample with time > t */
        size_t mid = lo + (hi - lo) / 2;
        if (tr->t_s[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || lo == tr->n)
        return NAN;
    double t0 = tr->t_s[lo - 1], t1 = tr->t_s[lo];
    double v0 = tr->vac_kpa[lo - 1], v1 = tr->vac_kpa[lo];
    return t1 > t0 ? v0 + (v1 - v0) * (t - t0) / (t1 - t0) : v0;
}

/* The trace between t0 and t1 as NP points: each the mean of the finite
 * samples nearest to it (within half a step), else interpolated. */
static void normalise(const cl_cup_trace *tr, double t0, double t1, double *curve)
{
    double sum[NP] = {0}, span = t1 - t0;
    size_t cnt[NP] = {0};
    for (size_t i = 0; i < tr->n; i++) {
        double t = tr->t_s[i], v = tr->vac_kpa[i];
        if (t < t0 || t > t1 || !isfinite(v))
            continue;
        long b = lround((t - t0) / span * (NP - 1));
        if (b >= 0 && b < NP) {
            sum[b] += v;
            cnt[b]++;
        }
    }
    for (int b = 0; b < NP; b++)
        curve[b] = cnt[b] ? sum[b] / (double)cnt[b] : trace_at(tr, t0 + span * b / (NP - 1));
}

/* Reduce one analysed cup. */
static int reduce_cup(const cl_cup_result *res, const cl_cup_trace *tr,
                      const cl_session_cup *info, cl_cohort_cup *c, cl_error *err)
{
    cl_stat st[CL_STAT_COUNT];
    memset(c, 0, sizeof *c);
    copy_str(c->cup_id, sizeof c->cup_id, res->cup_id);
    copy_str(c->site, sizeof c->site, res->site);
    copy_str(c->cup_set, sizeof c->cup_set, res->cup_set);
    copy_str(c->material, sizeof c->material, info ? info->material : NULL);
    copy_str(c->size, sizeof c->size, info ? info->size : NULL);
    c->flags = res->flags;
    c->cal = res->cal;
    c->applied = res->applied;
    int rc = cl_analysis_stats(res, 1, st, err); /* the pipeline's own metric rules */
    if (rc != CL_OK)
        return rc;
    for (int m = 0; m < CL_STAT_COUNT; m++)
        c->value[m] = st[m].n ? st[m].mean : NAN;
    c->span_s = NAN;
    for (int i = 0; i < NP; i++)
        c->curve[i] = NAN;
    double t0 = res->app.onset_s, t1 = res->app.release_start_s;
    if (res->applied && res->app.released && res->cal != CL_CAL_NONE && tr && tr->n > 1 &&
        tr->vac_kpa && t1 > t0) {
        c->span_s = t1 - t0;
        normalise(tr, t0, t1, c->curve);
    }
    return CL_OK;
}

static const char *status_name(cl_session_status s)
{
    return s == CL_SESSION_COMPLETE      ? "complete"
           : s == CL_SESSION_INTERRUPTED ? "interrupted"
                                         : "recording";
}

int cl_cohort_read(const char *path, const cl_analysis_options *o, cl_cohort_session *out,
                   cl_error *err)
{
    cl_analysis *a = NULL;
    cl_cup_trace *tr = NULL;
    cl_cup_result res;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = cl_analysis_open(&a, path, o, err)) != CL_OK)
        return rc;
    cl_session_reader *r = cl_analysis_reader(a);
    copy_str(out->uuid, sizeof out->uuid, cl_session_attr(r, "session_uuid"));
    copy_str(out->status, sizeof out->status, status_name(cl_session_reader_status(r)));
    copy_str(out->practitioner, sizeof out->practitioner, cl_session_attr(r, "practitioner"));
    copy_str(out->subject, sizeof out->subject, cl_session_attr(r, "subject"));
    copy_str(out->technique, sizeof out->technique, cl_session_attr(r, "technique"));
    copy_str(out->site, sizeof out->site, cl_session_attr(r, "site"));
    size_t n = cl_analysis_cup_count(a);
    out->cups = calloc(n ? n : 1, sizeof *out->cups);
    if (!out->cups) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        if ((rc = cl_analysis_cup(a, k, &res, &tr, err)) != CL_OK ||
            (rc = reduce_cup(&res, tr, cl_session_cup_info(r, k), &out->cups[k], err)) != CL_OK)
            goto out;
        cl_cup_trace_free(tr);
        tr = NULL;
        out->ncups++;
    }
out:
    cl_cup_trace_free(tr);
    cl_analysis_close(a);
    if (rc != CL_OK)
        cl_cohort_session_release(out);
    return rc;
}

void cl_cohort_session_release(cl_cohort_session *s)
{
    if (!s)
        return;
    free(s->cups);
    memset(s, 0, sizeof *s);
}

/* Packed: magic, the session record (its pointer meaningless), the cups. */
typedef struct pack_head {
    uint32_t magic;
    uint32_t version;
    cl_cohort_session s;
} pack_head;

int cl_cohort_session_pack(const cl_cohort_session *s, void **buf, size_t *len, cl_error *err)
{
    size_t n = sizeof(pack_head) + s->ncups * sizeof(cl_cohort_cup);
    unsigned char *b = malloc(n);
    *buf = NULL;
    *len = 0;
    if (!b)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    pack_head h = {PACK_MAGIC, CL_COHORT_VERSION, *s};
    h.s.cups = NULL;
    memcpy(b, &h, sizeof h);
    if (s->ncups)
        memcpy(b + sizeof h, s->cups, s->ncups * sizeof(cl_cohort_cup));
    *buf = b;
    *len = n;
    return CL_OK;
}

#define TERMINATE(a) ((a)[sizeof(a) - 1] = '\0')

int cl_cohort_session_unpack(const void *buf, size_t len, cl_cohort_session *out, cl_error *err)
{
    pack_head h;
    memset(out, 0, sizeof *out);
    if (len < sizeof h)
        return cl_error_set(err, CL_ERR_FORMAT, "packed session: %zu bytes, too short", len);
    memcpy(&h, buf, sizeof h);
    if (h.magic != PACK_MAGIC || h.version != CL_COHORT_VERSION ||
        h.s.ncups > (len - sizeof h) / sizeof(cl_cohort_cup) ||
        len != sizeof h + h.s.ncups * sizeof(cl_cohort_cup))
        return cl_error_set(err, CL_ERR_FORMAT, "packed session: bad header or length");
    *out = h.s;
    out->cups = calloc(h.s.ncups ? h.s.ncups : 1, sizeof *out->cups);
    if (!out->cups) {
        out->ncups = 0;
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    if (h.s.ncups)
        memcpy(out->cups, (const unsigned char *)buf + sizeof h,
               h.s.ncups * sizeof(cl_cohort_cup));
    TERMINATE(out->uuid);
    TERMINATE(out->status);
    TERMINATE(out->practitioner);
    TERMINATE(out->subject);
    TERMINATE(out->technique);
    TERMINATE(out->site);
    for (size_t k = 0; k < out->ncups; k++) {
        cl_cohort_cup *c = &out->cups[k];
        TERMINATE(c->cup_id);
        TERMINATE(c->site);
        TERMINATE(c->material);
        TERMINATE(c->size);
        TERMINATE(c->cup_set);
    }
    return CL_OK;
}

/* ----------------------------------------------------------------- target */

void cl_cohort_target_release(cl_cohort_target *t)
{
    if (!t)
        return;
    free(t->x);
    free(t->v_kpa);
    memset(t, 0, sizeof *t);
}

/* "600", "600s", "10min", "1h" -> seconds. */
static bool parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return false;
    while (*end == ' ')
        end++;
    if (!strcmp(end, "min"))
        v *= 60;
    else if (!strcmp(end, "h"))
        v *= 3600;
    else if (*end && strcmp(end, "s"))
        return false;
    *out = v;
    return true;
}

/* Field i (0-based) of a comma-separated line, trimmed, into buf. */
static bool csv_field(const char *line, size_t i, char *buf, size_t cap)
{
    for (; i > 0; i--) {
        line = strchr(line, ',');
        if (!line)
            return false;
        line++;
    }
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strcspn(line, ",\r\n");
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), line);
    return true;
}

/* Header columns: time (t_s, t_min, u) and vacuum with its unit. */
static int target_header(const char *path, const char *line, size_t *tc, double *tscale,
                         bool *normalised, size_t *vc, cl_unit *vu, cl_error *err)
{
    char name[96];
    *tc = *vc = (size_t)-1;
    for (size_t i = 0; csv_field(line, i, name, sizeof name); i++) {
        if (!strcasecmp(name, "t_s") || !strcasecmp(name, "t_min") || !strcasecmp(name, "u")) {
            *tc = i;
            *normalised = !strcasecmp(name, "u");
            *tscale = !strcasecmp(name, "t_min") ? 60 : 1;
            continue;
        }
        const char *us = strchr(name, '_');
        size_t stem = us ? (size_t)(us - name) : strlen(name);
        if ((stem == 6 && !strncasecmp(name, "vacuum", 6)) ||
            (stem == 8 && !strncasecmp(name, "pressure", 8)) ||
            (stem == 1 && !strncasecmp(name, "p", 1))) {
            if (!us)
                return cl_error_set(err, CL_ERR_ARG,
                                    "%s: column '%s' has no unit: name it %.*s_mmHg, %.*s_kPa, "
                                    "... (%s)",
                                    path, name, (int)stem, name, (int)stem, name,
                                    cl_unit_names());
            if (!(*vu = cl_unit_from_name(us + 1)))
                return cl_error_set(err, CL_ERR_ARG,
                                    "%s: unknown unit '%s' in column '%s' (%s)", path, us + 1,
                                    name, cl_unit_names());
            *vc = i;
        }
    }
    if (*tc == (size_t)-1 || *vc == (size_t)-1)
        return cl_error_set(err, CL_ERR_FORMAT,
                            "%s: the header needs a time column (t_s, t_min or u) and a vacuum "
                            "column with its unit (vacuum_mmHg, vacuum_kPa, ...)",
                            path);
    return CL_OK;
}

static int target_csv(const char *path, cl_cohort_target *t, cl_error *err)
{
    char *text = NULL, buf[96];
    size_t tc = 0, vc = 0, cap = 0, lineno = 0;
    double tscale = 1;
    bool normalised = false, header = false;
    cl_unit vu = CL_UNIT_KPA;
    int rc;

    if (access(path, F_OK) != 0)
        return cl_error_set(err, CL_ERR_NOTFOUND, "%s: no such target file", path);
    if ((rc = cl_profile_read_file(path, &text, err)) != CL_OK)
        return rc;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == '\0' || *line == '\r')
            continue;
        if (!header) {
            if ((rc = target_header(path, line, &tc, &tscale, &normalised, &vc, &vu, err)) !=
                CL_OK)
                goto out;
            header = true;
            continue;
        }
        double x, v;
        char *e1, *e2, vb[96];
        if (!csv_field(line, tc, buf, sizeof buf) || !csv_field(line, vc, vb, sizeof vb) ||
            (x = strtod(buf, &e1), e1 == buf || *e1) ||
            (v = strtod(vb, &e2), e2 == vb || *e2) || !isfinite(x) || !isfinite(v)) {
            rc = cl_error_set(err, CL_ERR_FORMAT, "%s:%zu: expected two numbers", path, lineno);
            goto out;
        }
        x *= tscale;
        if ((t->n && x <= t->x[t->n - 1]) || x < 0 || (normalised && x > 1)) {
            rc =
                cl_error_set(err, CL_ERR_FORMAT, "%s:%zu: time %g %s", path, lineno, x,
                             normalised ? "must increase within 0..1" : "must increase from 0");
            goto out;
        }
        if (t->n == cap) {
            cap = cap ? 2 * cap : 64;
            double *nx = realloc(t->x, cap * sizeof *nx), *nv;
            if (nx)
                t->x = nx;
            nv = nx ? realloc(t->v_kpa, cap * sizeof *nv) : NULL;
            if (!nv) {
                rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
                goto out;
            }
            t->v_kpa = nv;
        }
        t->x[t->n] = x;
        t->v_kpa[t->n++] = fabs(cl_unit_to_kpa(v, vu));
    }
    if (t->n < 2) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: a target curve needs at least 2 points",
                          path);
        goto out;
    }
    t->kind = normalised ? CL_TARGET_CURVE_U : CL_TARGET_CURVE_T;
    copy_str(t->label, sizeof t->label, path);
out:
    free(text);
    return rc;
}

int cl_cohort_target_parse(const char *spec, cl_unit unit, cl_cohort_target *out, cl_error *err)
{
    char p[96];
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return cl_error_set(err, CL_ERR_ARG, "empty target");
    size_t len = strlen(spec);
    if (strchr(spec, '/') || (len > 4 && !strcasecmp(spec + len - 4, ".csv")) ||
        access(spec, F_OK) == 0) {
        int rc = target_csv(spec, out, err);
        if (rc != CL_OK)
            cl_cohort_target_release(out);
        return rc;
    }
    const char *colon = strchr(spec, ':');
    size_t pl = colon ? (size_t)(colon - spec) : len;
    if (pl == 0 || pl >= sizeof p)
        return cl_error_set(err, CL_ERR_FORMAT, "target '%s': expected VACUUM[:DURATION]",
                            spec);
    memcpy(p, spec, pl);
    p[pl] = '\0';
    cl_error e2;
    int rc = cl_unit_parse_kpa(p, unit, &out->vacuum_kpa, &e2);
    if (rc != CL_OK)
        return cl_error_set(err, rc, "target '%s': %s", spec, e2.msg);
    out->vacuum_kpa = fabs(out->vacuum_kpa);
    out->kind = CL_TARGET_LEVEL;
    if (colon) {
        if (!parse_duration(colon + 1, &out->duration_s))
            return cl_error_set(err, CL_ERR_FORMAT,
                                "target '%s': duration '%s' (seconds, or with s, min or h)",
                                spec, colon + 1);
        out->kind = CL_TARGET_HOLD;
    }
    copy_str(out->label, sizeof out->label, spec);
    return CL_OK;
}

/* Linear interpolation of the curve at x; 0 outside it (cup off). */
static double curve_at(const double *xs, const double *vs, size_t n, double x)
{
    if (n == 0 || x < xs[0] || x > xs[n - 1])
        return 0;
    size_t i = 1;
    while (i < n - 1 && xs[i] < x)
        i++;
    double f = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return vs[i - 1] + f * (vs[i] - vs[i - 1]);
}

double cl_cohort_target_at(const cl_cohort_target *t, double u, double span_s)
{
    if (!t)
        return NAN;
    switch (t->kind) {
    case CL_TARGET_LEVEL:
        return t->vacuum_kpa;
    case CL_TARGET_HOLD:
        return u * span_s <= t->duration_s ? t->vacuum_kpa : 0;
    case CL_TARGET_CURVE_T:
        return curve_at(t->x, t->v_kpa, t->n, u * span_s);
    case CL_TARGET_CURVE_U:
        return curve_at(t->x, t->v_kpa, t->n, u);
    case CL_TARGET_NONE:
        break;
    }
    return NAN;
}

/* The target at absolute time t since the onset. */
static double target_abs(const cl_cohort_target *t, double ts)
{
    if (t->kind == CL_TARGET_HOLD)
        return ts <= t->duration_s ? t->vacuum_kpa : 0;
    return curve_at(t->x, t->v_kpa, t->n, ts);
}

/* A normalised curve stretched over span_s, at absolute time ts (0 after). */
static double profile_abs(const double *curve, double span_s, double ts)
{
    if (ts > span_s)
        return 0;
    double x = ts / span_s * (NP - 1);
    size_t i = (size_t)x;
    if (i >= NP - 1)
        return curve[NP - 1];
    return curve[i] + (x - (double)i) * (curve[i + 1] - curve[i]);
}

/* RMS distance of a group profile to the target: in normalised time for a
 * level or a u-curve, else in absolute time over [0, max(end of the target,
 * span)] on ABS_GRID points. */
static double target_rms(const cl_cohort_target *t, const double *mean, double span_s)
{
    double ss = 0;
    if (t->kind == CL_TARGET_LEVEL || t->kind == CL_TARGET_CURVE_U) {
        for (int i = 0; i < NP; i++) {
            double d = mean[i] - cl_cohort_target_at(t, (double)i / (NP - 1), span_s);
            ss += d * d;
        }
        return sqrt(ss / NP);
    }
    double end = t->kind == CL_TARGET_HOLD ? t->duration_s : t->x[t->n - 1];
    end = fmax(end, span_s);
    for (int i = 0; i < ABS_GRID; i++) {
        double ts = end * i / (ABS_GRID - 1);
        double d = profile_abs(mean, span_s, ts) - target_abs(t, ts);
        ss += d * d;
    }
    return sqrt(ss / ABS_GRID);
}

/* ----------------------------------------------------------------- cohort */

typedef struct entry {
    char *file;
    cl_cohort_session s;
} entry;

/* A session within a group: the indexes of its cups there. */
typedef struct obs {
    size_t session, group;
    size_t first, count; /* into cohort.obs_cup */
    double value[CL_STAT_COUNT];
    double span_s;
    double curve[NP];
    bool has_curve;
} obs;

typedef struct repeat {
    size_t sites, sessions;
    bool icc_ok;
    cl_stats_icc icc;
    char note[160];
} repeat;

typedef struct group {
    char *level[2];
    char *label;
    size_t stratum, orig;
    size_t *obs, nobs;
    double *values[CL_STAT_COUNT]; /* finite session values */
    size_t nval[CL_STAT_COUNT], ncups[CL_STAT_COUNT];
    cl_stats_desc desc[CL_STAT_COUNT];
    repeat rep[CL_STAT_COUNT];
    size_t prof_n;
    double span_s, mean[NP], lo[NP], hi[NP], rms_target;
} group;

/* The omnibus tests whose p-values are adjusted across the metrics of a
 * stratum (the family), in the order of family_p(). */
enum { FAM_WELCH, FAM_KW, FAM_BLOCK, FAM_FRIEDMAN, FAMILY_TESTS };

typedef struct test_row {
    size_t stratum, k, n;
    int metric;
    bool an_ok, kw_ok, bf_ok;
    cl_stats_anova an;
    cl_stats_kruskal kw;
    double bf_f, bf_df1, bf_df2, bf_p;
    size_t nfew;   /* groups left out (fewer than 2 sessions) ... */
    char few[160]; /* ... named */
    char note[200];
    /* blocked by subject over the same groups */
    size_t subjects, crossed, complete, nblock; /* nblock: values with a subject */
    bool ba_ok, fr_ok;
    cl_stats_blocked ba;
    cl_stats_friedman fr;
    char bnote[240];
    double adj[FAMILY_TESTS][2]; /* across the metrics of the stratum: Holm, BH */
} test_row;

typedef struct pair_row {
    size_t stratum, a, b;
    int metric;
    bool ok;
    cl_stats_ttest t;
    double p_holm;
} pair_row;

typedef struct dist_row {
    size_t a, b;
    double rms;
} dist_row;

struct cl_cohort {
    entry *e;
    size_t ne, cape;
    /* results of the last comparison */
    cl_cohort_params p;
    group *g;
    size_t ng;
    char **stratum;
    size_t nstrata;
    obs *o;
    size_t no;
    size_t *obs_cup;
    size_t nobs_cup;
    test_row *tests;
    size_t ntests;
    pair_row *pairs;
    size_t npairs;
    dist_row *dist;
    size_t ndist;
    long closest;
    char **notes;
    size_t nnotes;
    const char *pooled_v[32]; /* techniques pooled within groups (the sessions' strings) */
    size_t npooled;
    char pooled[512]; /* ... as "fire, pump" */
};

cl_cohort *cl_cohort_new(void)
{
    cl_cohort *c = calloc(1, sizeof *c);
    if (c)
        c->closest = -1;
    return c;
}

static void results_free(cl_cohort *c)
{
    for (size_t i = 0; i < c->ng; i++) {
        group *g = &c->g[i];
        free(g->level[0]);
        free(g->level[1]);
        free(g->label);
        free(g->obs);
        for (int m = 0; m < CL_STAT_COUNT; m++)
            free(g->values[m]);
    }
    for (size_t i = 0; i < c->nstrata; i++)
        free(c->stratum[i]);
    for (size_t i = 0; i < c->nnotes; i++)
        free(c->notes[i]);
    free(c->g);
    free(c->stratum);
    free(c->o);
    free(c->obs_cup);
    free(c->tests);
    free(c->pairs);
    free(c->dist);
    free(c->notes);
    c->g = NULL;
    c->stratum = NULL;
    c->o = NULL;
    c->obs_cup = NULL;
    c->tests = NULL;
    c->pairs = NULL;
    c->dist = NULL;
    c->notes = NULL;
    c->ng = c->nstrata = c->no = c->nobs_cup = c->ntests = c->npairs = c->ndist = 0;
    c->nnotes = 0;
    c->closest = -1;
    c->npooled = 0;
    c->pooled[0] = '\0';
}

void cl_cohort_free(cl_cohort *c)
{
    if (!c)
        return;
    results_free(c);
    for (size_t i = 0; i < c->ne; i++) {
        free(c->e[i].file);
        cl_cohort_session_release(&c->e[i].s);
    }
    free(c->e);
    free(c);
}

int cl_cohort_add(cl_cohort *c, const char *file, cl_cohort_session *s, cl_error *err)
{
    if (c->ne == c->cape) {
        size_t cap = c->cape ? 2 * c->cape : 64;
        entry *e = realloc(c->e, cap * sizeof *e);
        if (!e) {
            cl_cohort_session_release(s);
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        }
        c->e = e;
        c->cape = cap;
    }
    char *f = strdup(file ? file : "");
    if (!f) {
        cl_cohort_session_release(s);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    c->e[c->ne++] = (entry){f, *s};
    memset(s, 0, sizeof *s);
    return CL_OK;
}

size_t cl_cohort_session_count(const cl_cohort *c)
{
    return c->ne;
}

static int note(cl_cohort *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a note; CL_ERR_NOMEM if it cannot be kept. */
static int note(cl_cohort *c, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **n = realloc(c->notes, (c->nnotes + 1) * sizeof *n);
    if (!n)
        return CL_ERR_NOMEM;
    c->notes = n;
    if (!(n[c->nnotes] = strdup(buf)))
        return CL_ERR_NOMEM;
    c->nnotes++;
    return CL_OK;
}

size_t cl_cohort_note_count(const cl_cohort *c)
{
    return c->nnotes;
}
const char *cl_cohort_note(const cl_cohort *c, size_t i)
{
    return i < c->nnotes ? c->notes[i] : "";
}

/* Grow *v (elements of size sz) to hold n + 1; false on failure. */
static bool grow(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? 2 * *cap : 16;
    void *p = realloc(*v, nc * sz);
    if (!p)
        return false;
    *v = p;
    *cap = nc;
    return true;
}

/* A list of names for a note: the first few, then "and N more". */
typedef struct namelist {
    char text[400];
    size_t n;
} namelist;

static void namelist_add(namelist *l, const char *name)
{
    size_t len = strlen(l->text);
    if (l->n < 6 && len + strlen(name) + 3 < sizeof l->text)
        snprintf(l->text + len, sizeof l->text - len, "%s%s", l->n ? ", " : "", name);
    l->n++;
}

static const char *namelist_text(namelist *l, char *buf, size_t cap)
{
    if (l->n > 6)
        snprintf(buf, cap, "%.400s and %zu more", l->text, l->n - 6);
    else
        snprintf(buf, cap, "%.400s", l->text);
    return buf;
}

/* Index of the group with these levels, created if new; -1 on failure. */
static long find_group(cl_cohort *c, size_t *capg, const char *l0, const char *l1)
{
    for (size_t i = 0; i < c->ng; i++)
        if (!strcmp(c->g[i].level[0], l0) && !strcmp(c->g[i].level[1], l1))
            return (long)i;
    if (!grow((void **)&c->g, capg, c->ng, sizeof *c->g))
        return -1;
    group *g = &c->g[c->ng];
    memset(g, 0, sizeof *g);
    g->level[0] = strdup(l0);
    g->level[1] = strdup(l1);
    size_t ll = strlen(l0) + strlen(l1) + 4;
    g->label = malloc(ll);
    g->orig = c->ng;
    c->ng++; /* counted now so that results_free releases what was made */
    if (!g->level[0] || !g->level[1] || !g->label)
        return -1;
    snprintf(g->label, ll, "%s%s%s", l0, *l1 ? " / " : "", l1);
    return (long)(c->ng - 1);
}

/* Append observation (session si, group gi) with the cups pend_k[j] whose
 * pend_g[j] is gi. */
static int add_obs(cl_cohort *c, size_t *capo, size_t *capc, size_t si, size_t gi,
                   const size_t *pend_k, const size_t *pend_g, size_t np)
{
    if (!grow((void **)&c->o, capo, c->no, sizeof *c->o))
        return CL_ERR_NOMEM;
    obs *o = &c->o[c->no++];
    memset(o, 0, sizeof *o);
    o->session = si;
    o->group = gi;
    o->first = c->nobs_cup;
    for (size_t j = 0; j < np; j++) {
        if (pend_g[j] != gi)
            continue;
        if (!grow((void **)&c->obs_cup, capc, c->nobs_cup, sizeof *c->obs_cup))
            return CL_ERR_NOMEM;
        c->obs_cup[c->nobs_cup++] = pend_k[j];
        o->count++;
    }
    return CL_OK;
}

/* Build groups and observations from the sessions. */
static int build_groups(cl_cohort *c, cl_error *err)
{
    const cl_cohort_params *p = &c->p;
    size_t capg = 0, capo = 0, capc = 0, *pend = NULL;
    namelist missing[2] = {{{0}, 0}, {{0}, 0}}, notransfer = {{0}, 0};
    size_t nominal = 0, calibrated = 0;
    char buf[512];
    int rc = CL_OK;

    for (size_t si = 0; si < c->ne && rc == CL_OK; si++) {
        const cl_cohort_session *s = &c->e[si].s;
        bool miss[2] = {false, false}, raw_only = false;
        size_t np = 0, *pk, *pg;
        free(pend);
        if (!(pend = malloc(2 * (s->ncups ? s->ncups : 1) * sizeof *pend))) {
            rc = CL_ERR_NOMEM;
            break;
        }
        pk = pend;
        pg = pend + (s->ncups ? s->ncups : 1);
        for (size_t k = 0; k < s->ncups; k++) {
            const cl_cohort_cup *cup = &s->cups[k];
            if (cup->cal == CL_CAL_NONE) {
                raw_only = true;
                continue;
            }
            if (!cup->applied)
                continue;
            const char *lv[2] = {"", ""};
            bool ok = true;
            for (size_t f = 0; f < p->nfields; f++) {
                lv[f] = level_of(s, k, p->field[f]);
                if (!*lv[f]) {
                    miss[f] = true;
                    ok = false;
                }
            }
            if (!ok)
                continue;
            long gi = find_group(c, &capg, lv[0], lv[1]);
            if (gi < 0) {
                rc = CL_ERR_NOMEM;
                break;
            }
            pk[np] = k;
            pg[np++] = (size_t)gi;
            if (cup->cal == CL_CAL_NOMINAL)
                nominal++;
            else
                calibrated++;
        }
        /* One observation per group the session has cups in, in order of
         * first appearance, its cups contiguous in obs_cup. */
        for (size_t i = 0; i < np && rc == CL_OK; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = pg[j] == pg[i];
            if (!seen)
                rc = add_obs(c, &capo, &capc, si, pg[i], pk, pg, np);
        }
        for (size_t f = 0; f < p->nfields; f++)
            if (miss[f])
                namelist_add(&missing[f], c->e[si].file);
        if (raw_only)
            namelist_add(&notransfer, c->e[si].file);
    }
    free(pend);
    for (size_t f = 0; f < p->nfields && rc == CL_OK; f++)
        if (missing[f].n)
            rc = note(c, "%zu session%s without %s %s (cups left out): %s", missing[f].n,
                      missing[f].n == 1 ? "" : "s", session_field(p->field[f]) ? "a" : "a cup",
                      cl_cohort_field_name(p->field[f]),
                      namelist_text(&missing[f], buf, sizeof buf));
    if (rc == CL_OK && notransfer.n)
        rc = note(c,
                  "%zu session%s with cups in raw counts only (no sensor profile and no ADC "
                  "resolution: no pressure to compare; those cups left out): %s",
                  notransfer.n, notransfer.n == 1 ? "" : "s",
                  namelist_text(&notransfer, buf, sizeof buf));
    if (rc == CL_OK && nominal && calibrated)
        rc =
            note(c,
                 "%zu of %zu cups are uncalibrated (nominal sensor transfer, gain within about "
                 "3 %%) and the others calibrated: differences of that size may be the "
                 "sensors'",
                 nominal, nominal + calibrated);
    return rc == CL_OK ? CL_OK : cl_error_set(err, rc, "out of memory");
}

static int cmp_name(const void *a, const void *b)
{
    return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_group(const void *a, const void *b)
{
    const group *x = a, *y = b;
    int r = strverscmp(x->level[1], y->level[1]);
    return r ? r : strverscmp(x->level[0], y->level[0]);
}

/* Sort the groups, renumber the observations, collect the strata. */
static int order_groups(cl_cohort *c, cl_error *err)
{
    size_t *map = malloc((c->ng ? c->ng : 1) * sizeof *map);
    if (!map)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    qsort(c->g, c->ng, sizeof *c->g, cmp_group);
    for (size_t i = 0; i < c->ng; i++)
        map[c->g[i].orig] = i;
    for (size_t i = 0; i < c->no; i++)
        c->o[i].group = map[c->o[i].group];
    free(map);
    c->stratum = calloc(c->ng ? c->ng : 1, sizeof *c->stratum);
    if (!c->stratum)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->ng; i++) {
        group *g = &c->g[i];
        if (!c->nstrata || strcmp(c->stratum[c->nstrata - 1], g->level[1])) {
            if (!(c->stratum[c->nstrata] = strdup(g->level[1])))
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            c->nstrata++;
        }
        g->stratum = c->nstrata - 1;
        g->obs = malloc((c->no ? c->no : 1) * sizeof *g->obs);
        if (!g->obs)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->no; i++) {
        group *g = &c->g[c->o[i].group];
        g->obs[g->nobs++] = i;
    }
    return CL_OK;
}

/* Per observation: the mean of its cups' values and curves. */
static void observe(cl_cohort *c)
{
    for (size_t i = 0; i < c->no; i++) {
        obs *o = &c->o[i];
        const cl_cohort_session *s = &c->e[o->session].s;
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            double sum = 0;
            size_t n = 0;
            for (size_t j = 0; j < o->count; j++) {
                double v = s->cups[c->obs_cup[o->first + j]].value[m];
                if (isfinite(v)) {
                    sum += v;
                    n++;
                }
            }
            o->value[m] = n ? sum / (double)n : NAN;
        }
        double span = 0, sum[NP] = {0};
        size_t n = 0;
        for (size_t j = 0; j < o->count; j++) {
            const cl_cohort_cup *cup = &s->cups[c->obs_cup[o->first + j]];
            if (!isfinite(cup->span_s))
                continue;
            span += cup->span_s;
            for (int k = 0; k < NP; k++)
                sum[k] += cup->curve[k];
            n++;
        }
        o->has_curve = n > 0;
        o->span_s = n ? span / (double)n : NAN;
        for (int k = 0; k < NP; k++)
            o->curve[k] = n ? sum[k] / (double)n : NAN;
    }
}

/* Per group: descriptive statistics of every metric. */
static int describe_groups(cl_cohort *c, cl_error *err)
{
    for (size_t gi = 0; gi < c->ng; gi++) {
        group *g = &c->g[gi];
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            g->values[m] = malloc((g->nobs ? g->nobs : 1) * sizeof(double));
            if (!g->values[m])
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            for (size_t j = 0; j < g->nobs; j++) {
                const obs *o = &c->o[g->obs[j]];
                const cl_cohort_session *s = &c->e[o->session].s;
                if (isfinite(o->value[m]))
                    g->values[m][g->nval[m]++] = o->value[m];
                for (size_t k = 0; k < o->count; k++)
                    g->ncups[m] += isfinite(s->cups[c->obs_cup[o->first + k]].value[m]);
            }
            int rc = cl_stats_describe(g->values[m], 1, g->nval[m], &g->desc[m], err);
            if (rc != CL_OK)
                return rc;
        }
    }
    return CL_OK;
}

/* Index of subject `name` in subj[0..*n), appended if new. */
static size_t subject_index(const char **subj, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(subj[i], name))
            return i;
    subj[*n] = name;
    return (*n)++;
}

/* Scratch of blocked(): one entry per value, then per subject x group. */
typedef struct block_scratch {
    double *y, *cell;
    size_t *grp, *blk, *cnt;
    const char **subj;
} block_scratch;

static void block_scratch_free(block_scratch *b)
{
    free(b->y);
    free(b->cell);
    free(b->grp);
    free(b->blk);
    free(b->cnt);
    free(b->subj);
}

/* The blocked tests of row t over the groups gidx[0..k): the sessions'
 * subjects are the blocks.  The ANOVA takes every session value with a
 * subject; Friedman the subjects with a value in every group, each cell the
 * mean of the subject's session values in the group. */
static int blocked(cl_cohort *c, test_row *t, const size_t *gidx, size_t k, cl_error *err)
{
    int m = t->metric;
    size_t nv = 0, ns = 0, nosubj = 0, nf = 0;
    block_scratch b;
    int rc = CL_OK;

    t->ba.f = t->ba.p = t->ba.df_group = t->ba.df_resid = NAN;
    t->fr.chi2 = t->fr.p = t->fr.df = t->fr.w = NAN;
    for (size_t i = 0; i < k; i++)
        nv += c->g[gidx[i]].nobs;
    memset(&b, 0, sizeof b);
    b.y = malloc((nv ? nv : 1) * sizeof *b.y);
    b.grp = malloc((nv ? nv : 1) * sizeof *b.grp);
    b.blk = malloc((nv ? nv : 1) * sizeof *b.blk);
    b.subj = malloc((nv ? nv : 1) * sizeof *b.subj);
    if (!b.y || !b.grp || !b.blk || !b.subj) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    nv = 0;
    for (size_t i = 0; i < k; i++) {
        const group *g = &c->g[gidx[i]];
        for (size_t j = 0; j < g->nobs; j++) {
            const obs *o = &c->o[g->obs[j]];
            const char *sj = c->e[o->session].s.subject;
            if (!isfinite(o->value[m]))
                continue;
            if (!*sj) {
                nosubj++;
                continue;
            }
            b.y[nv] = o->value[m];
            b.grp[nv] = i;
            b.blk[nv++] = subject_index(b.subj, &ns, sj);
        }
    }
    t->nblock = nv;
    t->subjects = ns;
    b.cell = calloc((ns ? ns : 1) * k, sizeof *b.cell);
    b.cnt = calloc((ns ? ns : 1) * k, sizeof *b.cnt);
    if (!b.cell || !b.cnt) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nv; i++) {
        b.cell[b.blk[i] * k + b.grp[i]] += b.y[i];
        b.cnt[b.blk[i] * k + b.grp[i]]++;
    }
    /* Friedman's rows: the complete subjects' cell means, packed. */
    for (size_t sj = 0; sj < ns; sj++) {
        size_t in = 0;
        for (size_t i = 0; i < k; i++)
            in += b.cnt[sj * k + i] > 0;
        t->crossed += in >= 2;
        if (in < k)
            continue;
        for (size_t i = 0; i < k; i++)
            b.cell[nf * k + i] = b.cell[sj * k + i] / (double)b.cnt[sj * k + i];
        nf++;
    }
    t->complete = nf;
    char *bn = t->bnote;
    size_t cap = sizeof t->bnote;
#define BNOTE(...) snprintf(bn + strlen(bn), cap - strlen(bn), __VA_ARGS__)
    if (nosubj)
        BNOTE("%zu session%s without a subject left out", nosubj, nosubj == 1 ? "" : "s");
    if (!t->crossed) {
        BNOTE("%sdo not apply: %s", *bn ? "; " : "",
              ns ? "every subject is in one group only" : "no session records a subject");
        goto out;
    }
    cl_error e2;
    t->ba_ok = cl_stats_block_anova(b.y, 1, b.grp, b.blk, nv, k, ns, &t->ba, &e2) == CL_OK;
    if (!t->ba_ok)
        BNOTE("%s%s", *bn ? "; " : "", e2.msg);
    if (nf < ns)
        BNOTE("%sFriedman: %zu of %zu subjects not in every group left out", *bn ? "; " : "",
              ns - nf, ns);
    t->fr_ok = cl_stats_friedman_test(b.cell, nf, k, k, &t->fr, &e2) == CL_OK;
    if (!t->fr_ok)
        BNOTE("%s%s", *bn ? "; " : "", e2.msg);
#undef BNOTE
out:
    block_scratch_free(&b);
    return rc;
}

/* test_stratum() with scratch room for every group: smp, gidx. */
static int test_groups(cl_cohort *c, size_t st, int m, size_t *capt, size_t *capp,
                       cl_stats_sample *smp, size_t *gidx, cl_error *err)
{
    size_t k = 0;
    namelist few = {{0}, 0};
    char buf[512];

    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        if (g->stratum != st)
            continue;
        if (g->nval[m] < 2) {
            char item[CL_COHORT_STR + 40];
            snprintf(item, sizeof item, "%s (%zu)", g->level[0], g->nval[m]);
            namelist_add(&few, item);
            continue;
        }
        gidx[k] = gi;
        smp[k++] = (cl_stats_sample){g->values[m], 1, g->nval[m]};
    }
    if (!grow((void **)&c->tests, capt, c->ntests, sizeof *c->tests))
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    test_row *t = &c->tests[c->ntests++];
    memset(t, 0, sizeof *t);
    t->stratum = st;
    t->metric = m;
    t->k = k;
    t->an.f = t->an.p = t->an.eta2 = t->an.omega2 = t->an.f_classic = t->an.p_classic = NAN;
    t->an.df1 = t->an.df2 = NAN;
    t->kw.h = t->kw.p = t->kw.df = t->kw.epsilon2 = NAN;
    t->bf_f = t->bf_df1 = t->bf_df2 = t->bf_p = NAN;
    for (int f = 0; f < FAMILY_TESTS; f++)
        t->adj[f][0] = t->adj[f][1] = NAN;
    for (size_t i = 0; i < k; i++)
        t->n += smp[i].n;
    if (few.n) {
        snprintf(t->note, sizeof t->note, "left out, fewer than 2 sessions: %.160s",
                 namelist_text(&few, buf, sizeof buf));
        snprintf(t->few, sizeof t->few, "%.150s", namelist_text(&few, buf, sizeof buf));
        t->nfew = few.n;
    }
    if (k < 2) {
        if (!few.n)
            snprintf(t->note, sizeof t->note, "fewer than 2 groups");
        return CL_OK;
    }
    cl_error e2;
    int rc = blocked(c, t, gidx, k, err);
    if (rc != CL_OK)
        return rc;
    t->an_ok = cl_stats_welch_anova(smp, k, &t->an, &e2) == CL_OK;
    if (!t->an_ok) /* a group without variance: Kruskal-Wallis still applies */
        snprintf(t->note + strlen(t->note), sizeof t->note - strlen(t->note), "%s%s",
                 t->note[0] ? "; " : "", e2.msg);
    t->kw_ok = cl_stats_kruskal_wallis(smp, k, &t->kw, &e2) == CL_OK;
    t->bf_ok = cl_stats_brown_forsythe(smp, k, &t->bf_f, &t->bf_df1, &t->bf_df2, &t->bf_p,
                                       &e2) == CL_OK;

    size_t first = c->npairs;
    for (size_t a = 0; a < k; a++)
        for (size_t b = a + 1; b < k; b++) {
            if (!grow((void **)&c->pairs, capp, c->npairs, sizeof *c->pairs))
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            pair_row *pr = &c->pairs[c->npairs++];
            memset(pr, 0, sizeof *pr);
            pr->stratum = st;
            pr->metric = m;
            pr->a = gidx[a];
            pr->b = gidx[b];
            pr->ok = cl_stats_welch_t(&smp[a], &smp[b], &pr->t, &e2) == CL_OK;
            if (!pr->ok)
                pr->t.p = NAN;
        }
    size_t np = c->npairs - first;
    double *p = malloc(np * sizeof *p), *adj = malloc(np * sizeof *adj);
    if (!p || !adj) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < np; i++)
            p[i] = c->pairs[first + i].t.p;
        rc = cl_stats_holm(p, 1, np, adj, err);
        for (size_t i = 0; rc == CL_OK && i < np; i++)
            c->pairs[first + i].p_holm = adj[i];
    }
    free(p);
    free(adj);
    return rc;
}

/* Tests and pairwise comparisons of one stratum and metric. */
static int test_stratum(cl_cohort *c, size_t st, int m, size_t *capt, size_t *capp,
                        cl_error *err)
{
    cl_stats_sample *smp = malloc((c->ng ? c->ng : 1) * sizeof *smp);
    size_t *gidx = malloc((c->ng ? c->ng : 1) * sizeof *gidx);
    int rc = smp && gidx ? test_groups(c, st, m, capt, capp, smp, gidx, err)
                         : cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    free(smp);
    free(gidx);
    return rc;
}

/* p-value of omnibus test f of row t (NaN when not computed). */
static double family_p(const test_row *t, int f)
{
    switch (f) {
    case FAM_WELCH:
        return t->an_ok ? t->an.p : NAN;
    case FAM_KW:
        return t->kw_ok ? t->kw.p : NAN;
    case FAM_BLOCK:
        return t->ba_ok ? t->ba.p : NAN;
    default:
        return t->fr_ok ? t->fr.p : NAN;
    }
}

/* Holm and Benjamini-Hochberg across the metrics: for each stratum and
 * omnibus test, the family is that test's p-values over the metrics. */
static int adjust_families(cl_cohort *c, cl_error *err)
{
    double *p = malloc((c->ntests ? c->ntests : 1) * sizeof *p);
    double *a = malloc((c->ntests ? c->ntests : 1) * sizeof *a);
    size_t *row = malloc((c->ntests ? c->ntests : 1) * sizeof *row);
    int rc = p && a && row ? CL_OK : cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t st = 0; rc == CL_OK && st < c->nstrata; st++) {
        size_t n = 0;
        for (size_t i = 0; i < c->ntests; i++)
            if (c->tests[i].stratum == st)
                row[n++] = i;
        for (int f = 0; rc == CL_OK && f < FAMILY_TESTS; f++)
            for (int how = 0; rc == CL_OK && how < 2; how++) {
                for (size_t i = 0; i < n; i++)
                    p[i] = family_p(&c->tests[row[i]], f);
                rc = how ? cl_stats_bh(p, 1, n, a, err) : cl_stats_holm(p, 1, n, a, err);
                for (size_t i = 0; rc == CL_OK && i < n; i++)
                    c->tests[row[i]].adj[f][how] = a[i];
            }
    }
    free(p);
    free(a);
    free(row);
    return rc;
}

/* One note per stratum and set of groups left out, naming the metrics. */
static int note_left_out(cl_cohort *c)
{
    for (size_t i = 0; i < c->ntests; i++) {
        const test_row *t = &c->tests[i];
        bool first = t->nfew > 0;
        for (size_t j = 0; first && j < i; j++)
            first = !(c->tests[j].stratum == t->stratum && !strcmp(c->tests[j].few, t->few));
        if (!first)
            continue;
        namelist metrics = {{0}, 0};
        char buf[512];
        for (size_t j = i; j < c->ntests; j++)
            if (c->tests[j].stratum == t->stratum && !strcmp(c->tests[j].few, t->few))
                namelist_add(&metrics, cl_stat_metric_name((cl_stat_metric)c->tests[j].metric));
        const char *where = c->stratum[t->stratum];
        if (note(c,
                 "%s%s%s %s left out of the tests of %s (fewer than 2 sessions with a value)",
                 *where ? where : "", *where ? ": " : "", t->nfew == 1 ? "group" : "groups",
                 t->few, namelist_text(&metrics, buf, sizeof buf)) != CL_OK)
            return CL_ERR_NOMEM;
    }
    return CL_OK;
}

/* When no row has a subject in two of its groups, one note says so. */
static int note_blocks(cl_cohort *c)
{
    size_t subjects = 0;
    for (size_t i = 0; i < c->ntests; i++) {
        if (c->tests[i].crossed)
            return CL_OK;
        subjects += c->tests[i].subjects;
    }
    if (!subjects)
        return CL_OK;
    return note(c, "every subject is in one group only: the blocked tests (subject as a "
                   "block) do not apply");
}

/* The techniques pooled within a group when technique is not a grouping
 * field: every technique of a group that has sessions of two or more. */
static void pooled(cl_cohort *c)
{
    namelist all = {{0}, 0};
    c->pooled[0] = '\0';
    for (size_t f = 0; f < c->p.nfields; f++)
        if (c->p.field[f] == CL_FIELD_TECHNIQUE)
            return;
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        const char *first = NULL;
        bool mixed = false;
        for (size_t j = 0; j < g->nobs && !mixed; j++) {
            const char *tq = c->e[c->o[g->obs[j]].session].s.technique;
            if (!first)
                first = tq;
            mixed = strcmp(first, tq) != 0;
        }
        if (!mixed)
            continue;
        for (size_t j = 0; j < g->nobs; j++) {
            const char *tq = c->e[c->o[g->obs[j]].session].s.technique;
            bool seen = false;
            for (size_t i = 0; i < c->npooled && !seen; i++)
                seen = !strcmp(c->pooled_v[i], tq);
            if (!seen && c->npooled < sizeof c->pooled_v / sizeof c->pooled_v[0])
                c->pooled_v[c->npooled++] = tq;
        }
    }
    qsort(c->pooled_v, c->npooled, sizeof c->pooled_v[0], cmp_name);
    for (size_t i = 0; i < c->npooled; i++)
        namelist_add(&all, *c->pooled_v[i] ? c->pooled_v[i] : "(none)");
    namelist_text(&all, c->pooled, sizeof c->pooled);
}

const char *cl_cohort_pooled_techniques(const cl_cohort *c)
{
    return c->pooled;
}

/* Site key of a cup for repeatability: its site, else its id. */
static const char *site_key(const cl_cohort_session *s, size_t k)
{
    const cl_cohort_cup *c = &s->cups[k];
    return c->site[0] ? c->site : c->cup_id;
}

/* Value of metric m at site `key` in observation o (mean over its cups
 * there); NaN if none. */
static double obs_site_value(const cl_cohort *c, const obs *o, const char *key, int m)
{
    const cl_cohort_session *s = &c->e[o->session].s;
    double sum = 0;
    size_t n = 0;
    for (size_t j = 0; j < o->count; j++) {
        size_t k = c->obs_cup[o->first + j];
        double v = s->cups[k].value[m];
        if (!strcmp(site_key(s, k), key) && isfinite(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / (double)n : NAN;
}

/* Repeatability of group g for metric m: ICC(2,1) over the sites present in
 * every session of the group (targets) by those sessions (raters). */
static int repeatability(cl_cohort *c, group *g, int m, cl_error *err)
{
    repeat *r = &g->rep[m];
    const char **sites = NULL;
    double *y = NULL;
    size_t nsites = 0, ns = 0;
    int rc = CL_OK;

    memset(r, 0, sizeof *r);
    /* Sessions with a value of the metric are the raters. */
    size_t *raters = malloc((g->nobs ? g->nobs : 1) * sizeof *raters);
    if (!raters)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < g->nobs; j++)
        if (isfinite(c->o[g->obs[j]].value[m]))
            raters[ns++] = g->obs[j];
    r->sessions = ns;
    if (ns < 2) {
        snprintf(r->note, sizeof r->note, "fewer than 2 sessions");
        goto out;
    }
    /* Candidate sites: those of the first session; kept if every session
     * has a value there. */
    const obs *o0 = &c->o[raters[0]];
    const cl_cohort_session *s0 = &c->e[o0->session].s;
    sites = malloc((o0->count ? o0->count : 1) * sizeof *sites);
    if (!sites) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < o0->count; j++) {
        const char *key = site_key(s0, c->obs_cup[o0->first + j]);
        bool dup = false, all = true;
        for (size_t i = 0; i < nsites; i++)
            dup |= !strcmp(sites[i], key);
        for (size_t i = 0; !dup && all && i < ns; i++)
            all = isfinite(obs_site_value(c, &c->o[raters[i]], key, m));
        if (!dup && all)
            sites[nsites++] = key;
    }
    r->sites = nsites;
    if (nsites < 2) {
        snprintf(r->note, sizeof r->note, "fewer than 2 sites in every session");
        goto out;
    }
    y = malloc(nsites * ns * sizeof *y);
    if (!y) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nsites; i++)
        for (size_t j = 0; j < ns; j++)
            y[i * ns + j] = obs_site_value(c, &c->o[raters[j]], sites[i], m);
    cl_error e2;
    r->icc_ok = cl_stats_icc21(y, nsites, ns, ns, &r->icc, &e2) == CL_OK;
    if (!r->icc_ok)
        snprintf(r->note, sizeof r->note, "%.150s", e2.msg);
out:
    free(y);
    free(sites);
    free(raters);
    return rc;
}

/* Mean profile of each group, its band and the distance to the target. */
static int profiles(cl_cohort *c, cl_error *err)
{
    double best = INFINITY;
    for (size_t gi = 0; gi < c->ng; gi++) {
        group *g = &c->g[gi];
        double *curves = malloc((g->nobs ? g->nobs : 1) * NP * sizeof *curves);
        double span = 0;
        if (!curves)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        g->prof_n = 0;
        for (size_t j = 0; j < g->nobs; j++) {
            const obs *o = &c->o[g->obs[j]];
            if (!o->has_curve)
                continue;
            memcpy(curves + g->prof_n * NP, o->curve, sizeof o->curve);
            span += o->span_s;
            g->prof_n++;
        }
        g->span_s = g->prof_n ? span / (double)g->prof_n : NAN;
        g->rms_target = NAN;
        int rc = CL_OK;
        for (int k = 0; k < NP && rc == CL_OK; k++) {
            double half;
            rc = cl_stats_mean_ci(curves + k, NP, g->prof_n, &g->mean[k], &half, err);
            g->lo[k] = g->mean[k] - half;
            g->hi[k] = g->mean[k] + half;
        }
        free(curves);
        if (rc != CL_OK)
            return rc;
        if (c->p.target && c->p.target->kind != CL_TARGET_NONE && g->prof_n) {
            g->rms_target = target_rms(c->p.target, g->mean, g->span_s);
            if (g->rms_target < best) {
                best = g->rms_target;
                c->closest = (long)gi;
            }
        }
    }
    size_t cap = 0;
    for (size_t a = 0; a < c->ng; a++)
        for (size_t b = a + 1; b < c->ng; b++) {
            if (!c->g[a].prof_n || !c->g[b].prof_n)
                continue;
            if (!grow((void **)&c->dist, &cap, c->ndist, sizeof *c->dist))
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            double ss = 0;
            for (int k = 0; k < NP; k++)
                ss += (c->g[a].mean[k] - c->g[b].mean[k]) * (c->g[a].mean[k] - c->g[b].mean[k]);
            c->dist[c->ndist++] = (dist_row){a, b, sqrt(ss / NP)};
        }
    return CL_OK;
}

/* The fields the sessions do have, for the message when none has the ones
 * asked for. */
static void fields_present(const cl_cohort *c, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int f = 0; f < CL_FIELD_COUNT; f++) {
        bool any = false;
        for (size_t i = 0; i < c->ne && !any; i++)
            for (size_t k = 0; k < c->e[i].s.ncups && !any; k++)
                any = *level_of(&c->e[i].s, k, (cl_cohort_field)f) != '\0';
        if (any && len < cap)
            len +=
                (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", field_names[f]);
    }
    if (!len)
        snprintf(buf, cap, "none");
}

int cl_cohort_compare(cl_cohort *c, const cl_cohort_params *p, cl_error *err)
{
    size_t capt = 0, capp = 0;
    int rc;
    results_free(c);
    if (!p || p->nfields < 1 || p->nfields > 2)
        return cl_error_set(err, CL_ERR_ARG, "group by one or two fields");
    for (size_t f = 0; f < p->nfields; f++)
        if ((unsigned)p->field[f] >= CL_FIELD_COUNT)
            return cl_error_set(err, CL_ERR_ARG, "unknown grouping field");
    if (p->nfields == 2 && p->field[0] == p->field[1])
        return cl_error_set(err, CL_ERR_ARG, "the two grouping fields are the same");
    c->p = *p;
    if ((rc = build_groups(c, err)) != CL_OK)
        return rc;
    if (c->ng == 0) {
        char have[256];
        fields_present(c, have, sizeof have);
        return cl_error_set(err, CL_ERR_ARG,
                            "no applied cup of the %zu session%s has %s%s%s (fields recorded: "
                            "%s)",
                            c->ne, c->ne == 1 ? "" : "s", field_names[p->field[0]],
                            p->nfields == 2 ? " and " : "",
                            p->nfields == 2 ? field_names[p->field[1]] : "", have);
    }
    if ((rc = order_groups(c, err)) != CL_OK)
        return rc;
    observe(c);
    if ((rc = describe_groups(c, err)) != CL_OK)
        return rc;
    for (size_t st = 0; st < c->nstrata; st++)
        for (int m = 0; m < CL_STAT_COUNT; m++)
            if (p->metric[m] && (rc = test_stratum(c, st, m, &capt, &capp, err)) != CL_OK)
                return rc;
    if ((rc = adjust_families(c, err)) != CL_OK)
        return rc;
    if (note_left_out(c) != CL_OK || note_blocks(c) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    pooled(c);
    for (size_t gi = 0; gi < c->ng; gi++)
        for (int m = 0; m < CL_STAT_COUNT; m++)
            if (p->metric[m] && (rc = repeatability(c, &c->g[gi], m, err)) != CL_OK)
                return rc;
    return profiles(c, err);
}

/* ---------------------------------------------------------- figure arrays */

size_t cl_cohort_group_count(const cl_cohort *c)
{
    return c->ng;
}

const char *cl_cohort_group_label(const cl_cohort *c, size_t g)
{
    return g < c->ng ? c->g[g].label : "";
}

size_t cl_cohort_group_values(const cl_cohort *c, size_t g, cl_stat_metric m, const double **x)
{
    *x = NULL;
    if (g >= c->ng || (unsigned)m >= CL_STAT_COUNT)
        return 0;
    *x = c->g[g].values[m];
    return c->g[g].nval[m];
}

void cl_cohort_group_profile(const cl_cohort *c, size_t g, cl_cohort_profile *out)
{
    memset(out, 0, sizeof *out);
    out->span_s = out->rms_target_kpa = NAN;
    if (g >= c->ng)
        return;
    const group *gr = &c->g[g];
    *out =
        (cl_cohort_profile){gr->prof_n, gr->span_s, gr->mean, gr->lo, gr->hi, gr->rms_target};
}

long cl_cohort_closest(const cl_cohort *c)
{
    return c->closest;
}

const cl_cohort_target *cl_cohort_target_of(const cl_cohort *c)
{
    return c->p.target && c->p.target->kind != CL_TARGET_NONE ? c->p.target : NULL;
}

/* ----------------------------------------------------------------- tables */

static const char *const table_names[CL_COHORT_TABLE_COUNT] = {
    "groups",        "tests",    "blocked",   "pairwise",
    "repeatability", "profiles", "distances", "sessions"};

static const char *const table_titles[CL_COHORT_TABLE_COUNT] = {
    "per group: session values of each metric",
    "between groups: Welch ANOVA, Kruskal-Wallis, Brown-Forsythe; Holm and BH across the "
    "metrics",
    "between groups, subjects as blocks: two-way ANOVA (group after subject), Friedman; Holm "
    "and BH across the metrics",
    "pairs of groups: Welch t, Holm-adjusted p, Hedges' g",
    "within groups: repeatability across sessions, ICC(2,1) sites x sessions",
    "time-normalised profiles (onset -> release)",
    "RMS distance between group profiles (normalised time)",
    "per session within its group: the values compared"};

const char *cl_cohort_table_name(cl_cohort_table_id id)
{
    return (unsigned)id < CL_COHORT_TABLE_COUNT ? table_names[id] : NULL;
}

int cl_cohort_table_from_name(const char *name)
{
    for (int i = 0; name && i < CL_COHORT_TABLE_COUNT; i++)
        if (!strcmp(name, table_names[i]))
            return i;
    return -1;
}

/* Unit of metric m in the pressure unit u ("" for counts). */
static const char *metric_unit(int m, cl_unit u, char *buf, size_t cap)
{
    const char *name = cl_stat_metric_name((cl_stat_metric)m), *un = cl_unit_name(u);
    size_t len = strlen(name);
    switch (cl_stat_metric_dimension((cl_stat_metric)m)) {
    case 1:
        snprintf(buf, cap, "%s", un);
        break;
    case 2:
        snprintf(buf, cap, "%s/min", un);
        break;
    case 3:
        snprintf(buf, cap, "%s*min", un);
        break;
    default:
        snprintf(buf, cap, "%s", len > 2 && !strcmp(name + len - 2, "_s") ? "s" : "");
        break;
    }
    return buf;
}

/* A value of metric m in kPa-based units converted to u. */
static double conv(int m, cl_unit u, double v)
{
    return cl_stat_metric_dimension((cl_stat_metric)m) ? cl_unit_from_kpa(v, u) : v;
}

/* A table under construction: columns added by name, cells by name. */
typedef struct tb {
    cl_table *t;
    char names[40][48];
    size_t n;
    int rc;
} tb;

static void col(tb *b, const char *name, const char *unit, int prec)
{
    if (b->rc == CL_OK && b->n == sizeof b->names / sizeof b->names[0])
        b->rc = CL_ERR_ARG;
    if (b->rc == CL_OK)
        b->rc = cl_table_add_column(b->t, name, unit, prec);
    if (b->rc == CL_OK)
        snprintf(b->names[b->n++], sizeof b->names[0], "%s", name);
}

/* Columns names[0..n) without unit. */
static void cols(tb *b, const char *const *names, size_t n, int prec)
{
    for (size_t i = 0; i < n; i++)
        col(b, names[i], NULL, prec);
}

static size_t col_index(const tb *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->names[i], name))
            return i;
    return (size_t)-1;
}

static void num(tb *b, const char *name, double v)
{
    if (b->rc == CL_OK)
        b->rc = cl_table_set_num(b->t, col_index(b, name), v);
}

static void str(tb *b, const char *name, const char *s)
{
    if (b->rc == CL_OK)
        b->rc = cl_table_set_str(b->t, col_index(b, name), s);
}

static void row(tb *b)
{
    if (b->rc == CL_OK)
        b->rc = cl_table_add_row(b->t);
}

/* Columns naming a group: one per grouping field, named after it (plus
 * `suffix`). */
static void group_cols(const cl_cohort *c, tb *b, const char *suffix)
{
    char name[48];
    for (size_t f = 0; f < c->p.nfields; f++) {
        snprintf(name, sizeof name, "%s%s", field_names[c->p.field[f]], suffix);
        col(b, name, NULL, 0);
    }
}

static void group_cells(const cl_cohort *c, tb *b, const group *g, const char *suffix)
{
    char name[48];
    for (size_t f = 0; f < c->p.nfields; f++) {
        snprintf(name, sizeof name, "%s%s", field_names[c->p.field[f]], suffix);
        str(b, name, g->level[f]);
    }
}

static bool grouped_by(const cl_cohort *c, cl_cohort_field f)
{
    for (size_t i = 0; i < c->p.nfields; i++)
        if (c->p.field[i] == f)
            return true;
    return false;
}

/* The stratum column (two fields: the second field, named after it). */
static const char *stratum_col(const cl_cohort *c)
{
    return c->p.nfields == 2 ? field_names[c->p.field[1]] : NULL;
}

static void table_groups(const cl_cohort *c, tb *b, cl_unit u)
{
    static const char *const head[] = {"metric", "unit", "sessions", "cups", "n"};
    static const char *const stat[] = {"mean", "sd",  "cv",  "median", "q1",
                                       "q3",   "iqr", "min", "max"};
    char un[32];
    group_cols(c, b, "");
    cols(b, head, sizeof head / sizeof head[0], 0);
    cols(b, stat, sizeof stat / sizeof stat[0], 4);
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            if (!c->p.metric[m])
                continue;
            const cl_stats_desc *d = &g->desc[m];
            row(b);
            group_cells(c, b, g, "");
            str(b, "metric", cl_stat_metric_name((cl_stat_metric)m));
            str(b, "unit", metric_unit(m, u, un, sizeof un));
            num(b, "sessions", (double)g->nobs);
            num(b, "cups", (double)g->ncups[m]);
            num(b, "n", (double)d->n);
            double v[] = {d->mean, d->sd,  d->cv,  d->median, d->q1,
                          d->q3,   d->iqr, d->min, d->max};
            for (size_t i = 0; i < sizeof stat / sizeof stat[0]; i++)
                num(b, stat[i], i == 2 ? v[i] : conv(m, u, v[i])); /* cv is a ratio */
        }
    }
}

/* Columns of a table with one row per stratum and metric: the stratum,
 * `head` (counts), `nums` and a note. */
static void test_cols(const cl_cohort *c, tb *b, const char *const *head, size_t nh,
                      const char *const *nums, size_t nn)
{
    if (stratum_col(c))
        col(b, stratum_col(c), NULL, 0);
    cols(b, head, nh, 0);
    cols(b, nums, nn, 4);
    col(b, "note", NULL, 0);
}

/* A new row of such a table for test row t: its stratum and metric. */
static void test_row_start(const cl_cohort *c, tb *b, const test_row *t)
{
    row(b);
    if (stratum_col(c))
        str(b, stratum_col(c), c->stratum[t->stratum]);
    str(b, "metric", cl_stat_metric_name((cl_stat_metric)t->metric));
}

static void table_tests(const cl_cohort *c, tb *b)
{
    static const char *const head[] = {"metric", "groups", "n"};
    static const char *const nums[] = {
        "welch_f", "welch_df1", "welch_df2", "welch_p",  "welch_p_holm", "welch_p_bh",
        "anova_f", "anova_p",   "eta2",      "omega2",   "kw_h",         "kw_df",
        "kw_p",    "kw_p_holm", "kw_p_bh",   "epsilon2", "bf_f",         "bf_p"};
    test_cols(c, b, head, sizeof head / sizeof head[0], nums, sizeof nums / sizeof nums[0]);
    for (size_t i = 0; i < c->ntests; i++) {
        const test_row *t = &c->tests[i];
        test_row_start(c, b, t);
        num(b, "groups", (double)t->k);
        num(b, "n", (double)t->n);
        double v[] = {t->an_ok ? t->an.f : NAN,
                      t->an_ok ? t->an.df1 : NAN,
                      t->an_ok ? t->an.df2 : NAN,
                      family_p(t, FAM_WELCH),
                      t->adj[FAM_WELCH][0],
                      t->adj[FAM_WELCH][1],
                      t->an_ok ? t->an.f_classic : NAN,
                      t->an_ok ? t->an.p_classic : NAN,
                      t->an_ok ? t->an.eta2 : NAN,
                      t->an_ok ? t->an.omega2 : NAN,
                      t->kw_ok ? t->kw.h : NAN,
                      t->kw_ok ? t->kw.df : NAN,
                      family_p(t, FAM_KW),
                      t->adj[FAM_KW][0],
                      t->adj[FAM_KW][1],
                      t->kw_ok ? t->kw.epsilon2 : NAN,
                      t->bf_ok ? t->bf_f : NAN,
                      t->bf_ok ? t->bf_p : NAN};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            num(b, nums[k], v[k]);
        str(b, "note", t->note);
    }
}

static void table_blocked(const cl_cohort *c, tb *b)
{
    static const char *const head[] = {"metric",  "groups",   "subjects",
                                       "crossed", "complete", "n"};
    static const char *const nums[] = {"block_f",         "block_df1",     "block_df2",
                                       "block_p",         "block_p_holm",  "block_p_bh",
                                       "friedman_chi2",   "friedman_df",   "friedman_p",
                                       "friedman_p_holm", "friedman_p_bh", "kendall_w"};
    test_cols(c, b, head, sizeof head / sizeof head[0], nums, sizeof nums / sizeof nums[0]);
    for (size_t i = 0; i < c->ntests; i++) {
        const test_row *t = &c->tests[i];
        test_row_start(c, b, t);
        double h[] = {(double)t->k, (double)t->subjects, (double)t->crossed,
                      (double)t->complete, (double)t->nblock};
        for (size_t k = 1; k < sizeof head / sizeof head[0]; k++)
            num(b, head[k], h[k - 1]);
        double v[] = {t->ba_ok ? t->ba.f : NAN,
                      t->ba_ok ? t->ba.df_group : NAN,
                      t->ba_ok ? t->ba.df_resid : NAN,
                      family_p(t, FAM_BLOCK),
                      t->adj[FAM_BLOCK][0],
                      t->adj[FAM_BLOCK][1],
                      t->fr_ok ? t->fr.chi2 : NAN,
                      t->fr_ok ? t->fr.df : NAN,
                      family_p(t, FAM_FRIEDMAN),
                      t->adj[FAM_FRIEDMAN][0],
                      t->adj[FAM_FRIEDMAN][1],
                      t->fr_ok ? t->fr.w : NAN};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            num(b, nums[k], v[k]);
        str(b, "note", t->k < 2 ? t->note : t->bnote);
    }
}

static void table_pairs(const cl_cohort *c, tb *b, cl_unit u)
{
    char un[32];
    if (stratum_col(c))
        col(b, stratum_col(c), NULL, 0);
    static const char *const head[] = {"metric", "unit", "group_a", "group_b", "n_a", "n_b"};
    static const char *const nums[] = {"n_a",  "n_b",   "mean_a", "mean_b",
                                       "diff", "ci_lo", "ci_hi",  "t",
                                       "df",   "p",     "p_holm", "hedges_g"};
    cols(b, head, sizeof head / sizeof head[0], 0);
    cols(b, nums + 2, sizeof nums / sizeof nums[0] - 2, 4);
    for (size_t i = 0; i < c->npairs; i++) {
        const pair_row *p = &c->pairs[i];
        const cl_stats_ttest *t = &p->t;
        int m = p->metric;
        row(b);
        if (stratum_col(c))
            str(b, stratum_col(c), c->stratum[p->stratum]);
        str(b, "metric", cl_stat_metric_name((cl_stat_metric)m));
        str(b, "unit", metric_unit(m, u, un, sizeof un));
        str(b, "group_a", c->g[p->a].level[0]);
        str(b, "group_b", c->g[p->b].level[0]);
        double v[] = {(double)c->g[p->a].nval[m],
                      (double)c->g[p->b].nval[m],
                      conv(m, u, c->g[p->a].desc[m].mean),
                      conv(m, u, c->g[p->b].desc[m].mean),
                      p->ok ? conv(m, u, t->diff) : NAN,
                      p->ok ? conv(m, u, t->ci_lo) : NAN,
                      p->ok ? conv(m, u, t->ci_hi) : NAN,
                      p->ok ? t->t : NAN,
                      p->ok ? t->df : NAN,
                      p->ok ? t->p : NAN,
                      p->p_holm,
                      p->ok ? t->hedges_g : NAN};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            num(b, nums[k], v[k]);
    }
}

static void table_repeat(const cl_cohort *c, tb *b, cl_unit u)
{
    static const char *const head[] = {"metric", "unit", "sessions", "sites"};
    static const char *const nums[] = {"mean",   "cv_sessions", "icc", "icc_lo",
                                       "icc_hi", "icc_p",       "sem", "cv_within"};
    char un[32];
    group_cols(c, b, "");
    cols(b, head, sizeof head / sizeof head[0], 0);
    cols(b, nums, sizeof nums / sizeof nums[0], 4);
    col(b, "note", NULL, 0);
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            if (!c->p.metric[m])
                continue;
            const repeat *r = &g->rep[m];
            bool ok = r->icc_ok;
            row(b);
            group_cells(c, b, g, "");
            str(b, "metric", cl_stat_metric_name((cl_stat_metric)m));
            str(b, "unit", metric_unit(m, u, un, sizeof un));
            num(b, "sessions", (double)r->sessions);
            num(b, "sites", (double)r->sites);
            double v[] = {conv(m, u, g->desc[m].mean),
                          g->desc[m].cv,
                          ok ? r->icc.icc : NAN,
                          ok ? r->icc.lo : NAN,
                          ok ? r->icc.hi : NAN,
                          ok ? r->icc.p : NAN,
                          ok ? conv(m, u, r->icc.sem) : NAN,
                          ok ? r->icc.cv_within : NAN};
            for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
                num(b, nums[k], v[k]);
            str(b, "note", r->note);
        }
    }
}

static void table_profiles(const cl_cohort *c, tb *b, cl_unit u)
{
    const char *un = cl_unit_name(u);
    group_cols(c, b, "");
    col(b, "sessions", NULL, 0);
    col(b, "span_s", "s", 4);
    col(b, "mean_vacuum", un, 4);
    col(b, "band_halfwidth", un, 4);
    col(b, "rms_target", un, 4);
    col(b, "closest", NULL, 0);
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        double mean = 0, half = 0;
        size_t nh = 0;
        for (int k = 0; k < NP; k++) {
            mean += g->mean[k];
            if (isfinite(g->hi[k])) {
                half += (g->hi[k] - g->lo[k]) / 2;
                nh++;
            }
        }
        row(b);
        group_cells(c, b, g, "");
        num(b, "sessions", (double)g->prof_n);
        num(b, "span_s", g->span_s);
        num(b, "mean_vacuum", g->prof_n ? cl_unit_from_kpa(mean / NP, u) : NAN);
        num(b, "band_halfwidth", nh ? cl_unit_from_kpa(half / (double)nh, u) : NAN);
        num(b, "rms_target", cl_unit_from_kpa(g->rms_target, u));
        str(b, "closest", (long)gi == c->closest ? "yes" : "");
    }
}

static void table_distances(const cl_cohort *c, tb *b, cl_unit u)
{
    group_cols(c, b, "_a");
    group_cols(c, b, "_b");
    col(b, "rms", cl_unit_name(u), 4);
    for (size_t i = 0; i < c->ndist; i++) {
        row(b);
        group_cells(c, b, &c->g[c->dist[i].a], "_a");
        group_cells(c, b, &c->g[c->dist[i].b], "_b");
        num(b, "rms", cl_unit_from_kpa(c->dist[i].rms, u));
    }
}

static void table_sessions(const cl_cohort *c, tb *b, cl_unit u)
{
    char un[32];
    col(b, "file", NULL, 0);
    col(b, "session_uuid", NULL, 0);
    group_cols(c, b, "");
    bool subj = !grouped_by(c, CL_FIELD_SUBJECT);
    if (subj) /* the blocks of the blocked tests */
        col(b, "subject", NULL, 0);
    col(b, "cups", NULL, 0);
    for (int m = 0; m < CL_STAT_COUNT; m++)
        if (c->p.metric[m])
            col(b, cl_stat_metric_name((cl_stat_metric)m), metric_unit(m, u, un, sizeof un), 6);
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        for (size_t j = 0; j < g->nobs; j++) {
            const obs *o = &c->o[g->obs[j]];
            row(b);
            str(b, "file", c->e[o->session].file);
            str(b, "session_uuid", c->e[o->session].s.uuid);
            group_cells(c, b, g, "");
            if (subj)
                str(b, "subject", c->e[o->session].s.subject);
            num(b, "cups", (double)o->count);
            for (int m = 0; m < CL_STAT_COUNT; m++)
                if (c->p.metric[m])
                    num(b, cl_stat_metric_name((cl_stat_metric)m), conv(m, u, o->value[m]));
        }
    }
}

cl_table *cl_cohort_table(const cl_cohort *c, cl_cohort_table_id id, cl_unit u, cl_error *err)
{
    tb b;
    memset(&b, 0, sizeof b);
    b.t = cl_table_new();
    if (!b.t) {
        cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    switch (id) {
    case CL_COHORT_GROUPS:
        table_groups(c, &b, u);
        break;
    case CL_COHORT_TESTS:
        table_tests(c, &b);
        break;
    case CL_COHORT_BLOCKED:
        table_blocked(c, &b);
        break;
    case CL_COHORT_PAIRWISE:
        table_pairs(c, &b, u);
        break;
    case CL_COHORT_REPEATABILITY:
        table_repeat(c, &b, u);
        break;
    case CL_COHORT_PROFILES:
        table_profiles(c, &b, u);
        break;
    case CL_COHORT_DISTANCES:
        table_distances(c, &b, u);
        break;
    case CL_COHORT_SESSIONS:
        table_sessions(c, &b, u);
        break;
    default:
        b.rc = CL_ERR_ARG;
        break;
    }
    if (b.rc != CL_OK) {
        cl_error_set(err, b.rc, "cannot build the %s table: %s",
                     table_names[(unsigned)id < CL_COHORT_TABLE_COUNT ? id : 0],
                     cl_strerror(b.rc));
        cl_table_free(b.t);
        return NULL;
    }
    return b.t;
}

/* ----------------------------------------------------------------- writing */

static void closest_line(const cl_cohort *c, cl_unit u, char *buf, size_t cap)
{
    const cl_cohort_target *t = cl_cohort_target_of(c);
    buf[0] = '\0';
    if (!t)
        return;
    if (c->closest < 0) {
        snprintf(buf, cap, "closest to the target %s: none (no group has a profile)", t->label);
        return;
    }
    const group *g = &c->g[c->closest];
    snprintf(buf, cap, "closest to the target %s: %s (RMS %.3g %s over %zu session%s)",
             t->label, g->label, cl_unit_from_kpa(g->rms_target, u), cl_unit_name(u), g->prof_n,
             g->prof_n == 1 ? "" : "s");
}

static int write_json(const cl_cohort *c, FILE *out, cl_unit u, cl_error *err)
{
    char line[512];
    json_t *root = json_object(), *by = json_array(), *notes = json_array();
    int rc = CL_OK;
    if (!root || !by || !notes) {
        json_decref(by);
        json_decref(notes);
        json_decref(root);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    json_object_set_new(root, "format", json_string(CL_COHORT_FORMAT));
    json_object_set_new(root, "format_version", json_integer(CL_COHORT_VERSION));
    json_object_set_new(root, "software_version", json_string(CUPLAB_VERSION));
    json_object_set_new(root, "pressure_unit", json_string(cl_unit_name(u)));
    json_object_set_new(root, "vacuum_sign", json_string("positive below ambient"));
    for (size_t f = 0; f < c->p.nfields; f++)
        json_array_append_new(by, json_string(field_names[c->p.field[f]]));
    json_object_set_new(root, "group_by", by);
    json_object_set_new(root, "session_count", json_integer((json_int_t)c->ne));
    const cl_cohort_target *t = cl_cohort_target_of(c);
    json_object_set_new(root, "target", t ? json_string(t->label) : json_null());
    closest_line(c, u, line, sizeof line);
    json_object_set_new(root, "closest",
                        c->closest >= 0
                            ? json_pack("{s:s, s:f}", "group", c->g[c->closest].label, "rms",
                                        cl_unit_from_kpa(c->g[c->closest].rms_target, u))
                            : json_null());
    for (size_t i = 0; i < c->nnotes; i++)
        json_array_append_new(notes, json_string(c->notes[i]));
    json_object_set_new(root, "notes", notes);
    json_t *pool = json_array();
    for (size_t i = 0; pool && i < c->npooled; i++)
        json_array_append_new(pool, json_string(c->pooled_v[i]));
    if (!pool || json_object_set_new(root, "pooled_techniques", pool) != 0)
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (int id = 0; id < CL_COHORT_TABLE_COUNT && rc == CL_OK; id++) {
        cl_table *tab = cl_cohort_table(c, (cl_cohort_table_id)id, u, err);
        json_t *j = tab ? cl_table_json(tab, table_titles[id]) : NULL;
        cl_table_free(tab);
        if (!j)
            rc = tab ? cl_error_set(err, CL_ERR_NOMEM, "out of memory") : CL_ERR_NOMEM;
        else
            json_object_set_new(root, table_names[id], j);
    }
    if (rc == CL_OK &&
        (json_dumpf(root, out,
                    JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0 ||
         fputc('\n', out) == EOF))
        rc = cl_error_set(err, CL_ERR_IO, "cannot write the JSON document");
    json_decref(root);
    return rc;
}

int cl_cohort_write(const cl_cohort *c, FILE *out, cl_table_format fmt, int only, cl_unit u,
                    cl_error *err)
{
    char title[256], line[512];
    int rc = CL_OK;
    if (fmt == CL_TABLE_JSON)
        return write_json(c, out, u, err);
    int from = only >= 0 ? only : fmt == CL_TABLE_CSV ? CL_COHORT_GROUPS : 0;
    /* Text: every table but the sessions' (a data export, asked for by name). */
    int to = only >= 0 || fmt == CL_TABLE_CSV ? from + 1 : CL_COHORT_SESSIONS;
    for (int id = from; id < to && rc == CL_OK; id++) {
        cl_table *t = cl_cohort_table(c, (cl_cohort_table_id)id, u, err);
        if (!t)
            return err ? err->code : CL_ERR_NOMEM;
        snprintf(title, sizeof title,
                 "cuplab-analyze cohort, %s: %s; vacuum in %s, positive "
                 "below ambient",
                 table_names[id], table_titles[id], cl_unit_name(u));
        if (fmt == CL_TABLE_TEXT && id != from)
            fputc('\n', out);
        rc = cl_table_write(t, out, fmt, title, err);
        cl_table_free(t);
    }
    closest_line(c, u, line, sizeof line);
    if (rc == CL_OK && fmt == CL_TABLE_TEXT && line[0])
        fprintf(out, "\n%s\n", line);
    if (rc == CL_OK && ferror(out))
        rc = cl_error_set(err, CL_ERR_IO, "cannot write the results");
    return rc;
}
