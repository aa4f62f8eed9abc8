/*
 * cl_cohorttest: the omnibus, blocked and pairwise tests of one stratum and
 * metric, and the adjustments across the metrics (see cl_cohorttest.h).
 */
#include "cohort/cl_cohorttest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cl_cohorttest_init(cl_cohorttest *t, size_t stratum, int metric)
{
    memset(t, 0, sizeof *t);
    t->stratum = stratum;
    t->metric = metric;
    t->an.f = t->an.p = t->an.eta2 = t->an.omega2 = t->an.f_classic = t->an.p_classic = NAN;
    t->an.df1 = t->an.df2 = NAN;
    t->kw.h = t->kw.p = t->kw.df = t->kw.epsilon2 = NAN;
    t->bf_f = t->bf_df1 = t->bf_df2 = t->bf_p = NAN;
    for (int f = 0; f < CL_COHORTTEST_FAMILIES; f++)
        t->adj[f][0] = t->adj[f][1] = NAN;
}

/* Index of subject `name` in subj[0..*n), appended if new. */
static size_t subject_index(const char **subj, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(subj[i], name))
            return i;
    subj[*n] = name;
    return (*n)++;
}

/* Scratch of blocked(): one entry per value, then per subject x group. */
typedef struct block_scratch {
    double *y, *cell;
    size_t *grp, *blk, *cnt;
    const char **subj;
} block_scratch;

static void block_scratch_free(block_scratch *b)
{
    free(b->y);
    free(b->cell);
    free(b->grp);
    free(b->blk);
    free(b->cnt);
    free(b->subj);
}

/* The values with a subject into b (y, grp, blk; subj the distinct
 * subjects), their number in *nv and the subjects' in *ns; returns the
 * number of values without a subject. */
static size_t block_values(block_scratch *b, const cl_stats_sample *smp,
                           const char *const *const *subject, size_t k, size_t *nv, size_t *ns)
{
    size_t nosubj = 0;
    *nv = *ns = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < smp[i].n; j++) {
            const char *sj = subject[i][j];
            if (!*sj) {
                nosubj++;
                continue;
            }
            b->y[*nv] = smp[i].x[j * smp[i].stride];
            b->grp[*nv] = i;
            b->blk[(*nv)++] = subject_index(b->subj, ns, sj);
        }
    return nosubj;
}

/* The cells subject x group of the nv values (sums and counts, zeroed by
 * the caller), the subjects in two groups or more counted as crossed in t;
 * then Friedman's rows, the complete subjects' cell means, packed at the
 * start of b->cell.  Returns the number of complete subjects. */
static size_t block_cells(block_scratch *b, cl_cohorttest *t, size_t nv, size_t k, size_t ns)
{
    size_t nf = 0;
    for (size_t i = 0; i < nv; i++) {
        b->cell[b->blk[i] * k + b->grp[i]] += b->y[i];
        b->cnt[b->blk[i] * k + b->grp[i]]++;
    }
    for (size_t sj = 0; sj < ns; sj++) {
        size_t in = 0;
        for (size_t i = 0; i < k; i++)
            in += b->cnt[sj * k + i] > 0;
        t->crossed += in >= 2;
        if (in < k)
            continue;
        for (size_t i = 0; i < k; i++)
            b->cell[nf * k + i] = b->cell[sj * k + i] / (double)b->cnt[sj * k + i];
        nf++;
    }
    return nf;
}

/* The blocked ANOVA and Friedman's test on the cells of b, and the note
 * that says what was left out or why a test does not apply. */
static void block_tests(cl_cohorttest *t, const block_scratch *b, size_t nv, size_t k,
                        size_t ns, size_t nosubj)
{
    size_t nf = t->complete;
    char *bn = t->bnote;
    size_t cap = sizeof t->bnote;
#define BNOTE(...) snprintf(bn + strlen(bn), cap - strlen(bn), __VA_ARGS__)
    if (nosubj)
        BNOTE("%zu session%s without a subject left out", nosubj, nosubj == 1 ? "" : "s");
    if (!t->crossed) {
        BNOTE("%sdo not apply: %s", *bn ? "; " : "",
              ns ? "every subject is in one group only" : "no session records a subject");
        return;
    }
    cl_error e2;
    t->ba_ok = cl_stats_block_anova(b->y, 1, b->grp, b->blk, nv, k, ns, &t->ba, &e2) == CL_OK;
    if (!t->ba_ok)
        BNOTE("%s%s", *bn ? "; " : "", e2.msg);
    if (nf < ns)
        BNOTE("%sFriedman: %zu of %zu subjects not in every group left out", *bn ? "; " : "",
              ns - nf, ns);
    t->fr_ok = cl_stats_friedman_test(b->cell, nf, k, k, &t->fr, &e2) == CL_OK;
    if (!t->fr_ok)
        BNOTE("%s%s", *bn ? "; " : "", e2.msg);
#undef BNOTE
}

/* The blocked tests of row t (cl_cohorttest_compare()). */
static int blocked(cl_cohorttest *t, const cl_stats_sample *smp,
                   const char *const *const *subject, size_t k, cl_error *err)
{
    size_t nv = 0, ns = 0, nosubj;
    block_scratch b;
    int rc = CL_OK;

    t->ba.f = t->ba.p = t->ba.df_group = t->ba.df_resid = NAN;
    t->fr.chi2 = t->fr.p = t->fr.df = t->fr.w = NAN;
    for (size_t i = 0; i < k; i++)
        nv += smp[i].n;
    memset(&b, 0, sizeof b);
    b.y = malloc((nv ? nv : 1) * sizeof *b.y);
    b.grp = malloc((nv ? nv : 1) * sizeof *b.grp);
    b.blk = malloc((nv ? nv : 1) * sizeof *b.blk);
    b.subj = malloc((nv ? nv : 1) * sizeof *b.subj);
    if (!b.y || !b.grp || !b.blk || !b.subj) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    nosubj = block_values(&b, smp, subject, k, &nv, &ns);
    t->nblock = nv;
    t->subjects = ns;
    b.cell = calloc((ns ? ns : 1) * k, sizeof *b.cell);
    b.cnt = calloc((ns ? ns : 1) * k, sizeof *b.cnt);
    if (!b.cell || !b.cnt) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    t->complete = block_cells(&b, t, nv, k, ns);
    block_tests(t, &b, nv, k, ns, nosubj);
out:
    block_scratch_free(&b);
    return rc;
}

int cl_cohorttest_compare(cl_cohorttest *t, const cl_stats_sample *smp,
                          const char *const *const *subject, size_t k, cl_error *err)
{
    cl_error e2;
    int rc = blocked(t, smp, subject, k, err);
    if (rc != CL_OK)
        return rc;
    t->an_ok = cl_stats_welch_anova(smp, k, &t->an, &e2) == CL_OK;
    if (!t->an_ok) /* a group without variance: Kruskal-Wallis still applies */
        snprintf(t->note + strlen(t->note), sizeof t->note - strlen(t->note), "%s%s",
                 t->note[0] ? "; " : "", e2.msg);
    t->kw_ok = cl_stats_kruskal_wallis(smp, k, &t->kw, &e2) == CL_OK;
    t->bf_ok = cl_stats_brown_forsythe(smp, k, &t->bf_f, &t->bf_df1, &t->bf_df2, &t->bf_p,
                                       &e2) == CL_OK;
    return CL_OK;
}

int cl_cohorttest_pairs(const cl_stats_sample *smp, const size_t *gidx, size_t k,
                        size_t stratum, int metric, cl_cohorttest_pair *out, cl_error *err)
{
    cl_error e2;
    size_t np = 0;
    int rc;
    for (size_t a = 0; a < k; a++)
        for (size_t b = a + 1; b < k; b++) {
            cl_cohorttest_pair *pr = &out[np++];
            memset(pr, 0, sizeof *pr);
            pr->stratum = stratum;
            pr->metric = metric;
            pr->a = gidx[a];
            pr->b = gidx[b];
            pr->ok = cl_stats_welch_t(&smp[a], &smp[b], &pr->t, &e2) == CL_OK;
            if (!pr->ok)
                pr->t.p = NAN;
        }
    double *p = malloc((np ? np : 1) * sizeof *p), *adj = malloc((np ? np : 1) * sizeof *adj);
    if (!p || !adj) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < np; i++)
            p[i] = out[i].t.p;
        rc = cl_stats_holm(p, 1, np, adj, err);
        for (size_t i = 0; rc == CL_OK && i < np; i++)
            out[i].p_holm = adj[i];
    }
    free(p);
    free(adj);
    return rc;
}

double cl_cohorttest_p(const cl_cohorttest *t, int f)
{
    switch (f) {
    case CL_COHORTTEST_WELCH:
        return t->an_ok ? t->an.p : NAN;
    case CL_COHORTTEST_KW:
        return t->kw_ok ? t->kw.p : NAN;
    case CL_COHORTTEST_BLOCK:
        return t->ba_ok ? t->ba.p : NAN;
    default:
        return t->fr_ok ? t->fr.p : NAN;
    }
}

int cl_cohorttest_adjust(cl_cohorttest *t, size_t n, size_t nstrata, cl_error *err)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    double *a = malloc((n ? n : 1) * sizeof *a);
    size_t *row = malloc((n ? n : 1) * sizeof *row);
    int rc = p && a && row ? CL_OK : cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t st = 0; rc == CL_OK && st < nstrata; st++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (t[i].stratum == st)
                row[m++] = i;
        for (int f = 0; rc == CL_OK && f < CL_COHORTTEST_FAMILIES; f++)
            for (int how = 0; rc == CL_OK && how < 2; how++) {
                for (size_t i = 0; i < m; i++)
                    p[i] = cl_cohorttest_p(&t[row[i]], f);
                rc = how ? cl_stats_bh(p, 1, m, a, err) : cl_stats_holm(p, 1, m, a, err);
                for (size_t i = 0; rc == CL_OK && i < m; i++)
                    t[row[i]].adj[f][how] = a[i];
            }
    }
    free(p);
    free(a);
    free(row);
    return rc;
}
