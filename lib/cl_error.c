/* cl_error: status codes, their descriptions and the error record. */
#include "cl_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

const char *cl_strerror(int code)
{
    switch (code) {
    case CL_OK: return "success";
    case CL_ERR_NOMEM: return "out of memory";
    case CL_ERR_ARG: return "invalid argument";
    case CL_ERR_IO: return "input/output error";
    case CL_ERR_FORMAT: return "unexpected format";
    case CL_ERR_VERSION: return "unsupported format version";
    case CL_ERR_EXISTS: return "file exists";
    case CL_ERR_NOTFOUND: return "not found";
    case CL_ERR_HDF5: return "HDF5 error";
    case CL_ERR_PORT: return "serial port error";
    case CL_ERR_NOSPACE: return "disk full";
    case CL_ERR_NUMERIC: return "numerical failure";
    case CL_ERR_RANGE: return "value out of range";
    case CL_ERR_PERM: return "permission denied";
    case CL_ERR_BUSY: return "resource busy";
    case CL_ERR_EXPIRED: return "calibration expired";
    case CL_ERR_GONE: return "device disappeared";
    default: return "unknown error";
    }
}

int cl_error_set(cl_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int cl_error_from_errno(int errnum)
{
    switch (errnum) {
    case 0: return CL_OK;
    case ENOMEM: return CL_ERR_NOMEM;
    case ENOENT: case ENODEV: case ENXIO: return CL_ERR_NOTFOUND;
    case EEXIST: return CL_ERR_EXISTS;
    case EACCES: case EPERM: case EROFS: return CL_ERR_PERM;
    case EBUSY: return CL_ERR_BUSY;
    case ENOSPC: case EDQUOT: case EFBIG: return CL_ERR_NOSPACE;
    case EINVAL: return CL_ERR_ARG;
    case ERANGE: return CL_ERR_RANGE;
    default: return CL_ERR_IO;
    }
}

void cl_error_clear(cl_error *err)
{
    if (err) {
        err->code = CL_OK;
        err->msg[0] = '\0';
    }
}
