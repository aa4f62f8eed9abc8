/*
 * cl_session_lock: the live-writer lock (cl_session_lock.h says how it works).
 */
#include "cl_session_lock.h"

#include <fcntl.h>
#include <unistd.h>

#define WRITER_LOCK_OFFSET ((off_t)1 << 62)

int cl_session_lock_take(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = WRITER_LOCK_OFFSET, .l_len = 1};
    if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int cl_session_lock_held(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = WRITER_LOCK_OFFSET, .l_len = 1};
    int held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

int cl_session_lock_change(const char *path, int *fd, const char *doing, cl_error *err)
{
    if ((*fd = cl_session_lock_take(path)) < 0 && cl_session_lock_held(path))
        return cl_error_set(err, CL_ERR_BUSY,
                            "%s: the session is still being recorded (or another program is "
                            "changing it); not %s it",
                            path, doing);
    return CL_OK;
}
