/*
 * Unit tests of cl_cohort on sessions built by hand (no files): grouping
 * and the observation rule (a session's value is the mean of its cups in
 * the group), the tables as JSON (cl_cohortout), what is left out and the
 * notes that say so (a group of one session, a session without the field,
 * uncalibrated and raw-only cups), two fields compared within strata, the
 * repeatability matrix (sites x sessions) against cl_stats_icc21 on the
 * same numbers, the profiles: band, distance between groups and to a
 * target, and the blocked tests, the adjustments across the metrics and
 * the pooled techniques (against cl_stats on the same numbers).  Numbers
 * are checked to 1e-12 relative against values worked here by hand or with
 * cl_stats directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "cohort/cl_cohort.h"
#include "cohort/cl_cohortout.h"
#include "cohort/cl_stats.h"

/* a equals b to 1e-12 relative (1e-12 absolute near zero). */
#define assert_rel(a, b) assert_close((a), (b), 1e-12, 1e-12)

/* A cup at `site` with peak and hold mean (kPa) and a flat curve at `flat`
 * over `span` s (flat NaN: no curve). */
static cl_cohortsession_cup cup(const char *site, double peak, double hold, double flat,
                                double span)
{
    cl_cohortsession_cup c;
    memset(&c, 0, sizeof c);
    snprintf(c.cup_id, sizeof c.cup_id, "C-%s", site);
    snprintf(c.site, sizeof c.site, "%s", site);
    snprintf(c.material, sizeof c.material, "glass");
    snprintf(c.size, sizeof c.size, "M");
    c.cal = CL_CAL_PROFILE;
    c.applied = true;
    for (int m = 0; m < CL_STAT_COUNT; m++)
        c.value[m] = NAN;
    c.value[CL_STAT_PEAK] = peak;
    c.value[CL_STAT_HOLD_MEAN] = hold;
    c.span_s = isfinite(flat) ? span : NAN;
    for (int i = 0; i < CL_COHORTSESSION_POINTS; i++)
        c.curve[i] = flat;
    return c;
}

/* Add a session of practitioner/technique/subject with the cups given. */
static void add_subject(cl_cohort *c, const char *file, const char *prac, const char *tech,
                        const char *subj, const cl_cohortsession_cup *cups, size_t n)
{
    cl_cohortsession s;
    memset(&s, 0, sizeof s);
    snprintf(s.practitioner, sizeof s.practitioner, "%s", prac);
    snprintf(s.subject, sizeof s.subject, "%s", subj);
    snprintf(s.technique, sizeof s.technique, "%s", tech);
    snprintf(s.uuid, sizeof s.uuid, "uuid-%s", file);
    s.cups = malloc(n * sizeof *s.cups);
    assert_non_null(s.cups);
    memcpy(s.cups, cups, n * sizeof *cups);
    s.ncups = n;
    assert_int_equal(cl_cohort_add(c, file, &s, NULL), CL_OK);
    assert_null(s.cups);
}

/* The same without a subject. */
static void add(cl_cohort *c, const char *file, const char *prac, const char *tech,
                const cl_cohortsession_cup *cups, size_t n)
{
    add_subject(c, file, prac, tech, "", cups, n);
}

static json_t *as_json(const cl_cohort *c, cl_unit u)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(cl_cohortout_write(c, f, CL_TABLE_JSON, -1, u, NULL), CL_OK);
    fclose(f);
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    free(text);
    assert_non_null(j);
    return j;
}

/* Row of table `name` whose string columns k1 (and k2 if not NULL) have
 * values v1 (v2); NULL if none. */
static json_t *find_row(json_t *doc, const char *name, const char *k1, const char *v1,
                        const char *k2, const char *v2)
{
    json_t *rows = json_object_get(json_object_get(doc, name), "rows"), *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        const char *a = json_string_value(json_object_get(r, k1));
        const char *b = k2 ? json_string_value(json_object_get(r, k2)) : NULL;
        if (a && !strcmp(a, v1) && (!k2 || (b && !strcmp(b, v2))))
            return r;
    }
    return NULL;
}

static double num(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    assert_non_null(v);
    return json_is_null(v) ? NAN : json_number_value(v);
}

static bool has_note(const cl_cohort *c, const char *needle)
{
    for (size_t i = 0; i < cl_cohort_note_count(c); i++)
        if (strstr(cl_cohort_note(c, i), needle))
            return true;
    return false;
}

/* Three practitioners: P1 and P2 with three sessions, P3 with one; a
 * session without a practitioner; P2's last session uncalibrated. */
static cl_cohort *sample_cohort(void)
{
    cl_cohort *c = cl_cohort_new();
    assert_non_null(c);
    /* P1 peaks per session: (39+41)/2 = 40, 42, 44; curves flat at 40. */
    cl_cohortsession_cup a1[] = {cup("s1", 39, 30, 40, 600), cup("s2", 41, 32, 40, 600)};
    cl_cohortsession_cup a2[] = {cup("s1", 41, 31, 40, 620), cup("s2", 43, 34, 40, 620)};
    cl_cohortsession_cup a3[] = {cup("s1", 43, 33, 40, 580), cup("s2", 45, 35, 40, 580)};
    /* P2: 30, 31, 35; curves flat at 30. */
    cl_cohortsession_cup b1[] = {cup("s1", 30, 25, 30, 300), cup("s2", 30, 26, 30, 300)};
    cl_cohortsession_cup b2[] = {cup("s1", 31, 25, 30, 300), cup("s2", 31, 27, 30, 300)};
    cl_cohortsession_cup b3[] = {cup("s1", 34, 28, 30, 300), cup("s2", 36, 29, 30, 300)};
    cl_cohortsession_cup c1[] = {cup("s1", 20, 15, 20, 200)};
    cl_cohortsession_cup x1[] = {cup("s1", 99, 99, 99, 99)};
    b3[1].cal = CL_CAL_NOMINAL;
    add(c, "a1.h5", "P1", "pump", a1, 2);
    add(c, "a2.h5", "P1", "pump", a2, 2);
    add(c, "a3.h5", "P1", "fire", a3, 2);
    add(c, "b1.h5", "P2", "pump", b1, 2);
    add(c, "b2.h5", "P2", "fire", b2, 2);
    add(c, "b3.h5", "P2", "fire", b3, 2);
    add(c, "c1.h5", "P3", "pump", c1, 1);
    add(c, "x1.h5", "", "pump", x1, 1);
    return c;
}

static cl_cohort_params params(cl_cohortfield f0, int nf, cl_cohortfield f1)
{
    cl_cohort_params p;
    memset(&p, 0, sizeof p);
    p.field[0] = f0;
    p.field[1] = f1;
    p.nfields = (size_t)nf;
    p.metric[CL_STAT_PEAK] = p.metric[CL_STAT_HOLD_MEAN] = true;
    return p;
}

static void compare(void **state)
{
    (void)state;
    cl_cohort *c = sample_cohort();
    cl_cohort_params p = params(CL_COHORTFIELD_PRACTITIONER, 1, 0);
    cl_error err;
    assert_int_equal(cl_cohort_compare(c, &p, &err), CL_OK);
    assert_int_equal(cl_cohort_group_count(c), 3);
    assert_string_equal(cl_cohort_group_label(c, 0), "P1");
    assert_string_equal(cl_cohort_group_label(c, 2), "P3");
    const double *x;
    assert_int_equal(cl_cohort_group_values(c, 0, CL_STAT_PEAK, &x), 3);
    assert_rel(x[0], 40);
    assert_rel(x[1], 42);
    assert_rel(x[2], 44);
    assert_int_equal(cl_cohort_group_values(c, 2, CL_STAT_PEAK, &x), 1);
    assert_int_equal(cl_cohort_group_values(c, 0, CL_STAT_DOSE, &x), 0);

    /* What was left out, and why. */
    assert_true(has_note(c, "1 session without a practitioner (cups left out): x1.h5"));
    assert_true(
        has_note(c, "group P3 (1) left out of the tests of peak_vacuum, hold_mean (fewer"));
    assert_true(has_note(c, "1 of 13 cups are uncalibrated"));

    json_t *doc = as_json(c, CL_UNIT_KPA);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), CL_COHORTOUT_FORMAT);
    assert_int_equal(json_integer_value(json_object_get(doc, "session_count")), 8);
    assert_int_equal(json_array_size(json_object_get(doc, "notes")), cl_cohort_note_count(c));
    json_t *g = find_row(doc, "groups", "practitioner", "P1", "metric", "peak_vacuum");
    assert_non_null(g);
    assert_rel(num(g, "mean"), 42);
    assert_rel(num(g, "sd"), 2);
    assert_rel(num(g, "cv"), 2.0 / 42);
    assert_rel(num(g, "median"), 42);
    assert_rel(num(g, "q1"), 41);
    assert_rel(num(g, "iqr"), 2);
    assert_int_equal((int)num(g, "sessions"), 3);
    assert_int_equal((int)num(g, "cups"), 6);
    /* Units: the same numbers in mmHg, the CV unchanged. */
    json_t *dm = as_json(c, CL_UNIT_MMHG);
    json_t *gm = find_row(dm, "groups", "practitioner", "P1", "metric", "peak_vacuum");
    assert_rel(num(gm, "mean"), 42 / CL_KPA_PER_MMHG);
    assert_rel(num(gm, "cv"), 2.0 / 42);
    assert_string_equal(json_string_value(json_object_get(gm, "unit")), "mmHg");
    json_decref(dm);

    /* Tests over P1 and P2 only, as cl_stats computes them on the values. */
    const double v1[] = {40, 42, 44}, v2[] = {30, 31, 35};
    cl_stats_sample s[] = {{v1, 1, 3}, {v2, 1, 3}};
    cl_stats_anova an;
    cl_stats_kruskal kw;
    cl_stats_ttest tt;
    assert_int_equal(cl_stats_welch_anova(s, 2, &an, NULL), CL_OK);
    assert_int_equal(cl_stats_kruskal_wallis(s, 2, &kw, NULL), CL_OK);
    assert_int_equal(cl_stats_welch_t(&s[0], &s[1], &tt, NULL), CL_OK);
    json_t *t = find_row(doc, "tests", "metric", "peak_vacuum", NULL, NULL);
    assert_non_null(t);
    assert_int_equal((int)num(t, "groups"), 2);
    assert_int_equal((int)num(t, "n"), 6);
    assert_rel(num(t, "welch_f"), an.f);
    assert_rel(num(t, "welch_p"), an.p);
    assert_rel(num(t, "kw_h"), kw.h);
    assert_non_null(strstr(json_string_value(json_object_get(t, "note")), "P3 (1)"));
    /* k = 2: Welch's ANOVA is the squared Welch t. */
    assert_rel(num(t, "welch_f"), tt.t * tt.t);
    json_t *pr = find_row(doc, "pairwise", "group_a", "P1", "metric", "peak_vacuum");
    assert_non_null(pr);
    assert_string_equal(json_string_value(json_object_get(pr, "group_b")), "P2");
    assert_rel(num(pr, "t"), tt.t);
    assert_rel(num(pr, "p"), tt.p);
    assert_rel(num(pr, "p_holm"), tt.p); /* one pair: nothing to adjust */
    assert_rel(num(pr, "hedges_g"), tt.hedges_g);
    assert_rel(num(pr, "diff"), 10);

    /* Repeatability of P1's peaks: sites s1, s2 by its three sessions. */
    const double y[2][3] = {{39, 41, 43}, {41, 43, 45}};
    cl_stats_icc icc;
    assert_int_equal(cl_stats_icc21(&y[0][0], 2, 3, 3, &icc, NULL), CL_OK);
    json_t *r = find_row(doc, "repeatability", "practitioner", "P1", "metric", "peak_vacuum");
    assert_non_null(r);
    assert_int_equal((int)num(r, "sites"), 2);
    assert_int_equal((int)num(r, "sessions"), 3);
    assert_rel(num(r, "icc"), icc.icc);
    assert_rel(num(r, "sem"), icc.sem);
    assert_rel(num(r, "cv_sessions"), 2.0 / 42);
    r = find_row(doc, "repeatability", "practitioner", "P3", "metric", "peak_vacuum");
    assert_true(isnan(num(r, "icc")));
    assert_string_equal(json_string_value(json_object_get(r, "note")), "fewer than 2 sessions");

    /* Profiles: flat at 40 and 30 kPa: 10 kPa apart; no band for P3. */
    cl_cohort_profile pf;
    cl_cohort_group_profile(c, 0, &pf);
    assert_int_equal(pf.n, 3);
    assert_rel(pf.span_s, 600);
    assert_rel(pf.mean[0], 40);
    assert_rel(pf.lo[50], 40); /* no spread: a band of width 0 */
    cl_cohort_group_profile(c, 2, &pf);
    assert_int_equal(pf.n, 1);
    assert_true(isnan(pf.lo[10]));
    json_t *d = find_row(doc, "distances", "practitioner_a", "P1", "practitioner_b", "P2");
    assert_non_null(d);
    assert_rel(num(d, "rms"), 10);
    assert_true(json_is_null(json_object_get(doc, "closest")));
    assert_int_equal(cl_cohort_closest(c), -1);
    json_decref(doc);
    cl_cohort_free(c);
}

static void targets(void **state)
{
    (void)state;
    cl_cohort *c = sample_cohort();
    cl_cohort_params p = params(CL_COHORTFIELD_PRACTITIONER, 1, 0);
    cl_cohorttarget t;
    /* A level of 31 kPa: P2 (flat 30) is 1 kPa off, P1 9, P3 11. */
    assert_int_equal(cl_cohorttarget_parse("31kPa", &t, NULL), CL_OK);
    p.target = &t;
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_int_equal(cl_cohort_closest(c), 1);
    cl_cohort_profile pf;
    cl_cohort_group_profile(c, 1, &pf);
    assert_rel(pf.rms_target_kpa, 1);
    cl_cohort_group_profile(c, 0, &pf);
    assert_rel(pf.rms_target_kpa, 9);
    cl_cohorttarget_release(&t);
    /* 40 kPa for 10 min, absolute time: P1 (40 kPa over 600 s) matches
     * exactly; P2 (30 kPa over 300 s) is 10 kPa off for the first half and
     * 40 kPa off for the second: sqrt over the 201-point grid. */
    assert_int_equal(cl_cohorttarget_parse("40kPa:600", &t, NULL), CL_OK);
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_int_equal(cl_cohort_closest(c), 0);
    cl_cohort_group_profile(c, 0, &pf);
    assert_true(pf.rms_target_kpa < 1e-9);
    cl_cohort_group_profile(c, 1, &pf);
    assert_rel(pf.rms_target_kpa, sqrt((101 * 100.0 + 100 * 1600.0) / 201));
    cl_cohorttarget_release(&t);
    cl_cohort_free(c);
}

static void strata(void **state)
{
    (void)state;
    cl_cohort *c = sample_cohort();
    cl_cohort_params p = params(CL_COHORTFIELD_PRACTITIONER, 2, CL_COHORTFIELD_TECHNIQUE);
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    /* Sorted by technique, then practitioner: fire P1, P2; pump P1, P2, P3. */
    assert_int_equal(cl_cohort_group_count(c), 5);
    assert_string_equal(cl_cohort_group_label(c, 0), "P1 / fire");
    assert_string_equal(cl_cohort_group_label(c, 4), "P3 / pump");
    json_t *doc = as_json(c, CL_UNIT_KPA);
    /* Fire: P1 has one session (left out), so nothing to test; pump: P1 (40,
     * 42) against P2 (30; one session: left out) -> fewer than 2 groups. */
    json_t *t = find_row(doc, "tests", "technique", "fire", "metric", "peak_vacuum");
    assert_non_null(t);
    assert_int_equal((int)num(t, "groups"), 1);
    assert_true(isnan(num(t, "welch_p")));
    assert_non_null(find_row(doc, "groups", "practitioner", "P2", "technique", "fire"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "pairwise"), "rows")),
                     0);
    json_decref(doc);

    /* A cup field: the site.  Each session contributes to both sites. */
    p = params(CL_COHORTFIELD_SITE, 1, 0);
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_int_equal(cl_cohort_group_count(c), 2);
    const double *x;
    assert_int_equal(cl_cohort_group_values(c, 1, CL_STAT_PEAK, &x), 6); /* s2 */
    assert_rel(x[0], 41);
    /* The session without a practitioner counts here (7 at s1). */
    assert_int_equal(cl_cohort_group_values(c, 0, CL_STAT_PEAK, &x), 8);

    /* Nobody has a subject: an error naming the fields there are. */
    cl_error err;
    p = params(CL_COHORTFIELD_SUBJECT, 1, 0);
    assert_int_equal(cl_cohort_compare(c, &p, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "has subject (fields recorded: practitioner, technique, "
                                    "site, material, size, cup"));
    p = params(CL_COHORTFIELD_SITE, 2, CL_COHORTFIELD_SITE);
    assert_int_equal(cl_cohort_compare(c, &p, &err), CL_ERR_ARG);
    cl_cohort_free(c);
}

static void raw_only(void **state)
{
    (void)state;
    cl_cohort *c = cl_cohort_new();
    cl_cohortsession_cup k[] = {cup("s1", 40, 30, 40, 600), cup("s2", NAN, NAN, NAN, 0)};
    k[1].cal = CL_CAL_NONE;
    add(c, "r1.h5", "P1", "pump", k, 2);
    add(c, "r2.h5", "P1", "pump", k, 1);
    cl_cohort_params p = params(CL_COHORTFIELD_PRACTITIONER, 1, 0);
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_true(has_note(c, "1 session with cups in raw counts only"));
    assert_true(has_note(c, "r1.h5"));
    assert_false(has_note(c, "uncalibrated"));
    /* One group: no test, said in the table. */
    json_t *doc = as_json(c, CL_UNIT_KPA);
    json_t *t = find_row(doc, "tests", "metric", "hold_mean", NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(t, "note")), "fewer than 2 groups");
    json_decref(doc);
    cl_cohort_free(c);
}

/* Subjects as blocks: who counts as crossed and complete, the cells of
 * Friedman's test (a subject's mean over its sessions in the group), the
 * ANOVA over every session value with a subject (checked against cl_stats
 * on the same numbers), the adjustments across the metrics, the pooled
 * techniques, and the blocked tests said not to apply. */
static void blocked(void **state)
{
    (void)state;
    cl_cohort *c = cl_cohort_new();
    assert_non_null(c);
    /* A: s1 pump 10, s1 fire 11, s2 12, s3 9.5; B: s1 13, s2 14.5 and 15
     * (fire), s4 13.1, one session without a subject (14).  Peak v, hold
     * mean v - 1 + 0.01 v^2 (another metric, other p-values). */
    const struct {
        const char *prac, *tech, *subj;
        double v;
    } d[] = {{"A", "pump", "s1", 10},  {"A", "fire", "s1", 11},   {"A", "pump", "s2", 12},
             {"A", "pump", "s3", 9.5}, {"B", "pump", "s1", 13},   {"B", "pump", "s2", 14.5},
             {"B", "fire", "s2", 15},  {"B", "pump", "s4", 13.1}, {"B", "pump", "", 14}};
    enum { N = sizeof d / sizeof d[0] };
    for (size_t i = 0; i < N; i++) {
        char file[16];
        cl_cohortsession_cup one =
            cup("a", d[i].v, d[i].v - 1 + 0.01 * d[i].v * d[i].v, NAN, 0);
        snprintf(file, sizeof file, "f%zu.h5", i);
        add_subject(c, file, d[i].prac, d[i].tech, d[i].subj, &one, 1);
    }
    cl_cohort_params p = {.field = {CL_COHORTFIELD_PRACTITIONER}, .nfields = 1};
    p.metric[CL_STAT_PEAK] = p.metric[CL_STAT_HOLD_MEAN] = true;
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_string_equal(cl_cohort_pooled_techniques(c), "fire, pump");
    json_t *doc = as_json(c, CL_UNIT_KPA);
    json_t *pool = json_object_get(doc, "pooled_techniques");
    assert_int_equal(json_array_size(pool), 2);
    assert_string_equal(json_string_value(json_array_get(pool, 0)), "fire");
    json_t *b = find_row(doc, "blocked", "metric", "peak_vacuum", NULL, NULL);
    assert_non_null(b);
    assert_rel(num(b, "groups"), 2);
    assert_rel(num(b, "subjects"), 4);
    assert_rel(num(b, "crossed"), 2);  /* s1, s2 */
    assert_rel(num(b, "complete"), 2); /* the same, with two groups */
    assert_rel(num(b, "n"), 8);
    const char *bn = json_string_value(json_object_get(b, "note"));
    assert_non_null(strstr(bn, "1 session without a subject left out"));
    assert_non_null(strstr(bn, "Friedman: 2 of 4 subjects not in every group left out"));
    /* The same numbers straight into cl_stats: groups A B, blocks s1..s4. */
    const double y[] = {10, 11, 12, 9.5, 13, 14.5, 15, 13.1};
    const size_t g[] = {0, 0, 0, 0, 1, 1, 1, 1}, bl[] = {0, 0, 1, 2, 0, 1, 1, 3};
    cl_stats_blocked ba;
    assert_int_equal(cl_stats_block_anova(y, 1, g, bl, 8, 2, 4, &ba, NULL), CL_OK);
    assert_rel(num(b, "block_f"), ba.f);
    assert_rel(num(b, "block_df1"), 1);
    assert_rel(num(b, "block_df2"), 8 - 4 - 1);
    assert_rel(num(b, "block_p"), ba.p);
    const double cells[2][2] = {{10.5, 13}, {12, 14.75}}; /* s1, s2 x A, B */
    cl_stats_friedman fr;
    assert_int_equal(cl_stats_friedman_test(&cells[0][0], 2, 2, 2, &fr, NULL), CL_OK);
    assert_rel(num(b, "friedman_chi2"), fr.chi2);
    assert_rel(num(b, "friedman_p"), fr.p);
    assert_rel(num(b, "kendall_w"), 1);
    /* Adjusted across the two metrics: Holm and BH of the pair of p. */
    json_t *b2 = find_row(doc, "blocked", "metric", "hold_mean", NULL, NULL);
    json_t *t1 = find_row(doc, "tests", "metric", "peak_vacuum", NULL, NULL);
    json_t *t2 = find_row(doc, "tests", "metric", "hold_mean", NULL, NULL);
    assert_non_null(b2);
    assert_non_null(t1);
    assert_non_null(t2);
    const char *col[] = {"block_p", "welch_p", "kw_p"};
    json_t *rows[3][2] = {{b, b2}, {t1, t2}, {t1, t2}};
    for (int k = 0; k < 3; k++) {
        double pv[2] = {num(rows[k][0], col[k]), num(rows[k][1], col[k])}, h[2], f[2];
        char nh[32], nb[32];
        assert_int_equal(cl_stats_holm(pv, 1, 2, h, NULL), CL_OK);
        assert_int_equal(cl_stats_bh(pv, 1, 2, f, NULL), CL_OK);
        snprintf(nh, sizeof nh, "%s_holm", col[k]);
        snprintf(nb, sizeof nb, "%s_bh", col[k]);
        for (int i = 0; i < 2; i++) {
            assert_rel(num(rows[k][i], nh), h[i]);
            assert_rel(num(rows[k][i], nb), f[i]);
        }
    }
    /* The sessions table names the subjects. */
    json_t *sr = find_row(doc, "sessions", "file", "f3.h5", NULL, NULL);
    assert_non_null(sr);
    assert_string_equal(json_string_value(json_object_get(sr, "subject")), "s3");
    json_decref(doc);

    /* With technique as the second field nothing is pooled. */
    p.field[1] = CL_COHORTFIELD_TECHNIQUE;
    p.nfields = 2;
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_string_equal(cl_cohort_pooled_techniques(c), "");

    /* Grouped by subject, no subject is in two groups. */
    p.field[0] = CL_COHORTFIELD_SUBJECT;
    p.nfields = 1;
    assert_int_equal(cl_cohort_compare(c, &p, NULL), CL_OK);
    assert_true(has_note(c, "every subject is in one group only: the blocked tests"));
    doc = as_json(c, CL_UNIT_KPA);
    b = find_row(doc, "blocked", "metric", "peak_vacuum", NULL, NULL);
    assert_non_null(b);
    assert_rel(num(b, "crossed"), 0);
    assert_true(isnan(num(b, "block_p")) && isnan(num(b, "friedman_p")));
    assert_non_null(strstr(json_string_value(json_object_get(b, "note")),
                           "do not apply: every subject is in one group only"));
    json_decref(doc);
    cl_cohort_free(c);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compare),  cmocka_unit_test(targets), cmocka_unit_test(strata),
        cmocka_unit_test(raw_only), cmocka_unit_test(blocked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
