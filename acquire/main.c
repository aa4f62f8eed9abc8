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
#include "status.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct profiles {
    cl_sensor_profile *sensors[ACQ_MAX_PROFILES]; /* --profile files of kind sensor */
    size_t nsensors;
} profiles;

/* Read the --profile files for the session's copy.  A file that is not a
 * cuplab profile stops the start; an expired sensor profile is recorded with
 * a warning (the recording matters more; analysis flags it). */
static int load_profiles(acq_options *o, char **texts, profiles *sc)
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

/* One line per marker: recorded (not with -q), recorded with a warning (its
 * comment was cut) or why it was ignored, quoting the start of a long line. */
static void marker_feedback(void *ctx, const char *line, bool accepted, const char *why)
{
    const acq_status *st = ctx;
    char quote[64];
    size_t n = cl_session_utf8_copy(quote, sizeof quote - 3, line);
    if (n < strlen(line))
        strcpy(quote + n, "...");
    if (accepted && !why && st->verbosity > 0)
        fprintf(stderr, "cuplab-acquire: marker recorded: '%s'\n", quote);
    else if (!accepted || why)
        fprintf(stderr, "cuplab-acquire: %s '%s': %s\n", accepted ? "warning: marker" : "ignored",
                quote, why);
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
static int finish(const acq_options *o, int rc, const cl_error *err,
                  const cl_acq_report *report)
{
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
    profiles pr = {0};
    acq_status st;
    cl_acq_input input = {.fd = -1, .feedback = marker_feedback, .ctx = &st};
    int rc;

    /* The outputs before any port or profile: an existing one is a usage error. */
    const char *outputs[] = {o->cfg.path, o->cfg.raw_path};
    if ((rc = cl_output_check_all(outputs, 2, o->cfg.force, &err)) != CL_OK) {
        fprintf(stderr, "cuplab-acquire: %s\n", err.msg);
        return rc == CL_ERR_EXISTS ? ACQ_EXIT_USAGE : ACQ_EXIT_NOSTART;
    }
    char *texts[ACQ_MAX_PROFILES] = {NULL};
    if ((rc = load_profiles(o, texts, &pr)) >= 0)
        return rc;
    const cl_sensor_profile *const *sensors = (const cl_sensor_profile *const *)pr.sensors;
    acq_status_init(&st, stderr, isatty(STDERR_FILENO) != 0, o->verbosity, o->cfg.path, sensors,
                    pr.nsensors);
    catch_signals();
    if (o->markers && !o->cfg.replay_path)
        input.fd = STDIN_FILENO;
    acq_live live = {0};
    if (o->live.on) {
        char url[256];
        if (acq_live_start(&live, o, sensors, pr.nsensors, &err) != CL_OK) {
            fprintf(stderr, "cuplab-acquire: --live: %s\n", err.msg);
            return ACQ_EXIT_NOSTART;
        }
        cl_web_url(live.web, url, sizeof url);
        fprintf(stderr, "cuplab-acquire: live view at %s\n", url);
    }
    cl_error_clear(&err);
    rc = cl_acq_run(&o->cfg, &stop_requested, acq_status_show, &st, &input, &report, &err);
    acq_status_end(&st);
    acq_live_stop(&live);
    for (size_t i = 0; i < o->nprofiles; i++)
        free(texts[i]);
    for (size_t i = 0; i < pr.nsensors; i++)
        cl_sensor_profile_free(pr.sensors[i]);
    return finish(o, rc, &err, &report);
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
