/*
 * Estimands on the simulator's truth: 400 pump and 400 fire cups at 20 Hz
 * (cl_sim_cup_random, sensor noise, breathing and pulse ripple), and as many
 * again with irregular breathing and AR noise, segmented
 * and measured as the analysis does (cl_segment, cl_metrics).  Prints, per
 * technique: the model chosen, the coverage of the 95 % intervals of the
 * leak rate constant k (non-cooling cups that report it) and of the decay
 * slope against cl_sim_hold_estimands over the fitted stretch (the
 * noise-free curve sampled at the same 20 Hz and blocked alike), the median
 * |error| / SE (0.674 for honest normal errors), and the peak's bias and the
 * coverage of its noise uncertainty (k = 2) around the noise-free maximum.
 *   estimands [CUPS] [SEED]
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cl_metrics.h"
#include "cl_segment.h"
#include "cl_sim.h"
#include "cl_units.h"

#define RATE_HZ 20.0

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, size_t n)
{
    if (!n)
        return NAN;
    qsort(x, n, sizeof *x, cmp);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* The second condition: irregular breathing (the frequency within +-20 %)
 * and slow AR(1) noise of 0.5 mmHg SD, correlation time 2.5 s, as
 * cuplab-sim --breathing irregular --ar-noise 0.5:2.5 makes them. */
#define IRREGULAR_DRIFT 0.2
#define AR_NOISE_MMHG 0.5
#define AR_NOISE_TAU_S 2.5

static int study(cl_sim_technique tech, bool irregular, size_t cups, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *zk = malloc(cups * sizeof *zk), *zs = malloc(cups * sizeof *zs);
    if (!r || !zk || !zs)
        return 1;
    gsl_rng_set(r, seed);
    cl_metrics_params mp;
    cl_metrics_defaults(&mp);
    size_t nk = 0, ns = 0, hk = 0, hs = 0, models[4] = {0}, peak_hit = 0, npeak = 0;
    double peak_bias = 0;
    for (size_t i = 0; i < cups; i++) {
        cl_sim_cup c;
        cl_sim_cup_random(&c, tech, 5, r);
        cl_sim_disturb_state ar = {0};
        if (irregular) {
            cl_sim_cup_irregular(&c, IRREGULAR_DRIFT, r);
            c.disturb_kpa = AR_NOISE_MMHG * CL_KPA_PER_MMHG;
            c.disturb_tau_s = AR_NOISE_TAU_S;
        }
        size_t n = (size_t)((cl_sim_release_end(&c) + 5) * RATE_HZ);
        double *t = malloc(n * sizeof *t), *v = malloc(n * sizeof *v);
        if (!t || !v)
            return 1;
        for (size_t j = 0; j < n; j++) {
            t[j] = (double)j / RATE_HZ;
            v[j] = -cl_sim_sample_kpa(&c, t[j]) - cl_sim_disturbance(&c, &ar, t[j], r) +
                   gsl_ran_gaussian(r, c.noise_kpa);
        }
        cl_segmentation seg = {0};
        cl_cup_metrics m;
        if (cl_segment(t, v, 1, n, NULL, &seg, NULL) == CL_OK && seg.napps == 1 &&
            cl_metrics_compute(t, v, 1, n, &seg.apps[0], &mp, &m, NULL) == CL_OK &&
            m.fitted) {
            models[m.best.model]++;
            cl_sim_hold_truth h;
            cl_sim_hold_estimands(&c, m.fit_start_s, m.fit_end_s, RATE_HZ, mp.fit_bin_s, &h);
            if (isfinite(m.k_per_min)) {
                double z = fabs(m.k_per_min - h.k_per_min) / m.k_se_per_min;
                zk[nk++] = z;
                hk += z <= 1.96;
            }
            double z = fabs(m.leak_kpa_min - h.slope_kpa_min) / m.leak_se_kpa_min;
            zs[ns++] = z;
            hs += z <= 1.96;
            double want = 0;
            for (double u = c.t_apply_s; u <= cl_sim_release_start(&c); u += 0.01)
                want = fmax(want, -cl_sim_pressure_kpa(&c, u));
            peak_bias += m.peak_kpa - want;
            peak_hit += fabs(m.peak_kpa - want) <= m.peak_noise_u_kpa;
            npeak++;
        }
        cl_segmentation_release(&seg);
        free(t);
        free(v);
    }
    printf("%s, %s, %zu cups: models linear %zu, exp %zu, exp+slope %zu\n",
           cl_sim_technique_name(tech),
           irregular ? "irregular breathing + AR noise" : "steady breathing", cups, models[1],
           models[2], models[3]);
    printf("  leak k: %zu cups, 95 %% coverage %.3f, median |error|/SE %.3f\n", nk,
           nk ? (double)hk / (double)nk : NAN, median(zk, nk));
    printf("  decay slope: %zu cups, 95 %% coverage %.3f, median |error|/SE %.3f\n", ns,
           ns ? (double)hs / (double)ns : NAN, median(zs, ns));
    printf("  peak: mean error %+.3f kPa (%+.2f mmHg), within its noise uncertainty on %.3f\n",
           peak_bias / (double)npeak, peak_bias / (double)npeak / CL_KPA_PER_MMHG,
           (double)peak_hit / (double)npeak);
    free(zk);
    free(zs);
    gsl_rng_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    size_t cups = argc > 1 ? strtoul(argv[1], NULL, 10) : 400;
    unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
    return study(CL_SIM_PUMP, false, cups, seed) || study(CL_SIM_FIRE, false, cups, seed + 1) ||
           study(CL_SIM_PUMP, true, cups, seed + 2) || study(CL_SIM_FIRE, true, cups, seed + 3);
}
