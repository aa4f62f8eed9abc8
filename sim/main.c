/*
 * cuplab-sim: a virtual cupping-pressure device.  It opens a pseudo-terminal,
 * prints the slave's path as the first line on stdout, waits for a reader
 * and streams simulated sensor frames (text lines or binary COBS frames,
 * encoded by cl_wire) computed by the cl_sim model.  Faults a real device and
 * cable produce can be injected on purpose: junk bytes, corrupted frames,
 * a wrong-baud-rate burst, dropped frames and unplugging.  Everything is
 * reproducible from --seed, and the ground truth (--truth, JSON) and every
 * frame actually sent (--log, CSV) are written for the tests to compare a
 * recording against.
 *
 * With --output it writes the session straight into a session file instead
 * (no pty), and with --calibration-points the readings of its sensors
 * against a reference gauge; practitioner styles (--vacuum, --strokes,
 * --hold, --variability, --sites) shape the cups in either mode.
 *
 * The command line is in options.c, the simulated cups and sensors in
 * session.c and style.c, the pseudo-terminal in pty.c, the frames and faults
 * in stream.c, the files of the no-pty mode in file.c and the ground truth
 * in truth.c.
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "cl_cli.h"
#include "cl_log.h"
#include "file.h"
#include "options.h"
#include "pty.h"
#include "session.h"
#include "stream.h"
#include "truth.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}


/* The status the truth file reports for a session that ended with rc, and
 * the exit code that goes with it. */
static const char *outcome(int rc, int *exit_code)
{
    *exit_code = SIM_EXIT_OK;
    switch (rc) {
    case SIM_PTY_OK:
        return "complete";
    case SIM_PTY_STOP:
        return "interrupted";
    case SIM_PTY_GONE:
        return "reader_closed";
    case SIM_PTY_NO_READER:
        *exit_code = SIM_EXIT_NO_READER;
        return "no_reader";
    default:
        *exit_code = SIM_EXIT_RUNTIME;
        return "error";
    }
}

/* Send the session, then finish the files.  Returns the exit code. */
static int run(sim_stream *st, sim_truth *truth)
{
    int exit_code;
    int rc = sim_stream_run(st);
    const char *status = outcome(rc, &exit_code);

    if (rc == SIM_PTY_GONE)
        cl_log(CL_LOG_INFO, "reader closed %s", st->pty.slave);
    int files = sim_stream_close_log(st);
    if (sim_truth_write(truth, st, status) < 0)
        files = -1;
    if (files < 0 && exit_code == SIM_EXIT_OK)
        exit_code = SIM_EXIT_RUNTIME;
    if (rc == SIM_PTY_OK && st->pty.master >= 0)
        sim_pty_linger(&st->pty, st->o->linger_s);
    cl_log(CL_LOG_INFO,
           "%s: %" PRIu64 " frames sent, %" PRIu64 " dropped, %" PRIu64 " garbled, %" PRIu64
           " lost while unplugged",
           status, st->sent, st->dropped, st->garbled, st->lost);
    sim_pty_close(&st->pty);
    return exit_code;
}

int main(int argc, char **argv)
{
    static sim_options o;
    static sim_session ses;
    static sim_stream st;
    sim_truth truth = {0};

    cl_log_set_prefix(SIM_PROG);
    int rc = sim_options_parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    cl_cli_catch_stop_signals(on_signal, true);
    rc = sim_session_init(&ses, &o);
    if (rc == SIM_EXIT_OK && sim_options_file_mode(&o)) {
        if (!o.duration_given) {
            o.duration_s = sim_file_duration(&o, &ses);
            ses.nframes = sim_options_frames(&o);
        }
        rc = sim_truth_open(&truth, o.truth) < 0 ? SIM_EXIT_RUNTIME
                                                 : sim_file_run(&o, &ses, &truth);
    } else if (rc == SIM_EXIT_OK) {
        if (sim_stream_init(&st, &o, &ses, &stop_requested) < 0 ||
            sim_truth_open(&truth, o.truth) < 0)
            rc = SIM_EXIT_RUNTIME;
        else
            rc = run(&st, &truth);
    }
    sim_truth_close(&truth);
    sim_stream_free(&st);
    sim_session_free(&ses);
    return rc;
}
