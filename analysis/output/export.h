/*
 * analysis/export: each cup's calibrated vacuum series, as cuplab-analyze
 * computes it (positive below ambient, zeroed, in the chosen unit, on the
 * cup's time axis), with its phases and markers, for other programs:
 *
 *   csv   long form: one row per sample (session, cup, time_s, iso_time,
 *         vacuum, unit, phase); wide form: one row per sample time of a
 *         device, one column per cup
 *   mat   MATLAB v5 file (libmatio): struct array `sessions`, each with its
 *         metadata and a struct array `cups` (time_s, vacuum, phase codes
 *         and names, unit, cup metadata, markers)
 *   edf   EDF+ (EDFlib): one signal per cup, resampled to the device's
 *         rate, physical unit in the header, markers and phases as
 *         annotations; one file per session; 16-bit samples
 *   bdf   BDF+ (EDFlib): the same with 24-bit samples, for series whose
 *         range 16 bits cannot hold to AN_EXPORT_PRECISION_MMHG
 *
 * docs/analysis.md ("Exports") is the specification.  The output is
 * checked when the export is opened, before any analysis, and written to a
 * temporary file beside it that is renamed into place when complete (the
 * rules of cl_output): a
 * failed or killed export never leaves a partial file under the name.
 */
#ifndef ANALYSIS_EXPORT_H
#define ANALYSIS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/cl_analysis.h"
#include "cl_error.h"
#include "cl_units.h"

typedef enum an_export_format {
    AN_EXPORT_CSV = 1,
    AN_EXPORT_MAT = 2,
    AN_EXPORT_EDF = 3,
    AN_EXPORT_BDF = 4,
} an_export_format;

/* The largest difference, in mmHg, between a value read back from an EDF+
 * or BDF+ export (header scaling applied to the stored integer) and the
 * series it was written from.  A cup whose series' range the format's
 * digital steps cannot hold to this is refused (EDF: a range beyond about
 * 1300 mmHg, which BDF holds). */
#define AN_EXPORT_PRECISION_MMHG 0.01

/* "csv", "mat", "edf", "bdf" -> format; 0 if unknown. */
an_export_format an_export_format_from_name(const char *name);

typedef struct an_export an_export;

/* Prepare an export of `nsessions` sessions to `path`.  CL_ERR_EXISTS when
 * `path` exists and !force (cl_output); CL_ERR_NOTFOUND when its folder does
 * not exist.
 * EDF and BDF hold one recording per file: with more than one session
 * `path` is a folder (created if missing) that receives NAME.edf (NAME.bdf)
 * per session file. */
int an_export_open(an_export **out, an_export_format fmt, const char *path, size_t nsessions,
                   bool wide, cl_unit unit, bool force, cl_error *err);

/* Start the session read by `r` from `file`; then an_export_cup() for each
 * cup, then an_export_session_end(). */
int an_export_session(an_export *x, cl_session_reader *r, const char *file, cl_error *err);
int an_export_cup(an_export *x, const cl_cup_result *res, const cl_cup_trace *tr,
                  cl_error *err);
int an_export_session_end(an_export *x, cl_error *err);

/* Finish: the sessions exported so far are put in place.  Frees `x`. */
int an_export_close(an_export *x, cl_error *err);

/* Drop the export (nothing is put in place).  Accepts NULL. */
void an_export_abort(an_export *x);

#endif
