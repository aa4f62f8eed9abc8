/* cl_replace: copy, change, sync, rename (see cl_replace.h). */
#include "cl_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cl_replace {
    char *path; /* the original */
    char *tmp;  /* the copy */
    char *dir;  /* their directory */
};

static int os_error(cl_error *err, int errnum, const char *path, const char *what)
{
    int code = errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG ? CL_ERR_NOSPACE
               : errnum == EACCES || errnum == EPERM || errnum == EROFS ? CL_ERR_PERM
                                                                          : CL_ERR_IO;
    return cl_error_set(err, code, "%s: %s: %s", path, what, strerror(errnum));
}

static void replace_free(cl_replace *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->tmp);
    free(t->dir);
    free(t);
}

/* Copy all of `src` to `dst`; 0 or an errno value. */
static int copy_all(int src, int dst, off_t size)
{
    off_t done = 0;
    bool plain = false;
    char *buf = NULL;
    int e = 0;
    while (done < size) {
        ssize_t n;
        if (!plain) {
            n = copy_file_range(src, NULL, dst, NULL, (size_t)(size - done), 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                          errno == EOPNOTSUPP)) {
                plain = true;
                if (lseek(src, done, SEEK_SET) < 0 || lseek(dst, done, SEEK_SET) < 0) {
                    e = errno;
                    break;
                }
                continue;
            }
        } else {
            enum { BUF = 1 << 20 };
            if (!buf && !(buf = malloc(BUF))) {
                e = ENOMEM;
                break;
            }
            n = read(src, buf, BUF);
            for (ssize_t w = 0, k; n > 0 && w < n; w += k)
                if ((k = write(dst, buf + w, (size_t)(n - w))) < 0) {
                    n = -1;
                    break;
                }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            break;
        }
        if (n == 0) { /* the file shrank under us */
            e = EIO;
            break;
        }
        done += n;
    }
    free(buf);
    return e;
}

int cl_replace_begin(cl_replace **out, const char *path, int expect_fd, cl_error *err)
{
    cl_replace *t = NULL;
    struct stat st, want;
    int src = -1, dst = -1, rc = CL_OK, e;
    bool made = false;

    *out = NULL;
    if (!path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "replace: no file name");
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!(t = calloc(1, sizeof *t)) || !(t->path = strdup(path)) ||
        !(t->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".")) ||
        !(t->tmp = malloc(strlen(path) + 16))) {
        replace_free(t);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    sprintf(t->tmp, "%.*s.%s.cuplab-tmp", (int)(base - path), path, base);

    if ((src = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(src, &st) != 0) {
        rc = os_error(err, errno, path, "cannot open");
        goto fail;
    }
    if (expect_fd >= 0 &&
        (fstat(expect_fd, &want) != 0 || want.st_dev != st.st_dev || want.st_ino != st.st_ino)) {
        rc = cl_error_set(err, CL_ERR_BUSY, "%s: the file was replaced while being read", path);
        goto fail;
    }
    /* A copy left by a killed replacement is stale: only one runs at a time. */
    if ((dst = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        rc = os_error(err, errno, t->tmp, "cannot create a copy beside the file");
        goto fail;
    }
    made = true;
    if ((e = copy_all(src, dst, st.st_size)) != 0) {
        if (e == ENOSPC || e == EDQUOT || e == EFBIG)
            rc = cl_error_set(err, CL_ERR_NOSPACE,
                              "%s: not enough free space beside the file for the copy the change "
                              "is made in (%lld KiB); the file is unchanged",
                              path, (long long)(st.st_size / 1024));
        else
            rc = os_error(err, e, path, "cannot copy");
        goto fail;
    }
    if (fchown(dst, st.st_uid, st.st_gid) != 0) {
        /* not allowed for an ordinary user: the copy stays theirs */
    }
    if (fchmod(dst, st.st_mode & 07777) != 0 || close(dst) != 0) {
        dst = -1;
        rc = os_error(err, errno, t->tmp, "cannot finish the copy");
        goto fail;
    }
    close(src);
    *out = t;
    return CL_OK;
fail:
    if (dst >= 0)
        close(dst);
    if (src >= 0)
        close(src);
    if (made)
        unlink(t->tmp);
    replace_free(t);
    return rc;
}

const char *cl_replace_copy(const cl_replace *t) { return t ? t->tmp : NULL; }

int cl_replace_sync(const char *name, int flags)
{
    int fd = open(name, flags | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return e == EINVAL ? 0 : e;
}

int cl_replace_commit(cl_replace *t, cl_error *err)
{
    int rc = CL_OK, e;
    if (!t)
        return cl_error_set(err, CL_ERR_ARG, "replace: nothing to commit");
    if ((e = cl_replace_sync(t->tmp, O_RDONLY)) != 0) {
        rc = os_error(err, e, t->path, "cannot sync the new version to disk");
        cl_replace_abort(t);
        return rc;
    }
    if (rename(t->tmp, t->path) != 0) {
        rc = os_error(err, errno, t->path, "cannot put the new version in place");
        cl_replace_abort(t);
        return rc;
    }
    if ((e = cl_replace_sync(t->dir, O_RDONLY | O_DIRECTORY)) != 0)
        rc = os_error(err, e, t->dir, "cannot sync the directory");
    replace_free(t);
    return rc;
}

void cl_replace_abort(cl_replace *t)
{
    if (!t)
        return;
    unlink(t->tmp);
    replace_free(t);
}
