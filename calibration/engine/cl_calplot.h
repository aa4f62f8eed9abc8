/*
 * cl_calplot: calibration figures (sensor residuals, cup decay recordings).
 * Figure files as in cl_plot: .png, .svg or .pdf by extension.
 */
#ifndef CL_CALPLOT_H
#define CL_CALPLOT_H

#include <stddef.h>

#include "cl_error.h"
#include "cl_plot.h"
#include "cl_sensor.h"
#include "cl_units.h"
#include "engine/cl_cupchar.h"

/* Residuals of a sensor calibration against the reference pressure, in
 * `unit`, against the reference vacuum (positive below ambient): ascending
 * points as circles, descending as triangles, the band +-U of the
 * calibrated curve, the tolerance lines when they fall near the data (else
 * the legend gives the tolerance), a legend and a title naming the sensor,
 * degree and verdict; the residual axis is scaled to the points and band.  CL_ERR_ARG for an unknown extension or no
 * points, CL_ERR_IO if the file cannot be written. */
int cl_calplot_residuals(const cl_sensor_calibration *d, cl_unit unit, const cl_plot_size *sz,
                         const char *path, cl_error *err);

/* A decay recording (t, p)[from, to) with the fitted model of `l` and its
 * time constant, as vacuum in `unit` (p is gauge pressure); `title` names
 * the cup. */
int cl_calplot_decay(const double *t_s, const double *p_kpa, size_t from, size_t to,
                     const cl_leak *l, cl_unit unit, const char *title, const cl_plot_size *sz,
                     const char *path, cl_error *err);

#endif
