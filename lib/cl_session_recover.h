/*
 * cl_session_recover: finishing a session file whose recorder died.
 */
#ifndef CL_SESSION_RECOVER_H
#define CL_SESSION_RECOVER_H

#include <stdbool.h>

#include "cl_error.h"

/* Make an interrupted file (writer crashed while in SWMR mode) readable by
 * every HDF5 tool: clear the file-consistency flags, keeping the
 * end-of-allocation at least at the file's size (as `h5clear -s
 * --increment=0`; nothing is cut off, so no row is lost), and, when it has
 * no final status, mark the session "interrupted" with an empty ended_utc
 * and recovered_utc set.  The file is never written to: a copy is changed
 * and renamed over it once synced (cl_replace), so a crash during recovery
 * leaves the file as it was.  *recovered (may be NULL) tells whether there
 * was anything to do: a file with a final status and clear flags is left
 * untouched, CL_OK returned and *recovered false.  CL_ERR_BUSY while a
 * writer still records into it or another program is changing it;
 * CL_ERR_FORMAT / CL_ERR_VERSION (file untouched) for anything but a
 * readable cuplab session; CL_ERR_NOSPACE when there is no room for the
 * copy.  A dataset the crash left unreadable (cl_session_damaged) stays
 * unreadable; the rest of the file is recovered all the same. */
int cl_session_recover(const char *path, bool *recovered, cl_error *err);

#endif
