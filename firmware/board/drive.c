#include "drive.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_sim.h"

#define APPLY_FIRST_S 0.5
#define APPLY_STEP_S 0.7

struct cb_drive {
    cl_sim_cup cup[CB_DRIVE_INPUTS];
    gsl_rng *noise;
    int vcc_mv;
    FILE *log;
};

int cb_drive_create(cb_drive **out, unsigned long seed, int vcc_mv, const char *log,
                    cl_error *err)
{
    cb_drive *d = calloc(1, sizeof *d);
    gsl_rng *model = gsl_rng_alloc(gsl_rng_mt19937);

    *out = NULL;
    if (d)
        d->noise = gsl_rng_alloc(gsl_rng_mt19937);
    if (!d || !model || !d->noise) {
        gsl_rng_free(model);
        if (d)
            gsl_rng_free(d->noise);
        free(d);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    gsl_rng_set(model, seed);
    gsl_rng_set(d->noise, seed + 1);
    for (int i = 0; i < CB_DRIVE_INPUTS; i++)
        cl_sim_cup_random(&d->cup[i], i % 2 ? CL_SIM_FIRE : CL_SIM_PUMP,
                          APPLY_FIRST_S + APPLY_STEP_S * i, model);
    gsl_rng_free(model);
    d->vcc_mv = vcc_mv;
    if (log) {
        d->log = fopen(log, "w");
        if (!d->log) {
            int e = errno;
            cb_drive_destroy(d, NULL);
            return cl_error_set(err, cl_error_from_errno(e), "%s: %s", log, strerror(e));
        }
        fputs("cycle,channel,mv\n", d->log);
    }
    *out = d;
    return CL_OK;
}

int cb_drive_destroy(cb_drive *d, cl_error *err)
{
    int rc = CL_OK;
    if (!d)
        return rc;
    if (d->log && (ferror(d->log) | fclose(d->log)))
        rc = cl_error_set(err, CL_ERR_IO, "writing the log failed");
    gsl_rng_free(d->noise);
    free(d);
    return rc;
}

int cb_drive_mv(cb_drive *d, uint64_t cycle, int ch, double t_s)
{
    const cl_sim_cup *c = &d->cup[ch];
    double p = cl_sim_sample_kpa(c, t_s);
    if (c->noise_kpa > 0)
        p += gsl_ran_gaussian(d->noise, c->noise_kpa);
    double v = d->vcc_mv * (CL_NOMINAL_SENSITIVITY_PER_KPA * p + CL_NOMINAL_OFFSET);
    int mv = (int)lround(fmin(fmax(v, 0), d->vcc_mv));
    if (d->log)
        fprintf(d->log, "%" PRIu64 ",%d,%d\n", cycle, ch, mv);
    return mv;
}

void cb_drive_reset(cb_drive *d, uint64_t cycle)
{
    if (d->log)
        fprintf(d->log, "%" PRIu64 ",-1,0\n", cycle);
}
