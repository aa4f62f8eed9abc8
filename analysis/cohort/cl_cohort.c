/*
 * cl_cohort: sessions grouped by metadata and compared (see cl_cohort.h for
 * what is computed).
 *
 * Layout.  The cohort keeps every session it was given (file name, the
 * session's metadata and its cups, fixed-size records).  A comparison builds
 * groups (one per combination of levels of the grouping fields, sorted in
 * natural order of the second level then the first) and observations (a
 * session within a group: the indexes of its cups there).  Everything the
 * tables need is computed once in cl_cohort_compare() and kept in plain
 * arrays, so writing the tables and drawing the figures only read them.
 */
#include "cohort/cl_cohort.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NP CL_COHORTSESSION_POINTS

typedef struct entry {
    char *file;
    cl_cohortsession s;
} entry;

/* A session within a group: the indexes of its cups there. */
typedef struct obs {
    size_t session, group;
    size_t first, count; /* into cohort.obs_cup */
    double value[CL_STAT_COUNT];
    double span_s;
    double curve[NP];
    bool has_curve;
} obs;

typedef struct group {
    char *level[2];
    char *label;
    size_t stratum, orig;
    size_t *obs, nobs;
    double *values[CL_STAT_COUNT]; /* finite session values */
    size_t nval[CL_STAT_COUNT], ncups[CL_STAT_COUNT];
    cl_stats_desc desc[CL_STAT_COUNT];
    cl_cohort_repeat rep[CL_STAT_COUNT];
    size_t prof_n;
    double span_s, mean[NP], lo[NP], hi[NP], rms_target;
} group;

struct cl_cohort {
    entry *e;
    size_t ne, cape;
    /* results of the last comparison */
    cl_cohort_params p;
    group *g;
    size_t ng;
    char **stratum;
    size_t nstrata;
    obs *o;
    size_t no;
    size_t *obs_cup;
    size_t nobs_cup;
    cl_cohorttest *tests;
    size_t ntests;
    cl_cohorttest_pair *pairs;
    size_t npairs;
    cl_cohort_distance *dist;
    size_t ndist;
    long closest;
    char **notes;
    size_t nnotes;
    const char *pooled_v[32]; /* techniques pooled within groups (the sessions' strings) */
    size_t npooled;
    char pooled[512]; /* ... as "fire, pump" */
};

cl_cohort *cl_cohort_new(void)
{
    cl_cohort *c = calloc(1, sizeof *c);
    if (c)
        c->closest = -1;
    return c;
}

static void results_free(cl_cohort *c)
{
    for (size_t i = 0; i < c->ng; i++) {
        group *g = &c->g[i];
        free(g->level[0]);
        free(g->level[1]);
        free(g->label);
        free(g->obs);
        for (int m = 0; m < CL_STAT_COUNT; m++)
            free(g->values[m]);
    }
    for (size_t i = 0; i < c->nstrata; i++)
        free(c->stratum[i]);
    for (size_t i = 0; i < c->nnotes; i++)
        free(c->notes[i]);
    free(c->g);
    free(c->stratum);
    free(c->o);
    free(c->obs_cup);
    free(c->tests);
    free(c->pairs);
    free(c->dist);
    free(c->notes);
    c->g = NULL;
    c->stratum = NULL;
    c->o = NULL;
    c->obs_cup = NULL;
    c->tests = NULL;
    c->pairs = NULL;
    c->dist = NULL;
    c->notes = NULL;
    c->ng = c->nstrata = c->no = c->nobs_cup = c->ntests = c->npairs = c->ndist = 0;
    c->nnotes = 0;
    c->closest = -1;
    c->npooled = 0;
    c->pooled[0] = '\0';
}

void cl_cohort_free(cl_cohort *c)
{
    if (!c)
        return;
    results_free(c);
    for (size_t i = 0; i < c->ne; i++) {
        free(c->e[i].file);
        cl_cohortsession_release(&c->e[i].s);
    }
    free(c->e);
    free(c);
}

int cl_cohort_add(cl_cohort *c, const char *file, cl_cohortsession *s, cl_error *err)
{
    if (c->ne == c->cape) {
        size_t cap = c->cape ? 2 * c->cape : 64;
        entry *e = realloc(c->e, cap * sizeof *e);
        if (!e) {
            cl_cohortsession_release(s);
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        }
        c->e = e;
        c->cape = cap;
    }
    char *f = strdup(file ? file : "");
    if (!f) {
        cl_cohortsession_release(s);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    c->e[c->ne++] = (entry){f, *s};
    memset(s, 0, sizeof *s);
    return CL_OK;
}

size_t cl_cohort_session_count(const cl_cohort *c)
{
    return c->ne;
}

static int note(cl_cohort *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a note; CL_ERR_NOMEM if it cannot be kept. */
static int note(cl_cohort *c, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **n = realloc(c->notes, (c->nnotes + 1) * sizeof *n);
    if (!n)
        return CL_ERR_NOMEM;
    c->notes = n;
    if (!(n[c->nnotes] = strdup(buf)))
        return CL_ERR_NOMEM;
    c->nnotes++;
    return CL_OK;
}

size_t cl_cohort_note_count(const cl_cohort *c)
{
    return c->nnotes;
}
const char *cl_cohort_note(const cl_cohort *c, size_t i)
{
    return i < c->nnotes ? c->notes[i] : "";
}

/* Grow *v (elements of size sz) to hold n + 1; false on failure. */
static bool grow(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? 2 * *cap : 16;
    void *p = realloc(*v, nc * sz);
    if (!p)
        return false;
    *v = p;
    *cap = nc;
    return true;
}

/* A list of names for a note: the first few, then "and N more". */
typedef struct namelist {
    char text[400];
    size_t n;
} namelist;

static void namelist_add(namelist *l, const char *name)
{
    size_t len = strlen(l->text);
    if (l->n < 6 && len + strlen(name) + 3 < sizeof l->text)
        snprintf(l->text + len, sizeof l->text - len, "%s%s", l->n ? ", " : "", name);
    l->n++;
}

static const char *namelist_text(namelist *l, char *buf, size_t cap)
{
    if (l->n > 6)
        snprintf(buf, cap, "%.400s and %zu more", l->text, l->n - 6);
    else
        snprintf(buf, cap, "%.400s", l->text);
    return buf;
}

/* Index of the group with these levels, created if new; -1 on failure. */
static long find_group(cl_cohort *c, size_t *capg, const char *l0, const char *l1)
{
    for (size_t i = 0; i < c->ng; i++)
        if (!strcmp(c->g[i].level[0], l0) && !strcmp(c->g[i].level[1], l1))
            return (long)i;
    if (!grow((void **)&c->g, capg, c->ng, sizeof *c->g))
        return -1;
    group *g = &c->g[c->ng];
    memset(g, 0, sizeof *g);
    g->level[0] = strdup(l0);
    g->level[1] = strdup(l1);
    size_t ll = strlen(l0) + strlen(l1) + 4;
    g->label = malloc(ll);
    g->orig = c->ng;
    c->ng++; /* counted now so that results_free releases what was made */
    if (!g->level[0] || !g->level[1] || !g->label)
        return -1;
    snprintf(g->label, ll, "%s%s%s", l0, *l1 ? " / " : "", l1);
    return (long)(c->ng - 1);
}

/* Append observation (session si, group gi) with the cups pend_k[j] whose
 * pend_g[j] is gi. */
static int add_obs(cl_cohort *c, size_t *capo, size_t *capc, size_t si, size_t gi,
                   const size_t *pend_k, const size_t *pend_g, size_t np)
{
    if (!grow((void **)&c->o, capo, c->no, sizeof *c->o))
        return CL_ERR_NOMEM;
    obs *o = &c->o[c->no++];
    memset(o, 0, sizeof *o);
    o->session = si;
    o->group = gi;
    o->first = c->nobs_cup;
    for (size_t j = 0; j < np; j++) {
        if (pend_g[j] != gi)
            continue;
        if (!grow((void **)&c->obs_cup, capc, c->nobs_cup, sizeof *c->obs_cup))
            return CL_ERR_NOMEM;
        c->obs_cup[c->nobs_cup++] = pend_k[j];
        o->count++;
    }
    return CL_OK;
}

/* What build_groups() gathers over the sessions. */
typedef struct gather {
    size_t capg, capo, capc;         /* room in c->g, c->o, c->obs_cup */
    namelist missing[2], notransfer; /* sessions without a field, with raw counts */
    size_t nominal, calibrated;      /* cups grouped, by their calibration */
} gather;

/* The group of each cup of session si that can be compared (applied, with
 * pressures, with every grouping field): cup pk[j] into group pg[j], j <
 * *np.  What is left out is counted in gt. */
static int group_cups(cl_cohort *c, size_t si, gather *gt, size_t *pk, size_t *pg, size_t *np)
{
    const cl_cohort_params *p = &c->p;
    const cl_cohortsession *s = &c->e[si].s;
    bool miss[2] = {false, false}, raw_only = false;
    int rc = CL_OK;

    *np = 0;
    for (size_t k = 0; k < s->ncups; k++) {
        const cl_cohortsession_cup *cup = &s->cups[k];
        if (cup->cal == CL_CAL_NONE) {
            raw_only = true;
            continue;
        }
        if (!cup->applied)
            continue;
        const char *lv[2] = {"", ""};
        bool ok = true;
        for (size_t f = 0; f < p->nfields; f++) {
            lv[f] = cl_cohortfield_level(s, k, p->field[f]);
            if (!*lv[f]) {
                miss[f] = true;
                ok = false;
            }
        }
        if (!ok)
            continue;
        long gi = find_group(c, &gt->capg, lv[0], lv[1]);
        if (gi < 0) {
            rc = CL_ERR_NOMEM;
            break;
        }
        pk[*np] = k;
        pg[(*np)++] = (size_t)gi;
        if (cup->cal == CL_CAL_NOMINAL)
            gt->nominal++;
        else
            gt->calibrated++;
    }
    for (size_t f = 0; f < p->nfields; f++)
        if (miss[f])
            namelist_add(&gt->missing[f], c->e[si].file);
    if (raw_only)
        namelist_add(&gt->notransfer, c->e[si].file);
    return rc;
}

/* Group the cups of session si and add its observations: one per group it
 * has cups in, in order of first appearance, its cups contiguous in
 * obs_cup. */
static int add_session(cl_cohort *c, size_t si, gather *gt)
{
    size_t n = c->e[si].s.ncups ? c->e[si].s.ncups : 1, np;
    size_t *pend = malloc(2 * n * sizeof *pend), *pk = pend, *pg = pend + n;
    if (!pend)
        return CL_ERR_NOMEM;
    int rc = group_cups(c, si, gt, pk, pg, &np);
    for (size_t i = 0; i < np && rc == CL_OK; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = pg[j] == pg[i];
        if (!seen)
            rc = add_obs(c, &gt->capo, &gt->capc, si, pg[i], pk, pg, np);
    }
    free(pend);
    return rc;
}

/* The notes on what build_groups() left out; CL_ERR_NOMEM if they cannot
 * be kept. */
static int note_gather(cl_cohort *c, gather *gt)
{
    const cl_cohort_params *p = &c->p;
    char buf[512];
    int rc = CL_OK;
    for (size_t f = 0; f < p->nfields && rc == CL_OK; f++)
        if (gt->missing[f].n)
            rc = note(c, "%zu session%s without %s %s (cups left out): %s", gt->missing[f].n,
                      gt->missing[f].n == 1 ? "" : "s",
                      cl_cohortfield_of_session(p->field[f]) ? "a" : "a cup",
                      cl_cohortfield_name(p->field[f]),
                      namelist_text(&gt->missing[f], buf, sizeof buf));
    if (rc == CL_OK && gt->notransfer.n)
        rc = note(c,
                  "%zu session%s with cups in raw counts only (no sensor profile and no ADC "
                  "resolution: no pressure to compare; those cups left out): %s",
                  gt->notransfer.n, gt->notransfer.n == 1 ? "" : "s",
                  namelist_text(&gt->notransfer, buf, sizeof buf));
    if (rc == CL_OK && gt->nominal && gt->calibrated)
        rc =
            note(c,
                 "%zu of %zu cups are uncalibrated (nominal sensor transfer, gain within about "
                 "3 %%) and the others calibrated: differences of that size may be the "
                 "sensors'",
                 gt->nominal, gt->nominal + gt->calibrated);
    return rc;
}

/* Build groups and observations from the sessions. */
static int build_groups(cl_cohort *c, cl_error *err)
{
    gather gt;
    int rc = CL_OK;
    memset(&gt, 0, sizeof gt);
    for (size_t si = 0; si < c->ne && rc == CL_OK; si++)
        rc = add_session(c, si, &gt);
    if (rc == CL_OK)
        rc = note_gather(c, &gt);
    return rc == CL_OK ? CL_OK : cl_error_set(err, rc, "out of memory");
}

static int cmp_name(const void *a, const void *b)
{
    return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_group(const void *a, const void *b)
{
    const group *x = a, *y = b;
    int r = strverscmp(x->level[1], y->level[1]);
    return r ? r : strverscmp(x->level[0], y->level[0]);
}

/* Sort the groups, renumber the observations, collect the strata. */
static int order_groups(cl_cohort *c, cl_error *err)
{
    size_t *map = malloc((c->ng ? c->ng : 1) * sizeof *map);
    if (!map)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    qsort(c->g, c->ng, sizeof *c->g, cmp_group);
    for (size_t i = 0; i < c->ng; i++)
        map[c->g[i].orig] = i;
    for (size_t i = 0; i < c->no; i++)
        c->o[i].group = map[c->o[i].group];
    free(map);
    c->stratum = calloc(c->ng ? c->ng : 1, sizeof *c->stratum);
    if (!c->stratum)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->ng; i++) {
        group *g = &c->g[i];
        if (!c->nstrata || strcmp(c->stratum[c->nstrata - 1], g->level[1])) {
            if (!(c->stratum[c->nstrata] = strdup(g->level[1])))
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            c->nstrata++;
        }
        g->stratum = c->nstrata - 1;
        g->obs = malloc((c->no ? c->no : 1) * sizeof *g->obs);
        if (!g->obs)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->no; i++) {
        group *g = &c->g[c->o[i].group];
        g->obs[g->nobs++] = i;
    }
    return CL_OK;
}

/* Per observation: the mean of its cups' values and curves. */
static void observe(cl_cohort *c)
{
    for (size_t i = 0; i < c->no; i++) {
        obs *o = &c->o[i];
        const cl_cohortsession *s = &c->e[o->session].s;
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            double sum = 0;
            size_t n = 0;
            for (size_t j = 0; j < o->count; j++) {
                double v = s->cups[c->obs_cup[o->first + j]].value[m];
                if (isfinite(v)) {
                    sum += v;
                    n++;
                }
            }
            o->value[m] = n ? sum / (double)n : NAN;
        }
        double span = 0, sum[NP] = {0};
        size_t n = 0;
        for (size_t j = 0; j < o->count; j++) {
            const cl_cohortsession_cup *cup = &s->cups[c->obs_cup[o->first + j]];
            if (!isfinite(cup->span_s))
                continue;
            span += cup->span_s;
            for (int k = 0; k < NP; k++)
                sum[k] += cup->curve[k];
            n++;
        }
        o->has_curve = n > 0;
        o->span_s = n ? span / (double)n : NAN;
        for (int k = 0; k < NP; k++)
            o->curve[k] = n ? sum[k] / (double)n : NAN;
    }
}

/* Per group: descriptive statistics of every metric. */
static int describe_groups(cl_cohort *c, cl_error *err)
{
    for (size_t gi = 0; gi < c->ng; gi++) {
        group *g = &c->g[gi];
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            g->values[m] = malloc((g->nobs ? g->nobs : 1) * sizeof(double));
            if (!g->values[m])
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            for (size_t j = 0; j < g->nobs; j++) {
                const obs *o = &c->o[g->obs[j]];
                const cl_cohortsession *s = &c->e[o->session].s;
                if (isfinite(o->value[m]))
                    g->values[m][g->nval[m]++] = o->value[m];
                for (size_t k = 0; k < o->count; k++)
                    g->ncups[m] += isfinite(s->cups[c->obs_cup[o->first + k]].value[m]);
            }
            int rc = cl_stats_describe(g->values[m], 1, g->nval[m], &g->desc[m], err);
            if (rc != CL_OK)
                return rc;
        }
    }
    return CL_OK;
}

/* Scratch room of test_groups() for every group of the cohort. */
typedef struct test_scratch {
    cl_stats_sample *smp;
    size_t *gidx;
    const char *const **subj; /* per group tested: the subjects of its values, */
    const char **names;       /* ... kept here (one per observation at most) */
} test_scratch;

/* The subjects of group g's finite values of metric m, in their order, into
 * names; returns their number. */
static size_t value_subjects(const cl_cohort *c, const group *g, int m, const char **names)
{
    size_t n = 0;
    for (size_t j = 0; j < g->nobs; j++) {
        const obs *o = &c->o[g->obs[j]];
        if (isfinite(o->value[m]))
            names[n++] = c->e[o->session].s.subject;
    }
    return n;
}

/* A new test row of stratum st and metric m over the groups with at least
 * two values, which go into x; their number in *k. */
static cl_cohorttest *test_row(cl_cohort *c, size_t st, int m, size_t *capt, test_scratch *x,
                               size_t *k)
{
    namelist few = {{0}, 0};
    char buf[512];
    size_t used = 0;

    *k = 0;
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        if (g->stratum != st)
            continue;
        if (g->nval[m] < 2) {
            char item[CL_COHORTSESSION_STR + 40];
            snprintf(item, sizeof item, "%s (%zu)", g->level[0], g->nval[m]);
            namelist_add(&few, item);
            continue;
        }
        x->gidx[*k] = gi;
        x->subj[*k] = x->names + used;
        used += value_subjects(c, g, m, x->names + used);
        x->smp[(*k)++] = (cl_stats_sample){g->values[m], 1, g->nval[m]};
    }
    if (!grow((void **)&c->tests, capt, c->ntests, sizeof *c->tests))
        return NULL;
    cl_cohorttest *t = &c->tests[c->ntests++];
    cl_cohorttest_init(t, st, m);
    t->k = *k;
    for (size_t i = 0; i < *k; i++)
        t->n += x->smp[i].n;
    if (few.n) {
        snprintf(t->note, sizeof t->note, "left out, fewer than 2 sessions: %.160s",
                 namelist_text(&few, buf, sizeof buf));
        snprintf(t->few, sizeof t->few, "%.150s", namelist_text(&few, buf, sizeof buf));
        t->nfew = few.n;
    }
    if (*k < 2 && !few.n)
        snprintf(t->note, sizeof t->note, "fewer than 2 groups");
    return t;
}

/* test_stratum() with scratch room for every group. */
static int test_groups(cl_cohort *c, size_t st, int m, size_t *capt, size_t *capp,
                       test_scratch *x, cl_error *err)
{
    size_t k;
    cl_cohorttest *t = test_row(c, st, m, capt, x, &k);
    if (!t)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    if (k < 2)
        return CL_OK;
    int rc = cl_cohorttest_compare(t, x->smp, x->subj, k, err);
    if (rc != CL_OK)
        return rc;
    size_t first = c->npairs;
    for (size_t i = 0; i < k * (k - 1) / 2; i++)
        if (!grow((void **)&c->pairs, capp, c->npairs + i, sizeof *c->pairs))
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    c->npairs += k * (k - 1) / 2;
    return cl_cohorttest_pairs(x->smp, x->gidx, k, st, m, c->pairs + first, err);
}

/* Tests and pairwise comparisons of one stratum and metric. */
static int test_stratum(cl_cohort *c, size_t st, int m, size_t *capt, size_t *capp,
                        cl_error *err)
{
    size_t ng = c->ng ? c->ng : 1;
    test_scratch x = {malloc(ng * sizeof *x.smp), malloc(ng * sizeof *x.gidx),
                      malloc(ng * sizeof *x.subj),
                      malloc((c->no ? c->no : 1) * sizeof *x.names)};
    int rc = x.smp && x.gidx && x.subj && x.names
                 ? test_groups(c, st, m, capt, capp, &x, err)
                 : cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    free(x.smp);
    free(x.gidx);
    free(x.subj);
    free(x.names);
    return rc;
}

/* One note per stratum and set of groups left out, naming the metrics. */
static int note_left_out(cl_cohort *c)
{
    for (size_t i = 0; i < c->ntests; i++) {
        const cl_cohorttest *t = &c->tests[i];
        bool first = t->nfew > 0;
        for (size_t j = 0; first && j < i; j++)
            first = !(c->tests[j].stratum == t->stratum && !strcmp(c->tests[j].few, t->few));
        if (!first)
            continue;
        namelist metrics = {{0}, 0};
        char buf[512];
        for (size_t j = i; j < c->ntests; j++)
            if (c->tests[j].stratum == t->stratum && !strcmp(c->tests[j].few, t->few))
                namelist_add(&metrics, cl_stat_metric_name((cl_stat_metric)c->tests[j].metric));
        const char *where = c->stratum[t->stratum];
        if (note(c,
                 "%s%s%s %s left out of the tests of %s (fewer than 2 sessions with a value)",
                 *where ? where : "", *where ? ": " : "", t->nfew == 1 ? "group" : "groups",
                 t->few, namelist_text(&metrics, buf, sizeof buf)) != CL_OK)
            return CL_ERR_NOMEM;
    }
    return CL_OK;
}

/* When no row has a subject in two of its groups, one note says so. */
static int note_blocks(cl_cohort *c)
{
    size_t subjects = 0;
    for (size_t i = 0; i < c->ntests; i++) {
        if (c->tests[i].crossed)
            return CL_OK;
        subjects += c->tests[i].subjects;
    }
    if (!subjects)
        return CL_OK;
    return note(c, "every subject is in one group only: the blocked tests (subject as a "
                   "block) do not apply");
}

/* The techniques pooled within a group when technique is not a grouping
 * field: every technique of a group that has sessions of two or more. */
static void pooled(cl_cohort *c)
{
    namelist all = {{0}, 0};
    c->pooled[0] = '\0';
    for (size_t f = 0; f < c->p.nfields; f++)
        if (c->p.field[f] == CL_COHORTFIELD_TECHNIQUE)
            return;
    for (size_t gi = 0; gi < c->ng; gi++) {
        const group *g = &c->g[gi];
        const char *first = NULL;
        bool mixed = false;
        for (size_t j = 0; j < g->nobs && !mixed; j++) {
            const char *tq = c->e[c->o[g->obs[j]].session].s.technique;
            if (!first)
                first = tq;
            mixed = strcmp(first, tq) != 0;
        }
        if (!mixed)
            continue;
        for (size_t j = 0; j < g->nobs; j++) {
            const char *tq = c->e[c->o[g->obs[j]].session].s.technique;
            bool seen = false;
            for (size_t i = 0; i < c->npooled && !seen; i++)
                seen = !strcmp(c->pooled_v[i], tq);
            if (!seen && c->npooled < sizeof c->pooled_v / sizeof c->pooled_v[0])
                c->pooled_v[c->npooled++] = tq;
        }
    }
    qsort(c->pooled_v, c->npooled, sizeof c->pooled_v[0], cmp_name);
    for (size_t i = 0; i < c->npooled; i++)
        namelist_add(&all, *c->pooled_v[i] ? c->pooled_v[i] : "(none)");
    namelist_text(&all, c->pooled, sizeof c->pooled);
}

const char *cl_cohort_pooled_techniques(const cl_cohort *c)
{
    return c->pooled;
}

/* Site key of a cup for repeatability: its site, else its id. */
static const char *site_key(const cl_cohortsession *s, size_t k)
{
    const cl_cohortsession_cup *c = &s->cups[k];
    return c->site[0] ? c->site : c->cup_id;
}

/* Value of metric m at site `key` in observation o (mean over its cups
 * there); NaN if none. */
static double obs_site_value(const cl_cohort *c, const obs *o, const char *key, int m)
{
    const cl_cohortsession *s = &c->e[o->session].s;
    double sum = 0;
    size_t n = 0;
    for (size_t j = 0; j < o->count; j++) {
        size_t k = c->obs_cup[o->first + j];
        double v = s->cups[k].value[m];
        if (!strcmp(site_key(s, k), key) && isfinite(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / (double)n : NAN;
}

/* The sites of the first rater (obs index raters[0]) where every one of
 * the ns raters has a value of metric m, each once, into sites; returns
 * their number. */
static size_t common_sites(const cl_cohort *c, const size_t *raters, size_t ns, int m,
                           const char **sites)
{
    const obs *o0 = &c->o[raters[0]];
    const cl_cohortsession *s0 = &c->e[o0->session].s;
    size_t nsites = 0;
    for (size_t j = 0; j < o0->count; j++) {
        const char *key = site_key(s0, c->obs_cup[o0->first + j]);
        bool dup = false, all = true;
        for (size_t i = 0; i < nsites; i++)
            dup |= !strcmp(sites[i], key);
        for (size_t i = 0; !dup && all && i < ns; i++)
            all = isfinite(obs_site_value(c, &c->o[raters[i]], key, m));
        if (!dup && all)
            sites[nsites++] = key;
    }
    return nsites;
}

/* Repeatability of group g for metric m: ICC(2,1) over the sites present in
 * every session of the group (targets) by those sessions (raters). */
static int repeatability(cl_cohort *c, group *g, int m, cl_error *err)
{
    cl_cohort_repeat *r = &g->rep[m];
    const char **sites = NULL;
    double *y = NULL;
    size_t nsites = 0, ns = 0;
    int rc = CL_OK;

    memset(r, 0, sizeof *r);
    /* Sessions with a value of the metric are the raters. */
    size_t *raters = malloc((g->nobs ? g->nobs : 1) * sizeof *raters);
    if (!raters)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < g->nobs; j++)
        if (isfinite(c->o[g->obs[j]].value[m]))
            raters[ns++] = g->obs[j];
    r->sessions = ns;
    if (ns < 2) {
        snprintf(r->note, sizeof r->note, "fewer than 2 sessions");
        goto out;
    }
    /* Candidate sites: those of the first session; kept if every session
     * has a value there. */
    size_t n0 = c->o[raters[0]].count;
    if (!(sites = malloc((n0 ? n0 : 1) * sizeof *sites))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    r->sites = nsites = common_sites(c, raters, ns, m, sites);
    if (nsites < 2) {
        snprintf(r->note, sizeof r->note, "fewer than 2 sites in every session");
        goto out;
    }
    if (!(y = malloc(nsites * ns * sizeof *y))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nsites; i++)
        for (size_t j = 0; j < ns; j++)
            y[i * ns + j] = obs_site_value(c, &c->o[raters[j]], sites[i], m);
    cl_error e2;
    r->icc_ok = cl_stats_icc21(y, nsites, ns, ns, &r->icc, &e2) == CL_OK;
    if (!r->icc_ok)
        snprintf(r->note, sizeof r->note, "%.150s", e2.msg);
out:
    free(y);
    free(sites);
    free(raters);
    return rc;
}

/* Mean profile of group g over its sessions with a curve, its band, and
 * its distance to the target. */
static int group_profile(cl_cohort *c, group *g, cl_error *err)
{
    double *curves = malloc((g->nobs ? g->nobs : 1) * NP * sizeof *curves);
    double span = 0;
    int rc = CL_OK;
    if (!curves)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    g->prof_n = 0;
    for (size_t j = 0; j < g->nobs; j++) {
        const obs *o = &c->o[g->obs[j]];
        if (!o->has_curve)
            continue;
        memcpy(curves + g->prof_n * NP, o->curve, sizeof o->curve);
        span += o->span_s;
        g->prof_n++;
    }
    g->span_s = g->prof_n ? span / (double)g->prof_n : NAN;
    g->rms_target = NAN;
    for (int k = 0; k < NP && rc == CL_OK; k++) {
        double half;
        rc = cl_stats_mean_ci(curves + k, NP, g->prof_n, &g->mean[k], &half, err);
        g->lo[k] = g->mean[k] - half;
        g->hi[k] = g->mean[k] + half;
    }
    free(curves);
    if (rc == CL_OK && c->p.target && c->p.target->kind != CL_COHORTTARGET_NONE && g->prof_n)
        g->rms_target = cl_cohorttarget_rms(c->p.target, g->mean, g->span_s);
    return rc;
}

/* Mean profile of each group, the closest to the target, and the distances
 * between every two profiles. */
static int profiles(cl_cohort *c, cl_error *err)
{
    double best = INFINITY;
    for (size_t gi = 0; gi < c->ng; gi++) {
        int rc = group_profile(c, &c->g[gi], err);
        if (rc != CL_OK)
            return rc;
        if (c->g[gi].rms_target < best) { /* NaN without a target: never */
            best = c->g[gi].rms_target;
            c->closest = (long)gi;
        }
    }
    size_t cap = 0;
    for (size_t a = 0; a < c->ng; a++)
        for (size_t b = a + 1; b < c->ng; b++) {
            if (!c->g[a].prof_n || !c->g[b].prof_n)
                continue;
            if (!grow((void **)&c->dist, &cap, c->ndist, sizeof *c->dist))
                return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            double ss = 0;
            for (int k = 0; k < NP; k++)
                ss += (c->g[a].mean[k] - c->g[b].mean[k]) * (c->g[a].mean[k] - c->g[b].mean[k]);
            c->dist[c->ndist++] = (cl_cohort_distance){a, b, sqrt(ss / NP)};
        }
    return CL_OK;
}

/* The fields the sessions do have, for the message when none has the ones
 * asked for. */
static void fields_present(const cl_cohort *c, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int f = 0; f < CL_COHORTFIELD_COUNT; f++) {
        bool any = false;
        for (size_t i = 0; i < c->ne && !any; i++)
            for (size_t k = 0; k < c->e[i].s.ncups && !any; k++)
                any = *cl_cohortfield_level(&c->e[i].s, k, (cl_cohortfield)f) != '\0';
        if (any && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
                                    cl_cohortfield_name((cl_cohortfield)f));
    }
    if (!len)
        snprintf(buf, cap, "none");
}

int cl_cohort_compare(cl_cohort *c, const cl_cohort_params *p, cl_error *err)
{
    size_t capt = 0, capp = 0;
    int rc;
    results_free(c);
    if (!p || p->nfields < 1 || p->nfields > 2)
        return cl_error_set(err, CL_ERR_ARG, "group by one or two fields");
    for (size_t f = 0; f < p->nfields; f++)
        if ((unsigned)p->field[f] >= CL_COHORTFIELD_COUNT)
            return cl_error_set(err, CL_ERR_ARG, "unknown grouping field");
    if (p->nfields == 2 && p->field[0] == p->field[1])
        return cl_error_set(err, CL_ERR_ARG, "the two grouping fields are the same");
    c->p = *p;
    if ((rc = build_groups(c, err)) != CL_OK)
        return rc;
    if (c->ng == 0) {
        char have[256];
        fields_present(c, have, sizeof have);
        return cl_error_set(err, CL_ERR_ARG,
                            "no applied cup of the %zu session%s has %s%s%s (fields recorded: "
                            "%s)",
                            c->ne, c->ne == 1 ? "" : "s", cl_cohortfield_name(p->field[0]),
                            p->nfields == 2 ? " and " : "",
                            p->nfields == 2 ? cl_cohortfield_name(p->field[1]) : "", have);
    }
    if ((rc = order_groups(c, err)) != CL_OK)
        return rc;
    observe(c);
    if ((rc = describe_groups(c, err)) != CL_OK)
        return rc;
    for (size_t st = 0; st < c->nstrata; st++)
        for (int m = 0; m < CL_STAT_COUNT; m++)
            if (p->metric[m] && (rc = test_stratum(c, st, m, &capt, &capp, err)) != CL_OK)
                return rc;
    if ((rc = cl_cohorttest_adjust(c->tests, c->ntests, c->nstrata, err)) != CL_OK)
        return rc;
    if (note_left_out(c) != CL_OK || note_blocks(c) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    pooled(c);
    for (size_t gi = 0; gi < c->ng; gi++)
        for (int m = 0; m < CL_STAT_COUNT; m++)
            if (p->metric[m] && (rc = repeatability(c, &c->g[gi], m, err)) != CL_OK)
                return rc;
    return profiles(c, err);
}

/* ---------------------------------------------------------------- results */

const cl_cohort_params *cl_cohort_params_of(const cl_cohort *c)
{
    return &c->p;
}

size_t cl_cohort_pooled(const cl_cohort *c, const char *const **v)
{
    *v = c->pooled_v;
    return c->npooled;
}

size_t cl_cohort_group_count(const cl_cohort *c)
{
    return c->ng;
}

const char *cl_cohort_group_label(const cl_cohort *c, size_t g)
{
    return g < c->ng ? c->g[g].label : "";
}

const char *cl_cohort_group_level(const cl_cohort *c, size_t g, size_t f)
{
    return g < c->ng && f < 2 ? c->g[g].level[f] : "";
}

size_t cl_cohort_group_sessions(const cl_cohort *c, size_t g)
{
    return g < c->ng ? c->g[g].nobs : 0;
}

size_t cl_cohort_group_cups(const cl_cohort *c, size_t g, cl_stat_metric m)
{
    return g < c->ng && (unsigned)m < CL_STAT_COUNT ? c->g[g].ncups[m] : 0;
}

size_t cl_cohort_group_values(const cl_cohort *c, size_t g, cl_stat_metric m, const double **x)
{
    *x = NULL;
    if (g >= c->ng || (unsigned)m >= CL_STAT_COUNT)
        return 0;
    *x = c->g[g].values[m];
    return c->g[g].nval[m];
}

const cl_stats_desc *cl_cohort_group_desc(const cl_cohort *c, size_t g, cl_stat_metric m)
{
    return g < c->ng && (unsigned)m < CL_STAT_COUNT ? &c->g[g].desc[m] : NULL;
}

void cl_cohort_group_member(const cl_cohort *c, size_t g, size_t j, cl_cohort_member *out)
{
    memset(out, 0, sizeof *out);
    if (g >= c->ng || j >= c->g[g].nobs)
        return;
    const obs *o = &c->o[c->g[g].obs[j]];
    *out = (cl_cohort_member){c->e[o->session].file, &c->e[o->session].s, o->count, o->value};
}

const cl_cohort_repeat *cl_cohort_group_repeat(const cl_cohort *c, size_t g, cl_stat_metric m)
{
    return g < c->ng && (unsigned)m < CL_STAT_COUNT ? &c->g[g].rep[m] : NULL;
}

void cl_cohort_group_profile(const cl_cohort *c, size_t g, cl_cohort_profile *out)
{
    memset(out, 0, sizeof *out);
    out->span_s = out->rms_target_kpa = NAN;
    if (g >= c->ng)
        return;
    const group *gr = &c->g[g];
    *out =
        (cl_cohort_profile){gr->prof_n, gr->span_s, gr->mean, gr->lo, gr->hi, gr->rms_target};
}

long cl_cohort_closest(const cl_cohort *c)
{
    return c->closest;
}

const cl_cohorttarget *cl_cohort_target_of(const cl_cohort *c)
{
    return c->p.target && c->p.target->kind != CL_COHORTTARGET_NONE ? c->p.target : NULL;
}

const char *cl_cohort_stratum(const cl_cohort *c, size_t i)
{
    return i < c->nstrata ? c->stratum[i] : "";
}

size_t cl_cohort_tests(const cl_cohort *c, const cl_cohorttest **rows)
{
    *rows = c->tests;
    return c->ntests;
}

size_t cl_cohort_pairs(const cl_cohort *c, const cl_cohorttest_pair **rows)
{
    *rows = c->pairs;
    return c->npairs;
}

size_t cl_cohort_distances(const cl_cohort *c, const cl_cohort_distance **rows)
{
    *rows = c->dist;
    return c->ndist;
}
