/*
 * cl_replace: change a file without ever writing into it.  The file is
 * copied to a temporary file beside it, the copy is changed and synced, and
 * the copy is renamed over the original.  At every instant the original's
 * name refers to either the untouched original or the complete new version;
 * a crash at any point leaves the original as it was.
 *
 * The temporary file is `.NAME.cuplab-tmp` in the file's directory.  Callers
 * must make sure only one replacement of a file runs at a time (cl_session
 * holds its writer lock on the original); a temporary file left by a killed
 * process is then stale and is overwritten by the next replacement.
 *
 * Hard links to the original keep pointing at the old version.  The copy
 * needs free space for one more file of the original's size; owner and mode
 * are carried over where allowed.
 */
#ifndef CL_REPLACE_H
#define CL_REPLACE_H

#include "cl_error.h"

typedef struct cl_replace cl_replace;

/* Copy `path` to its temporary file.  `expect_fd`, when >= 0, is a
 * descriptor open on the file the caller validated (and locked): the copy is
 * refused with CL_ERR_BUSY when `path` no longer names that same file.  Fails
 * with CL_ERR_NOSPACE when the copy does not fit (nothing is left behind),
 * CL_ERR_PERM when the directory is not writable, CL_ERR_IO otherwise. */
int cl_replace_begin(cl_replace **out, const char *path, int expect_fd, cl_error *err);

/* Name of the copy, to open and change; valid until commit or abort.  The
 * copy must be closed again before cl_replace_commit(). */
const char *cl_replace_copy(const cl_replace *t);

/* Sync the copy, rename it over the original and sync the directory.  Frees
 * `t` whatever the outcome; on failure the copy is removed and the original
 * is as it was. */
int cl_replace_commit(cl_replace *t, cl_error *err);

/* fsync the file or directory `path`, opened with `flags` (O_RDONLY, with
 * O_DIRECTORY for a directory); 0 or an errno value.  An object that cannot
 * be synced (EINVAL) counts as synced. */
int cl_replace_sync(const char *path, int flags);

/* Remove the copy and free `t`; the original is as it was.  Accepts NULL. */
void cl_replace_abort(cl_replace *t);

#endif
