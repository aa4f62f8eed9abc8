/*
 * Unit tests of cl_output: an existing output is refused without force with
 * the one message every program prints, a folder or a missing parent folder
 * is told apart, and a figure folder is made once and accepted after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "cl_output.h"

/* The scratch folder of the tests, and what they leave in it. */
static const char *const leftovers[] = {"out.json", "figs", "file"};

static int make_dir(void **state)
{
    (void)state;
    return unit_tmpdir_create("output");
}

static int remove_dir(void **state)
{
    (void)state;
    char path[128];
    for (size_t i = 0; i < sizeof leftovers / sizeof *leftovers; i++)
        remove(unit_path(path, sizeof path, leftovers[i])); /* a file or an empty folder */
    return rmdir(unit_tmpdir()); /* fails if anything else was left */
}

static void test_check(void **state)
{
    (void)state;
    char path[128], want[192];
    cl_error e;
    unit_path(path, sizeof path, "out.json");
    assert_int_equal(cl_output_check(path, false, &e), CL_OK);
    unit_write_file(path, "");
    assert_int_equal(cl_output_check(path, false, &e), CL_ERR_EXISTS);
    snprintf(want, sizeof want, "%s exists (not replaced without --force)", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(cl_output_check(path, true, &e), CL_OK);
    assert_int_equal(cl_output_check(unit_tmpdir(), true, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "is a directory"));
    unit_path(path, sizeof path, "missing/out.json");
    assert_int_equal(cl_output_check(path, true, &e), CL_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "missing/out.json: cannot create: folder"));
    assert_int_equal(cl_output_check("plain.json", false, &e), CL_OK);
    const char *paths[] = {NULL, path};
    assert_int_equal(cl_output_check_all(paths, 1, false, &e), CL_OK);
    assert_int_equal(cl_output_check_all(paths, 2, false, &e), CL_ERR_NOTFOUND);
}

static void test_dir(void **state)
{
    (void)state;
    char path[128];
    struct stat st;
    cl_error e;
    unit_path(path, sizeof path, "figs");
    assert_int_equal(cl_output_dir(path, &e), CL_OK);
    assert_true(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    assert_int_equal(cl_output_dir(path, &e), CL_OK);
    unit_path(path, sizeof path, "no/figs");
    assert_int_equal(cl_output_dir(path, &e), CL_ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "no/figs: cannot create"));
    unit_path(path, sizeof path, "file");
    unit_write_file(path, "");
    assert_int_equal(cl_output_dir(path, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "not a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_check), cmocka_unit_test(test_dir)};
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
