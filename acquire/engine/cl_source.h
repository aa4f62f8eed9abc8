/*
 * cl_source: where the acquisition engine's bytes come from, behind one
 * table of operations per kind of source (in libsigrok's driver shape):
 *
 *   ports   the serial ports of cl_acq_config.ports, polled together; a
 *           port's name may also select it by who is on it (cl_portfind);
 *           a vanished port is reported and, with `reconnect`, reopened
 *           (where its selector finds it now);
 *           light traffic is read in batches (see cl_source.c);
 *   replay  a raw capture (cl_capture) made by an earlier --raw run, its
 *           records handed on with the host times they were read at.
 *
 * A source reports what it read to a sink (bytes of a device, a marker line,
 * a device gone or back) with the host time of the read, in seconds since
 * host time zero (cl_source_start()).  The engine decodes and records; it never asks which
 * kind of source it has, only what the source says of itself.
 */
#ifndef CL_SOURCE_H
#define CL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_port.h"
#include "engine/cl_acq.h"

typedef struct cl_source cl_source;

/* What a source tells the engine, each with the host time of the read. */
typedef struct cl_source_sink {
    void (*bytes)(void *ctx, size_t dev, const uint8_t *buf, size_t n, double now);
    void (*marker)(void *ctx, const char *line, double now); /* a captured typed marker */
    void (*gone)(void *ctx, size_t dev, double now);         /* the port is closed */
    void (*back)(void *ctx, size_t dev, double now);         /* reopened */
    void *ctx;
} cl_source_sink;

typedef enum cl_source_state {
    CL_SOURCE_MORE = 0,     /* read on */
    CL_SOURCE_END = 1,      /* the source has nothing more (the capture ended) */
    CL_SOURCE_ALL_GONE = 2, /* every port is gone and reconnecting is off */
} cl_source_state;

/* The source cfg asks for: cfg->replay_path's capture, else cfg->ports
 * (opened here; a port that cannot be opened is an error).  Between 1 and
 * CL_SOURCE_MAX_DEVICES devices, each name once. */
#define CL_SOURCE_MAX_DEVICES 63
#define CL_SOURCE_PROBE_S 10.0 /* default wait for a device's first frame */
int cl_source_open(cl_source **out, const cl_acq_config *cfg, cl_error *err);
void cl_source_close(cl_source *s);

size_t cl_source_count(const cl_source *s);
/* Device i's name (as given: a path or a selector), baud and protocol (for a
 * replay: as captured). */
const cl_acq_port *cl_source_port(const cl_source *s, size_t i);
/* What is known of device i's port (for a replay: its name and the
 * capture); `name` is the path it was last opened at. */
const cl_port_info *cl_source_info(const cl_source *s, size_t i);
bool cl_source_connected(const cl_source *s, size_t i);
/* false for a replay: nothing is lost by waiting, so the engine may wait for
 * room instead of dropping frames. */
bool cl_source_realtime(const cl_source *s);
/* "capture" or "ports", for messages. */
const char *cl_source_what(const cl_source *s);
/* The text of the recording's start event. */
const char *cl_source_start_text(const cl_source *s);

/* Host time zero is now (for ports: when cl_source_open opened them, so
 * what device= ports said while they were found keeps its times). */
void cl_source_start(cl_source *s);
/* Host time of the latest read, seconds since cl_source_start(). */
double cl_source_now(const cl_source *s);

/* One round: wait at most timeout_ms for data (also returning early when
 * wake_fd, if >= 0, becomes readable), hand what arrived to the sink and set
 * *state.  Returns CL_OK or an error (poll failed, damaged capture). */
int cl_source_read(cl_source *s, int wake_fd, int timeout_ms, const cl_source_sink *sink,
                   cl_source_state *state, cl_error *err);

#endif
