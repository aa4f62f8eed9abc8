/* sim/session: what cuplab-sim simulates, fixed by the options and --seed:
 * the cups and their sensors, the frames to drop and the three random
 * generators. */
#ifndef SIM_SESSION_H
#define SIM_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "cl_sim.h"
#include "options.h"
#include "style.h"

typedef struct sim_session {
    int cups;
    cl_sim_cup cup[SIM_MAX_CUPS];
    cl_sim_sensor sensor[SIM_MAX_CUPS];
    char serial[SIM_MAX_CUPS][32];
    char cup_id[SIM_MAX_CUPS][16]; /* S1, M1, L1, ... by size with --sites; C1, ... */
    char device_id[32];
    sim_style_session style;       /* this session's factors (--vacuum etc.) */
    /* Three independent generators derived from --seed: "model" (cup and
     * sensor parameters, application times), "noise" (sensor noise, one
     * draw per channel per frame, including frames that are then dropped or
     * lost) and "fault" (which frames are dropped, garbled or preceded by
     * junk).  Fault options therefore never change the values of the
     * frames. */
    gsl_rng *model, *noise, *fault;
    /* A fourth, only with --breathing irregular or --ar-noise: the
     * breathing's modulation, then the AR noise's draws (so that neither
     * changes the cups or the sensor noise of a seed). */
    gsl_rng *physio;
    cl_sim_disturb_state disturb[SIM_MAX_CUPS];
    uint64_t nframes;
    uint64_t *drop; /* sorted indices of the frames to leave out */
    size_t ndrop;
} sim_session;

/* Draw the session described by o.  Returns 0, or an exit code (logged);
 * call sim_session_free() in either case. */
int sim_session_init(sim_session *s, const sim_options *o);
void sim_session_free(sim_session *s);

/* The raw reading of every cup's sensor at simulated time t_s (one noise
 * draw per cup). */
void sim_session_read(sim_session *s, double t_s, int32_t *raw);

/* The device's announcement, one put(ctx, key, value) per line, in the
 * order the text protocol sends it. */
void sim_session_announce(const sim_session *s, const sim_options *o,
                          void (*put)(void *ctx, const char *key, const char *value),
                          void *ctx);

/* Derive a generator seed from (seed, stream): well-separated streams. */
unsigned long sim_session_derive_seed(unsigned long seed, uint64_t stream);

#endif
