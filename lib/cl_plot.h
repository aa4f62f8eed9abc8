/*
 * cl_plot: calibration figures drawn with PLplot's cairo drivers, the
 * driver chosen by the file's extension: .png (pngcairo), .svg (svgcairo),
 * .pdf (pdfcairo).  PLplot never prompts or writes to stdout here; its
 * warnings go to the cl_log debug level and its fatal errors come back as
 * CL_ERR_IO instead of ending the process.
 */
#ifndef CL_PLOT_H
#define CL_PLOT_H

#include <stddef.h>

#include "cl_cupchar.h"
#include "cl_error.h"
#include "cl_profile.h"
#include "cl_units.h"

/* PLplot device for a file name ("pngcairo", ...), NULL if the extension
 * is not .png, .svg or .pdf (case-insensitive). */
const char *cl_plot_device(const char *path);

/* Plumbing shared by every figure module.  PLplot ends the process on a
 * fatal error; a figure function traps that instead:
 *
 *     if (setjmp(*cl_plot_trap()))
 *         return cl_error_set(err, CL_ERR_IO, "%s: %s", path, cl_plot_abandon());
 *     cl_plot_begin(dev, path, width_px, height_px, palette);
 *     ... draw ...
 *     cl_plot_end();
 */
#include <setjmp.h>
jmp_buf *cl_plot_trap(void);
/* Open a new stream drawing into `path` with driver `dev`; `palette` (may be
 * NULL) sets colour map 0 before PLplot initialises. */
void cl_plot_begin(const char *dev, const char *path, int width_px, int height_px,
                   void (*palette)(void));
void cl_plot_end(void);
/* After a trapped error: detach the handlers; returns PLplot's message. */
const char *cl_plot_abandon(void);
/* Can `path` be created?  PLplot would retry and then exit otherwise. */
int cl_plot_check_writable(const char *path, cl_error *err);

/* Residuals of a sensor calibration against the reference pressure, in
 * `unit`: ascending points as circles, descending as triangles, the band
 * +-U of the calibrated curve, the tolerance lines and a title naming the
 * sensor, degree and verdict.  CL_ERR_ARG for an unknown extension or no
 * points, CL_ERR_IO if the file cannot be written. */
int cl_plot_residuals(const cl_sensor_calibration *d, cl_unit unit, const char *path,
                      cl_error *err);

/* A decay recording (t, p)[from, to) with the fitted model of `l` and its
 * time constant, pressures in `unit`; `title` names the cup. */
int cl_plot_decay(const double *t_s, const double *p_kpa, size_t from, size_t to,
                  const cl_leak *l, cl_unit unit, const char *title, const char *path,
                  cl_error *err);

/* Release the font caches that text drawing leaves for the life of the
 * process (pango's font map of the calling thread, fontconfig's
 * configuration).  PLplot's cairo driver loads those libraries; cuplab does
 * not link them, so they are reached only if already loaded.  Call at most
 * once, at the end of a program that drew figures, from the thread that
 * drew them; no other part of the process may be using fontconfig then. */
void cl_plot_release(void);

#endif
