/* sim/session: the simulated cups, sensors and dropped frames of a
 * cuplab-sim run, drawn from generators derived from --seed. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>

#include "cl_log.h"

/* splitmix64: turns (seed, stream) into well-separated generator seeds. */
static unsigned long derive_seed(unsigned long seed, uint64_t stream)
{
    uint64_t z = (uint64_t)seed + stream * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (unsigned long)(z & 0xFFFFFFFFUL) | 1UL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Choose n distinct frames to drop, never the first or the last one, so
 * that every drop shows as a gap between two frames that arrive (the
 * options checked that n leaves enough frames). */
static int choose_drops(sim_session *s, uint64_t n)
{
    if (n == 0)
        return 0;
    s->drop = malloc(n * sizeof *s->drop);
    if (!s->drop) {
        cl_log(CL_LOG_ERROR, "out of memory");
        return SIM_EXIT_RUNTIME;
    }
    size_t have = 0;
    while (have < n) {
        while (have < n)
            s->drop[have++] =
                1 + (uint64_t)(gsl_rng_uniform(s->fault) * (double)(s->nframes - 2));
        qsort(s->drop, have, sizeof *s->drop, cmp_u64);
        size_t w = 0;
        for (size_t i = 0; i < have; i++)
            if (w == 0 || s->drop[i] != s->drop[w - 1])
                s->drop[w++] = s->drop[i];
        have = w;
    }
    s->ndrop = have;
    return 0;
}

static void make_cups(sim_session *s, const sim_options *o)
{
    double t = o->start_s;
    snprintf(s->device_id, sizeof s->device_id, "SIM-%lu", o->seed);
    for (int i = 0; i < o->cups; i++) {
        cl_sim_technique tech = o->technique ? (cl_sim_technique)o->technique
                                : i % 2      ? CL_SIM_FIRE
                                             : CL_SIM_PUMP;
        cl_sim_cup_random(&s->cup[i], tech, t, s->model);
        cl_sim_sensor_random(&s->sensor[i], s->model);
        s->sensor[i].adc_bits = o->adc_bits;
        snprintf(s->serial[i], sizeof s->serial[i], "SIM-%lu-%02d", o->seed, i + 1);
        /* The next cup goes on a few seconds after this one holds. */
        t = cl_sim_hold_start(&s->cup[i]) + 1 + 3 * gsl_rng_uniform(s->model);
    }
}

int sim_session_init(sim_session *s, const sim_options *o)
{
    *s = (sim_session){.cups = o->cups, .nframes = sim_options_frames(o)};
    s->model = gsl_rng_alloc(gsl_rng_mt19937);
    s->noise = gsl_rng_alloc(gsl_rng_mt19937);
    s->fault = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->model || !s->noise || !s->fault) {
        cl_log(CL_LOG_ERROR, "out of memory");
        return SIM_EXIT_RUNTIME;
    }
    gsl_rng_set(s->model, derive_seed(o->seed, 1));
    gsl_rng_set(s->noise, derive_seed(o->seed, 2));
    gsl_rng_set(s->fault, derive_seed(o->seed, 3));
    make_cups(s, o);
    return choose_drops(s, o->drop);
}

void sim_session_free(sim_session *s)
{
    gsl_rng_free(s->model);
    gsl_rng_free(s->noise);
    gsl_rng_free(s->fault);
    free(s->drop);
    *s = (sim_session){0};
}

void sim_session_read(sim_session *s, double t_s, int32_t *raw)
{
    for (int i = 0; i < s->cups; i++)
        raw[i] = cl_sim_sensor_read(&s->sensor[i], cl_sim_sample_kpa(&s->cup[i], t_s),
                                    s->cup[i].noise_kpa, s->noise);
}
