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

/* Close the file if it is still open (unwritten). */
void sim_truth_close(sim_truth *t);

#endif
