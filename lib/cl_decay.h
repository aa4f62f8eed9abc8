/*
 * cl_decay: fits of a vacuum trace over a window (a cup's hold, or a sealed-
 * plate leak test), shared by analysis and cup-set characterisation.
 *
 * Models of gauge pressure p(t), t in seconds from the window start:
 *   LINEAR       p = a + b t                       (b: slope, kPa/s)
 *   EXP          p = p_inf + (p0 - p_inf) e^(-t/tau)
 *   EXP_SLOPE    p = p_inf + (p0 - p_inf) e^(-t/tau) + c t
 * Nonlinear fits use GSL's nonlinear least squares (gsl_multifit_nlinear);
 * standard errors come from the covariance scaled by the residual variance
 * and inflated for autocorrelated residuals by sqrt((1+rho1)/(1-rho1))
 * (rho1 = lag-1 autocorrelation of the residuals, clipped to [0, 0.99]).
 * Selection among the models uses AICc; when |corr(p_inf, tau)| > 0.95 the
 * exponential is reported as not identifiable and the linear fit is chosen.
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
    double corr_pinf_tau;    /* correlation of p_inf and tau estimates */
    bool identifiable;       /* |corr_pinf_tau| <= 0.95 */
    /* goodness of fit */
    double r2, rss, sigma_kpa, aicc, rho1, inflation;
    size_t n, iterations;
} cl_decay_fit;

/* Fit one model to (t[i*stride], p[i*stride]), i < n.  Non-finite points are
 * skipped.  Returns CL_ERR_ARG if fewer points than parameters + 2,
 * CL_ERR_NUMERIC if the solver fails (fit->ok false). */
int cl_decay_fit_model(const double *t_s, const double *p_kpa, size_t stride, size_t n,
                       cl_decay_model model, cl_decay_fit *fit, cl_error *err);

/* Fit all three models and pick the best by AICc (exponential models only
 * when identifiable).  `all` (may be NULL) receives the three fits, indexed
 * model-1. */
int cl_decay_fit_best(const double *t_s, const double *p_kpa, size_t stride, size_t n,
                      cl_decay_fit *best, cl_decay_fit all[3], cl_error *err);

const char *cl_decay_model_name(cl_decay_model m); /* "linear", "exp", "exp+slope" */

#endif
