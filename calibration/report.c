/*
 * calibration/report: the printable reports, built as cl_table tables so
 * that text, CSV and JSON carry the same columns.  A sensor report has a
 * summary (metadata, coefficients, figures, verdict), the certificate table
 * per setpoint (ascending and descending error, hysteresis, repeatability,
 * U) and the table of points with their residuals.  Pressures are shown in
 * the unit of --unit.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"

int cal_write_profile(const cal_options *o, char *json)
{
    cl_error e;
    int rc, code = CAL_EXIT_OK;
    if (!json) {
        cal_error("out of memory");
        return CAL_EXIT_ERROR;
    }
    if ((rc = cl_profile_write_file(o->output, json, o->force, &e)) != CL_OK) {
        cal_error("%s", e.msg);
        code = rc == CL_ERR_EXISTS ? CAL_EXIT_USAGE : CAL_EXIT_ERROR;
    }
    free(json);
    return code;
}

int cal_write_tables(cl_table_format fmt, cl_table **tables, const char **names,
                     const char **titles, size_t n)
{
    cl_error e;
    if (fmt == CL_TABLE_JSON) {
        json_t *root = json_object();
        int rc = root ? CL_OK : CL_ERR_NOMEM;
        for (size_t i = 0; i < n && rc == CL_OK; i++) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            if (!f) {
                rc = CL_ERR_NOMEM;
                break;
            }
            rc = cl_table_write(tables[i], f, CL_TABLE_JSON, titles[i], &e);
            if (fclose(f) != 0 && rc == CL_OK)
                rc = CL_ERR_NOMEM;
            json_t *t = rc == CL_OK && buf ? json_loads(buf, 0, NULL) : NULL;
            free(buf);
            if (!t || json_object_set_new(root, names[i], t) != 0)
                rc = CL_ERR_NOMEM;
        }
        if (rc == CL_OK &&
            json_dumpf(root, stdout,
                       JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0)
            rc = CL_ERR_IO;
        json_decref(root);
        if (rc == CL_OK)
            fputc('\n', stdout);
        if (rc != CL_OK || fflush(stdout) != 0 || ferror(stdout)) {
            cal_error("cannot write the report: %s", cl_strerror(rc ? rc : CL_ERR_IO));
            return CAL_EXIT_ERROR;
        }
        return CAL_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (i && fmt == CL_TABLE_CSV)
            break;
        if (i)
            fputc('\n', stdout);
        if (cl_table_write(tables[i], stdout, fmt, titles[i], &e) != CL_OK) {
            cal_error("%s", e.msg);
            return CAL_EXIT_ERROR;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cal_error("cannot write the report");
        return CAL_EXIT_ERROR;
    }
    return CAL_EXIT_OK;
}

/* ------------------------------------------------------------- summary */

typedef struct summary {
    cl_table *t;
} summary;

static bool sum_init(summary *s)
{
    s->t = cl_table_new();
    return s->t && cl_table_add_column(s->t, "quantity", NULL, 0) == CL_OK &&
           cl_table_add_column(s->t, "value", NULL, 8) == CL_OK &&
           cl_table_add_column(s->t, "unit", NULL, 0) == CL_OK;
}

static void sum_str(summary *s, const char *q, const char *v)
{
    cl_table_add_row(s->t);
    cl_table_set_str(s->t, 0, q);
    cl_table_set_str(s->t, 1, v ? v : "");
}

static void sum_num(summary *s, const char *q, double v, const char *unit)
{
    cl_table_add_row(s->t);
    cl_table_set_str(s->t, 0, q);
    cl_table_set_num(s->t, 1, v);
    if (unit)
        cl_table_set_str(s->t, 2, unit);
}

/* A pressure in the report unit. */
static void sum_p(summary *s, const cal_options *o, const char *q, double kpa)
{
    sum_num(s, q, cl_unit_from_kpa(kpa, o->unit), cl_unit_name(o->unit));
}

static bool want(const cal_options *o, const char *name)
{
    const char *t = o->table;
    if (!t)
        t = o->format == CL_TABLE_CSV ? (strcmp(name, "cups") == 0 ? "cups" : "points") : "all";
    return strcmp(t, "all") == 0 || strcmp(t, name) == 0 ||
           (strcmp(name, "cups") == 0 && strcmp(t, "points") == 0);
}

/* --------------------------------------------------------------- sensor */

static cl_table *setpoint_table(const cal_options *o, const cl_sensor_calibration *d)
{
    const char *u = cl_unit_name(o->unit);
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    cl_table_add_column(t, "setpoint", NULL, 0);
    cl_table_add_column(t, "ref", u, 7);
    cl_table_add_column(t, "n_up", NULL, 0);
    cl_table_add_column(t, "n_down", NULL, 0);
    cl_table_add_column(t, "raw_up", "counts", 8);
    cl_table_add_column(t, "raw_down", "counts", 8);
    cl_table_add_column(t, "error_up", u, 4);
    cl_table_add_column(t, "error_down", u, 4);
    cl_table_add_column(t, "hysteresis", u, 4);
    cl_table_add_column(t, "repeatability", u, 4);
    cl_table_add_column(t, "U", u, 4);
    for (size_t i = 0; i < d->nsetpoints; i++) {
        const cl_sensor_setpoint *s = &d->setpoints[i];
        cl_table_add_row(t);
        cl_table_set_num(t, 0, (double)i);
        cl_table_set_num(t, 1, cl_unit_from_kpa(s->ref_kpa, o->unit));
        cl_table_set_num(t, 2, (double)s->n_up);
        cl_table_set_num(t, 3, (double)s->n_down);
        cl_table_set_num(t, 4, s->raw_up);
        cl_table_set_num(t, 5, s->raw_down);
        cl_table_set_num(t, 6, cl_unit_from_kpa(s->error_up_kpa, o->unit));
        cl_table_set_num(t, 7, cl_unit_from_kpa(s->error_down_kpa, o->unit));
        cl_table_set_num(t, 8, cl_unit_from_kpa(s->hysteresis_kpa, o->unit));
        cl_table_set_num(t, 9, cl_unit_from_kpa(s->repeatability_kpa, o->unit));
        cl_table_set_num(t, 10, cl_unit_from_kpa(s->u_kpa, o->unit));
    }
    return t;
}

static cl_table *point_table(const cal_options *o, const cl_sensor_calibration *d)
{
    const char *u = cl_unit_name(o->unit);
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    cl_table_add_column(t, "point", NULL, 0);
    cl_table_add_column(t, "direction", NULL, 0);
    cl_table_add_column(t, "ref", u, 7);
    cl_table_add_column(t, "raw", "counts", 8);
    cl_table_add_column(t, "raw_sd", "counts", 3);
    cl_table_add_column(t, "n", NULL, 0);
    cl_table_add_column(t, "fit", u, 7);
    cl_table_add_column(t, "residual", u, 4);
    cl_table_add_column(t, "U", u, 4);
    cl_table_add_column(t, "setpoint", NULL, 0);
    for (size_t i = 0; i < d->npoints; i++) {
        const cl_sensor_point *p = &d->points[i];
        cl_table_add_row(t);
        cl_table_set_num(t, 0, (double)(i + 1));
        cl_table_set_str(t, 1, cl_direction_name(p->direction));
        cl_table_set_num(t, 2, cl_unit_from_kpa(p->ref_kpa, o->unit));
        cl_table_set_num(t, 3, p->raw);
        cl_table_set_num(t, 4, p->raw_sd);
        cl_table_set_num(t, 5, p->n_samples);
        cl_table_set_num(t, 6, cl_unit_from_kpa(p->fit_kpa, o->unit));
        cl_table_set_num(t, 7, cl_unit_from_kpa(p->residual_kpa, o->unit));
        cl_table_set_num(t, 8, cl_unit_from_kpa(p->u_kpa, o->unit));
        cl_table_set_num(t, 9, (double)p->setpoint);
    }
    return t;
}

/* The polynomial's coefficients and their standard errors. */
static void sum_coefficients(summary *s, const cl_sensor_calibration *d)
{
    char q[32], unit[32], buf[64];
    for (int i = 0; i <= d->degree; i++) {
        snprintf(q, sizeof q, "c%d", i);
        snprintf(unit, sizeof unit,
                 i == 0   ? "kPa"
                 : i == 1 ? "kPa/count"
                          : "kPa/count^%d",
                 i);
        cl_table_add_row(s->t);
        cl_table_set_str(s->t, 0, q);
        snprintf(buf, sizeof buf, "%.10g", d->coef[i]);
        cl_table_set_str(s->t, 1, buf);
        cl_table_set_str(s->t, 2, unit);
        snprintf(q, sizeof q, "SE(c%d)", i);
        cl_table_add_row(s->t);
        cl_table_set_str(s->t, 0, q);
        snprintf(buf, sizeof buf, "%.3g", sqrt(d->cov[i][i] > 0 ? d->cov[i][i] : 0));
        cl_table_set_str(s->t, 1, buf);
        cl_table_set_str(s->t, 2, unit);
    }
}

/* The worst |residual| + U of each degree tried. */
static void sum_trials(summary *s, const cal_options *o, const cl_sensor_calibration *d)
{
    char q[48], buf[64];
    for (size_t i = 0; i < d->ntrials; i++) {
        const cl_sensor_trial *t = &d->trials[i];
        snprintf(q, sizeof q, "degree %d: worst |residual|+U", t->degree);
        cl_table_add_row(s->t);
        cl_table_set_str(s->t, 0, q);
        cl_table_set_num(s->t, 1, cl_unit_from_kpa(t->worst_kpa, o->unit));
        snprintf(buf, sizeof buf, "%s%s%s", cl_unit_name(o->unit),
                 t->pass ? " (pass)" : " (fail)", t->monotonic ? "" : " not monotonic");
        cl_table_set_str(s->t, 2, buf);
    }
}

/* The summary table of a sensor calibration: who, what, the fit, the
 * uncertainty budget, the verdict. */
static void sensor_summary(summary *s, const cal_options *o, const cl_sensor_calibration *d)
{
    sum_str(s, "sensor serial", d->serial);
    if (d->model)
        sum_str(s, "sensor model", d->model);
    if (d->channel >= 0)
        sum_num(s, "channel", d->channel, NULL);
    sum_str(s, "date", d->date);
    sum_str(s, "valid until", d->valid_until);
    sum_str(s, "operator", d->operator_name);
    sum_str(s, "reference instrument", d->reference);
    sum_p(s, o, "reference U", d->ref_u_kpa);
    sum_num(s, "reference k", d->ref_k, NULL);
    sum_num(s, "temperature", d->temperature_c, "degC");
    sum_str(s, "source", d->source);
    sum_num(s, "points", (double)d->npoints, NULL);
    sum_num(s, "setpoints", (double)d->nsetpoints, NULL);
    sum_num(s, "degree", d->degree, NULL);
    sum_coefficients(s, d);
    sum_num(s, "raw min", d->raw_min, "counts");
    sum_num(s, "raw max", d->raw_max, "counts");
    sum_num(s, "dof", (double)d->dof, NULL);
    sum_p(s, o, "residual SD", d->residual_sd_kpa);
    sum_num(s, "R2", d->r2, NULL);
    sum_p(s, o, "max |residual|", d->max_residual_kpa);
    sum_p(s, o, "non-linearity", d->nonlinearity_kpa);
    sum_p(s, o, "hysteresis", d->hysteresis_kpa);
    sum_p(s, o, "repeatability", d->repeatability_kpa);
    sum_p(s, o, "u repeatability", d->u_rep_kpa);
    sum_p(s, o, "u hysteresis", d->u_hyst_kpa);
    sum_p(s, o, "u reference", d->u_ref_kpa);
    sum_p(s, o, "U max (k=2)", d->u_max_kpa);
    sum_p(s, o, "tolerance", d->tolerance_kpa);
    sum_str(s, "verdict",
            !isfinite(d->tolerance_kpa) ? "no tolerance"
            : d->pass                   ? "pass"
                                        : "fail");
    sum_str(s, "procedure",
            d->procedure_complete ? "EURAMET cg-17 basic: complete"
                                  : "EURAMET cg-17 basic: incomplete");
    sum_trials(s, o, d);
}

int cal_report_sensor(const cal_options *o, const cl_sensor_calibration *d)
{
    summary s = {0};
    cl_table *tables[3] = {NULL, NULL, NULL};
    const char *names[3], *titles[3];
    char title[3][256];
    size_t n = 0;
    int code = CAL_EXIT_ERROR;

    if (want(o, "summary")) {
        if (!sum_init(&s))
            goto out;
        sensor_summary(&s, o, d);
        snprintf(title[n], sizeof title[n], "sensor %s calibration",
                 d->serial ? d->serial : "?");
        tables[n] = s.t;
        names[n] = "summary";
        titles[n] = title[n];
        n++;
    }
    if (want(o, "setpoints")) {
        if (!(tables[n] = setpoint_table(o, d)))
            goto out;
        snprintf(title[n], sizeof title[n],
                 "per setpoint: error = indicated - reference; hysteresis = down - up; U at "
                 "k=2");
        names[n] = "setpoints";
        titles[n] = title[n];
        n++;
    }
    if (want(o, "points")) {
        if (!(tables[n] = point_table(o, d)))
            goto out;
        snprintf(title[n], sizeof title[n], "points: residual = fit - reference");
        names[n] = "points";
        titles[n] = title[n];
        n++;
    }
    code = cal_write_tables(o->format, tables, names, titles, n);
out:
    if (code != CAL_EXIT_OK && n == 0)
        cal_error("out of memory");
    for (size_t i = 0; i < 3; i++)
        cl_table_free(tables[i]);
    if (s.t && n == 0)
        cl_table_free(s.t);
    return code;
}

/* --------------------------------------------------------------- cupset */

/* The table of the cups: volume and leak figures of each. */
static cl_table *cups_table(const cal_options *o, const cl_cupset *c)
{
    const char *u = cl_unit_name(o->unit);
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    cl_table_add_column(t, "cup", NULL, 0);
    cl_table_add_column(t, "material", NULL, 0);
    cl_table_add_column(t, "size", NULL, 0);
    cl_table_add_column(t, "volume", "mL", 5);
    cl_table_add_column(t, "u_volume", "mL", 2);
    cl_table_add_column(t, "volume_method", NULL, 0);
    cl_table_add_column(t, "leak_model", NULL, 0);
    cl_table_add_column(t, "tau", "s", 5);
    cl_table_add_column(t, "se_tau", "s", 2);
    cl_table_add_column(t, "p0", u, 5);
    cl_table_add_column(t, "p_inf", u, 5);
    cl_table_add_column(t, "at", u, 5);
    cl_table_add_column(t, "Q", "mbar L/s", 4);
    cl_table_add_column(t, "u_Q", "mbar L/s", 2);
    cl_table_add_column(t, "window_from", "s", 6);
    cl_table_add_column(t, "window_to", "s", 6);
    cl_table_add_column(t, "samples", NULL, 0);
    for (size_t i = 0; i < cl_cupset_count(c); i++) {
        const cl_cupset_cup *p = cl_cupset_get(c, i);
        cl_table_add_row(t);
        cl_table_set_str(t, 0, p->cup_id);
        cl_table_set_str(t, 1, p->material);
        cl_table_set_str(t, 2, p->size);
        cl_table_set_num(t, 3, p->volume_ml);
        cl_table_set_num(t, 4, p->volume_u_ml);
        cl_table_set_str(t, 5, p->volume_method);
        cl_table_set_str(t, 6, p->leak_model);
        cl_table_set_num(t, 7, p->leak_tau_s);
        cl_table_set_num(t, 8, p->leak_tau_se);
        cl_table_set_num(t, 9, cl_unit_from_kpa(p->leak_p0_kpa, o->unit));
        cl_table_set_num(t, 10, cl_unit_from_kpa(p->leak_p_inf_kpa, o->unit));
        cl_table_set_num(t, 11, cl_unit_from_kpa(p->leak_at_kpa, o->unit));
        cl_table_set_num(t, 12, p->leak_q_mbarl_s);
        cl_table_set_num(t, 13, p->leak_q_u_mbarl_s);
        cl_table_set_num(t, 14, p->leak_t_from_s);
        cl_table_set_num(t, 15, p->leak_t_to_s);
        if (p->leak_n)
            cl_table_set_num(t, 16, (double)p->leak_n);
    }
    return t;
}

int cal_report_cupset(const cal_options *o, const cl_cupset *c)
{
    const char *u = cl_unit_name(o->unit);
    const cl_cupset_meta *m = cl_cupset_get_meta(c);
    summary s = {0};
    cl_table *tables[2] = {NULL, NULL};
    const char *names[2], *titles[2];
    char title[2][256];
    size_t n = 0;
    int code = CAL_EXIT_ERROR;

    if (want(o, "summary")) {
        if (!sum_init(&s))
            goto out;
        sum_str(&s, "cup set", cl_cupset_id(c));
        sum_str(&s, "date", m->date);
        sum_str(&s, "valid until", m->valid_until);
        sum_str(&s, "operator", m->operator_name);
        sum_num(&s, "ambient (absolute)", cl_unit_from_kpa(m->ambient_kpa, o->unit), u);
        sum_num(&s, "temperature", m->temperature_c, "degC");
        sum_num(&s, "cups", (double)cl_cupset_count(c), NULL);
        snprintf(title[n], sizeof title[n], "cup set %s", cl_cupset_id(c));
        tables[n] = s.t;
        names[n] = "summary";
        titles[n] = title[n];
        n++;
    }
    if (want(o, "cups")) {
        if (!(tables[n] = cups_table(o, c)))
            goto out;
        snprintf(title[n], sizeof title[n],
                 "cups: u = standard uncertainty, se = standard error; Q = V dp/dt at 'at'");
        names[n] = "cups";
        titles[n] = title[n];
        n++;
    }
    code = cal_write_tables(o->format, tables, names, titles, n);
out:
    if (code != CAL_EXIT_OK && n == 0)
        cal_error("out of memory");
    for (size_t i = 0; i < n; i++)
        cl_table_free(tables[i]);
    if (s.t && n == 0)
        cl_table_free(s.t);
    return code;
}
