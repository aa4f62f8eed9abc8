/*
 * cl_cupchar: characterisation of a cup set, the numerics behind the cupset
 * profile: a cup's internal volume by gas expansion (Boyle's law), and its
 * baseline leak on a sealed test plate from a decay recording (cl_decay
 * exponential fit -> tau, and the volumetric leak rate Q = V dp/dt).
 *
 * Gas expansion: a reference volume V_ref at absolute pressure P_ref is
 * opened onto the cup at absolute pressure P_cup; both settle, at the same
 * temperature, to P_final.  Boyle: P_ref V_ref + P_cup V = P_final (V_ref + V),
 *   V = V_ref (P_ref - P_final) / (P_final - P_cup).
 * Its standard uncertainty propagates u(V_ref) and an independent u(P) of
 * each pressure reading to first order (GUM):
 *   dV/dV_ref   = (P_ref - P_final) / (P_final - P_cup)
 *   dV/dP_ref   = V_ref / (P_final - P_cup)
 *   dV/dP_cup   = V_ref (P_ref - P_final) / (P_final - P_cup)^2
 *   dV/dP_final = -V_ref (P_ref - P_cup) / (P_final - P_cup)^2
 * An error of the ambient pressure common to the three readings cancels.
 *
 * Leak: Q in mbar L/s = V[L] * dp/dt[mbar/s] = V_ml * dp/dt_kpa_s / 100.
 * From the exponential p(t) = p_inf + (p0 - p_inf) e^(-t/tau), at the stated
 * vacuum p_at: dp/dt = (p_inf - p_at) / tau, so Q = V (p_inf - p_at) / tau / 100
 * (positive: gas leaks in).  Its standard uncertainty combines u(V), SE(tau),
 * SE(p_inf) and their correlation.  The exponential is used when its fit
 * converged and tau is known to CL_CUPCHAR_TAU_REL (10 %); p_inf and tau may
 * then still be strongly correlated (cl_decay's "identifiable" is false on
 * windows shorter than about 2 tau), which the correlation term of u(Q)
 * accounts for: dp/dt inside the window is well determined even when p_inf
 * is not.  Otherwise Q comes from the linear slope over the window.
 */
#ifndef CL_CUPCHAR_H
#define CL_CUPCHAR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cl_cupset.h"
#include "cl_decay.h"
#include "cl_error.h"
#include "cl_sensor.h"

/* Largest SE(tau)/tau for which Q comes from the exponential. */
#define CL_CUPCHAR_TAU_REL 0.1
/* Default seconds skipped after the deepest vacuum (settling). */
#define CL_CUPCHAR_SKIP_S 5.0

typedef struct cl_expansion {
    double vref_ml, vref_u_ml;                /* reference volume, standard uncertainty */
    double p_ref_kpa, p_cup_kpa, p_final_kpa; /* absolute pressures, kPa */
    double p_u_kpa;                           /* standard uncertainty of each reading */
} cl_expansion;

/* Volume of the cup and its standard uncertainty, mL.  CL_ERR_ARG for a
 * non-positive or non-finite input, CL_ERR_RANGE if P_final does not lie
 * strictly between P_ref and P_cup. */
int cl_cupchar_expansion(const cl_expansion *e, double *v_ml, double *u_ml, cl_error *err);

/* Window of a decay trace to fit: from the deepest vacuum plus skip_s to
 * just before the release.  The release is the first time after the
 * start where the pressure rises by more than 20 % of the deepest vacuum
 * within 2 s (not counting rises across gaps in the recording longer than
 * 4 s), or the first of the known release times (release_s[0..nrel),
 * e.g. "released" markers) after the deepest vacuum if that comes first.
 * Returns [*from, *to) sample indices; CL_ERR_ARG if fewer than 10 samples
 * remain or the trace holds no vacuum (deepest reading >= 0). */
int cl_cupchar_window(const double *t_s, const double *p_kpa, size_t n, double skip_s,
                      const double *release_s, size_t nrel, size_t *from, size_t *to,
                      cl_error *err);

typedef struct cl_leak {
    cl_decay_fit exp_fit, lin_fit; /* both fits, t from the window start */
    bool use_exp;                  /* Q from the exponential (else the slope) */
    double t_from_s, t_to_s;       /* window, in the trace's time */
    size_t n;                      /* samples in the window */
    double at_kpa;                 /* vacuum at which Q is stated */
    double dpdt_kpa_s;             /* dp/dt there */
    double q_mbarl_s, q_u_mbarl_s; /* NaN without a volume */
} cl_leak;

/* Fit the decay (t_s, p_kpa)[from, to) and state Q at at_kpa (NaN: the
 * fitted pressure at the window start).  volume_ml NaN: Q is NaN, tau is
 * still fitted.  CL_ERR_ARG / CL_ERR_NUMERIC from cl_decay when even the
 * linear fit fails. */
int cl_cupchar_leak(const double *t_s, const double *p_kpa, size_t from, size_t to,
                    double volume_ml, double volume_u_ml, double at_kpa, cl_leak *out,
                    cl_error *err);

/* Copy a leak result into the leak fields of a cup. */
void cl_cupchar_leak_to_cup(const cl_leak *l, cl_cupset_cup *cup);

/* A calibrated pressure trace of one cup of a session file.  Times are
 * seconds since the session start, measured with the device's clock when
 * the device sends timestamps in known units (us, ms, s) that never go
 * back (t = host_time[0] + device_time - device_time[0]), otherwise with
 * the host's clock; markers are mapped onto the same time line. */
typedef struct cl_trace {
    double *t_s;   /* seconds since session start */
    double *p_kpa; /* gauge pressure through the sensor profile */
    size_t n;
    double *release_s; /* times of "released" events for the cup (or all) */
    size_t nrelease;
    time_t recorded;     /* session creation time, -1 if unknown */
    size_t out_of_range; /* raw readings outside the profile's raw range */
    bool device_clock;   /* t_s from the device's timestamps */
} cl_trace;

/* Read cup `cup_id` of session `path` and calibrate it with `prof`.  The
 * profile must belong to the cup's sensor (when the session names one) and be
 * valid at the time of the recording.  Errors name the file: CL_ERR_NOTFOUND
 * (no such cup), CL_ERR_ARG (serial mismatch), CL_ERR_EXPIRED, or those of
 * cl_session. */
int cl_cupchar_session_trace(const char *path, const char *cup_id,
                             const cl_sensor_profile *prof, cl_trace *out, cl_error *err);
void cl_cupchar_trace_release(cl_trace *t); /* frees the arrays; accepts NULL */

#endif
