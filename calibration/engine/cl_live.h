/*
 * cl_live: reading one sensor channel live for a calibration, through the
 * same transport (cl_port) and decoders (cl_wire) as the recorder.  The
 * caller polls cl_live_fd() (together with whatever else it waits for, such
 * as the operator's keyboard) and calls cl_live_pump(); samples of the
 * chosen channel collect in a window, and a reading is taken once the last
 * N samples are stable: their standard deviation is at most a threshold.
 */
#ifndef CL_LIVE_H
#define CL_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_ident.h"
#include "cl_wire.h"

typedef struct cl_live cl_live;

typedef struct cl_live_options {
    const char *port; /* serial port or pty path */
    int baud;         /* e.g. 115200 */
    cl_wire_protocol protocol;
    bool text_timestamp; /* text: the first unlabelled column is a timestamp */
    unsigned channel;    /* 0-based channel of the sensor */
    size_t max_samples;  /* largest N a reading will average (window size) */
} cl_live_options;

/* A stable reading: mean and SD of the last n samples, and the device time
 * of the first and last of them (device units; NaN if the device sends
 * none). */
typedef struct cl_live_reading {
    double mean, sd;
    size_t n;
    double t_first, t_last;
} cl_live_reading;

/* Open the port.  Errors of cl_port_open (naming the port), CL_ERR_ARG for
 * bad options. */
int cl_live_open(cl_live **out, const cl_live_options *o, cl_error *err);
void cl_live_close(cl_live *l); /* accepts NULL */
int cl_live_fd(const cl_live *l);

/* Read and decode what is waiting, without blocking.  CL_ERR_GONE when the
 * device disappeared; CL_ERR_ARG once a frame shows the channel does not
 * exist (the message names port, channel and channel count). */
int cl_live_pump(cl_live *l, cl_error *err);

/* Forget the samples collected so far (a new setpoint). */
void cl_live_reset(cl_live *l);

/* Mean and SD of the last n samples if there are n and their SD is at most
 * sd_max (true), else false.  n must not exceed max_samples. */
bool cl_live_stable(const cl_live *l, size_t n, double sd_max, cl_live_reading *r);

/* Reset, then read until the last n samples are stable or timeout_s seconds
 * pass (CL_ERR_RANGE "did not settle", with the SD reached). */
int cl_live_measure(cl_live *l, size_t n, double sd_max, double timeout_s, cl_live_reading *r,
                    cl_error *err);

/* What the device has said about itself so far (cl_ident). */
const cl_ident *cl_live_ident(const cl_live *l);

/* Samples of the channel received since the last reset, and decoder counters. */
size_t cl_live_count(const cl_live *l);
const cl_wire_stats *cl_live_stats(const cl_live *l);

#endif
