/*
 * cl_cohortsession: a session file reduced to its metadata, per-cup metrics
 * and normalised curves, and that compact form packed for a pipe (see
 * cl_cohortsession.h).
 */
#include "cohort/cl_cohortsession.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NP CL_COHORTSESSION_POINTS
#define PACK_MAGIC 0x43484f52u /* "CHOR" */
#define PACK_VERSION 1u        /* layout of a packed session */

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Vacuum of the trace at time t, linearly interpolated (NaN outside). */
static double trace_at(const cl_cup_trace *tr, double t)
{
    size_t lo = 0, hi = tr->n;
    while (lo < hi) { /* first sample with time > t */
        size_t mid = lo + (hi - lo) / 2;
        if (tr->t_s[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || lo == tr->n)
        return NAN;
    double t0 = tr->t_s[lo - 1], t1 = tr->t_s[lo];
    double v0 = tr->vac_kpa[lo - 1], v1 = tr->vac_kpa[lo];
    return t1 > t0 ? v0 + (v1 - v0) * (t - t0) / (t1 - t0) : v0;
}

/* The trace between t0 and t1 as NP points: each the mean of the finite
 * samples nearest to it (within half a step), else interpolated. */
static void normalise(const cl_cup_trace *tr, double t0, double t1, double *curve)
{
    double sum[NP] = {0}, span = t1 - t0;
    size_t cnt[NP] = {0};
    for (size_t i = 0; i < tr->n; i++) {
        double t = tr->t_s[i], v = tr->vac_kpa[i];
        if (t < t0 || t > t1 || !isfinite(v))
            continue;
        long b = lround((t - t0) / span * (NP - 1));
        if (b >= 0 && b < NP) {
            sum[b] += v;
            cnt[b]++;
        }
    }
    for (int b = 0; b < NP; b++)
        curve[b] = cnt[b] ? sum[b] / (double)cnt[b] : trace_at(tr, t0 + span * b / (NP - 1));
}

/* Reduce one analysed cup. */
static int reduce_cup(const cl_cup_result *res, const cl_cup_trace *tr,
                      const cl_session_cup *info, cl_cohortsession_cup *c, cl_error *err)
{
    cl_stat st[CL_STAT_COUNT];
    memset(c, 0, sizeof *c);
    copy_str(c->cup_id, sizeof c->cup_id, res->cup_id);
    copy_str(c->site, sizeof c->site, res->site);
    copy_str(c->cup_set, sizeof c->cup_set, res->cup_set);
    copy_str(c->material, sizeof c->material, info ? info->material : NULL);
    copy_str(c->size, sizeof c->size, info ? info->size : NULL);
    c->flags = res->flags;
    c->cal = res->cal;
    c->applied = res->applied;
    int rc = cl_analysis_stats(res, 1, st, err); /* the pipeline's own metric rules */
    if (rc != CL_OK)
        return rc;
    for (int m = 0; m < CL_STAT_COUNT; m++)
        c->value[m] = st[m].n ? st[m].mean : NAN;
    c->span_s = NAN;
    for (int i = 0; i < NP; i++)
        c->curve[i] = NAN;
    double t0 = res->app.onset_s, t1 = res->app.release_start_s;
    if (res->applied && res->app.released && res->cal != CL_CAL_NONE && tr && tr->n > 1 &&
        tr->vac_kpa && t1 > t0) {
        c->span_s = t1 - t0;
        normalise(tr, t0, t1, c->curve);
    }
    return CL_OK;
}

static const char *status_name(cl_session_status s)
{
    return s == CL_SESSION_COMPLETE      ? "complete"
           : s == CL_SESSION_INTERRUPTED ? "interrupted"
                                         : "recording";
}

int cl_cohortsession_read(const char *path, const cl_analysis_options *o, cl_cohortsession *out,
                          cl_error *err)
{
    cl_analysis *a = NULL;
    cl_cup_trace *tr = NULL;
    cl_cup_result res;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = cl_analysis_open(&a, path, o, err)) != CL_OK)
        return rc;
    cl_session_reader *r = cl_analysis_reader(a);
    copy_str(out->uuid, sizeof out->uuid, cl_session_attr(r, "session_uuid"));
    copy_str(out->status, sizeof out->status, status_name(cl_session_reader_status(r)));
    copy_str(out->practitioner, sizeof out->practitioner, cl_session_attr(r, "practitioner"));
    copy_str(out->subject, sizeof out->subject, cl_session_attr(r, "subject"));
    copy_str(out->technique, sizeof out->technique, cl_session_attr(r, "technique"));
    copy_str(out->site, sizeof out->site, cl_session_attr(r, "site"));
    size_t n = cl_analysis_cup_count(a);
    out->cups = calloc(n ? n : 1, sizeof *out->cups);
    if (!out->cups) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        if ((rc = cl_analysis_cup(a, k, &res, &tr, err)) != CL_OK ||
            (rc = reduce_cup(&res, tr, cl_session_cup_info(r, k), &out->cups[k], err)) != CL_OK)
            goto out;
        cl_cup_trace_free(tr);
        tr = NULL;
        out->ncups++;
    }
out:
    cl_cup_trace_free(tr);
    cl_analysis_close(a);
    if (rc != CL_OK)
        cl_cohortsession_release(out);
    return rc;
}

void cl_cohortsession_release(cl_cohortsession *s)
{
    if (!s)
        return;
    free(s->cups);
    memset(s, 0, sizeof *s);
}

/* Packed: magic, the session record (its pointer meaningless), the cups. */
typedef struct pack_head {
    uint32_t magic;
    uint32_t version;
    cl_cohortsession s;
} pack_head;

int cl_cohortsession_pack(const cl_cohortsession *s, void **buf, size_t *len, cl_error *err)
{
    size_t n = sizeof(pack_head) + s->ncups * sizeof(cl_cohortsession_cup);
    unsigned char *b = malloc(n);
    *buf = NULL;
    *len = 0;
    if (!b)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    pack_head h = {PACK_MAGIC, PACK_VERSION, *s};
    h.s.cups = NULL;
    memcpy(b, &h, sizeof h);
    if (s->ncups)
        memcpy(b + sizeof h, s->cups, s->ncups * sizeof(cl_cohortsession_cup));
    *buf = b;
    *len = n;
    return CL_OK;
}

#define TERMINATE(a) ((a)[sizeof(a) - 1] = '\0')

int cl_cohortsession_unpack(const void *buf, size_t len, cl_cohortsession *out, cl_error *err)
{
    pack_head h;
    memset(out, 0, sizeof *out);
    if (len < sizeof h)
        return cl_error_set(err, CL_ERR_FORMAT, "packed session: %zu bytes, too short", len);
    memcpy(&h, buf, sizeof h);
    if (h.magic != PACK_MAGIC || h.version != PACK_VERSION ||
        h.s.ncups > (len - sizeof h) / sizeof(cl_cohortsession_cup) ||
        len != sizeof h + h.s.ncups * sizeof(cl_cohortsession_cup))
        return cl_error_set(err, CL_ERR_FORMAT, "packed session: bad header or length");
    *out = h.s;
    out->cups = calloc(h.s.ncups ? h.s.ncups : 1, sizeof *out->cups);
    if (!out->cups) {
        out->ncups = 0;
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    if (h.s.ncups)
        memcpy(out->cups, (const unsigned char *)buf + sizeof h,
               h.s.ncups * sizeof(cl_cohortsession_cup));
    TERMINATE(out->uuid);
    TERMINATE(out->status);
    TERMINATE(out->practitioner);
    TERMINATE(out->subject);
    TERMINATE(out->technique);
    TERMINATE(out->site);
    for (size_t k = 0; k < out->ncups; k++) {
        cl_cohortsession_cup *c = &out->cups[k];
        TERMINATE(c->cup_id);
        TERMINATE(c->site);
        TERMINATE(c->material);
        TERMINATE(c->size);
        TERMINATE(c->cup_set);
    }
    return CL_OK;
}
