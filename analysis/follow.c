/* analysis/follow: --follow, the live view of a recording in progress.
 * Every interval the file is opened afresh (SWMR read, so the recorder is
 * never disturbed), analysed and the table redrawn; the view ends when the
 * file carries a final status, or on SIGINT/SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define PROG "cuplab-analyze"
#define STALL_TICKS 15 /* refreshes without new rows before saying so */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int an_follow(const an_options *opts, const char *path)
{
    an_options o = *opts;
    struct sigaction sa, old_int, old_term;
    bool tty = isatty(STDOUT_FILENO), said_waiting = false, said_stall = false;
    int status = AN_EXIT_OK;
    size_t last_samples = (size_t)-1, still = 0;
    char last_error[512] = "";

    o.plot = NULL;
    o.plot_dir = NULL;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    while (!stop_requested) {
        cl_error err;
        cl_error_clear(&err);
        cl_report *rep = cl_report_new(o.unit);
        if (!rep) {
            fprintf(stderr, PROG ": out of memory\n");
            status = AN_EXIT_FILE;
            break;
        }
        int rc = an_run_file(&o, path, rep, NULL, &err);
        if (rc == CL_ERR_NOTFOUND || rc == CL_ERR_IO || rc == CL_ERR_HDF5 || rc == CL_ERR_FORMAT ||
            rc == CL_ERR_BUSY) {
            /* Not there yet, being created (locked until the recorder
             * starts single-writer/multiple-reader mode), or caught between
             * two writes: try again, but say what is wrong once. */
            if (!said_waiting || strcmp(last_error, err.msg) != 0) {
                if (o.verbosity)
                    fprintf(stderr, PROG ": waiting: %s\n", err.msg);
                snprintf(last_error, sizeof last_error, "%s", err.msg);
                said_waiting = true;
            }
            cl_report_free(rep);
            pause_s(o.interval_s);
            continue;
        }
        if (rc != CL_OK) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            cl_report_free(rep);
            status = AN_EXIT_FILE;
            break;
        }
        said_waiting = false;
        o.an.nominal_ack = true; /* the fallback warning once, not every refresh */
        o.cupsets_warned = true;
        bool done = strcmp(cl_report_status(rep, 0), "recording") != 0;
        if (tty)
            fputs("\033[H\033[J", stdout);
        else if (last_samples != (size_t)-1)
            fputc('\n', stdout);
        if (cl_report_write(rep, stdout, o.format, o.wide, &err) != CL_OK) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            status = AN_EXIT_FILE;
        }
        fflush(stdout);
        /* A recording that stopped growing without a final status: the
         * recorder may have died. */
        size_t ncols, nrows, samples = 0;
        const cl_report_column *cols = cl_report_session_columns(rep, 0, &ncols, &nrows);
        for (size_t c = 0; cols && c < ncols; c++)
            if (!strcmp(cols[c].name, "samples") && cols[c].num)
                for (size_t r = 0; r < nrows; r++)
                    samples += (size_t)cols[c].num[r];
        still = samples == last_samples ? still + 1 : 0;
        last_samples = samples;
        if (still >= STALL_TICKS && !said_stall && !done && o.verbosity) {
            fprintf(stderr,
                    PROG ": %s: no new data for %.0f s and no final status (recorder gone? "
                         "'cuplab-analyze --recover' marks it interrupted)\n",
                    path, STALL_TICKS * o.interval_s);
            said_stall = true;
        }
        cl_report_free(rep);
        if (done || status != AN_EXIT_OK)
            break;
        pause_s(o.interval_s);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return status;
}
