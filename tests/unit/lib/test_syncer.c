/* Unit tests for cl_syncer: syncs a file behind the writer, reports a failed
 * sync at the next request or at the end, ignores descriptors that cannot be
 * synced. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cl_syncer.h"

static void test_syncs_a_file(void **state)
{
    (void)state;
    char path[] = "/tmp/cl-syncer-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    cl_syncer *s = cl_syncer_new(fd);
    assert_non_null(s);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(write(fd, "x", 1), 1);
        assert_int_equal(cl_syncer_request(s), 0);
    }
    assert_int_equal(cl_syncer_free(s), 0);
    close(fd);
    unlink(path);
    assert_int_equal(cl_syncer_free(NULL), 0);
}

/* A failed sync is reported once: by the next request, else at the end. */
static void test_reports_a_failed_sync(void **state)
{
    (void)state;
    cl_syncer *s = cl_syncer_new(-1); /* EBADF */
    assert_non_null(s);
    assert_int_equal(cl_syncer_request(s), 0);
    int e = 0;
    for (int i = 0; i < 2000 && e == 0; i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        e = cl_syncer_request(s);
    }
    assert_int_equal(e, EBADF);
    assert_int_equal(cl_syncer_free(s), EBADF); /* the last request failed too */

    s = cl_syncer_new(-1);
    assert_non_null(s);
    assert_int_equal(cl_syncer_request(s), 0);
    assert_int_equal(cl_syncer_free(s), EBADF);
}

static void test_unsyncable_is_no_error(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    cl_syncer *s = cl_syncer_new(p[1]); /* fdatasync: EINVAL */
    assert_non_null(s);
    assert_int_equal(cl_syncer_request(s), 0);
    assert_int_equal(cl_syncer_free(s), 0);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syncs_a_file),
        cmocka_unit_test(test_reports_a_failed_sync),
        cmocka_unit_test(test_unsyncable_is_no_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
