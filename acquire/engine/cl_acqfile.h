/*
 * cl_acqfile: the session file of a recording, made once every device has
 * announced itself.  Its device table comes from what each device said
 * ("key: value" lines) and what its port told (cl_port_info); its cup table
 * is the configured one, checked against the devices' channel counts, or
 * one cup per channel (C1, C2, ... with the serials the devices announced).
 */
#ifndef CL_ACQFILE_H
#define CL_ACQFILE_H

#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_port.h"
#include "cl_session.h"
#include "cl_wire.h"
#include "engine/cl_acq.h"

/* What the session records of one device. */
typedef struct cl_acqfile_device {
    const cl_acq_port *port;
    uint16_t channels;        /* from its first frame */
    const char *announcement; /* "key: value" lines, "\n" between; NULL: none */
    const cl_port_info *info;
} cl_acqfile_device;

/* The cup table of the session made, for marker commands and the live
 * status (strings owned by it). */
typedef struct cl_acqfile_cups {
    char **ids;
    cl_acq_cup *cups;
    size_t n;
} cl_acqfile_cups;

/* Create cfg->path with the complete schema, rows chunked by `chunk_rows`.
 * `cups` gets the cup table even when the creation fails (release it with
 * cl_acqfile_cups_free either way). */
int cl_acqfile_create(cl_session **out, const cl_acq_config *cfg, const cl_acqfile_device *devs,
                     size_t ndev, size_t chunk_rows, cl_acqfile_cups *cups, cl_error *err);
void cl_acqfile_cups_free(cl_acqfile_cups *cups); /* accepts an empty table */

/* The device's time unit: "us" for binary devices, else what it announced
 * as "time_units" ("" if nothing).  Valid until the next call in the thread. */
const char *cl_acqfile_time_units(const cl_acq_port *port, const char *announcement);

#endif
