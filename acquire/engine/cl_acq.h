/*
 * cl_acq: the acquisition engine behind cuplab-acquire.
 *
 *   ports --poll--> decoders --> bounded ring --> writer thread --> session
 *
 * One reader (the calling thread) polls every port, decodes, stamps each
 * frame with the host clock (seconds since the run started) and pushes it
 * into the ring; it never touches the disk.  The writer thread batches rows
 * into the session file and flushes it every flush interval, on time even
 * when it is behind (a due flush takes in what has arrived by then), with the
 * sync to disk in the background (cl_syncer), so a kill loses at most a flush
 * interval plus one read batch.  A full ring drops frames, counts them and
 * records them in overrun events.
 *
 * Before the file exists every device must announce itself: the engine reads
 * until each port has delivered one valid frame (its channel count fixes the
 * dataset shape), keeping those frames and "#" metadata, then creates the
 * session with the complete schema and starts recording.
 */
#ifndef CL_ACQ_H
#define CL_ACQ_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"
#include "cl_session_write.h"
#include "cl_wire.h"

typedef struct cl_acq_port {
    const char *name;        /* device path, or a selector (cl_portfind.h) */
    int baud;                /* e.g. 115200 */
    cl_wire_protocol protocol;
    bool text_timestamp;     /* text: first unlabelled column is a timestamp */
} cl_acq_port;

typedef struct cl_acq_config {
    const char *path;        /* session file to create */
    bool force;              /* replace an existing file */
    cl_session_meta meta;
    const cl_acq_port *ports;
    size_t nports;
    const cl_session_cup *cups; /* NULL: one cup per channel, C1, C2, ... */
    size_t ncups;
    double duration_s;       /* 0: until stopped */
    double flush_interval_s; /* 0: 0.5 s */
    double probe_timeout_s;  /* 0: 10 s to wait for each device's first frame
                                (and for a device= port's device to say who it is) */
    const char *const *search; /* glob patterns of more ports to look at for device= */
    size_t nsearch;
    bool reconnect;          /* reopen vanished ports; false: stop when all are gone */
    size_t ring_records;     /* 0: default (131072 frames) */
    const char *raw_path;    /* keep every port's byte stream here (cl_capture); NULL: no */
    const char *replay_path; /* decode this capture instead of reading ports (`ports`
                                and `nports` are then ignored); NULL: live */
    const struct cl_acq_live *live; /* live view hook (below); NULL: none */
} cl_acq_config;

/* Per-device figures, for the live status and the final report. */
typedef struct cl_acq_device_status {
    const char *port;
    uint16_t channels;
    bool connected;
    double rate_hz;          /* frames per second over the last status period */
    cl_session_counters counters;
    double last[CL_WIRE_MAX_CHANNELS]; /* last raw sample per channel */
    double last_frame_s;     /* host time of the last frame (s since start); -1: none */
    int adc_bits;            /* resolution of its counts as it announced it; 0 unknown */
} cl_acq_device_status;

/* A cup of the session's cup table, as the live status shows it. */
typedef struct cl_acq_cup {
    const char *cup_id;
    uint16_t device, channel;
    const char *sensor_serial; /* "" if unknown */
} cl_acq_cup;

typedef struct cl_acq_status {
    double elapsed_s;
    size_t ndevices;
    const cl_acq_device_status *devices;
    uint64_t rows_written;   /* frames in the file (all devices) */
    size_t ring_used, ring_capacity;
    const cl_acq_cup *cups;  /* the cup table (latest raw value: devices[device].last[channel]) */
    size_t ncups;
} cl_acq_status;

/* Called from the reader thread about once a second while recording. */
typedef void (*cl_acq_status_fn)(void *ctx, const cl_acq_status *st);

/* A live view beside the recording (e.g. cl_dash).  Every function is
 * called from the reader thread and must return at once, never wait.
 * `publish` gets the status (rate_hz 0) every `period_s` while recording;
 * `next_marker` hands over a waiting marker command line (true) that then
 * goes the way of a typed one, with `feedback` told about it; `event` (may
 * be NULL) is told every event as it is handed to the writer. */
typedef struct cl_acq_live {
    void (*publish)(void *ctx, const cl_acq_status *st);
    void (*event)(void *ctx, const cl_session_event *ev);
    bool (*next_marker)(void *ctx, char *line, size_t cap);
    void (*feedback)(void *ctx, const char *line, bool accepted, const char *why);
    void *ctx;
    double period_s;
} cl_acq_live;

/* Why the recording ended. */
typedef enum cl_acq_stop {
    CL_ACQ_STOP_SIGNAL = 1,   /* *stop became non-zero */
    CL_ACQ_STOP_DURATION = 2, /* duration_s elapsed */
    CL_ACQ_STOP_ALL_GONE = 3, /* every device vanished and reconnect is off */
    CL_ACQ_STOP_ERROR = 4,    /* write error (disk full, ...): see err */
    CL_ACQ_STOP_END = 5,      /* the replayed capture ended */
} cl_acq_stop;

typedef struct cl_acq_report {
    bool file_created;
    cl_acq_stop reason;
    double elapsed_s;
    uint64_t rows_written;
    uint64_t overruns;       /* frames dropped because the ring was full (all devices);
                                the session's overrun events add up to it */
} cl_acq_report;

/* Optional marker input (see cl_marker.h), polled with the ports while
 * recording: each complete line becomes an event stamped with the host
 * clock of its read, or a rejection; lines already waiting when the
 * recording stops are read before the file is closed. */
typedef struct cl_acq_input {
    int fd; /* -1: none */
    /* Told about each line: rejected (accepted false, `why` says why) or
     * accepted (`why` NULL, or a warning such as a comment cut to fit).
     * May be NULL. */
    void (*feedback)(void *ctx, const char *line, bool accepted, const char *why);
    void *ctx;
} cl_acq_input;

/* Record until *stop becomes non-zero, the duration elapses, every device is
 * gone (without reconnect) or writing fails.  On success and on a stop the
 * file is closed with status "complete"; after an error (a write error such
 * as a full disk included) it is closed with status "interrupted", a stop
 * event saying why and counters matching the rows stored, and the error is
 * returned.  A session whose writes failed outright (the disk filled up
 * behind the recorder's check) keeps the rows up to its last flush and gets
 * its status but no stop event.  `status_fn`, `input` may be NULL. */
int cl_acq_run(const cl_acq_config *cfg, volatile sig_atomic_t *stop,
               cl_acq_status_fn status_fn, void *status_ctx, const cl_acq_input *input,
               cl_acq_report *report, cl_error *err);

#endif
