/*
 * cl_cupset: cup-set profiles (JSON via jansson, through cl_profile's
 * document helpers), in the layout docs/profile-format.md specifies.
 */
#include "cl_cupset.h"
#include "cl_profile.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cl_cupset {
    char *id;
    cl_cupset_meta meta; /* strings owned */
    cl_cupset_cup *cups; /* strings owned */
    size_t n, cap;
};

/* ================================================================== data */

void cl_cupset_cup_init(cl_cupset_cup *c)
{
    memset(c, 0, sizeof *c);
    c->volume_ml = c->volume_u_ml = NAN;
    c->leak_tau_s = c->leak_tau_se = c->leak_q_mbarl_s = c->leak_at_kpa = NAN;
    c->exp_vref_ml = c->exp_vref_u_ml = c->exp_p_ref_kpa = c->exp_p_cup_kpa = NAN;
    c->exp_p_final_kpa = c->exp_p_u_kpa = NAN;
    c->leak_q_u_mbarl_s = c->leak_p0_kpa = c->leak_p0_se = c->leak_p_inf_kpa = NAN;
    c->leak_p_inf_se = c->leak_corr_pinf_tau = c->leak_slope_kpa_s = c->leak_slope_se = NAN;
    c->leak_r2 = c->leak_sigma_kpa = c->leak_t_from_s = c->leak_t_to_s = NAN;
    c->leak_identifiable = -1;
}

static void cup_release(cl_cupset_cup *c)
{
    free((char *)c->cup_id);
    free((char *)c->material);
    free((char *)c->size);
    free((char *)c->volume_method);
    free((char *)c->leak_model);
    free((char *)c->leak_source);
}

static void meta_release(cl_cupset_meta *m)
{
    free((char *)m->date);
    free((char *)m->valid_until);
    free((char *)m->operator_name);
    free((char *)m->notes);
    free((char *)m->software);
}

cl_cupset *cl_cupset_new(const char *id)
{
    cl_cupset *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->meta.ambient_kpa = c->meta.temperature_c = NAN;
    if (cl_profile_set_str(&c->id, id ? id : "") != CL_OK) {
        free(c);
        return NULL;
    }
    return c;
}

void cl_cupset_free(cl_cupset *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        cup_release(&c->cups[i]);
    free(c->cups);
    meta_release(&c->meta);
    free(c->id);
    free(c);
}

/* strdup that keeps NULL; sets *ok false on allocation failure. */
static const char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

int cl_cupset_add(cl_cupset *c, const cl_cupset_cup *cup, cl_error *err)
{
    if (!cup->cup_id || !*cup->cup_id)
        return cl_error_set(err, CL_ERR_ARG, "cup without an id");
    if (cl_cupset_find(c, cup->cup_id))
        return cl_error_set(err, CL_ERR_ARG, "cup %s appears twice", cup->cup_id);
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        cl_cupset_cup *p = realloc(c->cups, cap * sizeof *p);
        if (!p)
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        c->cups = p;
        c->cap = cap;
    }
    bool ok = true;
    cl_cupset_cup *d = &c->cups[c->n];
    *d = *cup;
    d->cup_id = dup_or_null(cup->cup_id, &ok);
    d->material = dup_or_null(cup->material, &ok);
    d->size = dup_or_null(cup->size, &ok);
    d->volume_method = dup_or_null(cup->volume_method, &ok);
    d->leak_model = dup_or_null(cup->leak_model, &ok);
    d->leak_source = dup_or_null(cup->leak_source, &ok);
    if (!ok) {
        cup_release(d);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    c->n++;
    return CL_OK;
}

int cl_cupset_set_meta(cl_cupset *c, const cl_cupset_meta *m, cl_error *err)
{
    bool ok = true;
    cl_cupset_meta n = *m;
    n.date = dup_or_null(m->date, &ok);
    n.valid_until = dup_or_null(m->valid_until, &ok);
    n.operator_name = dup_or_null(m->operator_name, &ok);
    n.notes = dup_or_null(m->notes, &ok);
    n.software = dup_or_null(m->software, &ok);
    if (!ok) {
        meta_release(&n);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    meta_release(&c->meta);
    c->meta = n;
    return CL_OK;
}

const cl_cupset_meta *cl_cupset_get_meta(const cl_cupset *c)
{
    return &c->meta;
}
const char *cl_cupset_id(const cl_cupset *c)
{
    return c->id;
}
size_t cl_cupset_count(const cl_cupset *c)
{
    return c->n;
}

const cl_cupset_cup *cl_cupset_get(const cl_cupset *c, size_t i)
{
    return i < c->n ? &c->cups[i] : NULL;
}

const cl_cupset_cup *cl_cupset_find(const cl_cupset *c, const char *cup_id)
{
    for (size_t i = 0; cup_id && i < c->n; i++)
        if (strcmp(c->cups[i].cup_id, cup_id) == 0)
            return &c->cups[i];
    return NULL;
}

/* =============================================================== to JSON */

static json_t *cup_json(const cl_cupset_cup *c)
{
    json_t *e = json_object(), *o, *x;
    bool ok = e != NULL;
    ok = ok && cl_profile_put(e, "id", json_string(c->cup_id));
    ok = ok && cl_profile_put(e, "material", cl_profile_jstr(c->material));
    ok = ok && cl_profile_put(e, "size", cl_profile_jstr(c->size));
    if (isfinite(c->volume_ml)) {
        o = json_object();
        ok = ok && cl_profile_put(e, "volume", o);
        ok = ok && cl_profile_put(o, "ml", cl_profile_jnum(c->volume_ml));
        ok = ok && cl_profile_put(o, "u_ml", cl_profile_jnum(c->volume_u_ml));
        ok = ok && cl_profile_put(o, "method", cl_profile_jstr(c->volume_method));
        if (isfinite(c->exp_vref_ml)) {
            x = json_object();
            ok = ok && cl_profile_put(o, "expansion", x);
            ok = ok && cl_profile_put(x, "vref_ml", cl_profile_jnum(c->exp_vref_ml));
            ok = ok && cl_profile_put(x, "vref_u_ml", cl_profile_jnum(c->exp_vref_u_ml));
            ok = ok && cl_profile_put(x, "p_ref_abs_kpa", cl_profile_jnum(c->exp_p_ref_kpa));
            ok = ok && cl_profile_put(x, "p_cup_abs_kpa", cl_profile_jnum(c->exp_p_cup_kpa));
            ok =
                ok && cl_profile_put(x, "p_final_abs_kpa", cl_profile_jnum(c->exp_p_final_kpa));
            ok = ok && cl_profile_put(x, "p_u_kpa", cl_profile_jnum(c->exp_p_u_kpa));
        }
    } else {
        ok = ok && cl_profile_put(e, "volume", json_null());
    }
    if (isfinite(c->leak_tau_s) || isfinite(c->leak_q_mbarl_s) ||
        isfinite(c->leak_slope_kpa_s)) {
        o = json_object();
        ok = ok && cl_profile_put(e, "leak", o);
        ok = ok && cl_profile_put(o, "model", cl_profile_jstr(c->leak_model));
        ok = ok && cl_profile_put(o, "source", cl_profile_jstr(c->leak_source));
        ok = ok && cl_profile_put(o, "tau_s", cl_profile_jnum(c->leak_tau_s));
        ok = ok && cl_profile_put(o, "tau_se_s", cl_profile_jnum(c->leak_tau_se));
        ok = ok && cl_profile_put(o, "p0_kpa", cl_profile_jnum(c->leak_p0_kpa));
        ok = ok && cl_profile_put(o, "p0_se_kpa", cl_profile_jnum(c->leak_p0_se));
        ok = ok && cl_profile_put(o, "p_inf_kpa", cl_profile_jnum(c->leak_p_inf_kpa));
        ok = ok && cl_profile_put(o, "p_inf_se_kpa", cl_profile_jnum(c->leak_p_inf_se));
        ok = ok && cl_profile_put(o, "corr_pinf_tau", cl_profile_jnum(c->leak_corr_pinf_tau));
        ok =
            ok && cl_profile_put(o, "identifiable",
                                 c->leak_identifiable < 0 ? json_null()
                                                          : json_boolean(c->leak_identifiable));
        ok = ok && cl_profile_put(o, "slope_kpa_s", cl_profile_jnum(c->leak_slope_kpa_s));
        ok = ok && cl_profile_put(o, "slope_se_kpa_s", cl_profile_jnum(c->leak_slope_se));
        ok = ok && cl_profile_put(o, "r2", cl_profile_jnum(c->leak_r2));
        ok = ok && cl_profile_put(o, "sigma_kpa", cl_profile_jnum(c->leak_sigma_kpa));
        ok = ok && cl_profile_put(o, "t_from_s", cl_profile_jnum(c->leak_t_from_s));
        ok = ok && cl_profile_put(o, "t_to_s", cl_profile_jnum(c->leak_t_to_s));
        ok = ok && cl_profile_put(o, "n", json_integer((json_int_t)c->leak_n));
        ok = ok && cl_profile_put(o, "at_kpa", cl_profile_jnum(c->leak_at_kpa));
        ok = ok && cl_profile_put(o, "q_mbarl_s", cl_profile_jnum(c->leak_q_mbarl_s));
        ok = ok && cl_profile_put(o, "q_u_mbarl_s", cl_profile_jnum(c->leak_q_u_mbarl_s));
    } else {
        ok = ok && cl_profile_put(e, "leak", json_null());
    }
    if (!ok) {
        json_decref(e);
        return NULL;
    }
    return e;
}

char *cl_cupset_to_json(const cl_cupset *c)
{
    json_t *r = cl_profile_doc_new("cupset"), *o, *a;
    bool ok = r != NULL;
    o = json_object();
    ok = ok && cl_profile_put(r, "cupset", o);
    ok = ok && cl_profile_put(o, "id", json_string(c->id));
    ok = ok && cl_profile_put(r, "date", cl_profile_jstr(c->meta.date));
    ok = ok && cl_profile_put(r, "valid_until", cl_profile_jstr(c->meta.valid_until));
    ok = ok && cl_profile_put(r, "operator", cl_profile_jstr(c->meta.operator_name));
    ok = ok && cl_profile_put(r, "software", cl_profile_jstr(c->meta.software));
    ok = ok && cl_profile_put(r, "notes", cl_profile_jstr(c->meta.notes));
    o = json_object();
    ok = ok && cl_profile_put(r, "conditions", o);
    ok = ok && cl_profile_put(o, "ambient_kpa", cl_profile_jnum(c->meta.ambient_kpa));
    ok = ok && cl_profile_put(o, "temperature_c", cl_profile_jnum(c->meta.temperature_c));
    a = json_array();
    ok = ok && cl_profile_put(r, "cups", a);
    for (size_t i = 0; ok && i < c->n; i++) {
        json_t *e = cup_json(&c->cups[i]);
        ok = e && json_array_append_new(a, e) == 0;
    }
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return cl_profile_doc_text(r);
}

/* ============================================================= from JSON */

/* Read a string member into a cup field (owned by the set being built). */
static int cup_str(json_t *o, const char *key, const char *ctx, const char **out, cl_error *err)
{
    char *s = NULL;
    int rc = cl_profile_get_str(o, key, false, ctx, &s, err);
    *out = s;
    return rc;
}

static int parse_cup(json_t *e, const char *ctx, cl_cupset_cup *c, cl_error *err)
{
    json_t *o, *x, *v;
    int rc;
    char *id = NULL;
    if (!json_is_object(e))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", ctx);
    if ((rc = cl_profile_get_str(e, "id", true, ctx, &id, err)))
        return rc;
    c->cup_id = id;
    if (!*id)
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s.id\" is empty", ctx);
    if ((rc = cup_str(e, "material", ctx, &c->material, err)) ||
        (rc = cup_str(e, "size", ctx, &c->size, err)))
        return rc;
    if ((rc = cl_profile_get_obj(e, "volume", &o, err)))
        return rc;
    if (o) {
        if ((rc = cl_profile_get_num(o, "ml", true, "volume", &c->volume_ml, err)) ||
            (rc = cl_profile_get_num(o, "u_ml", false, "volume", &c->volume_u_ml, err)) ||
            (rc = cup_str(o, "method", "volume", &c->volume_method, err)))
            return rc;
        if (!(c->volume_ml > 0))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s.volume.ml\" is not positive", ctx);
        if ((rc = cl_profile_get_obj(o, "expansion", &x, err)))
            return rc;
        if (x &&
            ((rc =
                  cl_profile_get_num(x, "vref_ml", false, "expansion", &c->exp_vref_ml, err)) ||
             (rc = cl_profile_get_num(x, "vref_u_ml", false, "expansion", &c->exp_vref_u_ml,
                                      err)) ||
             (rc = cl_profile_get_num(x, "p_ref_abs_kpa", false, "expansion", &c->exp_p_ref_kpa,
                                      err)) ||
             (rc = cl_profile_get_num(x, "p_cup_abs_kpa", false, "expansion", &c->exp_p_cup_kpa,
                                      err)) ||
             (rc = cl_profile_get_num(x, "p_final_abs_kpa", false, "expansion",
                                      &c->exp_p_final_kpa, err)) ||
             (rc = cl_profile_get_num(x, "p_u_kpa", false, "expansion", &c->exp_p_u_kpa, err))))
            return rc;
    }
    if ((rc = cl_profile_get_obj(e, "leak", &o, err)))
        return rc;
    if (o) {
        double n = NAN;
        if ((rc = cup_str(o, "model", "leak", &c->leak_model, err)) ||
            (rc = cup_str(o, "source", "leak", &c->leak_source, err)) ||
            (rc = cl_profile_get_num(o, "tau_s", false, "leak", &c->leak_tau_s, err)) ||
            (rc = cl_profile_get_num(o, "tau_se_s", false, "leak", &c->leak_tau_se, err)) ||
            (rc = cl_profile_get_num(o, "p0_kpa", false, "leak", &c->leak_p0_kpa, err)) ||
            (rc = cl_profile_get_num(o, "p0_se_kpa", false, "leak", &c->leak_p0_se, err)) ||
            (rc = cl_profile_get_num(o, "p_inf_kpa", false, "leak", &c->leak_p_inf_kpa, err)) ||
            (rc = cl_profile_get_num(o, "p_inf_se_kpa", false, "leak", &c->leak_p_inf_se,
                                     err)) ||
            (rc = cl_profile_get_num(o, "corr_pinf_tau", false, "leak", &c->leak_corr_pinf_tau,
                                     err)) ||
            (rc = cl_profile_get_num(o, "slope_kpa_s", false, "leak", &c->leak_slope_kpa_s,
                                     err)) ||
            (rc = cl_profile_get_num(o, "slope_se_kpa_s", false, "leak", &c->leak_slope_se,
                                     err)) ||
            (rc = cl_profile_get_num(o, "r2", false, "leak", &c->leak_r2, err)) ||
            (rc = cl_profile_get_num(o, "sigma_kpa", false, "leak", &c->leak_sigma_kpa, err)) ||
            (rc = cl_profile_get_num(o, "t_from_s", false, "leak", &c->leak_t_from_s, err)) ||
            (rc = cl_profile_get_num(o, "t_to_s", false, "leak", &c->leak_t_to_s, err)) ||
            (rc = cl_profile_get_num(o, "n", false, "leak", &n, err)) ||
            (rc = cl_profile_get_num(o, "at_kpa", false, "leak", &c->leak_at_kpa, err)) ||
            (rc = cl_profile_get_num(o, "q_mbarl_s", false, "leak", &c->leak_q_mbarl_s, err)) ||
            (rc = cl_profile_get_num(o, "q_u_mbarl_s", false, "leak", &c->leak_q_u_mbarl_s,
                                     err)))
            return rc;
        c->leak_n = isfinite(n) && n >= 0 ? (size_t)n : 0;
        v = json_object_get(o, "identifiable");
        if (v && !json_is_null(v)) {
            if (!json_is_boolean(v))
                return cl_error_set(err, CL_ERR_FORMAT,
                                    "\"leak.identifiable\" is not true or false");
            c->leak_identifiable = json_is_true(v);
        }
        if (isfinite(c->leak_tau_s) && !(c->leak_tau_s > 0))
            return cl_error_set(err, CL_ERR_FORMAT, "\"%s.leak.tau_s\" is not positive", ctx);
    }
    return CL_OK;
}

int cl_cupset_parse(const char *json, cl_cupset **out, cl_error *err)
{
    json_t *r, *o, *a;
    cl_cupset *c = NULL;
    char *id = NULL;
    cl_cupset_meta m = {0};
    int rc;

    *out = NULL;
    if ((rc = cl_profile_doc_parse(json, "cupset", &r, err)))
        return rc;
    if ((rc = cl_profile_get_obj(r, "cupset", &o, err)))
        goto out;
    if (!o) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "missing \"cupset\" object");
        goto out;
    }
    if ((rc = cl_profile_get_str(o, "id", true, "cupset", &id, err)))
        goto out;
    c = cl_cupset_new(id);
    if (!c) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto out;
    }
    m.ambient_kpa = m.temperature_c = NAN;
    if ((rc = cup_str(r, "date", NULL, &m.date, err)) ||
        (rc = cup_str(r, "valid_until", NULL, &m.valid_until, err)) ||
        (rc = cup_str(r, "operator", NULL, &m.operator_name, err)) ||
        (rc = cup_str(r, "notes", NULL, &m.notes, err)) ||
        (rc = cup_str(r, "software", NULL, &m.software, err)))
        goto out;
    if (m.valid_until) {
        time_t t;
        if ((rc = cl_profile_parse_date(m.valid_until, &t, err)))
            goto out;
    }
    if ((rc = cl_profile_get_obj(r, "conditions", &o, err)))
        goto out;
    if (o && ((rc = cl_profile_get_num(o, "ambient_kpa", false, "conditions", &m.ambient_kpa,
                                       err)) ||
              (rc = cl_profile_get_num(o, "temperature_c", false, "conditions",
                                       &m.temperature_c, err))))
        goto out;
    c->meta = m;
    memset(&m, 0, sizeof m);
    if ((rc = cl_profile_get_arr(r, "cups", &a, err)))
        goto out;
    if (!a) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "missing \"cups\" array");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        cl_cupset_cup cup;
        char ctx[32];
        snprintf(ctx, sizeof ctx, "cups[%zu]", i);
        cl_cupset_cup_init(&cup);
        rc = parse_cup(json_array_get(a, i), ctx, &cup, err);
        if (rc == CL_OK)
            rc = cl_cupset_add(c, &cup, err);
        cup_release(&cup);
        if (rc != CL_OK) {
            if (rc == CL_ERR_ARG)
                rc = err ? (err->code = CL_ERR_FORMAT) : CL_ERR_FORMAT;
            goto out;
        }
    }
    *out = c;
    c = NULL;
out:
    meta_release(&m);
    free(id);
    cl_cupset_free(c);
    json_decref(r);
    return rc;
}

int cl_cupset_load(const char *path, cl_cupset **out, cl_error *err)
{
    char *text;
    *out = NULL;
    int rc = cl_profile_read_file(path, &text, err);
    if (rc != CL_OK)
        return rc;
    rc = cl_cupset_parse(text, out, err);
    free(text);
    return cl_profile_name_file(rc, path, err);
}
