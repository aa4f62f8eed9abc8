/*
 * cl_session_write: recording a session file (the writer; cl_session.h
 * describes the file and the writing rules).
 */
#ifndef CL_SESSION_WRITE_H
#define CL_SESSION_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_session.h"

typedef struct cl_session_options {
    bool force;        /* replace an existing file (default: refuse) */
    size_t chunk_rows; /* rows per chunk; 0 = default (1024) */
    /* For files that must come out byte for byte the same from the same
     * input (example datasets): the session UUID ("xxxxxxxx-xxxx-xxxx-xxxx-
     * xxxxxxxxxxxx", hex digits) and the creation time ("YYYY-MM-DDThh:mm:ssZ")
     * to store instead of a random UUID and the current time; NULL = those.
     * CL_ERR_ARG if malformed.  (HDF5 object times are never stored, so
     * nothing else in the file depends on when it was written.) */
    const char *uuid;
    const char *created_utc;
    /* Sync behind (for recorders): cl_session_flush() returns once the data
     * is in the operating system (a killed process loses nothing flushed)
     * and the fdatasync runs in a thread (cl_syncer), so a slow disk does not
     * hold up the writing; a failed sync is reported by the next flush or
     * the close, which waits for the syncs.  Default: sync in the flush. */
    bool sync_behind;
} cl_session_options;

typedef struct cl_session cl_session;

/* Create `path` with the complete schema and start SWMR writing.  Fails with
 * CL_ERR_EXISTS if the file exists and !opts->force (opts may be NULL), and
 * with CL_ERR_BUSY if forced onto a file a live writer is recording into. */
int cl_session_create(cl_session **out, const char *path, const cl_session_meta *meta,
                      const cl_session_device *devs, size_t ndev, const cl_session_cup *cups,
                      size_t ncups, const cl_session_options *opts, cl_error *err);

/* Events a session still takes after it refused a write for lack of room:
 * room for them is kept free until then, so that the events ending the
 * session (the stop reason, ...) and its counters can still be written. */
#define CL_SESSION_FINAL_EVENTS 256

/* Append `nrows` rows to device `dev`.  `samples` is row-major
 * [nrows][channels]; `device_time`, `host_time`, `seq` have nrows entries.
 * Refused with CL_ERR_NOSPACE, before anything is written, when the rows
 * might no longer fit on the disk or under the file-size limit (a margin is
 * kept so that the session still closes cleanly): stop and close then.
 * After such a refusal (of rows or of an event) rows are refused for good,
 * while up to CL_SESSION_FINAL_EVENTS events and any counters and clock
 * updates are still taken. */
int cl_session_append(cl_session *s, size_t dev, size_t nrows, const double *samples,
                      const double *device_time, const double *host_time, const uint32_t *seq,
                      cl_error *err);

int cl_session_add_event(cl_session *s, const cl_session_event *ev, cl_error *err);

/* Overwrite the stored counters of device `dev`. */
int cl_session_set_counters(cl_session *s, size_t dev, const cl_session_counters *c,
                            cl_error *err);

/* Overwrite the stored clock estimate of device `dev`. */
int cl_session_set_clock(cl_session *s, size_t dev, const cl_session_clock *c, cl_error *err);

/* H5Fflush + fdatasync (behind, with sync_behind): everything appended so
 * far survives a crash of the process (and, once synced, of the machine).
 * If a write fails anyway (the disk filled up behind our back: CL_ERR_NOSPACE;
 * an I/O error), the session is failed: later appends, events, counters and
 * flushes return that code, and only closing is left.  The file stays valid
 * up to the last successful flush. */
int cl_session_flush(cl_session *s, cl_error *err);

/* Flush, close, reopen without SWMR, write status and ended_utc, close.
 * Frees `s` whatever the outcome.  `status` must be COMPLETE or INTERRUPTED
 * (otherwise CL_ERR_ARG, and the session is closed without one).  A failed
 * session is closed without flushing and still gets its final status; the
 * earlier failure is not reported again, only the close's own problems (a
 * disk still full where files cannot be sparse leaves the file unfinished:
 * CL_ERR_NOSPACE).  Readers in other processes may stay open; a reader of
 * the same file in this process must be closed first (HDF5 shares one
 * handle per file and process). */
int cl_session_close(cl_session *s, cl_session_status status, cl_error *err);

/* cl_session_close() storing `ended_utc` ("YYYY-MM-DDThh:mm:ssZ"; NULL =
 * the current time) as the end time, for reproducible files.  A malformed
 * time is CL_ERR_ARG and the session is closed without a final status. */
int cl_session_close_at(cl_session *s, cl_session_status status, const char *ended_utc,
                        cl_error *err);

/* Close without writing a final status (for tests of crash behaviour and for
 * error paths where the file can no longer be written).  Accepts NULL. */
void cl_session_abandon(cl_session *s);

#endif
