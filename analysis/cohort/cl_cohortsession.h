/*
 * cl_cohortsession: one session file reduced to what a cohort comparison
 * keeps of it (docs/cohort.md, "Many sessions").
 *
 * cl_cohortsession_read() analyses the file with the ordinary pipeline
 * (cl_analysis) and keeps the session's metadata and, per cup, its metadata,
 * the per-cup metrics (the same values cl_analysis_stats() summarises) and
 * its vacuum curve normalised in time from the onset of the application
 * (u = 0) to the start of the release (u = 1): CL_COHORTSESSION_POINTS
 * points, each the mean of the samples nearest to it.  Nothing else of the
 * recording is kept, so a cohort of thousands of sessions fits in memory.
 * The compact form crosses a pipe (cl_cohortsession_pack / _unpack) so
 * that worker processes can do the reading.
 *
 * Every pressure is vacuum in kPa, positive below ambient.
 */
#ifndef CL_COHORTSESSION_H
#define CL_COHORTSESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/cl_analysis.h"
#include "cl_error.h"

/* Points of a normalised curve: u = i / (CL_COHORTSESSION_POINTS - 1). */
#define CL_COHORTSESSION_POINTS 101
#define CL_COHORTSESSION_STR CL_ANALYSIS_STR

typedef struct cl_cohortsession_cup {
    char cup_id[CL_COHORTSESSION_STR], site[CL_COHORTSESSION_STR],
        material[CL_COHORTSESSION_STR], size[CL_COHORTSESSION_STR],
        cup_set[CL_COHORTSESSION_STR];
    unsigned flags; /* CL_FLAG_* of the analysis */
    int cal;        /* cl_cal_kind */
    bool applied;
    double value[CL_STAT_COUNT];           /* the cup's metrics (NaN when not available),
                                              units as cl_stat_metric says */
    double span_s;                         /* onset to release start; NaN without a curve */
    double curve[CL_COHORTSESSION_POINTS]; /* vacuum, kPa; NaN without a curve (not
                                              applied, not released, no pressures) */
} cl_cohortsession_cup;

typedef struct cl_cohortsession {
    char uuid[64], status[16];
    char practitioner[CL_COHORTSESSION_STR], subject[CL_COHORTSESSION_STR],
        technique[CL_COHORTSESSION_STR], site[CL_COHORTSESSION_STR];
    size_t ncups;
    cl_cohortsession_cup *cups; /* owned */
} cl_cohortsession;

/* Analyse the session file `path` with options `o` and reduce it.  Errors
 * are those of cl_analysis (the message names the file). */
int cl_cohortsession_read(const char *path, const cl_analysis_options *o, cl_cohortsession *out,
                          cl_error *err);
/* Free the cups and empty *s (NULL accepted). */
void cl_cohortsession_release(cl_cohortsession *s);

/* The session as one block of bytes (malloc'ed into *buf), for a pipe
 * between processes of the same program, and back.  unpack checks the
 * length: CL_ERR_FORMAT if the block is not a packed session. */
int cl_cohortsession_pack(const cl_cohortsession *s, void **buf, size_t *len, cl_error *err);
int cl_cohortsession_unpack(const void *buf, size_t len, cl_cohortsession *out, cl_error *err);

#endif
