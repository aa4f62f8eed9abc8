/* unit: helpers shared by the unit tests (unit.h). */
#include "unit.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void unit_assert_close(double value, double expected, double tol, double rel, const char *what,
                       const char *file, int line)
{
    double diff = fabs(value - expected);
    double bound = rel != 0 ? tol + rel * fabs(expected) : tol;
    if (diff <= bound)
        return;
    if (rel != 0)
        print_error("(%s): %.17g, expected %.17g: off by %.6g, more than %.6g "
                    "(tolerance %g + relative %g of the expected value)\n",
                    what, value, expected, diff, bound, tol, rel);
    else
        print_error("(%s): %.17g, expected %.17g: off by %.6g, more than the tolerance %g\n",
                    what, value, expected, diff, tol);
    _fail(file, line);
}

static char scratch[1024];

int unit_tmpdir_create(const char *name)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(scratch, sizeof scratch, "%s/cuplab-%s-XXXXXX", base, name);
    if (n < 0 || (size_t)n >= sizeof scratch || !mkdtemp(scratch)) {
        scratch[0] = '\0';
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int unit_tmpdir_destroy(void)
{
    if (!scratch[0])
        return -1;
    int rc = nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    scratch[0] = '\0';
    return rc == 0 ? 0 : -1;
}

const char *unit_tmpdir(void)
{
    return scratch;
}

char *unit_path(char *buf, size_t cap, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", scratch, name);
    assert_true(n >= 0 && (size_t)n < cap);
    return buf;
}

void unit_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

char *unit_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

gsl_rng *unit_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, seed);
    return r;
}
