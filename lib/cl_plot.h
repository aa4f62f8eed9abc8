/*
 * cl_plot: the PLplot plumbing every figure module shares (page sizes,
 * fonts, text, axes, legends, the palette); the figures themselves live with
 * the program that draws them.  Figures are drawn with PLplot's cairo
 * drivers, the driver chosen by the file's extension: .png (pngcairo), .svg
 * (svgcairo), .pdf (pdfcairo).  PLplot never prompts or writes to stdout here; its
 * warnings go to the cl_log debug level and its fatal errors come back as
 * CL_ERR_IO instead of ending the process.
 */
#ifndef CL_PLOT_H
#define CL_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"
#include "cl_units.h"

/* PLplot device for a file name ("pngcairo", ...), NULL if the extension
 * is not .png, .svg or .pdf (case-insensitive). */
const char *cl_plot_device(const char *path);

/* Plumbing shared by every figure module.  PLplot ends the process on a
 * fatal error; a figure function traps that instead:
 *
 *     if (setjmp(*cl_plot_trap()))
 *         return cl_error_set(err, CL_ERR_IO, "%s: %s", path, cl_plot_abandon());
 *     cl_plot_begin(dev, path, size, wanted_height_mm);
 *     ... draw ...
 *     cl_plot_end();
 *
 * Figures are laid out at a physical size, in millimetres from the page's
 * bottom-left corner, with text in points at that size (CL_PLOT_PT_*), so a
 * figure printed at its width shows 7-9 pt text whatever the format.  PDF and
 * SVG pages have that size (fonts embedded by cairo); a PNG has the pixels
 * of --plot-size, or CL_PLOT_PNG_DPI at a physical width. */
#include <setjmp.h>

#define CL_PLOT_PT_TITLE 9.0 /* figure title */
#define CL_PLOT_PT_LABEL 8.0 /* axis titles, panel titles */
#define CL_PLOT_PT_TICK 7.0  /* tick labels, legend, notes */

/* Colour map 0, set by cl_plot_begin: the Okabe-Ito colour-blind-safe
 * palette, black on white, a light grey for grids and translucent tints
 * of three of its colours for shaded areas. */
enum {
    CL_PLOT_WHITE,
    CL_PLOT_BLACK,
    CL_PLOT_ORANGE,
    CL_PLOT_SKY,
    CL_PLOT_GREEN,
    CL_PLOT_YELLOW,
    CL_PLOT_BLUE,
    CL_PLOT_VERMILION,
    CL_PLOT_PURPLE,
    CL_PLOT_GREY,
    CL_PLOT_GRID,
    CL_PLOT_TINT_ORANGE,
    CL_PLOT_TINT_SKY,
    CL_PLOT_TINT_GREY,
    CL_PLOT_TINT_BLUE,
    CL_PLOT_NCOLOURS
};

/* The size asked for: a physical width and height in mm (0: not given) or,
 * without a width, PNG pixels (a vector page is then CL_PLOT_DEFAULT_MM
 * wide with the pixels' aspect). */
typedef struct cl_plot_size {
    int width_px, height_px;
    double width_mm, height_mm;
} cl_plot_size;

#define CL_PLOT_DEFAULT_MM 180.0 /* double column */
#define CL_PLOT_PNG_DPI 300.0
#define CL_PLOT_ASPECT 0.62 /* height / width of one panel */
#define CL_PLOT_CELL_MIN_H 42.0 /* mm: lowest panel of a grid */

/* "85mm", "8.5cm", "3.3in" (a plain number is mm) into mm, 20..1000;
 * CL_ERR_ARG otherwise. */
int cl_plot_parse_length(const char *s, double *mm, cl_error *err);
/* Physical width a figure of `sz` is laid out at. */
double cl_plot_width_mm(const cl_plot_size *sz);

jmp_buf *cl_plot_trap(void);
/* Open a new stream drawing into `path` with driver `dev`, `sz` wide; its
 * height is sz's, else `wanted_h_mm` (the figure's choice for the width). */
void cl_plot_begin(const char *dev, const char *path, const cl_plot_size *sz,
                   double wanted_h_mm);
void cl_plot_end(void);
/* After a trapped error: detach the handlers; returns PLplot's message. */
const char *cl_plot_abandon(void);
/* Can `path` be created?  PLplot would retry and then exit otherwise. */
int cl_plot_check_writable(const char *path, cl_error *err);
/* The device for `path` (CL_ERR_ARG naming the types otherwise), and the
 * file created. */
int cl_plot_target(const char *path, const char **dev, cl_error *err);

/* Page of the open figure, in mm (of the frame, when one is set). */
double cl_plot_page_w(void);
double cl_plot_page_h(void);

/* A box of the open page, in mm from its bottom-left corner. */
typedef struct cl_plot_box {
    double x, y, w, h;
} cl_plot_box;
/* Draw what follows into box `b` of the page (NULL: the whole page again):
 * cl_plot_page_w/h are then the box's and every position is from its
 * bottom-left corner, so a figure drawn for a page of its own fills a box
 * of a larger page (a printed report) unchanged. */
void cl_plot_frame(const cl_plot_box *b);
/* The next page of the open figure (a PDF of several pages); the frame is
 * the whole page again. */
void cl_plot_next_page(void);
/* Text of `pt` points for what follows. */
void cl_plot_font(double pt);
/* Text estimated width in mm at `pt` (generous: for layout). */
double cl_plot_text_w(const char *s, double pt);
/* Text centred vertically at (x, y) mm of the page; just 0 left, 0.5
 * centre, 1 right. */
void cl_plot_text(double x, double y, double just, double pt, const char *s);
/* The same in bold (headings). */
void cl_plot_text_bold(double x, double y, double just, double pt, const char *s);
/* Text width in mm at `pt` as the open page sets it, measured by pango
 * (which lays out the text of PLplot's cairo drivers; PLplot itself has no
 * public measure); cl_plot_text_w's estimate when no page is open. */
double cl_plot_text_len(const char *s, double pt, bool bold);
/* `s` cut (on a character) to at most w mm at `pt` (measured), "..."
 * marking the cut. */
void cl_plot_fit(const char *s, double w, double pt, bool bold, char *buf, size_t cap);
/* A black line from (x0, y0) to (x1, y1) mm of the frame, width_mm wide. */
void cl_plot_rule(double x0, double y0, double x1, double y1, double width_mm);

/* Axis titles: "Vacuum below ambient (mmHg)"; a time axis in minutes
 * when the span is longer than CL_PLOT_MINUTES_AFTER_S, returning the
 * divisor from seconds (1 or 60) and its title. */
#define CL_PLOT_MINUTES_AFTER_S 300.0
void cl_plot_vacuum_title(cl_unit u, char *buf, size_t cap);
double cl_plot_time_axis(double span_s, const char **title);
/* Widen [lo, hi] by `frac` of its width (a degenerate or empty range gets
 * a width). */
void cl_plot_pad(double *lo, double *hi, double frac);

/* One panel: data ranges, titles (NULL: none).  xtext > 0: no numbers on
 * the x axis, the caller writes that many lines of tick text under it.
 * yshort: the y title used when ytitle is longer than the axis (then the
 * legend or the page title says what it is); a title wider than its panel
 * is cut to it with an ellipsis. */
typedef struct cl_plot_axes {
    double xmin, xmax, ymin, ymax;
    const char *title, *xtitle, *ytitle;
    int xtext;
    const char *yshort;
} cl_plot_axes;
/* Margins (mm) the panel's text needs around its plot area. */
void cl_plot_margins(const cl_plot_axes *a, double *left, double *bottom, double *top);
/* Set the panel's plot area inside the cell [x0, x1] x [y0, y1] (mm), its
 * window to the data and draw the grid; draw the data next, then
 * cl_plot_close. */
void cl_plot_open(const cl_plot_axes *a, double x0, double y0, double x1, double y1);
/* The frame, ticks, numbers and titles of the panel opened last. */
void cl_plot_close(const cl_plot_axes *a);
/* Text at x (data) on line `line` (1, 2, ...) under the open panel. */
void cl_plot_xtext(double x, int line, const char *s);

/* Legend entries, laid out in rows under the panels. */
typedef enum { CL_PLOT_KEY_LINE, CL_PLOT_KEY_POINT, CL_PLOT_KEY_FILL } cl_plot_key_kind;
typedef struct cl_plot_key {
    cl_plot_key_kind kind;
    int colour;
    int style;    /* line style (1 solid, 2 dashed, 3 dotted) or symbol code */
    double width; /* line width, symbol scale */
    const char *text;
} cl_plot_key;
/* Height (mm) of the legend of keys[0..n) across `width` mm. */
double cl_plot_legend_h(const cl_plot_key *keys, size_t n, double width);
/* Draw it with its top at y, from x over `width` mm. */
void cl_plot_legend(const cl_plot_key *keys, size_t n, double x, double y, double width);
/* Line of the current line style of `key` (colour, style, width). */
void cl_plot_pen(const cl_plot_key *key);

/* Release the font cache that text drawing leaves for the life of the
 * process (pango's font map of the calling thread; fontconfig's own caches
 * stay: its FcFini aborts while pango still holds fonts).  PLplot's cairo driver loads those libraries; cuplab does
 * not link them, so they are reached only if already loaded.  Call at most
 * once, at the end of a program that drew figures, from the thread that
 * drew them; no other part of the process may be using fontconfig then. */
void cl_plot_release(void);

#endif
