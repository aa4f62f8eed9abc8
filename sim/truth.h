/* sim/truth: the --truth file of cuplab-sim, a JSON record of the session
 * (settings, cup and sensor parameters) and of what was actually sent. */
#ifndef SIM_TRUTH_H
#define SIM_TRUTH_H

#include <stdio.h>

#include "stream.h"

typedef struct sim_truth {
    const char *path; /* --truth FILE, or NULL */
    FILE *f;
} sim_truth;

/* Create the file at the start, so that a bad path fails early.  Without
 * --truth (path NULL) nothing is done.  Returns 0, or -1 (logged). */
int sim_truth_open(sim_truth *t, const char *path);

/* Write the record of stream st, which ended with `status`, and close the
 * file.  Returns 0, or -1 (logged). */
int sim_truth_write(sim_truth *t, const sim_stream *st, const char *status);

/* What a session file (--output) got that the options do not say. */
typedef struct sim_truth_file {
    const char *uuid, *created_utc, *ended_utc;
} sim_truth_file;

/* Write the record of a session written to a file (--output) and close the
 * file: the settings, the style and the cups, the session's UUID and times.
 * Returns 0, or -1 (logged). */
int sim_truth_write_file(sim_truth *t, const sim_options *o, const sim_session *ses,
                         const sim_truth_file *f);

/* Close the file if it is still open (unwritten). */
void sim_truth_close(sim_truth *t);

#endif
