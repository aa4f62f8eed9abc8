/*
 * cl_cli: command-line pieces shared by the cuplab programs: bounded number
 * parsing, the PORT[:BAUD[:PROTOCOL]] port spec, the --config file of
 * recurring settings, the one form of a usage error and what -q / -v mean.
 * Errors come back in cl_error; the programs print them.
 */
#ifndef CL_CLI_H
#define CL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_wire.h"

/* A usage error, on stderr as one line: "PROG: MESSAGE (see PROG --help)".
 * Returns `status`, the program's exit status for usage errors. */
int cl_cli_usage_error(const char *prog, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What the programs' -q / -v mean for the log: 0 errors only, 1 (the
 * default) warnings too, 2 or more informational messages too. */
void cl_cli_set_verbosity(int verbosity);

/* Whole-string numbers within [lo, hi]; false otherwise (*out untouched). */
bool cl_cli_double(const char *s, double lo, double hi, double *out);
bool cl_cli_long(const char *s, long lo, long hi, long *out);

/* Split "PORT[:BAUD[:PROTOCOL]]" in place: `spec` keeps the port name (a
 * name usb=VVVV:PPPP keeps its own colon);
 * *baud and *proto change only when the spec gives them.  CL_ERR_ARG with
 * a one-line reason otherwise. */
int cl_cli_port_spec(char *spec, int *baud, cl_wire_protocol *proto, cl_error *err);

/* What a program does with one config-file setting. */
enum {
    CL_CLI_UNKNOWN = -1,   /* not a setting of this program: error */
    CL_CLI_SKIP = 0,       /* valid, but not for this run: ignore */
    CL_CLI_OPTION = 1,     /* becomes "--key=value" (or "--key") */
    CL_CLI_POSITIONAL = 2, /* the value becomes a bare argument ("port = X") */
};

/* Decides about `key`; `opt` is the long option of that name or NULL. */
typedef int (*cl_cli_accept)(void *ctx, const char *key, const struct option *opt);

typedef struct cl_cli_config {
    char **args;  /* settings turned into arguments */
    size_t nargs;
    char **argv;  /* the merged argument vector */
} cl_cli_config;

/* A config file is a regular file of at most CL_CLI_CONFIG_MAX bytes, in
 * lines of at most CL_CLI_LINE_MAX bytes (newline not counted), without NUL
 * bytes. */
#define CL_CLI_CONFIG_MAX (1 << 20)
#define CL_CLI_LINE_MAX 4096

/* If the arguments after the first `keep` ones name a config file (-c FILE,
 * --config FILE, --config=FILE), read it ("key = value" lines, '#'
 * comments, a key without value is a flag) and make *argv the first `keep`
 * arguments, then the settings, then the rest, so that options on the
 * command line override the file.  `accept` may be NULL (every long option
 * but config, help and version).  Errors name the file and line. */
int cl_cli_config_expand(int *argc, char ***argv, int keep, const struct option *longopts,
                         cl_cli_accept accept, void *ctx, cl_cli_config *cfg, cl_error *err);
void cl_cli_config_free(cl_cli_config *cfg); /* accepts a zeroed struct */

/* Call `handler` on SIGINT, SIGTERM and SIGHUP (no SA_RESTART: blocking calls
 * return EINTR, so waits end early); `ignore_pipe` also ignores SIGPIPE. */
void cl_cli_catch_stop_signals(void (*handler)(int), bool ignore_pipe);

#endif
