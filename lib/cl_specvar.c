/*
 * cl_specvar: frequency-domain sandwich covariance (cl_specvar.h).
 * Transforms by GSL's mixed-radix complex FFT on the zero-padded grid.
 */
#include "cl_specvar.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>
#include <math.h>
#include <stdlib.h>

#include "cl_error.h"

#define Z975 1.959963984540054
#define PHI_MIN -0.95
#define PHI_MAX 0.99
#define PHI_STEP 0.001
#define DF_MIN 1.0     /* the t quantile's degrees of freedom, at least */
#define DF_NORMAL 1e6  /* and beyond this the normal one */

/* W = (J'J)^-1 J' (p x n). */
static int weights(const gsl_matrix *J, gsl_matrix *W)
{
    size_t p = J->size2;
    gsl_matrix *A = gsl_matrix_alloc(p, p);
    gsl_permutation *perm = gsl_permutation_alloc(p);
    int rc = CL_ERR_NOMEM, sgn;
    if (A && perm) {
        gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, J, J, 0.0, A);
        rc = gsl_linalg_LU_decomp(A, perm, &sgn) == GSL_SUCCESS &&
                     gsl_linalg_LU_invx(A, perm) == GSL_SUCCESS
                 ? CL_OK
                 : CL_ERR_NUMERIC;
        if (rc == CL_OK)
            gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, A, J, 0.0, W);
    }
    gsl_permutation_free(perm);
    gsl_matrix_free(A);
    return rc;
}

/* The AR(1) spectrum c / D(phi) fitted by Whittle's likelihood to the
 * periodogram I[j0..j1] (at the Fourier frequencies j / n): phi on the
 * grid minimising K log c(phi) - sum log D_j(phi), c(phi) = mean I_j D_j. */
static void whittle_ar1(const double *I, size_t j0, size_t j1, size_t n, double *phi,
                        double *c)
{
    size_t K = j1 - j0 + 1;
    double best = INFINITY;
    *phi = 0;
    *c = 0;
    for (int s = 0; PHI_MIN + s * PHI_STEP <= PHI_MAX + 1e-12; s++) {
        double ph = PHI_MIN + s * PHI_STEP, cc = 0, logd = 0;
        for (size_t j = j0; j <= j1; j++) {
            double d = 1 - 2 * ph * cos(2 * M_PI * (double)j / (double)n) + ph * ph;
            cc += I[j - j0] * d;
            logd += log(d);
        }
        cc /= (double)K;
        if (!(cc > 0))
            return; /* residuals without power: no correlation to estimate */
        double crit = (double)K * log(cc) - logd;
        if (crit < best) {
            best = crit;
            *phi = ph;
            *c = cc;
        }
    }
}

/* Degrees of freedom of S(0) = c / (1 - phi)^2: 2 / Var(log S(0)), the
 * variance from Whittle's Fisher information in (log c, phi). */
static double low_band_df(double phi, size_t j0, size_t j1, size_t n)
{
    double f11 = 0, f12 = 0, f22 = 0;
    for (size_t j = j0; j <= j1; j++) {
        double w = 2 * M_PI * (double)j / (double)n;
        double g = 2 * (cos(w) - phi) / (1 - 2 * phi * cos(w) + phi * phi);
        f11 += 1;
        f12 += g;
        f22 += g * g;
    }
    double det = f11 * f22 - f12 * f12, h = 2 / (1 - phi);
    double v = det > 0 ? (f22 - 2 * h * f12 + h * h * f11) / det : NAN;
    return v > 0 ? 2 / v : DF_MIN;
}

int cl_specvar_cov(const gsl_matrix *J, const double *r, gsl_matrix *cov,
                   cl_specvar_info *info)
{
    size_t n = J->size1, p = J->size2, N = CL_SPECVAR_PAD * n;
    size_t j0 = p + 1, j1 = (size_t)floor(CL_SPECVAR_LOW_BAND * (double)n);
    if (j1 < j0 || j1 - j0 + 1 < CL_SPECVAR_MIN_BINS)
        return CL_ERR_RANGE;

    gsl_matrix *W = gsl_matrix_alloc(p, n);
    double *z = calloc(2 * N * (p + 1), sizeof *z); /* p weight rows, then r */
    double *S = malloc(N * sizeof *S), *I = malloc((j1 - j0 + 1) * sizeof *I);
    gsl_fft_complex_wavetable *wt = gsl_fft_complex_wavetable_alloc(N);
    gsl_fft_complex_workspace *ws = gsl_fft_complex_workspace_alloc(N);
    int rc = CL_ERR_NOMEM;
    if (!W || !z || !S || !I || !wt || !ws)
        goto out;
    if ((rc = weights(J, W)) != CL_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < p; a++)
            z[2 * (a * N + i)] = gsl_matrix_get(W, a, i);
        z[2 * (p * N + i)] = r[i];
    }
    rc = CL_ERR_NUMERIC;
    for (size_t a = 0; a <= p; a++)
        if (gsl_fft_complex_forward(z + 2 * a * N, 1, N, wt, ws) != GSL_SUCCESS)
            goto out;

    /* the residuals' periodogram |R(f)|^2 / n on the grid, in S for now */
    const double *R = z + 2 * p * N;
    for (size_t k = 0; k < N; k++)
        S[k] = (R[2 * k] * R[2 * k] + R[2 * k + 1] * R[2 * k + 1]) / (double)n;
    for (size_t j = j0; j <= j1; j++)
        I[j - j0] = S[CL_SPECVAR_PAD * j];
    double phi, c;
    whittle_ar1(I, j0, j1, n, &phi, &c);

    /* the estimate: the AR(1) fit below the band edge, the smoothed
     * periodogram above (over the raw one: smoothing in place would reuse
     * values already smoothed) */
    double *sm = z + 2 * p * N; /* R is no longer needed: reuse as scratch */
    long half = CL_SPECVAR_SMOOTH * CL_SPECVAR_PAD, M = (long)N;
    for (long k = 0; k < M; k++) {
        double acc = 0;
        for (long d = -half; d <= half; d++)
            acc += S[((k + d) % M + M) % M];
        sm[k] = acc / (double)(2 * half + 1);
    }
    for (size_t k = 0; k < N; k++) {
        double f = (double)k / (double)N;
        f = f > 0.5 ? 1 - f : f;
        S[k] = f < CL_SPECVAR_LOW_BAND
                   ? c / (1 - 2 * phi * cos(2 * M_PI * f) + phi * phi)
                   : sm[k];
    }

    double df = c > 0 ? low_band_df(phi, j0, j1, n) : INFINITY;
    df = fmax(df, DF_MIN);
    double t = df < DF_NORMAL ? gsl_cdf_tdist_Pinv(0.975, df) / Z975 : 1;
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b <= a; b++) {
            const double *A = z + 2 * a * N, *B = z + 2 * b * N;
            double lo = 0, hi = 0;
            for (size_t k = 0; k < N; k++) {
                double f = (double)k / (double)N, ab = A[2 * k] * B[2 * k] + A[2 * k + 1] * B[2 * k + 1];
                if ((f > 0.5 ? 1 - f : f) < CL_SPECVAR_LOW_BAND)
                    lo += ab * S[k];
                else
                    hi += ab * S[k];
            }
            double v = (t * t * lo + hi) / (double)N;
            gsl_matrix_set(cov, a, b, v);
            gsl_matrix_set(cov, b, a, v);
        }
    if (info)
        *info = (cl_specvar_info){phi, df, t, j1 - j0 + 1};
    rc = CL_OK;
out:
    gsl_fft_complex_workspace_free(ws);
    gsl_fft_complex_wavetable_free(wt);
    free(I);
    free(S);
    free(z);
    gsl_matrix_free(W);
    return rc;
}
