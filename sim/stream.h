/* sim/stream: what cuplab-sim sends: every frame of the session, encoded,
 * paced and put on the pty, with the faults asked for (junk, corruption,
 * wrong-baud-rate burst, drops, unplugging), the announcement at every
 * connect, the --log CSV of the frames sent and the tallies the ground
 * truth reports. */
#ifndef SIM_STREAM_H
#define SIM_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"
#include "pty.h"
#include "session.h"

#define SIM_STREAM_OUT_CAP 16384  /* bytes buffered before a write */
#define SIM_STREAM_PEND_CAP 512   /* frames buffered before a write */
#define SIM_STREAM_FRAME_MAX 1200 /* one encoded frame (text line or binary) */
#define SIM_STREAM_JUNK_MAX 64    /* bytes of one junk burst, delimiter included */

/* What became of one --disconnect (same index in sim_options.outage). */
typedef struct sim_unplug {
    bool done;
    bool reconnected;
    double resume_s;    /* simulated time sending resumes */
    uint64_t first_seq; /* first frame lost */
    uint64_t lost;      /* frames lost */
    long unread_bytes;  /* bytes still unread in the pty when it closed (-1 unknown) */
    char path[64];      /* slave path after reconnecting */
} sim_unplug;

/* A growing list of frame numbers. */
typedef struct sim_seqs {
    uint64_t *v;
    size_t n, cap;
} sim_seqs;

/* A frame in the output buffer, accounted once it is written completely. */
typedef struct sim_pending {
    uint64_t seq;
    int64_t time_us;
    size_t end; /* offset just past the frame's bytes in the output buffer */
    bool garbled;
    int32_t raw[SIM_MAX_CUPS];
} sim_pending;

typedef struct sim_stream {
    const sim_options *o;
    sim_session *ses;
    sim_pty pty;
    FILE *log; /* --log, or NULL */

    /* results */
    uint64_t sent, dropped, garbled, lost, junk_bursts, junk_bytes, baud_bytes, bytes_written;
    sim_seqs dropped_seq, garbled_seq;
    sim_unplug unplug[SIM_MAX_DISCONNECTS];

    /* output buffer */
    uint8_t out[SIM_STREAM_OUT_CAP + SIM_STREAM_FRAME_MAX + 2 * SIM_STREAM_JUNK_MAX];
    size_t out_len;
    sim_pending pend[SIM_STREAM_PEND_CAP];
    size_t npend;
} sim_stream;

/* Prepare st to send session `ses`; creates the --log file with its header.
 * Returns 0, or -1 (logged); call sim_stream_free() in either case. */
int sim_stream_init(sim_stream *st, const sim_options *o, sim_session *ses,
                    volatile sig_atomic_t *stop);

/* Plug in, wait for the reader and send the whole session.  Returns a
 * SIM_PTY_* outcome; the pty is left open. */
int sim_stream_run(sim_stream *st);

/* Close the --log file.  Returns 0, or -1 (logged). */
int sim_stream_close_log(sim_stream *st);

/* Free what st holds (an open --log file is closed unchecked). */
void sim_stream_free(sim_stream *st);

#endif
