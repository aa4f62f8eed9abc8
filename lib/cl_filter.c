/*
 * cl_filter: NaN-aware wrappers around GSL's median, impulse, Gaussian and
 * moving-statistics filters.  Each function bridges missing samples into a
 * contiguous work copy, runs the GSL filter with truncated ends, and puts
 * the missing samples back as NaN.
 *
 * Long traces are filtered in parts on several threads (one per processor,
 * at most MAX_PARTS): every output of the median and the Gaussian depends
 * only on its own window, so a part computed from its inputs plus half a
 * window on each side gives the same values, bit for bit, as one pass.
 */
#include "cl_filter.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_filter.h>
#include <gsl/gsl_movstat.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_PARTS 8
#define MIN_PART 65536 /* outputs per part worth a thread */

typedef void part_fn(void *ctx, size_t p, size_t a, size_t b);

typedef struct part_job {
    part_fn *fn;
    void *ctx;
    size_t p, a, b;
} part_job;

static void *part_main(void *arg)
{
    part_job *j = arg;
    j->fn(j->ctx, j->p, j->a, j->b);
    return NULL;
}

static _Atomic size_t max_threads; /* 0: one per processor */

void cl_filter_set_threads(size_t n) { max_threads = n; }

/* Run fn(ctx, p, a, b) on parts p = 0.. of the outputs [0, n), part 0 on the
 * calling thread; returns the number of parts. */
static size_t in_parts(size_t n, part_fn *fn, void *ctx)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t np = max_threads ? max_threads : cpus > 1 ? (size_t)cpus : 1;
    if (np > MAX_PARTS)
        np = MAX_PARTS;
    if (np > n / MIN_PART)
        np = n / MIN_PART ? n / MIN_PART : 1;
    part_job job[MAX_PARTS];
    pthread_t th[MAX_PARTS];
    bool started[MAX_PARTS] = {false};
    for (size_t p = 0; p < np; p++)
        job[p] = (part_job){fn, ctx, p, n * p / np, n * (p + 1) / np};
    for (size_t p = 1; p < np; p++)
        started[p] = pthread_create(&th[p], NULL, part_main, &job[p]) == 0;
    fn(ctx, 0, job[0].a, job[0].b);
    for (size_t p = 1; p < np; p++) {
        if (started[p])
            pthread_join(th[p], NULL);
        else
            fn(ctx, p, job[p].a, job[p].b); /* no thread: do it here */
    }
    return np;
}

cl_filter_kind cl_filter_from_name(const char *name)
{
    if (!name)
        return CL_FILTER_NONE;
    if (!strcasecmp(name, "median"))
        return CL_FILTER_MEDIAN;
    if (!strcasecmp(name, "hampel") || !strcasecmp(name, "impulse"))
        return CL_FILTER_HAMPEL;
    if (!strcasecmp(name, "gaussian") || !strcasecmp(name, "gauss"))
        return CL_FILTER_GAUSSIAN;
    if (!strcasecmp(name, "mean") || !strcasecmp(name, "moving-average"))
        return CL_FILTER_MEAN;
    return CL_FILTER_NONE;
}

const char *cl_filter_name(cl_filter_kind k)
{
    switch (k) {
    case CL_FILTER_NONE: return "none";
    case CL_FILTER_MEDIAN: return "median";
    case CL_FILTER_HAMPEL: return "hampel";
    case CL_FILTER_GAUSSIAN: return "gaussian";
    case CL_FILTER_MEAN: return "mean";
    }
    return "unknown";
}

/* Odd window of at least 1 and at most n (n >= 1). */
static size_t odd_window(size_t window, size_t n)
{
    if (window < 1)
        window = 1;
    if (window % 2 == 0)
        window++;
    if (window > n)
        window = n % 2 ? n : n - 1;
    return window < 1 ? 1 : window;
}

/* Copy x into w (contiguous), bridging non-finite samples linearly.
 * Returns false if no sample is finite. */
static bool bridge(const double *x, size_t stride, size_t n, double *w)
{
    size_t last = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (!isfinite(v))
            continue;
        if (last == (size_t)-1) {
            for (size_t j = 0; j < i; j++)
                w[j] = v;
        } else {
            double a = x[last * stride];
            for (size_t j = last + 1; j < i; j++)
                w[j] = a + (v - a) * (double)(j - last) / (double)(i - last);
        }
        w[i] = v;
        last = i;
    }
    if (last == (size_t)-1)
        return false;
    for (size_t j = last + 1; j < n; j++)
        w[j] = x[last * stride];
    return true;
}

static void restore_missing(const double *x, size_t stride, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i * stride]))
            y[i] = NAN;
}

/* The kernel gsl_filter_gaussian() uses for sigma (samples) on n samples:
 * 6 sigma + 1 taps (odd, at least 3, at most n), alpha = (K - 1) / (2
 * sigma), normalised, of order 0 or 1.  For order 1 *gain is its ramp
 * response: the truncated discrete derivative kernel does not answer
 * exactly 1 to a unit ramp, so its output is divided by this to give a
 * rate in units per sample.  A GSL status. */
static int gaussian_kernel(size_t n, double sigma, size_t order, gsl_vector **out,
                           double *gain)
{
    size_t k = odd_window((size_t)ceil(6 * sigma) + 1, n);
    if (k < 3 && n >= 3)
        k = 3;
    double alpha = (double)(k - 1) / (2 * sigma);
    *gain = 1;
    *out = gsl_vector_alloc(k);
    if (!*out)
        return GSL_ENOMEM;
    int st = gsl_filter_gaussian_kernel(alpha, order, 1, *out);
    if (st != GSL_SUCCESS || order != 1)
        return st;
    double g = 0;
    for (size_t j = 0; j < k; j++)
        g += ((double)j - (double)(k / 2)) * gsl_vector_get(*out, j);
    *gain = fabs(g);
    return *gain > 0 ? GSL_SUCCESS : GSL_EZERODIV;
}

/* Two doubles, element by element (GCC/Clang vector extension: one SSE2
 * register on x86-64). */
#define VLEN 2
typedef double vec __attribute__((vector_size(VLEN * sizeof(double))));

static inline vec vec_load(const double *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline vec vec_set1(double a) { return (vec){a, a}; }

/* Output i of gaussian_convolve(), the same sum in the same order, for any
 * i (x read with its padding; used near the ends). */
static double gaussian_edge(const double *x, size_t n, const double *h, size_t K, size_t i)
{
    size_t H = K / 2;
    double s = 0.0;
    for (size_t m = 0; m < K; m++) {
        size_t j = i + m; /* index into x padded with H values on each side */
        double v = j < H ? x[0] : j - H >= n ? x[n - 1] : x[j - H];
        s += v * h[K - 1 - m];
    }
    return s;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_AVX2_PATH 1
typedef double vec4 __attribute__((vector_size(4 * sizeof(double))));

/* Interior outputs [i, i1) of gaussian_convolve() 16 at a time with AVX2
 * (for processors that have it): the same multiplications and additions
 * lane by lane, so the same results, twice as many per instruction.
 * Returns the first output not done. */
__attribute__((target("avx2"))) static size_t
gaussian_interior_avx2(const double *x, const double *h, size_t K, size_t i, size_t i1,
                       double *y)
{
    size_t H = K / 2;
    for (; i + 16 <= i1; i += 16) {
        const double *p = x + i - H;
        vec4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        for (size_t m = 0; m < K; m++) {
            double hv = h[K - 1 - m];
            vec4 hm = {hv, hv, hv, hv}, a, b, c, d;
            memcpy(&a, p + m, sizeof a);
            memcpy(&b, p + m + 4, sizeof b);
            memcpy(&c, p + m + 8, sizeof c);
            memcpy(&d, p + m + 12, sizeof d);
            s0 += a * hm;
            s1 += b * hm;
            s2 += c * hm;
            s3 += d * hm;
        }
        memcpy(y + i, &s0, sizeof s0);
        memcpy(y + i + 4, &s1, sizeof s1);
        memcpy(y + i + 8, &s2, sizeof s2);
        memcpy(y + i + 12, &s3, sizeof s3);
    }
    return i;
}
#endif

/* GSL's Gaussian filter with padded ends (gsl_filter_gaussian,
 * GSL_FILTER_END_PADVALUE) computed directly: with x padded by its first
 * and last values and H = K / 2,
 *     y[i] = sum for m = 0 .. K-1 of x[i - H + m] * h[K - 1 - m],
 * the terms added in the order GSL adds them, so the results are the same
 * bit for bit (as long as the compiler does not fuse multiply-adds, which
 * it does not in ISO C mode).  GSL copies its whole window out of a ring
 * buffer (a division per element) for every output; here the interior is
 * read in place, several outputs at a time (independent sums, same order
 * each). */
static void gaussian_convolve(const double *x, size_t n, const double *h, size_t K,
                              size_t a, size_t b, double *y)
{
    size_t H = K / 2, i;
    /* Interior [i0, i1): every x[i - H .. i + H] exists.  Outputs [a, b). */
    size_t i0 = H < n ? H : n, i1 = n > 2 * H ? n - H : i0;
    if (i0 < a)
        i0 = a;
    if (i1 > b)
        i1 = b;
    if (i1 < i0)
        i1 = i0;
    for (i = a; i < i0 && i < b; i++)
        y[i] = gaussian_edge(x, n, h, K, i);
#ifdef HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2"))
        i = gaussian_interior_avx2(x, h, K, i, i1, y);
#endif
    for (; i + 4 * VLEN <= i1; i += 4 * VLEN) {
        /* 4 * VLEN outputs side by side: lane j of each vector adds the
         * same terms in the same order as the scalar loop below. */
        const double *p = x + i - H;
        vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        for (size_t m = 0; m < K; m++) {
            vec hm = vec_set1(h[K - 1 - m]);
            const double *q = p + m;
            s0 += vec_load(q) * hm;
            s1 += vec_load(q + VLEN) * hm;
            s2 += vec_load(q + 2 * VLEN) * hm;
            s3 += vec_load(q + 3 * VLEN) * hm;
        }
        memcpy(y + i, &s0, sizeof s0);
        memcpy(y + i + VLEN, &s1, sizeof s1);
        memcpy(y + i + 2 * VLEN, &s2, sizeof s2);
        memcpy(y + i + 3 * VLEN, &s3, sizeof s3);
    }
    for (; i < i1; i++) {
        const double *p = x + i - H;
        double s = 0.0;
        for (size_t m = 0; m < K; m++)
            s += p[m] * h[K - 1 - m];
        y[i] = s;
    }
    for (i = i1 > i ? i1 : i; i < b; i++)
        y[i] = gaussian_edge(x, n, h, K, i);
}

typedef struct gauss_ctx {
    const double *x, *h;
    size_t n, K;
    double *y, gain;
} gauss_ctx;

static void gauss_part(void *ctx, size_t p, size_t a, size_t b)
{
    (void)p;
    gauss_ctx *g = ctx;
    gaussian_convolve(g->x, g->n, g->h, g->K, a, b, g->y);
    if (g->gain != 1)
        for (size_t i = a; i < b; i++)
            g->y[i] /= g->gain;
}

/* gsl_filter_median (truncated ends) of w[0, n) into y, in parts: part
 * [a, b) filters w[a - H, b + H) (clipped to the trace) into its own
 * buffer and keeps the outputs whose windows lie inside. */
typedef struct median_ctx {
    const double *w;
    size_t n, k;
    double *y;
    int st[MAX_PARTS];
} median_ctx;

static void median_part(void *ctx, size_t p, size_t a, size_t b)
{
    median_ctx *m = ctx;
    size_t H = m->k / 2, lo = a > H ? a - H : 0, hi = b + H < m->n ? b + H : m->n;
    if (hi - lo < m->k) {
        /* Any wider stretch gives the same outputs; GSL needs a whole
         * window (k <= n). */
        hi = lo + m->k < m->n ? lo + m->k : m->n;
        lo = hi - m->k;
    }
    size_t len = hi - lo, k = m->k;
    double *out = malloc(len * sizeof *out);
    gsl_filter_median_workspace *ws = gsl_filter_median_alloc(k);
    m->st[p] = GSL_ENOMEM;
    if (out && ws) {
        gsl_vector_const_view vx = gsl_vector_const_view_array(m->w + lo, len);
        gsl_vector_view vy = gsl_vector_view_array(out, len);
        m->st[p] = gsl_filter_median(GSL_FILTER_END_TRUNCATE, &vx.vector, &vy.vector, ws);
        if (m->st[p] == GSL_SUCCESS)
            memcpy(m->y + a, out + (a - lo), (b - a) * sizeof *out);
    }
    gsl_filter_median_free(ws);
    free(out);
}

/* Shared frame: bridge into a work vector, run `kind`, restore NaN. */
static int run(cl_filter_kind kind, const double *x, size_t stride, size_t n, size_t window,
               double param, double *y, size_t *nout, cl_error *err)
{
    double *w = NULL;
    int rc = CL_OK, st = GSL_SUCCESS;
    if (nout)
        *nout = 0;
    if (n == 0)
        return CL_OK;
    if (!x || !y || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "filter: invalid arguments");
    w = malloc(n * sizeof *w);
    if (!w)
        return cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory for %zu samples", n);
    if (!bridge(x, stride, n, w)) {
        for (size_t i = 0; i < n; i++)
            y[i] = NAN;
        goto out;
    }
    gsl_vector_view vx = gsl_vector_view_array(w, n);
    /* y may alias x (stride 1): the input lives in w from here on. */
    gsl_vector_view vy = gsl_vector_view_array(y, n);
    size_t k = odd_window(window, n);
    switch (kind) {
    case CL_FILTER_NONE:
        memcpy(y, w, n * sizeof *y);
        break;
    case CL_FILTER_MEDIAN: {
        median_ctx m = {.w = w, .n = n, .k = k, .y = y};
        size_t np = in_parts(n, median_part, &m);
        for (size_t p = 0; p < np && st == GSL_SUCCESS; p++)
            st = m.st[p];
        if (st == GSL_ENOMEM) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        break;
    }
    case CL_FILTER_HAMPEL: {
        gsl_filter_impulse_workspace *ws = gsl_filter_impulse_alloc(k);
        gsl_vector *med = gsl_vector_alloc(n), *sig = gsl_vector_alloc(n);
        size_t no = 0;
        if (!ws || !med || !sig) {
            gsl_filter_impulse_free(ws);
            gsl_vector_free(med);
            gsl_vector_free(sig);
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        st = gsl_filter_impulse(GSL_FILTER_END_TRUNCATE, GSL_FILTER_SCALE_MAD, param,
                                &vx.vector, &vy.vector, med, sig, &no, NULL, ws);
        if (nout)
            *nout = no;
        gsl_filter_impulse_free(ws);
        gsl_vector_free(med);
        gsl_vector_free(sig);
        break;
    }
    case CL_FILTER_GAUSSIAN: {
        /* `window` is the derivative order. */
        gsl_vector *h = NULL;
        double gain;
        st = gaussian_kernel(n, param, window, &h, &gain);
        if (st == GSL_ENOMEM) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        if (st == GSL_SUCCESS) {
            gauss_ctx g = {w, h->data, n, h->size, y, window == 1 ? gain : 1};
            in_parts(n, gauss_part, &g);
        }
        gsl_vector_free(h);
        break;
    }
    case CL_FILTER_MEAN: {
        gsl_movstat_workspace *ws = gsl_movstat_alloc(k);
        if (!ws) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory");
            goto out;
        }
        st = gsl_movstat_mean(GSL_MOVSTAT_END_TRUNCATE, &vx.vector, &vy.vector, ws);
        gsl_movstat_free(ws);
        break;
    }
    }
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, CL_ERR_NUMERIC, "%s filter failed: %s", cl_filter_name(kind),
                          gsl_strerror(st));
        goto out;
    }
    restore_missing(x, stride, n, y);
out:
    free(w);
    return rc;
}

int cl_filter_median(const double *x, size_t stride, size_t n, size_t window, double *y,
                     cl_error *err)
{
    return run(CL_FILTER_MEDIAN, x, stride, n, window, 0, y, NULL, err);
}

int cl_filter_median_max(const double *x, size_t stride, size_t n, size_t window, double *max,
                         size_t *at, cl_error *err)
{
    double *w = NULL, *y = NULL, *win = NULL;
    int rc = CL_OK;
    if (!x || !max || !at || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "filter: invalid arguments");
    *max = NAN;
    *at = n;
    if (n == 0)
        return CL_OK;
    size_t k = odd_window(window, n), H = k / 2;
    w = malloc(n * sizeof *w);
    y = malloc(n * sizeof *y);
    win = malloc(k * sizeof *win);
    if (!w || !y || !win) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory for %zu samples", n);
        goto out;
    }
    if (!bridge(x, stride, n, w))
        goto out;
    /* Lower bound: exact medians of whole windows (odd: a sample, no
     * rounding) every 4 windows. */
    double L = -INFINITY;
    for (size_t i = H; H > 0 && i + H < n; i += 4 * k) {
        if (!isfinite(x[i * stride]))
            continue;
        memcpy(win, w + i - H, k * sizeof *win);
        double med = gsl_stats_median(win, 1, k);
        if (med > L)
            L = med;
    }
    /* Candidates: windows (truncated at the ends, m samples) with at least
     * ceil(m / 2) samples >= L; runs of them closer than a window are
     * filtered together. */
    median_ctx m = {.w = w, .n = n, .k = k, .y = y};
    size_t count = 0, run_a = n, run_b = 0;
    for (size_t j = 0; j < H && j < n; j++)
        count += w[j] >= L;
    for (size_t i = 0; i <= n; i++) {
        bool cand = false;
        if (i < n) {
            if (i + H < n)
                count += w[i + H] >= L;
            if (i > H)
                count -= w[i - H - 1] >= L;
            size_t lo = i > H ? i - H : 0, hi = i + H < n ? i + H + 1 : n;
            cand = isfinite(x[i * stride]) && 2 * count >= hi - lo;
        }
        if (cand && run_a < n && i - run_b < k) {
            run_b = i + 1; /* extend the open run */
            continue;
        }
        if (run_a < n && (cand || i == n)) {
            median_part(&m, 0, run_a, run_b);
            if (m.st[0] != GSL_SUCCESS) {
                rc = cl_error_set(err, m.st[0] == GSL_ENOMEM ? CL_ERR_NOMEM : CL_ERR_NUMERIC,
                                  "median filter failed: %s", gsl_strerror(m.st[0]));
                goto out;
            }
            for (size_t j = run_a; j < run_b; j++)
                if (isfinite(x[j * stride]) && !(y[j] <= *max)) {
                    *max = y[j];
                    *at = j;
                }
            run_a = n;
        }
        if (cand) {
            run_a = i;
            run_b = i + 1;
        }
    }
out:
    free(win);
    free(y);
    free(w);
    return rc;
}

int cl_filter_hampel(const double *x, size_t stride, size_t n, size_t window, double nsigma,
                     double *y, size_t *noutliers, cl_error *err)
{
    if (!(nsigma > 0))
        return cl_error_set(err, CL_ERR_ARG, "Hampel filter: threshold must be positive");
    return run(CL_FILTER_HAMPEL, x, stride, n, window, nsigma, y, noutliers, err);
}

int cl_filter_gaussian(const double *x, size_t stride, size_t n, double sigma_samples,
                       int order, double *y, cl_error *err)
{
    if (!(sigma_samples > 0) || !isfinite(sigma_samples) || order < 0 || order > 1)
        return cl_error_set(err, CL_ERR_ARG, "Gaussian filter: sigma must be positive, order 0 or 1");
    /* `window` carries the derivative order for this kind. */
    return run(CL_FILTER_GAUSSIAN, x, stride, n, (size_t)order, sigma_samples, y, NULL, err);
}

int cl_filter_gaussian_at(const double *x, size_t stride, size_t n, double sigma_samples,
                          int order, const size_t *idx, size_t nidx, double *y, cl_error *err)
{
    double *w = NULL, gain;
    gsl_vector *h = NULL;
    int rc = CL_OK;
    if (!(sigma_samples > 0) || !isfinite(sigma_samples) || order < 0 || order > 1)
        return cl_error_set(err, CL_ERR_ARG, "Gaussian filter: sigma must be positive, order 0 or 1");
    if (nidx == 0)
        return CL_OK;
    if (!x || !y || !idx || stride == 0)
        return cl_error_set(err, CL_ERR_ARG, "filter: invalid arguments");
    for (size_t k = 0; k < nidx; k++)
        if (idx[k] >= n)
            return cl_error_set(err, CL_ERR_ARG, "filter: sample %zu of %zu", idx[k], n);
    w = malloc(n * sizeof *w);
    if (!w)
        return cl_error_set(err, CL_ERR_NOMEM, "filter: out of memory for %zu samples", n);
    if (!bridge(x, stride, n, w)) {
        for (size_t k = 0; k < nidx; k++)
            y[k] = NAN;
        goto out;
    }
    int st = gaussian_kernel(n, sigma_samples, (size_t)order, &h, &gain);
    if (st != GSL_SUCCESS) {
        rc = cl_error_set(err, st == GSL_ENOMEM ? CL_ERR_NOMEM : CL_ERR_NUMERIC,
                          "gaussian filter failed: %s", gsl_strerror(st));
        goto out;
    }
    for (size_t k = 0; k < nidx; k++) {
        /* The sum gaussian_convolve() forms for this sample. */
        double v = gaussian_edge(w, n, h->data, h->size, idx[k]);
        if (order == 1)
            v /= gain;
        y[k] = isfinite(x[idx[k] * stride]) ? v : NAN;
    }
out:
    gsl_vector_free(h);
    free(w);
    return rc;
}

int cl_filter_mean(const double *x, size_t stride, size_t n, size_t window, double *y,
                   cl_error *err)
{
    return run(CL_FILTER_MEAN, x, stride, n, window, 0, y, NULL, err);
}

int cl_filter_apply(cl_filter_kind kind, const double *x, size_t stride, size_t n,
                    double width_samples, double *y, cl_error *err)
{
    size_t w = width_samples >= 1 ? (size_t)llround(width_samples) : 1;
    switch (kind) {
    case CL_FILTER_NONE: return run(CL_FILTER_NONE, x, stride, n, 1, 0, y, NULL, err);
    case CL_FILTER_MEDIAN: return cl_filter_median(x, stride, n, w, y, err);
    case CL_FILTER_HAMPEL: return cl_filter_hampel(x, stride, n, w, 3.0, y, NULL, err);
    case CL_FILTER_GAUSSIAN: return cl_filter_gaussian(x, stride, n, width_samples, 0, y, err);
    case CL_FILTER_MEAN: return cl_filter_mean(x, stride, n, w, y, err);
    }
    return cl_error_set(err, CL_ERR_ARG, "unknown filter %d", (int)kind);
}
