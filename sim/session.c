/* sim/session: the simulated cups, sensors and dropped frames of a
 * cuplab-sim run, drawn from generators derived from --seed. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_log.h"

/* splitmix64: turns (seed, stream) into well-separated generator seeds. */
unsigned long sim_session_derive_seed(unsigned long seed, uint64_t stream)
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

/* Cup ids: by size within the set (S1, S2, M1, ...) when --sites gives
 * sizes, else C1, C2, ... */
static void name_cups(sim_session *s, const sim_options *o)
{
    int count[3] = {0, 0, 0};
    for (int i = 0; i < o->cups; i++) {
        if (!o->nsites) {
            snprintf(s->cup_id[i], sizeof s->cup_id[i], "C%d", i + 1);
            continue;
        }
        char z = o->site[i].size;
        int k = z == 'S' ? 0 : z == 'M' ? 1 : 2;
        snprintf(s->cup_id[i], sizeof s->cup_id[i], "%c%d", z, ++count[k]);
    }
}

static void make_cups(sim_session *s, const sim_options *o, gsl_rng *sensors)
{
    double t = o->start_s;
    snprintf(s->device_id, sizeof s->device_id, "SIM-%lu", o->seed);
    if (o->styled)
        sim_style_session_draw(&o->style, s->model, &s->style);
    for (int i = 0; i < o->cups; i++) {
        cl_sim_technique tech = o->technique ? (cl_sim_technique)o->technique
                                : i % 2      ? CL_SIM_FIRE
                                             : CL_SIM_PUMP;
        if (o->styled)
            sim_style_cup(&o->style, &s->style, tech, o->nsites ? o->site[i].size : 'M', t,
                          s->model, &s->cup[i]);
        else
            cl_sim_cup_random(&s->cup[i], tech, t, s->model);
        cl_sim_sensor_random(&s->sensor[i], sensors ? sensors : s->model);
        s->sensor[i].adc_bits = o->adc_bits;
        if (sensors)
            snprintf(s->serial[i], sizeof s->serial[i], "SIMS-%lu-%02d", o->sensor_seed, i + 1);
        else
            snprintf(s->serial[i], sizeof s->serial[i], "SIM-%lu-%02d", o->seed, i + 1);
        if (s->physio) {
            if (o->breathing_irregular)
                cl_sim_cup_irregular(&s->cup[i], SIM_BREATH_DRIFT, s->physio);
            s->cup[i].disturb_kpa = o->ar_noise_kpa;
            s->cup[i].disturb_tau_s = o->ar_noise_tau_s;
        }
        /* The next cup goes on a few seconds after this one holds. */
        t = cl_sim_hold_start(&s->cup[i]) + 1 + 3 * gsl_rng_uniform(s->model);
    }
    name_cups(s, o);
}

int sim_session_init(sim_session *s, const sim_options *o)
{
    gsl_rng *sensors = NULL;
    *s = (sim_session){.cups = o->cups, .nframes = sim_options_frames(o),
                       .style = {1, 1}};
    s->model = gsl_rng_alloc(gsl_rng_mt19937);
    s->noise = gsl_rng_alloc(gsl_rng_mt19937);
    s->fault = gsl_rng_alloc(gsl_rng_mt19937);
    if (o->sensor_seed_given)
        sensors = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->model || !s->noise || !s->fault || (o->sensor_seed_given && !sensors)) {
        gsl_rng_free(sensors);
        cl_log(CL_LOG_ERROR, "out of memory");
        return SIM_EXIT_RUNTIME;
    }
    gsl_rng_set(s->model, sim_session_derive_seed(o->seed, 1));
    gsl_rng_set(s->noise, sim_session_derive_seed(o->seed, 2));
    gsl_rng_set(s->fault, sim_session_derive_seed(o->seed, 3));
    if (sensors)
        gsl_rng_set(sensors, sim_session_derive_seed(o->sensor_seed, 5));
    if (o->breathing_irregular || o->ar_noise_kpa > 0) {
        if (!(s->physio = gsl_rng_alloc(gsl_rng_mt19937))) {
            gsl_rng_free(sensors);
            cl_log(CL_LOG_ERROR, "out of memory");
            return SIM_EXIT_RUNTIME;
        }
        gsl_rng_set(s->physio, sim_session_derive_seed(o->seed, 6));
    }
    make_cups(s, o, sensors);
    gsl_rng_free(sensors);
    return choose_drops(s, o->drop);
}

void sim_session_free(sim_session *s)
{
    gsl_rng_free(s->model);
    gsl_rng_free(s->noise);
    gsl_rng_free(s->fault);
    gsl_rng_free(s->physio);
    free(s->drop);
    *s = (sim_session){0};
}

void sim_session_read(sim_session *s, double t_s, int32_t *raw)
{
    for (int i = 0; i < s->cups; i++)
        raw[i] = cl_sim_sensor_read(&s->sensor[i],
                                    cl_sim_sample_kpa(&s->cup[i], t_s) +
                                        cl_sim_disturbance(&s->cup[i], &s->disturb[i], t_s,
                                                           s->physio),
                                    s->cup[i].noise_kpa, s->noise);
}

void sim_session_announce(const sim_session *s, const sim_options *o,
                          void (*put)(void *ctx, const char *key, const char *value),
                          void *ctx)
{
    char v[32];
    snprintf(v, sizeof v, "%d", CL_WIRE_PROTOCOL_VERSION);
    put(ctx, "protocol_version", v);
    put(ctx, "device", s->device_id);
    put(ctx, "firmware", SIM_PROG " " CUPLAB_VERSION);
    snprintf(v, sizeof v, "%d", o->cups);
    put(ctx, "channels", v);
    snprintf(v, sizeof v, "%.17g", o->rate_hz);
    put(ctx, "rate_hz", v);
    snprintf(v, sizeof v, "%d", o->adc_bits);
    put(ctx, "adc_bits", v);
    for (int i = 0; i < o->cups; i++) {
        snprintf(v, sizeof v, "sensor%d", i + 1);
        put(ctx, v, s->serial[i]);
    }
    if (o->no_time) {
        put(ctx, "timestamp", "none");
    } else {
        put(ctx, "time_units", "ms");
        if (!o->labels)
            put(ctx, "timestamp", "first");
    }
}
