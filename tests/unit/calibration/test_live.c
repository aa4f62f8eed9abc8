/*
 * Unit tests of cl_live over a real pseudo-terminal: a writer thread plays
 * a device (announcement, then text frames whose values are known), and the
 * reading taken must be the mean of exactly the frames sent after the
 * measurement started, once they are stable.  Also: the stability test, a
 * reading that never settles, a channel the device does not have, and the
 * device going away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "engine/cl_live.h"

typedef struct device {
    int master;
    char slave[64];
    pthread_t thread;
    volatile int stop;
    int mode;     /* 0 steady 1000/2000 + ramp, 1 noisy forever */
    double level; /* channel 1 value in steady mode */
} device;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void put(device *d, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(d->master, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Frames every 2 ms: "t,c0,c1".  Steady mode: c0 = 1000 always, c1 = level
 * plus an alternating +-1 (mean level, SD 1); noisy mode: c1 alternates
 * +-50. */
static void *run(void *arg)
{
    device *d = arg;
    char line[128];
    put(d, "boot banner\r\n# device: test\r\n# sensor_serials: SA, SB\r\n"
           "# timestamp: first\r\n");
    for (long k = 0; !d->stop; k++) {
        double c1 = d->mode == 0 ? d->level + (k % 2 ? 1 : -1) : (k % 2 ? 50 : -50) + 2000;
        snprintf(line, sizeof line, "%ld,1000,%.0f\r\n", k * 2, c1);
        put(d, line);
        sleep_ms(2);
    }
    return NULL;
}

static void start(device *d, int mode, double level)
{
    memset(d, 0, sizeof *d);
    int slave;
    struct termios tio;
    assert_int_equal(openpty(&d->master, &slave, d->slave, NULL, NULL), 0);
    tcgetattr(slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    close(slave);
    d->mode = mode;
    d->level = level;
    assert_int_equal(pthread_create(&d->thread, NULL, run, d), 0);
}

static void stop(device *d)
{
    d->stop = 1;
    pthread_join(d->thread, NULL);
    if (d->master >= 0)
        close(d->master);
}

static cl_live *open_live(device *d, unsigned channel, bool text_ts)
{
    cl_live *l;
    cl_error e;
    cl_live_options o = {d->slave, 115200, CL_WIRE_TEXT, text_ts, channel, 200};
    int rc = cl_live_open(&l, &o, &e);
    if (rc != CL_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, CL_OK);
    return l;
}

static void test_reading(void **state)
{
    (void)state;
    device d;
    cl_live_reading r;
    cl_error e;
    start(&d, 0, 2500);
    cl_live *l = open_live(&d, 1, false);
    assert_int_equal(cl_live_measure(l, 100, 1.5, 10, &r, &e), CL_OK);
    /* 100 samples alternating 2499/2501: mean 2500, SD 1.005 */
    assert_int_equal(r.n, 100);
    assert_near(r.mean, 2500, 1e-9);
    assert_near(r.sd, sqrt(100.0 / 99), 1e-9);
    /* the timestamps are those of 100 consecutive frames, 2 ms apart */
    assert_near(r.t_last - r.t_first, 198, 1e-9);
    assert_string_equal(cl_live_ident(l)->sensor_serial[0], "SA");
    assert_string_equal(cl_live_ident(l)->sensor_serial[1], "SB");
    assert_string_equal(cl_live_ident(l)->device, "test");
    assert_string_equal(cl_live_ident(l)->firmware, "");
    assert_true(cl_live_stats(l)->frames >= 100);
    assert_true(cl_live_count(l) >= 100);
    /* the window: stable over 100, not with a threshold below the SD */
    assert_true(cl_live_stable(l, 100, 1.5, &r));
    assert_false(cl_live_stable(l, 100, 0.5, &r));
    assert_false(cl_live_stable(l, 1000, 1.5, &r)); /* more than the window */
    cl_live_reset(l);
    assert_int_equal(cl_live_count(l), 0);
    assert_false(cl_live_stable(l, 10, 1e9, &r));
    /* the other channel; the announcement ("# timestamp: first") is not
     * repeated, so the option says the first column is the time */
    cl_live_close(l);
    l = open_live(&d, 0, true);
    int rc = cl_live_measure(l, 50, 0.1, 10, &r, &e);
    if (rc != CL_OK)
        printf("# %s\n", e.msg);
    assert_int_equal(rc, CL_OK);
    assert_near(r.mean, 1000, 0);
    assert_near(r.sd, 0, 0);
    cl_live_close(l);
    cl_live_close(NULL);
    stop(&d);
}

static void test_not_settling(void **state)
{
    (void)state;
    device d;
    cl_live_reading r;
    cl_error e;
    start(&d, 1, 0);
    cl_live *l = open_live(&d, 1, false);
    time_t t0 = time(NULL);
    assert_int_equal(cl_live_measure(l, 50, 5, 0.5, &r, &e), CL_ERR_RANGE);
    assert_non_null(strstr(e.msg, "did not settle"));
    assert_non_null(strstr(e.msg, d.slave));
    assert_true(time(NULL) - t0 <= 2);
    /* a generous threshold accepts the same signal */
    assert_int_equal(cl_live_measure(l, 50, 60, 5, &r, &e), CL_OK);
    assert_near(r.mean, 2000, 1e-9);
    cl_live_close(l);
    stop(&d);
}

static void test_bad_channel(void **state)
{
    (void)state;
    device d;
    cl_live_reading r;
    cl_error e;
    start(&d, 0, 2500);
    cl_live *l = open_live(&d, 5, false);
    assert_int_equal(cl_live_measure(l, 50, 5, 5, &r, &e), CL_ERR_ARG);
    assert_non_null(strstr(e.msg, "channel 5 does not exist"));
    assert_non_null(strstr(e.msg, "2 channels"));
    cl_live_close(l);
    stop(&d);
}

static void test_gone_and_errors(void **state)
{
    (void)state;
    device d;
    cl_live_reading r;
    cl_error e;
    cl_live *l;
    start(&d, 0, 2500);
    l = open_live(&d, 1, false);
    stop(&d); /* the device goes away */
    d.master = -1;
    sleep_ms(20);
    int rc = cl_live_measure(l, 50, 5, 5, &r, &e);
    assert_int_equal(rc, CL_ERR_GONE);
    cl_live_close(l);

    cl_live_options o = {"/dev/does-not-exist", 115200, CL_WIRE_TEXT, false, 0, 100};
    assert_true(cl_live_open(&l, &o, &e) != CL_OK);
    assert_non_null(strstr(e.msg, "/dev/does-not-exist"));
    o.max_samples = 1;
    assert_int_equal(cl_live_open(&l, &o, &e), CL_ERR_ARG);
    o.max_samples = 100;
    o.channel = 32;
    assert_int_equal(cl_live_open(&l, &o, &e), CL_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reading),
        cmocka_unit_test(test_not_settling),
        cmocka_unit_test(test_bad_channel),
        cmocka_unit_test(test_gone_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
