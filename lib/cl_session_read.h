/*
 * cl_session_read: reading a session file: complete, interrupted, or being
 * recorded (cl_session.h describes the file).
 */
#ifndef CL_SESSION_READ_H
#define CL_SESSION_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_session.h"

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
/* The target the recording aimed at (root attributes target_*): false
 * when the file has none. */
bool cl_session_target(cl_session_reader *r, cl_target *out);
cl_session_status cl_session_reader_status(const cl_session_reader *r);
/* Whether a recorder still writes the file: it holds the writer lock while it
 * records (checked at open and at each cl_session_refresh()).  A file with
 * no final status and no live writer is an interrupted session whose
 * recorder died (killed, crashed, power lost): cl_session_recover() it. */
bool cl_session_writer_alive(const cl_session_reader *r);
/* Whether the file is still flagged as open by a writer (a live recorder,
 * or one that died in SWMR mode): other HDF5 programs refuse such a file
 * until the recorder closes it or cl_session_recover() clears the flags. */
bool cl_session_flagged(const cl_session_reader *r);

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
int cl_session_read_device_time(cl_session_reader *r, size_t dev, size_t start, size_t count,
                                double *out, cl_error *err);
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
int cl_session_event_get(cl_session_reader *r, size_t i, cl_session_event *out, cl_error *err);

/* Re-read lengths of a file being written (SWMR refresh); while the writer
 * still holds the file, also try the unreadable datasets again. */
int cl_session_refresh(cl_session_reader *r, cl_error *err);

#endif
