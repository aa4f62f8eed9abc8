/* analysis/follow: --follow, the live view of a recording in progress.
 * Every interval the file is opened afresh (SWMR read, so the recorder is
 * never disturbed), analysed and the table redrawn, and with --live the
 * page of the live view given the new rows; the view ends when the file
 * carries a final status, or on SIGINT/SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
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

/* What following a recording remembers between refreshes. */
typedef struct follow_state {
    an_live *live; /* --live; NULL: none */
    bool tty, said_waiting, said_stall;
    size_t last_samples, still; /* rows seen at the last refresh; refreshes without new ones */
    char last_error[512];
} follow_state;

/* A file that is not there yet, being created (locked until the recorder
 * starts single-writer/multiple-reader mode), or caught between two
 * writes: tried again, what is wrong said once. */
static bool not_ready(const an_options *o, int rc, const cl_error *err, follow_state *f)
{
    if (rc != CL_ERR_NOTFOUND && rc != CL_ERR_IO && rc != CL_ERR_HDF5 && rc != CL_ERR_FORMAT &&
        rc != CL_ERR_BUSY)
        return false;
    if (!f->said_waiting || strcmp(f->last_error, err->msg) != 0) {
        if (o->verbosity)
            fprintf(stderr, PROG ": waiting: %s\n", err->msg);
        snprintf(f->last_error, sizeof f->last_error, "%s", err->msg);
        f->said_waiting = true;
    }
    return true;
}

/* A recording that stopped growing without a final status: the recorder
 * may have died (said once). */
static void watch_stall(const an_options *o, const char *path, cl_report *rep, bool done,
                        follow_state *f)
{
    size_t ncols, nrows, samples = 0;
    const cl_report_column *cols = cl_report_session_columns(rep, 0, &ncols, &nrows);
    for (size_t c = 0; cols && c < ncols; c++)
        if (!strcmp(cols[c].name, "samples") && cols[c].num)
            for (size_t r = 0; r < nrows; r++)
                samples += (size_t)cols[c].num[r];
    f->still = samples == f->last_samples ? f->still + 1 : 0;
    f->last_samples = samples;
    if (f->still >= STALL_TICKS && !f->said_stall && !done && o->verbosity) {
        fprintf(stderr,
                PROG ": %s: no new data for %.0f s and no final status (recorder gone? "
                     "'cuplab-analyze --recover' marks it interrupted)\n",
                path, STALL_TICKS * o->interval_s);
        f->said_stall = true;
    }
}

/* One refresh: the table again; *done when the recording has ended. */
static int refresh(an_options *o, const char *path, follow_state *f, bool *done)
{
    cl_error err;
    cl_error_clear(&err);
    *done = false;
    cl_report *rep = cl_report_new(o->unit);
    if (!rep) {
        fprintf(stderr, PROG ": out of memory\n");
        return AN_EXIT_FILE;
    }
    int rc = an_run_file(o, path, rep, NULL, &err), status = AN_EXIT_OK;
    if (not_ready(o, rc, &err, f))
        goto out;
    if (rc != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        status = AN_EXIT_FILE;
        goto out;
    }
    f->said_waiting = false;
    o->an.nominal_ack = true; /* the fallback warning once, not every refresh */
    o->cupsets_warned = true;
    *done = strcmp(cl_report_status(rep, 0), "recording") != 0;
    if (f->tty)
        fputs("\033[H\033[J", stdout);
    else if (f->last_samples != (size_t)-1)
        fputc('\n', stdout);
    if (cl_report_write(rep, stdout, o->format, o->wide, &err) != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        status = AN_EXIT_FILE;
    }
    fflush(stdout);
    watch_stall(o, path, rep, *done, f);
out:
    cl_report_free(rep);
    return status;
}

/* The live view's new rows, after the table's refresh (one reader of the
 * file at a time). */
static int refresh_live(const an_options *o, const char *path, follow_state *f)
{
    cl_error err;
    cl_error_clear(&err);
    int rc = f->live ? an_live_update(f->live, path, &err) : CL_OK;
    if (rc == CL_OK || not_ready(o, rc, &err, f))
        return AN_EXIT_OK;
    fprintf(stderr, PROG ": --live: %s\n", err.msg);
    return AN_EXIT_FILE;
}

/* --live: the server, and where to find it (said even with -q). */
static int start_live(const an_options *o, follow_state *f)
{
    cl_error err;
    char url[256];
    if (!o->live.on)
        return AN_EXIT_OK;
    if (an_live_start(&f->live, o, &err) != CL_OK) {
        fprintf(stderr, PROG ": --live: %s\n", err.msg);
        return AN_EXIT_LIVE;
    }
    an_live_url(f->live, url, sizeof url);
    fprintf(stderr, PROG ": live view at %s\n", url);
    return AN_EXIT_OK;
}

int an_follow(const an_options *opts, const char *path)
{
    an_options o = *opts;
    struct sigaction sa, old_int, old_term;
    follow_state f = {.tty = isatty(STDOUT_FILENO), .last_samples = (size_t)-1};
    int status = AN_EXIT_OK;
    bool done = false;

    o.plot = NULL;
    o.plot_dir = NULL;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if ((status = start_live(&o, &f)) == AN_EXIT_OK)
        while (!stop_requested && (status = refresh(&o, path, &f, &done)) == AN_EXIT_OK &&
               (status = refresh_live(&o, path, &f)) == AN_EXIT_OK && !done)
            pause_s(o.interval_s);
    an_live_stop(f.live);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return status;
}
