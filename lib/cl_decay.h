/*
 * cl_decay: fits of a vacuum trace over a window (a cup's hold, or a sealed-
 * plate leak test), shared by analysis and cup-set characterisation.
 *
 * Models of gauge pressure p(t), t in seconds from the window start:
 *   LINEAR       p = a + b t                       (b: slope, kPa/s)
 *   EXP          p = p_inf + (p0 - p_inf) e^(-t/tau)
 *   EXP_SLOPE    p = p_inf + (p0 - p_inf) e^(-t/tau) + c t
 * Nonlinear fits use GSL's nonlinear least squares (gsl_multifit_nlinear).
 * Standard errors are sandwich errors on the fit's Jacobian that hold for
 * autocorrelated residuals (breathing ripple, slow drift): spectral
 * (cl_specvar), or Newey-West (HAC) on stretches too short for it
 * (cl_decay.c states the rules).  In
 * cl_decay_fit_best the line's errors use the residuals of the richest
 * converged exponential model, so that the misfit of a line to a curved
 * decay is not counted as noise.
 * Selection among the models uses AICc; an exponential model is eligible
 * only when identifiable: the 95 % interval of tau (1.96 tau_se) within
 * +-50 % of tau, i.e. a relative SE below 25.5 %.  On a
 * trace curved the other way than an exponential allows, the solver runs
 * tau off to infinity: the fit then fails (ok false, CL_ERR_NUMERIC) and the
 * linear fit stands.  Exponential fits report the rate constant
 * k = 1/tau per minute with its SE (60 tau_se / tau^2).
 *
 * Time origin: t should be measured from the window start; p0 is the model
 * at t = 0.  Every fit also reports a slope: slope_kpa_s is the linear
 * slope (LINEAR) or the model's dp/dt at t = 0 (exponential models, SE by the
 * delta method); a_kpa/a_se then repeat p0.
 */
#ifndef CL_DECAY_H
#define CL_DECAY_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"

typedef enum cl_decay_model {
    CL_DECAY_LINEAR = 1,
    CL_DECAY_EXP = 2,
    CL_DECAY_EXP_SLOPE = 3,
} cl_decay_model;

typedef struct cl_decay_fit {
    cl_decay_model model;
    bool ok;                 /* fit converged and parameters are finite */
    /* LINEAR */
    double a_kpa, a_se, slope_kpa_s, slope_se;
    /* EXP / EXP_SLOPE */
    double p0_kpa, p0_se, p_inf_kpa, p_inf_se, tau_s, tau_se, c_kpa_s, c_se;
    double k_per_min, k_se_per_min; /* rate constant 60 / tau_s, 1/min */
    double corr_pinf_tau;    /* correlation of p_inf and tau (robust covariance) */
    bool identifiable;       /* 1.96 tau_se < tau_s / 2 (LINEAR: true) */
    /* goodness of fit; rho1: lag-1 autocorrelation of the residuals clipped
     * to [0, 0.99] (AICc's effective sample size); inflation: robust SE over
     * the iid SE of tau (exponential) or of the slope (LINEAR) */
    double r2, rss, sigma_kpa, aicc, rho1, inflation;
    size_t n, iterations;    /* n: finite points used */
    size_t hac_lag;          /* Bartlett bandwidth L of HAC errors; 0: spectral errors */
} cl_decay_fit;

/* Fit one model to (t[i*stride], p[i*stride]), i < n.  Non-finite points are
 * skipped.  Returns CL_ERR_ARG if fewer points than parameters + 2,
 * CL_ERR_NUMERIC if the solver fails (fit->ok false). */
int cl_decay_fit_model(const double *t_s, const double *p_kpa, size_t stride, size_t n,
                       cl_decay_model model, cl_decay_fit *fit, cl_error *err);

/* Fit all three models and pick the best by AICc (exponential models only
 * when identifiable).  `all` (may be NULL) receives the three fits, indexed
 * model-1.  Here the AICc of every model uses one effective sample size,
 * n_eff = n (1 - rho1) / (1 + rho1) with rho1 from the richest model that
 * converged, so autocorrelated noise does not buy extra parameters.  Fails
 * only when the linear fit fails; failed exponential fits have ok false. */
int cl_decay_fit_best(const double *t_s, const double *p_kpa, size_t stride, size_t n,
                      cl_decay_fit *best, cl_decay_fit all[3], cl_error *err);

const char *cl_decay_model_name(cl_decay_model m); /* "linear", "exp", "exp+slope" */

/* The fitted model at t (seconds from the window start), kPa, and its
 * derivative dp/dt there, kPa/s. */
double cl_decay_eval(const cl_decay_fit *fit, double t_s);
double cl_decay_rate(const cl_decay_fit *fit, double t_s);

#endif
