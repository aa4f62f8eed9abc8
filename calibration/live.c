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

/* A live calibration under way. */
typedef struct live_session {
    const cal_options *o;
    cl_unit ref_unit; /* of the reference values typed in */
    char *serial;     /* the sensor's, as the device announces it */
    size_t serial_cap;
    linebuf *lb;
    cl_live *l;
    cl_calfile_points_log *lg;
    cl_sensor_point *v; /* the points taken */
    size_t nv, cap;
    int rc;     /* the port's failure, after STEP_PORT */
    int code;   /* the exit code, after STEP_EXIT */
    cl_error e; /* what went wrong last */
    char line[LINE_MAX_BYTES];
} live_session;

/* How a step of taking a point ended. */
typedef enum live_step {
    STEP_ON,    /* on with the point; after the last step, it is taken */
    STEP_AGAIN, /* the point is not taken: the same number again */
    STEP_DONE,  /* the operator is done */
    STEP_PORT,  /* the port failed (rc, e) */
    STEP_EXIT   /* the session ends with exit code `code` */
} live_step;

/* The operator's answer, trimmed, in *ans: read_line's result, a failure
 * of the port also kept in s->rc. */
static int answer(live_session *s, char **ans)
{
    int rc = read_line(s->lb, s->l, s->line, sizeof s->line, &s->e);
    if (rc < 0)
        s->rc = rc;
    *ans = trim(s->line);
    return rc;
}

/* "Set the pressure": Enter (or a direction first) measures point k. */
static live_step ask_setpoint(live_session *s, unsigned k, cl_direction *dir)
{
    char *ans;
    prompt("point %u: set the pressure, then press Enter (q to finish): ", k);
    int rc = answer(s, &ans);
    if (rc < 0)
        return STEP_PORT;
    if (rc == 0 || strcasecmp(ans, "q") == 0 || strcasecmp(ans, "quit") == 0) {
        prompt("\n");
        return STEP_DONE;
    }
    int d = cl_direction_from_name(ans);
    if (d == -2) {
        prompt("point %u: '%s' is not understood (Enter, up, down or q)\n", k, ans);
        return STEP_AGAIN;
    }
    *dir = (cl_direction)d;
    return STEP_ON;
}

/* The stable reading of point k, shown to the operator. */
static live_step measure(live_session *s, unsigned k, cl_live_reading *r)
{
    const cal_options *o = s->o;
    int rc = cl_live_measure(s->l, o->samples, o->stable_sd, o->settle_s, r, &s->e);
    if (rc == CL_ERR_RANGE) {
        prompt("point %u: %s; not taken\n", k, s->e.msg);
        return STEP_AGAIN;
    }
    if (rc != CL_OK) {
        s->rc = rc;
        return STEP_PORT;
    }
    if (!*s->serial && o->channel < CL_WIRE_MAX_CHANNELS)
        snprintf(s->serial, s->serial_cap, "%s",
                 cl_live_ident(s->l)->sensor_serial[o->channel]);
    if (isfinite(r->t_first))
        prompt("point %u: raw %.4f counts (SD %.3f, %zu samples, device time %.17g..%.17g)\n",
               k, r->mean, r->sd, r->n, r->t_first, r->t_last);
    else
        prompt("point %u: raw %.4f counts (SD %.3f, %zu samples)\n", k, r->mean, r->sd, r->n);
    return STEP_ON;
}

/* The reference gauge's value at point k, asked until it is understood:
 * the point is kept (STEP_ON) or discarded. */
static live_step ask_reference(live_session *s, unsigned k, cl_direction dir,
                               const cl_live_reading *r)
{
    for (;;) {
        char *ans;
        double kpa;
        prompt("point %u: reference pressure in %s (Enter to discard): ", k,
               cl_unit_name(s->ref_unit));
        int rc = answer(s, &ans);
        if (rc < 0)
            return STEP_PORT;
        if (rc == 0 || strcasecmp(ans, "q") == 0) {
            prompt("\npoint %u discarded\n", k);
            return STEP_DONE;
        }
        if (!*ans) {
            prompt("point %u discarded\n", k);
            return STEP_AGAIN;
        }
        if (cl_unit_parse_kpa(ans, s->ref_unit, &kpa, &s->e) != CL_OK) {
            prompt("point %u: %s\n", k, s->e.msg);
            continue;
        }
        cl_sensor_point pt = {.ref_kpa = kpa,
                              .raw = r->mean,
                              .raw_sd = r->sd,
                              .n_samples = (unsigned)r->n,
                              .direction = dir,
                              .temperature_c = NAN,
                              .fit_kpa = NAN,
                              .residual_kpa = NAN,
                              .u_kpa = NAN};
        s->code = keep_point(s->lg, &s->v, &s->nv, &s->cap, &pt);
        return s->code == CAL_EXIT_OK ? STEP_ON : STEP_EXIT;
    }
}

/* Points one after the other, numbered on from those already taken, until
 * the operator is done or the session cannot go on. */
static live_step take_points(live_session *s)
{
    for (unsigned k = (unsigned)s->nv + 1;; k++) {
        cl_direction dir = CL_DIR_UNKNOWN;
        cl_live_reading r;
        live_step st = ask_setpoint(s, k, &dir);
        if (st == STEP_ON)
            st = measure(s, k, &r);
        if (st == STEP_ON)
            st = ask_reference(s, k, dir, &r);
        if (st == STEP_AGAIN)
            k--;
        else if (st != STEP_ON)
            return st;
    }
}

/* The port failed: the error, and what became of the points taken.
 * Returns the exit code. */
static int port_failed(const live_session *s)
{
    if (s->lg && s->nv)
        cal_error("%s; the %zu points taken are kept in %s (continue with --resume)", s->e.msg,
                  s->nv, s->o->save_points);
    else if (s->nv)
        cal_error("%s; the %zu points taken are lost (--save-points FILE keeps them)", s->e.msg,
                  s->nv);
    else
        cal_error("%s", s->e.msg);
    return port_exit(s->rc);
}

/* Open the port and take the points.  Returns an exit code. */
static int run_session(live_session *s)
{
    const cal_options *o = s->o;
    cl_live_options lo = {o->live_port,      o->baud,    o->protocol,
                          o->text_timestamp, o->channel, o->samples};
    int rc = cl_live_open(&s->l, &lo, &s->e);
    if (rc != CL_OK) {
        s->rc = rc;
        return port_failed(s);
    }
    prompt("Live calibration on %s, channel %u: %zu samples per point, stable at SD <= %g "
           "counts.\n",
           o->live_port, o->channel, o->samples, o->stable_sd);
    if (!s->lg)
        cal_warn(o, "the points are kept in memory only and lost if the device goes away "
                    "(--save-points FILE keeps them)");
    live_step st = take_points(s);
    if (st == STEP_PORT)
        return port_failed(s);
    if (st == STEP_EXIT)
        return s->code;
    if (s->nv == 0) {
        cal_error("%s: no calibration points taken", o->live_port);
        return CAL_EXIT_ERROR;
    }
    prompt("%zu points taken.\n", s->nv);
    return CAL_EXIT_OK;
}

int cal_live_points(const cal_options *o, cl_sensor_point **pts, size_t *n, char *serial,
                    size_t serial_cap)
{
    live_session s = {.o = o,
                      .ref_unit = o->ref_unit ? o->ref_unit : CL_UNIT_BARE,
                      .serial = serial,
                      .serial_cap = serial_cap};
    int code;

    *pts = NULL;
    *n = 0;
    serial[0] = '\0';
    s.lb = calloc(1, sizeof *s.lb);
    if (!s.lb) {
        cal_error("out of memory");
        return CAL_EXIT_ERROR;
    }
    if ((code = open_points_file(o, &s.lg, &s.v, &s.nv, &s.cap)) != CAL_EXIT_OK) {
        free(s.lb);
        free(s.v);
        return code;
    }
    code = run_session(&s);
    if (code == CAL_EXIT_OK) {
        *pts = s.v;
        *n = s.nv;
        s.v = NULL;
    }
    if (s.lg && s.nv == 0)
        unlink(o->save_points); /* a points file of only its header */
    free(s.v);
    free(s.lb);
    cl_live_close(s.l);
    cl_calfile_points_log_close(s.lg);
    return code;
}
