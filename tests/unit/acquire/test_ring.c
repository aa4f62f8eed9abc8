/* Unit tests for cl_ring: capacity, order, full/empty edges, and a
 * two-thread run that must deliver every record exactly once, in order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "engine/cl_ring.h"

typedef struct rec {
    uint64_t seq;
    char pad[40];
} rec;

static void test_capacity_rounds_up(void **state)
{
    (void)state;
    cl_ring *r = cl_ring_new(1000, sizeof(rec));
    assert_non_null(r);
    assert_int_equal(cl_ring_capacity(r), 1024);
    cl_ring_free(r);
    assert_null(cl_ring_new(10, 0));
    cl_ring_free(NULL);
}

static void test_full_and_empty(void **state)
{
    (void)state;
    cl_ring *r = cl_ring_new(4, sizeof(rec));
    rec in = {0}, out[8];
    assert_int_equal(cl_ring_pop(r, out, 8), 0);
    for (uint64_t i = 0; i < 4; i++) {
        in.seq = i;
        assert_true(cl_ring_push(r, &in));
    }
    in.seq = 99;
    assert_false(cl_ring_push(r, &in)); /* full: refused, nothing overwritten */
    assert_int_equal(cl_ring_used(r), 4);
    assert_int_equal(cl_ring_pop(r, out, 3), 3);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(out[i].seq, i);
    /* wrap around the end of the storage */
    for (uint64_t i = 4; i < 7; i++) {
        in.seq = i;
        assert_true(cl_ring_push(r, &in));
    }
    assert_int_equal(cl_ring_pop(r, out, 8), 4);
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(out[i].seq, i + 3);
    cl_ring_free(r);
}

#define N_THREADED 2000000

static void *producer(void *arg)
{
    cl_ring *r = arg;
    rec x;
    memset(&x, 0, sizeof x);
    for (uint64_t i = 0; i < N_THREADED;) {
        x.seq = i;
        x.pad[0] = (char)i;
        if (cl_ring_push(r, &x))
            i++;
    }
    return NULL;
}

static void two_threads(size_t cap);

/* A small ring, and one of several MiB (its storage takes the huge-page
 * path). */
static void test_two_threads_in_order(void **state)
{
    (void)state;
    for (size_t cap = 1024; cap <= 131072; cap *= 128)
        two_threads(cap);
}

static void two_threads(size_t cap)
{
    cl_ring *r = cl_ring_new(cap, sizeof(rec));
    pthread_t t;
    rec out[300];
    uint64_t expect = 0;
    int bad = 0;

    assert_non_null(r);

    assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
    while (expect < N_THREADED) {
        size_t n = cl_ring_pop(r, out, 300);
        for (size_t i = 0; i < n; i++) {
            bad += out[i].seq != expect || out[i].pad[0] != (char)expect;
            expect++;
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(bad, 0);
    assert_int_equal(cl_ring_used(r), 0);
    cl_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_rounds_up),
        cmocka_unit_test(test_full_and_empty),
        cmocka_unit_test(test_two_threads_in_order),
    };
    return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
