/* cuplab-acquire: record serial vacuum sensors into a session file. */
#include <gsl/gsl_errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cl_acq.h"
#include "cl_cli.h"
#include "cl_log.h"
#include "cl_output.h"
#include "cl_port.h"
#include "cl_profile.h"
#include "cl_sensor.h"
#include "cl_units.h"
#include "live.h"
#include "device.h"
#include "options.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct status_ctx {
    const char *path;
    bool tty;
    int verbosity;
    cl_sensor_profile *sensors[ACQ_MAX_PROFILES]; /* --profile files of kind sensor */
    size_t nsensors;
} status_ctx;

/* Live status: one rewritten line on a terminal, a log line every 10 s
 * with -v otherwise. */
static void show_status(void *ctx, const cl_acq_status *st)
{
    status_ctx *sc = ctx;
    struct stat sb;
    char line[1024];
    int n;

    if (sc->verbosity == 0 || (!sc->tty && (sc->verbosity < 2 || (long)st->elapsed_s % 10)))
        return;
    n = snprintf(line, sizeof line, "%7.1f s  %llu rows  %.1f MB", st->elapsed_s,
                 (unsigned long long)st->rows_written,
                 stat(sc->path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0);
    for (size_t i = 0; i < st->ndevices && n < (int)sizeof line - 80; i++) {
        const cl_acq_device_status *d = &st->devices[i];
        n += snprintf(line + n, sizeof line - (size_t)n, " | %s%s %.0f Hz err %llu", d->port,
                      d->connected ? "" : " GONE", d->rate_hz,
                      (unsigned long long)(d->counters.malformed + d->counters.checksum_errors +
                                           d->counters.lost_frames + d->counters.overruns));
    }
    /* per cup: gauge pressure in mmHg when its sensor has a profile, else raw */
    n += snprintf(line + n, sizeof line - (size_t)n, " |");
    for (size_t k = 0; k < st->ncups && n < (int)sizeof line - 40; k++) {
        const cl_acq_cup *c = &st->cups[k];
        double raw = st->devices[c->device].last[c->channel];
        const cl_sensor_profile *p = cl_sensor_profile_find(
            (const cl_sensor_profile *const *)sc->sensors, sc->nsensors, c->sensor_serial);
        if (p)
            n += snprintf(line + n, sizeof line - (size_t)n, " %s %.0f mmHg", c->cup_id,
                          cl_unit_from_kpa(cl_sensor_profile_kpa(p, raw), CL_UNIT_MMHG));
        else
            n += snprintf(line + n, sizeof line - (size_t)n, " %s %.0f", c->cup_id, raw);
    }
    if (sc->tty)
        fprintf(stderr, "\r%s\033[K", line);
    else
        fprintf(stderr, "cuplab-acquire: %s\n", line);
}

/* Read the --profile files for the session's copy.  A file that is not a
 * cuplab profile stops the start; an expired sensor profile is recorded with
 * a warning (the recording matters more; analysis flags it). */
static int load_profiles(acq_options *o, char **texts, status_ctx *sc)
{
    for (size_t i = 0; i < o->nprofiles; i++) {
        const char *path = o->profile_paths[i], *kind;
        cl_error err;
        if (cl_profile_read_file(path, &texts[i], &err) != CL_OK) {
            fprintf(stderr, "cuplab-acquire: %s\n", err.msg);
            return ACQ_EXIT_USAGE;
        }
        kind = cl_profile_kind(texts[i]);
        if (!kind) {
            fprintf(stderr, "cuplab-acquire: %s: not a cuplab calibration profile\n", path);
            return ACQ_EXIT_USAGE;
        }
        if (strcmp(kind, "sensor") == 0) {
            cl_sensor_profile *p;
            if (cl_sensor_profile_parse(texts[i], &p, &err) != CL_OK) {
                fprintf(stderr, "cuplab-acquire: %s: %s\n", path, err.msg);
                return ACQ_EXIT_USAGE;
            }
            if (cl_sensor_profile_check_valid(p, time(NULL), &err) != CL_OK)
                fprintf(stderr, "cuplab-acquire: warning: %s: %s\n", path, err.msg);
            sc->sensors[sc->nsensors++] = p;
        }
    }
    o->cfg.meta.profiles = (const char *const *)texts;
    o->cfg.meta.nprofiles = o->nprofiles;
    return -1;
}

/* One line per rejected or cut marker, quoting the start of a long line. */
static void marker_feedback(void *ctx, const char *line, bool accepted, const char *why)
{
    const status_ctx *sc = ctx;
    char quote[64];
    if (!why)
        return;
    size_t n = cl_session_utf8_copy(quote, sizeof quote - 3, line);
    if (n < strlen(line))
        strcpy(quote + n, "...");
    fprintf(stderr, "%scuplab-acquire: %s '%s': %s\n", sc->tty && sc->verbosity > 0 ? "\n" : "",
            accepted ? "warning: marker" : "ignored", quote, why);
}

/* Ctrl-C, SIGTERM and SIGHUP stop the recording; a closed pipe or a file
 * size limit is a write error, not a crash. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

/* What became of the recording, and the exit status it makes. */
static int finish(const acq_options *o, const status_ctx *sc, int rc, const cl_error *err,
                  const cl_acq_report *report)
{
    if (sc->tty && o->verbosity > 0 && report->file_created)
        fputc('\n', stderr);
    if (rc != CL_OK) {
        fprintf(stderr, "cuplab-acquire: %s\n", err->msg[0] ? err->msg : cl_strerror(rc));
        if (!report->file_created)
            return rc == CL_ERR_EXISTS ? ACQ_EXIT_USAGE : ACQ_EXIT_NOSTART;
        fprintf(stderr, "cuplab-acquire: %s holds the data up to the last flush\n", o->cfg.path);
        return ACQ_EXIT_FAILED;
    }
    if (o->verbosity > 0)
        fprintf(stderr, "cuplab-acquire: %s: %llu rows in %.1f s (%s)\n", o->cfg.path,
                (unsigned long long)report->rows_written, report->elapsed_s,
                report->reason == CL_ACQ_STOP_DURATION   ? "duration reached"
                : report->reason == CL_ACQ_STOP_ALL_GONE ? "all devices disconnected"
                : report->reason == CL_ACQ_STOP_END      ? "end of capture"
                                                         : "stopped");
    if (report->overruns > 0) { /* said even with -q: the exit status is not 0 */
        fprintf(stderr,
                "cuplab-acquire: warning: %s: %llu frames (%.1f %%) dropped, the writer could "
                "not keep up (see its overrun events)\n",
                o->cfg.path, (unsigned long long)report->overruns,
                100.0 * (double)report->overruns /
                    (double)(report->overruns + report->rows_written));
        return ACQ_EXIT_LOSS;
    }
    return ACQ_EXIT_OK;
}

/* Record: outputs checked first, profiles loaded, the live view started,
 * then the recording until it ends. */
static int record(acq_options *o)
{
    cl_acq_report report;
    cl_error err;
    status_ctx sc;
    cl_acq_input input = {.fd = -1, .feedback = marker_feedback, .ctx = &sc};
    int rc;

    /* The outputs before any port or profile: an existing one is a usage error. */
    const char *outputs[] = {o->cfg.path, o->cfg.raw_path};
    if ((rc = cl_output_check_all(outputs, 2, o->cfg.force, &err)) != CL_OK) {
        fprintf(stderr, "cuplab-acquire: %s\n", err.msg);
        return rc == CL_ERR_EXISTS ? ACQ_EXIT_USAGE : ACQ_EXIT_NOSTART;
    }
    char *profiles[ACQ_MAX_PROFILES] = {NULL};
    sc = (status_ctx){.path = o->cfg.path, .tty = isatty(STDERR_FILENO) != 0,
                      .verbosity = o->verbosity};
    if ((rc = load_profiles(o, profiles, &sc)) >= 0)
        return rc;
    catch_signals();
    if (o->markers && !o->cfg.replay_path)
        input.fd = STDIN_FILENO;
    acq_live live = {0};
    if (o->live) {
        char url[256];
        if (acq_live_start(&live, o, (const cl_sensor_profile *const *)sc.sensors, sc.nsensors,
                           &err) != CL_OK) {
            fprintf(stderr, "cuplab-acquire: --live: %s\n", err.msg);
            return ACQ_EXIT_NOSTART;
        }
        acq_live_url(&live, o, url, sizeof url);
        fprintf(stderr, "cuplab-acquire: live view at %s\n", url);
    }
    cl_error_clear(&err);
    rc = cl_acq_run(&o->cfg, &stop_requested, show_status, &sc, &input, &report, &err);
    acq_live_stop(&live);
    for (size_t i = 0; i < o->nprofiles; i++)
        free(profiles[i]);
    for (size_t i = 0; i < sc.nsensors; i++)
        cl_sensor_profile_free(sc.sensors[i]);
    return finish(o, &sc, rc, &err, &report);
}

int main(int argc, char **argv)
{
    static acq_options o; /* static: its config arguments live until exit */
    int rc = acq_options_parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    gsl_set_error_handler_off(); /* GSL errors are returned, not fatal */
    cl_log_set_prefix("cuplab-acquire");
    cl_cli_set_verbosity(o.verbosity);
    if (o.list_ports)
        return acq_device_list(&o);
    if (o.identify)
        return acq_device_identify(&o);
    if (o.configure)
        return acq_device_configure(&o);
    return record(&o);
}
