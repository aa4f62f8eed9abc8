/*
 * cl_session: the cuplab session file (HDF5, schema version 1): the types
 * its writer and reader share.  docs/session-format.md is its
 * specification; the modules that know the layout are cl_session_write
 * (recording), cl_session_read (reading, also while recording),
 * cl_session_recover (finishing a file whose recorder died) and
 * cl_session_results (analysis results stored with a finished session),
 * on top of cl_schema (what they share of the layout).
 *
 * Writing follows HDF5's single-writer/multiple-reader (SWMR) rules: every
 * group, dataset and attribute is created in cl_session_create(), then SWMR
 * starts and the writer only appends rows and overwrites counters.
 * cl_session_flush() makes everything appended so far durable (H5Fflush +
 * fsync); a crash loses at most what came after the last flush.  The final
 * status and end time are written by cl_session_close(), after reopening the
 * file without SWMR; a file without a final status is an interrupted
 * session.  While a writer has the file, it holds a lock (cl_session_lock)
 * that cl_session_recover() and a forced cl_session_create() respect.
 *
 * Layout (all strings UTF-8):
 *   /                       attrs: format="cuplab-session", format_version=1,
 *                           software_version, created_utc, session_uuid,
 *                           practitioner, subject, technique, site, notes;
 *                           status ("" until closed, then "complete" |
 *                           "interrupted"), ended_utc, recovered_utc (these
 *                           three fixed-length, so closing overwrites them
 *                           in place)
 *   /devices/devN           attrs: port, port_path, protocol, baud, channels,
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
 *                           cl_session_write_analysis in cl_session_results.h)
 */
#ifndef CL_SESSION_H
#define CL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_target.h"

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
    const cl_target *target; /* the vacuum aimed at; NULL: none given */
    /* JSON documents of the calibration profiles used (cl_profile), copied
     * into /calibration/profiles so the file can be analysed years later. */
    const char *const *profiles;
    size_t nprofiles;
} cl_session_meta;

typedef struct cl_session_device {
    const char *port;       /* as given: "/dev/ttyUSB0", or a selector "device=rig-2" */
    const char *port_path;  /* the path it was opened at first; NULL: `port` */
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

#endif
