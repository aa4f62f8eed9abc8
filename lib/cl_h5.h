/*
 * cl_h5: HDF5 helpers shared by the session modules (cl_schema,
 * cl_session_write, cl_session_read, cl_session_recover,
 * cl_session_results).  Not an API of the session format.
 *
 * Functions returning hid_t give H5I_INVALID_HID on failure; those returning
 * int give 0 or -1 (HDF5's message stays on its error stack for
 * cl_h5_fail()), except the cl_h5_*fail ones, which return a cl_error code.
 */
#ifndef CL_H5_H
#define CL_H5_H

#include <stdbool.h>
#include <stddef.h>

#include <hdf5.h>

#include "cl_error.h"

/* Switch off HDF5's automatic error printing (per thread): called on every
 * entry of a session function. */
void cl_h5_quiet(void);

/* Close an HDF5 id of any kind if valid, and invalidate it. */
void cl_h5_close(hid_t *id);

/* HDF5's innermost error message, and the errno it quotes (0 if none). */
typedef struct cl_h5_detail {
    char text[320];
    int errnum;
} cl_h5_detail;

/* Take HDF5's innermost error message off the stack and clear it. */
void cl_h5_take(cl_h5_detail *d);

/* Report a failed HDF5 call: "<path>: <what> (HDF5: <detail>)".  A full disk
 * or a file-size limit (FAT32, ulimit -f), seen either in errno or in HDF5's
 * message, becomes CL_ERR_NOSPACE; another OS error HDF5 quotes keeps its
 * meaning (a held lock is CL_ERR_BUSY, a missing directory CL_ERR_NOTFOUND,
 * ...).  Clears HDF5's error stack. */
int cl_h5_fail(cl_error *err, const char *path, const char *what);

/* Report a failed OS call, in the same form: "<path>: <what>: <strerror>". */
int cl_h5_os_fail(cl_error *err, int errnum, const char *path, const char *what);

/* A creation property list of class `cls` (file, group or dataset) that
 * stores no access/modification times in object headers, so the same input
 * always gives the same bytes. */
hid_t cl_h5_untimed(hid_t cls);

/* H5Gcreate2 without object times. */
hid_t cl_h5_group(hid_t loc, const char *name);

/* Copy `s` (NULL = "") into `dst` of `cap` bytes as valid UTF-8: a byte that
 * does not start a valid sequence becomes '?', and the copy ends on a
 * character boundary.  Returns the bytes written (without NUL).  Every text
 * the session modules store goes through it. */
size_t cl_h5_utf8_copy(char *dst, size_t cap, const char *s);

/* New string holding `s` as valid UTF-8 (see cl_h5_utf8_copy); NULL if no
 * memory. */
char *cl_h5_utf8_dup(const char *s);

/* UTF-8 string types: variable-length, and `n` bytes NUL-terminated. */
hid_t cl_h5_str_vlen(void);
hid_t cl_h5_str_fixed(size_t n);

/* Create (or replace) a scalar variable-length UTF-8 string attribute. */
int cl_h5_put_str(hid_t obj, const char *name, const char *value);

/* Set a scalar fixed-length (`size` bytes, NUL-terminated) UTF-8 string
 * attribute: created if absent, otherwise overwritten in place.  Once
 * created, writing it changes bytes inside the object header only; a
 * variable-length string would also need a global-heap write, and a kill
 * between the two writes would leave the attribute unreadable. */
int cl_h5_put_fixed(hid_t obj, const char *name, size_t size, const char *value);

/* Create a one-dimensional attribute of `n` variable-length UTF-8 strings
 * (n >= 1). */
int cl_h5_put_strs(hid_t obj, const char *name, const char *const *values, size_t n);

/* Create a scalar 32-bit integer attribute. */
int cl_h5_put_int(hid_t obj, const char *name, int value);

/* Create a scalar float64 attribute. */
int cl_h5_put_double(hid_t obj, const char *name, double value);

/* Read scalar attribute `name` of `obj` as a new string: strings as they are,
 * integers and floats printed.  *out = NULL when absent.  -1 on an HDF5
 * failure, an array/compound attribute or no memory. */
int cl_h5_get_text(hid_t obj, const char *name, char **out);

/* Integer attribute; *found = false when absent.  -1 on failure or when the
 * attribute is not a scalar integer. */
int cl_h5_get_int(hid_t obj, const char *name, long long *v, bool *found);

/* Rows of `ds` (first dimension; *cols, if not NULL, gets the second, 0 for
 * a 1-D dataset), or (size_t)-1 on failure or a rank other than 1 or 2. */
size_t cl_h5_rows(hid_t ds, hsize_t *cols);

/* Open dataset `name` of `loc` and, if `probe`, read its chunk index
 * through (every block of it), so that a block failing its checksum shows
 * now rather than in the middle of a read.  H5I_INVALID_HID when the
 * dataset cannot be read; *exists then tells a damaged object from a
 * missing one.  Leaves HDF5's error stack clear. */
hid_t cl_h5_open_checked(hid_t loc, const char *name, bool probe, bool *exists);

#endif
