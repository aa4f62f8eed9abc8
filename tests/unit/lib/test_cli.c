/* Unit tests for cl_cli: numbers, port specs and config files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "cl_cli.h"

static void test_numbers(void **state)
{
    (void)state;
    double d = -1;
    long l = -1;
    assert_true(cl_cli_double("2.5", 0, 10, &d) && d == 2.5);
    assert_false(cl_cli_double("2.5s", 0, 10, &d));
    assert_false(cl_cli_double("", 0, 10, &d));
    assert_false(cl_cli_double("11", 0, 10, &d));
    assert_false(cl_cli_double("nan", 0, 10, &d));
    assert_true(d == 2.5);
    assert_true(cl_cli_long("115200", 50, 10000000, &l) && l == 115200);
    assert_false(cl_cli_long("12x", 0, 100, &l));
    assert_false(cl_cli_long("99999999999999999999", 0, 100, &l));
    assert_int_equal(l, 115200);
}

static void test_port_spec(void **state)
{
    (void)state;
    char a[] = "/dev/ttyUSB0", b[] = "/dev/ttyACM1:9600:binary", c[] = "/dev/x::binary",
         d[] = "/dev/y:fast", e[] = "/dev/z:9600:morse";
    int baud = 115200;
    cl_wire_protocol p = CL_WIRE_TEXT;
    cl_error err;
    assert_int_equal(cl_cli_port_spec(a, &baud, &p, &err), CL_OK);
    assert_string_equal(a, "/dev/ttyUSB0");
    assert_int_equal(baud, 115200);
    assert_int_equal(cl_cli_port_spec(b, &baud, &p, &err), CL_OK);
    assert_string_equal(b, "/dev/ttyACM1");
    assert_int_equal(baud, 9600);
    assert_int_equal(p, CL_WIRE_BINARY);
    baud = 115200;
    p = CL_WIRE_TEXT;
    assert_int_equal(cl_cli_port_spec(c, &baud, &p, &err), CL_OK);
    assert_int_equal(baud, 115200);
    assert_int_equal(p, CL_WIRE_BINARY);
    assert_int_equal(cl_cli_port_spec(d, &baud, &p, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "fast"));
    assert_int_equal(cl_cli_port_spec(e, &baud, &p, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "morse"));
    /* a USB vendor:product selector keeps its colon */
    char u[] = "usb=2341:0043:1000000:binary", v[] = "usb=2341:0043", w[] = "device=a:57600";
    baud = 115200;
    p = CL_WIRE_TEXT;
    assert_int_equal(cl_cli_port_spec(u, &baud, &p, &err), CL_OK);
    assert_string_equal(u, "usb=2341:0043");
    assert_int_equal(baud, 1000000);
    assert_int_equal(p, CL_WIRE_BINARY);
    assert_int_equal(cl_cli_port_spec(v, &baud, &p, &err), CL_OK);
    assert_string_equal(v, "usb=2341:0043");
    assert_int_equal(cl_cli_port_spec(w, &baud, &p, &err), CL_OK);
    assert_string_equal(w, "device=a");
    assert_int_equal(baud, 57600);
}

static const struct option opts[] = {
    {"name", required_argument, NULL, 'n'},
    {"flag", no_argument, NULL, 'f'},
    {"config", required_argument, NULL, 'c'},
    {NULL, 0, NULL, 0},
};

static int accept_port(void *ctx, const char *key, const struct option *opt)
{
    (void)ctx;
    if (!strcmp(key, "port"))
        return CL_CLI_POSITIONAL;
    if (!strcmp(key, "flag"))
        return CL_CLI_SKIP;
    return opt && strcmp(key, "config") ? CL_CLI_OPTION : CL_CLI_UNKNOWN;
}

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_create("cli");
}

static int teardown(void **state)
{
    (void)state;
    return unit_tmpdir_destroy();
}

static void test_config(void **state)
{
    (void)state;
    char path[1100];
    unit_path(path, sizeof path, "settings.conf");
    unit_write_file(path, "# settings\n name = A B \n\nflag\nport = /dev/p0\n");
    char *argv0[] = {"prog", "-c", path, "--name=C", NULL};
    char **argv = argv0;
    int argc = 4;
    cl_cli_config cfg;
    cl_error err;
    assert_int_equal(cl_cli_config_expand(&argc, &argv, 1, opts, accept_port, NULL, &cfg, &err),
                     CL_OK);
    assert_int_equal(argc, 6);
    assert_string_equal(argv[0], "prog");
    assert_string_equal(argv[1], "--name=A B"); /* file first ... */
    assert_string_equal(argv[2], "/dev/p0");
    assert_string_equal(argv[5], "--name=C");    /* ... command line last, so it wins */
    assert_null(argv[6]);
    cl_cli_config_free(&cfg);

    unit_write_file(path, "name = A\ncolour = blue\n");
    argv = argv0;
    argc = 4;
    assert_int_equal(cl_cli_config_expand(&argc, &argv, 1, opts, accept_port, NULL, &cfg, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, ":2: unknown setting 'colour'"));
    unit_write_file(path, "name\n");
    assert_int_equal(cl_cli_config_expand(&argc, &argv, 1, opts, NULL, NULL, &cfg, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "'name' needs a value"));
    unlink(path);
    assert_int_equal(cl_cli_config_expand(&argc, &argv, 1, opts, NULL, NULL, &cfg, &err),
                     CL_ERR_ARG); /* the file is gone */
    char *plain[] = {"prog", "x", NULL};
    argv = plain;
    argc = 2;
    assert_int_equal(cl_cli_config_expand(&argc, &argv, 1, opts, NULL, NULL, &cfg, &err), CL_OK);
    assert_ptr_equal(argv, plain);
    cl_cli_config_free(&cfg);
}

/* Expands `argv0` (which names the config file) and returns the status. */
static int expand(char **argv0, int argc0, cl_error *err)
{
    char **argv = argv0;
    int argc = argc0, rc;
    cl_cli_config cfg;
    rc = cl_cli_config_expand(&argc, &argv, 1, opts, NULL, NULL, &cfg, err);
    cl_cli_config_free(&cfg);
    return rc;
}

/* Only a regular file of bounded size and line length, without NUL bytes. */
static void test_config_limits(void **state)
{
    (void)state;
    char dir[1100], path[1100];
    snprintf(dir, sizeof dir, "%s", unit_tmpdir());
    unit_path(path, sizeof path, "c.conf");
    char *argv0[] = {"prog", "-c", dir, NULL};
    cl_error err;

    assert_int_equal(expand(argv0, 3, &err), CL_ERR_ARG); /* a directory */
    assert_non_null(strstr(err.msg, dir));
    assert_non_null(strstr(err.msg, "is a directory"));

    argv0[2] = "/dev/zero"; /* endless, not a regular file */
    assert_int_equal(expand(argv0, 3, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "/dev/zero: not a regular file"));

    argv0[2] = path;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "name = A\nname = %0*d\n", CL_CLI_LINE_MAX - 7, 0); /* exactly the limit */
    fclose(f);
    assert_int_equal(expand(argv0, 3, &err), CL_OK);
    f = fopen(path, "w");
    fprintf(f, "name = A\nname = %0*d\n", CL_CLI_LINE_MAX - 6, 0); /* one byte more */
    fclose(f);
    assert_int_equal(expand(argv0, 3, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "c.conf:2: line longer than 4096 bytes"));

    f = fopen(path, "w");
    fwrite("name = A\nname = B\0C\n", 1, 21, f);
    fclose(f);
    assert_int_equal(expand(argv0, 3, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "c.conf:2: NUL byte"));

    f = fopen(path, "w");
    for (int i = 0; i <= CL_CLI_CONFIG_MAX / 64; i++) /* short lines, too many of them */
        fprintf(f, "# %061d\n", i);
    fclose(f);
    assert_int_equal(expand(argv0, 3, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "c.conf: larger than 1048576 bytes"));

    unlink(path);
}

/* A file with no settings (empty, or comments only) leaves the command line
 * as it is (found by the fuzzer: the empty list of settings was copied from
 * a null pointer). */
static void test_config_empty(void **state)
{
    (void)state;
    char path[1100];
    unit_path(path, sizeof path, "empty.conf");
    unit_write_file(path, "");
    char *argv0[] = {"prog", "-c", path, "--name=C", NULL};
    for (int k = 0; k < 2; k++) {
        char **argv = argv0;
        int argc = 4;
        cl_cli_config cfg;
        cl_error err;
        unit_write_file(path, k ? "# nothing\n\n" : "");
        assert_int_equal(
            cl_cli_config_expand(&argc, &argv, 1, opts, NULL, NULL, &cfg, &err), CL_OK);
        assert_int_equal(argc, 4);
        assert_string_equal(argv[3], "--name=C");
        assert_null(argv[4]);
        cl_cli_config_free(&cfg);
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_port_spec),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_limits),
        cmocka_unit_test(test_config_empty),
    };
    return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
