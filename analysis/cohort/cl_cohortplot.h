/*
 * cl_cohortplot: the figures of a cohort comparison (cl_cohort), drawn with
 * PLplot's cairo drivers (the file's extension chooses, as cl_plot_device()
 * says: .png, .svg, .pdf).
 *
 *   box plots  one panel per metric, one box per group: the quartiles, the
 *              median, whiskers to the furthest session value within 1.5 IQR
 *              of the box (Tukey), the values beyond drawn one by one, and
 *              every session value as a small dot
 *   profiles   one panel per group, side by side on common axes: the mean
 *              time-normalised vacuum curve (onset = 0 %, release = 100 %)
 *              with its 95 % confidence band, and the target dashed when
 *              there is one (as the distance compares it)
 *
 * PLplot's fatal errors come back as CL_ERR_IO instead of ending the
 * process; figures are drawn by one thread at a time.
 */
#ifndef CL_COHORTPLOT_H
#define CL_COHORTPLOT_H

#include <stddef.h>

#include "cohort/cl_cohort.h"
#include "cl_error.h"
#include "output/cl_figure.h"

/* Box plots of the metrics ms[0..nm) (at most 12 panels).  CL_ERR_ARG for
 * an unknown extension or nothing to draw. */
int cl_cohortplot_boxes(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                        const char *path, const cl_figure_style *st, const char *title,
                        cl_error *err);

/* Mean profiles with their bands, one panel per group (at most 24). */
int cl_cohortplot_profiles(const cl_cohort *c, const char *path, const cl_figure_style *st,
                           const char *title, cl_error *err);

/* The same without a title, drawn at the top of the frame of a page already
 * open (cl_plot_frame; a printed report), inside the caller's
 * cl_plot_trap(): as high as the figure wants for the frame's width, at
 * most the frame's height; *used (may be NULL) receives the height taken. */
int cl_cohortplot_boxes_paint(const cl_cohort *c, const cl_stat_metric *ms, size_t nm,
                              const cl_figure_style *st, double *used, cl_error *err);
int cl_cohortplot_profiles_paint(const cl_cohort *c, const cl_figure_style *st, double *used,
                                 cl_error *err);

#endif
