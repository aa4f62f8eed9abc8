/*
 * cl_cupchar: cup volume by gas expansion, baseline leak from a decay on a
 * sealed plate, and the session-file reader that turns one cup's raw
 * readings into a calibrated pressure trace.  Formulas in cl_cupchar.h.
 */
#include "engine/cl_cupchar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_profile.h"
#include "cl_session_read.h"
#include "cl_units.h"

#define RELEASE_WINDOW_S 2.0 /* a release raises the pressure within this time */
#define RELEASE_FRACTION 0.2 /* ... by more than this fraction of the deepest vacuum */
#define MIN_WINDOW 10        /* samples a leak fit needs at least */

int cl_cupchar_expansion(const cl_expansion *e, double *v_ml, double *u_ml, cl_error *err)
{
    *v_ml = *u_ml = NAN;
    if (!(e->vref_ml > 0) || !isfinite(e->vref_ml))
        return cl_error_set(err, CL_ERR_ARG, "reference volume must be positive");
    if (!(e->p_ref_kpa > 0) || !(e->p_cup_kpa > 0) || !(e->p_final_kpa > 0) ||
        !isfinite(e->p_ref_kpa) || !isfinite(e->p_cup_kpa) || !isfinite(e->p_final_kpa))
        return cl_error_set(err, CL_ERR_ARG, "absolute pressures must be positive");
    double vu = isfinite(e->vref_u_ml) ? e->vref_u_ml : 0;
    double pu = isfinite(e->p_u_kpa) ? e->p_u_kpa : 0;
    if (vu < 0 || pu < 0)
        return cl_error_set(err, CL_ERR_ARG, "negative uncertainty");
    double a = e->p_ref_kpa - e->p_final_kpa, b = e->p_final_kpa - e->p_cup_kpa;
    if (!(a * b > 0))
        return cl_error_set(err, CL_ERR_RANGE,
                            "final pressure %.6g kPa does not lie strictly between the "
                            "reference volume's %.6g kPa and the cup's %.6g kPa",
                            e->p_final_kpa, e->p_ref_kpa, e->p_cup_kpa);
    double v = e->vref_ml * a / b;
    double d_vref = a / b;
    double d_pref = e->vref_ml / b;
    double d_pcup = e->vref_ml * a / (b * b);
    double d_pfin = -e->vref_ml * (e->p_ref_kpa - e->p_cup_kpa) / (b * b);
    double var = d_vref * d_vref * vu * vu +
                 (d_pref * d_pref + d_pcup * d_pcup + d_pfin * d_pfin) * pu * pu;
    *v_ml = v;
    *u_ml = sqrt(var);
    return CL_OK;
}

int cl_cupchar_window(const double *t_s, const double *p_kpa, size_t n, double skip_s,
                      const double *release_s, size_t nrel, size_t *from, size_t *to,
                      cl_error *err)
{
    double t_release_s = NAN;
    size_t imin = n;
    *from = *to = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(t_s[i]) && isfinite(p_kpa[i]) && (imin == n || p_kpa[i] < p_kpa[imin]))
            imin = i;
    if (imin == n)
        return cl_error_set(err, CL_ERR_ARG, "no valid samples");
    double pmin = p_kpa[imin];
    for (size_t k = 0; k < nrel; k++)
        if (release_s[k] > t_s[imin] && !(release_s[k] >= t_release_s))
            t_release_s = release_s[k];
    if (!(pmin < 0))
        return cl_error_set(err, CL_ERR_ARG, "the trace holds no vacuum (deepest %.4g kPa)",
                            pmin);
    double start = t_s[imin] + (isfinite(skip_s) && skip_s > 0 ? skip_s : 0);
    size_t a = imin;
    while (a < n && !(t_s[a] >= start))
        a++;
    size_t b = n, j = a;
    for (size_t i = a; i < n; i++) {
        if (isfinite(t_release_s) && t_s[i] >= t_release_s) {
            b = i;
            break;
        }
        if (!isfinite(p_kpa[i]))
            continue;
        if (j < i)
            j = i;
        while (j < n && t_s[j] < t_s[i] + RELEASE_WINDOW_S)
            j++;
        /* Across a gap in the recording a slow decay would look fast. */
        if (j < n && isfinite(p_kpa[j]) && t_s[j] - t_s[i] <= 2 * RELEASE_WINDOW_S &&
            p_kpa[j] - p_kpa[i] > RELEASE_FRACTION * -pmin) {
            b = i;
            break;
        }
    }
    if (b < a + MIN_WINDOW)
        return cl_error_set(err, CL_ERR_ARG,
                            "too few samples in the decay window (%zu from %.4g s)",
                            b > a ? b - a : 0, start);
    *from = a;
    *to = b;
    return CL_OK;
}

int cl_cupchar_leak(const double *t_s, const double *p_kpa, size_t from, size_t to,
                    double volume_ml, double volume_u_ml, double at_kpa, cl_leak *out,
                    cl_error *err)
{
    double *t = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    out->q_mbarl_s = out->q_u_mbarl_s = out->at_kpa = out->dpdt_kpa_s = NAN;
    if (to <= from || to - from < MIN_WINDOW)
        return cl_error_set(err, CL_ERR_ARG, "too few samples for a leak fit (%zu)",
                            to > from ? to - from : 0);
    size_t n = to - from;
    t = malloc(n * sizeof *t);
    if (!t)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        t[i] = t_s[from + i] - t_s[from];
    out->t_from_s = t_s[from];
    out->t_to_s = t_s[to - 1];
    out->n = n;
    rc = cl_decay_fit_model(t, p_kpa + from, 1, n, CL_DECAY_LINEAR, &out->lin_fit, err);
    if (rc != CL_OK)
        goto out;
    /* A failed exponential is not an error: the slope stands. */
    if (cl_decay_fit_model(t, p_kpa + from, 1, n, CL_DECAY_EXP, &out->exp_fit, NULL) != CL_OK)
        out->exp_fit.ok = false;
    out->use_exp = out->exp_fit.ok && isfinite(out->exp_fit.tau_se) &&
                   out->exp_fit.tau_se <= CL_CUPCHAR_TAU_REL * out->exp_fit.tau_s;

    const cl_decay_fit *e = &out->exp_fit, *l = &out->lin_fit;
    double p_at = isfinite(at_kpa) ? at_kpa : out->use_exp ? e->p0_kpa : l->a_kpa;
    out->at_kpa = p_at;
    double var_rate; /* variance of dp/dt, (kPa/s)^2 */
    if (out->use_exp) {
        double g = e->p_inf_kpa - p_at;
        out->dpdt_kpa_s = g / e->tau_s;
        double d_pinf = 1 / e->tau_s, d_tau = -g / (e->tau_s * e->tau_s);
        double rho = isfinite(e->corr_pinf_tau) ? e->corr_pinf_tau : 0;
        var_rate = d_pinf * d_pinf * e->p_inf_se * e->p_inf_se +
                   d_tau * d_tau * e->tau_se * e->tau_se +
                   2 * d_pinf * d_tau * rho * e->p_inf_se * e->tau_se;
    } else {
        out->dpdt_kpa_s = l->slope_kpa_s;
        var_rate = l->slope_se * l->slope_se;
    }
    if (var_rate < 0)
        var_rate = 0;
    if (isfinite(volume_ml) && volume_ml > 0) {
        double vu = isfinite(volume_u_ml) ? volume_u_ml : 0;
        out->q_mbarl_s = volume_ml * out->dpdt_kpa_s / 100;
        out->q_u_mbarl_s = sqrt(out->dpdt_kpa_s * out->dpdt_kpa_s * vu * vu +
                                volume_ml * volume_ml * var_rate) /
                           100;
    }
out:
    free(t);
    return rc;
}

void cl_cupchar_leak_to_cup(const cl_leak *l, cl_cupset_cup *c)
{
    const cl_decay_fit *e = &l->exp_fit, *f = &l->lin_fit;
    c->leak_model = l->use_exp ? "exp" : "linear";
    c->leak_tau_s = e->ok ? e->tau_s : NAN;
    c->leak_tau_se = e->ok ? e->tau_se : NAN;
    c->leak_p0_kpa = e->ok ? e->p0_kpa : NAN;
    c->leak_p0_se = e->ok ? e->p0_se : NAN;
    c->leak_p_inf_kpa = e->ok ? e->p_inf_kpa : NAN;
    c->leak_p_inf_se = e->ok ? e->p_inf_se : NAN;
    c->leak_corr_pinf_tau = e->ok ? e->corr_pinf_tau : NAN;
    c->leak_identifiable = e->ok ? e->identifiable : 0;
    c->leak_slope_kpa_s = f->slope_kpa_s;
    c->leak_slope_se = f->slope_se;
    c->leak_r2 = l->use_exp ? e->r2 : f->r2;
    c->leak_sigma_kpa = l->use_exp ? e->sigma_kpa : f->sigma_kpa;
    c->leak_t_from_s = l->t_from_s;
    c->leak_t_to_s = l->t_to_s;
    c->leak_n = l->n;
    c->leak_at_kpa = l->at_kpa;
    c->leak_q_mbarl_s = l->q_mbarl_s;
    c->leak_q_u_mbarl_s = l->q_u_mbarl_s;
}

void cl_cupchar_trace_release(cl_trace *t)
{
    if (!t)
        return;
    free(t->t_s);
    free(t->p_kpa);
    free(t->release_s);
    t->t_s = t->p_kpa = t->release_s = NULL;
    t->n = t->nrelease = 0;
}

/* A host time h on the trace's time line: the last row at or before h, plus
 * the host time elapsed since. */
static double host_to_trace(const double *host, const double *t, size_t n, double h)
{
    size_t lo = 0, hi = n;
    if (n == 0 || h < host[0])
        return h;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (host[mid] <= h)
            lo = mid;
        else
            hi = mid;
    }
    return t[lo] + (h - host[lo]);
}

/* The index of cup `cup_id` in the session, or the number of cups. */
static size_t find_cup(const cl_session_reader *r, const char *cup_id)
{
    size_t cup, ncups = cl_session_cup_count(r);
    for (cup = 0; cup < ncups; cup++) {
        const cl_session_cup *info = cl_session_cup_info(r, cup);
        if (info && info->cup_id && strcmp(info->cup_id, cup_id) == 0)
            break;
    }
    return cup;
}

/* The profile is for the cup's sensor and was valid when the session was
 * recorded (out->recorded: then, if the file says). */
static int check_profile(cl_session_reader *r, const char *path, const cl_session_cup *info,
                         const cl_sensor_profile *prof, cl_trace *out, cl_error *err)
{
    const char *serial = cl_sensor_profile_serial(prof);
    if (info->sensor_serial && *info->sensor_serial && *serial &&
        strcmp(info->sensor_serial, serial) != 0)
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: cup %s has sensor %s, the profile is for sensor %s", path,
                            info->cup_id, info->sensor_serial, serial);
    const char *created = cl_session_attr(r, "created_utc");
    time_t when;
    if (created && *created && cl_profile_parse_date(created, &when, NULL) == CL_OK)
        out->recorded = when;
    else
        when = time(NULL);
    int rc = cl_sensor_profile_check_valid(prof, when, err);
    if (rc != CL_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        cl_error_set(err, rc, "%s: %s at the time of the recording", path, msg);
    }
    return rc;
}

/* The trace's time on the device's clock when it is usable (known unit,
 * never going back); *host keeps the host times then (malloc'ed).  `raw` is
 * room for the rows. */
static int device_clock(cl_session_reader *r, const char *path, const cl_session_cup *info,
                        size_t rows, double *raw, cl_trace *out, double **host, cl_error *err)
{
    const cl_session_device *dev = cl_session_device_info(r, info->device);
    double unit = dev ? cl_unit_time_s(dev->time_units) : 0;
    if (!rows || unit == 0)
        return CL_OK;
    int rc = cl_session_read_device_time(r, info->device, 0, rows, raw, err);
    if (rc != CL_OK)
        return rc;
    for (size_t i = 0; i < rows; i++)
        if (!isfinite(raw[i]) || (i > 0 && raw[i] < raw[i - 1]))
            return CL_OK;
    if (!(*host = malloc(rows * sizeof **host)))
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    memcpy(*host, out->t_s, rows * sizeof **host);
    for (size_t i = 0; i < rows; i++)
        out->t_s[i] = (*host)[0] + (raw[i] - raw[0]) * unit;
    out->device_clock = true;
    return CL_OK;
}

/* Pressures through the profile; readings outside its range counted. */
static void calibrate_trace(const cl_sensor_profile *prof, const double *raw, size_t rows,
                            cl_trace *out)
{
    double lo, hi;
    cl_sensor_profile_raw_range(prof, &lo, &hi);
    for (size_t i = 0; i < rows; i++) {
        out->p_kpa[i] = isfinite(raw[i]) ? cl_sensor_profile_kpa(prof, raw[i]) : NAN;
        if (isfinite(raw[i]) && ((isfinite(lo) && raw[i] < lo) || (isfinite(hi) && raw[i] > hi)))
            out->out_of_range++;
    }
    out->n = rows;
}

/* The times cup `cup` (or all cups) was marked released, on the trace's
 * time axis. */
static int release_times(cl_session_reader *r, const char *path, size_t cup, const double *host,
                         cl_trace *out, cl_error *err)
{
    for (size_t i = 0; i < cl_session_event_count(r); i++) {
        cl_session_event ev;
        if (cl_session_event_get(r, i, &ev, NULL) != CL_OK)
            continue;
        if (ev.kind != CL_EVENT_RELEASED || !(ev.cup == (int32_t)cup || ev.cup < 0) ||
            !isfinite(ev.t))
            continue;
        double *p = realloc(out->release_s, (out->nrelease + 1) * sizeof *p);
        if (!p)
            return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        out->release_s = p;
        out->release_s[out->nrelease++] =
            host ? host_to_trace(host, out->t_s, out->n, ev.t) : ev.t;
    }
    return CL_OK;
}

int cl_cupchar_session_trace(const char *path, const char *cup_id,
                             const cl_sensor_profile *prof, cl_trace *out, cl_error *err)
{
    cl_session_reader *r = NULL;
    double *raw = NULL;
    double *host = NULL; /* host times, when t_s is on the device's clock */
    int rc;

    memset(out, 0, sizeof *out);
    out->recorded = (time_t)-1;
    if ((rc = cl_session_open(&r, path, err)) != CL_OK)
        return rc;
    size_t cup = find_cup(r, cup_id);
    if (cup == cl_session_cup_count(r)) {
        rc = cl_error_set(err, CL_ERR_NOTFOUND, "%s: no cup %s in the session", path, cup_id);
        goto out;
    }
    const cl_session_cup *info = cl_session_cup_info(r, cup);
    if ((rc = check_profile(r, path, info, prof, out, err)) != CL_OK)
        goto out;
    size_t rows = cl_session_rows(r, info->device);
    out->t_s = malloc((rows ? rows : 1) * sizeof *out->t_s);
    out->p_kpa = malloc((rows ? rows : 1) * sizeof *out->p_kpa);
    raw = malloc((rows ? rows : 1) * sizeof *raw);
    if (!out->t_s || !out->p_kpa || !raw) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory for %zu rows", path, rows);
        goto out;
    }
    if ((rows && (rc = cl_session_read_host_time(r, info->device, 0, rows, out->t_s, err))) ||
        (rc = device_clock(r, path, info, rows, raw, out, &host, err)) != CL_OK ||
        (rows &&
         (rc = cl_session_read_channel(r, info->device, info->channel, 0, rows, raw, err))))
        goto out;
    calibrate_trace(prof, raw, rows, out);
    rc = release_times(r, path, cup, host, out, err);
out:
    free(raw);
    free(host);
    if (rc != CL_OK)
        cl_cupchar_trace_release(out);
    cl_session_reader_close(r);
    return rc;
}
