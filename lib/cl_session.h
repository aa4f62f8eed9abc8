/*
 * cl_session: the cuplab session file (HDF5, schema version 1).  The only
 * module that knows the layout; docs/session-format.md is its specification.
 *
 * Writing follows HDF5's single-writer/multiple-reader (SWMR) rules: every
 * group, dataset and attribute is created in cl_session_create(), then SWMR
 * starts and the writer only appends rows and overwrites counters.
 * cl_session_flush() makes everything appended so far durable (H5Fflush +
 * fsync); a crash loses at most what came after the last flush.  The final
 * status and end time are written by cl_session_close(), after reopening the
 * file without SWMR; a file without a final status is an interrupted
 * session.  While a writer has the file, it holds a lock that
 * cl_session_recover() and a forced cl_session_create() respect.
 *
 * Layout (all strings UTF-8):
 *   /                       attrs: format="cuplab-session", format_version=1,
 *                           software_version, created_utc, session_uuid,
 *                           practitioner, subject, technique, site, notes;
 *                           status ("" until closed, then "complete" |
 *                           "interrupted"), ended_utc, recovered_utc (these
 *                           three fixed-length, so closing overwrites them
 *                           in place)
 *   /devices/devN           attrs: port, protocol, baud, channels,
 *                           usb_vendor_id, usb_product_id, usb_manufacturer,
 *                           usb_product, usb_serial, description,
 *                           announcement
 *   /devices/devN/samples   float64 [rows, channels], units="counts"
 *   /devices/devN/device_time float64 [rows], units from the device
 *   /devices/devN/host_time float64 [rows], units="s" since session start
 *   /devices/devN/sequence  uint32 [rows]
 *   /devices/devN/counters  compound [1] (see cl_session_counters)
 *   /devices/devN/clock     compound [1] (see cl_session_clock)
 *   /calibration/profiles   vlen UTF-8 string [nprofiles], JSON documents
 *   /cups                   compound [ncups]
 *   /events                 compound [rows]: t (s), cup (-1 = none/all),
 *                           kind (enum), text (fixed 128-byte UTF-8)
 *   /analysis               results of cuplab-analyze --write (optional; see
 *                           cl_session_write_analysis)
 */
#ifndef CL_SESSION_H
#define CL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"

#define CL_SESSION_FORMAT "cuplab-session"
#define CL_SESSION_VERSION 1
#define CL_SESSION_EVENT_TEXT 128 /* bytes, including the terminating NUL */

typedef enum cl_session_status {
    CL_SESSION_RECORDING = 0,   /* no final status: still open, or crashed */
    CL_SESSION_COMPLETE = 1,
    CL_SESSION_INTERRUPTED = 2,
} cl_session_status;

typedef enum cl_event_kind {
    CL_EVENT_NOTE = 0,       /* free comment */
    CL_EVENT_APPLIED = 1,    /* cup applied */
    CL_EVENT_RELEASED = 2,   /* cup released */
    CL_EVENT_MOVED = 3,      /* cup moved (moving cupping) */
    CL_EVENT_REPUMPED = 4,   /* vacuum topped up */
    CL_EVENT_START = 5,      /* recording started */
    CL_EVENT_STOP = 6,       /* recording stopped (text says why) */
    CL_EVENT_GAP = 7,        /* frames missing (sequence gap) */
    CL_EVENT_DISCONNECT = 8, /* device vanished */
    CL_EVENT_RECONNECT = 9,  /* device returned */
    CL_EVENT_OVERRUN = 10,   /* ring buffer full: frames dropped */
    CL_EVENT_DEVICE = 11,    /* device metadata or button event */
    CL_EVENT_ERROR = 12,     /* other acquisition problem */
} cl_event_kind;

/* Name used in the file's enum type and in outputs ("applied"); NULL if
 * unknown.  cl_event_kind_from_name returns -1 if unknown. */
const char *cl_event_kind_name(cl_event_kind k);
int cl_event_kind_from_name(const char *name);

/* Root metadata.  NULL strings are stored as "" (software_version: this
 * library's version).  Bytes that are not valid UTF-8 are stored as '?'. */
typedef struct cl_session_meta {
    const char *software_version;
    const char *practitioner;
    const char *subject;   /* pseudonymous id */
    const char *technique; /* dry, wet, fire, pump, ... */
    const char *site;      /* body site(s) */
    const char *notes;
    /* JSON documents of the calibration profiles used (cl_profile), copied
     * into /calibration/profiles so the file can be analysed years later. */
    const char *const *profiles;
    size_t nprofiles;
} cl_session_meta;

typedef struct cl_session_device {
    const char *port;       /* "/dev/ttyUSB0", "/dev/pts/3" */
    const char *protocol;   /* "text" | "binary" */
    int baud;
    uint16_t channels;      /* 1..32 */
    const char *time_units; /* units of device_time ("us", "ms", "" unknown) */
    const char *usb_manufacturer, *usb_product, *usb_serial, *description;
    int usb_vendor_id, usb_product_id; /* -1 if unknown */
    const char *announcement; /* device's "# key: value" lines, '\n'-joined */
} cl_session_device;

typedef struct cl_session_cup {
    const char *cup_id;        /* "C1" */
    uint16_t device;           /* index into the device list */
    uint16_t channel;          /* 0-based channel of that device */
    const char *cup_set, *size, *material, *site, *sensor_serial;
} cl_session_cup;

/* Acquisition counters, one set per device (docs/session-format.md says what
 * each counts: `frames` are stored as rows, `overruns` frames dropped). */
typedef struct cl_session_counters {
    uint64_t bytes, frames, malformed, checksum_errors, seq_gaps, lost_frames,
        skipped_bytes, reconnects, overruns;
} cl_session_counters;

/* How the device clock maps to the host clock (cl_clock):
 * host_s = offset_s + slope * (device time in seconds - ref_device_s).  NaN
 * until estimated. */
typedef struct cl_session_clock {
    double offset_s, slope, drift_ppm, offset_se_s, slope_se, residual_sd_s;
    double points;       /* number of points behind the estimate */
    double ref_device_s; /* device time (s) at which the line gives offset_s */
} cl_session_clock;

/* Copy `s` (NULL = "") into `dst` of `cap` bytes as texts are stored: valid
 * UTF-8, a byte that starts no valid sequence becomes '?', the copy ends on
 * a character boundary.  Returns the bytes written (without NUL). */
size_t cl_session_utf8_copy(char *dst, size_t cap, const char *s);

typedef struct cl_session_event {
    double t;          /* seconds since session start (host clock) */
    int32_t cup;       /* index into the cup table, -1 = none/all */
    cl_event_kind kind;
    const char *text;  /* truncated to CL_SESSION_EVENT_TEXT-1 bytes */
} cl_session_event;

typedef struct cl_session_options {
    bool force;            /* replace an existing file (default: refuse) */
    size_t chunk_rows;     /* rows per chunk; 0 = default (1024) */
    /* For files that must come out byte for byte the same from the same
     * input (example datasets): the session UUID ("xxxxxxxx-xxxx-xxxx-xxxx-
     * xxxxxxxxxxxx", hex digits) and the creation time ("YYYY-MM-DDThh:mm:ssZ")
     * to store instead of a random UUID and the current time; NULL = those.
     * CL_ERR_ARG if malformed.  (HDF5 object times are never stored, so
     * nothing else in the file depends on when it was written.) */
    const char *uuid;
    const char *created_utc;
    /* Sync behind (for recorders): cl_session_flush() returns once the data
     * is in the operating system (a killed process loses nothing flushed)
     * and the fdatasync runs in a thread (cl_syncer), so a slow disk does not
     * hold up the writing; a failed sync is reported by the next flush or
     * the close, which waits for the syncs.  Default: sync in the flush. */
    bool sync_behind;
} cl_session_options;

/* ------------------------------------------------------------------ writer */

typedef struct cl_session cl_session;

/* Create `path` with the complete schema and start SWMR writing.  Fails with
 * CL_ERR_EXISTS if the file exists and !opts->force (opts may be NULL), and
 * with CL_ERR_BUSY if forced onto a file a live writer is recording into. */
int cl_session_create(cl_session **out, const char *path, const cl_session_meta *meta,
                      const cl_session_device *devs, size_t ndev,
                      const cl_session_cup *cups, size_t ncups,
                      const cl_session_options *opts, cl_error *err);

/* Events a session still takes after it refused a write for lack of room:
 * room for them is kept free until then, so that the events ending the
 * session (the stop reason, ...) and its counters can still be written. */
#define CL_SESSION_FINAL_EVENTS 256

/* Append `nrows` rows to device `dev`.  `samples` is row-major
 * [nrows][channels]; `device_time`, `host_time`, `seq` have nrows entries.
 * Refused with CL_ERR_NOSPACE, before anything is written, when the rows
 * might no longer fit on the disk or under the file-size limit (a margin is
 * kept so that the session still closes cleanly): stop and close then.
 * After such a refusal (of rows or of an event) rows are refused for good,
 * while up to CL_SESSION_FINAL_EVENTS events and any counters and clock
 * updates are still taken. */
int cl_session_append(cl_session *s, size_t dev, size_t nrows, const double *samples,
                      const double *device_time, const double *host_time,
                      const uint32_t *seq, cl_error *err);

int cl_session_add_event(cl_session *s, const cl_session_event *ev, cl_error *err);

/* Overwrite the stored counters of device `dev`. */
int cl_session_set_counters(cl_session *s, size_t dev, const cl_session_counters *c,
                            cl_error *err);

/* Overwrite the stored clock estimate of device `dev`. */
int cl_session_set_clock(cl_session *s, size_t dev, const cl_session_clock *c, cl_error *err);

/* H5Fflush + fdatasync (behind, with sync_behind): everything appended so
 * far survives a crash of the process (and, once synced, of the machine).
 * If a write fails anyway (the disk filled up behind our back: CL_ERR_NOSPACE;
 * an I/O error), the session is failed: later appends, events, counters and
 * flushes return that code, and only closing is left.  The file stays valid
 * up to the last successful flush. */
int cl_session_flush(cl_session *s, cl_error *err);

/* Flush, close, reopen without SWMR, write status and ended_utc, close.
 * Frees `s` whatever the outcome.  `status` must be COMPLETE or INTERRUPTED
 * (otherwise CL_ERR_ARG, and the session is closed without one).  A failed
 * session is closed without flushing and still gets its final status; the
 * earlier failure is not reported again, only the close's own problems (a
 * disk still full where files cannot be sparse leaves the file unfinished:
 * CL_ERR_NOSPACE).  Readers in other processes may stay open; a reader of
 * the same file in this process must be closed first (HDF5 shares one
 * handle per file and process). */
int cl_session_close(cl_session *s, cl_session_status status, cl_error *err);

/* cl_session_close() storing `ended_utc` ("YYYY-MM-DDThh:mm:ssZ"; NULL =
 * the current time) as the end time, for reproducible files.  A malformed
 * time is CL_ERR_ARG and the session is closed without a final status. */
int cl_session_close_at(cl_session *s, cl_session_status status, const char *ended_utc,
                        cl_error *err);

/* Close without writing a final status (for tests of crash behaviour and for
 * error paths where the file can no longer be written).  Accepts NULL. */
void cl_session_abandon(cl_session *s);

/* ------------------------------------------------------------------ reader */

typedef struct cl_session_reader cl_session_reader;

/* Open a session for reading.  Works on complete files, on interrupted ones
 * (falls back to SWMR-read mode when the writer never closed the file) and on
 * files being written (live).  Validates format name and version:
 * CL_ERR_FORMAT for a foreign or damaged file, CL_ERR_VERSION for a newer
 * schema.  A file of which only some datasets are unreadable still opens:
 * see cl_session_damaged(). */
int cl_session_open(cl_session_reader **out, const char *path, cl_error *err);
void cl_session_reader_close(cl_session_reader *r); /* accepts NULL */

/* Root attribute `name` ("practitioner", "session_uuid", ...) as a string
 * (numbers printed); "" when absent.  Read once and cached: valid until the
 * reader is closed, not updated by cl_session_refresh(). */
const char *cl_session_attr(cl_session_reader *r, const char *name);
cl_session_status cl_session_reader_status(const cl_session_reader *r);
/* Whether a recorder still writes the file: it holds the writer lock while it
 * records (checked at open and at each cl_session_refresh()).  A file with
 * no final status and no live writer is an interrupted session whose
 * recorder died (killed, crashed, power lost): cl_session_recover() it. */
bool cl_session_writer_alive(const cl_session_reader *r);

size_t cl_session_device_count(const cl_session_reader *r);
/* Device description (strings valid until the reader is closed). */
const cl_session_device *cl_session_device_info(const cl_session_reader *r, size_t dev);
/* Rows of device `dev` readable consistently: the shortest length of its
 * samples, host_time, device_time and sequence datasets (of the readable
 * ones, see cl_session_unreadable; 0 if none is). */
size_t cl_session_rows(const cl_session_reader *r, size_t dev);

/* Objects of a device, as bits of cl_session_unreadable(). */
enum {
    CL_SESSION_SAMPLES = 1u << 0,
    CL_SESSION_DEVICE_TIME = 1u << 1,
    CL_SESSION_HOST_TIME = 1u << 2,
    CL_SESSION_SEQUENCE = 1u << 3,
    CL_SESSION_COUNTERS = 1u << 4,
};

/* A writer killed in the middle of writing a dataset's metadata (or damaged
 * storage) can leave that one dataset unreadable while the rest of the file
 * is fine.  The file is still opened: such a dataset is left out, reading it
 * fails with CL_ERR_FORMAT, and a device's rows are counted over its
 * readable series only.  cl_session_unreadable() gives the unreadable
 * objects of device `dev` (CL_SESSION_* bits; 0 when all can be read);
 * cl_session_damaged() counts the unreadable objects of the whole file
 * (including /events, which then reads as having no events), and
 * cl_session_damage() names them ("/devices/dev1/sequence, /events"; ""
 * when there is none; valid until the next refresh or the close).  A
 * program should warn when cl_session_damaged() is not 0.  While a live
 * writer holds the file, cl_session_refresh() tries them again. */
unsigned cl_session_unreadable(const cl_session_reader *r, size_t dev);
size_t cl_session_damaged(const cl_session_reader *r);
const char *cl_session_damage(const cl_session_reader *r);

int cl_session_counters_get(cl_session_reader *r, size_t dev, cl_session_counters *out,
                            cl_error *err);

/* Read rows [start, start+count) of one channel / of the time columns. */
int cl_session_read_channel(cl_session_reader *r, size_t dev, size_t channel, size_t start,
                            size_t count, double *out, cl_error *err);
int cl_session_read_host_time(cl_session_reader *r, size_t dev, size_t start, size_t count,
                              double *out, cl_error *err);
int cl_session_read_device_time(cl_session_reader *r, size_t dev, size_t start,
                                size_t count, double *out, cl_error *err);
int cl_session_read_seq(cl_session_reader *r, size_t dev, size_t start, size_t count,
                        uint32_t *out, cl_error *err);

/* Latest clock estimate of device `dev`; CL_ERR_NOTFOUND when there is none
 * (text device without timestamps, too short a recording). */
int cl_session_clock_get(cl_session_reader *r, size_t dev, cl_session_clock *out,
                         cl_error *err);

/* Calibration profiles stored in the file (JSON texts, valid until the
 * reader is closed). */
size_t cl_session_profile_count(const cl_session_reader *r);
const char *cl_session_profile(const cl_session_reader *r, size_t i);

size_t cl_session_cup_count(const cl_session_reader *r);
const cl_session_cup *cl_session_cup_info(const cl_session_reader *r, size_t cup);

size_t cl_session_event_count(const cl_session_reader *r);
/* Event `i`; text valid until the reader is closed. */
int cl_session_event_get(cl_session_reader *r, size_t i, cl_session_event *out,
                         cl_error *err);

/* Re-read lengths of a file being written (SWMR refresh); while the writer
 * still holds the file, also try the unreadable datasets again. */
int cl_session_refresh(cl_session_reader *r, cl_error *err);

/* ---------------------------------------------------------------- recovery */

/* Make an interrupted file (writer crashed while in SWMR mode) readable by
 * every HDF5 tool: clear the file-consistency flags, keeping the
 * end-of-allocation at least at the file's size (as `h5clear -s
 * --increment=0`; nothing is cut off, so no row is lost), and, when it has
 * no final status, mark the session "interrupted" with an empty ended_utc
 * and recovered_utc set.  The file is never written to: a copy is changed
 * and renamed over it once synced (cl_replace), so a crash during recovery
 * leaves the file as it was.  *recovered (may be NULL) tells whether there
 * was anything to do: a file with a final status and clear flags is left
 * untouched, CL_OK returned and *recovered false.  CL_ERR_BUSY while a
 * writer still records into it or another program is changing it;
 * CL_ERR_FORMAT / CL_ERR_VERSION (file untouched) for anything but a
 * readable cuplab session; CL_ERR_NOSPACE when there is no room for the
 * copy.  A dataset the crash left unreadable (cl_session_damaged) stays
 * unreadable; the rest of the file is recovered all the same. */
int cl_session_recover(const char *path, bool *recovered, cl_error *err);

/* ---------------------------------------------------------------- analysis */

/* One column of a result table stored with the session. */
typedef struct cl_session_column {
    const char *name;        /* dataset name: no '/', not empty */
    const char *unit;        /* "units" attribute; NULL or "" for none */
    const double *num;       /* nrows numbers (NaN = none), or NULL for strings */
    const char *const *str;  /* nrows UTF-8 strings (NULL = "") when num is NULL */
} cl_session_column;

/* Results written cup by cup (the calibrated series are large): begin,
 * add each cup's series, finish with the tables.  Nothing is in place
 * until cl_session_results_finish() succeeds; see
 * cl_session_write_analysis() for the checks and the file's safety. */
typedef struct cl_session_results cl_session_results;

/* One cup's calibrated series, stored as /analysis/series/<i> (i = 0, 1,
 * ... in the order given) with the attributes `cup` and `calibration`:
 * time_s (float64, "s" since the session start), vacuum (float64, "kPa",
 * sign "positive below ambient"; NaN for no value) and phase (uint8, with
 * the attribute `names`: the comma-separated name of each code). */
typedef struct cl_session_series {
    const char *cup_id, *calibration, *phase_names;
    size_t n;
    const double *t_s, *vacuum_kpa;
    const unsigned char *phase;
} cl_session_series;

int cl_session_results_begin(cl_session_results **out, const char *path, cl_error *err);
int cl_session_results_series(cl_session_results *w, const cl_session_series *s, cl_error *err);
/* Write the tables, close, sync and put the new file in place; frees `w`
 * whatever the outcome. */
int cl_session_results_finish(cl_session_results *w, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err);
/* Drop the results (the file stays as it was); accepts NULL. */
void cl_session_results_abort(cl_session_results *w);

/* Store analysis results with a finished session (cuplab-analyze --write).
 * The recording is never written to: the file is copied, the copy's group
 * /analysis replaced (nothing else), and the copy synced and renamed over
 * the file (cl_replace), so that a crash at any moment leaves either the
 * old file or the new one, both complete.  The copy holds the group:
 *   /analysis               attrs: software_version, created_utc
 *   /analysis/results       scalar UTF-8 string: `json_results`
 *   /analysis/cups/<name>   float64 [nrows] with "units", or UTF-8 strings
 *   /analysis/series/<i>    each cup's calibrated series (cl_session_series)
 * CL_ERR_BUSY while a writer records into the file or when it has no final
 * status (being recorded, or crashed: cl_session_recover() it first);
 * CL_ERR_FORMAT / CL_ERR_VERSION (file untouched) for anything but a
 * readable cuplab session; CL_ERR_ARG for a bad column; CL_ERR_NOSPACE when
 * there is no room for the copy. */
int cl_session_write_analysis(const char *path, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err);

#endif
