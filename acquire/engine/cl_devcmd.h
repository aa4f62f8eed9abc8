/*
 * cl_devcmd: talking to a device, not recording it.  Opens one port, waits
 * for the device to run (its first valid frame), sends host commands
 * (docs/firmware.md, "Commands": one line each, answered by "ok: COMMAND"
 * or "error: REASON" metadata) and collects every identity pair the device
 * sends meanwhile (docs/wire-protocols.md, "Device identity").  Used by
 * `cuplab-acquire --identify` and `--configure`.
 */
#ifndef CL_DEVCMD_H
#define CL_DEVCMD_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_wire.h"
#include "engine/cl_acq.h"

#define CL_DEVCMD_PAIRS 64     /* identity pairs kept */
#define CL_DEVCMD_ANSWER_S 2.0 /* how long a command's answer may take */

typedef struct cl_devcmd_pair {
    char key[CL_WIRE_META_KEY_MAX + 1];
    char value[CL_WIRE_META_MAX + 1];
} cl_devcmd_pair;

typedef struct cl_devcmd cl_devcmd;

/* Open `port` and wait up to `probe_timeout_s` for its first valid frame
 * (a device that only resets when the port opens needs the time to boot).
 * CL_ERR_NOTFOUND/PERM/BUSY/PORT from opening; CL_ERR_IO when nothing valid
 * arrives in time. */
int cl_devcmd_open(cl_devcmd **out, const cl_acq_port *port, double probe_timeout_s,
                   cl_error *err);
void cl_devcmd_close(cl_devcmd *d); /* accepts NULL */

/* Send `command` and wait up to CL_DEVCMD_ANSWER_S for its answer.  CL_OK
 * on "ok: COMMAND"; CL_ERR_ARG with the device's reason on "error: ...";
 * CL_ERR_NOTFOUND when no answer comes (a device without commands, such as
 * a protocol-1 device); CL_ERR_GONE/CL_ERR_IO when the port fails. */
int cl_devcmd_send(cl_devcmd *d, const char *command, cl_error *err);

/* Send "id": on its answer the pairs become the identity it sent; without
 * one (the codes of cl_devcmd_send) they stay what the device announced. */
int cl_devcmd_identify(cl_devcmd *d, cl_error *err);

/* The identity pairs received so far, each key once with its latest value,
 * in the order the keys first came ("ok"/"error" answers are not pairs). */
const cl_devcmd_pair *cl_devcmd_pairs(const cl_devcmd *d, size_t *n);

#endif
