/*
 * calibration/live: a live calibration session with the operator.  At each
 * setpoint the operator sets the pressure and presses Enter; the program
 * waits until the reading is stable, averages it, shows it, and asks for the
 * reference gauge's value.  Prompts go to stderr, answers come from stdin
 * (a terminal or a pipe).  While waiting for the operator the port is kept
 * drained, so a reading is always fresh.
 *
 * Answers: at the "set the pressure" prompt, Enter measures ("up"/"down"
 * first sets the direction of the point), "q" or end of input finishes; at
 * the reference prompt, a pressure with an optional unit, empty to discard
 * the point, "q" to discard it and finish.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "calibrate.h"
#include "engine/cl_calfile.h"
#include "engine/cl_live.h"

#define LINE_MAX_BYTES 1024

/* Lines from stdin read with poll(), so the port can be served meanwhile. */
typedef struct linebuf {
    char buf[4 * LINE_MAX_BYTES];
    size_t len;
    bool eof;
} linebuf;

/* Next line into out (without the newline).  1: a line, 0: end of input,
 * negative: a cl_status from the port. */
static int read_line(linebuf *lb, cl_live *l, char *out, size_t cap, cl_error *err)
{
    for (;;) {
        char *nl = memchr(lb->buf, '\n', lb->len);
        if (nl || (lb->eof && lb->len) || lb->len == sizeof lb->buf) {
            size_t n = nl ? (size_t)(nl - lb->buf) : lb->len;
            size_t c = n < cap - 1 ? n : cap - 1;
            memcpy(out, lb->buf, c);
            out[c] = '\0';
            if (c && out[c - 1] == '\r')
                out[c - 1] = '\0';
            size_t used = nl ? n + 1 : n;
            memmove(lb->buf, lb->buf + used, lb->len - used);
            lb->len -= used;
            return 1;
        }
        if (lb->eof)
            return 0;
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {cl_live_fd(l), POLLIN, 0}};
        int r = poll(p, 2, 200);
        if (r < 0 && errno != EINTR)
            return cl_error_set(err, CL_ERR_IO, "standard input: %s", strerror(errno));
        /* The operator's answer first: one typed as the device went away
         * still counts. */
        if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(STDIN_FILENO, lb->buf + lb->len, sizeof lb->buf - lb->len);
            if (n < 0 && errno != EINTR && errno != EAGAIN)
                return cl_error_set(err, CL_ERR_IO, "standard input: %s", strerror(errno));
            if (n == 0)
                lb->eof = true;
            if (n > 0)
                lb->len += (size_t)n;
            if (n > 0 && memchr(lb->buf + lb->len - n, '\n', (size_t)n))
                continue;
        }
        if (r > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            int rc = cl_live_pump(l, err);
            if (rc != CL_OK)
                return rc;
        }
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void prompt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void prompt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

/* Append point `p` to the growing array, and to the points file if any.
 * Returns an exit code. */
static int keep_point(cl_calfile_points_log *lg, cl_sensor_point **v, size_t *nv, size_t *cap,
                      const cl_sensor_point *p)
{
    cl_error e;
    if (*nv == *cap) {
        size_t nc = *cap ? 2 * *cap : 32;
        cl_sensor_point *t = realloc(*v, nc * sizeof *t);
        if (!t) {
            cal_error("out of memory");
            return CAL_EXIT_ERROR;
        }
        *v = t;
        *cap = nc;
    }
    (*v)[(*nv)++] = *p;
    if (lg && cl_calfile_points_log_add(lg, p, &e) != CL_OK) {
        cal_error("%s", e.msg);
        return CAL_EXIT_ERROR;
    }
    return CAL_EXIT_OK;
}

/* The points file of --save-points: the earlier points with --resume, then
 * open for appending; or created afresh.  Returns an exit code. */
static int open_points_file(const cal_options *o, cl_calfile_points_log **lg,
                            cl_sensor_point **v, size_t *nv, size_t *cap)
{
    cl_error e;
    int rc;
    *lg = NULL;
    if (!o->save_points)
        return CAL_EXIT_OK;
    if (o->resume) {
        if (cl_calfile_sensor_points(o->save_points, o->ref_unit, v, nv, &e) != CL_OK) {
            cal_error("%s", e.msg);
            return CAL_EXIT_ERROR;
        }
        *cap = *nv;
    }
    rc = cl_calfile_points_log_open(lg, o->save_points, o->force, o->resume, &e);
    if (rc != CL_OK) {
        cal_error("%s", e.msg);
        return rc == CL_ERR_EXISTS ? CAL_EXIT_USAGE : CAL_EXIT_ERROR;
    }
    if (o->resume)
        prompt("Resuming with the %zu points of %s.\n", *nv, o->save_points);
    return CAL_EXIT_OK;
}

static int port_exit(int rc)
{
    return rc == CL_ERR_GONE || rc == CL_ERR_PORT || rc == CL_ERR_NOTFOUND ||
                   rc == CL_ERR_BUSY || rc == CL_ERR_PERM
               ? CAL_EXIT_PORT
               : CAL_EXIT_ERROR;
}

int cal_live_points(const cal_options *o, cl_sensor_point **pts, size_t *n, char *serial,
                    size_t serial_cap)
{
    cl_live *l = NULL;
    cl_live_options lo = {o->live_port,      o->baud,    o->protocol,
                          o->text_timestamp, o->channel, o->samples};
    linebuf *lb = calloc(1, sizeof *lb);
    cl_sensor_point *v = NULL;
    size_t nv = 0, cap = 0;
    cl_error e;
    char line[LINE_MAX_BYTES];
    int code = CAL_EXIT_OK, rc;
    cl_unit ref_unit = o->ref_unit ? o->ref_unit : CL_UNIT_KPA;
    bool done = false;
    cl_calfile_points_log *lg = NULL;

    *pts = NULL;
    *n = 0;
    serial[0] = '\0';
    if (!lb) {
        cal_error("out of memory");
        return CAL_EXIT_ERROR;
    }
    if ((code = open_points_file(o, &lg, &v, &nv, &cap)) != CAL_EXIT_OK) {
        free(lb);
        free(v);
        return code;
    }
    rc = cl_live_open(&l, &lo, &e);
    if (rc != CL_OK) {
        code = port_exit(rc);
        goto port_fail;
    }
    prompt("Live calibration on %s, channel %u: %zu samples per point, stable at SD <= %g "
           "counts.\n",
           o->live_port, o->channel, o->samples, o->stable_sd);
    if (!lg)
        cal_warn(o, "the points are kept in memory only and lost if the device goes away "
                    "(--save-points FILE keeps them)");
    for (unsigned k = (unsigned)nv + 1; !done; k++) {
        cl_direction dir = CL_DIR_UNKNOWN;
        prompt("point %u: set the pressure, then press Enter (q to finish): ", k);
        rc = read_line(lb, l, line, sizeof line, &e);
        if (rc < 0)
            goto port_fail;
        char *ans = trim(line);
        if (rc == 0 || strcasecmp(ans, "q") == 0 || strcasecmp(ans, "quit") == 0) {
            prompt("\n");
            break;
        }
        int d = cl_direction_from_name(ans);
        if (d == -2) {
            prompt("point %u: '%s' is not understood (Enter, up, down or q)\n", k, ans);
            k--;
            continue;
        }
        dir = (cl_direction)d;
        cl_live_reading r;
        rc = cl_live_measure(l, o->samples, o->stable_sd, o->settle_s, &r, &e);
        if (rc == CL_ERR_RANGE) {
            prompt("point %u: %s; not taken\n", k, e.msg);
            k--;
            continue;
        }
        if (rc != CL_OK)
            goto port_fail;
        if (!*serial && o->channel < CL_WIRE_MAX_CHANNELS)
            snprintf(serial, serial_cap, "%s", cl_live_ident(l)->sensor_serial[o->channel]);
        if (isfinite(r.t_first))
            prompt(
                "point %u: raw %.4f counts (SD %.3f, %zu samples, device time %.17g..%.17g)\n",
                k, r.mean, r.sd, r.n, r.t_first, r.t_last);
        else
            prompt("point %u: raw %.4f counts (SD %.3f, %zu samples)\n", k, r.mean, r.sd, r.n);
        for (;;) {
            prompt("point %u: reference pressure in %s (Enter to discard): ", k,
                   cl_unit_name(ref_unit));
            rc = read_line(lb, l, line, sizeof line, &e);
            if (rc < 0)
                goto port_fail;
            ans = trim(line);
            if (rc == 0 || strcasecmp(ans, "q") == 0) {
                prompt("\npoint %u discarded\n", k);
                done = true;
                break;
            }
            if (!*ans) {
                prompt("point %u discarded\n", k);
                k--;
                break;
            }
            double kpa;
            if (cl_unit_parse_kpa(ans, ref_unit, &kpa, &e) != CL_OK) {
                prompt("point %u: %s\n", k, e.msg);
                continue;
            }
            cl_sensor_point pt = {.ref_kpa = kpa,
                                  .raw = r.mean,
                                  .raw_sd = r.sd,
                                  .n_samples = (unsigned)r.n,
                                  .direction = dir,
                                  .temperature_c = NAN,
                                  .fit_kpa = NAN,
                                  .residual_kpa = NAN,
                                  .u_kpa = NAN};
            if ((code = keep_point(lg, &v, &nv, &cap, &pt)) != CAL_EXIT_OK)
                goto out;
            break;
        }
    }
    if (nv == 0) {
        cal_error("%s: no calibration points taken", o->live_port);
        code = CAL_EXIT_ERROR;
        goto out;
    }
    prompt("%zu points taken.\n", nv);
    *pts = v;
    *n = nv;
    v = NULL;
    goto out;
port_fail:
    code = port_exit(rc);
    if (lg && nv)
        cal_error("%s; the %zu points taken are kept in %s (continue with --resume)", e.msg, nv,
                  o->save_points);
    else if (nv)
        cal_error("%s; the %zu points taken are lost (--save-points FILE keeps them)", e.msg, nv);
    else
        cal_error("%s", e.msg);
out:
    if (lg && nv == 0)
        unlink(o->save_points); /* a points file of only its header */
    free(v);
    free(lb);
    cl_live_close(l);
    cl_calfile_points_log_close(lg);
    return code;
}
