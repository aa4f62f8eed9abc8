/*
 * calibration/check: the subcommands that read profiles: `check` (drift of a
 * new sensor profile against an earlier one), `show` (a profile as a
 * report) and `apply` (raw readings through a profile).
 *
 * Drift at a pressure p: the raw reading r at which the NEW profile
 * indicates p, and drift = OLD(r) - NEW(r), the error the old profile would
 * make today.  Its expanded uncertainty is sqrt(U_old(r)^2 + U_new(r)^2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"

/* Load a sensor profile, with a clear message for the other kind. */
static int load_sensor(const char *path, cl_sensor_profile **out)
{
    cl_error e;
    char *text = NULL;
    *out = NULL;
    if (cl_profile_read_file(path, &text, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    const char *kind = cl_profile_kind(text);
    if (kind && strcmp(kind, "cupset") == 0) {
        cal_error("%s: a cup-set profile, not a sensor profile", path);
        free(text);
        return CAL_EXIT_ERROR;
    }
    int rc = cl_sensor_profile_parse(text, out, &e);
    free(text);
    if (rc != CL_OK) {
        cal_error("%s: %s", path, e.msg);
        return CAL_EXIT_ERROR;
    }
    return CAL_EXIT_OK;
}

/* The pressures to compare at: --at, else the new profile's setpoints,
 * else five across its raw range.  The count, or -1 (a message printed). */
static int check_pressures(const cal_options *o, const cl_sensor_calibration *dn, double *at)
{
    size_t nat = 0;
    if (o->nat) {
        memcpy(at, o->at_kpa, o->nat * sizeof *at);
        return (int)o->nat;
    }
    if (dn->nsetpoints) {
        for (size_t i = 0; i < dn->nsetpoints && nat < CAL_MAX_AT; i++)
            at[nat++] = dn->setpoints[i].ref_kpa;
        return (int)nat;
    }
    double lo = cl_sensor_calibration_kpa(dn, dn->raw_min);
    double hi = cl_sensor_calibration_kpa(dn, dn->raw_max);
    if (!isfinite(lo) || !isfinite(hi)) {
        cal_error("%s: no setpoints and no raw range: give --at", o->args[1]);
        return -1;
    }
    for (int i = 0; i < 5; i++)
        at[nat++] = lo + (hi - lo) * i / 4;
    return (int)nat;
}

static cl_table *drift_table(const char *u)
{
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    cl_table_add_column(t, "pressure", u, 7);
    cl_table_add_column(t, "raw", "counts", 8);
    cl_table_add_column(t, "old", u, 7);
    cl_table_add_column(t, "drift", u, 4);
    cl_table_add_column(t, "U_drift", u, 3);
    cl_table_add_column(t, "tolerance", u, 4);
    cl_table_add_column(t, "within", NULL, 0);
    cl_table_add_column(t, "old_range", NULL, 0);
    return t;
}

/* How far the sensor drifted, at each pressure. */
typedef struct drift_summary {
    size_t beyond;         /* pressures where it drifted beyond the tolerance */
    double worst, worst_p; /* the largest |drift| and where, kPa */
} drift_summary;

/* One row of the drift table: old against new at the raw reading where new
 * indicates `p`.  CAL_EXIT_OK, or an exit status (message printed). */
static int drift_row(const cal_options *o, const cl_sensor_profile *old,
                     const cl_sensor_profile *new, double p, double tol, cl_table *t,
                     drift_summary *sum)
{
    double raw, lo, hi;
    cl_error e;
    if (cl_sensor_profile_raw_for_kpa(new, p, &raw, &e) != CL_OK) {
        cal_error("%s: %s", o->args[1], e.msg);
        return CAL_EXIT_ERROR;
    }
    double pold = cl_sensor_profile_kpa(old, raw), pnew = cl_sensor_profile_kpa(new, raw);
    double drift = pold - pnew;
    double uo = cl_sensor_profile_u_kpa(old, raw), un = cl_sensor_profile_u_kpa(new, raw);
    double ud = sqrt((isfinite(uo) ? uo * uo : 0) + (isfinite(un) ? un * un : 0));
    bool ok = fabs(drift) <= tol;
    cl_sensor_profile_raw_range(old, &lo, &hi);
    sum->beyond += !ok;
    if (fabs(drift) > sum->worst) {
        sum->worst = fabs(drift);
        sum->worst_p = p;
    }
    cl_table_add_row(t);
    cl_table_set_num(t, 0, cl_unit_from_kpa(p, o->unit));
    cl_table_set_num(t, 1, raw);
    cl_table_set_num(t, 2, cl_unit_from_kpa(pold, o->unit));
    cl_table_set_num(t, 3, cl_unit_from_kpa(drift, o->unit));
    cl_table_set_num(t, 4, cl_unit_from_kpa(ud, o->unit));
    cl_table_set_num(t, 5, cl_unit_from_kpa(tol, o->unit));
    cl_table_set_str(t, 6, ok ? "yes" : "no");
    cl_table_set_str(t, 7, !isfinite(lo) || (raw >= lo && raw <= hi) ? "inside" : "extrapolated");
    return CAL_EXIT_OK;
}

/* The tolerance the drift is judged by: --tolerance, else the new
 * profile's, else the old one's (NaN: none). */
static double check_tolerance(const cal_options *o, const cl_sensor_calibration *dn,
                              const cl_sensor_calibration *dold)
{
    if (isfinite(o->tolerance_kpa))
        return o->tolerance_kpa;
    return isfinite(dn->tolerance_kpa) ? dn->tolerance_kpa : dold->tolerance_kpa;
}

int cal_check(const cal_options *o)
{
    cl_sensor_profile *old = NULL, *new = NULL;
    cl_table *t = NULL;
    double at[CAL_MAX_AT];
    drift_summary sum = {0, 0, NAN};
    int code, nat;
    const char *u = cl_unit_name(o->unit);

    if ((code = load_sensor(o->args[0], &old)) != CAL_EXIT_OK ||
        (code = load_sensor(o->args[1], &new)) != CAL_EXIT_OK)
        goto out;
    if (strcmp(cl_sensor_profile_serial(old), cl_sensor_profile_serial(new)) != 0) {
        cal_error("%s and %s are profiles of different sensors (%s, %s)", o->args[0],
                  o->args[1], cl_sensor_profile_serial(old), cl_sensor_profile_serial(new));
        code = CAL_EXIT_ERROR;
        goto out;
    }
    const cl_sensor_calibration *dn = cl_sensor_profile_data(new);
    const cl_sensor_calibration *dold = cl_sensor_profile_data(old);
    double tol = check_tolerance(o, dn, dold);
    if (!isfinite(tol)) {
        cal_error("check: neither profile states a tolerance: give --tolerance");
        code = CAL_EXIT_USAGE;
        goto out;
    }
    if ((nat = check_pressures(o, dn, at)) < 0) {
        code = CAL_EXIT_USAGE;
        goto out;
    }
    if (!(t = drift_table(u))) {
        cal_error("out of memory");
        code = CAL_EXIT_ERROR;
        goto out;
    }
    for (int i = 0; i < nat; i++)
        if ((code = drift_row(o, old, new, at[i], tol, t, &sum)) != CAL_EXIT_OK)
            goto out;
    char title[512];
    snprintf(title, sizeof title,
             "drift of sensor %s: old %s (%s), new %s (%s); drift = old - "
             "new at the raw reading where new indicates the pressure",
             cl_sensor_profile_serial(new), o->args[0], dold->date ? dold->date : "?",
             o->args[1], dn->date ? dn->date : "?");
    cl_table *tables[1] = {t};
    const char *names[1] = {"drift"}, *titles[1] = {title};
    if ((code = cal_write_tables(o->format, tables, names, titles, 1)) != CAL_EXIT_OK)
        goto out;
    if (sum.beyond) {
        cal_error("sensor %s drifted beyond the tolerance of %.4g %s at %zu of %d pressures "
                  "(largest %.4g %s at %.4g %s)",
                  cl_sensor_profile_serial(new), cl_unit_from_kpa(tol, o->unit), u, sum.beyond,
                  nat, cl_unit_from_kpa(sum.worst, o->unit), u,
                  cl_unit_from_kpa(sum.worst_p, o->unit), u);
        code = CAL_EXIT_TOLERANCE;
    }
out:
    cl_table_free(t);
    cl_sensor_profile_free(old);
    cl_sensor_profile_free(new);
    return code;
}

int cal_show(const cal_options *o)
{
    const char *path = o->args[0];
    char *text = NULL;
    cl_error e;
    int code = CAL_EXIT_ERROR;

    if (cl_profile_read_file(path, &text, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    const char *kind = cl_profile_kind(text);
    if (kind && strcmp(kind, "cupset") == 0) {
        cl_cupset *c;
        if (cl_cupset_parse(text, &c, &e) != CL_OK) {
            cal_error("%s: %s", path, e.msg);
            goto out;
        }
        if (cl_profile_check_until(cl_cupset_get_meta(c)->valid_until, "cup set", time(NULL),
                                   &e) != CL_OK)
            cal_warn(o, "%s: %s", path, e.msg);
        code = cal_report_cupset(o, c);
        cl_cupset_free(c);
    } else {
        cl_sensor_profile *p;
        if (cl_sensor_profile_parse(text, &p, &e) != CL_OK) {
            cal_error("%s: %s", path, e.msg);
            goto out;
        }
        if (cl_sensor_profile_check_valid(p, time(NULL), &e) != CL_OK)
            cal_warn(o, "%s: %s", path, e.msg);
        code = cal_report_sensor(o, cl_sensor_profile_data(p));
        cl_sensor_profile_free(p);
    }
out:
    free(text);
    return code;
}

int cal_apply(const cal_options *o)
{
    const char *path = o->args[0];
    cl_sensor_profile *p = NULL;
    cl_table *t = NULL;
    cl_error e;
    int code;
    const char *u = cl_unit_name(o->unit);

    if ((code = load_sensor(path, &p)) != CAL_EXIT_OK)
        return code;
    if (cl_sensor_profile_check_valid(p, time(NULL), &e) != CL_OK) {
        cal_error("%s: %s", path, e.msg);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    if (!cl_sensor_profile_data(p)->pass)
        cal_warn(o, "%s: the profile is marked as failing its tolerance", path);
    t = cl_table_new();
    if (!t) {
        cal_error("out of memory");
        code = CAL_EXIT_ERROR;
        goto out;
    }
    cl_table_add_column(t, "raw", "counts", 10);
    cl_table_add_column(t, "pressure", u, 7);
    cl_table_add_column(t, "U", u, 3);
    cl_table_add_column(t, "range", NULL, 0);
    for (int i = 1; i < o->nargs; i++) {
        char *end;
        double raw = strtod(o->args[i], &end), lo, hi;
        if (end == o->args[i] || *end || !isfinite(raw)) {
            cal_error("'%s' is not a raw reading (usage: apply PROFILE RAW...)", o->args[i]);
            code = CAL_EXIT_USAGE;
            goto out;
        }
        cl_sensor_profile_raw_range(p, &lo, &hi);
        cl_table_add_row(t);
        cl_table_set_num(t, 0, raw);
        cl_table_set_num(t, 1, cl_unit_from_kpa(cl_sensor_profile_kpa(p, raw), o->unit));
        cl_table_set_num(t, 2, cl_unit_from_kpa(cl_sensor_profile_u_kpa(p, raw), o->unit));
        cl_table_set_str(t, 3,
                         !isfinite(lo) || (raw >= lo && raw <= hi) ? "inside" : "outside");
    }
    cl_table *tables[1] = {t};
    const char *names[1] = {"readings"}, *titles[1] = {NULL};
    code = cal_write_tables(o->format, tables, names, titles, 1);
out:
    cl_table_free(t);
    cl_sensor_profile_free(p);
    return code;
}
