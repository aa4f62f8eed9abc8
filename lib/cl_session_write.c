/*
 * cl_session_write: the writer of session files (cl_session_write.h).
 *
 * cl_session_create() builds the complete schema (every group,
 * dataset and attribute), switches the file to SWMR writing and reopens the
 * datasets; from then on the writer only extends datasets (one extent change
 * and one hyperslab write per dataset and batch, through cached dataspaces)
 * and overwrites the counters in place.  cl_session_flush() is H5Fflush,
 * which also writes the superblock's end-of-allocation, followed by
 * fdatasync (the data and the file size reach the disk).
 * cl_session_close() closes the SWMR file, reopens it normally and writes the
 * final status and end time; a file without them is an interrupted session.
 * Those attributes are fixed-length strings created empty up front, and the
 * root keeps its attributes in its object header, so closing (and recovery)
 * only overwrite bytes in place: a kill at any point of the close leaves a
 * readable file (tests kill the writer before each of its writes).
 *
 * Disk full.  Before each append the writer checks that everything not yet
 * flushed, counted in whole chunks plus a margin, still fits on the disk and
 * under the file-size limits, and refuses otherwise, so the session can be
 * closed cleanly; room for the events that end the session is kept until the
 * first refusal, after which only they are taken.  If a write fails anyway the session is
 * failed: HDF5 1.10.8 cannot close a file whose writes fail (and then crashes at exit), so its
 * remaining writes are diverted before the close (divert_writes) and the
 * final status is written the way recovery does it.
 *
 * While it writes, the writer holds the live-writer lock (cl_session_lock).
 */
#include "cl_session_write.h"
#include "cl_h5.h"
#include "cl_ident.h"
#include "cl_output.h"
#include "cl_replace.h"
#include "cl_schema.h"
#include "cl_session_lock.h"
#include "cl_syncer.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifndef CUPLAB_VERSION
#define CUPLAB_VERSION ""
#endif

#define DEFAULT_CHUNK_ROWS 1024
#define MAX_CHUNK_ROWS (1u << 20)
#define EVENT_CHUNK_ROWS 64
#define ROOT_MAX_COMPACT 32 /* root attributes stay in the object header */
#define ROOT_MIN_DENSE 24
#define ROOM_MARGIN (256u * 1024) /* bytes kept free for metadata and the close */
/* kept free as well until a write is refused for lack of room */
#define FINAL_RESERVE                                                                          \
    ((CL_SESSION_FINAL_EVENTS / EVENT_CHUNK_ROWS + 1) * EVENT_CHUNK_ROWS *                     \
     sizeof(cl_schema_event_rec))

/* Random RFC 4122 version 4 UUID, lower-case hex. */
static int make_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0) {
            got += (size_t)n;
        } else if (n < 0 && errno != EINTR) {
            FILE *f = fopen("/dev/urandom", "rb");
            size_t r = f ? fread(b + got, 1, sizeof b - got, f) : 0;
            if (f)
                fclose(f);
            if (r != sizeof b - got)
                return -1;
            got = sizeof b;
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

/* 8-4-4-4-12 hex digits. */
static bool valid_uuid(const char *u)
{
    if (!u || strlen(u) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
            return false;
    }
    return true;
}

static void fsync_parent_dir(const char *path)
{
    char *dup = strdup(path);
    if (!dup)
        return;
    char *slash = strrchr(dup, '/');
    if (!slash)
        cl_replace_sync(".", O_RDONLY | O_DIRECTORY);
    else {
        slash[slash == dup ? 1 : 0] = '\0';
        cl_replace_sync(dup, O_RDONLY | O_DIRECTORY);
    }
    free(dup);
}

typedef struct wdev {
    hid_t ds[CL_SCHEMA_NSERIES];
    hid_t counters, clock;
    hid_t fspace2, fspace1; /* cached file-space selections, 2-D and 1-D */
    hid_t mspace2, mspace1; /* cached memory spaces */
    hsize_t channels;
    hsize_t rows;    /* rows appended to every series */
    hsize_t flushed; /* rows covered by the last successful flush */
} wdev;

struct cl_session {
    char *path;
    hid_t file;
    int fd;      /* HDF5's descriptor (sec2 driver), for fsync; -1 if unknown */
    int lock_fd; /* holds the live-writer lock; -1 if none */
    size_t ndev, ncups;
    wdev *dev;
    hid_t events, ev_fspace, ev_mspace, ev_mtype, counters_mtype;
    hsize_t nevents, ev_flushed;
    hsize_t chunk_rows;
    uint64_t max_file_bytes; /* what the filesystem allows one file to hold */
    int failed;              /* 0, or the code of a write HDF5 could not do */
    bool out_of_room;        /* a write was refused for lack of room (check_room) */
    cl_syncer *syncer;       /* syncs behind the flushes (sync_behind); NULL: in them */
};

static void writer_close_objects(cl_session *s)
{
    for (size_t i = 0; s->dev && i < s->ndev; i++) {
        wdev *d = &s->dev[i];
        for (int k = 0; k < CL_SCHEMA_NSERIES; k++)
            cl_h5_close(&d->ds[k]);
        cl_h5_close(&d->counters);
        cl_h5_close(&d->clock);
        cl_h5_close(&d->fspace2);
        cl_h5_close(&d->fspace1);
        cl_h5_close(&d->mspace2);
        cl_h5_close(&d->mspace1);
    }
    cl_h5_close(&s->events);
    cl_h5_close(&s->ev_fspace);
    cl_h5_close(&s->ev_mspace);
    cl_h5_close(&s->ev_mtype);
    cl_h5_close(&s->counters_mtype);
}

/* HDF5's file descriptor (sec2 driver), or -1. */
static int file_fd(hid_t file)
{
    hid_t fapl = H5Fget_access_plist(file);
    void *handle = NULL;
    int fd = -1;
    if (fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2 &&
        H5Fget_vfd_handle(file, fapl, &handle) >= 0 && handle)
        fd = *(int *)handle;
    cl_h5_close(&fapl);
    H5Eclear2(H5E_DEFAULT);
    return fd;
}

/* After a write failed, HDF5 1.10.8 cannot close the file: H5Fclose fails
 * while flushing, leaves a half-destroyed file behind and the library then
 * crashes when it terminates.  So HDF5's descriptor is pointed at a scratch
 * memory file first: the close completes, its writes go nowhere, and the
 * file on disk stays as the failure left it (still flagged as open, which
 * the recovery path then clears). */
static void divert_writes(cl_session *s)
{
    int fd = s->file >= 0 ? file_fd(s->file) : -1;
    int scratch = fd >= 0 ? memfd_create("cuplab-discard", MFD_CLOEXEC) : -1;
    if (scratch >= 0) {
        dup2(scratch, fd);
        close(scratch);
    }
    s->fd = -1;
}

/* Release everything; the file is closed without a final status.  A session
 * whose writes failed is closed with its writes diverted. */
static void writer_free(cl_session *s)
{
    if (!s)
        return;
    if (s->failed)
        divert_writes(s);
    (void)cl_syncer_free(s->syncer); /* before HDF5 closes the descriptor */
    s->syncer = NULL;
    writer_close_objects(s);
    cl_h5_close(&s->file);
    H5Eclear2(H5E_DEFAULT);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->dev);
    free(s->path);
    free(s);
}

/* Create an extendible row-series dataset: [0] or [0, cols] with an
 * unlimited first dimension, chunks of `chunk` rows, a fill value and a
 * "units" attribute. */
static int make_series(hid_t grp, const char *name, hid_t ftype, hid_t mtype, const void *fill,
                       hsize_t cols, hsize_t chunk, const char *units)
{
    hsize_t dims[2] = {0, cols}, maxd[2] = {H5S_UNLIMITED, cols}, ch[2] = {chunk, cols};
    int rank = cols ? 2 : 1;
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    int rc = -1;
    if ((sp = H5Screate_simple(rank, dims, maxd)) < 0 ||
        (dcpl = cl_h5_untimed(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, rank, ch) < 0 ||
        (fill && H5Pset_fill_value(dcpl, mtype, fill) < 0) ||
        (ds = H5Dcreate2(grp, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
        cl_h5_put_str(ds, "units", units) < 0)
        goto done;
    rc = 0;
done:
    cl_h5_close(&ds);
    cl_h5_close(&dcpl);
    cl_h5_close(&sp);
    return rc;
}

/* Fixed-size dataset written once before SWMR starts (space allocated
 * early so later overwrites change raw data only). */
static int make_fixed(hid_t loc, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                      const void *data, const char *units)
{
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    int rc = -1;
    if ((sp = H5Screate_simple(1, &n, NULL)) < 0 ||
        (dcpl = cl_h5_untimed(H5P_DATASET_CREATE)) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        (ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
        (n > 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) ||
        cl_h5_put_str(ds, "units", units) < 0)
        goto done;
    rc = 0;
done:
    cl_h5_close(&ds);
    cl_h5_close(&dcpl);
    cl_h5_close(&sp);
    return rc;
}

/* The identity the device announced (cl_ident), as attributes of its
 * group; -1 on an HDF5 failure. */
static int put_identity(hid_t g, const cl_session_device *dv)
{
    cl_ident id;
    const char *serials[CL_WIRE_MAX_CHANNELS], *models[CL_WIRE_MAX_CHANNELS];
    cl_ident_parse(&id, dv->announcement);
    for (size_t c = 0; c < dv->channels && c < CL_WIRE_MAX_CHANNELS; c++) {
        serials[c] = id.sensor_serial[c];
        models[c] = id.sensor_model[c];
    }
    return cl_h5_put_int(g, "protocol_version", id.protocol_version) < 0 ||
                   cl_h5_put_str(g, "device_serial", id.device) < 0 ||
                   cl_h5_put_str(g, "firmware", id.firmware) < 0 ||
                   cl_h5_put_double(g, "rate_hz", id.rate_hz) < 0 ||
                   cl_h5_put_int(g, "adc_bits", id.adc_bits) < 0 ||
                   cl_h5_put_str(g, "adc_reference", id.adc_reference) < 0 ||
                   cl_h5_put_double(g, "adc_reference_mv", id.adc_reference_mv) < 0 ||
                   cl_h5_put_strs(g, "sensor_serials", serials, dv->channels) < 0 ||
                   cl_h5_put_strs(g, "sensor_models", models, dv->channels) < 0
               ? -1
               : 0;
}

static int build_device(cl_session *s, hid_t devices, size_t i, const cl_session_device *dv,
                        hsize_t chunk, cl_error *err)
{
    char name[32], what[96];
    hid_t g = H5I_INVALID_HID, ctf = H5I_INVALID_HID, ctm = H5I_INVALID_HID;
    hid_t clf = H5I_INVALID_HID, clm = H5I_INVALID_HID;
    int rc = CL_OK;
    const double nan_fill = NAN;
    const uint32_t zero32 = 0;
    cl_session_counters zero = {0};
    cl_session_clock unknown = {NAN, NAN, NAN, NAN, NAN, NAN, 0, NAN};
    snprintf(name, sizeof name, "dev%zu", i);
    snprintf(what, sizeof what, "cannot create /devices/%s", name);
    if ((g = cl_h5_group(devices, name)) < 0 || cl_h5_put_str(g, "port", dv->port) < 0 ||
        cl_h5_put_str(g, "port_path", dv->port_path ? dv->port_path : dv->port) < 0 ||
        cl_h5_put_str(g, "protocol", dv->protocol) < 0 ||
        cl_h5_put_int(g, "baud", dv->baud) < 0 ||
        cl_h5_put_int(g, "channels", dv->channels) < 0 ||
        cl_h5_put_int(g, "usb_vendor_id", dv->usb_vendor_id) < 0 ||
        cl_h5_put_int(g, "usb_product_id", dv->usb_product_id) < 0 ||
        cl_h5_put_str(g, "usb_manufacturer", dv->usb_manufacturer) < 0 ||
        cl_h5_put_str(g, "usb_product", dv->usb_product) < 0 ||
        cl_h5_put_str(g, "usb_serial", dv->usb_serial) < 0 ||
        cl_h5_put_str(g, "description", dv->description) < 0 ||
        cl_h5_put_str(g, "announcement", dv->announcement) < 0 || put_identity(g, dv) < 0 ||
        make_series(g, "samples", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill, dv->channels,
                    chunk, "counts") < 0 ||
        make_series(g, "device_time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill, 0, chunk,
                    dv->time_units) < 0 ||
        make_series(g, "host_time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill, 0, chunk,
                    "s") < 0 ||
        make_series(g, "sequence", H5T_STD_U32LE, H5T_NATIVE_UINT32, &zero32, 0, chunk, "1") <
            0 ||
        (ctf = cl_schema_counters_type(1)) < 0 || (ctm = cl_schema_counters_type(0)) < 0 ||
        make_fixed(g, "counters", ctf, ctm, 1, &zero, "1") < 0 ||
        (clf = cl_schema_clock_type(1)) < 0 || (clm = cl_schema_clock_type(0)) < 0 ||
        make_fixed(g, "clock", clf, clm, 1, &unknown, "s") < 0)
        rc = cl_h5_fail(err, s->path, what);
    cl_h5_close(&clm);
    cl_h5_close(&clf);
    cl_h5_close(&ctm);
    cl_h5_close(&ctf);
    cl_h5_close(&g);
    return rc;
}

static int build_cups(cl_session *s, const cl_session_cup *cups, size_t ncups, cl_error *err)
{
    hid_t ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    cl_schema_cup_rec *rec = calloc(ncups ? ncups : 1, sizeof *rec);
    int rc = CL_OK;
    if (!rec)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
    for (size_t i = 0; i < ncups; i++) {
        const cl_session_cup *c = &cups[i];
        rec[i].device = c->device;
        rec[i].channel = c->channel;
        if (!(rec[i].cup_id = cl_h5_utf8_dup(c->cup_id)) ||
            !(rec[i].cup_set = cl_h5_utf8_dup(c->cup_set)) ||
            !(rec[i].size = cl_h5_utf8_dup(c->size)) ||
            !(rec[i].material = cl_h5_utf8_dup(c->material)) ||
            !(rec[i].site = cl_h5_utf8_dup(c->site)) ||
            !(rec[i].sensor_serial = cl_h5_utf8_dup(c->sensor_serial))) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
            goto done;
        }
    }
    if ((ft = cl_schema_cup_type(1)) < 0 || (mt = cl_schema_cup_type(0)) < 0 ||
        make_fixed(s->file, "cups", ft, mt, ncups, rec, "") < 0)
        rc = cl_h5_fail(err, s->path, "cannot create /cups");
done:
    for (size_t i = 0; i < ncups; i++) {
        free(rec[i].cup_id);
        free(rec[i].cup_set);
        free(rec[i].size);
        free(rec[i].material);
        free(rec[i].site);
        free(rec[i].sensor_serial);
    }
    free(rec);
    cl_h5_close(&mt);
    cl_h5_close(&ft);
    return rc;
}

/* /calibration/profiles: a copy of every calibration profile used. */
static int build_profiles(cl_session *s, const cl_session_meta *meta, cl_error *err)
{
    hid_t g = H5I_INVALID_HID, str = H5I_INVALID_HID;
    size_t n = meta->profiles ? meta->nprofiles : 0;
    char **copy = calloc(n ? n : 1, sizeof *copy);
    int rc = CL_OK;
    if (!copy)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = cl_h5_utf8_dup(meta->profiles[i]))) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
            goto done;
        }
    if ((g = cl_h5_group(s->file, "calibration")) < 0 || (str = cl_h5_str_vlen()) < 0 ||
        make_fixed(g, "profiles", str, str, n, copy, "") < 0)
        rc = cl_h5_fail(err, s->path, "cannot create /calibration/profiles");
done:
    for (size_t i = 0; i < n; i++)
        free(copy[i]);
    free(copy);
    cl_h5_close(&str);
    cl_h5_close(&g);
    return rc;
}

/* Every group, dataset and attribute of the schema, before SWMR starts. */
static int build_schema(cl_session *s, const cl_session_meta *meta,
                        const cl_session_device *devs, const cl_session_cup *cups,
                        hsize_t chunk, const cl_session_options *opts, cl_error *err)
{
    static const cl_session_meta none = {0};
    char created[32], uuid[37];
    hid_t devices = H5I_INVALID_HID, eft = H5I_INVALID_HID, emt = H5I_INVALID_HID;
    int rc = CL_OK;
    if (!meta)
        meta = &none;
    if (opts && opts->created_utc)
        snprintf(created, sizeof created, "%s", opts->created_utc);
    else
        cl_schema_utc_now(created);
    if (opts && opts->uuid)
        snprintf(uuid, sizeof uuid, "%s", opts->uuid);
    else if (make_uuid(uuid) < 0)
        return cl_error_set(err, CL_ERR_IO, "%s: no random source for the session UUID",
                            s->path);
    hid_t root = s->file;
    if (cl_h5_put_str(root, "format", CL_SESSION_FORMAT) < 0 ||
        cl_h5_put_int(root, "format_version", CL_SESSION_VERSION) < 0 ||
        cl_h5_put_str(root, "software_version",
                      meta->software_version ? meta->software_version : CUPLAB_VERSION) < 0 ||
        cl_h5_put_str(root, "created_utc", created) < 0 ||
        cl_h5_put_str(root, "session_uuid", uuid) < 0 ||
        cl_h5_put_str(root, "practitioner", meta->practitioner) < 0 ||
        cl_h5_put_str(root, "subject", meta->subject) < 0 ||
        cl_h5_put_str(root, "technique", meta->technique) < 0 ||
        cl_h5_put_str(root, "site", meta->site) < 0 ||
        cl_h5_put_str(root, "notes", meta->notes) < 0 ||
        cl_h5_put_fixed(root, "status", CL_SCHEMA_STATUS_BYTES, "") < 0 ||
        cl_h5_put_fixed(root, "ended_utc", CL_SCHEMA_UTC_BYTES, "") < 0 ||
        cl_h5_put_fixed(root, "recovered_utc", CL_SCHEMA_UTC_BYTES, "") < 0) {
        rc = cl_h5_fail(err, s->path, "cannot write the root attributes");
        goto done;
    }
    const cl_target *tg = meta->target;
    if (tg && (cl_h5_put_double(root, "target_vacuum_kpa", tg->vacuum_kpa) < 0 ||
               cl_h5_put_double(root, "target_duration_s", tg->duration_s) < 0 ||
               cl_h5_put_double(root, "target_band_kpa", tg->band_kpa) < 0)) {
        rc = cl_h5_fail(err, s->path, "cannot write the target's attributes");
        goto done;
    }
    if ((devices = cl_h5_group(root, "devices")) < 0) {
        rc = cl_h5_fail(err, s->path, "cannot create /devices");
        goto done;
    }
    for (size_t i = 0; i < s->ndev; i++)
        if ((rc = build_device(s, devices, i, &devs[i], chunk, err)) != CL_OK)
            goto done;
    if ((rc = build_cups(s, cups, s->ncups, err)) != CL_OK ||
        (rc = build_profiles(s, meta, err)) != CL_OK)
        goto done;
    if ((eft = cl_schema_event_type(1)) < 0 || (emt = cl_schema_event_type(0)) < 0 ||
        make_series(root, "events", eft, emt, NULL, 0, EVENT_CHUNK_ROWS, "s") < 0)
        rc = cl_h5_fail(err, s->path, "cannot create /events");
done:
    cl_h5_close(&emt);
    cl_h5_close(&eft);
    cl_h5_close(&devices);
    return rc;
}

/* After H5Fstart_swmr_write: open the datasets, cached spaces and types. */
static int open_objects(cl_session *s, cl_error *err)
{
    char name[96];
    hsize_t one[2] = {1, 1};
    for (size_t i = 0; i < s->ndev; i++) {
        wdev *d = &s->dev[i];
        hsize_t two[2] = {1, d->channels};
        for (int k = 0; k < CL_SCHEMA_NSERIES; k++) {
            snprintf(name, sizeof name, "/devices/dev%zu/%s", i, cl_schema_series_name[k]);
            if ((d->ds[k] = H5Dopen2(s->file, name, H5P_DEFAULT)) < 0)
                goto fail;
        }
        snprintf(name, sizeof name, "/devices/dev%zu/counters", i);
        if ((d->counters = H5Dopen2(s->file, name, H5P_DEFAULT)) < 0)
            goto fail;
        snprintf(name, sizeof name, "/devices/dev%zu/clock", i);
        if ((d->clock = H5Dopen2(s->file, name, H5P_DEFAULT)) < 0 ||
            (d->fspace2 = H5Screate_simple(2, two, NULL)) < 0 ||
            (d->mspace2 = H5Screate_simple(2, two, NULL)) < 0 ||
            (d->fspace1 = H5Screate_simple(1, one, NULL)) < 0 ||
            (d->mspace1 = H5Screate_simple(1, one, NULL)) < 0)
            goto fail;
    }
    if ((s->events = H5Dopen2(s->file, "events", H5P_DEFAULT)) < 0 ||
        (s->ev_fspace = H5Screate_simple(1, one, NULL)) < 0 ||
        (s->ev_mspace = H5Screate_simple(1, one, NULL)) < 0 ||
        (s->ev_mtype = cl_schema_event_type(0)) < 0 ||
        (s->counters_mtype = cl_schema_counters_type(0)) < 0)
        goto fail;

    /* HDF5 never syncs; keep its descriptor to fsync after each flush. */
    s->fd = file_fd(s->file);
    return CL_OK;
fail:
    return cl_h5_fail(err, s->path, "cannot reopen the datasets after starting SWMR");
}

static int check_devices(const char *path, const cl_session_device *devs, size_t ndev,
                         const cl_session_cup *cups, size_t ncups, cl_error *err)
{
    if (ndev && !devs)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device descriptions given", path);
    if (ncups && !cups)
        return cl_error_set(err, CL_ERR_ARG, "%s: no cup descriptions given", path);
    for (size_t i = 0; i < ndev; i++)
        if (devs[i].channels < 1 || devs[i].channels > CL_SCHEMA_MAX_CHANNELS)
            return cl_error_set(err, CL_ERR_ARG, "%s: device %zu has %u channels (1..%d)", path,
                                i, (unsigned)devs[i].channels, CL_SCHEMA_MAX_CHANNELS);
    for (size_t i = 0; i < ncups; i++) {
        if (cups[i].device >= ndev)
            return cl_error_set(err, CL_ERR_ARG, "%s: cup %zu refers to device %u of %zu", path,
                                i, (unsigned)cups[i].device, ndev);
        if (cups[i].channel >= devs[cups[i].device].channels)
            return cl_error_set(
                err, CL_ERR_ARG, "%s: cup %zu refers to channel %u of a %u-channel device",
                path, i, (unsigned)cups[i].channel, (unsigned)devs[cups[i].device].channels);
    }
    return CL_OK;
}

/* What cl_session_create is asked for is possible: devices and cups, the
 * chunk size, the UUID and time given, and the file (absent, or --force
 * over a file no recorder holds). */
static int check_request(const char *path, const cl_session_device *devs, size_t ndev,
                         const cl_session_cup *cups, size_t ncups, const cl_session_options *opts,
                         size_t chunk, cl_error *err)
{
    struct stat st;
    int rc = check_devices(path, devs, ndev, cups, ncups, err);
    if (rc != CL_OK)
        return rc;
    if (chunk > MAX_CHUNK_ROWS)
        return cl_error_set(err, CL_ERR_ARG, "%s: chunk of %zu rows is too large (max %u)",
                            path, chunk, MAX_CHUNK_ROWS);
    if (opts && opts->uuid && !valid_uuid(opts->uuid))
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: session UUID '%s' is not 8-4-4-4-12 hex digits", path,
                            opts->uuid);
    if (opts && opts->created_utc && !cl_schema_valid_utc(opts->created_utc))
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: creation time '%s' is not YYYY-MM-DDThh:mm:ssZ", path,
                            opts->created_utc);
    if (stat(path, &st) != 0)
        return CL_OK;
    if (!(opts && opts->force))
        return cl_output_exists(err, path);
    if (S_ISDIR(st.st_mode))
        return cl_error_set(err, CL_ERR_ARG, "%s: is a directory", path);
    if (cl_session_lock_held(path))
        return cl_error_set(err, CL_ERR_BUSY, "%s: a session is being recorded into this file",
                            path);
    return CL_OK;
}

/* The writer's state, every HDF5 handle invalid, nothing open yet. */
static cl_session *writer_new(const char *path, const cl_session_device *devs, size_t ndev,
                              size_t ncups, size_t chunk)
{
    cl_session *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || !(s->dev = calloc(ndev ? ndev : 1, sizeof *s->dev))) {
        if (s)
            free(s->path);
        free(s);
        return NULL;
    }
    s->file = s->events = s->ev_fspace = s->ev_mspace = H5I_INVALID_HID;
    s->ev_mtype = s->counters_mtype = H5I_INVALID_HID;
    s->fd = s->lock_fd = -1;
    s->ndev = ndev;
    s->ncups = ncups;
    s->chunk_rows = chunk;
    for (size_t i = 0; i < ndev; i++) {
        wdev *d = &s->dev[i];
        for (int k = 0; k < CL_SCHEMA_NSERIES; k++)
            d->ds[k] = H5I_INVALID_HID;
        d->counters = d->fspace2 = d->fspace1 = d->mspace2 = d->mspace1 = H5I_INVALID_HID;
        d->channels = devs[i].channels;
    }
    return s;
}

/* Create the HDF5 file (latest format, untimed, its writer lock taken);
 * *created when a regular file now exists that this call made. */
static int create_file(cl_session *s, bool force, bool *created, cl_error *err)
{
    struct stat st;
    int rc = CL_OK;
    hid_t fapl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID;
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
        (fcpl = cl_h5_untimed(H5P_FILE_CREATE)) < 0 ||
        H5Pset_attr_phase_change(fcpl, ROOT_MAX_COMPACT, ROOT_MIN_DENSE) < 0) {
        rc = cl_h5_fail(err, s->path, "cannot set up file access");
        goto out;
    }
    errno = 0;
    s->file = H5Fcreate(s->path, force ? H5F_ACC_TRUNC : H5F_ACC_EXCL, fcpl, fapl);
    if (s->file < 0) {
        if (!force && stat(s->path, &st) == 0) {
            H5Eclear2(H5E_DEFAULT);
            rc = cl_output_exists(err, s->path);
        } else {
            rc = cl_h5_fail(err, s->path, "cannot create the session file");
        }
        goto out;
    }
    *created = stat(s->path, &st) == 0 && S_ISREG(st.st_mode);
    s->lock_fd = cl_session_lock_take(s->path);
    long bits = pathconf(s->path, _PC_FILESIZEBITS);
    s->max_file_bytes = bits > 1 && bits < 64 ? ((uint64_t)1 << (bits - 1)) - 1 : UINT64_MAX;
out:
    cl_h5_close(&fcpl);
    cl_h5_close(&fapl);
    return rc;
}

int cl_session_create(cl_session **out, const char *path, const cl_session_meta *meta,
                      const cl_session_device *devs, size_t ndev, const cl_session_cup *cups,
                      size_t ncups, const cl_session_options *opts, cl_error *err)
{
    cl_session *s = NULL;
    bool created = false;
    int rc;

    if (out)
        *out = NULL;
    cl_h5_quiet();
    if (!out || !path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session create: no output or file name");
    size_t chunk = opts && opts->chunk_rows ? opts->chunk_rows : DEFAULT_CHUNK_ROWS;
    if ((rc = check_request(path, devs, ndev, cups, ncups, opts, chunk, err)) != CL_OK)
        return rc;
    if (!(s = writer_new(path, devs, ndev, ncups, chunk)))
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    if ((rc = create_file(s, opts && opts->force, &created, err)) != CL_OK ||
        (rc = build_schema(s, meta, devs, cups, chunk, opts, err)) != CL_OK)
        goto fail;
    if (H5Fstart_swmr_write(s->file) < 0) {
        rc = cl_h5_fail(err, path, "cannot start SWMR writing");
        goto fail;
    }
    if ((rc = open_objects(s, err)) != CL_OK || (rc = cl_session_flush(s, err)) != CL_OK)
        goto fail;
    if (opts && opts->sync_behind && s->fd >= 0 && !(s->syncer = cl_syncer_new(s->fd))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: cannot start the sync thread", path);
        goto fail;
    }
    fsync_parent_dir(path);
    *out = s;
    return CL_OK;

fail:
    s->failed = rc; /* nothing in the file is worth a failing close */
    writer_free(s);
    if (created)
        unlink(path); /* a regular file nothing was recorded into yet */
    return rc;
}

static uint64_t chunks_for(hsize_t rows, hsize_t chunk)
{
    return (rows + chunk - 1) / chunk;
}

/* Refuse to write more when what was appended since the last flush, plus
 * `nrows` more rows on device `dev` and `nev` more events, might not fit on
 * the disk or under the file-size limits once flushed and closed.  Counted
 * as whole new chunks, plus a margin for metadata: checked before HDF5 is
 * asked to write anything, so a refusal leaves a file that closes cleanly.
 * Until the first refusal, room for CL_SESSION_FINAL_EVENTS more events is
 * kept free too; from then on no more rows are taken (see cl_session_append)
 * and the events that end the session may use it. */
static int check_room(cl_session *s, size_t dev, size_t nrows, size_t nev, cl_error *err)
{
    int rc = CL_OK;
    uint64_t need = ROOM_MARGIN + (s->out_of_room ? 0 : FINAL_RESERVE), eof = 0;
    for (size_t i = 0; i < s->ndev; i++) {
        const wdev *d = &s->dev[i];
        hsize_t rows = d->rows + (i == dev ? nrows : 0);
        uint64_t row_bytes = d->channels * 8 + 8 + 8 + 4;
        need += (chunks_for(rows, s->chunk_rows) - chunks_for(d->flushed, s->chunk_rows)) *
                s->chunk_rows * row_bytes;
    }
    need += (chunks_for(s->nevents + nev, EVENT_CHUNK_ROWS) -
             chunks_for(s->ev_flushed, EVENT_CHUNK_ROWS)) *
            EVENT_CHUNK_ROWS * sizeof(cl_schema_event_rec);

    struct stat st;
    haddr_t eoa = 0;
    if (s->fd >= 0 && fstat(s->fd, &st) == 0)
        eof = (uint64_t)st.st_size;
    if (H5Fget_eoa(s->file, &eoa) < 0) {
        H5Eclear2(H5E_DEFAULT);
        eoa = eof;
    }
    uint64_t end = (eoa > eof ? eoa : eof) + need;

    struct rlimit rl;
    uint64_t limit = s->max_file_bytes;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < limit)
        limit = (uint64_t)rl.rlim_cur;
    struct statvfs vfs;
    if (end > limit)
        rc = cl_error_set(err, CL_ERR_NOSPACE,
                          "%s: file size limit reached (%llu KiB); stopping while the "
                          "file can still be closed cleanly",
                          s->path, (unsigned long long)(limit / 1024));
    else if (s->fd >= 0 && fstatvfs(s->fd, &vfs) == 0) {
        uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        uint64_t unwritten = (eoa > eof ? eoa - eof : 0) + need;
        if (unwritten > avail)
            rc = cl_error_set(err, CL_ERR_NOSPACE,
                              "%s: disk full (%llu KiB free); stopping while the file can "
                              "still be closed cleanly",
                              s->path, (unsigned long long)(avail / 1024));
    }
    if (rc != CL_OK)
        s->out_of_room = true;
    return rc;
}

/* A write HDF5 could not do: the session is failed from now on. */
static int write_failed(cl_session *s, cl_error *err, const char *what)
{
    s->failed = cl_h5_fail(err, s->path, what);
    return s->failed;
}

static int refuse_failed(const cl_session *s, cl_error *err)
{
    return cl_error_set(err, s->failed,
                        "%s: an earlier write failed; the session can only be closed", s->path);
}

int cl_session_append(cl_session *s, size_t dev, size_t nrows, const double *samples,
                      const double *device_time, const double *host_time, const uint32_t *seq,
                      cl_error *err)
{
    if (!s)
        return cl_error_set(err, CL_ERR_ARG, "session append: no session");
    cl_h5_quiet();
    if (dev >= s->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: append to device %zu of %zu", s->path, dev,
                            s->ndev);
    if (nrows == 0)
        return CL_OK;
    if (!samples || !device_time || !host_time || !seq)
        return cl_error_set(err, CL_ERR_ARG, "%s: append with a missing column", s->path);
    if (s->failed)
        return refuse_failed(s, err);
    if (s->out_of_room)
        return cl_error_set(err, CL_ERR_NOSPACE,
                            "%s: out of room: no more rows, only the events that end the "
                            "session",
                            s->path);
    int rc = check_room(s, dev, nrows, 0, err);
    if (rc != CL_OK)
        return rc;

    wdev *d = &s->dev[dev];
    hsize_t start = d->rows, n = nrows, total = start + n;
    hsize_t dims2[2] = {total, d->channels}, off2[2] = {start, 0}, cnt2[2] = {n, d->channels};
    const void *buf[CL_SCHEMA_NSERIES] = {samples, device_time, host_time, seq};
    const hid_t mtype[CL_SCHEMA_NSERIES] = {H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE,
                                            H5T_NATIVE_DOUBLE, H5T_NATIVE_UINT32};
    if (H5Sset_extent_simple(d->fspace2, 2, dims2, NULL) < 0 ||
        H5Sselect_hyperslab(d->fspace2, H5S_SELECT_SET, off2, NULL, cnt2, NULL) < 0 ||
        H5Sset_extent_simple(d->mspace2, 2, cnt2, NULL) < 0 ||
        H5Sset_extent_simple(d->fspace1, 1, &total, NULL) < 0 ||
        H5Sselect_hyperslab(d->fspace1, H5S_SELECT_SET, &start, NULL, &n, NULL) < 0 ||
        H5Sset_extent_simple(d->mspace1, 1, &n, NULL) < 0)
        return cl_h5_fail(err, s->path, "cannot select rows to append");
    /* A failure part-way leaves d->rows unchanged: the next append rewrites
     * the same rows, and readers use the shortest series meanwhile. */
    for (int k = 0; k < CL_SCHEMA_NSERIES; k++) {
        hid_t fs = k == CL_SCHEMA_SAMPLES ? d->fspace2 : d->fspace1;
        hid_t ms = k == CL_SCHEMA_SAMPLES ? d->mspace2 : d->mspace1;
        errno = 0;
        if (H5Dset_extent(d->ds[k], k == CL_SCHEMA_SAMPLES ? dims2 : &total) < 0 ||
            H5Dwrite(d->ds[k], mtype[k], ms, fs, H5P_DEFAULT, buf[k]) < 0) {
            char what[96];
            snprintf(what, sizeof what, "cannot append to /devices/dev%zu/%s", dev,
                     cl_schema_series_name[k]);
            return write_failed(s, err, what);
        }
    }
    d->rows = total;
    return CL_OK;
}

int cl_session_add_event(cl_session *s, const cl_session_event *ev, cl_error *err)
{
    if (!s || !ev)
        return cl_error_set(err, CL_ERR_ARG, "session event: no session or event");
    cl_h5_quiet();
    if (!cl_event_kind_name(ev->kind))
        return cl_error_set(err, CL_ERR_ARG, "%s: unknown event kind %d", s->path,
                            (int)ev->kind);
    if (ev->cup < -1 || (ev->cup >= 0 && (size_t)ev->cup >= s->ncups))
        return cl_error_set(err, CL_ERR_ARG, "%s: event refers to cup %d of %zu", s->path,
                            (int)ev->cup, s->ncups);
    if (s->failed)
        return refuse_failed(s, err);
    int rc = check_room(s, 0, 0, 1, err);
    if (rc != CL_OK)
        return rc;
    cl_schema_event_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.t = ev->t;
    rec.cup = ev->cup;
    rec.kind = (int32_t)ev->kind;
    cl_h5_utf8_copy(rec.text, sizeof rec.text, ev->text);

    hsize_t start = s->nevents, one = 1, total = start + 1;
    errno = 0;
    if (H5Sset_extent_simple(s->ev_fspace, 1, &total, NULL) < 0 ||
        H5Sselect_hyperslab(s->ev_fspace, H5S_SELECT_SET, &start, NULL, &one, NULL) < 0 ||
        H5Dset_extent(s->events, &total) < 0 ||
        H5Dwrite(s->events, s->ev_mtype, s->ev_mspace, s->ev_fspace, H5P_DEFAULT, &rec) < 0)
        return write_failed(s, err, "cannot append to /events");
    s->nevents = total;
    return CL_OK;
}

int cl_session_set_counters(cl_session *s, size_t dev, const cl_session_counters *c,
                            cl_error *err)
{
    if (!s || !c)
        return cl_error_set(err, CL_ERR_ARG, "session counters: no session or counters");
    cl_h5_quiet();
    if (dev >= s->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: counters of device %zu of %zu", s->path, dev,
                            s->ndev);
    if (s->failed)
        return refuse_failed(s, err);
    errno = 0;
    if (H5Dwrite(s->dev[dev].counters, s->counters_mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, c) <
        0) {
        char what[64];
        snprintf(what, sizeof what, "cannot write /devices/dev%zu/counters", dev);
        return write_failed(s, err, what);
    }
    return CL_OK;
}

int cl_session_set_clock(cl_session *s, size_t dev, const cl_session_clock *c, cl_error *err)
{
    hid_t mt;
    herr_t w;
    if (!s || !c)
        return cl_error_set(err, CL_ERR_ARG, "session clock: no session or clock");
    cl_h5_quiet();
    if (dev >= s->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: clock of device %zu of %zu", s->path, dev,
                            s->ndev);
    if (s->failed)
        return refuse_failed(s, err);
    if ((mt = cl_schema_clock_type(0)) < 0)
        return cl_h5_fail(err, s->path, "cannot build the clock type");
    errno = 0;
    w = H5Dwrite(s->dev[dev].clock, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, c);
    cl_h5_close(&mt);
    if (w < 0) {
        char what[64];
        snprintf(what, sizeof what, "cannot write /devices/dev%zu/clock", dev);
        return write_failed(s, err, what);
    }
    return CL_OK;
}

int cl_session_flush(cl_session *s, cl_error *err)
{
    if (!s)
        return cl_error_set(err, CL_ERR_ARG, "session flush: no session");
    cl_h5_quiet();
    if (s->failed)
        return refuse_failed(s, err);
    errno = 0;
    if (H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0)
        return write_failed(s, err, "cannot flush");
    int e = s->syncer ? cl_syncer_request(s->syncer)
            : s->fd >= 0 && fdatasync(s->fd) != 0 && errno != EINVAL ? errno
                                                                     : 0;
    if (e)
        return s->failed = cl_h5_os_fail(err, e, s->path, "cannot sync to disk");
    for (size_t i = 0; i < s->ndev; i++)
        s->dev[i].flushed = s->dev[i].rows;
    s->ev_flushed = s->nevents;
    return CL_OK;
}

/* After a failed flush the superblock may already record space that could
 * not be written (where files cannot be sparse, e.g. FAT32, growing the file
 * failed too), and the file then looks truncated.  The writer knows that
 * space never held anything: grow the file over it (zeros) so it can be
 * finished.  If the disk is still full, the file is left as a crashed one. */
static int grow_to(cl_session *s, uint64_t size, cl_error *err)
{
    struct stat st;
    int fd = s->lock_fd >= 0 ? s->lock_fd : open(s->path, O_WRONLY | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (!e && fstat(fd, &st) != 0)
        e = errno;
    if (!e && (uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) != 0)
        e = errno;
    if (fd >= 0 && fd != s->lock_fd)
        close(fd);
    if (e)
        return cl_error_set(err, CL_ERR_NOSPACE,
                            "%s: disk still full (%s): the file is left unfinished; once "
                            "there is room, `h5clear -s --increment=0` completes it",
                            s->path, strerror(e));
    return CL_OK;
}

int cl_session_close(cl_session *s, cl_session_status status, cl_error *err)
{
    return cl_session_close_at(s, status, NULL, err);
}

int cl_session_close_at(cl_session *s, cl_session_status status, const char *ended_utc,
                        cl_error *err)
{
    if (!s)
        return cl_error_set(err, CL_ERR_ARG, "session close: no session");
    cl_h5_quiet();
    const char *st = status == CL_SESSION_COMPLETE      ? "complete"
                     : status == CL_SESSION_INTERRUPTED ? "interrupted"
                                                        : NULL;
    if (!st || (ended_utc && !cl_schema_valid_utc(ended_utc))) {
        int rc =
            !st ? cl_error_set(err, CL_ERR_ARG,
                               "%s: final status must be complete or interrupted", s->path)
                : cl_error_set(err, CL_ERR_ARG, "%s: end time '%s' is not YYYY-MM-DDThh:mm:ssZ",
                               s->path, ended_utc);
        cl_session_abandon(s);
        return rc;
    }
    /* A session whose writes failed is not flushed again: its writes are
     * diverted (see divert_writes), the file is closed, and the final status
     * is written the way recovery does it.  It needs no new space (it is
     * overwritten in place), so a full disk does not prevent it.  An earlier
     * failure was reported when it happened; only the close's own problems
     * are reported here. */
    int rc = s->failed ? CL_OK : cl_session_flush(s, err);
    int e = cl_syncer_free(s->syncer); /* waits for the syncs */
    s->syncer = NULL;
    if (e && rc == CL_OK && !s->failed)
        rc = s->failed = cl_h5_os_fail(err, e, s->path, "cannot sync to disk");
    bool diverted = s->failed != 0;
    haddr_t eoa = 0;
    if (diverted) {
        if (H5Fget_eoa(s->file, &eoa) < 0)
            eoa = 0;
        divert_writes(s);
    }
    writer_close_objects(s);
    errno = 0;
    herr_t closed = H5Fclose(s->file);
    s->file = H5I_INVALID_HID;
    s->failed = 0;
    H5Eclear2(H5E_DEFAULT);
    if (closed < 0 && rc == CL_OK)
        rc = cl_h5_fail(err, s->path, "cannot close");
    if (closed >= 0 && diverted && grow_to(s, (uint64_t)eoa, err) != CL_OK) {
        rc = CL_ERR_NOSPACE;
        closed = -1; /* left unfinished: a reopen would fail to close again */
    }
    if (closed >= 0) {
        /* Live SWMR readers hold shared flocks; this writer still holds its own
         * lock, so the final attributes are written without HDF5's locking. */
        char ended[32];
        bool yes = true;
        cl_error later;
        cl_error *e2 = rc == CL_OK ? err : &later;
        int rc2;
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        if (ended_utc)
            snprintf(ended, sizeof ended, "%s", ended_utc);
        else
            cl_schema_utc_now(ended);
        if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
            H5Pset_file_locking(fapl, false, true) < 0 ||
            (diverted && H5Pset(fapl, "clear_status_flags", &yes) < 0))
            rc2 = cl_h5_fail(e2, s->path, "cannot set up file access");
        else
            rc2 = cl_schema_write_final(s->path, fapl, diverted, st, ended, NULL, e2);
        cl_h5_close(&fapl);
        if (rc == CL_OK)
            rc = rc2;
    }
    writer_free(s);
    return rc;
}

void cl_session_abandon(cl_session *s)
{
    if (!s)
        return;
    cl_h5_quiet();
    writer_free(s);
}
