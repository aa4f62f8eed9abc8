/*
 * cl_schema: the layout of the session file as its writer
 * (cl_session_write), reader (cl_session_read), recovery
 * (cl_session_recover) and write-back (cl_session_results) share it: the
 * row series of a device, the in-memory records of /events and /cups and
 * the HDF5 types of the compounds, the fixed-length final attributes and
 * the time format.  Not an API of the format: cl_session.h describes the
 * layout, docs/session-format.md specifies it.
 */
#ifndef CL_SCHEMA_H
#define CL_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "cl_h5.h"
#include "cl_session.h"

#define CL_SCHEMA_MAX_CHANNELS 32 /* channels of a device, 1..this */
#define CL_SCHEMA_STATUS_BYTES 16 /* fixed-length root attribute status */
#define CL_SCHEMA_UTC_BYTES 32    /* ... ended_utc and recovered_utc, and every time text */

/* The four row-aligned datasets of a device (/devices/devN/<name>), in the
 * order they are written. */
enum {
    CL_SCHEMA_SAMPLES,
    CL_SCHEMA_DEVICE_TIME,
    CL_SCHEMA_HOST_TIME,
    CL_SCHEMA_SEQUENCE,
    CL_SCHEMA_NSERIES
};
extern const char *const cl_schema_series_name[CL_SCHEMA_NSERIES];

/* One row of /events in memory (also the layout of the file type). */
typedef struct cl_schema_event_rec {
    double t;
    int32_t cup;
    int32_t kind;
    char text[CL_SESSION_EVENT_TEXT];
} cl_schema_event_rec;

/* One row of /cups in memory; strings are HDF5 variable-length. */
typedef struct cl_schema_cup_rec {
    char *cup_id;
    uint16_t device, channel;
    char *cup_set, *size, *material, *site, *sensor_serial;
} cl_schema_cup_rec;

/* HDF5 types of the compounds: with `file`, the type stored in the file
 * (packed, little-endian), otherwise the memory type of the record
 * (cl_schema_event_rec, cl_session_counters, cl_session_clock,
 * cl_schema_cup_rec).  H5I_INVALID_HID on failure. */
hid_t cl_schema_event_type(int file);
hid_t cl_schema_counters_type(int file);
hid_t cl_schema_clock_type(int file);
hid_t cl_schema_cup_type(int file);

/* The current time as stored ("YYYY-MM-DDThh:mm:ssZ"; "" if unknown), and
 * whether `t` is such a time with plausible fields. */
void cl_schema_utc_now(char buf[CL_SCHEMA_UTC_BYTES]);
bool cl_schema_valid_utc(const char *t);

/* Reopen a closed session file without SWMR and write the root attributes
 * status and ended_utc (unless status is NULL) and recovered_utc (unless
 * NULL), then sync it.  `fapl` says how to open; `grow_eoa` first sets the
 * end-of-allocation to max(EOA, file size) so that closing cannot truncate
 * anything.  The attributes exist already (created empty with the file) and
 * are overwritten in place. */
int cl_schema_write_final(const char *path, hid_t fapl, bool grow_eoa, const char *status,
                          const char *ended_utc, const char *recovered_utc, cl_error *err);

#endif
