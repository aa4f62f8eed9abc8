/*
 * cl_error: the status codes every cuplab function returns, and the
 * error record that carries the detail (file, port, HDF5/GSL/OS message)
 * back to the program, which decides what to tell the user.
 *
 * Convention: 0 is success, negative values are errors.  Functions that can
 * fail take a trailing `cl_error *err` (may be NULL) and return the code.
 */
#ifndef CL_ERROR_H
#define CL_ERROR_H

#include <stddef.h>

enum cl_status {
    CL_OK = 0,
    CL_ERR_NOMEM = -1,    /* allocation failed */
    CL_ERR_ARG = -2,      /* invalid argument or option value */
    CL_ERR_IO = -3,       /* read/write failure */
    CL_ERR_FORMAT = -4,   /* input is not in the expected format */
    CL_ERR_VERSION = -5,  /* format version not supported */
    CL_ERR_EXISTS = -6,   /* refusing to replace an existing file */
    CL_ERR_NOTFOUND = -7, /* file, port, object or key does not exist */
    CL_ERR_HDF5 = -8,     /* the HDF5 library reported an error */
    CL_ERR_PORT = -9,     /* serial port could not be opened/configured */
    CL_ERR_NOSPACE = -10, /* disk full */
    CL_ERR_NUMERIC = -11, /* a numerical method failed */
    CL_ERR_RANGE = -12,   /* a value lies outside its valid range */
    CL_ERR_PERM = -13,    /* permission denied */
    CL_ERR_BUSY = -14,    /* resource in use (port opened elsewhere) */
    CL_ERR_EXPIRED = -15, /* calibration profile past its valid-until date */
    CL_ERR_GONE = -16,    /* device disappeared (unplugged, pty closed) */
};

/* Error record: the code plus a one-line, human-readable detail. */
typedef struct cl_error {
    int code;
    char msg[512];
} cl_error;

/* Short static description of a status code ("disk full"). */
const char *cl_strerror(int code);

/* Fill `err` (if not NULL) with `code` and a printf-style message; returns
 * `code` so callers can write `return cl_error_set(err, CL_ERR_IO, ...)`. */
int cl_error_set(cl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Map an errno value to the closest status code. */
int cl_error_from_errno(int errnum);

/* Reset `err` to CL_OK with an empty message (NULL is accepted). */
void cl_error_clear(cl_error *err);

#endif
