/*
 * cl_sessreport: the printed report of one session (cuplab-analyze FILE
 * --report OUT.pdf), one or two A4 pages laid out with cl_page:
 *
 *   page 1  the title block (file, session UUID, start and end, status,
 *           practitioner, subject, technique, site, cup sets, software),
 *           the session's one-line summary, the calibration applied to
 *           each cup (sensor serial, profile or nominal transfer, its
 *           valid-until, the cup-set profile), the integrity of each device
 *           (frames, checksum errors, malformed frames, sequence gaps, lost
 *           frames, overruns, reconnects) and the session's device, gap and
 *           overrun events (as many as fit, then how many more), and the
 *           overview figure (cl_figure's, drawn into the page)
 *   page 2  the per-cup table (cl_report_page_table), when it does not fit
 *           under the figure on page 1
 *
 * The per-cup values are the cells of the table the program prints, so
 * the page and the text, CSV and JSON outputs agree digit for digit.
 */
#ifndef CL_SESSREPORT_H
#define CL_SESSREPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "output/cl_figure.h"
#include "pipeline/cl_analysis.h"
#include "cl_error.h"
#include "cl_session_read.h"
#include "cl_table.h"

typedef struct cl_sessreport_input {
    const char *file;          /* the session file as named */
    const char *status;        /* "complete", "interrupted", "recording" */
    cl_session_reader *reader; /* metadata, devices, counters, events */
    const cl_cup_result *res;  /* the cups' results */
    size_t n;
    const cl_overview *ov;     /* the overview's cups (NULL or none: no figure) */
    const cl_table *cups;      /* cl_report_page_table of the session */
    const char *summary;       /* cl_report_summary of the session */
    cl_figure_style style;     /* unit of the figure (its size is the page's) */
} cl_sessreport_input;

/* Write the report to `path` (checked before the work with
 * cl_page_check): drawn into a file beside it that replaces `path` only
 * when complete, so a failed report leaves no half-written file.
 * CL_ERR_IO (PLplot's reason) or the error of reading the session. */
int cl_sessreport_write(const char *path, const cl_sessreport_input *in, cl_error *err);

#endif
