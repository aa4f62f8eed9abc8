/* sim/style: cups drawn in a practitioner's style (see style.h). */
#include "style.h"

#include <gsl/gsl_randist.h>
#include <math.h>

void sim_style_defaults(sim_style *s)
{
    *s = (sim_style){.vacuum_kpa = 300 * CL_KPA_PER_MMHG,
                     .vacuum_sd_kpa = 20 * CL_KPA_PER_MMHG,
                     .strokes_min = 2,
                     .strokes_max = 4,
                     .hold_s = 600,
                     .hold_sd_s = 60,
                     .variability = 0.05};
}

static double factor(double sd, gsl_rng *r)
{
    double f = 1 + (sd > 0 ? gsl_ran_gaussian(r, sd) : 0);
    return f < 0.5 ? 0.5 : f;
}

void sim_style_session_draw(const sim_style *s, gsl_rng *r, sim_style_session *out)
{
    out->vacuum_factor = factor(s->variability, r);
    out->hold_factor = factor(s->variability, r);
}

double sim_style_size_factor(char size)
{
    return size == 'S' ? SIM_STYLE_SMALL : size == 'L' ? SIM_STYLE_LARGE : SIM_STYLE_MEDIUM;
}

void sim_style_cup(const sim_style *s, const sim_style_session *ss, cl_sim_technique t,
                   char size, double t0_s, gsl_rng *r, cl_sim_cup *c)
{
    cl_sim_cup_random(c, t, t0_s, r);
    double vac = s->vacuum_kpa * ss->vacuum_factor * sim_style_size_factor(size);
    if (s->vacuum_sd_kpa > 0)
        vac += gsl_ran_gaussian(r, s->vacuum_sd_kpa);
    vac = fmax(vac, SIM_STYLE_MIN_MMHG * CL_KPA_PER_MMHG);
    vac = fmin(vac, -CL_SIM_LIMIT_KPA);
    double scale = -vac / c->peak_kpa; /* the drawn peak is < 0 */
    c->peak_kpa = -vac;
    c->p_inf_kpa *= scale;
    if (c->technique == CL_SIM_FIRE)
        c->fire_initial_kpa *= scale;
    else
        c->pump_strokes =
            s->strokes_min +
            (int)gsl_rng_uniform_int(r, (unsigned long)(s->strokes_max - s->strokes_min + 1));
    double hold = s->hold_s * ss->hold_factor;
    if (s->hold_sd_s > 0)
        hold += gsl_ran_gaussian(r, s->hold_sd_s);
    c->hold_s = fmax(hold, 30);
}
