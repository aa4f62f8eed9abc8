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

int cal_sensor(const cal_options *o)
{
    cl_sensor_point *pts = NULL;
    size_t n = 0;
    char serial[128] = "", source[512];
    cl_sensor_calibration d;
    cl_sensor_profile *prof = NULL;
    cl_calib_options co;
    cl_error e;
    char *json = NULL;
    int code = CAL_EXIT_OK, rc;
    const char *un = cl_unit_name(o->unit);

    cl_sensor_calibration_init(&d);
    if (o->live_port) {
        code = cal_live_points(o, &pts, &n, serial, sizeof serial);
        if (code != CAL_EXIT_OK)
            goto out;
        snprintf(source, sizeof source, "live:%s channel %u", o->live_port, o->channel);
    } else {
        rc = cl_calfile_sensor_points(o->args[0], o->ref_unit, &pts, &n, &e);
        if (rc != CL_OK) {
            cal_error("%s", e.msg);
            code = CAL_EXIT_ERROR;
            goto out;
        }
        snprintf(source, sizeof source, "%s", o->args[0]);
    }
    const char *sn = o->serial ? o->serial : serial;
    if (!*sn) {
        cal_error("%s: the device announced no sensor serial for channel %u: give --serial",
                  o->live_port, o->channel);
        code = CAL_EXIT_ERROR;
        goto out;
    }

    cl_calib_options_init(&co);
    co.degree = o->degree;
    co.tolerance_kpa = isfinite(o->tolerance_kpa) ? o->tolerance_kpa : DEFAULT_TOLERANCE_KPA;
    co.ref_u_kpa = o->ref_u_kpa;
    co.ref_k = o->ref_k;
    co.group_kpa = o->group_kpa;
    rc = cl_calib_sensor(pts, n, &co, &d, &e);
    if (rc != CL_OK) {
        cal_error("%s: %s", source, e.msg);
        code = CAL_EXIT_ERROR;
        goto out;
    }
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
        code = CAL_EXIT_TOLERANCE;
        if (!o->force_write)
            goto draw;
    }
    if (o->output) {
        json = cl_sensor_profile_to_json(prof);
        if (!json) {
            cal_error("out of memory");
            code = CAL_EXIT_ERROR;
            goto out;
        }
        if ((rc = cl_profile_write_file(o->output, json, o->force, &e)) != CL_OK) {
            cal_error("%s", e.msg);
            code = rc == CL_ERR_EXISTS ? CAL_EXIT_USAGE : CAL_EXIT_ERROR;
            goto out;
        }
        if (o->verbosity >= 2)
            fprintf(stderr, PROG ": wrote %s%s\n", o->output,
                    pd->pass ? "" : " (marked \"pass\": false)");
    }
draw:
    /* The figure last: one that cannot be drawn costs no profile. */
    if (o->figure && cl_calplot_residuals(pd, o->unit, &o->figure_size, o->figure, &e) != CL_OK) {
        cal_error("%s", e.msg);
        if (code == CAL_EXIT_OK)
            code = CAL_EXIT_ERROR;
    }
out:
    free(json);
    cl_sensor_profile_free(prof);
    cl_sensor_calibration_release(&d);
    free(pts);
    return code;
}
