/* analysis/run: what cuplab-analyze does with each file (analysis, figures,
 * write-back) and the live view. */
#ifndef ANALYSIS_RUN_H
#define ANALYSIS_RUN_H

#include "output/cl_report.h"
#include "options.h"
#include "cl_cupset.h"
#include "cl_sensor.h"

/* Profiles and cup sets named on the command line, loaded once. */
typedef struct an_inputs {
    cl_sensor_profile *profiles[2 * AN_MAX_PROFILES]; /* --profile, then --sensor files */
    const char *sources[2 * AN_MAX_PROFILES];         /* their file names */
    cl_cupset *cupsets[AN_MAX_PROFILES];
    size_t nprofiles, ncupsets;
    char *sensor_cups[AN_MAX_PROFILES];               /* --sensor CUP=... */
    const char *sensor_serials[AN_MAX_PROFILES];
    size_t nsensors;
} an_inputs;

/* Load the files of o->profile_files / o->cupset_files and point o->an at
 * them.  Errors are printed; returns an exit code or -1 to go on. */
int an_inputs_load(an_options *o, an_inputs *in);
void an_inputs_free(an_inputs *in);

/* --report FILE checked before any work (the cl_output rules, a .pdf
 * name); the refusal printed.  Returns an exit code or -1 to go on. */
int an_report_check(const an_options *o);

/* Analyse `path` into `rep` (one session), drawing the figures asked for,
 * storing the results in the file with --write (refused before the work
 * when they cannot be) and adding the session to the export `x` (NULL for
 * none).  Returns CL_OK
 * or an error (printed by the caller from err). */
int an_run_file(const an_options *o, const char *path, cl_report *rep, an_export *x,
                cl_error *err);


/* --follow: refresh the table until the recording ends or SIGINT. */
int an_follow(const an_options *o, const char *path);

#endif
