/*
 * cl_cohorttarget: --target parsed into a level, a hold or a curve, and
 * profiles measured against it (see cl_cohorttarget.h).
 */
#include "cohort/cl_cohorttarget.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cohort/cl_cohortsession.h"
#include "cl_profile.h"
#include "cl_target.h"

#define NP CL_COHORTSESSION_POINTS
#define ABS_GRID 201 /* points of the absolute-time grid of a distance */

void cl_cohorttarget_release(cl_cohorttarget *t)
{
    if (!t)
        return;
    free(t->x);
    free(t->v_kpa);
    memset(t, 0, sizeof *t);
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

/* The columns of a target CSV file, as its header names them. */
typedef struct csv_layout {
    size_t tc, vc;   /* the time and vacuum columns */
    double tscale;   /* seconds per unit of the time column */
    bool normalised; /* the time column is u */
    cl_unit vu;      /* the vacuum column's unit */
} csv_layout;

/* Header columns: time (t_s, t_min, u) and vacuum with its unit. */
static int target_header(const char *path, const char *line, csv_layout *h, cl_error *err)
{
    char name[96];
    h->tc = h->vc = (size_t)-1;
    for (size_t i = 0; csv_field(line, i, name, sizeof name); i++) {
        if (!strcasecmp(name, "t_s") || !strcasecmp(name, "t_min") || !strcasecmp(name, "u")) {
            h->tc = i;
            h->normalised = !strcasecmp(name, "u");
            h->tscale = !strcasecmp(name, "t_min") ? 60 : 1;
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
            if (!(h->vu = cl_unit_from_name(us + 1)))
                return cl_error_set(err, CL_ERR_ARG,
                                    "%s: unknown unit '%s' in column '%s' (%s)", path, us + 1,
                                    name, cl_unit_names());
            h->vc = i;
        }
    }
    if (h->tc == (size_t)-1 || h->vc == (size_t)-1)
        return cl_error_set(err, CL_ERR_FORMAT,
                            "%s: the header needs a time column (t_s, t_min or u) and a vacuum "
                            "column with its unit (vacuum_mmHg, vacuum_kPa, ...)",
                            path);
    return CL_OK;
}

/* Data line `lineno`: its time and vacuum appended to the curve of t (room
 * for *cap points, grown as needed). */
static int target_point(const char *path, size_t lineno, const char *line, const csv_layout *h,
                        cl_cohorttarget *t, size_t *cap, cl_error *err)
{
    double x, v;
    char *e1, *e2, tb[96], vb[96];
    if (!csv_field(line, h->tc, tb, sizeof tb) || !csv_field(line, h->vc, vb, sizeof vb) ||
        (x = strtod(tb, &e1), e1 == tb || *e1) || (v = strtod(vb, &e2), e2 == vb || *e2) ||
        !isfinite(x) || !isfinite(v))
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%zu: expected two numbers", path, lineno);
    x *= h->tscale;
    if ((t->n && x <= t->x[t->n - 1]) || x < 0 || (h->normalised && x > 1))
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%zu: time %g %s", path, lineno, x,
                            h->normalised ? "must increase within 0..1"
                                          : "must increase from 0");
    if (t->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        double *nx = realloc(t->x, *cap * sizeof *nx), *nv;
        if (nx)
            t->x = nx;
        nv = nx ? realloc(t->v_kpa, *cap * sizeof *nv) : NULL;
        if (!nv)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        t->v_kpa = nv;
    }
    t->x[t->n] = x;
    t->v_kpa[t->n++] = fabs(cl_unit_to_kpa(v, h->vu));
    return CL_OK;
}

static int target_csv(const char *path, cl_cohorttarget *t, cl_error *err)
{
    char *text = NULL;
    size_t cap = 0, lineno = 0;
    csv_layout h = {0, 0, 1, false, CL_UNIT_KPA};
    bool header = false;
    int rc;

    if (access(path, F_OK) != 0)
        return cl_error_set(err, CL_ERR_NOTFOUND, "%s: no such target file", path);
    if ((rc = cl_profile_read_file(path, &text, err)) != CL_OK)
        return rc;
    for (char *line = text, *next; line && rc == CL_OK; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == '\0' || *line == '\r')
            continue;
        rc = header ? target_point(path, lineno, line, &h, t, &cap, err)
                    : target_header(path, line, &h, err);
        header = true;
    }
    if (rc == CL_OK && t->n < 2)
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: a target curve needs at least 2 points",
                          path);
    if (rc == CL_OK) {
        t->kind = h.normalised ? CL_COHORTTARGET_CURVE_U : CL_COHORTTARGET_CURVE_T;
        snprintf(t->label, sizeof t->label, "%s", path);
    }
    free(text);
    return rc;
}

int cl_cohorttarget_parse(const char *spec, cl_cohorttarget *out, cl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return cl_error_set(err, CL_ERR_ARG, "empty target");
    size_t len = strlen(spec);
    if (strchr(spec, '/') || (len > 4 && !strcasecmp(spec + len - 4, ".csv")) ||
        access(spec, F_OK) == 0) {
        int rc = target_csv(spec, out, err);
        if (rc != CL_OK)
            cl_cohorttarget_release(out);
        return rc;
    }
    cl_target t;
    int rc = cl_target_parse(spec, &t, err);
    if (rc != CL_OK)
        return rc;
    out->vacuum_kpa = t.vacuum_kpa;
    out->kind = isfinite(t.duration_s) ? CL_COHORTTARGET_HOLD : CL_COHORTTARGET_LEVEL;
    out->duration_s = isfinite(t.duration_s) ? t.duration_s : 0;
    snprintf(out->label, sizeof out->label, "%s", spec);
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

double cl_cohorttarget_at(const cl_cohorttarget *t, double u, double span_s)
{
    if (!t)
        return NAN;
    switch (t->kind) {
    case CL_COHORTTARGET_LEVEL:
        return t->vacuum_kpa;
    case CL_COHORTTARGET_HOLD:
        return u * span_s <= t->duration_s ? t->vacuum_kpa : 0;
    case CL_COHORTTARGET_CURVE_T:
        return curve_at(t->x, t->v_kpa, t->n, u * span_s);
    case CL_COHORTTARGET_CURVE_U:
        return curve_at(t->x, t->v_kpa, t->n, u);
    case CL_COHORTTARGET_NONE:
        break;
    }
    return NAN;
}

/* The target at absolute time t since the onset. */
static double target_abs(const cl_cohorttarget *t, double ts)
{
    if (t->kind == CL_COHORTTARGET_HOLD)
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
double cl_cohorttarget_rms(const cl_cohorttarget *t, const double *mean, double span_s)
{
    double ss = 0;
    if (t->kind == CL_COHORTTARGET_LEVEL || t->kind == CL_COHORTTARGET_CURVE_U) {
        for (int i = 0; i < NP; i++) {
            double d = mean[i] - cl_cohorttarget_at(t, (double)i / (NP - 1), span_s);
            ss += d * d;
        }
        return sqrt(ss / NP);
    }
    double end = t->kind == CL_COHORTTARGET_HOLD ? t->duration_s : t->x[t->n - 1];
    end = fmax(end, span_s);
    for (int i = 0; i < ABS_GRID; i++) {
        double ts = end * i / (ABS_GRID - 1);
        double d = profile_abs(mean, span_s, ts) - target_abs(t, ts);
        ss += d * d;
    }
    return sqrt(ss / ABS_GRID);
}
