/*
 * cl_cohortout: the tables of a cohort comparison, built from what cl_cohort
 * reports, and the text, CSV and JSON outputs (see cl_cohortout.h).
 */
#include "cohort/cl_cohortout.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#define NP CL_COHORTSESSION_POINTS

static const char *const table_names[CL_COHORTOUT_TABLE_COUNT] = {
    "groups",        "tests",    "blocked",   "pairwise",
    "repeatability", "profiles", "distances", "sessions"};

static const char *const table_titles[CL_COHORTOUT_TABLE_COUNT] = {
    "per group: session values of each metric",
    "between groups: Welch ANOVA, Kruskal-Wallis, Brown-Forsythe; Holm and BH across the "
    "metrics",
    "between groups, subjects as blocks: two-way ANOVA (group after subject), Friedman; Holm "
    "and BH across the metrics",
    "pairs of groups: Welch t, Holm-adjusted p, Hedges' g",
    "within groups: repeatability across sessions, ICC(2,1) sites x sessions",
    "time-normalised profiles (onset -> release)",
    "RMS distance between group profiles (normalised time)",
    "per session within its group: the values compared"};

const char *cl_cohortout_table_name(cl_cohortout_table_id id)
{
    return (unsigned)id < CL_COHORTOUT_TABLE_COUNT ? table_names[id] : NULL;
}

int cl_cohortout_table_from_name(const char *name)
{
    for (int i = 0; name && i < CL_COHORTOUT_TABLE_COUNT; i++)
        if (!strcmp(name, table_names[i]))
            return i;
    return -1;
}

/* Unit of metric m in the pressure unit u ("" for counts). */
static const char *metric_unit(int m, cl_unit u, char *buf, size_t cap)
{
    const char *un = cl_unit_name(u);
    switch (cl_stat_metric_dimension((cl_stat_metric)m)) {
    case 1:
        snprintf(buf, cap, "%s", un);
        break;
    case 2:
        snprintf(buf, cap, "%s/min", un);
        break;
    case 3:
        snprintf(buf, cap, "%s*min", un);
        break;
    default:
        snprintf(buf, cap, "%s", cl_stat_metric_fixed_unit((cl_stat_metric)m));
        break;
    }
    return buf;
}

/* A value of metric m in kPa-based units converted to u. */
static double conv(int m, cl_unit u, double v)
{
    return cl_stat_metric_dimension((cl_stat_metric)m) ? cl_unit_from_kpa(v, u) : v;
}

/* A table under construction: columns added by name, cells by name. */
typedef struct tb {
    cl_table *t;
    char names[40][48];
    size_t n;
    int rc;
} tb;

static void col(tb *b, const char *name, const char *unit, int prec)
{
    if (b->rc == CL_OK && b->n == sizeof b->names / sizeof b->names[0])
        b->rc = CL_ERR_ARG;
    if (b->rc == CL_OK)
        b->rc = cl_table_add_column(b->t, name, unit, prec);
    if (b->rc == CL_OK)
        snprintf(b->names[b->n++], sizeof b->names[0], "%s", name);
}

/* Columns names[0..n) without unit. */
static void cols(tb *b, const char *const *names, size_t n, int prec)
{
    for (size_t i = 0; i < n; i++)
        col(b, names[i], NULL, prec);
}

static size_t col_index(const tb *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->names[i], name))
            return i;
    return (size_t)-1;
}

static void num(tb *b, const char *name, double v)
{
    if (b->rc == CL_OK)
        b->rc = cl_table_set_num(b->t, col_index(b, name), v);
}

static void str(tb *b, const char *name, const char *s)
{
    if (b->rc == CL_OK)
        b->rc = cl_table_set_str(b->t, col_index(b, name), s);
}

static void row(tb *b)
{
    if (b->rc == CL_OK)
        b->rc = cl_table_add_row(b->t);
}

/* Columns naming a group: one per grouping field, named after it (plus
 * `suffix`). */
static void group_cols(const cl_cohort *c, tb *b, const char *suffix)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    char name[48];
    for (size_t f = 0; f < p->nfields; f++) {
        snprintf(name, sizeof name, "%s%s", cl_cohortfield_name(p->field[f]), suffix);
        col(b, name, NULL, 0);
    }
}

static void group_cells(const cl_cohort *c, tb *b, size_t g, const char *suffix)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    char name[48];
    for (size_t f = 0; f < p->nfields; f++) {
        snprintf(name, sizeof name, "%s%s", cl_cohortfield_name(p->field[f]), suffix);
        str(b, name, cl_cohort_group_level(c, g, f));
    }
}

static bool grouped_by(const cl_cohort *c, cl_cohortfield f)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    for (size_t i = 0; i < p->nfields; i++)
        if (p->field[i] == f)
            return true;
    return false;
}

/* The stratum column (two fields: the second field, named after it). */
static const char *stratum_col(const cl_cohort *c)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    return p->nfields == 2 ? cl_cohortfield_name(p->field[1]) : NULL;
}

/* Whether metric m is compared. */
static bool compared(const cl_cohort *c, int m)
{
    return cl_cohort_params_of(c)->metric[m];
}

static void table_groups(const cl_cohort *c, tb *b, cl_unit u)
{
    static const char *const head[] = {"metric", "unit", "sessions", "cups", "n"};
    static const char *const stat[] = {"mean", "sd",  "cv",  "median", "q1",
                                       "q3",   "iqr", "min", "max"};
    char un[32];
    group_cols(c, b, "");
    cols(b, head, sizeof head / sizeof head[0], 0);
    cols(b, stat, sizeof stat / sizeof stat[0], 4);
    for (size_t g = 0; g < cl_cohort_group_count(c); g++) {
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            if (!compared(c, m))
                continue;
            const cl_stats_desc *d = cl_cohort_group_desc(c, g, (cl_stat_metric)m);
            row(b);
            group_cells(c, b, g, "");
            str(b, "metric", cl_stat_metric_name((cl_stat_metric)m));
            str(b, "unit", metric_unit(m, u, un, sizeof un));
            num(b, "sessions", (double)cl_cohort_group_sessions(c, g));
            num(b, "cups", (double)cl_cohort_group_cups(c, g, (cl_stat_metric)m));
            num(b, "n", (double)d->n);
            double v[] = {d->mean, d->sd,  d->cv,  d->median, d->q1,
                          d->q3,   d->iqr, d->min, d->max};
            for (size_t i = 0; i < sizeof stat / sizeof stat[0]; i++)
                num(b, stat[i], i == 2 ? v[i] : conv(m, u, v[i])); /* cv is a ratio */
        }
    }
}

/* Columns of a table with one row per stratum and metric: the stratum,
 * `head` (counts), `nums` and a note. */
static void test_cols(const cl_cohort *c, tb *b, const char *const *head, size_t nh,
                      const char *const *nums, size_t nn)
{
    if (stratum_col(c))
        col(b, stratum_col(c), NULL, 0);
    cols(b, head, nh, 0);
    cols(b, nums, nn, 4);
    col(b, "note", NULL, 0);
}

/* A new row of such a table for test row t: its stratum and metric. */
static void test_row_start(const cl_cohort *c, tb *b, const cl_cohorttest *t)
{
    row(b);
    if (stratum_col(c))
        str(b, stratum_col(c), cl_cohort_stratum(c, t->stratum));
    str(b, "metric", cl_stat_metric_name((cl_stat_metric)t->metric));
}

static void table_tests(const cl_cohort *c, tb *b, cl_unit u)
{
    (void)u; /* no pressures */
    static const char *const head[] = {"metric", "groups", "n"};
    static const char *const nums[] = {
        "welch_f",   "welch_df1", "welch_df2", "welch_p",   "welch_p_holm", "welch_p_bh",
        "anova_f",   "anova_p",   "eta2",      "omega2",    "omega2_lo",    "omega2_hi",
        "kw_h",      "kw_df",     "kw_p",      "kw_p_holm", "kw_p_bh",      "epsilon2",
        "bf_f",      "bf_p"};
    test_cols(c, b, head, sizeof head / sizeof head[0], nums, sizeof nums / sizeof nums[0]);
    const cl_cohorttest *rows;
    size_t n = cl_cohort_tests(c, &rows);
    for (size_t i = 0; i < n; i++) {
        const cl_cohorttest *t = &rows[i];
        test_row_start(c, b, t);
        num(b, "groups", (double)t->k);
        num(b, "n", (double)t->n);
        double v[] = {t->an_ok ? t->an.f : NAN,
                      t->an_ok ? t->an.df1 : NAN,
                      t->an_ok ? t->an.df2 : NAN,
                      cl_cohorttest_p(t, CL_COHORTTEST_WELCH),
                      t->adj[CL_COHORTTEST_WELCH][0],
                      t->adj[CL_COHORTTEST_WELCH][1],
                      t->an_ok ? t->an.f_classic : NAN,
                      t->an_ok ? t->an.p_classic : NAN,
                      t->an_ok ? t->an.eta2 : NAN,
                      t->an_ok ? t->an.omega2 : NAN,
                      t->an_ok ? t->an.omega2_lo : NAN,
                      t->an_ok ? t->an.omega2_hi : NAN,
                      t->kw_ok ? t->kw.h : NAN,
                      t->kw_ok ? t->kw.df : NAN,
                      cl_cohorttest_p(t, CL_COHORTTEST_KW),
                      t->adj[CL_COHORTTEST_KW][0],
                      t->adj[CL_COHORTTEST_KW][1],
                      t->kw_ok ? t->kw.epsilon2 : NAN,
                      t->bf_ok ? t->bf_f : NAN,
                      t->bf_ok ? t->bf_p : NAN};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            num(b, nums[k], v[k]);
        str(b, "note", t->note);
    }
}

static void table_blocked(const cl_cohort *c, tb *b, cl_unit u)
{
    (void)u; /* no pressures */
    static const char *const head[] = {"metric",  "groups",   "subjects",
                                       "crossed", "complete", "n"};
    static const char *const nums[] = {"block_f",         "block_df1",     "block_df2",
                                       "block_p",         "block_p_holm",  "block_p_bh",
                                       "friedman_chi2",   "friedman_df",   "friedman_p",
                                       "friedman_p_holm", "friedman_p_bh", "kendall_w"};
    test_cols(c, b, head, sizeof head / sizeof head[0], nums, sizeof nums / sizeof nums[0]);
    const cl_cohorttest *rows;
    size_t n = cl_cohort_tests(c, &rows);
    for (size_t i = 0; i < n; i++) {
        const cl_cohorttest *t = &rows[i];
        test_row_start(c, b, t);
        double h[] = {(double)t->k, (double)t->subjects, (double)t->crossed,
                      (double)t->complete, (double)t->nblock};
        for (size_t k = 1; k < sizeof head / sizeof head[0]; k++)
            num(b, head[k], h[k - 1]);
        double v[] = {t->ba_ok ? t->ba.f : NAN,
                      t->ba_ok ? t->ba.df_group : NAN,
                      t->ba_ok ? t->ba.df_resid : NAN,
                      cl_cohorttest_p(t, CL_COHORTTEST_BLOCK),
                      t->adj[CL_COHORTTEST_BLOCK][0],
                      t->adj[CL_COHORTTEST_BLOCK][1],
                      t->fr_ok ? t->fr.chi2 : NAN,
                      t->fr_ok ? t->fr.df : NAN,
                      cl_cohorttest_p(t, CL_COHORTTEST_FRIEDMAN),
                      t->adj[CL_COHORTTEST_FRIEDMAN][0],
                      t->adj[CL_COHORTTEST_FRIEDMAN][1],
                      t->fr_ok ? t->fr.w : NAN};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            num(b, nums[k], v[k]);
        str(b, "note", t->k < 2 ? t->note : t->bnote);
    }
}

static void table_pairs(const cl_cohort *c, tb *b, cl_unit u)
{
    char un[32];
    if (stratum_col(c))
        col(b, stratum_col(c), NULL, 0);
    static const char *const head[] = {"metric", "unit", "group_a", "group_b", "n_a", "n_b"};
    static const char *const nums[] = {"n_a",  "n_b",   "mean_a", "mean_b",
                                       "diff", "ci_lo", "ci_hi",  "t",
                                       "df",   "p",     "p_holm", "hedges_g",
                                       "hedges_g_lo", "hedges_g_hi"};
    cols(b, head, sizeof head / sizeof head[0], 0);
    cols(b, nums + 2, sizeof nums / sizeof nums[0] - 2, 4);
    const cl_cohorttest_pair *rows;
    size_t n = cl_cohort_pairs(c, &rows);
    for (size_t i = 0; i < n; i++) {
        const cl_cohorttest_pair *p = &rows[i];
        const cl_stats_ttest *t = &p->t;
        cl_stat_metric m = (cl_stat_metric)p->metric;
        const double *x;
        row(b);
        if (stratum_col(c))
            str(b, stratum_col(c), cl_cohort_stratum(c, p->stratum));
        str(b, "metric", cl_stat_metric_name(m));
        str(b, "unit", metric_unit(m, u, un, sizeof un));
        str(b, "group_a", cl_cohort_group_level(c, p->a, 0));
        str(b, "group_b", cl_cohort_group_level(c, p->b, 0));
        double v[] = {(double)cl_cohort_group_values(c, p->a, m, &x),
                      (double)cl_cohort_group_values(c, p->b, m, &x),
                      conv(m, u, cl_cohort_group_desc(c, p->a, m)->mean),
                      conv(m, u, cl_cohort_group_desc(c, p->b, m)->mean),
                      p->ok ? conv(m, u, t->diff) : NAN,
                      p->ok ? conv(m, u, t->ci_lo) : NAN,
                      p->ok ? conv(m, u, t->ci_hi) : NAN,
                      p->ok ? t->t : NAN,
                      p->ok ? t->df : NAN,
                      p->ok ? t->p : NAN,
                      p->p_holm,
                      p->ok ? t->hedges_g : NAN,
                      p->ok ? t->g_lo : NAN,
                      p->ok ? t->g_hi : NAN};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            num(b, nums[k], v[k]);
    }
}

static void table_repeat(const cl_cohort *c, tb *b, cl_unit u)
{
    static const char *const head[] = {"metric", "unit", "sessions", "sites"};
    static const char *const nums[] = {"mean",   "cv_sessions", "icc", "icc_lo",
                                       "icc_hi", "icc_p",       "sem", "cv_within"};
    char un[32];
    group_cols(c, b, "");
    cols(b, head, sizeof head / sizeof head[0], 0);
    cols(b, nums, sizeof nums / sizeof nums[0], 4);
    col(b, "note", NULL, 0);
    for (size_t g = 0; g < cl_cohort_group_count(c); g++) {
        for (int m = 0; m < CL_STAT_COUNT; m++) {
            if (!compared(c, m))
                continue;
            const cl_cohort_repeat *r = cl_cohort_group_repeat(c, g, (cl_stat_metric)m);
            const cl_stats_desc *d = cl_cohort_group_desc(c, g, (cl_stat_metric)m);
            bool ok = r->icc_ok;
            row(b);
            group_cells(c, b, g, "");
            str(b, "metric", cl_stat_metric_name((cl_stat_metric)m));
            str(b, "unit", metric_unit(m, u, un, sizeof un));
            num(b, "sessions", (double)r->sessions);
            num(b, "sites", (double)r->sites);
            double v[] = {conv(m, u, d->mean),
                          d->cv,
                          ok ? r->icc.icc : NAN,
                          ok ? r->icc.lo : NAN,
                          ok ? r->icc.hi : NAN,
                          ok ? r->icc.p : NAN,
                          ok ? conv(m, u, r->icc.sem) : NAN,
                          ok ? r->icc.cv_within : NAN};
            for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
                num(b, nums[k], v[k]);
            str(b, "note", r->note);
        }
    }
}

static void table_profiles(const cl_cohort *c, tb *b, cl_unit u)
{
    const char *un = cl_unit_name(u);
    group_cols(c, b, "");
    col(b, "sessions", NULL, 0);
    col(b, "span_s", "s", 4);
    col(b, "mean_vacuum", un, 4);
    col(b, "band_halfwidth", un, 4);
    col(b, "rms_target", un, 4);
    col(b, "closest", NULL, 0);
    for (size_t g = 0; g < cl_cohort_group_count(c); g++) {
        cl_cohort_profile pf;
        double mean = 0, half = 0;
        size_t nh = 0;
        cl_cohort_group_profile(c, g, &pf);
        for (int k = 0; k < NP; k++) {
            mean += pf.mean[k];
            if (isfinite(pf.hi[k])) {
                half += (pf.hi[k] - pf.lo[k]) / 2;
                nh++;
            }
        }
        row(b);
        group_cells(c, b, g, "");
        num(b, "sessions", (double)pf.n);
        num(b, "span_s", pf.span_s);
        num(b, "mean_vacuum", pf.n ? cl_unit_from_kpa(mean / NP, u) : NAN);
        num(b, "band_halfwidth", nh ? cl_unit_from_kpa(half / (double)nh, u) : NAN);
        num(b, "rms_target", cl_unit_from_kpa(pf.rms_target_kpa, u));
        str(b, "closest", (long)g == cl_cohort_closest(c) ? "yes" : "");
    }
}

static void table_distances(const cl_cohort *c, tb *b, cl_unit u)
{
    group_cols(c, b, "_a");
    group_cols(c, b, "_b");
    col(b, "rms", cl_unit_name(u), 4);
    const cl_cohort_distance *rows;
    size_t n = cl_cohort_distances(c, &rows);
    for (size_t i = 0; i < n; i++) {
        const cl_cohort_distance *d = &rows[i];
        row(b);
        group_cells(c, b, d->a, "_a");
        group_cells(c, b, d->b, "_b");
        num(b, "rms", cl_unit_from_kpa(d->rms, u));
    }
}

static void table_sessions(const cl_cohort *c, tb *b, cl_unit u)
{
    char un[32];
    col(b, "file", NULL, 0);
    col(b, "session_uuid", NULL, 0);
    group_cols(c, b, "");
    bool subj = !grouped_by(c, CL_COHORTFIELD_SUBJECT);
    if (subj) /* the blocks of the blocked tests */
        col(b, "subject", NULL, 0);
    col(b, "cups", NULL, 0);
    for (int m = 0; m < CL_STAT_COUNT; m++)
        if (compared(c, m))
            col(b, cl_stat_metric_name((cl_stat_metric)m), metric_unit(m, u, un, sizeof un), 6);
    for (size_t g = 0; g < cl_cohort_group_count(c); g++) {
        for (size_t j = 0; j < cl_cohort_group_sessions(c, g); j++) {
            cl_cohort_member o;
            cl_cohort_group_member(c, g, j, &o);
            row(b);
            str(b, "file", o.file);
            str(b, "session_uuid", o.session->uuid);
            group_cells(c, b, g, "");
            if (subj)
                str(b, "subject", o.session->subject);
            num(b, "cups", (double)o.cups);
            for (int m = 0; m < CL_STAT_COUNT; m++)
                if (compared(c, m))
                    num(b, cl_stat_metric_name((cl_stat_metric)m), conv(m, u, o.value[m]));
        }
    }
}

/* The builder of each table, in the order of cl_cohortout_table_id. */
typedef void table_builder(const cl_cohort *c, tb *b, cl_unit u);
static table_builder *const builders[CL_COHORTOUT_TABLE_COUNT] = {
    table_groups, table_tests,    table_blocked,   table_pairs,
    table_repeat, table_profiles, table_distances, table_sessions};

cl_table *cl_cohortout_table(const cl_cohort *c, cl_cohortout_table_id id, cl_unit u,
                             cl_error *err)
{
    tb b;
    memset(&b, 0, sizeof b);
    b.t = cl_table_new();
    if (!b.t) {
        cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if ((unsigned)id < CL_COHORTOUT_TABLE_COUNT)
        builders[id](c, &b, u);
    else
        b.rc = CL_ERR_ARG;
    if (b.rc != CL_OK) {
        cl_error_set(err, b.rc, "cannot build the %s table: %s",
                     table_names[(unsigned)id < CL_COHORTOUT_TABLE_COUNT ? id : 0],
                     cl_strerror(b.rc));
        cl_table_free(b.t);
        return NULL;
    }
    return b.t;
}

/* ----------------------------------------------------------------- writing */

static void closest_line(const cl_cohort *c, cl_unit u, char *buf, size_t cap)
{
    const cl_cohorttarget *t = cl_cohort_target_of(c);
    long g = cl_cohort_closest(c);
    cl_cohort_profile pf;
    buf[0] = '\0';
    if (!t)
        return;
    if (g < 0) {
        snprintf(buf, cap, "closest to the target %s: none (no group has a profile)", t->label);
        return;
    }
    cl_cohort_group_profile(c, (size_t)g, &pf);
    snprintf(buf, cap, "closest to the target %s: %s (RMS %.3g %s over %zu session%s)",
             t->label, cl_cohort_group_label(c, (size_t)g),
             cl_unit_from_kpa(pf.rms_target_kpa, u), cl_unit_name(u), pf.n,
             pf.n == 1 ? "" : "s");
}

/* The document's members before the tables. */
static int json_head(const cl_cohort *c, json_t *root, cl_unit u, cl_error *err)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    const cl_cohorttarget *t = cl_cohort_target_of(c);
    long closest = cl_cohort_closest(c);
    json_t *by = json_array(), *notes = json_array();
    if (!by || !notes) {
        json_decref(by);
        json_decref(notes);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    json_object_set_new(root, "format", json_string(CL_COHORTOUT_FORMAT));
    json_object_set_new(root, "format_version", json_integer(CL_COHORTOUT_VERSION));
    json_object_set_new(root, "software_version", json_string(CUPLAB_VERSION));
    json_object_set_new(root, "pressure_unit", json_string(cl_unit_name(u)));
    json_object_set_new(root, "vacuum_sign", json_string("positive below ambient"));
    for (size_t f = 0; f < p->nfields; f++)
        json_array_append_new(by, json_string(cl_cohortfield_name(p->field[f])));
    json_object_set_new(root, "group_by", by);
    json_object_set_new(root, "session_count",
                        json_integer((json_int_t)cl_cohort_session_count(c)));
    json_object_set_new(root, "target", t ? json_string(t->label) : json_null());
    if (closest >= 0) {
        cl_cohort_profile pf;
        cl_cohort_group_profile(c, (size_t)closest, &pf);
        json_object_set_new(root, "closest",
                            json_pack("{s:s, s:f}", "group",
                                      cl_cohort_group_label(c, (size_t)closest), "rms",
                                      cl_unit_from_kpa(pf.rms_target_kpa, u)));
    } else {
        json_object_set_new(root, "closest", json_null());
    }
    for (size_t i = 0; i < cl_cohort_note_count(c); i++)
        json_array_append_new(notes, json_string(cl_cohort_note(c, i)));
    json_object_set_new(root, "notes", notes);
    const char *const *pooled;
    size_t npooled = cl_cohort_pooled(c, &pooled);
    json_t *pool = json_array();
    for (size_t i = 0; pool && i < npooled; i++)
        json_array_append_new(pool, json_string(pooled[i]));
    if (!pool || json_object_set_new(root, "pooled_techniques", pool) != 0)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    return CL_OK;
}

static int write_json(const cl_cohort *c, FILE *out, cl_unit u, cl_error *err)
{
    json_t *root = json_object();
    if (!root)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    int rc = json_head(c, root, u, err);
    for (int id = 0; id < CL_COHORTOUT_TABLE_COUNT && rc == CL_OK; id++) {
        cl_table *tab = cl_cohortout_table(c, (cl_cohortout_table_id)id, u, err);
        json_t *j = tab ? cl_table_json(tab, table_titles[id]) : NULL;
        cl_table_free(tab);
        if (!j)
            rc = tab ? cl_error_set(err, CL_ERR_NOMEM, "out of memory") : CL_ERR_NOMEM;
        else
            json_object_set_new(root, table_names[id], j);
    }
    if (rc == CL_OK &&
        (json_dumpf(root, out,
                    JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0 ||
         fputc('\n', out) == EOF))
        rc = cl_error_set(err, CL_ERR_IO, "cannot write the JSON document");
    json_decref(root);
    return rc;
}

int cl_cohortout_write(const cl_cohort *c, FILE *out, cl_table_format fmt, int only, cl_unit u,
                       cl_error *err)
{
    char title[256], line[512];
    int rc = CL_OK;
    if (fmt == CL_TABLE_JSON)
        return write_json(c, out, u, err);
    int from = only >= 0 ? only : fmt == CL_TABLE_CSV ? CL_COHORTOUT_GROUPS : 0;
    /* Text: every table but the sessions' (a data export, asked for by name). */
    int to = only >= 0 || fmt == CL_TABLE_CSV ? from + 1 : CL_COHORTOUT_SESSIONS;
    for (int id = from; id < to && rc == CL_OK; id++) {
        cl_table *t = cl_cohortout_table(c, (cl_cohortout_table_id)id, u, err);
        if (!t)
            return err ? err->code : CL_ERR_NOMEM;
        snprintf(title, sizeof title,
                 "cuplab-analyze cohort, %s: %s; vacuum in %s, positive "
                 "below ambient",
                 table_names[id], table_titles[id], cl_unit_name(u));
        if (fmt == CL_TABLE_TEXT && id != from)
            fputc('\n', out);
        rc = cl_table_write(t, out, fmt, title, err);
        cl_table_free(t);
    }
    closest_line(c, u, line, sizeof line);
    if (rc == CL_OK && fmt == CL_TABLE_TEXT && line[0])
        fprintf(out, "\n%s\n", line);
    if (rc == CL_OK && ferror(out))
        rc = cl_error_set(err, CL_ERR_IO, "cannot write the results");
    return rc;
}
