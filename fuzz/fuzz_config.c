/*
 * libFuzzer target for the config-file parser (built and run by
 * fuzz/fuzz.mk): the input is written to a scratch file and expanded with
 * cl_cli_config_expand() against a small option table.  Invariants: a
 * refused file comes with a message naming it; an accepted one gives the
 * program name first, then one argument per setting ("--key", "--key=value"
 * or a positional value), then the command line, NULL-terminated.
 * Seeds: fuzz/seeds/config.
 */
#include <stdlib.h>
#include <string.h>

#include "cl_cli.h"
#include "fuzz_file.h"

static const struct option opts[] = {
    {"practitioner", required_argument, NULL, 'p'},
    {"site", required_argument, NULL, 's'},
    {"cup", required_argument, NULL, 'u'},
    {"no-reconnect", no_argument, NULL, 'n'},
    {"quiet", no_argument, NULL, 'q'},
    {"config", required_argument, NULL, 'c'},
    {NULL, 0, NULL, 0},
};

static int accept(void *ctx, const char *key, const struct option *opt)
{
    (void)ctx;
    if (!strcmp(key, "port"))
        return CL_CLI_POSITIONAL;
    if (!strcmp(key, "quiet"))
        return CL_CLI_SKIP;
    return opt && strcmp(key, "config") ? CL_CLI_OPTION : CL_CLI_UNKNOWN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write("fuzz.conf", data, size);
    char *argv0[] = {"prog", "-c", (char *)path, "--site=cmd", NULL};
    char **argv = argv0;
    int argc = 4;
    cl_cli_config cfg;
    cl_error e;

    if (cl_cli_config_expand(&argc, &argv, 1, opts, accept, NULL, &cfg, &e) != 0) {
        FUZZ_CHECK(e.msg[0] && strstr(e.msg, path));
        FUZZ_CHECK(argv == argv0 && argc == 4);
        cl_cli_config_free(&cfg);
        return 0;
    }
    FUZZ_CHECK(argc == 4 + (int)cfg.nargs && argv[argc] == NULL);
    FUZZ_CHECK(strcmp(argv[0], "prog") == 0 && strcmp(argv[argc - 1], "--site=cmd") == 0);
    for (int i = 1; i <= (int)cfg.nargs; i++) {
        FUZZ_CHECK(argv[i] && strlen(argv[i]) <= CL_CLI_LINE_MAX + 2);
        FUZZ_CHECK(!strchr(argv[i], '\n'));
    }
    cl_cli_config_free(&cfg);
    return 0;
}
