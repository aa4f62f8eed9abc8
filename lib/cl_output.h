/*
 * cl_output: the rules every cuplab program follows for the files and
 * folders it writes, checked before the work so that a bad output never
 * costs a recording or a computation:
 *
 *   - an existing file is never replaced without --force; the refusal is
 *     CL_ERR_EXISTS with the one message "FILE exists (not replaced without
 *     --force)", which every program reports as a usage error (exit 2);
 *   - a folder for figures is created when it does not exist.
 */
#ifndef CL_OUTPUT_H
#define CL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"

/* Set `err` to the refusal to replace `path`; returns CL_ERR_EXISTS. */
int cl_output_exists(cl_error *err, const char *path);

/* May `path` be written?  CL_ERR_EXISTS when it exists and !force,
 * CL_ERR_ARG when it is a folder, CL_ERR_NOTFOUND when its folder does not
 * exist.  Nothing is created. */
int cl_output_check(const char *path, bool force, cl_error *err);
/* The same for n paths (NULL ones skipped); the first refusal. */
int cl_output_check_all(const char *const *paths, size_t n, bool force, cl_error *err);

/* Make folder `dir` if it does not exist (its parent must).  CL_ERR_ARG
 * when `dir` is not a folder, the errno's code when it cannot be made. */
int cl_output_dir(const char *dir, cl_error *err);

#endif
