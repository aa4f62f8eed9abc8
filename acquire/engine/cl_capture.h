/*
 * cl_capture: the raw byte stream of every port, kept beside a session
 * (cuplab-acquire --raw FILE) so that a recording can be decoded again
 * (cuplab-acquire --replay FILE) if a decoder ever mishandled it.
 *
 * File layout (all integers little-endian):
 *   "cuplab-capture 1\n"
 *   one line per port: "port BAUD PROTOCOL TEXT_TIMESTAMP NAME\n"
 *     (BAUD decimal, PROTOCOL "text"|"binary", TEXT_TIMESTAMP 0|1, NAME to
 *     the end of the line)
 *   "data\n"
 *   records: u16 port index, u16 length n (1..65535), f64 host time
 *     (seconds since the recording started), n bytes as read from the port;
 *     port index 0xFFFF holds a marker command typed during the recording
 * A capture cut short by a crash is readable up to its last whole record.
 */
#ifndef CL_CAPTURE_H
#define CL_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_wire.h"

#define CL_CAPTURE_MAX_PORTS 64
#define CL_CAPTURE_MARKER 0xFFFF /* port index of typed marker lines */

typedef struct cl_capture_port {
    char name[256];
    int baud;
    cl_wire_protocol protocol;
    bool text_timestamp;
} cl_capture_port;

/* ------------------------------------------------------------------ writer */

typedef struct cl_capture cl_capture;

/* Create `path` (refused if it exists unless `force`) and write the header. */
int cl_capture_create(cl_capture **out, const char *path, const cl_capture_port *ports,
                      size_t nports, bool force, cl_error *err);
int cl_capture_write(cl_capture *c, uint16_t port, double host_s, const void *bytes,
                     size_t len, cl_error *err);
/* Push buffered records to the file (fflush + fsync). */
int cl_capture_flush(cl_capture *c, cl_error *err);
int cl_capture_close(cl_capture *c, cl_error *err); /* accepts NULL */

/* ------------------------------------------------------------------ reader */

typedef struct cl_capture_reader cl_capture_reader;

int cl_capture_open(cl_capture_reader **out, const char *path, cl_error *err);
void cl_capture_reader_close(cl_capture_reader *r); /* accepts NULL */
size_t cl_capture_port_count(const cl_capture_reader *r);
const cl_capture_port *cl_capture_port_get(const cl_capture_reader *r, size_t i);

/* Next record: 1 with *port, *host_s, *bytes (valid until the next call) and
 * *len set; 0 at the end (a truncated last record also ends the capture);
 * negative on a read error or a corrupt record. */
int cl_capture_next(cl_capture_reader *r, uint16_t *port, double *host_s,
                    const uint8_t **bytes, size_t *len, cl_error *err);

#endif
