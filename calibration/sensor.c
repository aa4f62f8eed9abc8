/*
 * calibration/sensor: the `sensor` subcommand.  Points from a CSV file or
 * live from the device, the fit (cl_calib), then in this order: the report
 * on stdout, the profile, which is written only when the calibration meets
 * the tolerance (or with --force-write, marked failed), then the figure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"
#include "engine/cl_calfile.h"
#include "engine/cl_calib.h"
#include "engine/cl_calplot.h"

/* Default tolerance: the clinical yardstick for manometers, 3 mmHg. */
#define DEFAULT_TOLERANCE_KPA (3 * CL_KPA_PER_MMHG)

/* Metadata of the profile from the options.  Returns an exit code or -1. */
static int fill_meta(const cal_options *o, const char *serial, const char *source,
                     cl_sensor_calibration *d)
{
    char date[32], until[16];
    time_t t = time(NULL);

    if (o->date)
        cl_profile_parse_date(o->date, &t, NULL);
    if (o->date && strlen(o->date) > 10)
        snprintf(date, sizeof date, "%s", o->date);
    else
        cl_profile_format_datetime(t, date, sizeof date);
    if (o->valid_until) {
        time_t u;
        cl_profile_parse_date(o->valid_until, &u, NULL);
        if (u + 86399 < t) {
            cal_error("--valid-until %s is before the calibration date %s", o->valid_until,
                      date);
            return CAL_EXIT_USAGE;
        }
        snprintf(until, sizeof until, "%s", o->valid_until);
    } else {
        cl_profile_format_date(t + (time_t)o->valid_days * 86400, until, sizeof until);
    }
    char software[64];
    snprintf(software, sizeof software, PROG " %s", CUPLAB_VERSION);
    if (cl_profile_set_str(&d->serial, serial) || cl_profile_set_str(&d->model, o->model) ||
        cl_profile_set_str(&d->date, date) || cl_profile_set_str(&d->valid_until, until) ||
        cl_profile_set_str(&d->operator_name, o->operator_name) ||
        cl_profile_set_str(&d->reference, o->reference) ||
        cl_profile_set_str(&d->notes, o->notes) || cl_profile_set_str(&d->software, software) ||
        cl_profile_set_str(&d->source, source)) {
        cal_error("out of memory");
        return CAL_EXIT_ERROR;
    }
    d->channel = o->live_port ? (int)o->channel : -1;
    d->temperature_c = o->temperature_c;
    if (!isfinite(d->temperature_c)) {
        /* The mean of the points' temperatures, when they carry one. */
        double sum = 0;
        size_t n = 0;
        for (size_t i = 0; i < d->npoints; i++)
            if (isfinite(d->points[i].temperature_c)) {
                sum += d->points[i].temperature_c;
                n++;
            }
        if (n)
            d->temperature_c = sum / (double)n;
    }
    return -1;
}

static void procedure_warnings(const cal_options *o, const cl_sensor_calibration *d)
{
    if (d->nsetpoints < CL_CALIB_MIN_SETPOINTS)
        cal_warn(o, "only %zu setpoints (EURAMET cg-17 asks for at least %d over the range)",
                 d->nsetpoints, CL_CALIB_MIN_SETPOINTS);
    if (!d->descending)
        cal_warn(o, "no descending series: hysteresis unknown");
    if (!d->ascending)
        cal_warn(o, "no ascending series: hysteresis unknown");
    if (!d->repeats)
        cal_warn(o, "no repeated readings: repeatability taken from the residual SD");
}

/* The points: from the device (--live; *serial what it announced for the
 * channel) or from the points file; `source` names where. */
static int sensor_points(const cal_options *o, cl_sensor_point **pts, size_t *n, char *serial,
                         size_t serial_cap, char *source, size_t source_cap)
{
    cl_error e;
    if (o->live_port) {
        int code = cal_live_points(o, pts, n, serial, serial_cap);
        if (code == CAL_EXIT_OK)
            snprintf(source, source_cap, "live:%s channel %u", o->live_port, o->channel);
        return code;
    }
    if (cl_calfile_sensor_points(o->args[0], o->ref_unit, pts, n, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    snprintf(source, source_cap, "%s", o->args[0]);
    return CAL_EXIT_OK;
}

/* The fit of the points with the options given, into d. */
static int sensor_fit(const cal_options *o, const cl_sensor_point *pts, size_t n,
                      const char *source, cl_sensor_calibration *d)
{
    cl_calib_options co;
    cl_error e;
    cl_calib_options_init(&co);
    co.degree = o->degree;
    co.tolerance_kpa = isfinite(o->tolerance_kpa) ? o->tolerance_kpa : DEFAULT_TOLERANCE_KPA;
    co.ref_u_kpa = o->ref_u_kpa;
    co.ref_k = o->ref_k;
    co.group_kpa = o->group_kpa;
    if (cl_calib_sensor(pts, n, &co, d, &e) != CL_OK) {
        cal_error("%s: %s", source, e.msg);
        return CAL_EXIT_ERROR;
    }
    return CAL_EXIT_OK;
}

/* Say where a calibration that fails its tolerance fails it most. */
static void tolerance_failure(const cal_options *o, const cl_sensor_calibration *pd,
                              const char *source, const char *sn)
{
    const char *un = cl_unit_name(o->unit);
    size_t worst = 0;
    for (size_t i = 1; i < pd->npoints; i++)
        if (fabs(pd->points[i].residual_kpa) + pd->points[i].u_kpa >
            fabs(pd->points[worst].residual_kpa) + pd->points[worst].u_kpa)
            worst = i;
    const cl_sensor_point *w = &pd->points[worst];
    cal_error("%s: sensor %s fails the tolerance of %.4g %s: |residual| + U reaches %.4g "
              "%s at %.4g %s (degree %d)%s",
              source, sn, cl_unit_from_kpa(pd->tolerance_kpa, o->unit), un,
              cl_unit_from_kpa(fabs(w->residual_kpa) + w->u_kpa, o->unit), un,
              cl_unit_from_kpa(w->ref_kpa, o->unit), un, pd->degree,
              o->output && !o->force_write ? "; no profile written" : "");
}

int cal_sensor(const cal_options *o)
{
    cl_sensor_point *pts = NULL;
    size_t n = 0;
    char serial[128] = "", source[512];
    cl_sensor_calibration d;
    cl_sensor_profile *prof = NULL;
    cl_error e;
    int code;

    cl_sensor_calibration_init(&d);
    if ((code = sensor_points(o, &pts, &n, serial, sizeof serial, source, sizeof source)) !=
        CAL_EXIT_OK)
        goto out;
    const char *sn = o->serial ? o->serial : serial;
    if (!*sn) {
        cal_error("%s: the device announced no sensor serial for channel %u: give --serial",
                  o->live_port, o->channel);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    if ((code = sensor_fit(o, pts, n, source, &d)) != CAL_EXIT_OK)
        goto out;
    if ((code = fill_meta(o, sn, source, &d)) >= 0)
        goto out;
    code = CAL_EXIT_OK;
    procedure_warnings(o, &d);
    if (cl_sensor_profile_adopt(&d, &prof, &e) != CL_OK) {
        cal_error("%s: %s", source, e.msg);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    const cl_sensor_calibration *pd = cl_sensor_profile_data(prof);
    if ((code = cal_report_sensor(o, pd)) != CAL_EXIT_OK)
        goto out;
    if (!pd->pass) {
        tolerance_failure(o, pd, source, sn);
        code = CAL_EXIT_TOLERANCE;
    }
    if (o->output && (pd->pass || o->force_write)) {
        int wc = cal_write_profile(o, cl_sensor_profile_to_json(prof));
        if (wc != CAL_EXIT_OK) {
            code = wc;
            goto out;
        }
        if (o->verbosity >= 2)
            fprintf(stderr, PROG ": wrote %s%s\n", o->output,
                    pd->pass ? "" : " (marked \"pass\": false)");
    }
    /* The figure last: one that cannot be drawn costs no profile. */
    if (o->figure && cl_calplot_residuals(pd, o->unit, &o->figure_size, o->figure, &e) != CL_OK) {
        cal_error("%s", e.msg);
        if (code == CAL_EXIT_OK)
            code = CAL_EXIT_ERROR;
    }
out:
    cl_sensor_profile_free(prof);
    cl_sensor_calibration_release(&d);
    free(pts);
    return code;
}
