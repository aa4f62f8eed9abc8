/* acquire/status: what cuplab-acquire tells the person at the terminal
 * while it records.
 *
 * On a terminal a block redrawn in place about once a second: a line with
 * the elapsed time, rows and file size, a line per device (port, frame
 * rate or how long it has been gone, errors by kind), then the cups, as
 * many to a line as fit the terminal's width (at most ACQ_STATUS_WIDTH
 * columns; 4 cups of ACQ_STATUS_CELL columns to an 80-column line, so 12
 * cups take 3 lines).  A cup whose sensor has a profile shows its vacuum
 * (positive below ambient, as every analysis output) in mmHg, one without
 * a profile its raw reading in counts; "SAT" instead of the unit when the
 * reading is at an end of the ADC's range (cl_ident_saturated).  Not on a terminal the same as one
 * log line every ACQ_STATUS_LOG_S seconds, with -v -v only.
 *
 * The block keeps the bottom rows of the terminal (the rows above scroll as
 * before, so typed markers and messages never run into it) and is left
 * where it is when the recording ends.  A terminal too small for it gets
 * the status as log lines instead.
 */
#ifndef ACQUIRE_STATUS_H
#define ACQUIRE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cl_sensor.h"
#include "engine/cl_acq.h"

#define ACQ_STATUS_WIDTH 80
#define ACQ_STATUS_CELL 19 /* "C1     123.4 mmHg " without the separator */
#define ACQ_STATUS_LOG_S 10
#define ACQ_STATUS_MIN_ROWS 4 /* rows left above the block, else log lines */

typedef struct acq_status {
    FILE *to;
    bool tty;
    int verbosity;
    const char *path; /* the session file, for its size */
    const cl_sensor_profile *const *sensors;
    size_t nsensors;
    int lines, rows; /* rows of the block at the bottom now (0: none), of the terminal */
} acq_status;

/* Fill s: output to `to` (a terminal when `tty`), at `verbosity`, for the
 * session at `path`, with the sensor profiles (which must outlive s). */
void acq_status_init(acq_status *s, FILE *to, bool tty, int verbosity, const char *path,
                     const cl_sensor_profile *const *sensors, size_t nsensors);

/* A cl_acq_status_fn (ctx: the acq_status). */
void acq_status_show(void *ctx, const cl_acq_status *st);

/* The rows below the block scroll again; the cursor goes below it. */
void acq_status_end(acq_status *s);

/* The status as text: lines separated by '\n' (no final one), each at most
 * `width` columns; width 0: everything on one line.  file_mb < 0: size
 * unknown.  Returns the number of lines. */
int acq_status_render(char *buf, size_t cap, const cl_acq_status *st,
                      const cl_sensor_profile *const *sensors, size_t nsensors, double file_mb,
                      int width);

#endif
