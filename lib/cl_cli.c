/* cl_cli: number parsing, port specs, config files, usage errors and
 * verbosity for the programs. */
#include "cl_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_log.h"

int cl_cli_usage_error(const char *prog, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see %s --help)\n", prog);
    return status;
}

void cl_cli_set_verbosity(int verbosity)
{
    cl_log_set_level(verbosity <= 0 ? CL_LOG_ERROR : verbosity == 1 ? CL_LOG_WARN : CL_LOG_INFO);
}

bool cl_cli_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool cl_cli_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int cl_cli_port_spec(char *spec, int *baud, cl_wire_protocol *proto, cl_error *err)
{
    char *name_colon = strncmp(spec, "usb=", 4) ? NULL : strchr(spec, ':');
    char *c1 = strchr(name_colon ? name_colon + 1 : spec, ':'), *c2;
    long b;
    if (!c1)
        return CL_OK;
    *c1++ = '\0';
    c2 = strchr(c1, ':');
    if (c2)
        *c2++ = '\0';
    if (*c1) {
        if (!cl_cli_long(c1, 50, 10000000, &b))
            return cl_error_set(err, CL_ERR_ARG, "invalid baud rate '%s'", c1);
        *baud = (int)b;
    }
    if (c2) {
        cl_wire_protocol p = cl_wire_protocol_from_name(c2);
        if (!p)
            return cl_error_set(err, CL_ERR_ARG, "unknown protocol '%s' (text or binary)", c2);
        *proto = p;
    }
    return CL_OK;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static const struct option *find_option(const struct option *longopts, const char *key)
{
    for (const struct option *p = longopts; p->name; p++)
        if (strcmp(p->name, key) == 0)
            return p;
    return NULL;
}

static int default_accept(const char *key, const struct option *opt)
{
    if (!opt || !strcmp(key, "config") || !strcmp(key, "help") || !strcmp(key, "version"))
        return CL_CLI_UNKNOWN;
    return CL_CLI_OPTION;
}

static int push_arg(cl_cli_config *cfg, char *arg, cl_error *err)
{
    char **a;
    if (!arg)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    a = realloc(cfg->args, (cfg->nargs + 1) * sizeof *a);
    if (!a) {
        free(arg);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    cfg->args = a;
    cfg->args[cfg->nargs++] = arg;
    return CL_OK;
}

/* The whole file into a NUL-terminated buffer: a regular file (opened
 * without blocking, so a FIFO cannot hang us) of at most CL_CLI_CONFIG_MAX
 * bytes. */
static int slurp_config(const char *path, char **text, size_t *len, cl_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    ssize_t got;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), rc = CL_OK;
    if (fd < 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0)
        rc = cl_error_set(err, CL_ERR_ARG, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = cl_error_set(err, CL_ERR_ARG, "%s: is a directory, not a config file", path);
    else if (!S_ISREG(st.st_mode))
        rc = cl_error_set(err, CL_ERR_ARG, "%s: not a regular file", path);
    else if (!(buf = malloc(CL_CLI_CONFIG_MAX + 1)))
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    /* Read one byte past the limit to tell a file that grew beyond it. */
    while (rc == CL_OK && n <= CL_CLI_CONFIG_MAX &&
           (got = read(fd, buf + n, CL_CLI_CONFIG_MAX + 1 - n)) != 0) {
        if (got < 0 && errno != EINTR)
            rc = cl_error_set(err, CL_ERR_ARG, "%s: %s", path, strerror(errno));
        else if (got > 0)
            n += (size_t)got;
    }
    close(fd);
    if (rc == CL_OK && n > CL_CLI_CONFIG_MAX)
        rc = cl_error_set(err, CL_ERR_ARG, "%s: larger than %d bytes, not a config file", path,
                          CL_CLI_CONFIG_MAX);
    if (rc != CL_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CL_OK;
}

static int read_config(const char *path, const struct option *longopts, cl_cli_accept accept,
                       void *ctx, cl_cli_config *cfg, cl_error *err)
{
    char *text = NULL, *next;
    size_t len = 0;
    int lineno = 0, rc = slurp_config(path, &text, &len, err);
    for (char *line = text; rc == CL_OK && line < text + len; line = next) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line)), *key, *value, *arg = NULL;
        size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        const struct option *opt;
        int what;
        next = line + n + 1;
        lineno++;
        if (n > CL_CLI_LINE_MAX) {
            rc = cl_error_set(err, CL_ERR_ARG, "%s:%d: line longer than %d bytes", path, lineno,
                              CL_CLI_LINE_MAX);
            break;
        }
        if (memchr(line, '\0', n)) {
            rc = cl_error_set(err, CL_ERR_ARG, "%s:%d: NUL byte in the line", path, lineno);
            break;
        }
        line[n] = '\0';
        key = trim(line);
        value = strchr(key, '=');
        if (!*key || *key == '#')
            continue;
        if (value) {
            *value++ = '\0';
            value = trim(value);
            key = trim(key);
        }
        opt = find_option(longopts, key);
        what = accept ? accept(ctx, key, opt) : default_accept(key, opt);
        if (what == CL_CLI_UNKNOWN) {
            rc = cl_error_set(err, CL_ERR_ARG, "%s:%d: unknown setting '%s'", path, lineno, key);
        } else if (what == CL_CLI_POSITIONAL) {
            rc = push_arg(cfg, strdup(value ? value : ""), err);
        } else if (what == CL_CLI_OPTION) {
            bool has_value = value && *value;
            if (opt && (opt->has_arg == required_argument) != has_value)
                rc = cl_error_set(err, CL_ERR_ARG, "%s:%d: setting '%s' %s", path, lineno, key,
                                  has_value ? "takes no value" : "needs a value");
            else if (asprintf(&arg, has_value ? "--%s=%s" : "--%s", key, value) < 0)
                rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            else
                rc = push_arg(cfg, arg, err);
        }
    }
    free(text);
    return rc;
}

int cl_cli_config_expand(int *argc, char ***argv, int keep, const struct option *longopts,
                         cl_cli_accept accept, void *ctx, cl_cli_config *cfg, cl_error *err)
{
    const char *path = NULL;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    for (int i = keep; i < *argc; i++) {
        const char *a = (*argv)[i];
        if (strcmp(a, "--") == 0)
            break;
        if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) && i + 1 < *argc)
            path = (*argv)[++i];
        else if (strncmp(a, "--config=", 9) == 0)
            path = a + 9;
    }
    if (!path)
        return CL_OK;
    if ((rc = read_config(path, longopts, accept, ctx, cfg, err)) != CL_OK) {
        cl_cli_config_free(cfg);
        return rc;
    }
    cfg->argv = malloc(((size_t)*argc + cfg->nargs + 1) * sizeof *cfg->argv);
    if (!cfg->argv) {
        cl_cli_config_free(cfg);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    memcpy(cfg->argv, *argv, (size_t)keep * sizeof *cfg->argv);
    if (cfg->nargs) /* args is NULL for a file without settings */
        memcpy(cfg->argv + keep, cfg->args, cfg->nargs * sizeof *cfg->argv);
    memcpy(cfg->argv + keep + cfg->nargs, *argv + keep,
           (size_t)(*argc - keep) * sizeof *cfg->argv);
    *argc += (int)cfg->nargs;
    cfg->argv[*argc] = NULL;
    *argv = cfg->argv;
    return CL_OK;
}

void cl_cli_config_free(cl_cli_config *cfg)
{
    for (size_t i = 0; i < cfg->nargs; i++)
        free(cfg->args[i]);
    free(cfg->args);
    free(cfg->argv);
    memset(cfg, 0, sizeof *cfg);
}

void cl_cli_catch_stop_signals(void (*handler)(int), bool ignore_pipe)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (ignore_pipe) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}
