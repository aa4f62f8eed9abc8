/* firmware/board/options: command line of cuplab-board. */
#ifndef CB_OPTIONS_H
#define CB_OPTIONS_H

#include "cl_error.h"

#define CB_PROG "cuplab-board"

/* Exit codes (documented in --help). */
enum {
    CB_EXIT_OK = 0,        /* --duration reached, or SIGINT/SIGTERM */
    CB_EXIT_RUNTIME = 1,   /* error */
    CB_EXIT_USAGE = 2,     /* bad command line */
    CB_EXIT_NO_READER = 3, /* nobody opened the pty within --wait */
};

typedef struct cb_options {
    const char *firmware;  /* ELF file */
    const char *log;       /* CSV of every conversion's input voltage, or NULL */
    const char *stats;     /* JSON of timing figures at exit, or NULL */
    const char *eeprom;    /* EEPROM image: read at start if it exists, written at exit */
    unsigned long seed;    /* of the cups the inputs follow */
    double duration_s;     /* emulated seconds to run; 0 = until a signal */
    double wait_s;         /* for the first reader */
    double boot_delay_s;   /* from the reader's open to the firmware's start */
    int vcc_mv;            /* VCC = AVCC = AREF */
    double start_s;        /* model time at the firmware's start */
    double reset_at_s;     /* reset the board once at this emulated second; 0 never */
    double unplug_at_s;    /* pull the cable once at this emulated second; 0 never */
    double unplug_wall_s;  /* ... for this many wall-clock seconds */
} cb_options;

/* Parse argv into *o.  Returns 1 when --help or --version was printed,
 * 0 when the board should run, CL_ERR_ARG with the reason otherwise. */
int cb_options_parse(cb_options *o, int argc, char **argv, cl_error *err);

#endif
