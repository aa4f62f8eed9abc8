/* cl_output: checks of output files and folders before the work. */
#include "cl_output.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cl_output_exists(cl_error *err, const char *path)
{
    return cl_error_set(err, CL_ERR_EXISTS, "%s exists (not replaced without --force)", path);
}

int cl_output_check(const char *path, bool force, cl_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return cl_error_set(err, CL_ERR_ARG, "%s: is a directory", path);
        return force ? CL_OK : cl_output_exists(err, path);
    }
    /* The folder it goes into must exist. */
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return CL_OK;
    int len = slash == path ? 1 : (int)(slash - path);
    snprintf(dir, sizeof dir, "%.*s", len, path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cl_error_set(err, CL_ERR_NOTFOUND, "%s: cannot create: folder %s does not exist",
                            path, dir);
    return CL_OK;
}

int cl_output_check_all(const char *const *paths, size_t n, bool force, cl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = paths[i] ? cl_output_check(paths[i], force, err) : CL_OK;
        if (rc != CL_OK)
            return rc;
    }
    return CL_OK;
}

int cl_output_dir(const char *dir, cl_error *err)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? CL_OK
                                   : cl_error_set(err, CL_ERR_ARG, "%s: not a directory", dir);
    if (mkdir(dir, 0777) != 0)
        return cl_error_set(err, cl_error_from_errno(errno), "%s: cannot create: %s", dir,
                            strerror(errno));
    return CL_OK;
}
