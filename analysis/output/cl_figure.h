/*
 * cl_figure: figures of the session analysis, drawn with PLplot's cairo
 * drivers (chosen by the file's extension through cl_plot_device(): .png,
 * .svg, .pdf).
 *
 *   cup figure  the vacuum curve of one cup with its phases shaded
 *               (evacuation, hold, release), the pump strokes and re-pumps,
 *               the markers and gaps of the file as vertical lines, the
 *               hold window, and the chosen decay fit drawn over the fitted
 *               stretch (a converged but non-identifiable exponential dashed)
 *   overview    one panel per cup of a session, same elements, common time
 *               axis; as many columns as the width holds
 *
 * Vacuum is drawn positive below ambient, time in minutes beyond
 * CL_PLOT_MINUTES_AFTER_S, and a legend under the panels names every kind
 * of line, shading and tick that the figure shows.
 *
 * Curves are drawn from a min/max envelope of at most a few thousand points,
 * so a figure costs the same for any recording length, and the overview
 * keeps only that envelope of each cup (cups are analysed one at a time).
 * PLplot's fatal errors come back as CL_ERR_IO instead of ending the
 * process; its messages go to cl_log at debug level.
 */
#ifndef CL_FIGURE_H
#define CL_FIGURE_H

#include <stddef.h>

#include "pipeline/cl_analysis.h"
#include "cl_error.h"
#include "cl_plot.h"
#include "cl_units.h"

typedef struct cl_figure_style {
    cl_unit unit;      /* pressure unit of the axis */
    cl_plot_size size; /* page (cl_plot: physical width or PNG pixels) */
} cl_figure_style;

/* Figure of one cup.  CL_ERR_ARG for an unknown extension, CL_ERR_IO (with
 * the reason) when the file cannot be written. */
int cl_figure_cup(const char *path, const cl_cup_result *res, const cl_cup_trace *tr,
                  const cl_figure_style *st, const char *title, cl_error *err);

typedef struct cl_overview cl_overview;

cl_overview *cl_overview_new(void);
void cl_overview_free(cl_overview *ov); /* accepts NULL */
/* Keep what the overview needs of one cup (tr may be NULL: no curve). */
int cl_overview_add(cl_overview *ov, const cl_cup_result *res, const cl_cup_trace *tr,
                    cl_error *err);
size_t cl_overview_count(const cl_overview *ov);
int cl_overview_write(const cl_overview *ov, const char *path, const cl_figure_style *st,
                      const char *title, cl_error *err);
/* The same drawn into the frame of a page already open (cl_plot_frame; a
 * printed report), inside the caller's cl_plot_trap(); and the height it
 * would choose for a width (0 for no cups). */
void cl_overview_paint(const cl_overview *ov, const cl_figure_style *st, const char *title);
double cl_overview_height(const cl_overview *ov, double width_mm, const char *title);

#endif
