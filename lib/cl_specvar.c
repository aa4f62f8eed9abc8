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
#define DF_MIN 1.0    /* the t quantile's degrees of freedom, at least */
#define DF_NORMAL 1e6 /* and beyond this the normal one */

/* The frequency of grid point k of N, folded into [0, 0.5] cycles per point. */
static double folded(size_t k, size_t N)
{
    double f = (double)k / (double)N;
    return f > 0.5 ? 1 - f : f;
}

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
 * periodogram I[0..K) at the low-band Fourier frequencies w_j, cw[j] =
 * cos w_j: phi on the grid minimising K log c(phi) - sum log D_j(phi),
 * c(phi) = mean I_j D_j, D_j = 1 - 2 phi cos w_j + phi^2.  c = 0 when
 * the residuals have no power there. */
static void whittle_ar1(const double *I, const double *cw, size_t K, double *phi, double *c)
{
    double best = INFINITY;
    *phi = 0;
    *c = 0;
    for (int s = 0; PHI_MIN + s * PHI_STEP <= PHI_MAX + 1e-12; s++) {
        double ph = PHI_MIN + s * PHI_STEP, cc = 0, logd = 0;
        for (size_t j = 0; j < K; j++) {
            double d = 1 - 2 * ph * cw[j] + ph * ph;
            cc += I[j] * d;
            logd += log(d);
        }
        cc /= (double)K;
        if (!(cc > 0))
            return;
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
static double low_band_df(double phi, const double *cw, size_t K)
{
    double f11 = 0, f12 = 0, f22 = 0;
    for (size_t j = 0; j < K; j++) {
        double g = 2 * (cw[j] - phi) / (1 - 2 * phi * cw[j] + phi * phi);
        f11 += 1;
        f12 += g;
        f22 += g * g;
    }
    double det = f11 * f22 - f12 * f12, h = 2 / (1 - phi);
    double v = det > 0 ? (f22 - 2 * h * f12 + h * h * f11) / det : NAN;
    return v > 0 ? 2 / v : DF_MIN;
}

int cl_specvar_cov(const gsl_matrix *J, const double *r, gsl_matrix *cov, cl_specvar_info *info)
{
    size_t n = J->size1, p = J->size2, N = CL_SPECVAR_PAD * n;
    size_t j0 = p + 1, j1 = (size_t)floor(CL_SPECVAR_LOW_BAND * (double)n);
    if (j1 < j0 || j1 - j0 + 1 < CL_SPECVAR_MIN_BINS)
        return CL_ERR_RANGE;

    gsl_matrix *W = gsl_matrix_alloc(p, n);
    double *z = calloc(2 * N * (p + 1), sizeof *z); /* p weight rows, then r */
    size_t K = j1 - j0 + 1;
    double *S = malloc(N * sizeof *S), *I = malloc(K * sizeof *I), *cw = malloc(K * sizeof *cw);
    gsl_fft_complex_wavetable *wt = gsl_fft_complex_wavetable_alloc(N);
    gsl_fft_complex_workspace *ws = gsl_fft_complex_workspace_alloc(N);
    int rc = CL_ERR_NOMEM;
    if (!W || !z || !S || !I || !cw || !wt || !ws)
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
    for (size_t j = j0; j <= j1; j++) {
        I[j - j0] = S[CL_SPECVAR_PAD * j];
        cw[j - j0] = cos(2 * M_PI * (double)j / (double)n);
    }
    double phi, c;
    whittle_ar1(I, cw, K, &phi, &c);

    /* the estimate: the AR(1) fit below the band edge, above it the
     * periodogram smoothed into sm (R's storage, no longer needed) */
    double *sm = z + 2 * p * N;
    long half = CL_SPECVAR_SMOOTH * CL_SPECVAR_PAD, M = (long)N;
    for (long k = 0; k < M; k++) {
        double acc = 0;
        for (long d = -half; d <= half; d++)
            acc += S[((k + d) % M + M) % M];
        sm[k] = acc / (double)(2 * half + 1);
    }
    for (size_t k = 0; k < N; k++) {
        double f = folded(k, N);
        S[k] =
            f < CL_SPECVAR_LOW_BAND ? c / (1 - 2 * phi * cos(2 * M_PI * f) + phi * phi) : sm[k];
    }

    double df = c > 0 ? low_band_df(phi, cw, K) : INFINITY;
    df = fmax(df, DF_MIN);
    double t = df < DF_NORMAL ? gsl_cdf_tdist_Pinv(0.975, df) / Z975 : 1;
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b <= a; b++) {
            const double *A = z + 2 * a * N, *B = z + 2 * b * N;
            double lo = 0, hi = 0;
            for (size_t k = 0; k < N; k++) {
                double ab = (A[2 * k] * B[2 * k] + A[2 * k + 1] * B[2 * k + 1]) * S[k];
                if (folded(k, N) < CL_SPECVAR_LOW_BAND)
                    lo += ab;
                else
                    hi += ab;
            }
            double v = (t * t * lo + hi) / (double)N;
            gsl_matrix_set(cov, a, b, v);
            gsl_matrix_set(cov, b, a, v);
        }
    if (info)
        *info = (cl_specvar_info){phi, df, t, K};
    rc = CL_OK;
out:
    gsl_fft_complex_workspace_free(ws);
    gsl_fft_complex_wavetable_free(wt);
    free(cw);
    free(I);
    free(S);
    free(z);
    gsl_matrix_free(W);
    return rc;
}
