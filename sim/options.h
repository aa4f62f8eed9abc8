/* sim/options: command line of cuplab-sim (parsing, --help, validation). */
#ifndef SIM_OPTIONS_H
#define SIM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "cl_wire.h"

#define SIM_PROG "cuplab-sim"
#define SIM_MAX_CUPS CL_WIRE_MAX_CHANNELS
#define SIM_MAX_DISCONNECTS 16

/* Exit codes (documented in --help). */
enum {
    SIM_EXIT_OK = 0,        /* done, also when the reader closed or on SIGINT/SIGTERM */
    SIM_EXIT_RUNTIME = 1,   /* error */
    SIM_EXIT_USAGE = 2,     /* bad command line */
    SIM_EXIT_NO_READER = 3, /* no reader within --wait */
};

/* One --disconnect T:D. */
typedef struct sim_outage {
    double t_s;    /* simulated time of the unplug */
    double wall_s; /* wall-clock duration of the outage */
} sim_outage;

typedef struct sim_options {
    int cups;
    double rate_hz, duration_s, time_scale, start_s;
    unsigned long seed;
    cl_wire_protocol proto;
    int technique; /* 0 = mixed, else cl_sim_technique */
    int adc_bits;
    bool checksum, no_time, labels, baud_garbage;
    double garbage_p;
    uint64_t drop;
    sim_outage outage[SIM_MAX_DISCONNECTS]; /* sorted by time, never overlapping */
    int noutages;
    const char *link, *truth, *log;
    double wait_s, linger_s;
} sim_options;

/* Parse argv into o (-v and -q set the cl_log level at once).  Returns -1 to
 * go on, or an exit code (help/version: 0, usage error: 2, message already
 * printed). */
int sim_options_parse(sim_options *o, int argc, char **argv);

/* Frames in the session: --duration times --rate, at least 1. */
uint64_t sim_options_frames(const sim_options *o);

/* Simulated seconds skipped by an outage of wall_s wall-clock seconds. */
double sim_options_outage_sim_s(const sim_options *o, double wall_s);

#endif
