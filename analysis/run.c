/* analysis/run: per-file driver of cuplab-analyze: analysis one cup at a
 * time, figures, the report, write-back. */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output/cl_figure.h"
#include "output/cl_page.h"
#include "output/cl_sessreport.h"
#include "cl_output.h"
#include "cl_session_results.h"

#define PROG "cuplab-analyze"

int an_inputs_load(an_options *o, an_inputs *in)
{
    cl_error err;
    memset(in, 0, sizeof *in);
    for (size_t i = 0; i < o->nprofile_files; i++) {
        if (cl_sensor_profile_load(o->profile_files[i], &in->profiles[i], &err) != CL_OK) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            return AN_EXIT_FILE;
        }
        in->sources[in->nprofiles++] = o->profile_files[i];
    }
    /* --sensor CUP=VALUE: VALUE names a profile file if there is one, else
     * it is a serial. */
    for (size_t i = 0; i < o->nsensor_args; i++) {
        const char *arg = o->sensor_args[i], *value = strchr(arg, '=') + 1;
        struct stat st;
        if (!(in->sensor_cups[i] = strndup(arg, (size_t)(value - 1 - arg)))) {
            fprintf(stderr, PROG ": out of memory\n");
            return AN_EXIT_FILE;
        }
        in->nsensors++;
        in->sensor_serials[i] = value;
        if (stat(value, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        cl_sensor_profile **p = &in->profiles[in->nprofiles];
        if (cl_sensor_profile_load(value, p, &err) != CL_OK) {
            fprintf(stderr, PROG ": --sensor %s: %s\n", in->sensor_cups[i], err.msg);
            return AN_EXIT_FILE;
        }
        in->sources[in->nprofiles++] = value;
        in->sensor_serials[i] = cl_sensor_profile_serial(*p);
    }
    for (size_t i = 0; i < o->ncupset_files; i++) {
        if (cl_cupset_load(o->cupset_files[i], &in->cupsets[i], &err) != CL_OK) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            return AN_EXIT_FILE;
        }
        in->ncupsets++;
    }
    o->an.profiles = (const cl_sensor_profile *const *)in->profiles;
    o->an.nprofiles = in->nprofiles;
    o->an.profile_sources = in->sources;
    o->an.sensor_cups = (const char *const *)in->sensor_cups;
    o->an.sensor_serials = in->sensor_serials;
    o->an.nsensors = in->nsensors;
    o->an.cupsets = (const cl_cupset *const *)in->cupsets;
    o->an.ncupsets = in->ncupsets;
    return -1;
}

void an_inputs_free(an_inputs *in)
{
    for (size_t i = 0; i < in->nprofiles; i++)
        cl_sensor_profile_free(in->profiles[i]);
    for (size_t i = 0; i < in->ncupsets; i++)
        cl_cupset_free(in->cupsets[i]);
    for (size_t i = 0; i < in->nsensors; i++)
        free(in->sensor_cups[i]);
    memset(in, 0, sizeof *in);
}

/* A file without a final status is "recording" only while its recorder
 * lives; otherwise the recording was interrupted. */
static const char *status_name(cl_session_reader *r)
{
    cl_session_status s = cl_session_reader_status(r);
    return s == CL_SESSION_COMPLETE                                       ? "complete"
           : s == CL_SESSION_INTERRUPTED || !cl_session_writer_alive(r) ? "interrupted"
                                                                          : "recording";
}

/* File name stem of path (no directory, no extension) into buf. */
static void stem(const char *path, char *buf, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t len = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    snprintf(buf, cap, "%.*s", (int)len, b);
}

/* A cup id made safe for a file name. */
static void safe_name(const char *s, char *buf, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 1 < cap; s++)
        buf[k++] = (*s == '/' || *s == ' ' || *s == '\\') ? '_' : *s;
    buf[k] = '\0';
}

/* Append ", item" (or the first "item") to a list, as far as it fits. */
static void list_add(char *list, size_t cap, size_t *len, const char *item)
{
    if (*len >= cap)
        return;
    int w = snprintf(list + *len, cap - *len, "%s%s", *len ? ", " : "", item);
    if (w > 0)
        *len += (size_t)w;
}

/* Cups of the session the given cup-set profiles do not list: no volume and
 * no q_leak for them.  One line per profile (and one for cups whose cup set
 * is none of those given). */
static void warn_cupset_mismatch(const an_options *o, const char *path, cl_analysis *a)
{
    size_t nsets = o->an.ncupsets, ncups = cl_analysis_cup_count(a);
    const cl_session_reader *r = cl_analysis_reader(a);
    if (nsets == 0 || o->verbosity == 0 || o->cupsets_warned)
        return;
    for (size_t s = 0; s <= nsets; s++) {
        char list[512] = "", files[512] = "";
        size_t len = 0, flen = 0, count = 0;
        for (size_t k = 0; k < ncups; k++) {
            size_t set;
            const cl_session_cup *c = cl_session_cup_info(r, k);
            if (!c || cl_analysis_cupset_match(a, k, &set) || (set == SIZE_MAX ? nsets : set) != s)
                continue;
            count++;
            list_add(list, sizeof list, &len, c->cup_id ? c->cup_id : "?");
        }
        if (!count)
            continue;
        if (s < nsets) {
            fprintf(stderr,
                    PROG ": %s: cup-set profile %s (set %s) has no cup%s %s of this session: no "
                         "volume and no q_leak for %s\n",
                    path, o->cupset_files[s], cl_cupset_id(o->an.cupsets[s]),
                    count == 1 ? "" : "s", list, count == 1 ? "it" : "them");
            continue;
        }
        for (size_t i = 0; i < nsets; i++) {
            char f[320];
            snprintf(f, sizeof f, "%s (set %s)", o->cupset_files[i],
                     cl_cupset_id(o->an.cupsets[i]));
            list_add(files, sizeof files, &flen, f);
        }
        fprintf(stderr,
                PROG ": %s: cup%s %s of this session belong%s to none of the cup-set profiles "
                     "given by %s cup set (%s): no volume and no q_leak for %s\n",
                path, count == 1 ? "" : "s", list, count == 1 ? "s" : "",
                count == 1 ? "its" : "their", files, count == 1 ? "it" : "them");
    }
}

static void warn_uncalibrated(const an_options *o, const char *path, const cl_cup_result *res,
                              size_t n)
{
    char list[512];
    size_t len = 0, count = 0;
    if (o->an.nominal_ack || o->verbosity == 0)
        return;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (res[i].cal != CL_CAL_NOMINAL)
            continue;
        count++;
        list_add(list, sizeof list, &len, res[i].cup_id);
    }
    if (count)
        fprintf(stderr,
                PROG ": %s: no sensor profile for cup%s %s: nominal MPXV6115V transfer used, "
                     "results flagged 'uncalibrated' (--profile FILE to calibrate, "
                     "--nominal-sensor to accept)\n",
                path, count == 1 ? "" : "s", list);
    for (size_t i = 0; i < n; i++)
        if (res[i].flags & CL_FLAG_NO_TRANSFER)
            fprintf(stderr,
                    PROG ": %s: cup %s: no sensor profile and the ADC resolution is unknown: "
                         "no pressures (--profile FILE or --adc-bits N)\n",
                    path, res[i].cup_id);
}

/* Store session `i` of `rep` with the series already in `w` (--write). */
static int write_results(const an_options *o, cl_session_results *w, const char *path,
                         cl_report *rep, size_t i, cl_error *err)
{
    size_t ncols, nrows;
    const cl_report_column *rc = cl_report_session_columns(rep, i, &ncols, &nrows);
    char *json = cl_report_session_json(rep, i);
    cl_session_column *cols = rc ? calloc(ncols ? ncols : 1, sizeof *cols) : NULL;
    int st;
    if (!rc || !json || !cols) {
        cl_session_results_abort(w);
        st = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    } else {
        for (size_t c = 0; c < ncols; c++)
            cols[c] = (cl_session_column){rc[c].name, rc[c].unit, rc[c].num, rc[c].str};
        st = cl_session_results_finish(w, json, cols, ncols, nrows, err);
        if (st == CL_OK && o->verbosity > 1)
            fprintf(stderr, PROG ": %s: results stored in /analysis\n", path);
    }
    free(cols);
    free(json);
    return st;
}

/* One cup's series into the results being written. */
static int write_series(cl_session_results *w, const cl_cup_result *res, const cl_cup_trace *tr,
                        const char *path, cl_error *err)
{
    size_t n = tr && tr->vac_kpa ? tr->n : 0;
    unsigned char *ph = malloc(n ? n : 1);
    if (!ph)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    if (n)
        cl_segment_phases(&tr->seg, n, ph);
    char names[64] = "";
    for (int p = 0; p < CL_SEGMENT_PHASES; p++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", p ? "," : "",
                 cl_segment_phase_name(p));
    cl_session_series s = {res->cup_id,           res->calibration,
                           names,                 n,
                           n ? tr->t_s : NULL,    n ? tr->vac_kpa : NULL,
                           ph,                    res->device,
                           res->channel,          res->linear_offset_kpa,
                           res->linear_kpa_per_count};
    int rc = cl_session_results_series(w, &s, err);
    free(ph);
    return rc;
}

/* Warn of each --sensor CUP=... that names a cup the session does not have. */
static void warn_unknown_cups(const an_options *o, const char *path, cl_session_reader *r)
{
    for (size_t i = 0; i < o->an.nsensors && o->verbosity; i++) {
        bool found = false;
        for (size_t k = 0; k < cl_session_cup_count(r) && !found; k++) {
            const cl_session_cup *c = cl_session_cup_info(r, k);
            found = c && c->cup_id && !strcmp(c->cup_id, o->an.sensor_cups[i]);
        }
        if (!found)
            fprintf(stderr, PROG ": %s: --sensor %s: the session has no such cup\n", path,
                    o->an.sensor_cups[i]);
    }
}

/* Warn of a recording whose recorder stopped without closing the file. */
static void warn_interrupted(const an_options *o, const char *path, cl_session_reader *r)
{
    if (o->verbosity && cl_session_reader_status(r) == CL_SESSION_RECORDING &&
        !cl_session_writer_alive(r))
        fprintf(stderr,
                PROG ": %s: interrupted: the recorder stopped without closing the file; "
                     "run 'cuplab-analyze --recover %s'\n",
                path, path);
}

/* What one file's analysis makes besides its rows: figures, the export,
 * the results stored with --write. */
typedef struct run_outputs {
    cl_overview *ov;         /* --plot / --plot-dir */
    an_export *x;            /* --export */
    cl_session_results *wr;  /* --write */
    cl_figure_style style;
    char name[256];          /* the file's stem */
} run_outputs;

/* Cup k's figure in --plot-dir. */
static int cup_figure(const an_options *o, const run_outputs *out, const cl_cup_result *res,
                      const cl_cup_trace *tr, cl_error *err)
{
    char cupname[128], fig[4096], title[512];
    safe_name(res->cup_id, cupname, sizeof cupname);
    snprintf(fig, sizeof fig, "%s/%s_%s.%s", o->plot_dir, out->name, cupname, o->plot_format);
    snprintf(title, sizeof title, "%s", out->name);
    int rc = cl_figure_cup(fig, res, tr, &out->style, title, err);
    if (rc == CL_OK && o->verbosity > 1)
        fprintf(stderr, PROG ": wrote %s\n", fig);
    return rc;
}

/* The session's overview figure (--plot, or in --plot-dir). */
static int overview_figure(const an_options *o, const run_outputs *out, cl_session_reader *r,
                           size_t n, cl_error *err)
{
    char fig[4096], title[512];
    if (o->plot)
        snprintf(fig, sizeof fig, "%s", o->plot);
    else
        snprintf(fig, sizeof fig, "%s/%s_overview.%s", o->plot_dir, out->name, o->plot_format);
    snprintf(title, sizeof title, "%s%s%s, %zu cup%s", out->name,
             cl_session_attr(r, "technique")[0] ? ": " : "", cl_session_attr(r, "technique"), n,
             n == 1 ? "" : "s");
    int rc = cl_overview_write(out->ov, fig, &out->style, title, err);
    if (rc == CL_OK && o->verbosity > 1)
        fprintf(stderr, PROG ": wrote %s\n", fig);
    return rc;
}

/* Every cup: analysed, then into what the run makes of it. */
static int run_cups(const an_options *o, cl_analysis *a, const char *path, cl_cup_result *res,
                    size_t n, run_outputs *out, cl_error *err)
{
    cl_cup_trace *tr = NULL;
    int rc = CL_OK;
    for (size_t k = 0; k < n && rc == CL_OK; k++) {
        rc = cl_analysis_cup(a, k, &res[k], out->ov || out->x || out->wr ? &tr : NULL, err);
        if (rc == CL_OK && out->wr)
            rc = write_series(out->wr, &res[k], tr, path, err);
        if (rc == CL_OK && out->x)
            rc = an_export_cup(out->x, &res[k], tr, err);
        if (rc == CL_OK && o->plot_dir)
            rc = cup_figure(o, out, &res[k], tr, err);
        if (rc == CL_OK && out->ov)
            rc = cl_overview_add(out->ov, &res[k], tr, err);
        cl_cup_trace_free(tr);
        tr = NULL;
    }
    return rc;
}

/* The session's rows into the report (and, with --write, into the file). */
static int report_session(const an_options *o, cl_analysis *a, const char *path,
                          const cl_cup_result *res, size_t n, cl_report *rep, run_outputs *out,
                          cl_error *err)
{
    cl_session_reader *r = cl_analysis_reader(a);
    cl_report_session info = {
        .file = path,
        .session_uuid = cl_session_attr(r, "session_uuid"),
        .status = status_name(r),
        .practitioner = cl_session_attr(r, "practitioner"),
        .subject = cl_session_attr(r, "subject"),
        .technique = cl_session_attr(r, "technique"),
        .gap_events = cl_analysis_gap_events(a),
    };
    int rc = cl_report_add_session(rep, &info, res, n, err);
    if (rc == CL_OK && out->wr) {
        rc = write_results(o, out->wr, path, rep, cl_report_sessions(rep) - 1, err);
        out->wr = NULL;
    }
    return rc;
}

int an_report_check(const an_options *o)
{
    cl_error err;
    cl_error_clear(&err);
    if (!o->report || cl_page_check(o->report, o->force, &err) == CL_OK)
        return -1;
    fprintf(stderr, PROG ": %s\n", err.msg);
    return err.code == CL_ERR_EXISTS || err.code == CL_ERR_ARG ? AN_EXIT_USAGE : AN_EXIT_FILE;
}

/* --report: the session's printed report, from the rows just added. */
static int session_report(const an_options *o, cl_analysis *a, const char *path,
                          const cl_cup_result *res, size_t n, cl_report *rep,
                          const run_outputs *out, cl_error *err)
{
    size_t i = cl_report_sessions(rep) - 1;
    cl_table *cups = cl_report_page_table(rep, i);
    if (!cups)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", o->report);
    cl_sessreport_input in = {
        .file = path,
        .status = cl_report_status(rep, i),
        .reader = cl_analysis_reader(a),
        .res = res,
        .n = n,
        .ov = out->ov,
        .cups = cups,
        .summary = cl_report_summary(rep, i),
        .style = out->style,
    };
    int rc = cl_sessreport_write(o->report, &in, err);
    cl_table_free(cups);
    if (rc == CL_OK && o->verbosity > 1)
        fprintf(stderr, PROG ": wrote %s\n", o->report);
    return rc;
}

int an_run_file(const an_options *o, const char *path, cl_report *rep, an_export *x,
                cl_error *err)
{
    cl_analysis *a = NULL;
    cl_cup_result *res = NULL;
    run_outputs out = {.x = x, .style = {o->unit, o->plot_size}};
    size_t n = 0;
    int rc;

    /* --write: refused before the work when the results cannot be stored. */
    if (o->write && (rc = cl_session_results_begin(&out.wr, path, err)) != CL_OK)
        return rc;
    rc = cl_analysis_open(&a, path, &o->an, err);
    if (rc != CL_OK) {
        cl_session_results_abort(out.wr);
        return rc;
    }
    cl_session_reader *r = cl_analysis_reader(a);
    stem(path, out.name, sizeof out.name);
    warn_unknown_cups(o, path, r);
    n = cl_analysis_cup_count(a);
    if (!(res = calloc(n ? n : 1, sizeof *res))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (o->plot || o->plot_dir || o->report) {
        if (o->plot_dir && (rc = cl_output_dir(o->plot_dir, err)) != CL_OK)
            goto done;
        if (!(out.ov = cl_overview_new())) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if ((x && (rc = an_export_session(x, r, path, err)) != CL_OK) ||
        (rc = run_cups(o, a, path, res, n, &out, err)) != CL_OK ||
        (x && (rc = an_export_session_end(x, err)) != CL_OK))
        goto done;
    warn_uncalibrated(o, path, res, n);
    warn_interrupted(o, path, r);
    warn_cupset_mismatch(o, path, a);
    if ((o->plot || o->plot_dir) && n && (rc = overview_figure(o, &out, r, n, err)) != CL_OK)
        goto done;
    rc = report_session(o, a, path, res, n, rep, &out, err);
    if (rc == CL_OK && o->report) /* last: a failed report costs no other output */
        rc = session_report(o, a, path, res, n, rep, &out, err);
done:
    cl_session_results_abort(out.wr);
    cl_overview_free(out.ov);
    free(res);
    cl_analysis_close(a);
    return rc;
}

