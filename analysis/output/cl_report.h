/*
 * cl_report: the results of cuplab-analyze as tables (text, CSV, JSON via
 * cl_table), as the JSON document written back into a session file, and as
 * the column arrays stored beside it.  Column names are stable and
 * documented in docs/analysis.md; pressures are converted to the chosen unit
 * and reported as vacuum, positive below ambient (CL_REPORT_SIGN says so in
 * every output).
 */
#ifndef CL_REPORT_H
#define CL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "pipeline/cl_analysis.h"
#include "cl_error.h"
#include "cl_session.h"
#include "cl_table.h"
#include "cl_units.h"

#define CL_REPORT_FORMAT "cuplab-analysis"
#define CL_REPORT_VERSION 1
/* The sign convention, as stated in every output. */
#define CL_REPORT_SIGN "positive below ambient"

/* One session as the report names it. */
typedef struct cl_report_session {
    const char *file, *session_uuid, *status, *practitioner, *subject, *technique;
    size_t gap_events;  /* gap/disconnect/overrun events in the file */
} cl_report_session;

typedef struct cl_report cl_report;

cl_report *cl_report_new(cl_unit unit);
void cl_report_free(cl_report *r); /* accepts NULL */

/* Add a session with its cups' results (one row per cup); computes the
 * session statistics and its one-line summary. */
int cl_report_add_session(cl_report *r, const cl_report_session *s, const cl_cup_result *res,
                          size_t n, cl_error *err);

size_t cl_report_sessions(const cl_report *r);
/* One-line summary of session i ("" if out of range). */
const char *cl_report_summary(const cl_report *r, size_t i);
/* Status of session i as named in the report ("complete", "interrupted",
 * "recording"; "" if out of range). */
const char *cl_report_status(const cl_report *r, size_t i);

/* Write everything: text (the per-cup table, compact unless `wide`, then the
 * statistics and the summary line of each session), CSV (the per-cup table
 * only, every column) or JSON (one document: rows, units, statistics and
 * summaries). */
int cl_report_write(const cl_report *r, FILE *out, cl_table_format fmt, bool wide,
                    cl_error *err);

/* The per-cup table of session i as a printed report shows it (a new
 * table; NULL when out of memory or out of range): the main columns with
 * headings in words ("Peak vacuum", unit "kPa"), their cells and
 * precision those of the text table, so the page and the text, CSV and
 * JSON outputs agree. */
cl_table *cl_report_page_table(const cl_report *r, size_t i);

/* JSON document of session i alone (malloc'ed; NULL on failure). */
char *cl_report_session_json(const cl_report *r, size_t i);

/* One column of a session's per-cup table: numbers (num, NaN = empty) or
 * strings (str). */
typedef struct cl_report_column {
    const char *name;
    const char *unit;       /* NULL if none */
    const double *num;      /* nrows values, NULL for a string column */
    const char *const *str; /* nrows strings when num is NULL */
} cl_report_column;

/* Per-cup columns of session i (every column, as in CSV), valid until the
 * report is freed or changed; NULL on failure.  *nrows receives the rows. */
const cl_report_column *cl_report_session_columns(cl_report *r, size_t i, size_t *ncols,
                                                  size_t *nrows);

#endif
