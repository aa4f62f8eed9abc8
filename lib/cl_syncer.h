/*
 * cl_syncer: fdatasync a file in the background.
 *
 * A writer that flushes often must not wait for a slow disk: it hands the
 * sync of its file descriptor to this thread and goes on writing.  What it
 * wrote before a request is in the operating system already (a killed process
 * loses none of it); the thread makes it durable.  Requests made while a sync
 * runs are covered together by one more sync after it.  A sync that fails is
 * reported by the next request, or by cl_syncer_free().  A descriptor that
 * cannot be synced (EINVAL: a pipe, a special file) is not an error.
 */
#ifndef CL_SYNCER_H
#define CL_SYNCER_H

typedef struct cl_syncer cl_syncer;

/* A syncer for `fd` (which must stay open until cl_syncer_free()).  NULL when
 * the thread cannot be started. */
cl_syncer *cl_syncer_new(int fd);

/* Have everything written to the descriptor so far synced; returns at once.
 * Returns 0, or the errno of a sync that failed since the last request. */
int cl_syncer_request(cl_syncer *s);

/* Finish the requested syncs and stop.  Returns 0, or the errno of a sync
 * that failed and was not reported yet.  Accepts NULL (returns 0). */
int cl_syncer_free(cl_syncer *s);

#endif
