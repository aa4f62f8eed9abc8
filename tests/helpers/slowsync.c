/* Test helper, preloaded into a program (LD_PRELOAD): every fdatasync()
 * first sleeps SLOWSYNC_MS milliseconds (default 1000), as on a disk kept
 * busy by other programs' writes, where a sync can take that long while
 * writes into the page cache stay fast. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int fdatasync(int fd)
{
    const char *e = getenv("SLOWSYNC_MS");
    long ms = e ? atol(e) : 1000;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return (int)syscall(SYS_fdatasync, fd);
}
