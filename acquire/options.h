/* acquire/options: command line of cuplab-acquire. */
#ifndef ACQUIRE_OPTIONS_H
#define ACQUIRE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/cl_acq.h"
#include "cl_cli.h"
#include "cl_target.h"
#include "cl_web.h"

#define ACQ_MAX_PORTS 16
#define ACQ_MAX_CUPS 64
#define ACQ_MAX_PROFILES 64
#define ACQ_MAX_SEARCH 16

/* Exit codes (documented in the man page and --help). */
enum {
    ACQ_EXIT_OK = 0,      /* recording complete */
    ACQ_EXIT_FAILED = 1,  /* recording ended by an error; file valid to its last flush */
    ACQ_EXIT_USAGE = 2,   /* bad command line */
    ACQ_EXIT_NOSTART = 3, /* could not start (port, device, existing file); nothing written */
    ACQ_EXIT_LOSS = 4,    /* recording complete, but frames were dropped (overruns) */
};

typedef struct acq_options {
    cl_acq_config cfg;
    cl_acq_port ports[ACQ_MAX_PORTS];
    cl_session_cup cups[ACQ_MAX_CUPS];
    const char *profile_paths[ACQ_MAX_PROFILES]; /* --profile, copied into the file */
    size_t nprofiles;
    const char *search[ACQ_MAX_SEARCH]; /* --search patterns (cfg.search) */
    bool list_ports;
    int list_baud;         /* --list-ports --identify: -b and -P */
    cl_wire_protocol list_protocol;
    bool identify;         /* --identify: print the device's identity */
    const char *configure; /* --configure SETTINGS */
    bool markers;   /* read marker commands from stdin */
    int verbosity;  /* 0 quiet, 1 normal, 2 verbose */
    cl_target target;        /* --target (cfg.meta.target points here) */
    const char *target_band; /* --target-band, taken once the target is known */
    cl_web_listen live; /* --live, --live-token: serve the live view */
    cl_cli_config config; /* arguments from --config FILE (cl_cli_config_free) */
} acq_options;

/* Parse argv.  Returns -1 to go on, or an exit code (help/version: 0,
 * usage error: 2, message already printed). */
int acq_options_parse(acq_options *o, int argc, char **argv);

#endif
