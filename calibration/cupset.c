/*
 * calibration/cupset: the `cupset` subcommand.  For each cup of the list:
 * its volume (entered, or by gas expansion), and its baseline leak from a
 * decay recording (a session file calibrated through a sensor profile, or a
 * t,p CSV).  Writes the cup-set profile and prints the report.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"
#include "engine/cl_calfile.h"
#include "engine/cl_cupchar.h"
#include "cl_output.h"
#include "engine/cl_calplot.h"
#include "cl_session_read.h"

/* Is `path` an HDF5 file (by its signature)? */
static bool is_hdf5(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool yes = fread(b, 1, 8, f) == 8 && memcmp(b, sig, 8) == 0;
    fclose(f);
    return yes;
}

/* The sensor profile for cup `cup_id` of session `path`: the only one
 * given, or the one whose serial the session's cup names. */
static int pick_profile(const cal_options *o, cl_sensor_profile **profs, const char *path,
                        const char *cup_id, cl_sensor_profile **out)
{
    cl_session_reader *r;
    cl_error e;
    *out = NULL;
    if (o->nprofiles == 0) {
        cal_error("%s: a session decay needs --sensor-profile", path);
        return CAL_EXIT_USAGE;
    }
    if (o->nprofiles == 1) {
        *out = profs[0];
        return CAL_EXIT_OK;
    }
    if (cl_session_open(&r, path, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    const char *serial = NULL;
    for (size_t i = 0; i < cl_session_cup_count(r); i++) {
        const cl_session_cup *c = cl_session_cup_info(r, i);
        if (c && c->cup_id && strcmp(c->cup_id, cup_id) == 0)
            serial = c->sensor_serial;
    }
    for (size_t i = 0; serial && *serial && i < o->nprofiles; i++)
        if (strcmp(cl_sensor_profile_serial(profs[i]), serial) == 0)
            *out = profs[i];
    if (!*out)
        cal_error("%s: no sensor profile given for cup %s (sensor '%s')", path, cup_id,
                  serial ? serial : "");
    cl_session_reader_close(r);
    return *out ? CAL_EXIT_OK : CAL_EXIT_ERROR;
}

/* Volume of one cup into `cup`.  Returns an exit code. */
static int volume(const cal_options *o, const char *list, const cl_cuprow *r,
                  cl_cupset_cup *cup)
{
    bool entered = isfinite(r->volume_ml);
    bool expansion = isfinite(r->vref_ml) || isfinite(r->p_ref_kpa) || isfinite(r->p_cup_kpa) ||
                     isfinite(r->p_final_kpa);
    cl_error e;
    if (entered && expansion) {
        cal_error("%s:%d: cup %s has both volume_ml and gas-expansion readings; give one", list,
                  r->line, r->cup);
        return CAL_EXIT_ERROR;
    }
    if (entered) {
        if (!(r->volume_ml > 0) || (isfinite(r->volume_u_ml) && r->volume_u_ml < 0)) {
            cal_error("%s:%d: cup %s: volume must be positive", list, r->line, r->cup);
            return CAL_EXIT_ERROR;
        }
        cup->volume_ml = r->volume_ml;
        cup->volume_u_ml = r->volume_u_ml;
        cup->volume_method = "entered";
        return CAL_EXIT_OK;
    }
    if (!expansion)
        return CAL_EXIT_OK;
    if (!isfinite(r->vref_ml) || !isfinite(r->p_ref_kpa) || !isfinite(r->p_cup_kpa) ||
        !isfinite(r->p_final_kpa)) {
        cal_error("%s:%d: cup %s: gas expansion needs vref_ml, p_ref, p_cup and p_final", list,
                  r->line, r->cup);
        return CAL_EXIT_ERROR;
    }
    double off = r->p_absolute ? 0 : o->ambient_kpa;
    cl_expansion x = {r->vref_ml,         r->vref_u_ml,         r->p_ref_kpa + off,
                      r->p_cup_kpa + off, r->p_final_kpa + off, r->p_u_kpa};
    double v, u;
    if (cl_cupchar_expansion(&x, &v, &u, &e) != CL_OK) {
        cal_error("%s:%d: cup %s: %s", list, r->line, r->cup, e.msg);
        return CAL_EXIT_ERROR;
    }
    cup->volume_ml = v;
    cup->volume_u_ml = u;
    cup->volume_method = "gas-expansion";
    cup->exp_vref_ml = x.vref_ml;
    cup->exp_vref_u_ml = x.vref_u_ml;
    cup->exp_p_ref_kpa = x.p_ref_kpa;
    cup->exp_p_cup_kpa = x.p_cup_kpa;
    cup->exp_p_final_kpa = x.p_final_kpa;
    cup->exp_p_u_kpa = x.p_u_kpa;
    return CAL_EXIT_OK;
}

/* Window indices for an explicit from_s / to_s (NaN: open). */
static void explicit_window(const double *t, size_t n, double from_s, double to_s, size_t *a,
                            size_t *b)
{
    *a = 0;
    *b = n;
    if (isfinite(from_s))
        while (*a < n && t[*a] < from_s)
            (*a)++;
    if (isfinite(to_s))
        while (*b > *a && t[*b - 1] > to_s)
            (*b)--;
}

/* Leak of one cup into `cup`, and its figure in --figure-dir (a figure
 * that fails sets *figure_failed).  Returns an exit code. */
/* Warn of readings in the fitted window [a, b) beyond the sensor
 * profile's calibrated range. */
static void warn_beyond_range(const cal_options *o, const cl_cuprow *r,
                              const cl_sensor_profile *prof, const double *p, size_t a, size_t b)
{
    double rlo, rhi, plo, phi;
    size_t beyond = 0;
    cl_sensor_profile_raw_range(prof, &rlo, &rhi);
    plo = cl_sensor_profile_kpa(prof, rlo);
    phi = cl_sensor_profile_kpa(prof, rhi);
    if (plo > phi) {
        double x = plo;
        plo = phi;
        phi = x;
    }
    for (size_t i = a; i < b; i++)
        beyond += p[i] < plo || p[i] > phi;
    if (beyond)
        cal_warn(o,
                 "%s: cup %s: %zu of the %zu readings fitted lie outside the sensor "
                 "profile's calibrated range",
                 r->decay, r->cup, beyond, b - a);
}

/* The decay figure of the cup in --figure-dir; false (said) if it could
 * not be drawn. */
static bool decay_figure(const cal_options *o, const cl_cuprow *r, const double *t,
                         const double *p, size_t a, size_t b, const cl_leak *lk)
{
    char path[4096];
    cl_error e;
    snprintf(path, sizeof path, "%s/%s-decay.%s", o->figure_dir, r->cup, o->figure_format);
    if (cl_calplot_decay(t, p, a, b, lk, o->unit, r->cup, &o->figure_size, path, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return false;
    }
    return true;
}

static int leak(const cal_options *o, const cl_cuprow *r, cl_sensor_profile **profs,
                cl_cupset_cup *cup, cl_leak *lk, bool *figure_failed)
{
    double *t = NULL, *p = NULL;
    size_t n = 0, a, b;
    cl_trace tr = {0};
    double *rel = NULL;
    size_t nrel = 0;
    cl_error e;
    int code = CAL_EXIT_OK;
    const char *src = r->decay;
    cl_sensor_profile *prof = NULL;

    if (is_hdf5(src)) {
        const char *id = r->decay_cup ? r->decay_cup : r->cup;
        if ((code = pick_profile(o, profs, src, id, &prof)) != CAL_EXIT_OK)
            return code;
        if (cl_cupchar_session_trace(src, id, prof, &tr, &e) != CL_OK) {
            cal_error("%s", e.msg);
            return CAL_EXIT_ERROR;
        }
        t = tr.t_s;
        p = tr.p_kpa;
        n = tr.n;
        rel = tr.release_s;
        nrel = tr.nrelease;
    } else {
        if (cl_calfile_decay(src, o->ref_unit, &t, &p, &n, &e) != CL_OK) {
            cal_error("%s", e.msg);
            return CAL_EXIT_ERROR;
        }
    }
    if (isfinite(r->from_s) || isfinite(r->to_s)) {
        explicit_window(t, n, r->from_s, r->to_s, &a, &b);
    } else if (cl_cupchar_window(t, p, n, o->skip_s >= 0 ? o->skip_s : CL_CUPCHAR_SKIP_S, rel,
                                 nrel, &a, &b, &e) != CL_OK) {
        cal_error("%s: cup %s: %s", src, r->cup, e.msg);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    if (prof)
        warn_beyond_range(o, r, prof, p, a, b);
    double at = o->nat ? o->at_kpa[0] : NAN;
    if (cl_cupchar_leak(t, p, a, b, cup->volume_ml, cup->volume_u_ml, at, lk, &e) != CL_OK) {
        cal_error("%s: cup %s: %s", src, r->cup, e.msg);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    cl_cupchar_leak_to_cup(lk, cup);
    cup->leak_source = src;
    if (!lk->use_exp)
        cal_warn(o,
                 "%s: cup %s: the exponential does not determine tau over %.4g s; the "
                 "leak rate comes from the linear slope",
                 src, r->cup, lk->t_to_s - lk->t_from_s);
    if (o->figure_dir && !decay_figure(o, r, t, p, a, b, lk))
        *figure_failed = true; /* the profile is written all the same */
out:
    if (t == tr.t_s) {
        cl_cupchar_trace_release(&tr);
    } else {
        free(t);
        free(p);
    }
    return code;
}

/* --figure-dir: made before the work; a warning naming the cups that get
 * no figure, having no decay recording.  Returns an exit code. */
static int prepare_figure_dir(const cal_options *o, const char *list, const cl_cuprow *rows,
                              size_t nrows)
{
    char names[512] = "";
    size_t len = 0, missing = 0;
    cl_error e;
    if (!o->figure_dir)
        return CAL_EXIT_OK;
    if (cl_output_dir(o->figure_dir, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].decay)
            continue;
        missing++;
        if (len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                    rows[i].cup);
    }
    if (missing == nrows)
        cal_warn(o, "--figure-dir %s: no cup of %s has a decay recording: no figures drawn",
                 o->figure_dir, list);
    else if (missing)
        cal_warn(o, "--figure-dir %s: no decay recording, no figure for %zu cup%s: %s",
                 o->figure_dir, missing, missing > 1 ? "s" : "", names);
    return CAL_EXIT_OK;
}

/* The cup set's id: --id, else the cup list's file name without its
 * extension. */
static void set_id(const cal_options *o, const char *list, char *id, size_t cap)
{
    if (o->set_id) {
        snprintf(id, cap, "%s", o->set_id);
        return;
    }
    const char *base = strrchr(list, '/');
    snprintf(id, cap, "%s", base ? base + 1 : list);
    char *dot = strrchr(id, '.');
    if (dot && dot != id)
        *dot = '\0';
}

/* Each cup of the list into the set: its volume and, with decay data, its
 * leak (figures drawn as asked; *figure_failed when one could not be). */
static int add_cups(const cal_options *o, const char *list, const cl_cuprow *rows, size_t nrows,
                    cl_sensor_profile **profs, cl_cupset *set, bool *figure_failed)
{
    cl_error e;
    int code;
    for (size_t i = 0; i < nrows; i++) {
        const cl_cuprow *r = &rows[i];
        cl_cupset_cup cup;
        cl_leak lk;
        cl_cupset_cup_init(&cup);
        cup.cup_id = r->cup;
        cup.material = r->material;
        cup.size = r->size;
        if ((code = volume(o, list, r, &cup)) != CAL_EXIT_OK)
            return code;
        if (r->decay && (code = leak(o, r, profs, &cup, &lk, figure_failed)) != CAL_EXIT_OK)
            return code;
        if (cl_cupset_add(set, &cup, &e) != CL_OK) {
            cal_error("%s:%d: %s", list, r->line, e.msg);
            return CAL_EXIT_ERROR;
        }
    }
    return CAL_EXIT_OK;
}

/* Date, validity, operator, notes, software, ambient and temperature. */
static int set_meta(const cal_options *o, cl_cupset *set)
{
    char date[32], until[16], software[64];
    cl_error e;
    time_t now = time(NULL);
    if (o->date)
        cl_profile_parse_date(o->date, &now, NULL);
    if (o->date && strlen(o->date) > 10)
        snprintf(date, sizeof date, "%s", o->date);
    else
        cl_profile_format_datetime(now, date, sizeof date);
    if (o->valid_until)
        snprintf(until, sizeof until, "%s", o->valid_until);
    else
        cl_profile_format_date(now + (time_t)o->valid_days * 86400, until, sizeof until);
    snprintf(software, sizeof software, PROG " %s", CUPLAB_VERSION);
    cl_cupset_meta m = {date,     until,          o->operator_name, o->notes,
                        software, o->ambient_kpa, o->temperature_c};
    if (cl_cupset_set_meta(set, &m, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    return CAL_EXIT_OK;
}

int cal_cupset(const cal_options *o)
{
    const char *list = o->args[0];
    cl_cuprow *rows = NULL;
    size_t nrows = 0;
    cl_sensor_profile *profs[CAL_MAX_PROFILES] = {NULL};
    cl_cupset *set = NULL;
    cl_error e;
    char idbuf[256];
    int code = CAL_EXIT_OK;
    bool figure_failed = false;

    for (size_t i = 0; i < o->nprofiles; i++)
        if (cl_sensor_profile_load(o->profiles[i], &profs[i], &e) != CL_OK) {
            cal_error("%s", e.msg);
            code = CAL_EXIT_ERROR;
            goto out;
        }
    if (cl_calfile_cups(list, o->ref_unit, &rows, &nrows, &e) != CL_OK) {
        cal_error("%s", e.msg);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    if ((code = prepare_figure_dir(o, list, rows, nrows)) != CAL_EXIT_OK)
        goto out;
    set_id(o, list, idbuf, sizeof idbuf);
    if (!(set = cl_cupset_new(idbuf))) {
        cal_error("out of memory");
        code = CAL_EXIT_ERROR;
        goto out;
    }
    if ((code = add_cups(o, list, rows, nrows, profs, set, &figure_failed)) != CAL_EXIT_OK ||
        (code = set_meta(o, set)) != CAL_EXIT_OK ||
        (code = cal_report_cupset(o, set)) != CAL_EXIT_OK ||
        (o->output && (code = cal_write_profile(o, cl_cupset_to_json(set))) != CAL_EXIT_OK))
        goto out;
    if (figure_failed)
        code = CAL_EXIT_ERROR;
out:
    cl_cupset_free(set);
    cl_calfile_cups_free(rows, nrows);
    for (size_t i = 0; i < o->nprofiles; i++)
        cl_sensor_profile_free(profs[i]);
    return code;
}
