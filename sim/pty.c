/* sim/pty: pseudo-terminal, --link symlink, reader detection and paced,
 * back-pressured I/O of the virtual device. */
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cl_log.h"
#include "cl_time.h"

#define HANGUP (POLLHUP | POLLERR | POLLNVAL)
#define DRAIN_S 2.0        /* before an unplug, wait this long for the reader to catch up */
#define DRAIN_QUIET_S 0.05 /* ... until the reader's queue stayed empty this long */

/* Sleep s seconds (less than one). */
void sim_pty_init(sim_pty *p, const char *link, volatile sig_atomic_t *stop)
{
    *p = (sim_pty){.stop = stop, .link = link, .master = -1};
}

/* Open a new pty pair in raw mode; p->master and p->slave are set.  The slave
 * is opened and closed once so that the master reports POLLHUP until a
 * reader opens it. */
static int pty_open(sim_pty *p)
{
    struct termios tio;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        cl_log(CL_LOG_ERROR, "cannot open a pseudo-terminal: %s", strerror(errno));
        return SIM_PTY_ERROR;
    }
    const char *name = NULL;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)) ||
        strlen(name) >= sizeof p->slave || tcgetattr(m, &tio) < 0) {
        cl_log(CL_LOG_ERROR, "cannot set up the pseudo-terminal: %s", strerror(errno));
        close(m);
        return SIM_PTY_ERROR;
    }
    strcpy(p->slave, name);
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    int sl = open(p->slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (tcsetattr(m, TCSANOW, &tio) < 0 || sl < 0 ||
        fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) < 0) {
        cl_log(CL_LOG_ERROR, "cannot configure %s: %s", p->slave, strerror(errno));
        if (sl >= 0)
            close(sl);
        close(m);
        return SIM_PTY_ERROR;
    }
    close(sl);
    p->master = m;
    if (p->npaths < SIM_PTY_MAX_OPENS)
        strcpy(p->paths[p->npaths++], p->slave);
    return SIM_PTY_OK;
}

/* Point the --link symlink at the current slave, atomically. */
static int link_update(const sim_pty *p)
{
    char tmp[4096];
    if (!p->link)
        return SIM_PTY_OK;
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", p->link, (long)getpid());
    unlink(tmp);
    if (symlink(p->slave, tmp) < 0 || rename(tmp, p->link) < 0) {
        cl_log(CL_LOG_ERROR, "cannot link %s -> %s: %s", p->link, p->slave, strerror(errno));
        unlink(tmp);
        return SIM_PTY_ERROR;
    }
    return SIM_PTY_OK;
}

/* Remove the --link symlink if it still points at our slave. */
static void link_remove(const sim_pty *p)
{
    char target[sizeof p->slave + 1];
    if (!p->link)
        return;
    ssize_t n = readlink(p->link, target, sizeof target - 1);
    if (n < 0)
        return;
    target[n] = '\0';
    if (!strcmp(target, p->slave))
        unlink(p->link);
}

/* Tell the user (and the tests) where the device is: first line on stdout,
 * and again after every reconnect. */
static void announce_path(const sim_pty *p)
{
    printf("%s\n", p->slave);
    fflush(stdout);
    cl_log(CL_LOG_INFO, "device on %s", p->slave);
}

/* Wait until a reader opens the slave (the master stops reporting POLLHUP). */
static int wait_reader(sim_pty *p, double wait_s)
{
    double deadline = cl_time_mono_s() + wait_s;
    for (;;) {
        struct pollfd pfd = {p->master, POLLIN, 0};
        if (*p->stop)
            return SIM_PTY_STOP;
        int r = poll(&pfd, 1, 0);
        if (r < 0 && errno != EINTR)
            return SIM_PTY_ERROR;
        if (r >= 0 && !(pfd.revents & POLLHUP)) {
            cl_log(CL_LOG_INFO, "reader connected on %s", p->slave);
            return SIM_PTY_OK;
        }
        if (cl_time_mono_s() >= deadline) {
            cl_log(CL_LOG_ERROR, "no reader opened %s within %g s", p->slave, wait_s);
            return SIM_PTY_NO_READER;
        }
        cl_time_sleep_s(0.02);
    }
}

int sim_pty_plug(sim_pty *p, double wait_s)
{
    int rc = pty_open(p);
    if (rc == SIM_PTY_OK)
        rc = link_update(p);
    if (rc != SIM_PTY_OK)
        return rc;
    announce_path(p);
    return wait_reader(p, wait_s);
}

/* Bytes written but not yet read by the reader, or -1 if unknown. */
static long unread_bytes(const sim_pty *p)
{
    int fd = open(p->slave, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    int n = -1;
    if (fd < 0)
        return -1;
    if (ioctl(fd, FIONREAD, &n) < 0)
        n = -1;
    close(fd);
    return n;
}

long sim_pty_settle(sim_pty *p)
{
    /* Data still in the pty's flip buffer is not counted yet, so the queue
     * must stay empty for a while before it is believed. */
    double give_up = cl_time_mono_s() + DRAIN_S, quiet_since = -1;
    long unread;
    for (;;) {
        unread = unread_bytes(p);
        double t = cl_time_mono_s();
        if (unread > 0)
            quiet_since = -1;
        else if (quiet_since < 0)
            quiet_since = t;
        if ((quiet_since >= 0 && t - quiet_since >= DRAIN_QUIET_S) || t >= give_up || *p->stop)
            return unread;
        cl_time_sleep_s(0.005);
    }
}

void sim_pty_close(sim_pty *p)
{
    link_remove(p);
    if (p->master >= 0)
        close(p->master);
    p->master = -1;
}

/* One poll() of the master for input and `events`.  Whatever the reader
 * wrote is discarded, unless the device hung up.  Returns poll()'s result;
 * *revents is what it reported (0 if nothing). */
static int poll_master(sim_pty *p, short events, int timeout_ms, short *revents)
{
    struct pollfd pfd = {p->master, (short)(POLLIN | events), 0};
    char junk[512];
    int r = poll(&pfd, 1, timeout_ms);
    *revents = r > 0 ? pfd.revents : 0;
    if (r > 0 && !(pfd.revents & HANGUP) && (pfd.revents & POLLIN))
        while (read(p->master, junk, sizeof junk) > 0)
            ;
    return r;
}

int sim_pty_write(sim_pty *p, const uint8_t *b, size_t n, size_t *written)
{
    size_t off = 0;
    int rc = SIM_PTY_OK;
    while (off < n) {
        short ev;
        int r = poll_master(p, POLLOUT, 100, &ev);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = SIM_PTY_ERROR;
            break;
        }
        if (r == 0) {
            if (*p->stop) {
                rc = SIM_PTY_STOP;
                break;
            }
            continue;
        }
        if (ev & HANGUP) {
            rc = SIM_PTY_GONE;
            break;
        }
        if (!(ev & POLLOUT))
            continue;
        ssize_t w = write(p->master, b + off, n - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EIO) {
            rc = SIM_PTY_GONE;
            break;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            cl_log(CL_LOG_ERROR, "write to %s: %s", p->slave, strerror(errno));
            rc = SIM_PTY_ERROR;
            break;
        }
    }
    *written = off;
    return rc;
}

int sim_pty_wait_until(sim_pty *p, double due_s)
{
    for (;;) {
        if (*p->stop)
            return SIM_PTY_STOP;
        double rem = due_s - cl_time_mono_s();
        if (rem <= 0)
            return SIM_PTY_OK;
        if (rem > 0.002) {
            short ev;
            int ms = rem > 0.1 ? 100 : (int)((rem - 0.001) * 1000);
            if (poll_master(p, 0, ms, &ev) > 0 && (ev & HANGUP))
                return SIM_PTY_GONE;
            continue;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)due_s;
        ts.tv_nsec = (long)((due_s - (double)ts.tv_sec) * 1e9);
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

int sim_pty_sleep(sim_pty *p, double wall_s)
{
    double end = cl_time_mono_s() + wall_s;
    while (!*p->stop) {
        double rem = end - cl_time_mono_s();
        if (rem <= 0)
            return SIM_PTY_OK;
        cl_time_sleep_s(rem > 0.1 ? 0.1 : rem);
    }
    return SIM_PTY_STOP;
}

/* Closing the master discards what the reader has not read yet, so a
 * reader that is still there but behind (a loaded machine) gets up to
 * LINGER_BEHIND_S more to catch up. */
#define LINGER_BEHIND_S 30.0

void sim_pty_linger(sim_pty *p, double linger_s)
{
    double end = cl_time_mono_s() + linger_s;
    while (!*p->stop) {
        short ev;
        double t = cl_time_mono_s();
        if (poll_master(p, 0, 50, &ev) > 0 && (ev & HANGUP))
            return;
        if (t >= end + LINGER_BEHIND_S || (t >= end && unread_bytes(p) <= 0))
            return;
    }
}
