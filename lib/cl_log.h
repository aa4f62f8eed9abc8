/*
 * cl_log: the only global state of the core library, a levelled log with a
 * replaceable handler.  The library logs progress and diagnostics here; it
 * never prints errors it returns.  Programs install their own handler (or
 * keep the default, which writes "prog: message" lines to stderr).
 */
#ifndef CL_LOG_H
#define CL_LOG_H

enum cl_log_level {
    CL_LOG_ERROR = 0,
    CL_LOG_WARN = 1,
    CL_LOG_INFO = 2,
    CL_LOG_DEBUG = 3,
};

typedef void (*cl_log_handler)(void *ctx, int level, const char *msg);

/* Messages above `level` are dropped.  Default: CL_LOG_WARN. */
void cl_log_set_level(int level);
int cl_log_get_level(void);

/* Install `fn` (NULL restores the default stderr handler). */
void cl_log_set_handler(cl_log_handler fn, void *ctx);

/* Prefix used by the default handler, normally the program name. */
void cl_log_set_prefix(const char *prefix);

void cl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
