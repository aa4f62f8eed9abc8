/*
 * cl_specvar: the covariance of least-squares parameters under serially
 * correlated errors, in the frequency domain (docs/analysis.md, "Fits").
 *
 * A fit's parameters move with the data through the weights
 * W = (J'J)^-1 J' of its Jacobian J (n x p, the linearised estimator), so
 * for stationary errors with spectral density S(f)
 *   cov = integral over f of A(f) A(f)^H S(f) df,
 *   A(f) = sum_i W[., i] exp(-2 pi i f i)   (f in cycles per point),
 * evaluated on a grid of CL_SPECVAR_PAD n frequencies.  S is estimated from
 * the residuals r, in two bands:
 *   - below CL_SPECVAR_LOW_BAND cycles per point (where A of a trend or a
 *     slow decay lies): the spectrum of an AR(1) process,
 *     S(f) = c / |1 - phi e^(-2 pi i f)|^2, fitted by Whittle's likelihood
 *     to the residuals' periodogram at the Fourier frequencies j/n,
 *     j = p+1 .. floor(CL_SPECVAR_LOW_BAND n) (the lowest p the fit itself
 *     absorbs), phi on a 0.001 grid in [-0.95, 0.99];
 *   - above: the periodogram smoothed over +-CL_SPECVAR_SMOOTH Fourier bins
 *     (Daniell), which keeps a narrow peak such as breathing ripple, whose
 *     leakage into a finite window the estimator carries.
 * The low-band level S(0) is itself estimated: its log has the variance v
 * given by Whittle's Fisher information, so the variance is scaled by
 * (t_{nu, 0.975} / z_{0.975})^2 with nu = 2 / v degrees of freedom, making
 * +-1.96 standard errors the t interval.
 */
#ifndef CL_SPECVAR_H
#define CL_SPECVAR_H

#include <gsl/gsl_matrix.h>
#include <stddef.h>

#define CL_SPECVAR_LOW_BAND 0.1 /* cycles per point: below breathing at 1 s blocks */
#define CL_SPECVAR_SMOOTH 3     /* Fourier bins each side, above the low band */
#define CL_SPECVAR_MIN_BINS 6   /* low-band Fourier bins needed for the AR(1) fit */
#define CL_SPECVAR_PAD 4        /* frequency grid: this many points per Fourier bin */

typedef struct cl_specvar_info {
    double phi;      /* AR(1) coefficient of the low band */
    double df;       /* nu, the degrees of freedom of S(0) */
    double t_factor; /* t_{nu, 0.975} / z_{0.975}, applied to the errors */
    size_t bins;     /* low-band Fourier bins fitted */
} cl_specvar_info;

/* cov (p x p) from J (n x p) and the residuals r[0..n).  Returns CL_OK,
 * CL_ERR_RANGE when the window has fewer than CL_SPECVAR_MIN_BINS low-band
 * bins (about n < 10 (p + 6)): the caller uses another estimator;
 * CL_ERR_NUMERIC when J'J is singular, CL_ERR_NOMEM.  info may be NULL. */
int cl_specvar_cov(const gsl_matrix *J, const double *r, gsl_matrix *cov,
                   cl_specvar_info *info);

#endif
