/* sim/style: a practitioner's way of cupping, as cuplab-sim simulates it
 * (--vacuum, --strokes, --hold, --variability, the sizes in --sites): the
 * target vacuum and hold they aim for, how many pump strokes they use and how
 * much they vary from cup to cup and from session to session. */
#ifndef SIM_STYLE_H
#define SIM_STYLE_H

#include <gsl/gsl_rng.h>

#include "cl_sim.h"

/* Cup sizes of --sites NAME:SIZE: the vacuum a practitioner reaches with
 * the same effort grows with the cup (An et al. 2021: larger cups, deeper
 * vacuum), by these factors. */
#define SIM_STYLE_SMALL 0.90
#define SIM_STYLE_MEDIUM 1.00
#define SIM_STYLE_LARGE 1.10
/* Never shallower than this (mmHg): a cup needs some vacuum to stay on. */
#define SIM_STYLE_MIN_MMHG 40.0

typedef struct sim_style {
    double vacuum_kpa, vacuum_sd_kpa; /* aimed-for vacuum (positive) and its SD
                                         from cup to cup */
    int strokes_min, strokes_max;     /* pump strokes per cup, uniform */
    double hold_s, hold_sd_s;         /* aimed-for hold and its SD from cup to cup */
    double variability;               /* SD of the session's relative shift of
                                         vacuum and hold (0.05 = 5 %) */
} sim_style;

/* What a session adds to the style: both factors multiply the style's
 * means for every cup of the session. */
typedef struct sim_style_session {
    double vacuum_factor, hold_factor;
} sim_style_session;

/* The default style: 300 mmHg, SD 20 mmHg, 2-4 strokes, 600 s, SD 60 s,
 * variability 0.05. */
void sim_style_defaults(sim_style *s);

/* Draw the session's factors: 1 + N(0, variability) each, at least 0.5. */
void sim_style_session_draw(const sim_style *s, gsl_rng *r, sim_style_session *out);

/* Vacuum factor of a size letter ('S', 'M', 'L'); 1 for anything else. */
double sim_style_size_factor(char size);

/* A cup of technique t applied at t0_s in this style: the parameters
 * cl_sim_cup_random() draws for the technique (leak, cooling, release,
 * ripple), then the practitioner's vacuum (times the session's and the
 * size's factors, plus the cup's N(0, SD); pump: the peak, fire: the vacuum
 * after cooling, the drop after the flame keeping its drawn proportion),
 * strokes (pump) and hold.  The leak's asymptote keeps its drawn proportion
 * of the peak.  Vacuum between SIM_STYLE_MIN_MMHG and CL_SIM_LIMIT_KPA, hold
 * at least 30 s. */
void sim_style_cup(const sim_style *s, const sim_style_session *ss, cl_sim_technique t,
                   char size, double t0_s, gsl_rng *r, cl_sim_cup *c);

#endif
