/*
 * cl_cupset: cup-set profiles, a set of cups with their internal volumes
 * (entered or measured by gas expansion) and baseline leaks (fitted decays).
 * Reads and writes the "cupset" kind of profile (docs/profile-format.md;
 * what both kinds share is cl_profile).
 */
#ifndef CL_CUPSET_H
#define CL_CUPSET_H

#include <stddef.h>

#include "cl_error.h"

typedef struct cl_cupset cl_cupset;

typedef struct cl_cupset_cup {
    const char *cup_id, *material, *size;
    double volume_ml, volume_u_ml;  /* NaN if unknown; u: standard uncertainty */
    double leak_tau_s, leak_tau_se; /* baseline leak on a sealed plate; NaN if unknown */
    double leak_q_mbarl_s;          /* volumetric leak rate at leak_at_kpa */
    double leak_at_kpa;
    /* --- details (NaN / NULL when not applicable) --- */
    const char *volume_method; /* "entered", "gas-expansion" */
    /* gas expansion: reference volume and absolute pressures (kPa) of the
     * reference volume before, the cup before and both after opening the
     * valve; exp_p_u_kpa: standard uncertainty of each pressure reading */
    double exp_vref_ml, exp_vref_u_ml, exp_p_ref_kpa, exp_p_cup_kpa, exp_p_final_kpa,
        exp_p_u_kpa;
    /* leak fit */
    const char *leak_model;  /* "exp" or "linear" (Q from the slope) */
    const char *leak_source; /* recording the decay came from */
    double leak_q_u_mbarl_s; /* standard uncertainty of Q */
    double leak_p0_kpa, leak_p0_se, leak_p_inf_kpa, leak_p_inf_se, leak_corr_pinf_tau;
    double leak_slope_kpa_s, leak_slope_se;
    double leak_r2, leak_sigma_kpa, leak_t_from_s, leak_t_to_s;
    size_t leak_n;         /* samples fitted */
    int leak_identifiable; /* 1 yes, 0 no (p_inf and tau too
                              correlated), -1 unknown */
} cl_cupset_cup;

/* Set-level metadata (strings NULL when unknown). */
typedef struct cl_cupset_meta {
    const char *date, *valid_until, *operator_name, *notes, *software;
    double ambient_kpa;   /* absolute ambient pressure used, NaN if none */
    double temperature_c; /* NaN if not recorded */
} cl_cupset_meta;

/* Parse a cup-set profile from JSON text / a file.  Validates format,
 * version and kind; CL_ERR_FORMAT / CL_ERR_VERSION with a one-line reason
 * otherwise. */
int cl_cupset_parse(const char *json, cl_cupset **out, cl_error *err);
int cl_cupset_load(const char *path, cl_cupset **out, cl_error *err);
void cl_cupset_free(cl_cupset *c); /* accepts NULL */
const char *cl_cupset_id(const cl_cupset *c);
size_t cl_cupset_count(const cl_cupset *c);
const cl_cupset_cup *cl_cupset_get(const cl_cupset *c, size_t i);
/* The cup with this id, or NULL. */
const cl_cupset_cup *cl_cupset_find(const cl_cupset *c, const char *cup_id);
/* The set as JSON text (malloc'ed), as written to files. */
char *cl_cupset_to_json(const cl_cupset *c);

/* Building a cup set: an empty set with this id (NULL on allocation
 * failure), cups appended in order (strings copied; CL_ERR_ARG for a
 * missing or duplicate id), metadata copied. */
cl_cupset *cl_cupset_new(const char *id);
int cl_cupset_add(cl_cupset *c, const cl_cupset_cup *cup, cl_error *err);
int cl_cupset_set_meta(cl_cupset *c, const cl_cupset_meta *m, cl_error *err);
const cl_cupset_meta *cl_cupset_get_meta(const cl_cupset *c);
/* A cup with every number NaN, every string NULL, identifiable -1. */
void cl_cupset_cup_init(cl_cupset_cup *cup);

#endif
