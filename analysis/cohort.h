/* analysis/cohort: cuplab-analyze --group-by, the comparison of many
 * sessions (cohort/cl_cohort does the work; this is the program around it:
 * which files, worker processes, progress, output, figures). */
#ifndef ANALYSIS_COHORT_H
#define ANALYSIS_COHORT_H

#include "options.h"

/* Compare the sessions named by o->files (files, folders searched for *.h5,
 * or glob patterns) grouped by o->group_by.  Messages are printed; returns
 * the exit code (AN_EXIT_*). */
int an_cohort_run(const an_options *o);

#endif
