/*
 * cl_sim: the physical model behind the virtual device (cuplab-sim) and the
 * example datasets.  Pure functions of parameters and time; randomness comes
 * only from the caller's GSL generator, so a seed reproduces a session
 * bit for bit.
 *
 * Pressures are gauge pressures in kPa (a cup under suction is negative).
 * One cup's trace:
 *   baseline (0 kPa) until t_apply_s
 *   evacuation:
 *     pump cups drop in `pump_strokes` steps, `stroke_interval_s` apart, the
 *       first at t_apply_s.  Gas sharing between cup and pump chamber makes
 *       the vacuum after stroke k follow 1 - a^k (a = CL_SIM_STROKE_RATIO,
 *       nominal 100 mL cup, 30 mL stroke, 5 mL dead volume), scaled so that
 *       the last stroke reaches peak_kpa.  Each stroke settles exponentially
 *       (time constant CL_SIM_STROKE_TAU_S) and is complete, exactly, after
 *       CL_SIM_STROKE_SETTLE_S; the hold starts then.
 *     fire cups drop within CL_SIM_FIRE_DROP_S to fire_initial_kpa; the hold
 *       starts then.
 *   hold, u = t - t_hold:
 *     p(t) = p_inf + (p_c(u) - p_inf) e^(-u/tau_s)
 *     pump: p_c(u) = peak_kpa (so p0 = peak_kpa);
 *     fire: p_c(u) = fire_initial_kpa
 *                    + (peak_kpa - fire_initial_kpa)(1 - e^(-u/cool_tau_s)),
 *           the trapped air cooling; the leak acts on top of it.
 *     With p_inf between peak_kpa and 0 the trace never goes deeper than
 *     peak_kpa.
 *   release at t_hold + hold_s: linear from the vacuum reached back to 0
 *     within release_s; 0 afterwards.
 * Physiological ripple (breathing, pulse) is separate from the smooth trace:
 * cl_sim_ripple_kpa() is a deterministic function of the cup's parameters,
 * scaled by the current vacuum (zero while the cup is off the skin).
 * Sensor: MPXV6115V-like ratiometric transfer into an ADC,
 *   raw = round(adc_max * (gain * 0.007652 * (p + noise) + offset)),
 *   clipped to [0, adc_max], adc_max = 2^adc_bits - 1, noise ~ N(0, noise_kpa);
 *   gain ~ 1, offset ~ 0.92 per sensor.
 */
#ifndef CL_SIM_H
#define CL_SIM_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "cl_units.h"

/* Deepest vacuum the random generators may produce (-650 mmHg), kPa. */
#define CL_SIM_LIMIT_KPA (-650.0 * CL_KPA_PER_MMHG)
/* Pump stroke model: the gas-sharing ratio V_c / (V_c + V_s + V_d). */
#define CL_SIM_STROKE_RATIO (100.0 / 135.0)
#define CL_SIM_STROKE_TAU_S 0.1
#define CL_SIM_STROKE_SETTLE_S 0.5
/* Fire cups: duration of the initial drop, and its time constant. */
#define CL_SIM_FIRE_DROP_S 1.0
#define CL_SIM_FIRE_DROP_TAU_S 0.25

typedef enum cl_sim_technique {
    CL_SIM_PUMP = 1,
    CL_SIM_FIRE = 2,
} cl_sim_technique;

typedef struct cl_sim_cup {
    cl_sim_technique technique;
    double t_apply_s;         /* application starts */
    int pump_strokes;         /* pump: number of strokes (>= 1); fire: 0 */
    double stroke_interval_s; /* pump: time between strokes (> CL_SIM_STROKE_SETTLE_S) */
    double peak_kpa;          /* vacuum at hold start (pump) / after cooling (fire), < 0 */
    double fire_initial_kpa;  /* fire: vacuum right after the flame, < 0 */
    double cool_tau_s;        /* fire: cooling time constant (> 0) */
    double hold_s;            /* hold duration */
    double tau_s;             /* leak time constant of the hold decay (> 0) */
    double p_inf_kpa;         /* asymptote of the decay (0 = ambient) */
    double release_s;         /* release duration (> 0) */
    double noise_kpa;         /* sensor noise, standard deviation */
    /* Physiological ripple, amplitudes at peak vacuum (0 = none). */
    double breath_kpa, breath_hz, breath_phase_rad;
    double pulse_kpa, pulse_hz, pulse_phase_rad;
    /* Irregular breathing (cl_sim_cup_irregular; drift 0 = steady): the
     * breathing frequency is breath_hz (1 + drift/2 sum_m cos(2 pi
     * mod_hz[m] t + mod_phase[m])), within +-drift of breath_hz. */
    double breath_drift, breath_mod_hz[2], breath_mod_phase_rad[2];
    /* A slow disturbance added to what the sensor sees (cl_sim_disturbance):
     * a stationary AR(1) process, SD disturb_kpa, correlation time
     * disturb_tau_s (0 = none). */
    double disturb_kpa, disturb_tau_s;
} cl_sim_cup;

/* The state of a cup's disturbance between samples. */
typedef struct cl_sim_disturb_state {
    double value_kpa, t_s;
    int started;
} cl_sim_disturb_state;

typedef struct cl_sim_sensor {
    double gain;   /* multiplies the nominal sensitivity 0.007652 /kPa */
    double offset; /* output fraction at 0 kPa, nominal 0.92 */
    int adc_bits;  /* ADC resolution, 8..24 (10 or 12 typical) */
} cl_sim_sensor;

const char *cl_sim_technique_name(cl_sim_technique t); /* "pump" / "fire" */

/* Time the hold starts (end of evacuation), the release starts and the
 * release ends (cup back at 0 kPa), seconds since session start. */
double cl_sim_hold_start(const cl_sim_cup *c);
double cl_sim_release_start(const cl_sim_cup *c);
double cl_sim_release_end(const cl_sim_cup *c);
/* Pump cups: settled vacuum after stroke k (1..pump_strokes), kPa; the
 * last one equals peak_kpa.  0 for k out of range or fire cups. */
double cl_sim_stroke_kpa(const cl_sim_cup *c, int k);
/* Noise-free gauge pressure at time t (seconds since session start). */
double cl_sim_pressure_kpa(const cl_sim_cup *c, double t_s);
/* Breathing + pulse ripple at time t, kPa, scaled by
 * cl_sim_pressure_kpa(c, t) / peak_kpa; add it to the smooth trace. */
double cl_sim_ripple_kpa(const cl_sim_cup *c, double t_s);
/* What the sensor sees before its noise: the smooth trace plus the ripple
 * (equal to the sum of the two functions above, computed once). */
double cl_sim_sample_kpa(const cl_sim_cup *c, double t_s);
/* The disturbance at time t (at or after the previous call's), drawn from
 * r: exact AR(1) steps exp(-dt / disturb_tau_s) between the calls, the
 * first from the stationary distribution.  0 when disturb_kpa is 0. */
double cl_sim_disturbance(const cl_sim_cup *c, cl_sim_disturb_state *st, double t_s,
                          gsl_rng *r);
/* Make c's breathing irregular: frequency excursions up to +-drift
 * (relative), modulated at 0.005-0.02 Hz (periods of 50-200 s), phases
 * drawn from r. */
void cl_sim_cup_irregular(cl_sim_cup *c, double drift, gsl_rng *r);

/* The estimands of a hold over the window [win_start_s, win_end_s]
 * (seconds since session start) as the analysis fits it: the noise-free
 * vacuum (-pressure) sampled at rate_hz (at the times j / rate_hz a
 * recording from time 0 has) and averaged in the analysis's blocks of bin_s
 * (cl_metrics_blocks) from the first sample in the window:
 *   k_per_min      leak rate constant 60 / tau_s
 *   slope_kpa_min  decay slope: minus the least-squares slope of the block
 *                  means, per minute (positive = losing vacuum)
 *   mean_kpa       mean of the block means
 *   rel_pct_min    100 slope_kpa_min / mean_kpa
 * All NaN when the window is empty. */
typedef struct cl_sim_hold_truth {
    double k_per_min, slope_kpa_min, mean_kpa, rel_pct_min;
} cl_sim_hold_truth;
void cl_sim_hold_estimands(const cl_sim_cup *c, double win_start_s, double win_end_s,
                           double rate_hz, double bin_s, cl_sim_hold_truth *h);

/* ADC full scale, 2^adc_bits - 1. */
int32_t cl_sim_sensor_max(const cl_sim_sensor *s);
/* Noise-free raw ADC reading for pressure p, neither rounded nor clipped. */
double cl_sim_sensor_ideal(const cl_sim_sensor *s, double p_kpa);
/* Reading as the device sends it: noise N(0, noise_kpa) added to p (drawn
 * from r when r != NULL and noise_kpa > 0), rounded, clipped. */
int32_t cl_sim_sensor_read(const cl_sim_sensor *s, double p_kpa, double noise_kpa, gsl_rng *r);
/* Inverse of the ideal transfer: raw reading -> kPa. */
double cl_sim_sensor_inverse(const cl_sim_sensor *s, double raw);

/* Draw plausible parameters (the ranges of cupping practice) for a
 * cup of technique t applied at t0_s (t_apply_s = t0_s).  Pump: 1-4 strokes
 * 1.5-3 s apart, peak -150..-450 mmHg, hold 3-10 min, tau 300-1500 s,
 * p_inf 0-60 % of peak.  Fire: -200..-300 mmHg after the flame deepening to
 * -300..-400 mmHg, cool_tau 60-180 s, tau 1500-6000 s, p_inf 0-60 % of
 * peak.  Both: release 1-3 s, noise 0.3 mmHg, breathing 0.3-1.5 mmHg at
 * 0.2-0.3 Hz, pulse 0.1-0.5 mmHg at 1-1.5 Hz.  Never deeper than
 * CL_SIM_LIMIT_KPA. */
void cl_sim_cup_random(cl_sim_cup *c, cl_sim_technique t, double t0_s, gsl_rng *r);
/* Gain 0.97-1.03, offset 0.91-0.93, adc_bits 12. */
void cl_sim_sensor_random(cl_sim_sensor *s, gsl_rng *r);

#endif
