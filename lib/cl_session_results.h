/*
 * cl_session_results: analysis results stored with a finished session
 * (cuplab-analyze --write).
 */
#ifndef CL_SESSION_RESULTS_H
#define CL_SESSION_RESULTS_H

#include <stddef.h>

#include "cl_error.h"

/* One column of a result table stored with the session. */
typedef struct cl_session_column {
    const char *name;       /* dataset name: no '/', not empty */
    const char *unit;       /* "units" attribute; NULL or "" for none */
    const double *num;      /* nrows numbers (NaN = none), or NULL for strings */
    const char *const *str; /* nrows UTF-8 strings (NULL = "") when num is NULL */
} cl_session_column;

/* Results written cup by cup (the calibrated series are large): begin,
 * add each cup's series, finish with the tables.  Nothing is in place
 * until cl_session_results_finish() succeeds; see
 * cl_session_write_analysis() for the checks and the file's safety. */
typedef struct cl_session_results cl_session_results;

/* One cup's calibrated series, stored as /analysis/series/<i> (i = 0, 1,
 * ... in the order given) with the attributes `cup` and `calibration`:
 * time_s (float64, "s" since the session start), vacuum (float64, "kPa",
 * sign "positive below ambient"; NaN for no value) and phase (uint8, with
 * the attribute `names`: the comma-separated name of each code).
 *
 * When the cup's transfer is linear (gauge kPa = offset_kpa + kpa_per_count
 * * raw; NaN otherwise), it also goes onto the raw samples of its device
 * and channel, NWB-style: /devices/devN/samples gets `unit` "kPa",
 * `channel_conversion` and `channel_offset` (float64 [channels], NaN for a
 * channel without a linear transfer), and the scalars `conversion` and
 * `offset` when one linear transfer serves every channel.  Attributes of
 * an earlier --write are removed first. */
typedef struct cl_session_series {
    const char *cup_id, *calibration, *phase_names;
    size_t n;
    const double *t_s, *vacuum_kpa;
    const unsigned char *phase;
    unsigned device, channel;
    double offset_kpa, kpa_per_count;
} cl_session_series;

int cl_session_results_begin(cl_session_results **out, const char *path, cl_error *err);
int cl_session_results_series(cl_session_results *w, const cl_session_series *s, cl_error *err);
/* Write the tables, close, sync and put the new file in place; frees `w`
 * whatever the outcome. */
int cl_session_results_finish(cl_session_results *w, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err);
/* Drop the results (the file stays as it was); accepts NULL. */
void cl_session_results_abort(cl_session_results *w);

/* Store analysis results with a finished session (cuplab-analyze --write).
 * The recording is never written to: the file is copied, the copy's group
 * /analysis replaced (nothing else), and the copy synced and renamed over
 * the file (cl_replace), so that a crash at any moment leaves either the
 * old file or the new one, both complete.  The copy holds the group:
 *   /analysis               attrs: software_version, created_utc
 *   /analysis/results       scalar UTF-8 string: `json_results`
 *   /analysis/cups/<name>   float64 [nrows] with "units", or UTF-8 strings
 *   /analysis/series/<i>    each cup's calibrated series (cl_session_series)
 * and the conversion attributes of the raw samples (cl_session_series).
 * CL_ERR_BUSY while a writer records into the file or when it has no final
 * status (being recorded, or crashed: cl_session_recover() it first);
 * CL_ERR_FORMAT / CL_ERR_VERSION (file untouched) for anything but a
 * readable cuplab session; CL_ERR_ARG for a bad column; CL_ERR_NOSPACE when
 * there is no room for the copy. */
int cl_session_write_analysis(const char *path, const char *json_results,
                              const cl_session_column *cols, size_t ncols, size_t nrows,
                              cl_error *err);

#endif
