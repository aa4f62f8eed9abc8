/*
 * Unit tests of cl_plot: the figures are valid images of the chosen kind
 * (PNG signature and header with the page size, an SVG document, a complete
 * PDF), nothing is written to stdout while drawing, several figures in one
 * process work, and bad names or unwritable places are errors, not exits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cl_calib.h"
#include "engine/cl_calplot.h"

static const cl_plot_size px = {1000, 650, 0, 0}; /* PNG pixels of the page */

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cuplab-plot-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cl_plot_release(); /* pango's font map (fontconfig's caches: tests/lsan.supp) */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 0);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A small calibration to draw. */
static void calibration(cl_sensor_calibration *d)
{
    cl_sensor_point pts[20];
    for (int i = 0; i < 20; i++) {
        int s = i < 10 ? i : 19 - i;
        double p = -10.0 * s;
        pts[i] = (cl_sensor_point){.ref_kpa = p,
                                   .raw = (p + 120) / 0.032 + (i < 10 ? -2 : 2) + (i % 3),
                                   .raw_sd = NAN,
                                   .n_samples = 1,
                                   .direction = i < 10 ? CL_DIR_UP : CL_DIR_DOWN,
                                   .temperature_c = NAN};
    }
    cl_calib_options o;
    cl_calib_options_init(&o);
    o.ref_u_kpa = 0.02;
    o.tolerance_kpa = 0.4;
    cl_sensor_calibration_init(d);
    assert_int_equal(cl_calib_sensor(pts, 20, &o, d, NULL), CL_OK);
    assert_int_equal(cl_profile_set_str(&d->serial, "PLOT-1"), CL_OK);
}

/* Draw with stdout redirected to a file; returns the bytes written there. */
static long draw_quietly(const cl_sensor_calibration *d, const char *path, int *rc)
{
    char out[128];
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    fflush(stdout);
    int saved = dup(1), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    cl_error e;
    *rc = cl_calplot_residuals(d, CL_UNIT_MMHG, &px, path, &e);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    return (long)st.st_size;
}

static void test_png_svg_pdf(void **state)
{
    (void)state;
    cl_sensor_calibration d;
    char path[128];
    size_t len;
    int rc;
    calibration(&d);

    snprintf(path, sizeof path, "%s/r.png", dir);
    assert_int_equal(draw_quietly(&d, path, &rc), 0);
    assert_int_equal(rc, CL_OK);
    unsigned char *b = slurp(path, &len);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_memory_equal(b, sig, 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    assert_int_equal(be32(b + 16), 1000); /* width */
    assert_int_equal(be32(b + 20), 650);  /* height */
    assert_memory_equal(b + len - 8, "IEND", 4);
    free(b);

    snprintf(path, sizeof path, "%s/r.SVG", dir);
    assert_int_equal(draw_quietly(&d, path, &rc), 0);
    assert_int_equal(rc, CL_OK);
    b = slurp(path, &len);
    assert_non_null(strstr((char *)b, "<svg"));
    assert_non_null(strstr((char *)b, "</svg>"));
    free(b);

    snprintf(path, sizeof path, "%s/r.pdf", dir);
    assert_int_equal(draw_quietly(&d, path, &rc), 0);
    assert_int_equal(rc, CL_OK);
    b = slurp(path, &len);
    assert_memory_equal(b, "%PDF-", 5);
    assert_non_null(strstr((char *)b + len - 8, "%%EOF"));
    free(b);
    cl_sensor_calibration_release(&d);
}

static void test_decay_figure(void **state)
{
    (void)state;
    enum { N = 600 };
    double t[N], p[N];
    for (int i = 0; i < N; i++) {
        t[i] = 10 + i;
        p[i] = -20 - 25 * exp(-i / 200.0) + 0.05 * sin(i);
    }
    cl_leak lk;
    cl_error e;
    char path[128];
    size_t len;
    assert_int_equal(cl_cupchar_leak(t, p, 0, N, 100, 1, NAN, &lk, &e), CL_OK);
    snprintf(path, sizeof path, "%s/decay.png", dir);
    assert_int_equal(cl_calplot_decay(t, p, 0, N, &lk, CL_UNIT_MMHG, "C1", &px, path, &e), CL_OK);
    unsigned char *b = slurp(path, &len);
    assert_memory_equal(b + 1, "PNG", 3);
    free(b);
    assert_int_equal(cl_calplot_decay(t, p, 5, 5, &lk, CL_UNIT_MMHG, "C1", &px, path, &e), CL_ERR_ARG);
}

/* Lengths, the time axis and the vacuum title. */
static void test_axes(void **state)
{
    (void)state;
    double mm;
    cl_error e;
    assert_int_equal(cl_plot_parse_length("85mm", &mm, &e), CL_OK);
    assert_true(fabs(mm - 85) < 1e-9);
    assert_int_equal(cl_plot_parse_length("18cm", &mm, &e), CL_OK);
    assert_true(fabs(mm - 180) < 1e-9);
    assert_int_equal(cl_plot_parse_length("3.5in", &mm, &e), CL_OK);
    assert_true(fabs(mm - 88.9) < 1e-9);
    assert_int_equal(cl_plot_parse_length("120", &mm, &e), CL_OK);
    assert_int_equal(cl_plot_parse_length("85px", &mm, &e), CL_ERR_ARG);
    assert_int_equal(cl_plot_parse_length("5mm", &mm, &e), CL_ERR_ARG);
    assert_int_equal(cl_plot_parse_length("", &mm, &e), CL_ERR_ARG);
    const char *t;
    assert_true(cl_plot_time_axis(300, &t) == 1);
    assert_string_equal(t, "Time (s)");
    assert_true(cl_plot_time_axis(301, &t) == 60);
    assert_string_equal(t, "Time (min)");
    char buf[64];
    cl_plot_vacuum_title(CL_UNIT_MMHG, buf, sizeof buf);
    assert_string_equal(buf, "Vacuum below ambient (mmHg)");
    cl_plot_size sz = {1200, 800, 0, 0};
    assert_true(cl_plot_width_mm(&sz) == CL_PLOT_DEFAULT_MM);
    sz.width_mm = 85;
    assert_true(cl_plot_width_mm(&sz) == 85);
}

static void test_errors(void **state)
{
    (void)state;
    cl_sensor_calibration d, empty;
    cl_error e;
    char path[128];
    calibration(&d);
    assert_string_equal(cl_plot_device("a/b.png"), "pngcairo");
    assert_string_equal(cl_plot_device("x.Pdf"), "pdfcairo");
    assert_null(cl_plot_device("x.jpg"));
    assert_null(cl_plot_device("x.d/png"));
    assert_null(cl_plot_device("png"));
    assert_null(cl_plot_device(NULL));
    snprintf(path, sizeof path, "%s/r.gif", dir);
    assert_int_equal(cl_calplot_residuals(&d, CL_UNIT_KPA, &px, path, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "r.gif"));
    assert_int_equal(access(path, F_OK), -1); /* nothing created */
    snprintf(path, sizeof path, "%s/no/such/dir/r.png", dir);
    assert_true(cl_calplot_residuals(&d, CL_UNIT_KPA, &px, path, &e) != CL_OK);
    assert_non_null(strstr(e.msg, "no/such/dir"));
    cl_sensor_calibration_init(&empty);
    snprintf(path, sizeof path, "%s/e.png", dir);
    assert_int_equal(cl_calplot_residuals(&empty, CL_UNIT_KPA, &px, path, &e), CL_ERR_ARG);
    /* and drawing still works afterwards */
    assert_int_equal(cl_calplot_residuals(&d, CL_UNIT_KPA, &px, path, &e), CL_OK);
    cl_sensor_calibration_release(&d);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_svg_pdf),
        cmocka_unit_test(test_decay_figure),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_axes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
