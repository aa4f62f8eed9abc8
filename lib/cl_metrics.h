/*
 * cl_metrics: the numbers of one cup application, computed from its vacuum
 * trace (kPa, positive below ambient, zeroed; missing samples NaN) and its
 * segmentation (cl_segment).
 *
 *   peak        maximum of a running median (peak_smooth_s) between onset
 *               and release start; time to peak from the onset
 *   peak noise  expanded (k = 2) uncertainty of the peak from noise and
 *               ripple: twice the SD of the samples within peak_noise_s of
 *               the peak (between hold start and release start) around their
 *               centred moving average over peak_noise_s (one breathing
 *               period; the running median's maximum sits on a ripple crest)
 *   hold window [hold_start + settle_s, release_start - release_guard_s]
 *               (to the last sample when not released): mean, SD, min, max
 *   fits        the longest stretch of the hold window between re-pumps
 *               (each re-pump is followed by settle_s of settling), averaged
 *               in blocks of fit_bin_s (about 1 Hz: the ripple of breathing
 *               and pulse averages out and the residual autocorrelation
 *               drops), fitted with cl_decay in vacuum (the models are the
 *               same with the sign flipped: p0, p_inf, c, slope are vacuum,
 *               tau unchanged), time from the start of that stretch
 *   change      vacuum at the end of the fitted stretch minus at its start:
 *               mean of its last change_edge_s minus mean of its first
 *               (model-free, so a linear fallback on a curved decay does not
 *               distort it; the means average the breathing ripple)
 *   cooling     the exponential's p_inf deeper than its p0 (EXP_SLOPE's when it
 *               converged, else EXP's; a fire cup's trapped air cooling):
 *               the exponential is the cooling, and
 *               the one model reported is EXP_SLOPE (cooling tau, linear leak
 *               c) when it converged with tau identifiable, else LINEAR
 *   leak k      rate constant 1/tau (1/min) of the reported exponential with
 *               its SE; NaN for cooling cups (tau is then the cooling)
 *   decay slope vacuum lost per minute: minus the linear slope (positive =
 *               losing vacuum; a cooling fire cup gains vacuum: negative)
 *   rel. rate   the decay slope in % of the mean vacuum of the fitted
 *               blocks per minute, every model (equals 100 k when p_inf = 0
 *               and the stretch is short against tau)
 *   integral    pressure-time integral of the vacuum over [onset,
 *               release_end] (to the
 *               last sample when not released), trapezoidal between finite
 *               samples, kPa*min
 */
#ifndef CL_METRICS_H
#define CL_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_decay.h"
#include "cl_error.h"
#include "cl_segment.h"

typedef struct cl_metrics_params {
    double settle_s;        /* excluded after the last stroke / a re-pump (3 s) */
    double release_guard_s; /* excluded before the release starts (1 s) */
    double fit_bin_s;       /* block length for the fits (1 s; 0 = every sample) */
    double peak_smooth_s;   /* running-median length for the peak (0.5 s) */
    double change_edge_s;   /* averaged at each end for the change (10 s) */
    double peak_noise_s;    /* span for the peak's noise uncertainty (5 s) */
} cl_metrics_params;

void cl_metrics_defaults(cl_metrics_params *p);

typedef struct cl_cup_metrics {
    double peak_kpa, peak_t_s, time_to_peak_s;
    double peak_noise_u_kpa;                 /* see "peak noise" above */
    double hold_duration_s;                  /* release_start - hold_start */
    double win_start_s, win_end_s;           /* hold window */
    double hold_mean_kpa, hold_sd_kpa, hold_min_kpa, hold_max_kpa;
    size_t hold_n;                           /* finite samples in the window */
    double fit_start_s, fit_end_s;           /* stretch fitted */
    size_t fit_points;                       /* blocks fitted */
    bool fitted;                             /* the linear fit succeeded */
    cl_decay_fit best, all[3];               /* vacuum, t from fit_start_s */
    double change_kpa, change_pct;           /* change over the fitted stretch */
    bool cooling;                            /* see "cooling" above */
    double leak_kpa_min, leak_se_kpa_min;    /* decay slope: vacuum lost per minute */
    double k_per_min, k_se_per_min;          /* leak rate constant 1/tau */
    double fit_mean_kpa;                     /* mean of the fitted blocks */
    double rel_pct_min, rel_se_pct_min;      /* relative rate, % per minute */
    double dose_kpa_min;
    double gap_s;                            /* longest step between samples in
                                                the application */
} cl_cup_metrics;

/* Metrics of application `a` of the trace (t_s, vac_kpa)[i*stride], i < n.
 * Fit failures are not errors (fitted false, fits' ok false); errors are
 * CL_ERR_ARG and CL_ERR_NOMEM. */
int cl_metrics_compute(const double *t_s, const double *vac_kpa, size_t stride, size_t n,
                       const cl_segment_app *a, const cl_metrics_params *p,
                       cl_cup_metrics *m, cl_error *err);

/* The blocks the decay models are fitted to: rows [i0, i1) in blocks of
 * bin_s (each from its first row's time to before that + bin_s, the last
 * one cut at i1), each the mean time (relative to t0) and mean vacuum of
 * its finite samples; blocks without one left out.  *bt and *bv (malloc'd,
 * freed by the caller also on failure) get *nb blocks.  CL_ERR_NOMEM. */
int cl_metrics_blocks(const double *t_s, const double *vac_kpa, size_t stride, size_t i0,
                      size_t i1, double t0, double bin_s, double **bt, double **bv, size_t *nb);

/* The exponential fit worth reporting: EXP_SLOPE for cooling cups, else
 * the chosen model if exponential, otherwise the plain exponential (which
 * may not be ok). */
const cl_decay_fit *cl_metrics_exp_fit(const cl_cup_metrics *m);

#endif
