/*
 * cl_session_recover: recovery of a session whose recorder died
 * (cl_session_recover.h).
 *
 * It clears the superblock status flags in place through HDF5's
 * "clear_status_flags" file-access property (the one h5clear -s uses), sets
 * the end-of-allocation to max(stored EOA, file size) so nothing is cut off
 * (h5clear -s --increment=0), and marks the session interrupted.
 */
#include "cl_session_recover.h"
#include "cl_h5.h"
#include "cl_replace.h"
#include "cl_schema.h"
#include "cl_session_lock.h"
#include "cl_session_read.h"

#include <unistd.h>

int cl_session_recover(const char *path, bool *recovered, cl_error *err)
{
    cl_session_reader *r = NULL;
    cl_replace *tx = NULL;
    hid_t fapl = H5I_INVALID_HID;
    bool yes = true;
    char now[32];
    int rc, lock = -1;

    cl_h5_quiet();
    if (recovered)
        *recovered = false;
    if (!path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session recover: no file name");
    if ((rc = cl_session_lock_change(path, &lock, "touching", err)) != CL_OK)
        return rc;
    /* Validate first, read-only: only a cuplab session is ever changed. */
    if ((rc = cl_session_open(&r, path, err)) != CL_OK)
        goto done;
    cl_session_status status = cl_session_reader_status(r);
    bool flagged = cl_session_flagged(r);
    cl_session_reader_close(r);
    if (status != CL_SESSION_RECORDING && !flagged)
        goto done;

    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
        rc = cl_h5_fail(err, path, "cannot set up file access");
        goto done;
    }
    /* The property h5clear -s sets: the superblock's status flags are cleared
     * as the file is opened. */
    if (H5Pset(fapl, "clear_status_flags", &yes) < 0) {
        rc = cl_h5_fail(err, path, "this HDF5 library cannot clear the status flags");
        goto done;
    }
    /* The changes go into a copy that replaces the file once complete: a
     * crash at any moment leaves the crashed file as it was, still
     * recoverable.  A writer killed while closing may have left a final
     * status behind a set flag: then only the flag is cleared and the status
     * kept. */
    if ((rc = cl_replace_begin(&tx, path, lock, err)) != CL_OK)
        goto done;
    cl_schema_utc_now(now);
    if (status == CL_SESSION_RECORDING)
        rc =
            cl_schema_write_final(cl_replace_copy(tx), fapl, true, "interrupted", "", now, err);
    else
        rc = cl_schema_write_final(cl_replace_copy(tx), fapl, true, NULL, NULL, NULL, err);
    if (rc == CL_OK) {
        rc = cl_replace_commit(tx, err);
        if (rc == CL_OK && recovered)
            *recovered = true;
    } else {
        cl_replace_abort(tx);
    }
done:
    cl_h5_close(&fapl);
    if (lock >= 0)
        close(lock);
    return rc;
}
