/* cl_log: levelled logging with a replaceable handler (thread-safe). */
#include "cl_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static int log_level = CL_LOG_WARN;
static cl_log_handler log_fn;
static void *log_ctx;
static const char *log_prefix = "cuplab";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void cl_log_set_level(int level) { log_level = level; }
int cl_log_get_level(void) { return log_level; }

void cl_log_set_handler(cl_log_handler fn, void *ctx)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_ctx = ctx;
    pthread_mutex_unlock(&log_lock);
}

void cl_log_set_prefix(const char *prefix) { log_prefix = prefix ? prefix : "cuplab"; }

void cl_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    char msg[1024];
    va_list ap;

    if (level > log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&log_lock);
    if (log_fn)
        log_fn(log_ctx, level, msg);
    else
        fprintf(stderr, "%s: %s: %s\n", log_prefix,
                names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
    pthread_mutex_unlock(&log_lock);
}
