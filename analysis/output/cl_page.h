/*
 * cl_page: the pages of a printed report (A4, PDF through PLplot's cairo
 * driver, fonts embedded), on the plumbing of cl_plot: a cursor that runs
 * down the page, a title, headings, lines of fields, paragraphs, tables of
 * cl_table, and boxes that figures are drawn into (cl_plot_frame).
 *
 * Every piece of text is measured (cl_plot_text_len, as pango sets it) and
 * placed where nothing else is; text longer than its place is wrapped at
 * its spaces, commas and semicolons, and what still does not fit is cut
 * with an ellipsis, so no two pieces of text overlap and nothing leaves
 * the page.  The drawing functions run inside cl_page_write's trap of
 * PLplot's errors; nothing else here can fail.
 */
#ifndef CL_PAGE_H
#define CL_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_plot.h"
#include "cl_table.h"

#define CL_PAGE_WIDTH 210.0 /* A4, mm */
#define CL_PAGE_HEIGHT 297.0
#define CL_PAGE_MARGIN 15.0 /* on every side */
#define CL_PAGE_TEXT_W (CL_PAGE_WIDTH - 2 * CL_PAGE_MARGIN)

#define CL_PAGE_PT_TITLE 12.0
#define CL_PAGE_PT_HEADING 9.0
#define CL_PAGE_PT_BODY 8.0
#define CL_PAGE_PT_TABLE 7.0

/* May a report be written to `path`?  The cl_output rules (CL_ERR_EXISTS
 * without `force`, CL_ERR_NOTFOUND for a missing folder, CL_ERR_ARG for a
 * folder) and a name ending in .pdf (CL_ERR_ARG).  Nothing is created. */
int cl_page_check(const char *path, bool force, cl_error *err);

typedef struct cl_page {
    double y;  /* the cursor: top of what comes next, mm from the bottom */
    int pages; /* pages begun */
    char path[4096], part[4200]; /* the report, and the file it is drawn into */
} cl_page;

/* Draw a report into `path`: a file beside it created, the first page
 * begun, draw(pg, arg, err) called inside the trap of PLplot's errors, and
 * the file put in place of `path` when draw returns CL_OK and the PDF is
 * complete; otherwise removed, leaving nothing half-written (CL_ERR_IO
 * with PLplot's reason, or draw's error). */
typedef int cl_page_drawer(cl_page *pg, const void *arg, cl_error *err);
int cl_page_write(const char *path, cl_page_drawer *draw, const void *arg, cl_error *err);
/* One line of small text centred in the bottom margin (page numbers). */
void cl_page_footer(cl_page *pg, const char *s);
/* A new page, the cursor at its top. */
void cl_page_next(cl_page *pg);
/* Height (mm) left on this page under the cursor. */
double cl_page_room(const cl_page *pg);
/* Move the cursor down by `mm`. */
void cl_page_skip(cl_page *pg, double mm);

/* The report's title (bold, large) and a section heading (bold). */
void cl_page_title(cl_page *pg, const char *s);
void cl_page_heading(cl_page *pg, const char *s);
/* Height a heading takes. */
double cl_page_heading_h(void);
/* A paragraph at `pt`, wrapped to the width; at most max_lines lines (0:
 * any), the last cut with an ellipsis. */
void cl_page_text(cl_page *pg, double pt, const char *s, size_t max_lines);
/* Height of such a line. */
double cl_page_line_h(double pt);

/* "Name: value" pairs (names[i], values[i]), in `columns` columns across
 * the width, each value wrapped in its column. */
void cl_page_fields(cl_page *pg, const char *const *names, const char *const *values, size_t n,
                    int columns);

/* A table: the heading of every column in words with its unit in
 * parentheses, wrapped into as many lines as the column's width needs,
 * then rows [from, to) of t as the text table prints their cells (numbers
 * right-aligned).  Columns share the width by what their cells need.
 * Draws the rows that fit under the cursor and returns how many it drew
 * (0 when not even the heading and one row fit). */
size_t cl_page_table(cl_page *pg, const cl_table *t, size_t from, size_t to);
/* Height the table's heading and rows [from, to) would take. */
double cl_page_table_h(const cl_table *t, size_t from, size_t to);

/* A box of the full width and height h under the cursor, for a figure
 * (cl_plot_frame it, draw, cl_plot_frame(NULL)); the cursor moves under it. */
cl_plot_box cl_page_box(cl_page *pg, double h);

#endif
