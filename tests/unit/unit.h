/*
 * unit: helpers shared by the unit tests (tests/unit/DIR/test_*.c), on top
 * of cmocka.  Every helper fails the running test through cmocka (with the
 * file and line of the call for the assertions) instead of returning an
 * error, except the scratch folder's create/destroy pair, which returns 0
 * or -1 so that a group setup or teardown can return it.
 */
#ifndef UNIT_H
#define UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gsl/gsl_rng.h>

/* Doubles compared in double precision (cmocka's own assertions compare
 * integers).  assert_close passes when
 *     |value - expected| <= tol + rel * |expected|,
 * assert_near is assert_close without the relative part (rel = 0), and a
 * NaN on either side always fails.  A failure prints the expressions, the
 * value, the expected value, the difference and the tolerance. */
#define assert_near(value, expected, tol)                                                      \
    unit_assert_close((value), (expected), (tol), 0, #value ", " #expected, __FILE__, __LINE__)
#define assert_close(value, expected, tol, rel)                                                \
    unit_assert_close((value), (expected), (tol), (rel), #value ", " #expected, __FILE__,      \
                      __LINE__)
void unit_assert_close(double value, double expected, double tol, double rel, const char *what,
                       const char *file, int line);

/* The test program's scratch folder, made by unit_tmpdir_create (usually
 * in the group setup) as $TMPDIR/cuplab-NAME-XXXXXX ($TMPDIR unset or
 * empty: /tmp) and removed with everything in it by unit_tmpdir_destroy.
 * One at a time; unit_tmpdir is its path ("" when there is none). */
int unit_tmpdir_create(const char *name);
int unit_tmpdir_destroy(void);
const char *unit_tmpdir(void);
/* buf = "<scratch folder>/name" (name may have folders in it); fails the
 * test if it does not fit in cap bytes.  Returns buf. */
char *unit_path(char *buf, size_t cap, const char *name);

/* Write `text` to `path`, replacing the file. */
void unit_write_file(const char *path, const char *text);
/* The whole of the file at `path` in memory, with a NUL byte after its
 * *len bytes; free() it. */
char *unit_read_file(const char *path, size_t *len);

/* A Mersenne Twister (gsl_rng_mt19937) seeded with `seed`; gsl_rng_free() it. */
gsl_rng *unit_rng(unsigned long seed);

#endif
