/* sim/options: command line of cuplab-sim (parsing, --help, validation). */
#ifndef SIM_OPTIONS_H
#define SIM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "cl_wire.h"
#include "style.h"

#define SIM_PROG "cuplab-sim"
#define SIM_MAX_CUPS CL_WIRE_MAX_CHANNELS
#define SIM_BREATH_DRIFT 0.2   /* --breathing irregular: +-20 % of the frequency */
#define SIM_AR_NOISE_TAU_S 2.5 /* --ar-noise: default correlation time */
#define SIM_MAX_DISCONNECTS 16
#define SIM_MAX_PROFILES 64
#define SIM_NAME 64 /* bytes of a site name, NUL included */

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

/* One --sites entry: a body site and the size of the cup put there. */
typedef struct sim_site {
    char name[SIM_NAME];
    char size; /* 'S', 'M' or 'L' */
} sim_site;

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
    bool duration_given; /* -d on the command line (else --output sizes it) */
    int cups_given;      /* --cups N as given (--sites may set cups too); 0: not given */

    /* --output: a complete session file written directly, no pty */
    const char *output;
    bool force, markers;
    const char *practitioner, *subject, *cup_set, *created, *uuid;
    const char *profile[SIM_MAX_PROFILES]; /* --profile: copied into the file */
    int nprofiles;
    /* --sites: one cup per site (sets cups) */
    sim_site site[SIM_MAX_CUPS];
    int nsites;
    /* practitioner style: --vacuum, --strokes, --hold, --variability */
    bool styled;
    sim_style style;
    /* physiology: --breathing irregular, --ar-noise SD[:TAU] */
    bool breathing_irregular;
    double ar_noise_kpa, ar_noise_tau_s;
    /* sensors: --sensor-seed draws them from their own generator, so that
     * sessions of different seeds share the same sensors */
    bool sensor_seed_given;
    unsigned long sensor_seed;
    const char *points_dir; /* --calibration-points DIR */
} sim_options;

/* Parse argv into o (-v and -q set the cl_log level at once).  Returns -1 to
 * go on, or an exit code (help/version: 0, usage error: 2, message already
 * printed). */
int sim_options_parse(sim_options *o, int argc, char **argv);

/* Whether o asks for files (--output, --calibration-points) instead of
 * a pty. */
bool sim_options_file_mode(const sim_options *o);

/* Frames in the session: --duration times --rate, at least 1. */
uint64_t sim_options_frames(const sim_options *o);

/* Simulated seconds skipped by an outage of wall_s wall-clock seconds. */
double sim_options_outage_sim_s(const sim_options *o, double wall_s);

#endif
