/*
 * cl_session: writer, reader and recovery of cuplab session files (HDF5,
 * schema version 1).  docs/session-format.md is the specification; this file
 * is the only code that knows the layout.
 *
 * Writer.  cl_session_create() builds the complete schema (every group,
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
 * first refusal, after which only they are taken.  If a write fails anyway the session is failed: HDF5 1.10.8
 * cannot close a file whose writes fail (and then crashes at exit), so its
 * remaining writes are diverted before the close (divert_writes) and the
 * final status is written the way recovery does it.
 *
 * While a writer owns a file it holds an open-file-description write lock on
 * one byte at offset 2^62 (far beyond any data, so it never collides with
 * HDF5's own flock).  The lock dies with the process, so it tells a live
 * recording from a crashed one: recovery and --force refuse a live file.
 *
 * Reader.  Opens normally when it can; a file still flagged as open for
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
 *
 * Recovery clears the superblock status flags in place through HDF5's
 * "clear_status_flags" file-access property (the one h5clear -s uses), sets
 * the end-of-allocation to max(stored EOA, file size) so nothing is cut off
 * (h5clear -s --increment=0), and marks the session interrupted.
 *
 * HDF5's automatic error printing is switched off on every entry (the
 * setting is per thread); HDF5's own message is folded into cl_error.
 */
#include "cl_session.h"
#include "cl_replace.h"
#include "cl_output.h"
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
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#ifndef CUPLAB_VERSION
#define CUPLAB_VERSION ""
#endif

#define DEFAULT_CHUNK_ROWS 1024
#define MAX_CHUNK_ROWS (1u << 20)
#define MAX_CHANNELS 32
#define EVENT_CHUNK_ROWS 64
#define SWMR_READ_ATTEMPTS 15
#define WRITER_LOCK_OFFSET ((off_t)1 << 62)
#define NSERIES 4
#define HOST_TIME_BLOCK 65536 /* rows of host_time checked at a time */
#define STATUS_BYTES 16 /* fixed-length final attributes, see put_fixed_attr */
#define UTC_BYTES 32
#define ROOT_MAX_COMPACT 32 /* root attributes stay in the object header */
#define ROOT_MIN_DENSE 24
#define ROOM_MARGIN (256u * 1024) /* bytes kept free for metadata and the close */
/* kept free as well until a write is refused for lack of room */
#define FINAL_RESERVE \
    ((CL_SESSION_FINAL_EVENTS / EVENT_CHUNK_ROWS + 1) * EVENT_CHUNK_ROWS * sizeof(ev_rec))

/* The four row-aligned datasets of a device, in the order they are written. */
enum { S_SAMPLES, S_DEVICE_TIME, S_HOST_TIME, S_SEQUENCE };
static const char *const series_name[NSERIES] = {"samples", "device_time", "host_time",
                                                 "sequence"};
/* Bit k of cl_session_unreadable() is series k; the counters come next. */
_Static_assert(CL_SESSION_SAMPLES == 1u << S_SAMPLES &&
                   CL_SESSION_DEVICE_TIME == 1u << S_DEVICE_TIME &&
                   CL_SESSION_HOST_TIME == 1u << S_HOST_TIME &&
                   CL_SESSION_SEQUENCE == 1u << S_SEQUENCE &&
                   CL_SESSION_COUNTERS == 1u << NSERIES,
               "unreadable bits follow the series order");

static const char *const kind_names[] = {
    "note", "applied",    "released",  "moved",   "repumped", "start", "stop",
    "gap",  "disconnect", "reconnect", "overrun", "device",   "error",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

/* A field of a compound whose members all have one 8-byte type. */
typedef struct flat_field {
    const char *name;
    size_t off; /* offset in the C struct */
} flat_field;

static const flat_field counter_field[] = {
    {"bytes", offsetof(cl_session_counters, bytes)},
    {"frames", offsetof(cl_session_counters, frames)},
    {"malformed", offsetof(cl_session_counters, malformed)},
    {"checksum_errors", offsetof(cl_session_counters, checksum_errors)},
    {"seq_gaps", offsetof(cl_session_counters, seq_gaps)},
    {"lost_frames", offsetof(cl_session_counters, lost_frames)},
    {"skipped_bytes", offsetof(cl_session_counters, skipped_bytes)},
    {"reconnects", offsetof(cl_session_counters, reconnects)},
    {"overruns", offsetof(cl_session_counters, overruns)},
};
#define NCOUNTERS (sizeof counter_field / sizeof counter_field[0])

/* Fields of /devices/devN/clock, all float64. */
static const flat_field clock_field[] = {
    {"offset_s", offsetof(cl_session_clock, offset_s)},
    {"slope", offsetof(cl_session_clock, slope)},
    {"drift_ppm", offsetof(cl_session_clock, drift_ppm)},
    {"offset_se_s", offsetof(cl_session_clock, offset_se_s)},
    {"slope_se", offsetof(cl_session_clock, slope_se)},
    {"residual_sd_s", offsetof(cl_session_clock, residual_sd_s)},
    {"points", offsetof(cl_session_clock, points)},
    {"ref_device_s", offsetof(cl_session_clock, ref_device_s)},
};
#define NCLOCK (sizeof clock_field / sizeof clock_field[0])

/* One row of /events in memory (also the layout of the file type). */
typedef struct ev_rec {
    double t;
    int32_t cup;
    int32_t kind;
    char text[CL_SESSION_EVENT_TEXT];
} ev_rec;

/* One row of /cups in memory; strings are HDF5 variable-length. */
typedef struct cup_rec {
    char *cup_id;
    uint16_t device, channel;
    char *cup_set, *size, *material, *site, *sensor_serial;
} cup_rec;

const char *cl_event_kind_name(cl_event_kind k)
{
    return (unsigned)k < NKINDS ? kind_names[k] : NULL;
}

int cl_event_kind_from_name(const char *name)
{
    if (name)
        for (size_t i = 0; i < NKINDS; i++)
            if (strcmp(name, kind_names[i]) == 0)
                return (int)i;
    return -1;
}

/* ------------------------------------------------------------ small helpers */

static void h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Close an HDF5 id of any kind if valid, and invalidate it. */
static void close_id(hid_t *id)
{
    if (*id >= 0) {
        switch (H5Iget_type(*id)) {
        case H5I_FILE:
            H5Fclose(*id);
            break;
        case H5I_GROUP:
            H5Gclose(*id);
            break;
        case H5I_DATASET:
            H5Dclose(*id);
            break;
        case H5I_DATASPACE:
            H5Sclose(*id);
            break;
        case H5I_DATATYPE:
            H5Tclose(*id);
            break;
        case H5I_ATTR:
            H5Aclose(*id);
            break;
        case H5I_GENPROP_LST:
            H5Pclose(*id);
            break;
        default:
            break;
        }
    }
    *id = H5I_INVALID_HID;
}

typedef struct h5_detail {
    char text[320];
    int errnum;
} h5_detail;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_detail *d = data;
    (void)n;
    if (!e->desc || !e->desc[0])
        return 0;
    /* Walking downward, the last entry is the innermost, most specific one. */
    const char *msg = e->desc;
    const char *en = strstr(msg, "errno = ");
    if (en)
        d->errnum = atoi(en + 8);
    /* OS errors: keep only the strerror part HDF5 quotes. */
    const char *em = strstr(msg, "error message = '");
    size_t len = strlen(msg);
    if (em) {
        msg = em + 17;
        const char *q = strchr(msg, '\'');
        len = q ? (size_t)(q - msg) : strlen(msg);
    }
    if (len >= sizeof d->text)
        len = sizeof d->text - 1;
    for (size_t i = 0; i < len; i++)
        d->text[i] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
    d->text[len] = '\0';
    return 0;
}

/* Take HDF5's innermost error message off the stack and clear it. */
static void h5_take(h5_detail *d)
{
    d->text[0] = '\0';
    d->errnum = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, d);
    H5Eclear2(H5E_DEFAULT);
}

/* Report a failed HDF5 call: "<path>: <what> (HDF5: <detail>)".  A full disk
 * or a file-size limit (FAT32, ulimit -f), seen either in errno or in HDF5's
 * message, becomes CL_ERR_NOSPACE; another
 * OS error HDF5 quotes keeps its meaning (a held lock is CL_ERR_BUSY, a
 * missing directory CL_ERR_NOTFOUND, ...). */
static int h5_fail(cl_error *err, const char *path, const char *what)
{
    int saved = errno;
    h5_detail d;
    h5_take(&d);
    const char *detail = d.text[0] ? d.text : "no detail";
    if (d.errnum == ENOSPC || d.errnum == EDQUOT || saved == ENOSPC || saved == EDQUOT)
        return cl_error_set(err, CL_ERR_NOSPACE, "%s: %s: disk full (%s)", path, what,
                            d.text[0] ? d.text : strerror(ENOSPC));
    if (d.errnum == EFBIG || saved == EFBIG) /* file-size limit: no room either */
        return cl_error_set(err, CL_ERR_NOSPACE, "%s: %s: file size limit reached (%s)", path,
                            what, d.text[0] ? d.text : strerror(EFBIG));
    if (d.errnum == EAGAIN || d.errnum == EWOULDBLOCK)
        return cl_error_set(err, CL_ERR_BUSY,
                            "%s: %s: the file is in use by another program (%s)", path, what,
                            detail);
    if (d.errnum && cl_error_from_errno(d.errnum) != CL_ERR_IO)
        return cl_error_set(err, cl_error_from_errno(d.errnum), "%s: %s: %s", path, what,
                            detail);
    return cl_error_set(err, CL_ERR_HDF5, "%s: %s (HDF5: %s)", path, what, detail);
}

static int os_fail(cl_error *err, int errnum, const char *path, const char *what)
{
    return cl_error_set(err, cl_error_from_errno(errnum), "%s: %s: %s", path, what,
                        strerror(errnum));
}

static void utc_now(char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        buf[0] = '\0';
}

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

/* "YYYY-MM-DDThh:mm:ssZ" with plausible fields. */
static bool valid_utc(const char *t)
{
    unsigned y, mo, d, h, mi, se;
    char z;
    int used = 0;
    return t && strlen(t) == 20 &&
           sscanf(t, "%4u-%2u-%2uT%2u:%2u:%2u%c%n", &y, &mo, &d, &h, &mi, &se, &z, &used) == 7 &&
           used == 20 && z == 'Z' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 &&
           mi < 60 && se < 61;
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

/* A creation property list of class `cls` (file, group or dataset) that
 * stores no access/modification times in object headers, so the same input
 * always gives the same bytes.  H5I_INVALID_HID on failure. */
static hid_t untimed(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, false) < 0)
        close_id(&p);
    return p;
}

/* H5Gcreate2 without object times. */
static hid_t make_group(hid_t loc, const char *name)
{
    hid_t gcpl = untimed(H5P_GROUP_CREATE);
    hid_t g = gcpl >= 0 ? H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT)
                        : H5I_INVALID_HID;
    close_id(&gcpl);
    return g;
}

/* Length of the valid UTF-8 sequence starting at p (at most `avail` bytes),
 * 0 if p does not start one. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* Copy `s` (NULL = "") into `dst` of `cap` bytes as valid UTF-8: a byte that
 * does not start a valid sequence becomes '?', and the copy ends on a
 * character boundary.  Returns the bytes written (without NUL). */
static size_t utf8_copy(char *dst, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p), o = 0;
    while (left > 0) {
        size_t n = utf8_len(p, left);
        size_t w = n ? n : 1;
        if (o + w >= cap)
            break;
        if (n)
            memcpy(dst + o, p, n);
        else
            dst[o] = '?';
        o += w;
        p += w;
        left -= w;
    }
    dst[o] = '\0';
    return o;
}

size_t cl_session_utf8_copy(char *dst, size_t cap, const char *s)
{
    return utf8_copy(dst, cap, s);
}

/* New string holding `s` as valid UTF-8 (see utf8_copy); NULL if no memory. */
static char *utf8_dup(const char *s)
{
    size_t cap = (s ? strlen(s) : 0) + 1;
    char *d = malloc(cap);
    if (d)
        utf8_copy(d, cap, s);
    return d;
}

/* ------------------------------------------------------------ writer lock */

/* Take the live-writer lock on `path`.  Returns the descriptor holding it, or
 * -1 where the lock is unavailable (best effort: the file is still written). */
static int writer_lock_take(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = WRITER_LOCK_OFFSET, .l_len = 1};
    if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 if a live writer holds `path`, 0 if not or unknown. */
static int writer_lock_held(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = WRITER_LOCK_OFFSET, .l_len = 1};
    int held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

/* Take the writer lock for a change of a finished file (recovery, analysis
 * write-back), so that no recorder, recovery or other write-back starts on it
 * meanwhile.  *fd is the descriptor holding the lock, or -1 where locks are
 * unavailable (best effort, as for the recorder).  CL_ERR_BUSY when someone
 * holds it. */
static int change_lock_take(const char *path, int *fd, const char *doing, cl_error *err)
{
    if ((*fd = writer_lock_take(path)) < 0 && writer_lock_held(path))
        return cl_error_set(err, CL_ERR_BUSY,
                            "%s: the session is still being recorded (or another program is "
                            "changing it); not %s it",
                            path, doing);
    return CL_OK;
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

/* ------------------------------------------------------------ HDF5 types */

static hid_t str_type_vlen(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0))
        close_id(&t);
    return t;
}

static hid_t str_type_fixed(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, n) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0))
        close_id(&t);
    return t;
}

/* Event kind enum over `base`; `le` inserts values as little-endian bytes
 * (for the file type over H5T_STD_I32LE), otherwise as native int32. */
static hid_t kind_type(hid_t base, int le)
{
    hid_t t = H5Tenum_create(base);
    for (size_t i = 0; t >= 0 && i < NKINDS; i++) {
        int32_t v = (int32_t)i;
        unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                              (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
        if (H5Tenum_insert(t, kind_names[i], le ? (const void *)b : (const void *)&v) < 0)
            close_id(&t);
    }
    return t;
}

/* Compound type of /events: memory (native) or file (little-endian). */
static hid_t event_type(int file)
{
    hid_t t = H5I_INVALID_HID, kind = H5I_INVALID_HID, text = H5I_INVALID_HID;
    kind = file ? kind_type(H5T_STD_I32LE, 1) : kind_type(H5T_NATIVE_INT32, 0);
    text = str_type_fixed(CL_SESSION_EVENT_TEXT);
    if (kind < 0 || text < 0)
        goto done;
    t = H5Tcreate(H5T_COMPOUND, sizeof(ev_rec));
    if (t < 0 ||
        H5Tinsert(t, "t", offsetof(ev_rec, t), file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE) < 0 ||
        H5Tinsert(t, "cup", offsetof(ev_rec, cup), file ? H5T_STD_I32LE : H5T_NATIVE_INT32) <
            0 ||
        H5Tinsert(t, "kind", offsetof(ev_rec, kind), kind) < 0 ||
        H5Tinsert(t, "text", offsetof(ev_rec, text), text) < 0)
        close_id(&t);
done:
    close_id(&kind);
    close_id(&text);
    return t;
}

/* Compound of `n` 8-byte members: packed in the file (`ftype` each), the C
 * struct's layout (`struct_size`, `mtype`) in memory. */
static hid_t flat_type(const flat_field *f, size_t n, size_t struct_size, hid_t ftype,
                       hid_t mtype, int file)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, file ? n * 8 : struct_size);
    for (size_t i = 0; t >= 0 && i < n; i++)
        if (H5Tinsert(t, f[i].name, file ? i * 8 : f[i].off, file ? ftype : mtype) < 0)
            close_id(&t);
    return t;
}

static hid_t counters_type(int file)
{
    return flat_type(counter_field, NCOUNTERS, sizeof(cl_session_counters), H5T_STD_U64LE,
                     H5T_NATIVE_UINT64, file);
}

static hid_t clock_type(int file)
{
    return flat_type(clock_field, NCLOCK, sizeof(cl_session_clock), H5T_IEEE_F64LE,
                     H5T_NATIVE_DOUBLE, file);
}

/* Compound type of /cups: memory (cup_rec) or file (packed, little-endian). */
static hid_t cup_type(int file)
{
    static const char *const sname[] = {"cup_id",   "cup_set", "size",
                                        "material", "site",    "sensor_serial"};
    static const size_t soff[] = {offsetof(cup_rec, cup_id), offsetof(cup_rec, cup_set),
                                  offsetof(cup_rec, size),   offsetof(cup_rec, material),
                                  offsetof(cup_rec, site),   offsetof(cup_rec, sensor_serial)};
    hid_t t = H5I_INVALID_HID, str = str_type_vlen();
    if (str < 0)
        return H5I_INVALID_HID;
    size_t ssz = H5Tget_size(str);
    hid_t u16 = file ? H5T_STD_U16LE : H5T_NATIVE_UINT16;
    t = H5Tcreate(H5T_COMPOUND, file ? 6 * ssz + 4 : sizeof(cup_rec));
    if (t < 0)
        goto done;
    /* File order: cup_id, device, channel, then the other strings. */
    size_t o = 0;
    if (H5Tinsert(t, sname[0], file ? o : soff[0], str) < 0)
        goto fail;
    o += ssz;
    if (H5Tinsert(t, "device", file ? o : offsetof(cup_rec, device), u16) < 0 ||
        H5Tinsert(t, "channel", file ? o + 2 : offsetof(cup_rec, channel), u16) < 0)
        goto fail;
    o += 4;
    for (size_t i = 1; i < 6; i++, o += ssz)
        if (H5Tinsert(t, sname[i], file ? o : soff[i], str) < 0)
            goto fail;
    goto done;
fail:
    close_id(&t);
done:
    close_id(&str);
    return t;
}

/* ------------------------------------------------------------ attributes */

/* Create (or replace) a scalar variable-length UTF-8 string attribute. */
static int put_str_attr(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    char *clean = utf8_dup(value);
    if (!clean)
        return -1;
    const char *p = clean;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0 || (ex > 0 && H5Adelete(obj, name) < 0))
        goto done;
    if ((t = str_type_vlen()) < 0 || (sp = H5Screate(H5S_SCALAR)) < 0 ||
        (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, &p) < 0)
        goto done;
    rc = 0;
done:
    close_id(&a);
    close_id(&sp);
    close_id(&t);
    free(clean);
    return rc;
}

/* Set a scalar fixed-length (`size` bytes, NUL-terminated) UTF-8 string
 * attribute: created if absent, otherwise overwritten in place.  The final
 * status attributes are of this kind and created empty before SWMR starts,
 * so that writing them later changes bytes inside the root object header
 * only; a variable-length string would also need a global-heap write, and a
 * kill between the two writes would leave the attribute unreadable. */
static int put_fixed_attr(hid_t obj, const char *name, size_t size, const char *value)
{
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    char *buf = calloc(size, 1);
    if (!buf)
        return -1;
    utf8_copy(buf, size, value);
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0 || (t = str_type_fixed(size)) < 0)
        goto done;
    if (ex > 0)
        a = H5Aopen(obj, name, H5P_DEFAULT);
    else if ((sp = H5Screate(H5S_SCALAR)) >= 0)
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, buf) < 0)
        goto done;
    rc = 0;
done:
    close_id(&a);
    close_id(&sp);
    close_id(&t);
    free(buf);
    return rc;
}

static int put_int_attr(hid_t obj, const char *name, int value)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    int32_t v = value;
    int rc = -1;
    if (sp >= 0 &&
        (a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(a, H5T_NATIVE_INT32, &v) >= 0)
        rc = 0;
    close_id(&a);
    close_id(&sp);
    return rc;
}

/* Read scalar attribute `name` of `obj` as a new string: strings as they are,
 * integers and floats printed.  *out = NULL when absent.  Returns 0, or -1 on
 * an HDF5 failure, an array/compound attribute or no memory. */
static int get_attr_text(hid_t obj, const char *name, char **out)
{
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    int rc = -1;
    *out = NULL;
    htri_t ex = H5Aexists(obj, name);
    if (ex <= 0)
        return ex == 0 ? 0 : -1;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0 || (ft = H5Aget_type(a)) < 0 ||
        (sp = H5Aget_space(a)) < 0 || H5Sget_simple_extent_npoints(sp) != 1)
        goto done;
    H5T_class_t cls = H5Tget_class(ft);
    if (cls == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        char *v = NULL; /* read in the attribute's own character set */
        if ((mt = H5Tcopy(ft)) < 0 || H5Aread(a, mt, &v) < 0)
            goto done;
        *out = strdup(v ? v : "");
        H5free_memory(v);
    } else if (cls == H5T_STRING) {
        size_t n = H5Tget_size(ft);
        char *buf = calloc(n + 1, 1);
        if (!buf || (mt = H5Tcopy(ft)) < 0 || H5Aread(a, mt, buf) < 0) {
            free(buf);
            goto done;
        }
        if (H5Tget_strpad(ft) == H5T_STR_SPACEPAD)
            while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\0'))
                buf[--n] = '\0';
        *out = buf;
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        char num[64];
        if (cls == H5T_INTEGER) {
            long long v;
            if (H5Aread(a, H5T_NATIVE_LLONG, &v) < 0)
                goto done;
            snprintf(num, sizeof num, "%lld", v);
        } else {
            double v;
            if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
                goto done;
            snprintf(num, sizeof num, "%.17g", v);
        }
        *out = strdup(num);
    } else
        goto done;
    rc = *out ? 0 : -1;
done:
    close_id(&mt);
    close_id(&sp);
    close_id(&ft);
    close_id(&a);
    return rc;
}

/* Integer attribute; *found = false when absent.  -1 on failure or when the
 * attribute is not a scalar integer. */
static int get_int_attr(hid_t obj, const char *name, long long *v, bool *found)
{
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    int rc = -1;
    *found = false;
    htri_t ex = H5Aexists(obj, name);
    if (ex <= 0)
        return ex == 0 ? 0 : -1;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) >= 0 && (ft = H5Aget_type(a)) >= 0 &&
        (sp = H5Aget_space(a)) >= 0 && H5Tget_class(ft) == H5T_INTEGER &&
        H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_LLONG, v) >= 0) {
        *found = true;
        rc = 0;
    }
    close_id(&sp);
    close_id(&ft);
    close_id(&a);
    return rc;
}

/* ================================================================== writer */

typedef struct wdev {
    hid_t ds[NSERIES];
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
        for (int k = 0; k < NSERIES; k++)
            close_id(&d->ds[k]);
        close_id(&d->counters);
        close_id(&d->clock);
        close_id(&d->fspace2);
        close_id(&d->fspace1);
        close_id(&d->mspace2);
        close_id(&d->mspace1);
    }
    close_id(&s->events);
    close_id(&s->ev_fspace);
    close_id(&s->ev_mspace);
    close_id(&s->ev_mtype);
    close_id(&s->counters_mtype);
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
    close_id(&fapl);
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
    close_id(&s->file);
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
        (dcpl = untimed(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, rank, ch) < 0 ||
        (fill && H5Pset_fill_value(dcpl, mtype, fill) < 0) ||
        (ds = H5Dcreate2(grp, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
        put_str_attr(ds, "units", units) < 0)
        goto done;
    rc = 0;
done:
    close_id(&ds);
    close_id(&dcpl);
    close_id(&sp);
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
        (dcpl = untimed(H5P_DATASET_CREATE)) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        (ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
        (n > 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) ||
        put_str_attr(ds, "units", units) < 0)
        goto done;
    rc = 0;
done:
    close_id(&ds);
    close_id(&dcpl);
    close_id(&sp);
    return rc;
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
    if ((g = make_group(devices, name)) < 0 ||
        put_str_attr(g, "port", dv->port) < 0 ||
        put_str_attr(g, "protocol", dv->protocol) < 0 ||
        put_int_attr(g, "baud", dv->baud) < 0 ||
        put_int_attr(g, "channels", dv->channels) < 0 ||
        put_int_attr(g, "usb_vendor_id", dv->usb_vendor_id) < 0 ||
        put_int_attr(g, "usb_product_id", dv->usb_product_id) < 0 ||
        put_str_attr(g, "usb_manufacturer", dv->usb_manufacturer) < 0 ||
        put_str_attr(g, "usb_product", dv->usb_product) < 0 ||
        put_str_attr(g, "usb_serial", dv->usb_serial) < 0 ||
        put_str_attr(g, "description", dv->description) < 0 ||
        put_str_attr(g, "announcement", dv->announcement) < 0 ||
        make_series(g, "samples", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill, dv->channels,
                    chunk, "counts") < 0 ||
        make_series(g, "device_time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill, 0, chunk,
                    dv->time_units) < 0 ||
        make_series(g, "host_time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill, 0, chunk,
                    "s") < 0 ||
        make_series(g, "sequence", H5T_STD_U32LE, H5T_NATIVE_UINT32, &zero32, 0, chunk, "1") <
            0 ||
        (ctf = counters_type(1)) < 0 || (ctm = counters_type(0)) < 0 ||
        make_fixed(g, "counters", ctf, ctm, 1, &zero, "1") < 0 ||
        (clf = clock_type(1)) < 0 || (clm = clock_type(0)) < 0 ||
        make_fixed(g, "clock", clf, clm, 1, &unknown, "s") < 0)
        rc = h5_fail(err, s->path, what);
    close_id(&clm);
    close_id(&clf);
    close_id(&ctm);
    close_id(&ctf);
    close_id(&g);
    return rc;
}

static int build_cups(cl_session *s, const cl_session_cup *cups, size_t ncups, cl_error *err)
{
    hid_t ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    cup_rec *rec = calloc(ncups ? ncups : 1, sizeof *rec);
    int rc = CL_OK;
    if (!rec)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
    for (size_t i = 0; i < ncups; i++) {
        const cl_session_cup *c = &cups[i];
        rec[i].device = c->device;
        rec[i].channel = c->channel;
        if (!(rec[i].cup_id = utf8_dup(c->cup_id)) ||
            !(rec[i].cup_set = utf8_dup(c->cup_set)) || !(rec[i].size = utf8_dup(c->size)) ||
            !(rec[i].material = utf8_dup(c->material)) || !(rec[i].site = utf8_dup(c->site)) ||
            !(rec[i].sensor_serial = utf8_dup(c->sensor_serial))) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
            goto done;
        }
    }
    if ((ft = cup_type(1)) < 0 || (mt = cup_type(0)) < 0 ||
        make_fixed(s->file, "cups", ft, mt, ncups, rec, "") < 0)
        rc = h5_fail(err, s->path, "cannot create /cups");
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
    close_id(&mt);
    close_id(&ft);
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
        if (!(copy[i] = utf8_dup(meta->profiles[i]))) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", s->path);
            goto done;
        }
    if ((g = make_group(s->file, "calibration")) < 0 ||
        (str = str_type_vlen()) < 0 || make_fixed(g, "profiles", str, str, n, copy, "") < 0)
        rc = h5_fail(err, s->path, "cannot create /calibration/profiles");
done:
    for (size_t i = 0; i < n; i++)
        free(copy[i]);
    free(copy);
    close_id(&str);
    close_id(&g);
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
        utc_now(created);
    if (opts && opts->uuid)
        snprintf(uuid, sizeof uuid, "%s", opts->uuid);
    else if (make_uuid(uuid) < 0)
        return cl_error_set(err, CL_ERR_IO, "%s: no random source for the session UUID",
                            s->path);
    hid_t root = s->file;
    if (put_str_attr(root, "format", CL_SESSION_FORMAT) < 0 ||
        put_int_attr(root, "format_version", CL_SESSION_VERSION) < 0 ||
        put_str_attr(root, "software_version",
                     meta->software_version ? meta->software_version : CUPLAB_VERSION) < 0 ||
        put_str_attr(root, "created_utc", created) < 0 ||
        put_str_attr(root, "session_uuid", uuid) < 0 ||
        put_str_attr(root, "practitioner", meta->practitioner) < 0 ||
        put_str_attr(root, "subject", meta->subject) < 0 ||
        put_str_attr(root, "technique", meta->technique) < 0 ||
        put_str_attr(root, "site", meta->site) < 0 ||
        put_str_attr(root, "notes", meta->notes) < 0 ||
        put_fixed_attr(root, "status", STATUS_BYTES, "") < 0 ||
        put_fixed_attr(root, "ended_utc", UTC_BYTES, "") < 0 ||
        put_fixed_attr(root, "recovered_utc", UTC_BYTES, "") < 0) {
        rc = h5_fail(err, s->path, "cannot write the root attributes");
        goto done;
    }
    if ((devices = make_group(root, "devices")) < 0) {
        rc = h5_fail(err, s->path, "cannot create /devices");
        goto done;
    }
    for (size_t i = 0; i < s->ndev; i++)
        if ((rc = build_device(s, devices, i, &devs[i], chunk, err)) != CL_OK)
            goto done;
    if ((rc = build_cups(s, cups, s->ncups, err)) != CL_OK ||
        (rc = build_profiles(s, meta, err)) != CL_OK)
        goto done;
    if ((eft = event_type(1)) < 0 || (emt = event_type(0)) < 0 ||
        make_series(root, "events", eft, emt, NULL, 0, EVENT_CHUNK_ROWS, "s") < 0)
        rc = h5_fail(err, s->path, "cannot create /events");
done:
    close_id(&emt);
    close_id(&eft);
    close_id(&devices);
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
        for (int k = 0; k < NSERIES; k++) {
            snprintf(name, sizeof name, "/devices/dev%zu/%s", i, series_name[k]);
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
        (s->ev_mtype = event_type(0)) < 0 || (s->counters_mtype = counters_type(0)) < 0)
        goto fail;

    /* HDF5 never syncs; keep its descriptor to fsync after each flush. */
    s->fd = file_fd(s->file);
    return CL_OK;
fail:
    return h5_fail(err, s->path, "cannot reopen the datasets after starting SWMR");
}

static int check_devices(const char *path, const cl_session_device *devs, size_t ndev,
                         const cl_session_cup *cups, size_t ncups, cl_error *err)
{
    if (ndev && !devs)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device descriptions given", path);
    if (ncups && !cups)
        return cl_error_set(err, CL_ERR_ARG, "%s: no cup descriptions given", path);
    for (size_t i = 0; i < ndev; i++)
        if (devs[i].channels < 1 || devs[i].channels > MAX_CHANNELS)
            return cl_error_set(err, CL_ERR_ARG, "%s: device %zu has %u channels (1..%d)", path,
                                i, (unsigned)devs[i].channels, MAX_CHANNELS);
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

int cl_session_create(cl_session **out, const char *path, const cl_session_meta *meta,
                      const cl_session_device *devs, size_t ndev, const cl_session_cup *cups,
                      size_t ncups, const cl_session_options *opts, cl_error *err)
{
    cl_session *s = NULL;
    hid_t fapl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID;
    bool created = false;
    int rc;
    struct stat st;

    if (out)
        *out = NULL;
    h5_quiet();
    if (!out || !path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session create: no output or file name");
    if ((rc = check_devices(path, devs, ndev, cups, ncups, err)) != CL_OK)
        return rc;
    size_t chunk = opts && opts->chunk_rows ? opts->chunk_rows : DEFAULT_CHUNK_ROWS;
    if (chunk > MAX_CHUNK_ROWS)
        return cl_error_set(err, CL_ERR_ARG, "%s: chunk of %zu rows is too large (max %u)",
                            path, chunk, MAX_CHUNK_ROWS);
    if (opts && opts->uuid && !valid_uuid(opts->uuid))
        return cl_error_set(err, CL_ERR_ARG, "%s: session UUID '%s' is not 8-4-4-4-12 hex digits",
                            path, opts->uuid);
    if (opts && opts->created_utc && !valid_utc(opts->created_utc))
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: creation time '%s' is not YYYY-MM-DDThh:mm:ssZ", path,
                            opts->created_utc);
    bool force = opts && opts->force;
    if (stat(path, &st) == 0) {
        if (!force)
            return cl_output_exists(err, path);
        if (S_ISDIR(st.st_mode))
            return cl_error_set(err, CL_ERR_ARG, "%s: is a directory", path);
        if (writer_lock_held(path))
            return cl_error_set(err, CL_ERR_BUSY,
                                "%s: a session is being recorded into this file", path);
    }

    if (!(s = calloc(1, sizeof *s)) || !(s->path = strdup(path)) ||
        !(s->dev = calloc(ndev ? ndev : 1, sizeof *s->dev))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    s->file = s->events = s->ev_fspace = s->ev_mspace = H5I_INVALID_HID;
    s->ev_mtype = s->counters_mtype = H5I_INVALID_HID;
    s->fd = s->lock_fd = -1;
    s->ndev = ndev;
    s->ncups = ncups;
    s->chunk_rows = chunk;
    for (size_t i = 0; i < ndev; i++) {
        wdev *d = &s->dev[i];
        for (int k = 0; k < NSERIES; k++)
            d->ds[k] = H5I_INVALID_HID;
        d->counters = d->fspace2 = d->fspace1 = d->mspace2 = d->mspace1 = H5I_INVALID_HID;
        d->channels = devs[i].channels;
    }

    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
        (fcpl = untimed(H5P_FILE_CREATE)) < 0 ||
        H5Pset_attr_phase_change(fcpl, ROOT_MAX_COMPACT, ROOT_MIN_DENSE) < 0) {
        rc = h5_fail(err, path, "cannot set up file access");
        goto fail;
    }
    errno = 0;
    s->file = H5Fcreate(path, force ? H5F_ACC_TRUNC : H5F_ACC_EXCL, fcpl, fapl);
    if (s->file < 0) {
        if (!force && stat(path, &st) == 0) {
            H5Eclear2(H5E_DEFAULT);
            rc = cl_output_exists(err, path);
        } else {
            rc = h5_fail(err, path, "cannot create the session file");
        }
        goto fail;
    }
    created = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    s->lock_fd = writer_lock_take(path);
    long bits = pathconf(path, _PC_FILESIZEBITS);
    s->max_file_bytes = bits > 1 && bits < 64 ? ((uint64_t)1 << (bits - 1)) - 1 : UINT64_MAX;

    if ((rc = build_schema(s, meta, devs, cups, chunk, opts, err)) != CL_OK)
        goto fail;
    if (H5Fstart_swmr_write(s->file) < 0) {
        rc = h5_fail(err, path, "cannot start SWMR writing");
        goto fail;
    }
    if ((rc = open_objects(s, err)) != CL_OK || (rc = cl_session_flush(s, err)) != CL_OK)
        goto fail;
    if (opts && opts->sync_behind && s->fd >= 0 && !(s->syncer = cl_syncer_new(s->fd))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: cannot start the sync thread", path);
        goto fail;
    }
    fsync_parent_dir(path);
    close_id(&fcpl);
    close_id(&fapl);
    *out = s;
    return CL_OK;

fail:
    close_id(&fcpl);
    close_id(&fapl);
    if (s)
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
            EVENT_CHUNK_ROWS * sizeof(ev_rec);

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
    s->failed = h5_fail(err, s->path, what);
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
    h5_quiet();
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
    const void *buf[NSERIES] = {samples, device_time, host_time, seq};
    const hid_t mtype[NSERIES] = {H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE,
                                  H5T_NATIVE_UINT32};
    if (H5Sset_extent_simple(d->fspace2, 2, dims2, NULL) < 0 ||
        H5Sselect_hyperslab(d->fspace2, H5S_SELECT_SET, off2, NULL, cnt2, NULL) < 0 ||
        H5Sset_extent_simple(d->mspace2, 2, cnt2, NULL) < 0 ||
        H5Sset_extent_simple(d->fspace1, 1, &total, NULL) < 0 ||
        H5Sselect_hyperslab(d->fspace1, H5S_SELECT_SET, &start, NULL, &n, NULL) < 0 ||
        H5Sset_extent_simple(d->mspace1, 1, &n, NULL) < 0)
        return h5_fail(err, s->path, "cannot select rows to append");
    /* A failure part-way leaves d->rows unchanged: the next append rewrites
     * the same rows, and readers use the shortest series meanwhile. */
    for (int k = 0; k < NSERIES; k++) {
        hid_t fs = k == S_SAMPLES ? d->fspace2 : d->fspace1;
        hid_t ms = k == S_SAMPLES ? d->mspace2 : d->mspace1;
        errno = 0;
        if (H5Dset_extent(d->ds[k], k == S_SAMPLES ? dims2 : &total) < 0 ||
            H5Dwrite(d->ds[k], mtype[k], ms, fs, H5P_DEFAULT, buf[k]) < 0) {
            char what[96];
            snprintf(what, sizeof what, "cannot append to /devices/dev%zu/%s", dev,
                     series_name[k]);
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
    h5_quiet();
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
    ev_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.t = ev->t;
    rec.cup = ev->cup;
    rec.kind = (int32_t)ev->kind;
    utf8_copy(rec.text, sizeof rec.text, ev->text);

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
    h5_quiet();
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
    h5_quiet();
    if (dev >= s->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: clock of device %zu of %zu", s->path, dev,
                            s->ndev);
    if (s->failed)
        return refuse_failed(s, err);
    if ((mt = clock_type(0)) < 0)
        return h5_fail(err, s->path, "cannot build the clock type");
    errno = 0;
    w = H5Dwrite(s->dev[dev].clock, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, c);
    close_id(&mt);
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
    h5_quiet();
    if (s->failed)
        return refuse_failed(s, err);
    errno = 0;
    if (H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0)
        return write_failed(s, err, "cannot flush");
    int e = s->syncer                                           ? cl_syncer_request(s->syncer)
            : s->fd >= 0 && fdatasync(s->fd) != 0 && errno != EINVAL ? errno
                                                                      : 0;
    if (e)
        return s->failed = os_fail(err, e, s->path, "cannot sync to disk");
    for (size_t i = 0; i < s->ndev; i++)
        s->dev[i].flushed = s->dev[i].rows;
    s->ev_flushed = s->nevents;
    return CL_OK;
}

/* Reopen a closed session file without SWMR and write the root attributes
 * status and ended_utc (unless status is NULL) and recovered_utc (unless
 * NULL).  `fapl` says how to open; `grow_eoa` first sets the
 * end-of-allocation to max(EOA, file size) so that closing cannot truncate
 * anything. */
static int write_final(const char *path, hid_t fapl, bool grow_eoa, const char *status,
                       const char *ended_utc, const char *recovered_utc, cl_error *err)
{
    hid_t f;
    int rc = CL_OK;
    errno = 0;
    if ((f = H5Fopen(path, H5F_ACC_RDWR, fapl)) < 0) {
        return h5_fail(err, path, "cannot reopen to write the final status");
    }
    if (grow_eoa && H5Fincrement_filesize(f, 0) < 0) {
        rc = h5_fail(err, path, "cannot keep the end of allocation");
        goto done;
    }
    errno = 0;
    if ((status && (put_fixed_attr(f, "status", STATUS_BYTES, status) < 0 ||
                    put_fixed_attr(f, "ended_utc", UTC_BYTES, ended_utc) < 0)) ||
        (recovered_utc && put_fixed_attr(f, "recovered_utc", UTC_BYTES, recovered_utc) < 0)) {
        rc = h5_fail(err, path, "cannot write the final status");
        goto done;
    }
done:
    errno = 0;
    if (H5Fclose(f) < 0 && rc == CL_OK)
        rc = h5_fail(err, path, "cannot close after writing the final status");
    if (rc == CL_OK) {
        int e = cl_replace_sync(path, O_RDONLY);
        if (e)
            rc = os_fail(err, e, path, "cannot sync to disk");
    }
    return rc;
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
    h5_quiet();
    const char *st = status == CL_SESSION_COMPLETE      ? "complete"
                     : status == CL_SESSION_INTERRUPTED ? "interrupted"
                                                        : NULL;
    if (!st || (ended_utc && !valid_utc(ended_utc))) {
        int rc = !st ? cl_error_set(err, CL_ERR_ARG,
                                    "%s: final status must be complete or interrupted", s->path)
                     : cl_error_set(err, CL_ERR_ARG,
                                    "%s: end time '%s' is not YYYY-MM-DDThh:mm:ssZ", s->path,
                                    ended_utc);
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
        rc = s->failed = os_fail(err, e, s->path, "cannot sync to disk");
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
        rc = h5_fail(err, s->path, "cannot close");
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
            utc_now(ended);
        if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0 ||
            H5Pset_file_locking(fapl, false, true) < 0 ||
            (diverted && H5Pset(fapl, "clear_status_flags", &yes) < 0))
            rc2 = h5_fail(e2, s->path, "cannot set up file access");
        else
            rc2 = write_final(s->path, fapl, diverted, st, ended, NULL, e2);
        close_id(&fapl);
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
    h5_quiet();
    writer_free(s);
}

/* ================================================================== reader */

typedef struct rdev {
    cl_session_device info; /* strings point into str[] */
    char *str[9];
    hid_t ds[NSERIES];
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
    bool swmr;    /* opened in SWMR-read mode */
    bool flagged; /* the superblock says a writer still has the file open */
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
    h5_quiet();
    for (size_t i = 0; r->dev && i < r->ndev; i++) {
        for (int k = 0; k < NSERIES; k++)
            close_id(&r->dev[i].ds[k]);
        close_id(&r->dev[i].counters);
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
    close_id(&r->events);
    close_id(&r->ev_mtype);
    close_id(&r->counters_mtype);
    close_id(&r->file);
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
    h5_detail first = {{0}, 0};
    int rc = CL_OK;
    bool yes = true;
    *file = H5I_INVALID_HID;
    *swmr = *flagged = false;
    if ((plain = H5Pcreate(H5P_FILE_ACCESS)) < 0 || (live = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        (noflags = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_metadata_read_attempts(live, SWMR_READ_ATTEMPTS) < 0) {
        rc = h5_fail(err, path, "cannot set up file access");
        goto done;
    }
    if ((*file = H5Fopen(path, H5F_ACC_RDONLY, plain)) >= 0)
        goto done;
    h5_take(&first);
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
            close_id(file);
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
    close_id(&noflags);
    close_id(&live);
    close_id(&plain);
    return rc;
}

static int check_format(hid_t file, const char *path, cl_error *err)
{
    char *fmt = NULL;
    long long ver = 0;
    bool found = false;
    int rc = CL_OK;
    if (get_attr_text(file, "format", &fmt) < 0) {
        h5_detail d;
        h5_take(&d);
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: not a cuplab session file (unreadable \"format\" attribute: %s)",
                          path, d.text[0] ? d.text : "not a string");
    } else if (!fmt) {
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: not a cuplab session file (no \"format\" attribute)", path);
    } else if (strcmp(fmt, CL_SESSION_FORMAT) != 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: not a cuplab session file (format is \"%.64s\")", path, fmt);
    } else if (get_int_attr(file, "format_version", &ver, &found) < 0 || !found) {
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

/* Rows of `ds` (first dimension), or (size_t)-1 on failure. */
static size_t ds_rows(hid_t ds, hsize_t *cols)
{
    hsize_t dims[2] = {0, 0};
    hid_t sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (rank < 1 || rank > 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        rank = -1;
    close_id(&sp);
    if (rank < 0)
        return (size_t)-1;
    if (cols)
        *cols = rank == 2 ? dims[1] : 0;
    return (size_t)dims[0];
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
    if (d->ds[S_HOST_TIME] < 0 || from == d->rows)
        return CL_OK;
    if (!(t = malloc(HOST_TIME_BLOCK * sizeof *t)))
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
    for (size_t at = from; rc == CL_OK && at < d->rows; at += HOST_TIME_BLOCK) {
        size_t n = d->rows - at < HOST_TIME_BLOCK ? d->rows - at : HOST_TIME_BLOCK;
        if ((rc = read_series(r, i, S_HOST_TIME, 0, at, n, H5T_NATIVE_DOUBLE, t, err)) != CL_OK)
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
    close_id(&t);
    if (ds_rows(ds, &cols) == (size_t)-1 || size == 0)
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
        for (int k = 0; k < NSERIES; k++) {
            if (r->dev[i].ds[k] < 0)
                continue; /* unreadable */
            size_t n = ds_rows(r->dev[i].ds[k], NULL), stored = stored_rows(r->dev[i].ds[k]);
            if (n == (size_t)-1)
                return h5_fail(err, r->path, "cannot read dataset sizes");
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
    size_t n = r->events >= 0 ? ds_rows(r->events, NULL) : 0;
    if (n == (size_t)-1)
        return h5_fail(err, r->path, "cannot read the size of /events");
    r->nevents = n;
    return CL_OK;
}

/* Open dataset `name` of `loc` and, if `probe`, read its chunk index
 * through (every block of it), so that a block a killed writer left failing
 * its checksum shows now rather than in the middle of a read.  (A file with
 * the final status "complete" was flushed and closed by its writer and
 * needs no probe.)  H5I_INVALID_HID when the dataset cannot be read;
 * *exists then tells a damaged object from a missing one. */
static hid_t open_checked(hid_t loc, const char *name, bool probe, bool *exists)
{
    hid_t ds = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hsize_t nchunks;
    htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
    *exists = ex > 0;
    if (ex > 0 && (ds = H5Dopen2(loc, name, H5P_DEFAULT)) >= 0 && probe &&
        ((dcpl = H5Dget_create_plist(ds)) < 0 ||
         (H5Pget_layout(dcpl) == H5D_CHUNKED &&
          ((sp = H5Dget_space(ds)) < 0 || H5Dget_num_chunks(ds, sp, &nchunks) < 0))))
        close_id(&ds);
    close_id(&sp);
    close_id(&dcpl);
    H5Eclear2(H5E_DEFAULT);
    return ds;
}

/* Rebuild the list of unreadable objects behind cl_session_damage(). */
static int note_damage(cl_session_reader *r, cl_error *err)
{
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < r->ndev; i++)
        cap += (NSERIES + 1) * 48;
    cap += 16;
    char *text = malloc(cap);
    if (!text)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", r->path);
    text[0] = '\0';
    for (size_t i = 0; i < r->ndev; i++)
        for (int k = 0; k <= NSERIES; k++)
            if (r->dev[i].unreadable & (1u << k))
                len += (size_t)snprintf(text + len, cap - len, "%s/devices/dev%zu/%s",
                                        len ? ", " : "", i,
                                        k < NSERIES ? series_name[k] : "counters");
    if (r->events_unreadable)
        snprintf(text + len, cap - len, "%s/events", len ? ", " : "");
    free(r->damage);
    r->damage = text;
    return CL_OK;
}

static const char *class_name(H5T_class_t c)
{
    return c == H5T_INTEGER  ? "integer"
           : c == H5T_FLOAT  ? "floating-point"
           : c == H5T_STRING ? "string"
           : c == H5T_COMPOUND ? "compound"
           : c == H5T_ENUM   ? "enum"
                             : "non-numeric";
}

/* The schema against the data: each readable series of device `d` (group
 * `g`) has its datatype class and rank (samples 2-D float with 1 to
 * MAX_CHANNELS columns, the times 1-D float, sequence 1-D integer), and the
 * group's "channels" attribute is an integer equal to the width of samples
 * (or, when samples is unreadable, within 1..MAX_CHANNELS).  *cols gets
 * the number of channels.  -1 with `why` (": what is wrong") otherwise. */
static int check_shapes(const rdev *d, hid_t g, hsize_t *cols, char *why, size_t cap)
{
    long long v = 0;
    bool found = false;
    *cols = 0;
    for (int k = 0; k < NSERIES; k++) {
        if (d->ds[k] < 0)
            continue;
        hid_t t = H5Dget_type(d->ds[k]), sp = H5Dget_space(d->ds[k]);
        H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
        int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1, want = k == S_SAMPLES ? 2 : 1;
        H5T_class_t cwant = k == S_SEQUENCE ? H5T_INTEGER : H5T_FLOAT;
        close_id(&sp);
        close_id(&t);
        if (c != cwant) {
            snprintf(why, cap, "/%s: %s data, %s expected", series_name[k], class_name(c),
                     class_name(cwant));
            return -1;
        }
        if (rank != want || (k == S_SAMPLES && ds_rows(d->ds[k], cols) == (size_t)-1)) {
            snprintf(why, cap, "/%s: %d-dimensional, %d-dimensional expected", series_name[k],
                     rank, want);
            return -1;
        }
    }
    if (get_int_attr(g, "channels", &v, &found) < 0 || !found) {
        snprintf(why, cap, ": no integer \"channels\" attribute");
        return -1;
    }
    if (d->ds[S_SAMPLES] >= 0 && (*cols < 1 || *cols > MAX_CHANNELS)) {
        snprintf(why, cap, "/samples: %llu columns, 1 to %d expected", (unsigned long long)*cols,
                 MAX_CHANNELS);
        return -1;
    }
    if (d->ds[S_SAMPLES] >= 0 && (hsize_t)v != *cols) {
        snprintf(why, cap, ": \"channels\" attribute is %lld, samples has %llu columns", v,
                 (unsigned long long)*cols);
        return -1;
    }
    if (v < 1 || v > MAX_CHANNELS) {
        snprintf(why, cap, ": \"channels\" attribute is %lld, 1 to %d expected", v,
                 MAX_CHANNELS);
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
        if (get_attr_text(g, sattr[k], &d->str[k]) < 0)
            missing = sattr[k];
    /* A series or the counters that exist but cannot be read are left out
     * (see the top of this file); missing ones make a malformed file. */
    for (int k = 0; k < NSERIES && !missing; k++)
        if ((d->ds[k] = open_checked(g, series_name[k], probe, &exists)) < 0) {
            if (!exists)
                missing = series_name[k];
            else
                d->unreadable |= 1u << k;
        }
    if (!missing && (d->counters = open_checked(g, "counters", probe, &exists)) < 0) {
        if (!exists)
            missing = "counters";
        else
            d->unreadable |= CL_SESSION_COUNTERS;
    }
    if (!missing && d->ds[S_DEVICE_TIME] >= 0 &&
        get_attr_text(d->ds[S_DEVICE_TIME], "units", &d->str[7]) < 0)
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
    d->info.baud = get_int_attr(g, "baud", &v, &found) == 0 && found ? (int)v : 0;
    d->info.usb_vendor_id =
        get_int_attr(g, "usb_vendor_id", &v, &found) == 0 && found ? (int)v : -1;
    d->info.usb_product_id =
        get_int_attr(g, "usb_product_id", &v, &found) == 0 && found ? (int)v : -1;
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
    close_id(&g);
    return rc;
}

static int load_cups(cl_session_reader *r, cl_error *err)
{
    hid_t ds = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    cup_rec *rec = NULL;
    int rc = CL_OK;
    size_t n;
    if ((ds = H5Dopen2(r->file, "cups", H5P_DEFAULT)) < 0 ||
        (n = ds_rows(ds, NULL)) == (size_t)-1) {
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
    if ((mt = cup_type(0)) < 0 || (sp = H5Dget_space(ds)) < 0 ||
        H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec) < 0) {
        rc = h5_fail(err, r->path, "cannot read /cups");
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
    close_id(&sp);
    close_id(&mt);
    close_id(&ds);
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
        (n = ds_rows(ds, NULL)) == (size_t)-1 || (str = str_type_vlen()) < 0) {
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
    close_id(&str);
    close_id(&ds);
    return rc;
}

static int load_schema(cl_session_reader *r, cl_error *err)
{
    hid_t devices = H5I_INVALID_HID;
    H5G_info_t gi;
    char *status = NULL;
    int rc = CL_OK;

    if (get_attr_text(r->file, "status", &status) < 0) {
        rc = h5_fail(err, r->path, "cannot read the status attribute");
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
        for (int k = 0; k < NSERIES; k++)
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
    if ((r->events = open_checked(r->file, "events", r->status != CL_SESSION_COMPLETE,
                                  &exists)) < 0) {
        if (!exists) {
            rc = cl_error_set(err, CL_ERR_FORMAT, "%s: damaged session file (no /events)",
                              r->path);
            goto done;
        }
        r->events_unreadable = true;
    }
    if ((r->ev_mtype = event_type(0)) < 0 || (r->counters_mtype = counters_type(0)) < 0) {
        rc = h5_fail(err, r->path, "cannot build memory types");
        goto done;
    }
    if ((rc = load_profiles(r, err)) != CL_OK || (rc = note_damage(r, err)) != CL_OK)
        goto done;
    rc = measure(r, err);
done:
    free(status);
    close_id(&devices);
    return rc;
}

int cl_session_open(cl_session_reader **out, const char *path, cl_error *err)
{
    cl_session_reader *r = NULL;
    struct stat st;
    int rc;
    if (out)
        *out = NULL;
    h5_quiet();
    if (!out || !path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session open: no output or file name");
    if (stat(path, &st) != 0)
        return os_fail(err, errno, path, "cannot open");
    if (S_ISDIR(st.st_mode))
        return cl_error_set(err, CL_ERR_FORMAT, "%s: is a directory, not a session file", path);
    htri_t is = H5Fis_hdf5(path);
    if (is < 0) {
        h5_detail d;
        h5_take(&d);
        if (d.errnum)
            return os_fail(err, d.errnum, path, "cannot open");
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
    r->writer_alive = r->status == CL_SESSION_RECORDING && writer_lock_held(path);
    *out = r;
    return CL_OK;
}

const char *cl_session_attr(cl_session_reader *r, const char *name)
{
    if (!r || !name)
        return "";
    h5_quiet();
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
    if (get_attr_text(r->file, name, &v) < 0)
        H5Eclear2(H5E_DEFAULT);
    r->attrs[r->nattrs].name = n;
    r->attrs[r->nattrs].value = v;
    r->nattrs++;
    return v ? v : "";
}

cl_session_status cl_session_reader_status(const cl_session_reader *r)
{
    return r ? r->status : CL_SESSION_RECORDING;
}

bool cl_session_writer_alive(const cl_session_reader *r) { return r && r->writer_alive; }

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
        for (int k = 0; k <= NSERIES; k++)
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
    h5_quiet();
    if (dev >= r->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device %zu (%zu devices)", r->path, dev,
                            r->ndev);
    memset(out, 0, sizeof *out);
    if (r->dev[dev].counters < 0)
        return unreadable(r, err, "counters", dev);
    if (H5Dread(r->dev[dev].counters, r->counters_mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) <
        0)
        return h5_fail(err, r->path, "cannot read counters");
    return CL_OK;
}

/* Read rows [start, start+count) of series `k` of device `dev`; for the 2-D
 * samples dataset only column `col`. */
static int read_series(cl_session_reader *r, size_t dev, int k, size_t col, size_t start,
                       size_t count, hid_t mtype, void *out, cl_error *err)
{
    if (!r || (!out && count))
        return cl_error_set(err, CL_ERR_ARG, "session read: no reader or output");
    h5_quiet();
    if (dev >= r->ndev)
        return cl_error_set(err, CL_ERR_ARG, "%s: no device %zu (%zu devices)", r->path, dev,
                            r->ndev);
    rdev *d = &r->dev[dev];
    if (k == S_SAMPLES && col >= d->info.channels)
        return cl_error_set(err, CL_ERR_ARG, "%s: device %zu has no channel %zu (%u channels)",
                            r->path, dev, col, (unsigned)d->info.channels);
    if (d->ds[k] < 0)
        return unreadable(r, err, series_name[k], dev);
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
        snprintf(what, sizeof what, "cannot read /devices/dev%zu/%s", dev, series_name[k]);
        rc = h5_fail(err, r->path, what);
    }
    close_id(&ms);
    close_id(&fs);
    return rc;
}

int cl_session_read_channel(cl_session_reader *r, size_t dev, size_t channel, size_t start,
                            size_t count, double *out, cl_error *err)
{
    return read_series(r, dev, S_SAMPLES, channel, start, count, H5T_NATIVE_DOUBLE, out, err);
}

int cl_session_read_host_time(cl_session_reader *r, size_t dev, size_t start, size_t count,
                              double *out, cl_error *err)
{
    return read_series(r, dev, S_HOST_TIME, 0, start, count, H5T_NATIVE_DOUBLE, out, err);
}

int cl_session_read_device_time(cl_session_reader *r, size_t dev, size_t start, size_t count,
                                double *out, cl_error *err)
{
    return read_series(r, dev, S_DEVICE_TIME, 0, start, count, H5T_NATIVE_DOUBLE, out, err);
}

int cl_session_read_seq(cl_session_reader *r, size_t dev, size_t start, size_t count,
                        uint32_t *out, cl_error *err)
{
    return read_series(r, dev, S_SEQUENCE, 0, start, count, H5T_NATIVE_UINT32, out, err);
}

size_t cl_session_profile_count(const cl_session_reader *r) { return r ? r->nprofiles : 0; }

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
    h5_quiet();
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
    if ((ds = H5Dopen2(r->file, name, H5P_DEFAULT)) < 0 || (mt = clock_type(0)) < 0 ||
        H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        rc = h5_fail(err, r->path, "cannot read the clock estimate");
    else if (!(out->points >= 3) || !isfinite(out->slope))
        rc = cl_error_set(err, CL_ERR_NOTFOUND, "%s: no clock estimate for device %zu", r->path,
                          dev);
    close_id(&mt);
    close_id(&ds);
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
    h5_quiet();
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
    ev_rec rec;
    memset(&rec, 0, sizeof rec);
    hid_t fs = H5Dget_space(r->events), ms = H5I_INVALID_HID;
    hsize_t off = i, one = 1;
    int rc = CL_OK;
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &one, NULL) < 0 ||
        (ms = H5Screate_simple(1, &one, NULL)) < 0 ||
        H5Dread(r->events, r->ev_mtype, ms, fs, H5P_DEFAULT, &rec) < 0) {
        rc = h5_fail(err, r->path, "cannot read /events");
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
    close_id(&ms);
    close_id(&fs);
    return rc;
}

/* While a live writer holds the file, an object that could not be read may
 * have been caught in the middle of a write: try the unreadable ones again. */
static int retry_unreadable(cl_session_reader *r, cl_error *err)
{
    char name[64];
    bool exists, changed = false;
    if (cl_session_damaged(r) == 0 || !writer_lock_held(r->path))
        return CL_OK;
    for (size_t i = 0; i < r->ndev; i++) {
        rdev *d = &r->dev[i];
        for (int k = 0; k <= NSERIES; k++) {
            if (!(d->unreadable & (1u << k)))
                continue;
            hid_t *id = k < NSERIES ? &d->ds[k] : &d->counters;
            snprintf(name, sizeof name, "devices/dev%zu/%s", i,
                     k < NSERIES ? series_name[k] : "counters");
            if ((*id = open_checked(r->file, name, true, &exists)) >= 0) {
                d->unreadable &= ~(1u << k);
                changed = true;
            }
        }
    }
    if (r->events_unreadable &&
        (r->events = open_checked(r->file, "events", true, &exists)) >= 0) {
        r->events_unreadable = false;
        changed = true;
    }
    return changed ? note_damage(r, err) : CL_OK;
}

int cl_session_refresh(cl_session_reader *r, cl_error *err)
{
    if (!r)
        return cl_error_set(err, CL_ERR_ARG, "session refresh: no reader");
    h5_quiet();
    if (r->swmr) {
        for (size_t i = 0; i < r->ndev; i++) {
            for (int k = 0; k < NSERIES; k++)
                if (r->dev[i].ds[k] >= 0 && H5Drefresh(r->dev[i].ds[k]) < 0)
                    return h5_fail(err, r->path, "cannot refresh a device dataset");
            if (r->dev[i].counters >= 0 && H5Drefresh(r->dev[i].counters) < 0)
                return h5_fail(err, r->path, "cannot refresh counters");
        }
        if (r->events >= 0 && H5Drefresh(r->events) < 0)
            return h5_fail(err, r->path, "cannot refresh /events");
        int rc = retry_unreadable(r, err);
        if (rc != CL_OK)
            return rc;
    }
    if (r->writer_alive)
        r->writer_alive = writer_lock_held(r->path);
    return measure(r, err);
}

/* ---------------------------------------------------------------- recovery */

int cl_session_recover(const char *path, bool *recovered, cl_error *err)
{
    cl_session_reader *r = NULL;
    cl_replace *tx = NULL;
    hid_t fapl = H5I_INVALID_HID;
    bool yes = true;
    char now[32];
    int rc, lock = -1;

    h5_quiet();
    if (recovered)
        *recovered = false;
    if (!path || !path[0])
        return cl_error_set(err, CL_ERR_ARG, "session recover: no file name");
    if ((rc = change_lock_take(path, &lock, "touching", err)) != CL_OK)
        return rc;
    /* Validate first, read-only: only a cuplab session is ever changed. */
    if ((rc = cl_session_open(&r, path, err)) != CL_OK)
        goto done;
    cl_session_status status = r->status;
    bool flagged = r->flagged;
    cl_session_reader_close(r);
    if (status != CL_SESSION_RECORDING && !flagged)
        goto done;

    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
        rc = h5_fail(err, path, "cannot set up file access");
        goto done;
    }
    /* The property h5clear -s sets: the superblock's status flags are cleared
     * as the file is opened. */
    if (H5Pset(fapl, "clear_status_flags", &yes) < 0) {
        rc = h5_fail(err, path, "this HDF5 library cannot clear the status flags");
        goto done;
    }
    /* The changes go into a copy that replaces the file once complete: a
     * crash at any moment leaves the crashed file as it was, still
     * recoverable.  A writer killed while closing may have left a final
     * status behind a set flag: then only the flag is cleared and the status
     * kept. */
    if ((rc = cl_replace_begin(&tx, path, lock, err)) != CL_OK)
        goto done;
    utc_now(now);
    if (status == CL_SESSION_RECORDING)
        rc = write_final(cl_replace_copy(tx), fapl, true, "interrupted", "", now, err);
    else
        rc = write_final(cl_replace_copy(tx), fapl, true, NULL, NULL, NULL, err);
    if (rc == CL_OK) {
        rc = cl_replace_commit(tx, err);
        if (rc == CL_OK && recovered)
            *recovered = true;
    } else {
        cl_replace_abort(tx);
    }
done:
    close_id(&fapl);
    if (lock >= 0)
        close(lock);
    return rc;
}

/* ---------------------------------------------------------------- analysis */

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
            (nrows && H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->num) < 0))
            goto done;
    } else {
        if (!(clean = calloc(nrows ? nrows : 1, sizeof *clean)))
            goto done;
        for (size_t i = 0; i < nrows; i++)
            if (!(clean[i] = utf8_dup(c->str ? c->str[i] : NULL)))
                goto done;
        if ((t = str_type_vlen()) < 0 ||
            (ds = H5Dcreate2(g, c->name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
            (nrows && H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, clean) < 0))
            goto done;
    }
    if (c->unit && c->unit[0] && put_str_attr(ds, "units", c->unit) < 0)
        goto done;
    rc = 0;
done:
    if (clean)
        for (size_t i = 0; i < nrows; i++)
            free(clean[i]);
    free(clean);
    close_id(&ds);
    close_id(&t);
    close_id(&sp);
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
    bool unfinished = r->status == CL_SESSION_RECORDING || r->flagged;
    cl_session_reader_close(r);
    if (unfinished)
        return cl_error_set(err, CL_ERR_BUSY,
                            "%s: the session has no final status (interrupted: run "
                            "'cuplab-analyze --recover' first); not writing to it",
                            path);
    return CL_OK;
}

struct cl_session_results {
    char *path;
    cl_replace *tx; /* the copy being written */
    int lock;       /* writer lock on the original, or -1 */
    hid_t fapl, f, g, series; /* the copy, /analysis, /analysis/series */
    size_t nseries;
};

void cl_session_results_abort(cl_session_results *w)
{
    if (!w)
        return;
    h5_quiet();
    close_id(&w->series);
    close_id(&w->g);
    close_id(&w->f);
    close_id(&w->fapl);
    cl_replace_abort(w->tx);
    if (w->lock >= 0)
        close(w->lock);
    free(w->path);
    free(w);
}

int cl_session_results_begin(cl_session_results **out, const char *path, cl_error *err)
{
    cl_session_results *w = NULL;
    char now[32];
    int rc;

    h5_quiet();
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
    if ((rc = change_lock_take(path, &w->lock, "writing to", err)) != CL_OK)
        goto fail;
    /* Validate first, read-only: only a finished cuplab session is changed. */
    if ((rc = check_finished(path, err)) != CL_OK)
        goto fail;
    if ((w->fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 ||
        H5Pset_libver_bounds(w->fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
        rc = h5_fail(err, path, "cannot set up file access");
        goto fail;
    }
    /* The results go into a copy that replaces the file once complete and
     * synced: the recording is never written to, and a crash at any moment
     * leaves it as it was. */
    if ((rc = cl_replace_begin(&w->tx, path, w->lock, err)) != CL_OK)
        goto fail;
    errno = 0;
    if ((w->f = H5Fopen(cl_replace_copy(w->tx), H5F_ACC_RDWR, w->fapl)) < 0) {
        rc = h5_fail(err, path, "cannot open a copy for writing the analysis");
        goto fail;
    }
    htri_t ex = H5Lexists(w->f, "analysis", H5P_DEFAULT);
    if (ex < 0 || (ex > 0 && H5Ldelete(w->f, "analysis", H5P_DEFAULT) < 0)) {
        rc = h5_fail(err, path, "cannot replace /analysis");
        goto fail;
    }
    utc_now(now);
    errno = 0;
    if ((w->g = H5Gcreate2(w->f, "analysis", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        put_str_attr(w->g, "software_version", CUPLAB_VERSION) < 0 ||
        put_str_attr(w->g, "created_utc", now) < 0 ||
        (w->series = H5Gcreate2(w->g, "series", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5_fail(err, path, "cannot write /analysis");
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
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
        H5Pset_deflate(dcpl, 4) >= 0 &&
        (ds = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0 && n &&
        H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        close_id(&ds);
    close_id(&dcpl);
    close_id(&sp);
    return ds;
}

int cl_session_results_series(cl_session_results *w, const cl_session_series *sr, cl_error *err)
{
    char name[32];
    hid_t g = H5I_INVALID_HID, ds[3] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    int rc = CL_OK;
    if (!w || !sr || !sr->cup_id || (sr->n && (!sr->t_s || !sr->vacuum_kpa || !sr->phase)))
        return cl_error_set(err, CL_ERR_ARG, "session analysis: invalid series");
    h5_quiet();
    /* One group per cup, in cup-table order; the id is an attribute (a
     * group name cannot hold every id). */
    snprintf(name, sizeof name, "%zu", w->nseries);
    errno = 0;
    if ((g = H5Gcreate2(w->series, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        put_str_attr(g, "cup", sr->cup_id) < 0 ||
        put_str_attr(g, "calibration", sr->calibration ? sr->calibration : "") < 0 ||
        (ds[0] = series_dataset(g, "time_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sr->n,
                                sr->t_s)) < 0 ||
        put_str_attr(ds[0], "units", "s") < 0 ||
        (ds[1] = series_dataset(g, "vacuum", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sr->n,
                                sr->vacuum_kpa)) < 0 ||
        put_str_attr(ds[1], "units", "kPa") < 0 ||
        put_str_attr(ds[1], "sign", "positive below ambient") < 0 ||
        (ds[2] = series_dataset(g, "phase", H5T_STD_U8LE, H5T_NATIVE_UCHAR, sr->n,
                                sr->phase)) < 0 ||
        put_str_attr(ds[2], "names", sr->phase_names ? sr->phase_names : "") < 0)
        rc = h5_fail(err, w->path, "cannot write /analysis/series");
    for (int i = 0; i < 3; i++)
        close_id(&ds[i]);
    close_id(&g);
    if (rc == CL_OK)
        w->nseries++;
    return rc;
}

int cl_session_results_finish(cl_session_results *w, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err)
{
    hid_t cg = H5I_INVALID_HID, sp = H5I_INVALID_HID, t = H5I_INVALID_HID,
          ds = H5I_INVALID_HID;
    char *json = NULL;
    int rc = CL_OK;

    h5_quiet();
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
    if (!(json = utf8_dup(json_results))) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    const char *jp = json;
    errno = 0;
    if ((t = str_type_vlen()) < 0 || (sp = H5Screate(H5S_SCALAR)) < 0 ||
        (ds = H5Dcreate2(w->g, "results", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &jp) < 0 ||
        (cg = H5Gcreate2(w->g, "cups", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5_fail(err, path, "cannot write /analysis");
        goto done;
    }
    for (size_t i = 0; i < ncols; i++) {
        errno = 0;
        if (write_column(cg, &cols[i], nrows) < 0) {
            char what[160];
            snprintf(what, sizeof what, "cannot write /analysis/cups/%.100s", cols[i].name);
            rc = h5_fail(err, path, what);
            goto done;
        }
    }
done:
    close_id(&ds);
    close_id(&sp);
    close_id(&t);
    close_id(&cg);
    free(json);
    if (rc != CL_OK) {
        cl_session_results_abort(w);
        return rc;
    }
    close_id(&w->series);
    close_id(&w->g);
    errno = 0;
    herr_t closed = H5Fclose(w->f);
    w->f = H5I_INVALID_HID;
    if (closed < 0) {
        rc = h5_fail(err, path, "cannot close after writing the analysis");
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
    return rc != CL_OK ? rc : cl_session_results_finish(w, json_results, cols, ncols, nrows, err);
}
