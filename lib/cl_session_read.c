/*
 * cl_session_read: the reader of session files (cl_session_read.h).
 *
 * Opens normally when it can; a file still flagged as open for
 * writing (live or crashed SWMR writer) is opened in SWMR-read mode, which
 * follows a live writer through cl_session_refresh().  SWMR-read mode skips
 * HDF5's truncation check, so the reader makes it itself.  Lengths are the
 * shortest of a device's four row-aligned datasets.
 *
 * A writer killed in the middle of a flush can leave one metadata block half
 * written: HDF5 writes each block (an object header, a chunk-index block)
 * with one pwrite, and the kernel stops a write at a page boundary when the
 * process is killed, so a block straddling one is left half new, half old,
 * and fails its checksum for good.  The dataset then cannot be opened, or
 * its rows cannot be found; retrying does not help once the writer is dead.
 * The reader does not refuse the whole file for that: each dataset that is
 * rewritten while recording (the row series, counters, /events) is opened
 * and, unless the file is complete, its chunk index read through at open;
 * one that fails is marked unreadable and left out (a device's length is
 * then the shortest of its readable series), reading it is an error, and
 * cl_session_unreadable() / cl_session_damage() tell the program.  A
 * missing object is still a malformed file.  While a live writer holds the
 * file, a failure may be a block caught mid-write, so cl_session_refresh()
 * tries such datasets again.
 */
#include "cl_session_read.h"
#include "cl_h5.h"
#include "cl_schema.h"
#include "cl_session_lock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SWMR_READ_ATTEMPTS 15
#define HOST_TIME_BLOCK 65536 /* rows of host_time checked at a time */

/* Bit k of cl_session_unreadable() is series k; the counters come next. */
_Static_assert(CL_SESSION_SAMPLES == 1u << CL_SCHEMA_SAMPLES &&
                   CL_SESSION_DEVICE_TIME == 1u << CL_SCHEMA_DEVICE_TIME &&
                   CL_SESSION_HOST_TIME == 1u << CL_SCHEMA_HOST_TIME &&
                   CL_SESSION_SEQUENCE == 1u << CL_SCHEMA_SEQUENCE &&
                   CL_SESSION_COUNTERS == 1u << CL_SCHEMA_NSERIES,
               "unreadable bits follow the series order");

typedef struct rdev {
    cl_session_device info; /* strings point into str[] */
    char *str[9];
    hid_t ds[CL_SCHEMA_NSERIES];
    hid_t counters;
    size_t rows;
    unsigned unreadable; /* CL_SESSION_SAMPLES ... : objects that exist but cannot be read */
    size_t time_checked; /* rows of host_time checked (check_host_time) ... */
    double time_last;    /* ... and the last of them */
} rdev;

typedef struct rcup {
    cl_session_cup info; /* strings point into str[] */
    char *str[6];
} rcup;

typedef struct rattr {
    char *name, *value;
} rattr;

struct cl_session_reader {
    char *path;
    hid_t file;
    bool swmr;         /* opened in SWMR-read mode */
    bool flagged;      /* the superblock says a writer still has the file open */
    bool writer_alive; /* a recorder holds the writer lock */
    cl_session_status status;
    size_t ndev, ncups, nevents;
    rdev *dev;
    rcup *cups;
    hid_t events, ev_mtype, counters_mtype;
    char **ev_text; /* cached event texts, ev_text_n slots */
    size_t ev_text_n;
    rattr *attrs;
    size_t nattrs;
    char **profiles; /* JSON texts from /calibration/profiles */
    size_t nprofiles;
    bool events_unreadable; /* /events exists but cannot be read */
    char *damage;           /* cl_session_damage(): names of the unreadable objects */
};

void cl_session_reader_close(cl_session_reader *r)
{
    if (!r)
        return;
    cl_h5_quiet();
    for (size_t i = 0; r->dev && i < r->ndev; i++) {
        for (int k = 0; k < CL_SCHEMA_NSERIES; k++)
            cl_h5_close(&r->dev[i].ds[k]);
        cl_h5_close(&r->dev[i].counters);
        for (size_t j = 0; j < 9; j++)
            free(r->dev[i].str[j]);
    }
    for (size_t i = 0; r->cups && i < r->ncups; i++)
        for (size_t j = 0; j < 6; j++)
            free(r->cups[i].str[j]);
    for (size_t i = 0; i < r->ev_text_n; i++)
        free(r->ev_text[i]);
    for (size_t i = 0; i < r->nattrs; i++) {
        free(r->attrs[i].name);
        free(r->attrs[i].value);
    }
    for (size_t i = 0; i < r->nprofiles; i++)
        free(r->profiles[i]);
    free(r->profiles);
    free(r->damage);
    cl_h5_close(&r->events);
    cl_h5_close(&r->ev_mtype);
    cl_h5_close(&r->counters_mtype);
    cl_h5_close(&r->file);
    H5Eclear2(H5E_DEFAULT);
    free(r->ev_text);
    free(r->attrs);
    free(r->dev);
    free(r->cups);
    free(r->path);
    free(r);
}

/* Open the HDF5 file read-only, in the first way that works: normally; in
 * SWMR-read mode (a live or crashed SWMR writer left the file flagged); or
 * read-only ignoring the flags (a writer died outside SWMR mode; nothing is
 * written).  *flagged tells whether a fallback was needed.  On failure
 * reports the first attempt's error. */
static int open_h5(const char *path, hid_t *file, bool *swmr, bool *flagged, cl_error *err)
{
    hid_t plain = H5I_INVALID_HID, live = H5I_INVALID_HID, noflags = H5I_INVALID_HID;
    cl_h5_detail first = {{0}, 0};
    int rc = CL_OK;
    bool yes = true;
    *file = H5I_INVALID_HID;
    *swmr = *flagged = false;
    if ((plain = H5Pcreate(H5P_FILE_ACCESS)) < 0 || (live = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        (noflags = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_metadata_read_attempts(live, SWMR_READ_ATTEMPTS) < 0) {
        rc = cl_h5_fail(err, path, "cannot set up file access");
        goto done;
    }
    if ((*file = H5Fopen(path, H5F_ACC_RDONLY, plain)) >= 0)
        goto done;
    cl_h5_take(&first);
    *flagged = true;
    if ((*file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, live)) >= 0) {
        *swmr = true;
        /* SWMR-read mode skips HDF5's check that the file is not shorter
         * than its stored end-of-allocation, and reads past the end as
         * zeros.  A writer's file only grows after a flush, so a shorter
         * file is a truncated copy. */
        haddr_t eoa = 0;
        struct stat st;
        if (H5Fget_eoa(*file, &eoa) >= 0 && stat(path, &st) == 0 && (haddr_t)st.st_size < eoa) {
            cl_h5_close(file);
            *swmr = false;
            rc = cl_error_set(err, CL_ERR_FORMAT,
                              "%s: truncated HDF5 file (%lld bytes, %llu expected)", path,
                              (long long)st.st_size, (unsigned long long)eoa);
        }
        H5Eclear2(H5E_DEFAULT);
        goto done;
    }
    H5Eclear2(H5E_DEFAULT);
    if (H5Pset(noflags, "clear_status_flags", &yes) >= 0 &&
        (*file = H5Fopen(path, H5F_ACC_RDONLY, noflags)) >= 0)
        goto done;
    H5Eclear2(H5E_DEFAULT);
    *flagged = false;
    if (first.errnum == EACCES || first.errnum == EPERM)
        rc = cl_error_set(err, CL_ERR_PERM, "%s: cannot open: %s", path, first.text);
    else if (first.errnum == EAGAIN || first.errnum == EWOULDBLOCK)
        rc = cl_error_set(err, CL_ERR_BUSY, "%s: locked by another program (%s)", path,
                          first.text);
    else if (strstr(first.text, "truncated"))
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: truncated HDF5 file (HDF5: %s)", path,
                          first.text);
    else
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged HDF5 file (HDF5: %s)", path,
                          first.text[0] ? first.text : "no detail");
done:
    cl_h5_close(&noflags);
    cl_h5_close(&live);
    cl_h5_close(&plain);
    return rc;
}

static int check_format(hid_t file, const char *path, cl_error *err)
{
    char *fmt = NULL;
    long long ver = 0;
    bool found = false;
    int rc = CL_OK;
    if (cl_h5_get_text(file, "format", &fmt) < 0) {
        cl_h5_detail d;
        cl_h5_take(&d);
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: not a cuplab session file (unreadable \"format\" attribute: %s)",
                          path, d.text[0] ? d.text : "not a string");
    } else if (!fmt) {
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: not a cuplab session file (no \"format\" attribute)", path);
    } else if (strcmp(fmt, CL_SESSION_FORMAT) != 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: not a cuplab session file (format is \"%.64s\")", path, fmt);
    } else if (cl_h5_get_int(file, "format_version", &ver, &found) < 0 || !found) {
        H5Eclear2(H5E_DEFAULT);
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: damaged session file (no integer format_version)", path);
    } else if (ver > CL_SESSION_VERSION) {
        rc = cl_error_set(err, CL_ERR_VERSION,
                          "%s: session format version %lld is newer than the supported "
                          "version %d; a newer cuplab is needed",
                          path, ver, CL_SESSION_VERSION);
    } else if (ver < 1) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: invalid session format version %lld", path,
                          ver);
    }
    free(fmt);
    return rc;
}

static int read_series(cl_session_reader *r, size_t dev, int k, size_t col, size_t start,
                       size_t count, hid_t mtype, void *out, cl_error *err);

/* host_time of device `i` must be finite and non-decreasing over its rows,
 * except for NaN to the end: rows a write never filled (the fill value),
 * which are left out (the device's rows end before them).  Anything else is
 * a damaged file, named by dataset and row.  Checks only the rows not
 * checked yet, so that a refresh reads just the new ones. */
static int check_host_time(cl_session_reader *r, size_t i, cl_error *err)
{
    rdev *d = &r->dev[i];
    size_t from = d->time_checked < d->rows ? d->time_checked : d->rows, nan_from = (size_t)-1;
    double *t, last = from == 0 ? -INFINITY : d->time_last;
    int rc = CL_OK;
    if (d->ds[CL_SCHEMA_HOST_TIME] < 0 || from == d->rows)
        return CL_OK;
    if (!(t = malloc(HOST_TIME_BLOCK * sizeof *t)))
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
    for (size_t at = from; rc == CL_OK && at < d->rows; at += HOST_TIME_BLOCK) {
        size_t n = d->rows - at < HOST_TIME_BLOCK ? d->rows - at : HOST_TIME_BLOCK;
        if ((rc = read_series(r, i, CL_SCHEMA_HOST_TIME, 0, at, n, H5T_NATIVE_DOUBLE, t,
                              err)) != CL_OK)
            break;
        for (size_t j = 0; j < n && rc == CL_OK; j++) {
            char what[96] = "";
            if (isnan(t[j])) {
                nan_from = nan_from == (size_t)-1 ? at + j : nan_from;
                continue;
            }
            if (nan_from != (size_t)-1)
                snprintf(what, sizeof what, "row %zu is NaN, row %zu is not", nan_from, at + j);
            else if (!isfinite(t[j]))
                snprintf(what, sizeof what, "row %zu is infinite", at + j);
            else if (t[j] < last)
                snprintf(what, sizeof what, "row %zu goes back from %.6f s to %.6f s", at + j,
                         last, t[j]);
            if (what[0])
                rc = cl_error_set(err, CL_ERR_FORMAT,
                                  "%s: damaged session file (/devices/dev%zu/host_time: %s)",
                                  r->path, i, what);
            last = t[j];
        }
    }
    free(t);
    if (rc != CL_OK)
        return rc;
    if (nan_from != (size_t)-1)
        d->rows = nan_from;
    d->time_checked = d->rows;
    d->time_last = last;
    return CL_OK;
}

/* Rows of `ds` its allocated storage can hold: the writer stores every row
 * it flushes, so rows beyond (a write that never reached the disk, or a
 * damaged file claiming more rows than it holds) have no data and are left
 * out, which also bounds the work of reading a file by its size. */
static size_t stored_rows(hid_t ds)
{
    hsize_t cols = 0, bytes = H5Dget_storage_size(ds);
    hid_t t = H5Dget_type(ds);
    size_t size = t >= 0 ? H5Tget_size(t) : 0;
    cl_h5_close(&t);
    if (cl_h5_rows(ds, &cols) == (size_t)-1 || size == 0)
        return 0;
    size *= cols ? cols : 1;
    return (size_t)(bytes / size);
}

/* Recompute row counts (shortest common length of the readable series,
 * within the rows their storage holds; 0 when none is; no further than
 * check_host_time allows) and the event count. */
static int measure(cl_session_reader *r, cl_error *err)
{
    for (size_t i = 0; i < r->ndev; i++) {
        size_t rows = (size_t)-1;
        for (int k = 0; k < CL_SCHEMA_NSERIES; k++) {
            if (r->dev[i].ds[k] < 0)
                continue; /* unreadable */
            size_t n = cl_h5_rows(r->dev[i].ds[k], NULL), stored = stored_rows(r->dev[i].ds[k]);
            if (n == (size_t)-1)
                return cl_h5_fail(err, r->path, "cannot read dataset sizes");
            if (stored < n)
                n = stored;
            if (n < rows)
                rows = n;
        }
        r->dev[i].rows = rows == (size_t)-1 ? 0 : rows;
        int rc = check_host_time(r, i, err);
        if (rc != CL_OK)
            return rc;
    }
    size_t n = r->events >= 0 ? cl_h5_rows(r->events, NULL) : 0;
    if (n == (size_t)-1)
        return cl_h5_fail(err, r->path, "cannot read the size of /events");
    r->nevents = n;
    return CL_OK;
}

/* Rebuild the list of unreadable objects behind cl_session_damage(). */
static int note_damage(cl_session_reader *r, cl_error *err)
{
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < r->ndev; i++)
        cap += (CL_SCHEMA_NSERIES + 1) * 48;
    cap += 16;
    char *text = malloc(cap);
    if (!text)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
    text[0] = '\0';
    for (size_t i = 0; i < r->ndev; i++)
        for (int k = 0; k <= CL_SCHEMA_NSERIES; k++)
            if (r->dev[i].unreadable & (1u << k))
                len += (size_t)snprintf(
                    text + len, cap - len, "%s/devices/dev%zu/%s", len ? ", " : "", i,
                    k < CL_SCHEMA_NSERIES ? cl_schema_series_name[k] : "counters");
    if (r->events_unreadable)
        snprintf(text + len, cap - len, "%s/events", len ? ", " : "");
    free(r->damage);
    r->damage = text;
    return CL_OK;
}

static const char *class_name(H5T_class_t c)
{
    return c == H5T_INTEGER    ? "integer"
           : c == H5T_FLOAT    ? "floating-point"
           : c == H5T_STRING   ? "string"
           : c == H5T_COMPOUND ? "compound"
           : c == H5T_ENUM     ? "enum"
                               : "non-numeric";
}

/* The schema against the data: each readable series of device `d` (group
 * `g`) has its datatype class and rank (samples 2-D float with 1 to
 * CL_SCHEMA_MAX_CHANNELS columns, the times 1-D float, sequence 1-D integer), and the
 * group's "channels" attribute is an integer equal to the width of samples
 * (or, when samples is unreadable, within 1..CL_SCHEMA_MAX_CHANNELS).  *cols gets
 * the number of channels.  -1 with `why` (": what is wrong") otherwise. */
static int check_shapes(const rdev *d, hid_t g, hsize_t *cols, char *why, size_t cap)
{
    long long v = 0;
    bool found = false;
    *cols = 0;
    for (int k = 0; k < CL_SCHEMA_NSERIES; k++) {
        if (d->ds[k] < 0)
            continue;
        hid_t t = H5Dget_type(d->ds[k]), sp = H5Dget_space(d->ds[k]);
        H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
        int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1,
            want = k == CL_SCHEMA_SAMPLES ? 2 : 1;
        H5T_class_t cwant = k == CL_SCHEMA_SEQUENCE ? H5T_INTEGER : H5T_FLOAT;
        cl_h5_close(&sp);
        cl_h5_close(&t);
        if (c != cwant) {
            snprintf(why, cap, "/%s: %s data, %s expected", cl_schema_series_name[k],
                     class_name(c), class_name(cwant));
            return -1;
        }
        if (rank != want ||
            (k == CL_SCHEMA_SAMPLES && cl_h5_rows(d->ds[k], cols) == (size_t)-1)) {
            snprintf(why, cap, "/%s: %d-dimensional, %d-dimensional expected",
                     cl_schema_series_name[k], rank, want);
            return -1;
        }
    }
    if (cl_h5_get_int(g, "channels", &v, &found) < 0 || !found) {
        snprintf(why, cap, ": no integer \"channels\" attribute");
        return -1;
    }
    if (d->ds[CL_SCHEMA_SAMPLES] >= 0 && (*cols < 1 || *cols > CL_SCHEMA_MAX_CHANNELS)) {
        snprintf(why, cap, "/samples: %llu columns, 1 to %d expected",
                 (unsigned long long)*cols, CL_SCHEMA_MAX_CHANNELS);
        return -1;
    }
    if (d->ds[CL_SCHEMA_SAMPLES] >= 0 && (hsize_t)v != *cols) {
        snprintf(why, cap, ": \"channels\" attribute is %lld, samples has %llu columns", v,
                 (unsigned long long)*cols);
        return -1;
    }
    if (v < 1 || v > CL_SCHEMA_MAX_CHANNELS) {
        snprintf(why, cap, ": \"channels\" attribute is %lld, 1 to %d expected", v,
                 CL_SCHEMA_MAX_CHANNELS);
        return -1;
    }
    *cols = (hsize_t)v;
    return 0;
}

static int load_device(cl_session_reader *r, hid_t devices, size_t i, cl_error *err)
{
    static const char *const sattr[] = {"port",        "protocol",   "usb_manufacturer",
                                        "usb_product", "usb_serial", "description",
                                        "announcement"};
    char name[32], why[160];
    hid_t g = H5I_INVALID_HID;
    rdev *d = &r->dev[i];
    int rc = CL_OK;
    long long v;
    bool found;
    hsize_t cols = 0;
    snprintf(name, sizeof name, "dev%zu", i);
    htri_t ex = H5Lexists(devices, name, H5P_DEFAULT);
    if (ex <= 0 || (g = H5Gopen2(devices, name, H5P_DEFAULT)) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return cl_error_set(err, CL_ERR_FORMAT, "%s: damaged session file (no /devices/%s)",
                            r->path, name);
    }
    const char *missing = NULL;
    bool exists, probe = r->status != CL_SESSION_COMPLETE;
    for (size_t k = 0; k < 7 && !missing; k++)
        if (cl_h5_get_text(g, sattr[k], &d->str[k]) < 0)
            missing = sattr[k];
    /* A series or the counters that exist but cannot be read are left out
     * (see the top of this file); missing ones make a malformed file. */
    for (int k = 0; k < CL_SCHEMA_NSERIES && !missing; k++)
        if ((d->ds[k] = cl_h5_open_checked(g, cl_schema_series_name[k], probe, &exists)) < 0) {
            if (!exists)
                missing = cl_schema_series_name[k];
            else
                d->unreadable |= 1u << k;
        }
    if (!missing && (d->counters = cl_h5_open_checked(g, "counters", probe, &exists)) < 0) {
        if (!exists)
            missing = "counters";
        else
            d->unreadable |= CL_SESSION_COUNTERS;
    }
    if (!missing && d->ds[CL_SCHEMA_DEVICE_TIME] >= 0 &&
        cl_h5_get_text(d->ds[CL_SCHEMA_DEVICE_TIME], "units", &d->str[7]) < 0)
        missing = "device_time units";
    if (missing || check_shapes(d, g, &cols, why, sizeof why) != 0)
        goto bad;
    d->info.port = d->str[0] ? d->str[0] : "";
    d->info.protocol = d->str[1] ? d->str[1] : "";
    d->info.usb_manufacturer = d->str[2] ? d->str[2] : "";
    d->info.usb_product = d->str[3] ? d->str[3] : "";
    d->info.usb_serial = d->str[4] ? d->str[4] : "";
    d->info.description = d->str[5] ? d->str[5] : "";
    d->info.announcement = d->str[6] ? d->str[6] : "";
    d->info.time_units = d->str[7] ? d->str[7] : "";
    d->info.channels = (uint16_t)cols;
    d->info.baud = cl_h5_get_int(g, "baud", &v, &found) == 0 && found ? (int)v : 0;
    d->info.usb_vendor_id =
        cl_h5_get_int(g, "usb_vendor_id", &v, &found) == 0 && found ? (int)v : -1;
    d->info.usb_product_id =
        cl_h5_get_int(g, "usb_product_id", &v, &found) == 0 && found ? (int)v : -1;
    H5Eclear2(H5E_DEFAULT);
    goto done;
bad:
    H5Eclear2(H5E_DEFAULT);
    if (!missing)
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged session file (/devices/%s%s)",
                          r->path, name, why);
    else
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: damaged session file (/devices/%s: %s unreadable)", r->path,
                          name, missing);
done:
    cl_h5_close(&g);
    return rc;
}

static int load_cups(cl_session_reader *r, cl_error *err)
{
    hid_t ds = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    cl_schema_cup_rec *rec = NULL;
    int rc = CL_OK;
    size_t n;
    if ((ds = H5Dopen2(r->file, "cups", H5P_DEFAULT)) < 0 ||
        (n = cl_h5_rows(ds, NULL)) == (size_t)-1) {
        H5Eclear2(H5E_DEFAULT);
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged session file (no /cups)", r->path);
        goto done;
    }
    if (!(r->cups = calloc(n ? n : 1, sizeof *r->cups)) ||
        !(rec = calloc(n ? n : 1, sizeof *rec))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
        goto done;
    }
    r->ncups = n;
    if (n == 0)
        goto done;
    if ((mt = cl_schema_cup_type(0)) < 0 || (sp = H5Dget_space(ds)) < 0 ||
        H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec) < 0) {
        rc = cl_h5_fail(err, r->path, "cannot read /cups");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        rcup *c = &r->cups[i];
        char *src[6] = {rec[i].cup_id,   rec[i].cup_set, rec[i].size,
                        rec[i].material, rec[i].site,    rec[i].sensor_serial};
        for (size_t j = 0; j < 6; j++)
            if (!(c->str[j] = strdup(src[j] ? src[j] : "")))
                rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
        c->info.cup_id = c->str[0];
        c->info.cup_set = c->str[1];
        c->info.size = c->str[2];
        c->info.material = c->str[3];
        c->info.site = c->str[4];
        c->info.sensor_serial = c->str[5];
        c->info.device = rec[i].device;
        c->info.channel = rec[i].channel;
    }
    H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, rec);
done:
    free(rec);
    cl_h5_close(&sp);
    cl_h5_close(&mt);
    cl_h5_close(&ds);
    return rc;
}

/* Copies of the calibration profiles, if the file has them. */
static int load_profiles(cl_session_reader *r, cl_error *err)
{
    hid_t ds = H5I_INVALID_HID, str = H5I_INVALID_HID;
    size_t n;
    int rc = CL_OK;
    if (H5Lexists(r->file, "calibration", H5P_DEFAULT) <= 0 ||
        H5Lexists(r->file, "calibration/profiles", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return CL_OK;
    }
    if ((ds = H5Dopen2(r->file, "calibration/profiles", H5P_DEFAULT)) < 0 ||
        (n = cl_h5_rows(ds, NULL)) == (size_t)-1 || (str = cl_h5_str_vlen()) < 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged /calibration/profiles", r->path);
        goto done;
    }
    if (n > 0) {
        if (!(r->profiles = calloc(n, sizeof *r->profiles))) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
            goto done;
        }
        if (H5Dread(ds, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->profiles) < 0) {
            rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged /calibration/profiles", r->path);
            goto done;
        }
        /* vlen strings are malloc'ed by HDF5's default allocator: take them */
        r->nprofiles = n;
    }
done:
    H5Eclear2(H5E_DEFAULT);
    cl_h5_close(&str);
    cl_h5_close(&ds);
    return rc;
}

static int load_schema(cl_session_reader *r, cl_error *err)
{
    hid_t devices = H5I_INVALID_HID;
    H5G_info_t gi;
    char *status = NULL;
    int rc = CL_OK;

    if (cl_h5_get_text(r->file, "status", &status) < 0) {
        rc = cl_h5_fail(err, r->path, "cannot read the status attribute");
        goto done;
    }
    /* Empty or absent: no final status yet (recording, or crashed). */
    r->status = !status                              ? CL_SESSION_RECORDING
                : strcmp(status, "complete") == 0    ? CL_SESSION_COMPLETE
                : strcmp(status, "interrupted") == 0 ? CL_SESSION_INTERRUPTED
                                                     : CL_SESSION_RECORDING;
    if ((devices = H5Gopen2(r->file, "devices", H5P_DEFAULT)) < 0 ||
        H5Gget_info(devices, &gi) < 0) {
        H5Eclear2(H5E_DEFAULT);
        rc =
            cl_error_set(err, CL_ERR_FORMAT, "%s: damaged session file (no /devices)", r->path);
        goto done;
    }
    if (!(r->dev = calloc(gi.nlinks ? gi.nlinks : 1, sizeof *r->dev))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
        goto done;
    }
    for (size_t i = 0; i < gi.nlinks; i++) {
        for (int k = 0; k < CL_SCHEMA_NSERIES; k++)
            r->dev[i].ds[k] = H5I_INVALID_HID;
        r->dev[i].counters = H5I_INVALID_HID;
    }
    r->ndev = gi.nlinks;
    for (size_t i = 0; i < r->ndev; i++)
        if ((rc = load_device(r, devices, i, err)) != CL_OK)
            goto done;
    if ((rc = load_cups(r, err)) != CL_OK)
        goto done;
    bool exists;
    if ((r->events = cl_h5_open_checked(r->file, "events", r->status != CL_SESSION_COMPLETE,
                                        &exists)) < 0) {
        if (!exists) {
            rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged session file (no /events)",
                              r->path);
            goto done;
        }
        r->events_unreadable = true;
    }
    if ((r->ev_mtype = cl_schema_event_type(0)) < 0 ||
        (r->counters_mtype = cl_schema_counters_type(0)) < 0) {
        rc = cl_h5_fail(err, r->path, "cannot build memory types");
        goto done;
    }
    if ((rc = load_profiles(r, err)) != CL_OK || (rc = note_damage(r, err)) != CL_OK)
        goto done;
    rc = measure(r, err);
done:
    free(status);
    cl_h5_close(&devices);
    return rc;
}

int cl_session_open(cl_session_reader **out, const char *path, cl_error *err)
{
    cl_session_reader *r = NULL;
    struct stat st;
    int rc;
    if (out)
        *out = NULL;
    cl_h5_quiet();
    if (!out || !path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session open: no output or file name");
    if (stat(path, &st) != 0)
        return cl_h5_os_fail(err, errno, path, "cannot open");
    if (S_ISDIR(st.st_mode))
        return cl_error_set(err, CL_ERR_FORMAT, "%s: is a directory, not a session file", path);
    htri_t is = H5Fis_hdf5(path);
    if (is < 0) {
        cl_h5_detail d;
        cl_h5_take(&d);
        if (d.errnum)
            return cl_h5_os_fail(err, d.errnum, path, "cannot open");
        return cl_error_set(err, CL_ERR_FORMAT, "%s: not an HDF5 file (HDF5: %s)", path,
                            d.text);
    }
    if (is == 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: not an HDF5 file", path);

    if (!(r = calloc(1, sizeof *r)) || !(r->path = strdup(path))) {
        free(r);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    r->file = r->events = r->ev_mtype = r->counters_mtype = H5I_INVALID_HID;
    if ((rc = open_h5(path, &r->file, &r->swmr, &r->flagged, err)) != CL_OK ||
        (rc = check_format(r->file, path, err)) != CL_OK ||
        (rc = load_schema(r, err)) != CL_OK) {
        cl_session_reader_close(r);
        return rc;
    }
    r->writer_alive = r->status == CL_SESSION_RECORDING && cl_session_lock_held(path);
    *out = r;
    return CL_OK;
}

const char *cl_session_attr(cl_session_reader *r, const char *name)
{
    if (!r || !name)
        return "";
    cl_h5_quiet();
    for (size_t i = 0; i < r->nattrs; i++)
        if (strcmp(r->attrs[i].name, name) == 0)
            return r->attrs[i].value ? r->attrs[i].value : "";
    char *v = NULL, *n = strdup(name);
    rattr *grown = realloc(r->attrs, (r->nattrs + 1) * sizeof *r->attrs);
    if (!n || !grown) {
        free(n);
        return "";
    }
    r->attrs = grown;
    if (cl_h5_get_text(r->file, name, &v) < 0)
        H5Eclear2(H5E_DEFAULT);
    r->attrs[r->nattrs].name = n;
    r->attrs[r->nattrs].value = v;
    r->nattrs++;
    return v ? v : "";
}

bool cl_session_target(cl_session_reader *r, cl_target *out)
{
    const char *v = cl_session_attr(r, "target_vacuum_kpa"),
               *d = cl_session_attr(r, "target_duration_s"),
               *b = cl_session_attr(r, "target_band_kpa");
    *out = (cl_target){strtod(v, NULL), *d ? strtod(d, NULL) : NAN, strtod(b, NULL)};
    return *v && out->vacuum_kpa > 0 && out->band_kpa > 0;
}

cl_session_status cl_session_reader_status(const cl_session_reader *r)
{
    return r ? r->status : CL_SESSION_RECORDING;
}

bool cl_session_writer_alive(const cl_session_reader *r)
{
    return r && r->writer_alive;
}

bool cl_session_flagged(const cl_session_reader *r)
{
    return r && r->flagged;
}

size_t cl_session_device_count(const cl_session_reader *r)
{
    return r ? r->ndev : 0;
}

const cl_session_device *cl_session_device_info(const cl_session_reader *r, size_t dev)
{
    return r && dev < r->ndev ? &r->dev[dev].info : NULL;
}

size_t cl_session_rows(const cl_session_reader *r, size_t dev)
{
    return r && dev < r->ndev ? r->dev[dev].rows : 0;
}

unsigned cl_session_unreadable(const cl_session_reader *r, size_t dev)
{
    return r && dev < r->ndev ? r->dev[dev].unreadable : 0;
}

size_t cl_session_damaged(const cl_session_reader *r)
{
    size_t n = 0;
    if (!r)
        return 0;
    for (size_t i = 0; i < r->ndev; i++)
        for (int k = 0; k <= CL_SCHEMA_NSERIES; k++)
            n += (r->dev[i].unreadable >> k) & 1u;
    return n + r->events_unreadable;
}

const char *cl_session_damage(const cl_session_reader *r)
{
    return r && r->damage ? r->damage : "";
}

/* The error for reading an object that cannot be read. */
static int unreadable(const cl_session_reader *r, cl_error *err, const char *obj, size_t dev)
{
    char name[64];
    if (dev == (size_t)-1)
        snprintf(name, sizeof name, "/%s", obj);
    else
        snprintf(name, sizeof name, "/devices/dev%zu/%s", dev, obj);
    return cl_error_set(err, CL_ERR_FORMAT,
                        "%s: %s is unreadable (damaged, e.g. its writer was killed while "
                        "writing it); the rest of the file can still be read",
                        r->path, name);
}

int cl_session_counters_get(cl_session_reader *r, size_t dev, cl_session_counters *out,
                            cl_error *err)
{
    if (!r || !out)
        return cl_error_set(err, CL_ERR_ARG, "session counters: no reader or output");
    cl_h5_quiet();
    if (dev >= r->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device %zu (%zu devices)", r->path, dev,
                            r->ndev);
    memset(out, 0, sizeof *out);
    if (r->dev[dev].counters < 0)
        return unreadable(r, err, "counters", dev);
    if (H5Dread(r->dev[dev].counters, r->counters_mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) <
        0)
        return cl_h5_fail(err, r->path, "cannot read counters");
    return CL_OK;
}

/* Read rows [start, start+count) of series `k` of device `dev`; for the 2-D
 * samples dataset only column `col`. */
static int read_series(cl_session_reader *r, size_t dev, int k, size_t col, size_t start,
                       size_t count, hid_t mtype, void *out, cl_error *err)
{
    if (!r || (!out && count))
        return cl_error_set(err, CL_ERR_ARG, "session read: no reader or output");
    cl_h5_quiet();
    if (dev >= r->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device %zu (%zu devices)", r->path, dev,
                            r->ndev);
    rdev *d = &r->dev[dev];
    if (k == CL_SCHEMA_SAMPLES && col >= d->info.channels)
        return cl_error_set(err, CL_ERR_ARG, "%s: device %zu has no channel %zu (%u channels)",
                            r->path, dev, col, (unsigned)d->info.channels);
    if (d->ds[k] < 0)
        return unreadable(r, err, cl_schema_series_name[k], dev);
    if (start > d->rows || count > d->rows - start)
        return cl_error_set(err, CL_ERR_RANGE,
                            "%s: rows %zu..%zu requested, device %zu has %zu", r->path, start,
                            start + count, dev, d->rows);
    if (count == 0)
        return CL_OK;
    hid_t fs = H5Dget_space(d->ds[k]), ms = H5I_INVALID_HID;
    hsize_t off[2] = {start, col}, cnt[2] = {count, 1}, n = count;
    int rc = CL_OK;
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
        (ms = H5Screate_simple(1, &n, NULL)) < 0 ||
        H5Dread(d->ds[k], mtype, ms, fs, H5P_DEFAULT, out) < 0) {
        char what[96];
        snprintf(what, sizeof what, "cannot read /devices/dev%zu/%s", dev,
                 cl_schema_series_name[k]);
        rc = cl_h5_fail(err, r->path, what);
    }
    cl_h5_close(&ms);
    cl_h5_close(&fs);
    return rc;
}

int cl_session_read_channel(cl_session_reader *r, size_t dev, size_t channel, size_t start,
                            size_t count, double *out, cl_error *err)
{
    return read_series(r, dev, CL_SCHEMA_SAMPLES, channel, start, count, H5T_NATIVE_DOUBLE, out,
                       err);
}

int cl_session_read_host_time(cl_session_reader *r, size_t dev, size_t start, size_t count,
                              double *out, cl_error *err)
{
    return read_series(r, dev, CL_SCHEMA_HOST_TIME, 0, start, count, H5T_NATIVE_DOUBLE, out,
                       err);
}

int cl_session_read_device_time(cl_session_reader *r, size_t dev, size_t start, size_t count,
                                double *out, cl_error *err)
{
    return read_series(r, dev, CL_SCHEMA_DEVICE_TIME, 0, start, count, H5T_NATIVE_DOUBLE, out,
                       err);
}

int cl_session_read_seq(cl_session_reader *r, size_t dev, size_t start, size_t count,
                        uint32_t *out, cl_error *err)
{
    return read_series(r, dev, CL_SCHEMA_SEQUENCE, 0, start, count, H5T_NATIVE_UINT32, out,
                       err);
}

size_t cl_session_profile_count(const cl_session_reader *r)
{
    return r ? r->nprofiles : 0;
}

const char *cl_session_profile(const cl_session_reader *r, size_t i)
{
    return r && i < r->nprofiles && r->profiles[i] ? r->profiles[i] : NULL;
}

int cl_session_clock_get(cl_session_reader *r, size_t dev, cl_session_clock *out, cl_error *err)
{
    char name[48];
    hid_t ds = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    int rc = CL_OK;
    if (!r || !out)
        return cl_error_set(err, CL_ERR_ARG, "session clock: no reader or output");
    cl_h5_quiet();
    if (dev >= r->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device %zu (%zu devices)", r->path, dev,
                            r->ndev);
    snprintf(name, sizeof name, "devices/dev%zu/clock", dev);
    if (H5Lexists(r->file, name, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return cl_error_set(err, CL_ERR_NOTFOUND, "%s: no clock estimate for device %zu",
                            r->path, dev);
    }
    /* files written before ref_device_s existed give the offset at device
     * time 0, and the read leaves a field the file lacks untouched */
    out->ref_device_s = 0;
    if ((ds = H5Dopen2(r->file, name, H5P_DEFAULT)) < 0 || (mt = cl_schema_clock_type(0)) < 0 ||
        H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        rc = cl_h5_fail(err, r->path, "cannot read the clock estimate");
    else if (!(out->points >= 3) || !isfinite(out->slope))
        rc = cl_error_set(err, CL_ERR_NOTFOUND, "%s: no clock estimate for device %zu", r->path,
                          dev);
    cl_h5_close(&mt);
    cl_h5_close(&ds);
    return rc;
}

size_t cl_session_cup_count(const cl_session_reader *r)
{
    return r ? r->ncups : 0;
}

const cl_session_cup *cl_session_cup_info(const cl_session_reader *r, size_t cup)
{
    return r && cup < r->ncups ? &r->cups[cup].info : NULL;
}

size_t cl_session_event_count(const cl_session_reader *r)
{
    return r ? r->nevents : 0;
}

int cl_session_event_get(cl_session_reader *r, size_t i, cl_session_event *out, cl_error *err)
{
    if (!r || !out)
        return cl_error_set(err, CL_ERR_ARG, "session event: no reader or output");
    cl_h5_quiet();
    if (r->events < 0)
        return unreadable(r, err, "events", (size_t)-1);
    if (i >= r->nevents)
        return cl_error_set(err, CL_ERR_RANGE, "%s: no event %zu (%zu events)", r->path, i,
                            r->nevents);
    if (i >= r->ev_text_n) {
        size_t n = r->nevents;
        char **grown = realloc(r->ev_text, n * sizeof *grown);
        if (!grown)
            return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
        memset(grown + r->ev_text_n, 0, (n - r->ev_text_n) * sizeof *grown);
        r->ev_text = grown;
        r->ev_text_n = n;
    }
    cl_schema_event_rec rec;
    memset(&rec, 0, sizeof rec);
    hid_t fs = H5Dget_space(r->events), ms = H5I_INVALID_HID;
    hsize_t off = i, one = 1;
    int rc = CL_OK;
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &one, NULL) < 0 ||
        (ms = H5Screate_simple(1, &one, NULL)) < 0 ||
        H5Dread(r->events, r->ev_mtype, ms, fs, H5P_DEFAULT, &rec) < 0) {
        rc = cl_h5_fail(err, r->path, "cannot read /events");
        goto done;
    }
    rec.text[sizeof rec.text - 1] = '\0';
    if (!r->ev_text[i] && !(r->ev_text[i] = strdup(rec.text))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
        goto done;
    }
    out->t = rec.t;
    out->cup = rec.cup;
    out->kind = (cl_event_kind)rec.kind;
    out->text = r->ev_text[i];
done:
    cl_h5_close(&ms);
    cl_h5_close(&fs);
    return rc;
}

/* While a live writer holds the file, an object that could not be read may
 * have been caught in the middle of a write: try the unreadable ones again. */
static int retry_unreadable(cl_session_reader *r, cl_error *err)
{
    char name[64];
    bool exists, changed = false;
    if (cl_session_damaged(r) == 0 || !cl_session_lock_held(r->path))
        return CL_OK;
    for (size_t i = 0; i < r->ndev; i++) {
        rdev *d = &r->dev[i];
        for (int k = 0; k <= CL_SCHEMA_NSERIES; k++) {
            if (!(d->unreadable & (1u << k)))
                continue;
            hid_t *id = k < CL_SCHEMA_NSERIES ? &d->ds[k] : &d->counters;
            snprintf(name, sizeof name, "devices/dev%zu/%s", i,
                     k < CL_SCHEMA_NSERIES ? cl_schema_series_name[k] : "counters");
            if ((*id = cl_h5_open_checked(r->file, name, true, &exists)) >= 0) {
                d->unreadable &= ~(1u << k);
                changed = true;
            }
        }
    }
    if (r->events_unreadable &&
        (r->events = cl_h5_open_checked(r->file, "events", true, &exists)) >= 0) {
        r->events_unreadable = false;
        changed = true;
    }
    return changed ? note_damage(r, err) : CL_OK;
}

int cl_session_refresh(cl_session_reader *r, cl_error *err)
{
    if (!r)
        return cl_error_set(err, CL_ERR_ARG, "session refresh: no reader");
    cl_h5_quiet();
    if (r->swmr) {
        for (size_t i = 0; i < r->ndev; i++) {
            for (int k = 0; k < CL_SCHEMA_NSERIES; k++)
                if (r->dev[i].ds[k] >= 0 && H5Drefresh(r->dev[i].ds[k]) < 0)
                    return cl_h5_fail(err, r->path, "cannot refresh a device dataset");
            if (r->dev[i].counters >= 0 && H5Drefresh(r->dev[i].counters) < 0)
                return cl_h5_fail(err, r->path, "cannot refresh counters");
        }
        if (r->events >= 0 && H5Drefresh(r->events) < 0)
            return cl_h5_fail(err, r->path, "cannot refresh /events");
        int rc = retry_unreadable(r, err);
        if (rc != CL_OK)
            return rc;
    }
    if (r->writer_alive)
        r->writer_alive = cl_session_lock_held(r->path);
    return measure(r, err);
}
