/*
 * cl_calib: sensor calibration numerics.  A least-squares polynomial through
 * calibration points (GSL gsl_multifit_linear / gsl_multifit_wlinear, with
 * covariance), and the sensor calibration built on it: points grouped into
 * setpoints, residuals, non-linearity, hysteresis, repeatability, the
 * expanded uncertainty U (k = 2), the choice of degree and the verdict
 * against a tolerance.  Follows the basic procedure of EURAMET cg-17
 * (electromechanical manometers).  Pure computation: no I/O.
 *
 * Uncertainty of a calibrated reading at raw value x (standard
 * uncertainties, kPa):
 *   u_fit(x)  = sqrt(g' C g), g = (1, x, .., x^d), C the covariance of the
 *               coefficients (scaled by the residual variance)
 *   u_rep     = pooled SD of repeated readings at one setpoint in one
 *               direction; the residual SD of the fit when there are no repeats
 *   u_hyst    = max |hysteresis| / (2 sqrt 3) (rectangular, half-width h/2)
 *   u_ref     = U_ref / k_ref, the reference instrument's stated uncertainty
 *   U(x)      = 2 sqrt(u_fit^2 + u_rep^2 + u_hyst^2 + u_ref^2)
 * Verdict (guarded acceptance): the calibration passes when at every point
 * |residual| + U <= tolerance.
 */
#ifndef CL_CALIB_H
#define CL_CALIB_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_sensor.h"

/* Highest degree cl_calib_polyfit accepts (sensor profiles use 1..3). */
#define CL_CALIB_FIT_MAX_DEGREE 5
#define CL_CALIB_K 2.0
/* Setpoints EURAMET cg-17 asks for at least. */
#define CL_CALIB_MIN_SETPOINTS 6

typedef struct cl_calib_fit {
    int degree;
    size_t n;                                 /* points fitted */
    size_t dof;                               /* n - (degree + 1) */
    double coef[CL_CALIB_FIT_MAX_DEGREE + 1]; /* y = sum coef[i] x^i */
    double cov[CL_CALIB_FIT_MAX_DEGREE + 1][CL_CALIB_FIT_MAX_DEGREE + 1]; /* of coef */
    double se[CL_CALIB_FIT_MAX_DEGREE + 1];                               /* sqrt(diag cov) */
    double rss;   /* residual sum of squares (weighted if weights were given) */
    double sigma; /* residual SD, sqrt(rss / dof) */
    double r2;    /* coefficient of determination */
} cl_calib_fit;

/* Least-squares polynomial of `degree` (1..CL_CALIB_FIT_MAX_DEGREE) through
 * (x[i*stride], y[i*stride]).  The fit is computed in centred and scaled
 * x, then expressed in powers of x.  Without weights (w NULL) the
 * covariance is sigma^2 (X'X)^-1; with weights w[i*stride] = 1/var(y_i) it
 * is (X'WX)^-1.  CL_ERR_ARG unless n >= degree + 2 with at least
 * degree + 1 distinct x (and every value finite, every weight positive);
 * CL_ERR_NUMERIC if GSL fails. */
int cl_calib_polyfit(const double *x, const double *y, const double *w, size_t stride, size_t n,
                     int degree, cl_calib_fit *fit, cl_error *err);
double cl_calib_fit_eval(const cl_calib_fit *f, double x);
/* Standard uncertainty of the fitted curve at x, sqrt(g' cov g). */
double cl_calib_fit_u(const cl_calib_fit *f, double x);

/* Options of a sensor calibration. */
typedef struct cl_calib_options {
    int degree;           /* 1..3; 0 = the lowest meeting the tolerance */
    double tolerance_kpa; /* > 0; NaN = no verdict (pass is then false) */
    double ref_u_kpa;     /* reference's stated expanded uncertainty (>= 0) */
    double ref_k;         /* its coverage factor (> 0, usually 2) */
    double group_kpa;     /* references closer than this are one setpoint;
                             0 = 1 % of the pressure span */
} cl_calib_options;

void cl_calib_options_init(cl_calib_options *o);

/* Calibrate: fill `d` (initialised by the caller, metadata strings left as
 * they are) from the `n` points: it takes a copy of them, infers unknown
 * directions (|ref| increasing = up; the first point takes the direction of
 * the next), groups setpoints, fits, and computes the figures and the
 * verdict.  Errors (d's arrays released):
 *   CL_ERR_ARG     too few setpoints for the degree (message says how many)
 *                  or a non-finite value
 *   CL_ERR_RANGE   raw readings not monotonic in the reference pressure, or
 *                  the fitted curve not monotonic over the raw range
 *   CL_ERR_NUMERIC the fit failed
 * A calibration that misses the tolerance is not an error: d->pass is false. */
int cl_calib_sensor(const cl_sensor_point *pts, size_t n, const cl_calib_options *o,
                    cl_sensor_calibration *d, cl_error *err);

#endif
