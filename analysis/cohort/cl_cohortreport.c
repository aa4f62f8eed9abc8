/*
 * cl_cohortreport: the printed report of a cohort (see cl_cohortreport.h).
 */
#include "cohort/cl_cohortreport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohort/cl_cohortfield.h"
#include "cohort/cl_cohortout.h"
#include "cohort/cl_cohortplot.h"
#include "output/cl_page.h"
#include "cl_plot.h"

#define MAX_NOTES 6       /* notes of the comparison printed */
#define FIGURE_MIN_MM 60.0 /* a figure starts a new page below this room */
#define NSEL 16           /* columns taken from a table at most */

/* The columns of one block: a table of cl_cohortout, the columns taken
 * from it and their headings. */
typedef struct block {
    cl_cohortout_table_id id;
    const char *heading;
    const char *names[NSEL], *labels[NSEL];
} block;

/* The grouping fields head the groups block; the stratum (the second
 * field) heads the others: filled in per cohort. */
static const block blocks[] = {
    {CL_COHORTOUT_GROUPS,
     "Groups",
     {"", "", "metric", "unit", "sessions", "n", "mean", "sd", "median", "q1", "q3"},
     {NULL, NULL, "Metric", "Unit", "Sessions", "n", "Mean", "SD", "Median", "Q1", "Q3"}},
    {CL_COHORTOUT_TESTS,
     "Tests between the groups",
     {"", "metric", "groups", "n", "welch_f", "welch_p", "welch_p_holm", "kw_h", "kw_p",
      "kw_p_holm", "note"},
     {NULL, "Metric", "Groups", "n", "Welch F", "p", "p (Holm)", "Kruskal-Wallis H", "p",
      "p (Holm)", "Note"}},
    {CL_COHORTOUT_TESTS,
     "Effect sizes between the groups",
     {"", "metric", "omega2", "omega2_lo", "omega2_hi", "epsilon2"},
     {NULL, "Metric", "\u03c9\u00b2 (ANOVA)", "\u03c9\u00b2 95 % CI, low",
      "\u03c9\u00b2 95 % CI, high", "\u03b5\u00b2 (Kruskal-Wallis)"}},
    {CL_COHORTOUT_PAIRWISE,
     "Pairwise differences (Welch)",
     {"", "metric", "unit", "group_a", "group_b", "diff", "ci_lo", "ci_hi", "p_holm",
      "hedges_g", "hedges_g_lo", "hedges_g_hi"},
     {NULL, "Metric", "Unit", "A", "B", "Difference A - B", "95 % CI, low", "95 % CI, high",
      "p (Holm)", "Hedges' g", "g 95 % CI, low", "g 95 % CI, high"}},
};

static void title_block(cl_page *pg, const cl_cohort *c, cl_unit u)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    char by[128], title[256], sessions[32], groups[32], metrics[512] = "", closest[256] = "-",
         pooled[512] = "", software[64];
    snprintf(by, sizeof by, "%s%s%s", cl_cohortfield_name(p->field[0]),
             p->nfields == 2 ? " within each " : "",
             p->nfields == 2 ? cl_cohortfield_name(p->field[1]) : "");
    snprintf(title, sizeof title, "Cohort report: %zu sessions by %s",
             cl_cohort_session_count(c), by);
    cl_page_title(pg, title);
    snprintf(sessions, sizeof sessions, "%zu", cl_cohort_session_count(c));
    snprintf(groups, sizeof groups, "%zu", cl_cohort_group_count(c));
    for (int m = 0; m < CL_STAT_COUNT; m++)
        if (p->metric[m])
            snprintf(metrics + strlen(metrics), sizeof metrics - strlen(metrics), "%s%s",
                     *metrics ? ", " : "", cl_stat_metric_name((cl_stat_metric)m));
    long best = cl_cohort_closest(c);
    if (best >= 0) {
        cl_cohort_profile pf;
        cl_cohort_group_profile(c, (size_t)best, &pf);
        snprintf(closest, sizeof closest, "%s (RMS distance %.3g %s)",
                 cl_cohort_group_label(c, (size_t)best), cl_unit_from_kpa(pf.rms_target_kpa, u),
                 cl_unit_name(u));
    }
    const char *const *pool;
    size_t npool = cl_cohort_pooled(c, &pool);
    for (size_t i = 0; i < npool; i++)
        snprintf(pooled + strlen(pooled), sizeof pooled - strlen(pooled), "%s%s",
                 i ? ", " : "", pool[i]);
    snprintf(software, sizeof software, "analysed with %s", CUPLAB_VERSION);
    const cl_cohorttarget *tg = cl_cohort_target_of(c);
    const char *names[] = {"Grouped by", "Sessions", "Groups",           "Target",
                           "Closest",    "Software", "Pooled techniques", "Metrics"};
    const char *values[] = {by,      sessions, groups, tg ? tg->label : "none",
                            closest, software, *pooled ? pooled : "none", metrics};
    cl_page_fields(pg, names, values, sizeof names / sizeof names[0], 2);
    for (size_t i = 0; i < cl_cohort_note_count(c) && i < MAX_NOTES; i++) {
        char note[512];
        snprintf(note, sizeof note, "Note: %s", cl_cohort_note(c, i));
        cl_page_text(pg, CL_PAGE_PT_TABLE, note, 2);
    }
    if (cl_cohort_note_count(c) > MAX_NOTES) {
        char more[64];
        snprintf(more, sizeof more, "and %zu more notes", cl_cohort_note_count(c) - MAX_NOTES);
        cl_page_text(pg, CL_PAGE_PT_TABLE, more, 1);
    }
}

static void footer(cl_page *pg, const cl_cohort *c)
{
    char s[128];
    snprintf(s, sizeof s, "Cohort of %zu sessions, page %d", cl_cohort_session_count(c),
             pg->pages);
    cl_page_footer(pg, s);
}

static void next_page(cl_page *pg, const cl_cohort *c)
{
    cl_page_next(pg);
    footer(pg, c);
}

/* A table under its heading, over as many pages as it needs. */
static void long_table(cl_page *pg, const cl_cohort *c, const char *heading, const cl_table *t)
{
    size_t rows = cl_table_rows(t), from = 0;
    if (cl_page_room(pg) < cl_page_heading_h() + cl_page_table_h(t, 0, rows < 3 ? rows : 3))
        next_page(pg, c);
    cl_page_heading(pg, heading);
    if (!rows)
        cl_page_text(pg, CL_PAGE_PT_BODY, "None.", 1);
    while (from < rows) {
        size_t k = cl_page_table(pg, t, from, rows);
        if (!k && pg->y >= cl_plot_page_h() - CL_PAGE_MARGIN - cl_page_heading_h())
            break; /* not one row on an empty page: cannot be drawn */
        from += k;
        if (from < rows) {
            char cont[128];
            next_page(pg, c);
            snprintf(cont, sizeof cont, "%s (continued)", heading);
            cl_page_heading(pg, cont);
        }
    }
}

/* A figure under its heading at the top of what is left of the page (of a
 * new page below FIGURE_MIN_MM). */
typedef int painter(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                    const cl_figure_style *st, double *used, cl_error *err);

static int paint_boxes(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                       const cl_figure_style *st, double *used, cl_error *err)
{
    return cl_cohortplot_boxes_paint(c, ms, nm, st, used, err);
}

static int paint_profiles(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                          const cl_figure_style *st, double *used, cl_error *err)
{
    (void)ms;
    (void)nm;
    return cl_cohortplot_profiles_paint(c, st, used, err);
}

static int figure(cl_page *pg, const cl_cohort *c, const char *heading, painter *draw,
                  const cl_stat_metric *ms, size_t nm, cl_unit u, cl_error *err)
{
    if (cl_page_room(pg) < cl_page_heading_h() + FIGURE_MIN_MM)
        next_page(pg, c);
    cl_page_heading(pg, heading);
    cl_plot_box box = {CL_PAGE_MARGIN, CL_PAGE_MARGIN, CL_PAGE_TEXT_W, cl_page_room(pg)};
    cl_figure_style st = {.unit = u};
    double used = 0;
    cl_plot_frame(&box);
    int rc = draw(c, ms, nm, &st, &used, err);
    cl_plot_frame(NULL);
    cl_page_skip(pg, used);
    return rc;
}

/* The tables of the blocks, made before the pages. */
static int make_tables(const cl_cohort *c, cl_unit u, cl_table **tabs, cl_error *err)
{
    const cl_cohort_params *p = cl_cohort_params_of(c);
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        block k = blocks[b];
        /* the group (or the stratum) columns, named after the fields */
        if (k.id == CL_COHORTOUT_GROUPS) {
            k.names[0] = cl_cohortfield_name(p->field[0]);
            k.names[1] = p->nfields == 2 ? cl_cohortfield_name(p->field[1]) : "";
        } else {
            k.names[0] = p->nfields == 2 ? cl_cohortfield_name(p->field[1]) : "";
        }
        cl_table *all = cl_cohortout_table(c, k.id, u, err);
        if (!all)
            return err && err->code ? err->code : CL_ERR_NOMEM;
        size_t n = 0;
        while (n < NSEL && k.names[n])
            n++;
        tabs[b] = cl_table_select(all, k.names, k.labels, n);
        cl_table_free(all);
        if (!tabs[b])
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    return CL_OK;
}

/* Everything on the pages (a cl_page_drawer). */
typedef struct report {
    const cl_cohort *c;
    const cl_stat_metric *ms;
    size_t nm;
    cl_unit unit;
    cl_table *const *tabs;
} report;

static int lay_out(cl_page *pg, const void *arg, cl_error *err)
{
    const report *r = arg;
    footer(pg, r->c);
    title_block(pg, r->c, r->unit);
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
        long_table(pg, r->c, blocks[b].heading, r->tabs[b]);
    int rc = figure(pg, r->c, "Session values of each group", paint_boxes, r->ms, r->nm,
                    r->unit, err);
    if (rc == CL_OK)
        rc = figure(pg, r->c, "Mean vacuum profiles of the groups", paint_profiles, r->ms,
                    r->nm, r->unit, err);
    return rc;
}

int cl_cohortreport_write(const char *path, const cl_cohort *c, const cl_stat_metric *ms,
                          size_t nm, cl_unit unit, cl_error *err)
{
    enum { NB = sizeof blocks / sizeof blocks[0] };
    cl_table *tabs[NB] = {NULL};
    report r = {c, ms, nm, unit, tabs};
    int rc = make_tables(c, unit, tabs, err);
    if (rc == CL_OK)
        rc = cl_page_write(path, lay_out, &r, err);
    for (size_t b = 0; b < NB; b++)
        cl_table_free(tabs[b]);
    return rc;
}
