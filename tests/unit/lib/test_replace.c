/* Unit tests for cl_replace: a committed replacement puts the changed copy
 * in place with the original's mode; an abort, or a failure, leaves the
 * original byte for byte and no copy; a stale copy is overwritten; a file
 * replaced behind the caller's back is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "cl_replace.h"

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_create("replace");
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmpdir_destroy();
}

static void put(const char *path, const char *text, mode_t mode)
{
    unit_write_file(path, text);
    assert_int_equal(chmod(path, mode), 0);
}

static void assert_content(const char *path, const char *text)
{
    size_t n;
    char *got = unit_read_file(path, &n);
    assert_string_equal(got, text);
    free(got);
}

static void tmp_name(char *buf, size_t cap, const char *base)
{
    int n = snprintf(buf, cap, "%s/.%s.cuplab-tmp", unit_tmpdir(), base);
    assert_true(n >= 0 && (size_t)n < cap);
}

static void test_commit(void **state)
{
    (void)state;
    char path[128], tmp[128];
    struct stat st;
    cl_error e;
    cl_replace *t;
    unit_path(path, sizeof path, "a.h5");
    tmp_name(tmp, sizeof tmp, "a.h5");
    put(path, "recording", 0640);
    put(tmp, "stale copy of a killed run, longer than the file", 0600);

    assert_int_equal(cl_replace_begin(&t, path, -1, &e), CL_OK);
    assert_string_equal(cl_replace_copy(t), tmp);
    assert_content(tmp, "recording"); /* the stale copy was overwritten */
    FILE *f = fopen(cl_replace_copy(t), "a");
    assert_non_null(f);
    fputs(" + results", f);
    fclose(f);
    assert_content(path, "recording"); /* untouched until committed */
    assert_int_equal(cl_replace_commit(t, &e), CL_OK);
    assert_content(path, "recording + results");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_abort_and_errors(void **state)
{
    (void)state;
    char path[128], tmp[128], other[128];
    cl_error e;
    cl_replace *t = (cl_replace *)&e;
    unit_path(path, sizeof path, "b.h5");
    unit_path(other, sizeof other, "c.h5");
    tmp_name(tmp, sizeof tmp, "b.h5");
    put(path, "keep me", 0644);

    assert_int_equal(cl_replace_begin(&t, path, -1, &e), CL_OK);
    put(cl_replace_copy(t), "changed", 0644);
    cl_replace_abort(t);
    assert_content(path, "keep me");
    assert_int_equal(access(tmp, F_OK), -1);
    cl_replace_abort(NULL);

    /* The caller validated another file than the one the name now gives. */
    put(other, "other", 0644);
    int fd = open(other, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(cl_replace_begin(&t, path, fd, &e), CL_ERR_BUSY);
    assert_null(t);
    assert_non_null(strstr(e.msg, path));
    close(fd);
    fd = open(path, O_RDONLY);
    assert_int_equal(cl_replace_begin(&t, path, fd, &e), CL_OK);
    close(fd);
    cl_replace_abort(t);

    char missing[128];
    unit_path(missing, sizeof missing, "missing.h5");
    assert_int_equal(cl_replace_begin(&t, missing, -1, &e), CL_ERR_IO);
    assert_non_null(strstr(e.msg, missing));
    assert_int_equal(cl_replace_begin(&t, "", -1, &e), CL_ERR_ARG);
    assert_int_equal(cl_replace_commit(NULL, &e), CL_ERR_ARG);

    /* Committing a copy that vanished fails and leaves the original. */
    assert_int_equal(cl_replace_begin(&t, path, -1, &e), CL_OK);
    unlink(cl_replace_copy(t));
    assert_int_not_equal(cl_replace_commit(t, &e), CL_OK);
    assert_content(path, "keep me");
}

/* A file with no directory part is copied beside it in the current one. */
static void test_relative_name(void **state)
{
    (void)state;
    char cwd[512];
    cl_error e;
    cl_replace *t;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(unit_tmpdir()), 0);
    put("d.h5", "here", 0644);
    assert_int_equal(cl_replace_begin(&t, "d.h5", -1, &e), CL_OK);
    assert_string_equal(cl_replace_copy(t), ".d.h5.cuplab-tmp");
    put(cl_replace_copy(t), "there", 0644);
    assert_int_equal(cl_replace_commit(t, &e), CL_OK);
    assert_content("d.h5", "there");
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_abort_and_errors),
        cmocka_unit_test(test_relative_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
