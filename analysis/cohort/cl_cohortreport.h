/*
 * cl_cohortreport: the printed report of a cohort comparison
 * (cuplab-analyze --group-by ... --report OUT.pdf), A4 pages laid out with
 * cl_page:
 *
 *   the title block (grouping, sessions, groups, metrics, target, the
 *   profile closest to it, pooled techniques, software) and the notes of
 *   the comparison; the groups (n, mean, SD, median and quartiles per
 *   metric); the tests between the groups (Welch's ANOVA with its p
 *   adjusted across the metrics and ω², Kruskal-Wallis with its adjusted p
 *   and ε²); the pairwise differences with their 95 % confidence interval,
 *   Holm's p and Hedges' g; the box plots and the mean profiles
 *   (cl_cohortplot's, drawn into the pages).
 *
 * The tables are columns of the tables cl_cohortout prints (cl_table_select),
 * so the pages and the text, CSV and JSON outputs agree digit for digit;
 * tables longer than a page go on over the next.
 */
#ifndef CL_COHORTREPORT_H
#define CL_COHORTREPORT_H

#include <stddef.h>

#include "cohort/cl_cohort.h"
#include "cl_error.h"
#include "cl_units.h"

/* Write the report of the last comparison of c (metrics ms[0..nm) in the
 * box plots) to `path`, checked before the work with cl_page_check: drawn
 * into a file beside it that replaces `path` only when complete.
 * CL_ERR_IO (with the reason) or CL_ERR_NOMEM. */
int cl_cohortreport_write(const char *path, const cl_cohort *c, const cl_stat_metric *ms,
                          size_t nm, cl_unit unit, cl_error *err);

#endif
