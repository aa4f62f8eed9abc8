/*
 * cl_sim: the physical model behind the virtual device (cuplab-sim) and the
 * example datasets.  Pure functions of parameters and time; randomness comes
 * only from the caller's GSL generator, so a seed reproduces a session
 * bit for bit.
 *
 * Pressures are gauge pressures in kPa (a cup under suction is negative).
 * One cup's trace:
 *   baseline (0 kPa) until t_apply_s
 *   evacuation: pump cups drop in `pump_strokes` steps (gas sharing between
 *     cup and pump chamber), `stroke_interval_s` apart, reaching peak_kpa;
 *     fire cups drop within ~1 s to fire_initial_kpa, then gain vacuum as the
 *     trapped air cools: p += (peak_kpa - fire_initial_kpa)(1 - e^-(t/cool_tau_s))
 *   hold: p(t) = p_inf + (p0 - p_inf) e^(-(t - t_hold)/tau_s), p0 = vacuum at
 *     hold start (pump) ; for fire cups the cooling gain and the leak combine
 *   release at t_apply_s + evac + hold_s: back to 0 within release_s (linear)
 * Sensor: MPXV6115V-like ratiometric transfer into an ADC,
 *   raw = round(adc_max * (gain * 0.007652 * p + offset)) + noise,
 *   clipped to [0, adc_max]; gain ~ 1, offset ~ 0.92 per sensor.
 */
#ifndef CL_SIM_H
#define CL_SIM_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

typedef enum cl_sim_technique {
    CL_SIM_PUMP = 1,
    CL_SIM_FIRE = 2,
} cl_sim_technique;

typedef struct cl_sim_cup {
    cl_sim_technique technique;
    double t_apply_s;         /* application starts */
    int pump_strokes;         /* pump: number of strokes (>= 1) */
    double stroke_interval_s; /* pump: time between strokes */
    double peak_kpa;          /* vacuum at hold start (pump) / after cooling (fire), < 0 */
    double fire_initial_kpa;  /* fire: vacuum right after the flame, < 0 */
    double cool_tau_s;        /* fire: cooling time constant */
    double hold_s;            /* hold duration */
    double tau_s;             /* leak time constant of the hold decay */
    double p_inf_kpa;         /* asymptote of the decay (0 = ambient) */
    double release_s;         /* release duration */
    double noise_kpa;         /* sensor noise, standard deviation */
} cl_sim_cup;

typedef struct cl_sim_sensor {
    double gain;     /* multiplies the nominal sensitivity 0.007652 /kPa */
    double offset;   /* output fraction at 0 kPa, nominal 0.92 */
    int adc_bits;    /* 10 or 12 */
} cl_sim_sensor;

/* Time the hold starts (end of evacuation) and the release starts. */
double cl_sim_hold_start(const cl_sim_cup *c);
double cl_sim_release_start(const cl_sim_cup *c);
/* Noise-free gauge pressure at time t (seconds since session start). */
double cl_sim_pressure_kpa(const cl_sim_cup *c, double t_s);
/* Noise-free and noisy raw ADC reading for pressure p (noise drawn from r
 * when r != NULL). */
double cl_sim_sensor_ideal(const cl_sim_sensor *s, double p_kpa);
int32_t cl_sim_sensor_read(const cl_sim_sensor *s, double p_kpa, double noise_kpa,
                           gsl_rng *r);
/* Inverse of the ideal transfer: raw reading -> kPa. */
double cl_sim_sensor_inverse(const cl_sim_sensor *s, double raw);

/* Draw plausible parameters (published cupping ranges, see docs) for cup
 * number `index` of a session starting application around t0_s. */
void cl_sim_cup_random(cl_sim_cup *c, cl_sim_technique t, double t0_s, gsl_rng *r);
void cl_sim_sensor_random(cl_sim_sensor *s, gsl_rng *r);

#endif
