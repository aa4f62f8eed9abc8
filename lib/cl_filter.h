/*
 * cl_filter: conditioning of one sampled trace before segmentation and
 * metrics, on top of GSL's filters.  Median (gsl_filter_median) and Hampel
 * impulse rejection (gsl_filter_impulse) remove spikes; Gaussian smoothing
 * and its first derivative (gsl_filter_gaussian's results, computed
 * directly with its kernel) and a centred moving average
 * (gsl_movstat_mean) remove noise.
 *
 * Missing samples: every function accepts non-finite input samples.  For the
 * filter they are bridged by linear interpolation between the nearest
 * finite neighbours (held constant at the ends), and they are NaN again in
 * the output, so a missing sample is never silently turned into data.
 *
 * Windows are in samples; `window` is rounded up to an odd number and
 * clipped to n.  Input (x, stride, n) as in GSL; output y is contiguous
 * [n] and may not alias x unless stride is 1 (then y == x is allowed).
 */
#ifndef CL_FILTER_H
#define CL_FILTER_H

#include <stddef.h>

#include "cl_error.h"

typedef enum cl_filter_kind {
    CL_FILTER_NONE = 0,
    CL_FILTER_MEDIAN = 1,   /* running median */
    CL_FILTER_HAMPEL = 2,   /* impulse rejection: outliers -> local median */
    CL_FILTER_GAUSSIAN = 3, /* Gaussian smoothing, window = 6 sigma + 1 */
    CL_FILTER_MEAN = 4,     /* centred moving average */
} cl_filter_kind;

/* Long traces (over 2 x 65536 samples) are median- and Gaussian-filtered in
 * parts on up to n threads, with the same results as one pass; 0 (the
 * default) means one per processor, 1 none.  At most 8. */
void cl_filter_set_threads(size_t n);

/* "median", "hampel", "gaussian", "mean" (also "moving-average") -> kind;
 * 0 if unknown.  cl_filter_name: the canonical name. */
cl_filter_kind cl_filter_from_name(const char *name);
const char *cl_filter_name(cl_filter_kind k);

/* Running median over `window` samples. */
int cl_filter_median(const double *x, size_t stride, size_t n, size_t window, double *y,
                     cl_error *err);

/* The largest output of cl_filter_median() (NaN outputs, at missing
 * samples, ignored) into *max and the first index giving it into *at; NaN
 * and n if there is none.  The same values as taking the maximum of the
 * whole filtered trace, but only windows that can reach it are filtered:
 * the exact medians of a sparse grid of windows give a lower bound L, and a
 * window can only have a median >= L if at least half its samples are. */
int cl_filter_median_max(const double *x, size_t stride, size_t n, size_t window, double *max,
                         size_t *at, cl_error *err);

/* Hampel filter: a sample further than nsigma robust SDs (MAD scale) from
 * the median of its window is replaced by that median.  *noutliers (may be
 * NULL) receives the number replaced. */
int cl_filter_hampel(const double *x, size_t stride, size_t n, size_t window, double nsigma,
                     double *y, size_t *noutliers, cl_error *err);

/* Gaussian smoothing (order 0) or first derivative (order 1, per sample:
 * divide by the sample interval for a rate) with standard deviation
 * sigma_samples (> 0). */
int cl_filter_gaussian(const double *x, size_t stride, size_t n, double sigma_samples,
                       int order, double *y, cl_error *err);

/* The same filter at the samples idx[0..nidx) only (each < n): y[k] is
 * what cl_filter_gaussian() gives at idx[k], bit for bit, without
 * filtering the rest of the trace. */
int cl_filter_gaussian_at(const double *x, size_t stride, size_t n, double sigma_samples,
                          int order, const size_t *idx, size_t nidx, double *y,
                          cl_error *err);

/* Centred moving average over `window` samples. */
int cl_filter_mean(const double *x, size_t stride, size_t n, size_t window, double *y,
                   cl_error *err);

/* Apply filter `kind` with width `width_samples` (window for median, Hampel
 * (nsigma 3) and mean; sigma for Gaussian).  CL_FILTER_NONE copies. */
int cl_filter_apply(cl_filter_kind kind, const double *x, size_t stride, size_t n,
                    double width_samples, double *y, cl_error *err);

#endif
