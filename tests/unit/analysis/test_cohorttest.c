/*
 * Unit tests of cl_cohorttest on arrays built by hand: three groups with
 * subjects crossed, replicated, missing and seen once; what counts as
 * crossed and complete, the values the blocked ANOVA takes and the cells of
 * Friedman's test (a subject's mean in the group), the omnibus tests, every
 * pair with Holm's adjustment, and the adjustments across the metrics of a
 * stratum, each against cl_stats on the same numbers (1e-12 relative);
 * the notes when the blocked tests do not apply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <math.h>
#include <string.h>

#include "unit.h"
#include "cohort/cl_cohorttest.h"

#define assert_rel(a, b) assert_close((a), (b), 1e-12, 1e-12)

/* Group 0: subjects a, b, c and one without; 1: a, b twice, d; 2: a, b, c. */
static const double v0[] = {5, 6, 7.5, 6.2}, v1[] = {7, 8.1, 9, 8.4}, v2[] = {6.5, 7.7, 8.8};
static const char *const s0[] = {"a", "b", "c", ""}, *const s1[] = {"a", "b", "b", "d"},
                         *const s2[] = {"a", "b", "c"};
static const cl_stats_sample smp[] = {{v0, 1, 4}, {v1, 1, 4}, {v2, 1, 3}};
static const char *const *const subj[] = {s0, s1, s2};

static void init(void **state)
{
    (void)state;
    cl_cohorttest t;
    cl_cohorttest_init(&t, 2, 5);
    assert_int_equal(t.stratum, 2);
    assert_int_equal(t.metric, 5);
    assert_int_equal(t.k, 0);
    assert_true(isnan(t.an.f) && isnan(t.kw.p) && isnan(t.bf_p) && isnan(t.adj[3][1]));
    for (int f = 0; f < CL_COHORTTEST_FAMILIES; f++)
        assert_true(isnan(cl_cohorttest_p(&t, f)));
}

static void compare(void **state)
{
    (void)state;
    cl_cohorttest t;
    cl_cohorttest_init(&t, 0, 0);
    assert_int_equal(cl_cohorttest_compare(&t, smp, subj, 3, NULL), CL_OK);
    assert_int_equal(t.nblock, 10);
    assert_int_equal(t.subjects, 4);
    assert_int_equal(t.crossed, 3);  /* a, b, c */
    assert_int_equal(t.complete, 2); /* a, b */
    assert_non_null(strstr(t.bnote, "1 session without a subject left out"));
    assert_non_null(strstr(t.bnote, "Friedman: 2 of 4 subjects not in every group left out"));

    const double y[] = {5, 6, 7.5, 7, 8.1, 9, 8.4, 6.5, 7.7, 8.8};
    const size_t g[] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, b[] = {0, 1, 2, 0, 1, 1, 3, 0, 1, 2};
    cl_stats_blocked ba;
    assert_int_equal(cl_stats_block_anova(y, 1, g, b, 10, 3, 4, &ba, NULL), CL_OK);
    assert_true(t.ba_ok);
    assert_rel(t.ba.f, ba.f);
    assert_rel(t.ba.p, ba.p);
    const double cells[] = {5, 7, 6.5, 6, 8.55, 7.7}; /* a, b x groups */
    cl_stats_friedman fr;
    assert_int_equal(cl_stats_friedman_test(cells, 2, 3, 3, &fr, NULL), CL_OK);
    assert_true(t.fr_ok);
    assert_rel(t.fr.chi2, fr.chi2);
    assert_rel(cl_cohorttest_p(&t, CL_COHORTTEST_FRIEDMAN), fr.p);

    cl_stats_anova an;
    cl_stats_kruskal kw;
    assert_int_equal(cl_stats_welch_anova(smp, 3, &an, NULL), CL_OK);
    assert_int_equal(cl_stats_kruskal_wallis(smp, 3, &kw, NULL), CL_OK);
    assert_true(t.an_ok && t.kw_ok && t.bf_ok);
    assert_rel(cl_cohorttest_p(&t, CL_COHORTTEST_WELCH), an.p);
    assert_rel(cl_cohorttest_p(&t, CL_COHORTTEST_KW), kw.p);
    assert_string_equal(t.note, "");
}

static void no_blocks(void **state)
{
    (void)state;
    static const char *const one[] = {"a", "a", "a", "a"}, *const other[] = {"b", "b", "b",
                                                                             "b"};
    static const char *const none[] = {"", "", "", ""};
    const char *const *const apart[] = {one, other}, *const *const empty[] = {none, none};
    cl_cohorttest t;
    cl_cohorttest_init(&t, 0, 0);
    assert_int_equal(cl_cohorttest_compare(&t, smp, apart, 2, NULL), CL_OK);
    assert_int_equal(t.crossed, 0);
    assert_false(t.ba_ok || t.fr_ok);
    assert_string_equal(t.bnote, "do not apply: every subject is in one group only");
    cl_cohorttest_init(&t, 0, 0);
    assert_int_equal(cl_cohorttest_compare(&t, smp, empty, 2, NULL), CL_OK);
    assert_string_equal(t.bnote, "8 sessions without a subject left out; do not apply: no "
                                 "session records a subject");
}

static void pairs(void **state)
{
    (void)state;
    const size_t gidx[] = {4, 7, 9};
    cl_cohorttest_pair pr[3];
    assert_int_equal(cl_cohorttest_pairs(smp, gidx, 3, 1, 6, pr, NULL), CL_OK);
    const size_t a[] = {0, 0, 1}, b[] = {1, 2, 2};
    double p[3], holm[3];
    for (int i = 0; i < 3; i++) {
        cl_stats_ttest tt;
        assert_int_equal(cl_stats_welch_t(&smp[a[i]], &smp[b[i]], &tt, NULL), CL_OK);
        assert_int_equal(pr[i].a, gidx[a[i]]);
        assert_int_equal(pr[i].b, gidx[b[i]]);
        assert_int_equal(pr[i].stratum, 1);
        assert_int_equal(pr[i].metric, 6);
        assert_true(pr[i].ok);
        assert_rel(pr[i].t.t, tt.t);
        p[i] = tt.p;
    }
    assert_int_equal(cl_stats_holm(p, 1, 3, holm, NULL), CL_OK);
    for (int i = 0; i < 3; i++)
        assert_rel(pr[i].p_holm, holm[i]);
}

/* Two metrics in stratum 0, one in stratum 1: the families are per
 * stratum. */
static void adjust(void **state)
{
    (void)state;
    cl_cohorttest t[3];
    cl_cohorttest_init(&t[0], 0, 0);
    cl_cohorttest_init(&t[1], 0, 1);
    cl_cohorttest_init(&t[2], 1, 0);
    const double welch[] = {0.01, 0.04, 0.03};
    for (int i = 0; i < 3; i++) {
        t[i].an_ok = true;
        t[i].an.p = welch[i];
    }
    assert_int_equal(cl_cohorttest_adjust(t, 3, 2, NULL), CL_OK);
    double h[2], f[2];
    assert_int_equal(cl_stats_holm(welch, 1, 2, h, NULL), CL_OK);
    assert_int_equal(cl_stats_bh(welch, 1, 2, f, NULL), CL_OK);
    for (int i = 0; i < 2; i++) {
        assert_rel(t[i].adj[CL_COHORTTEST_WELCH][0], h[i]);
        assert_rel(t[i].adj[CL_COHORTTEST_WELCH][1], f[i]);
    }
    assert_rel(t[2].adj[CL_COHORTTEST_WELCH][0], 0.03); /* a family of one */
    assert_rel(t[2].adj[CL_COHORTTEST_WELCH][1], 0.03);
    assert_true(isnan(t[0].adj[CL_COHORTTEST_KW][0])); /* no p-value, none adjusted */
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init),  cmocka_unit_test(compare), cmocka_unit_test(no_blocks),
        cmocka_unit_test(pairs), cmocka_unit_test(adjust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
