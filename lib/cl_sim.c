/*
 * cl_sim: the cup pressure model and the sensor transfer used by the virtual
 * device.  Every function here is a pure function of its parameters; the
 * only randomness is drawn from the caller's generator, in a fixed order, so
 * a seed reproduces a session exactly.  See cl_sim.h for the model.
 */
#include "cl_sim.h"
#include "cl_metrics.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

static const double two_pi = 6.283185307179586;

const char *cl_sim_technique_name(cl_sim_technique t)
{
    switch (t) {
    case CL_SIM_PUMP:
        return "pump";
    case CL_SIM_FIRE:
        return "fire";
    }
    return "unknown";
}

/* Duration of the evacuation phase, seconds. */
static double evac_s(const cl_sim_cup *c)
{
    if (c->technique == CL_SIM_FIRE)
        return CL_SIM_FIRE_DROP_S;
    int n = c->pump_strokes < 1 ? 1 : c->pump_strokes;
    return (n - 1) * c->stroke_interval_s + CL_SIM_STROKE_SETTLE_S;
}

double cl_sim_hold_start(const cl_sim_cup *c)
{
    return c->t_apply_s + evac_s(c);
}

double cl_sim_release_start(const cl_sim_cup *c)
{
    return cl_sim_hold_start(c) + c->hold_s;
}

double cl_sim_release_end(const cl_sim_cup *c)
{
    return cl_sim_release_start(c) + (c->release_s > 0 ? c->release_s : 0);
}

double cl_sim_stroke_kpa(const cl_sim_cup *c, int k)
{
    int n = c->pump_strokes;
    if (c->technique != CL_SIM_PUMP || n < 1 || k < 1 || k > n)
        return 0;
    if (k == n)
        return c->peak_kpa;
    /* Each stroke removes the same fraction of the remaining distance to the
     * pump's limit: vacuum after k strokes ∝ 1 - a^k. */
    double a = CL_SIM_STROKE_RATIO;
    return c->peak_kpa * (1 - pow(a, k)) / (1 - pow(a, n));
}

/* Exponential approach from 0 to 1 over [0, window_s] with time constant
 * tau_s, normalised to reach exactly 1 at window_s. */
static double settle(double x_s, double tau_s, double window_s)
{
    if (x_s <= 0)
        return 0;
    if (x_s >= window_s)
        return 1;
    return -expm1(-x_s / tau_s) / -expm1(-window_s / tau_s);
}

/* Hold-phase pressure, u_s seconds after the hold started. */
static double hold_kpa(const cl_sim_cup *c, double u_s)
{
    double pc = c->peak_kpa;
    if (c->technique == CL_SIM_FIRE) {
        double cool = c->cool_tau_s > 0 ? -expm1(-u_s / c->cool_tau_s) : 1;
        pc = c->fire_initial_kpa + (c->peak_kpa - c->fire_initial_kpa) * cool;
    }
    double leak = c->tau_s > 0 ? exp(-u_s / c->tau_s) : 1;
    return c->p_inf_kpa + (pc - c->p_inf_kpa) * leak;
}

double cl_sim_pressure_kpa(const cl_sim_cup *c, double t_s)
{
    double x = t_s - c->t_apply_s;
    if (!(x >= 0))
        return 0;
    double t_hold = cl_sim_hold_start(c);
    if (t_s < t_hold) {
        if (c->technique == CL_SIM_FIRE)
            return c->fire_initial_kpa * settle(x, CL_SIM_FIRE_DROP_TAU_S, CL_SIM_FIRE_DROP_S);
        int n = c->pump_strokes < 1 ? 1 : c->pump_strokes;
        int j = c->stroke_interval_s > 0 ? (int)floor(x / c->stroke_interval_s) : 0;
        if (j > n - 1)
            j = n - 1;
        double from = cl_sim_stroke_kpa(c, j), to = cl_sim_stroke_kpa(c, j + 1);
        double xs = x - j * c->stroke_interval_s;
        return from + (to - from) * settle(xs, CL_SIM_STROKE_TAU_S, CL_SIM_STROKE_SETTLE_S);
    }
    double t_rel = cl_sim_release_start(c);
    if (t_s < t_rel)
        return hold_kpa(c, t_s - t_hold);
    if (c->release_s <= 0 || t_s >= t_rel + c->release_s)
        return 0;
    return hold_kpa(c, c->hold_s) * (1 - (t_s - t_rel) / c->release_s);
}

/* Ripple at time t for a cup whose smooth pressure then is p_kpa. */
static double ripple(const cl_sim_cup *c, double t_s, double p_kpa)
{
    if (p_kpa == 0 || c->peak_kpa >= 0)
        return 0;
    double breath = two_pi * c->breath_hz * t_s + c->breath_phase_rad;
    for (int m = 0; m < 2 && c->breath_drift > 0; m++) /* the frequency's integral */
        breath += c->breath_hz * c->breath_drift / (2 * c->breath_mod_hz[m]) *
                  sin(two_pi * c->breath_mod_hz[m] * t_s + c->breath_mod_phase_rad[m]);
    double r = c->breath_kpa * sin(breath) +
               c->pulse_kpa * sin(two_pi * c->pulse_hz * t_s + c->pulse_phase_rad);
    return p_kpa / c->peak_kpa * r;
}

double cl_sim_ripple_kpa(const cl_sim_cup *c, double t_s)
{
    return ripple(c, t_s, cl_sim_pressure_kpa(c, t_s));
}

double cl_sim_sample_kpa(const cl_sim_cup *c, double t_s)
{
    double p = cl_sim_pressure_kpa(c, t_s);
    return p + ripple(c, t_s, p);
}

int32_t cl_sim_sensor_max(const cl_sim_sensor *s)
{
    int bits = s->adc_bits < 1 ? 1 : s->adc_bits > 30 ? 30 : s->adc_bits;
    return (int32_t)((1L << bits) - 1);
}

double cl_sim_sensor_ideal(const cl_sim_sensor *s, double p_kpa)
{
    return cl_sim_sensor_max(s) * (s->gain * CL_NOMINAL_SENSITIVITY_PER_KPA * p_kpa + s->offset);
}

int32_t cl_sim_sensor_read(const cl_sim_sensor *s, double p_kpa, double noise_kpa, gsl_rng *r)
{
    if (r && noise_kpa > 0)
        p_kpa += gsl_ran_gaussian(r, noise_kpa);
    double v = round(cl_sim_sensor_ideal(s, p_kpa));
    int32_t max = cl_sim_sensor_max(s);
    if (!(v > 0))
        return 0;
    if (v > max)
        return max;
    return (int32_t)v;
}

double cl_sim_sensor_inverse(const cl_sim_sensor *s, double raw)
{
    return (raw / cl_sim_sensor_max(s) - s->offset) / (s->gain * CL_NOMINAL_SENSITIVITY_PER_KPA);
}

/* Uniform draw in [lo, hi). */
static double uniform(gsl_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * gsl_rng_uniform(r);
}

static double mmhg(double v)
{
    return v * CL_KPA_PER_MMHG;
}

void cl_sim_cup_random(cl_sim_cup *c, cl_sim_technique t, double t0_s, gsl_rng *r)
{
    *c = (cl_sim_cup){0};
    c->technique = t == CL_SIM_FIRE ? CL_SIM_FIRE : CL_SIM_PUMP;
    c->t_apply_s = t0_s;
    if (c->technique == CL_SIM_PUMP) {
        c->pump_strokes = 1 + (int)gsl_rng_uniform_int(r, 4);
        c->stroke_interval_s = uniform(r, 1.5, 3.0);
        c->peak_kpa = mmhg(-uniform(r, 150, 450));
        c->hold_s = uniform(r, 180, 600);
        c->tau_s = uniform(r, 300, 1500);
    } else {
        c->fire_initial_kpa = mmhg(-uniform(r, 200, 300));
        c->peak_kpa = mmhg(-uniform(r, 300, 400));
        if (c->peak_kpa > c->fire_initial_kpa)
            c->peak_kpa = c->fire_initial_kpa;
        c->cool_tau_s = uniform(r, 60, 180);
        c->hold_s = uniform(r, 180, 600);
        c->tau_s = uniform(r, 1500, 6000);
    }
    if (c->peak_kpa < CL_SIM_LIMIT_KPA)
        c->peak_kpa = CL_SIM_LIMIT_KPA;
    c->p_inf_kpa = c->peak_kpa * uniform(r, 0, 0.6);
    c->release_s = uniform(r, 1, 3);
    c->noise_kpa = mmhg(0.3);
    c->breath_kpa = mmhg(uniform(r, 0.3, 1.5));
    c->breath_hz = uniform(r, 0.2, 0.3);
    c->breath_phase_rad = uniform(r, 0, two_pi);
    c->pulse_kpa = mmhg(uniform(r, 0.1, 0.5));
    c->pulse_hz = uniform(r, 1.0, 1.5);
    c->pulse_phase_rad = uniform(r, 0, two_pi);
}

void cl_sim_cup_irregular(cl_sim_cup *c, double drift, gsl_rng *r)
{
    c->breath_drift = drift;
    for (int m = 0; m < 2; m++) {
        c->breath_mod_hz[m] = 1 / uniform(r, 50, 200);
        c->breath_mod_phase_rad[m] = uniform(r, 0, two_pi);
    }
}

double cl_sim_disturbance(const cl_sim_cup *c, cl_sim_disturb_state *st, double t_s,
                          gsl_rng *r)
{
    if (!(c->disturb_kpa > 0) || !(c->disturb_tau_s > 0))
        return 0;
    if (!st->started) {
        st->value_kpa = gsl_ran_gaussian(r, c->disturb_kpa);
    } else {
        double a = exp(-fmax(t_s - st->t_s, 0) / c->disturb_tau_s);
        st->value_kpa = a * st->value_kpa + gsl_ran_gaussian(r, c->disturb_kpa * sqrt(1 - a * a));
    }
    st->started = 1;
    st->t_s = t_s;
    return st->value_kpa;
}

void cl_sim_sensor_random(cl_sim_sensor *s, gsl_rng *r)
{
    s->gain = uniform(r, 0.97, 1.03);
    s->offset = uniform(r, 0.91, 0.93);
    s->adc_bits = 12;
}

void cl_sim_hold_estimands(const cl_sim_cup *c, double w0, double w1, double rate_hz,
                           double bin_s, cl_sim_hold_truth *h)
{
    *h = (cl_sim_hold_truth){NAN, NAN, NAN, NAN};
    if (!(w1 > w0) || !(rate_hz > 0))
        return;
    size_t j0 = (size_t)ceil(w0 * rate_hz), j1 = (size_t)ceil(w1 * rate_hz), n = j1 - j0;
    double *t = malloc((n ? n : 1) * sizeof *t), *v = malloc((n ? n : 1) * sizeof *v);
    double *bt = NULL, *bv = NULL;
    size_t nb = 0;
    for (size_t i = 0; t && v && i < n; i++) {
        t[i] = (double)(j0 + i) / rate_hz;
        v[i] = -cl_sim_pressure_kpa(c, t[i]);
    }
    if (t && v && cl_metrics_blocks(t, v, 1, 0, n, w0, bin_s, &bt, &bv, &nb) == CL_OK && nb) {
        double st = 0, sv = 0, stt = 0, stv = 0;
        for (size_t k = 0; k < nb; k++) {
            st += bt[k];
            sv += bv[k];
            stt += bt[k] * bt[k];
            stv += bt[k] * bv[k];
        }
        h->slope_kpa_min = nb > 1 ? -(stv - st * sv / (double)nb) /
                                        (stt - st * st / (double)nb) * 60
                                  : NAN;
        h->mean_kpa = sv / (double)nb;
        h->rel_pct_min = h->mean_kpa != 0 ? 100 * h->slope_kpa_min / h->mean_kpa : NAN;
    }
    h->k_per_min = c->tau_s > 0 ? 60 / c->tau_s : NAN;
    free(t);
    free(v);
    free(bt);
    free(bv);
}
