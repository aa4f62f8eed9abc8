/* sim/pty: the device end of cuplab-sim: a pseudo-terminal in raw mode, the
 * --link symlink to it, waiting for a reader, writing under back-pressure,
 * unplugging, and the clock every wait here runs on. */
#ifndef SIM_PTY_H
#define SIM_PTY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

/* Outcome of a step that waits or writes. */
enum {
    SIM_PTY_OK = 0,
    SIM_PTY_STOP = 1,      /* *stop was set (a signal) */
    SIM_PTY_GONE = 2,      /* the reader closed the device */
    SIM_PTY_NO_READER = 3, /* nobody opened the device in time */
    SIM_PTY_ERROR = -1,    /* logged */
};

/* The first pty and one more per --disconnect. */
#define SIM_PTY_MAX_OPENS (1 + SIM_MAX_DISCONNECTS)

typedef struct sim_pty {
    volatile sig_atomic_t *stop;       /* set from a signal handler: every wait ends */
    const char *link;                  /* --link PATH, or NULL */
    int master;                        /* -1 while unplugged */
    char slave[64];                    /* the current (or last) slave's path */
    char paths[SIM_PTY_MAX_OPENS][64]; /* every slave path opened, in order */
    int npaths;
} sim_pty;

void sim_pty_init(sim_pty *p, const char *link, volatile sig_atomic_t *stop);

/* Plug in: open a new pty, point --link at it, print its path on stdout
 * and wait at most wait_s seconds for a reader to open it.  p->master stays
 * open whenever the pty could be opened, whatever the outcome. */
int sim_pty_plug(sim_pty *p, double wait_s);

/* Before unplugging: let the reader catch up (at most a couple of seconds).
 * Returns the bytes it still has not read, or -1 if unknown. */
long sim_pty_settle(sim_pty *p);

/* Unplug: remove --link if it still points at the slave, close the pty. */
void sim_pty_close(sim_pty *p);

/* Write all n bytes, waiting while the pty is full and discarding what the
 * reader writes; *written is set to the bytes that went out. */
int sim_pty_write(sim_pty *p, const uint8_t *b, size_t n, size_t *written);

/* Sleep until cl_time_mono_s() reaches due_s, watching the pty. */
int sim_pty_wait_until(sim_pty *p, double due_s);

/* Sleep wall_s seconds (the pty may be closed). */
int sim_pty_sleep(sim_pty *p, double wall_s);

/* Keep the pty open until the reader closes it or linger_s seconds pass. */
void sim_pty_linger(sim_pty *p, double linger_s);

#endif
