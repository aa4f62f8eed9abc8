/*
 * cl_session_lock: the live-writer lock of a session file.  While a
 * recorder writes a file (cl_session_write) it holds an open-file-description
 * write lock on one byte at offset 2^62 (far beyond any data, so it never
 * collides with HDF5's own flock).  The lock dies with the process, so it
 * tells a live recording from a crashed one: the reader reports it
 * (cl_session_writer_alive), and recovery, write-back and a forced create
 * refuse a live file.
 */
#ifndef CL_SESSION_LOCK_H
#define CL_SESSION_LOCK_H

#include "cl_error.h"

/* Take the live-writer lock on `path`.  Returns the descriptor holding it
 * (closing it releases the lock), or -1 where the lock is unavailable (best
 * effort: the file is still written). */
int cl_session_lock_take(const char *path);

/* 1 if a live writer holds `path`, 0 if not or unknown. */
int cl_session_lock_held(const char *path);

/* Take the writer lock for a change of a finished file (recovery, analysis
 * write-back), so that no recorder, recovery or other write-back starts on
 * it meanwhile.  *fd is the descriptor holding the lock, or -1 where locks
 * are unavailable (best effort, as for the recorder).  CL_ERR_BUSY, saying
 * the file is not being `doing` ("touching", "writing to"), when someone
 * holds it. */
int cl_session_lock_change(const char *path, int *fd, const char *doing, cl_error *err);

#endif
