/*
 * cl_cohorttest: the tests between the groups of one stratum for one metric
 * (docs/cohort.md, "tests", "blocked", "pairwise"), on the groups' session
 * values:
 *   omnibus   Welch's ANOVA (with eta2 and omega2 of the ordinary ANOVA and
 *             omega2's 95 % interval),
 *             Kruskal-Wallis (epsilon2), Brown-Forsythe
 *   blocked   the sessions' subjects as blocks: two-way additive ANOVA
 *             (group after subject, any pattern of cells) and Friedman's
 *             test over the subjects with a value in every group; "do not
 *             apply" when no subject is in two groups
 *   pairwise  Welch t for every pair of groups, Holm's adjustment over the
 *             pairs, Hedges' g and its 95 % interval
 * and Holm's and Benjamini-Hochberg's adjustments of the omnibus and blocked
 * p-values across the metrics of each stratum.  The statistics are those of
 * cl_stats; a test that cannot be computed is not an error: its flag stays
 * false and the row's note says why.
 */
#ifndef CL_COHORTTEST_H
#define CL_COHORTTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "cohort/cl_stats.h"
#include "cl_error.h"

/* The tests whose p-values are adjusted across the metrics of a stratum
 * (each one a family), in the order of cl_cohorttest_p(). */
enum {
    CL_COHORTTEST_WELCH,
    CL_COHORTTEST_KW,
    CL_COHORTTEST_BLOCK,
    CL_COHORTTEST_FRIEDMAN,
    CL_COHORTTEST_FAMILIES
};

/* One stratum and metric. */
typedef struct cl_cohorttest {
    size_t stratum, k, n; /* k groups with n session values in all */
    int metric;           /* cl_stat_metric */
    bool an_ok, kw_ok, bf_ok;
    cl_stats_anova an;
    cl_stats_kruskal kw;
    double bf_f, bf_df1, bf_df2, bf_p;
    size_t nfew;   /* groups left out (fewer than 2 sessions) ... */
    char few[160]; /* ... named */
    char note[200];
    /* blocked by subject over the same groups */
    size_t subjects, crossed, complete, nblock; /* nblock: values with a subject */
    bool ba_ok, fr_ok;
    cl_stats_blocked ba;
    cl_stats_friedman fr;
    char bnote[240];
    double adj[CL_COHORTTEST_FAMILIES][2]; /* across the metrics of the stratum: Holm, BH */
} cl_cohorttest;

/* Two groups of a stratum, a and b their indexes in the cohort. */
typedef struct cl_cohorttest_pair {
    size_t stratum, a, b;
    int metric;
    bool ok;
    cl_stats_ttest t;
    double p_holm;
} cl_cohorttest_pair;

/* An empty row: the omnibus statistics and the adjusted p-values NaN. */
void cl_cohorttest_init(cl_cohorttest *t, size_t stratum, int metric);

/* The omnibus and blocked tests of row t over k groups: smp[i] the finite
 * session values of group i, subject[i][j] the subject of value j ("" when
 * the session records none).  The blocked ANOVA takes every value with a
 * subject; Friedman's test the subjects with a value in every group, each
 * cell the mean of the subject's values in the group.  Errors: CL_ERR_NOMEM
 * only. */
int cl_cohorttest_compare(cl_cohorttest *t, const cl_stats_sample *smp,
                          const char *const *const *subject, size_t k, cl_error *err);

/* Every pair of the k groups smp[0..k) (gidx: their indexes in the cohort)
 * into out[0 .. k(k-1)/2), in order (0,1), (0,2), ..., (1,2), ...; p_holm
 * adjusted over these pairs. */
int cl_cohorttest_pairs(const cl_stats_sample *smp, const size_t *gidx, size_t k,
                        size_t stratum, int metric, cl_cohorttest_pair *out, cl_error *err);

/* p-value of test f (CL_COHORTTEST_WELCH, ...) of row t; NaN when not
 * computed. */
double cl_cohorttest_p(const cl_cohorttest *t, int f);

/* The adjustments across the metrics: for each stratum below nstrata and
 * each test, Holm and Benjamini-Hochberg over that test's p-values of the
 * rows t[0..n) of the stratum. */
int cl_cohorttest_adjust(cl_cohorttest *t, size_t n, size_t nstrata, cl_error *err);

#endif
