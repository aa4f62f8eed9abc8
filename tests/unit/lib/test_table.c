/* Unit tests for cl_table: the three renderings, and the sticky-error rule
 * checked by failing each allocation of a table's construction in turn
 * (malloc, calloc, realloc and strdup are wrapped at link time for this
 * test): the builder below ignores every return value, as a careless caller
 * would, and the table must then be either complete and right or refused as
 * a whole, never written with a cell in the wrong row. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_table.h"

/* ---- allocation failure injection: fail the n-th allocation (0 = never). */
static long fail_at, count;

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static int fails(void) { return fail_at && ++count == fail_at; }
void *__wrap_malloc(size_t n) { return fails() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return fails() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return fails() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fails() ? NULL : __real_strdup(s); }

enum { ROWS = 40 };

/* A three-column table with ROWS rows, every return value ignored. */
static cl_table *build(void)
{
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    cl_table_add_column(t, "cup", NULL, 0);
    cl_table_add_column(t, "peak", "kPa", 4);
    cl_table_add_column(t, "row", NULL, 0);
    for (int r = 0; r < ROWS; r++) {
        char id[16];
        snprintf(id, sizeof id, "C%d", r + 1);
        cl_table_add_row(t);
        cl_table_set_str(t, 0, id);
        cl_table_set_num(t, 1, r * 0.5);
        cl_table_set_num(t, 2, r);
    }
    return t;
}

/* The CSV of `t` in a new string, or NULL when the write was refused. */
static char *csv_of(const cl_table *t, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cl_error e;
    *rc = cl_table_write(t, f, CL_TABLE_CSV, NULL, &e);
    fclose(f);
    if (*rc != CL_OK) {
        assert_non_null(strstr(e.msg, "not written"));
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_renderings(void **state)
{
    (void)state;
    cl_table *t = build();
    int rc;
    char *csv = csv_of(t, &rc);
    assert_int_equal(rc, CL_OK);
    assert_int_equal(strncmp(csv, "cup,peak,row\nC1,0,0\nC2,0.5,1\n", 29), 0);
    free(csv);
    json_t *j = cl_table_json(t, "x");
    assert_non_null(j);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), ROWS);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 39), "cup")),
                        "C40");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "units"), "peak")),
                        "kPa");
    json_decref(j);
    assert_int_equal(cl_table_status(t), CL_OK);
    /* A misuse is sticky too: a cell outside the table refuses the table. */
    assert_int_equal(cl_table_set_num(t, 7, 1.0), CL_ERR_ARG);
    assert_int_equal(cl_table_add_row(t), CL_ERR_ARG);
    assert_int_equal(cl_table_rows(t), ROWS);
    assert_null(csv_of(t, &rc));
    assert_int_equal(rc, CL_ERR_ARG);
    cl_table_free(t);
}

static void test_each_allocation_fails(void **state)
{
    (void)state;
    cl_table *good = build();
    int rc;
    char *want = csv_of(good, &rc);
    cl_table_free(good);
    assert_non_null(want);

    long n, refused = 0;
    for (n = 1;; n++) {
        fail_at = n;
        count = 0;
        cl_table *t = build();
        long made = count;
        fail_at = 0;
        if (made < n) { /* this many allocations never reached the n-th */
            char *got = csv_of(t, &rc);
            assert_non_null(got);
            assert_string_equal(got, want);
            free(got);
            cl_table_free(t);
            break;
        }
        if (!t)
            continue;
        assert_int_equal(cl_table_status(t), CL_ERR_NOMEM);
        assert_null(csv_of(t, &rc));
        assert_int_equal(rc, CL_ERR_NOMEM);
        assert_null(cl_table_json(t, NULL));
        refused++;
        cl_table_free(t);
    }
    print_message("%ld allocations failed in turn, each table refused whole\n", refused);
    assert_true(refused >= ROWS);
    free(want);
}

/* What a rendering of its own reads: columns, units, cells as the text
 * table prints them; a selection of columns, renamed, with their cells. */
static void test_reader_and_select(void **state)
{
    (void)state;
    cl_table *t = build();
    char buf[32];
    cl_table_add_row(t); /* a row with no cells but a NaN */
    cl_table_set_num(t, 1, NAN);
    assert_int_equal(cl_table_columns(t), 3);
    assert_string_equal(cl_table_column_name(t, 1), "peak");
    assert_string_equal(cl_table_column_unit(t, 1), "kPa");
    assert_null(cl_table_column_unit(t, 0));
    cl_table_cell_text(t, 3, 1, buf, sizeof buf);
    assert_string_equal(buf, "1.5");
    cl_table_cell_text(t, 39, 0, buf, sizeof buf);
    assert_string_equal(buf, "C40");
    cl_table_cell_text(t, ROWS, 1, buf, sizeof buf);
    assert_string_equal(buf, "-"); /* NaN, as the text table prints it */
    cl_table_cell_text(t, ROWS, 0, buf, sizeof buf);
    assert_string_equal(buf, ""); /* unset */
    cl_table_cell_text(t, ROWS + 1, 0, buf, sizeof buf);
    assert_string_equal(buf, ""); /* outside */

    static const char *const names[] = {"row", "nothing", "peak"};
    static const char *const labels[] = {NULL, "x", "Peak vacuum"};
    cl_table *s = cl_table_select(t, names, labels, 3);
    assert_non_null(s);
    assert_int_equal(cl_table_columns(s), 2); /* "nothing" is not a column of t */
    assert_int_equal(cl_table_rows(s), ROWS + 1);
    assert_string_equal(cl_table_column_name(s, 0), "row");
    assert_string_equal(cl_table_column_name(s, 1), "Peak vacuum");
    assert_string_equal(cl_table_column_unit(s, 1), "kPa");
    cl_table_cell_text(s, 7, 0, buf, sizeof buf);
    assert_string_equal(buf, "7");
    cl_table_cell_text(s, 7, 1, buf, sizeof buf);
    assert_string_equal(buf, "3.5");
    cl_table_cell_text(s, ROWS, 0, buf, sizeof buf);
    assert_string_equal(buf, "");
    cl_table_free(s);

    /* Out of memory at any point of the selection: no table, nothing leaked. */
    long n;
    for (n = 1;; n++) {
        fail_at = n;
        count = 0;
        s = cl_table_select(t, names, labels, 3);
        long made = count;
        fail_at = 0;
        if (made < n) {
            assert_non_null(s);
            cl_table_free(s);
            break;
        }
        assert_null(s);
    }
    assert_true(n > 3);
    cl_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renderings),
        cmocka_unit_test(test_each_allocation_fails),
        cmocka_unit_test(test_reader_and_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
