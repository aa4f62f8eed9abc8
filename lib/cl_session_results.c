/*
 * cl_session_results: analysis results stored with a finished session
 * (cl_session_results.h): written into a copy of the file that replaces it
 * once complete (cl_replace), under the live-writer lock (cl_session_lock).
 */
#include "cl_session_results.h"
#include "cl_h5.h"
#include "cl_replace.h"
#include "cl_schema.h"
#include "cl_session_lock.h"
#include "cl_session_read.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CUPLAB_VERSION
#define CUPLAB_VERSION ""
#endif

/* One column as a dataset of group g. */
static int write_column(hid_t g, const cl_session_column *c, size_t nrows)
{
    hid_t sp = H5I_INVALID_HID, t = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    hsize_t n = nrows;
    char **clean = NULL;
    int rc = -1;
    if ((sp = H5Screate_simple(1, &n, NULL)) < 0)
        goto done;
    if (c->num) {
        if ((ds = H5Dcreate2(g, c->name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT)) < 0 ||
            (nrows &&
             H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->num) < 0))
            goto done;
    } else {
        if (!(clean = calloc(nrows ? nrows : 1, sizeof *clean)))
            goto done;
        for (size_t i = 0; i < nrows; i++)
            if (!(clean[i] = cl_h5_utf8_dup(c->str ? c->str[i] : NULL)))
                goto done;
        if ((t = cl_h5_str_vlen()) < 0 ||
            (ds = H5Dcreate2(g, c->name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
            (nrows && H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, clean) < 0))
            goto done;
    }
    if (c->unit && c->unit[0] && cl_h5_put_str(ds, "units", c->unit) < 0)
        goto done;
    rc = 0;
done:
    if (clean)
        for (size_t i = 0; i < nrows; i++)
            free(clean[i]);
    free(clean);
    cl_h5_close(&ds);
    cl_h5_close(&t);
    cl_h5_close(&sp);
    return rc;
}

/* CL_OK for a readable cuplab session with a final status; CL_ERR_BUSY
 * (no final status) or the opening error otherwise.  For a caller that
 * holds the writer lock: a live recorder was refused when it was taken. */
static int check_finished(const char *path, cl_error *err)
{
    cl_session_reader *r = NULL;
    int rc;
    if ((rc = cl_session_open(&r, path, err)) != CL_OK)
        return rc;
    bool unfinished =
        cl_session_reader_status(r) == CL_SESSION_RECORDING || cl_session_flagged(r);
    cl_session_reader_close(r);
    if (unfinished)
        return cl_error_set(err, CL_ERR_BUSY,
                            "%s: the session has no final status (interrupted: run "
                            "'cuplab-analyze --recover' first); not writing to it",
                            path);
    return CL_OK;
}

/* A linear transfer of one channel, for the samples' attributes. */
typedef struct conversion {
    unsigned device, channel;
    double offset_kpa, kpa_per_count;
} conversion;

struct cl_session_results {
    char *path;
    cl_replace *tx;           /* the copy being written */
    int lock;                 /* writer lock on the original, or -1 */
    hid_t fapl, f, g, series; /* the copy, /analysis, /analysis/series */
    size_t nseries;
    conversion *conv;
    size_t nconv, conv_cap;
};

/* The NWB-style attributes of a device's samples (see cl_session_series). */
static const char *const conversion_attrs[] = {"unit", "conversion", "offset",
                                               "channel_conversion", "channel_offset"};
#define NCONVERSION_ATTRS (sizeof conversion_attrs / sizeof *conversion_attrs)

void cl_session_results_abort(cl_session_results *w)
{
    if (!w)
        return;
    cl_h5_quiet();
    cl_h5_close(&w->series);
    cl_h5_close(&w->g);
    cl_h5_close(&w->f);
    cl_h5_close(&w->fapl);
    cl_replace_abort(w->tx);
    if (w->lock >= 0)
        close(w->lock);
    free(w->conv);
    free(w->path);
    free(w);
}

/* Samples dataset of device `dev` in f, or H5I_INVALID_HID if there is none. */
static hid_t samples_of(hid_t f, size_t dev)
{
    char name[64];
    snprintf(name, sizeof name, "devices/dev%zu", dev);
    /* each link on the path checked in turn, as H5Lexists requires */
    if (H5Lexists(f, "devices", H5P_DEFAULT) <= 0 || H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return H5I_INVALID_HID;
    snprintf(name, sizeof name, "devices/dev%zu/samples", dev);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return H5I_INVALID_HID;
    return H5Dopen2(f, name, H5P_DEFAULT);
}

/* Remove the conversion attributes of an earlier --write. */
static int strip_conversions(hid_t f)
{
    for (size_t dev = 0;; dev++) {
        hid_t ds = samples_of(f, dev);
        if (ds < 0)
            return 0;
        for (size_t i = 0; i < NCONVERSION_ATTRS; i++)
            if (H5Aexists(ds, conversion_attrs[i]) > 0 && H5Adelete(ds, conversion_attrs[i]) < 0) {
                cl_h5_close(&ds);
                return -1;
            }
        cl_h5_close(&ds);
    }
}

/* A float64 [n] attribute. */
static int put_doubles(hid_t obj, const char *name, const double *v, size_t n)
{
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL), a = H5I_INVALID_HID;
    int rc = sp < 0 ||
                     (a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) <
                         0 ||
                     H5Awrite(a, H5T_NATIVE_DOUBLE, v) < 0
                 ? -1
                 : 0;
    cl_h5_close(&a);
    cl_h5_close(&sp);
    return rc;
}

/* The conversion attributes of device dev's samples, from the linear
 * transfers of its channels. */
static int put_conversions(const cl_session_results *w, size_t dev)
{
    hid_t ds = samples_of(w->f, dev);
    hsize_t cols = 0;
    if (ds < 0 || cl_h5_rows(ds, &cols) == (size_t)-1 || cols == 0) {
        cl_h5_close(&ds);
        return 0; /* a device without readable samples: nothing to describe */
    }
    double *k = malloc(2 * cols * sizeof *k), *o = k ? k + cols : NULL;
    int rc = k ? 0 : -1;
    for (hsize_t c = 0; k && c < cols; c++)
        k[c] = o[c] = NAN;
    for (size_t i = 0; k && i < w->nconv; i++)
        if (w->conv[i].device == dev && w->conv[i].channel < cols) {
            k[w->conv[i].channel] = w->conv[i].kpa_per_count;
            o[w->conv[i].channel] = w->conv[i].offset_kpa;
        }
    bool one = k != NULL;
    for (hsize_t c = 0; k && c < cols; c++)
        one = one && isfinite(k[c]) && k[c] == k[0] && o[c] == o[0];
    if (rc == 0 && (cl_h5_put_str(ds, "unit", "kPa") < 0 ||
                    put_doubles(ds, "channel_conversion", k, cols) < 0 ||
                    put_doubles(ds, "channel_offset", o, cols) < 0 ||
                    (one && (cl_h5_put_double(ds, "conversion", k[0]) < 0 ||
                             cl_h5_put_double(ds, "offset", o[0]) < 0))))
        rc = -1;
    free(k);
    cl_h5_close(&ds);
    return rc;
}

int cl_session_results_begin(cl_session_results **out, const char *path, cl_error *err)
{
    cl_session_results *w = NULL;
    char now[32];
    int rc;

    cl_h5_quiet();
    if (out)
        *out = NULL;
    if (!out || !path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session analysis: invalid arguments");
    if (!(w = calloc(1, sizeof *w)) || !(w->path = strdup(path))) {
        free(w);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    w->fapl = w->f = w->g = w->series = H5I_INVALID_HID;
    w->lock = -1;
    if ((rc = cl_session_lock_change(path, &w->lock, "writing to", err)) != CL_OK)
        goto fail;
    /* Validate first, read-only: only a finished cuplab session is changed. */
    if ((rc = check_finished(path, err)) != CL_OK)
        goto fail;
    if ((w->fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_libver_bounds(w->fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
        rc = cl_h5_fail(err, path, "cannot set up file access");
        goto fail;
    }
    /* The results go into a copy that replaces the file once complete and
     * synced: the recording is never written to, and a crash at any moment
     * leaves it as it was. */
    if ((rc = cl_replace_begin(&w->tx, path, w->lock, err)) != CL_OK)
        goto fail;
    errno = 0;
    if ((w->f = H5Fopen(cl_replace_copy(w->tx), H5F_ACC_RDWR, w->fapl)) < 0) {
        rc = cl_h5_fail(err, path, "cannot open a copy for writing the analysis");
        goto fail;
    }
    htri_t ex = H5Lexists(w->f, "analysis", H5P_DEFAULT);
    if (ex < 0 || (ex > 0 && H5Ldelete(w->f, "analysis", H5P_DEFAULT) < 0) ||
        strip_conversions(w->f) < 0) {
        rc = cl_h5_fail(err, path, "cannot replace /analysis");
        goto fail;
    }
    cl_schema_utc_now(now);
    errno = 0;
    if ((w->g = H5Gcreate2(w->f, "analysis", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        cl_h5_put_str(w->g, "software_version", CUPLAB_VERSION) < 0 ||
        cl_h5_put_str(w->g, "created_utc", now) < 0 ||
        (w->series = H5Gcreate2(w->g, "series", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = cl_h5_fail(err, path, "cannot write /analysis");
        goto fail;
    }
    *out = w;
    return CL_OK;
fail:
    cl_session_results_abort(w);
    return rc;
}

/* A 1-D dataset of n values (chunked and compressed when large). */
static hid_t series_dataset(hid_t g, const char *name, hid_t ftype, hid_t mtype, size_t n,
                            const void *data)
{
    hsize_t dims = n, chunk = n < 65536 ? (n ? n : 1) : 65536;
    hid_t sp = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
        H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 4) >= 0 &&
        (ds = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0 && n &&
        H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        cl_h5_close(&ds);
    cl_h5_close(&dcpl);
    cl_h5_close(&sp);
    return ds;
}

int cl_session_results_series(cl_session_results *w, const cl_session_series *sr, cl_error *err)
{
    char name[32];
    hid_t g = H5I_INVALID_HID, ds[3] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    int rc = CL_OK;
    if (!w || !sr || !sr->cup_id || (sr->n && (!sr->t_s || !sr->vacuum_kpa || !sr->phase)))
        return cl_error_set(err, CL_ERR_ARG, "session analysis: invalid series");
    cl_h5_quiet();
    /* One group per cup, in cup-table order; the id is an attribute (a
     * group name cannot hold every id). */
    snprintf(name, sizeof name, "%zu", w->nseries);
    errno = 0;
    if ((g = H5Gcreate2(w->series, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        cl_h5_put_str(g, "cup", sr->cup_id) < 0 ||
        cl_h5_put_str(g, "calibration", sr->calibration ? sr->calibration : "") < 0 ||
        (ds[0] = series_dataset(g, "time_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sr->n,
                                sr->t_s)) < 0 ||
        cl_h5_put_str(ds[0], "units", "s") < 0 ||
        (ds[1] = series_dataset(g, "vacuum", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sr->n,
                                sr->vacuum_kpa)) < 0 ||
        cl_h5_put_str(ds[1], "units", "kPa") < 0 ||
        cl_h5_put_str(ds[1], "sign", "positive below ambient") < 0 ||
        (ds[2] = series_dataset(g, "phase", H5T_STD_U8LE, H5T_NATIVE_UCHAR, sr->n, sr->phase)) <
            0 ||
        cl_h5_put_str(ds[2], "names", sr->phase_names ? sr->phase_names : "") < 0)
        rc = cl_h5_fail(err, w->path, "cannot write /analysis/series");
    for (int i = 0; i < 3; i++)
        cl_h5_close(&ds[i]);
    cl_h5_close(&g);
    if (rc == CL_OK && isfinite(sr->kpa_per_count) && isfinite(sr->offset_kpa)) {
        if (w->nconv == w->conv_cap) {
            size_t cap = w->conv_cap ? 2 * w->conv_cap : 16;
            conversion *nc = realloc(w->conv, cap * sizeof *nc);
            if (!nc)
                return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", w->path);
            w->conv = nc;
            w->conv_cap = cap;
        }
        w->conv[w->nconv++] =
            (conversion){sr->device, sr->channel, sr->offset_kpa, sr->kpa_per_count};
    }
    if (rc == CL_OK)
        w->nseries++;
    return rc;
}

int cl_session_results_finish(cl_session_results *w, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err)
{
    hid_t cg = H5I_INVALID_HID, sp = H5I_INVALID_HID, t = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    char *json = NULL;
    int rc = CL_OK;

    cl_h5_quiet();
    if (!w)
        return cl_error_set(err, CL_ERR_ARG, "session analysis: invalid arguments");
    const char *path = w->path;
    if (!json_results || (ncols && !cols)) {
        rc = cl_error_set(err, CL_ERR_ARG, "session analysis: invalid arguments");
        goto done;
    }
    for (size_t i = 0; i < ncols; i++)
        if (!cols[i].name || !cols[i].name[0] || strchr(cols[i].name, '/') ||
            !strcmp(cols[i].name, ".") || (!cols[i].num && !cols[i].str && nrows)) {
            rc = cl_error_set(err, CL_ERR_ARG, "%s: invalid analysis column %zu", path, i);
            goto done;
        }
    if (!(json = cl_h5_utf8_dup(json_results))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    const char *jp = json;
    errno = 0;
    if ((t = cl_h5_str_vlen()) < 0 || (sp = H5Screate(H5S_SCALAR)) < 0 ||
        (ds = H5Dcreate2(w->g, "results", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &jp) < 0 ||
        (cg = H5Gcreate2(w->g, "cups", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = cl_h5_fail(err, path, "cannot write /analysis");
        goto done;
    }
    for (size_t i = 0; i < w->nconv; i++) {
        bool first = true; /* each device once */
        for (size_t j = 0; j < i && first; j++)
            first = w->conv[j].device != w->conv[i].device;
        errno = 0;
        if (first && put_conversions(w, w->conv[i].device) < 0) {
            rc = cl_h5_fail(err, path, "cannot write the conversion of /devices/*/samples");
            goto done;
        }
    }
    for (size_t i = 0; i < ncols; i++) {
        errno = 0;
        if (write_column(cg, &cols[i], nrows) < 0) {
            char what[160];
            snprintf(what, sizeof what, "cannot write /analysis/cups/%.100s", cols[i].name);
            rc = cl_h5_fail(err, path, what);
            goto done;
        }
    }
done:
    cl_h5_close(&ds);
    cl_h5_close(&sp);
    cl_h5_close(&t);
    cl_h5_close(&cg);
    free(json);
    if (rc != CL_OK) {
        cl_session_results_abort(w);
        return rc;
    }
    cl_h5_close(&w->series);
    cl_h5_close(&w->g);
    errno = 0;
    herr_t closed = H5Fclose(w->f);
    w->f = H5I_INVALID_HID;
    if (closed < 0) {
        rc = cl_h5_fail(err, path, "cannot close after writing the analysis");
        cl_session_results_abort(w);
        return rc;
    }
    rc = cl_replace_commit(w->tx, err);
    w->tx = NULL;
    cl_session_results_abort(w); /* the rest: lock, property list, memory */
    return rc;
}

int cl_session_write_analysis(const char *path, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err)
{
    cl_session_results *w;
    if (!json_results)
        return cl_error_set(err, CL_ERR_ARG, "session analysis: invalid arguments");
    int rc = cl_session_results_begin(&w, path, err);
    return rc != CL_OK ? rc
                       : cl_session_results_finish(w, json_results, cols, ncols, nrows, err);
}
