/*
 * cl_version: what every cuplab program prints for --version: its name and
 * version, then the versions of the libraries it runs with, asked of the
 * libraries themselves at run time (not the headers it was built against):
 *
 *   cuplab-analyze 0.1.0
 *   libraries: HDF5 1.10.8, GSL 2.7.1, libserialport 0.1.1, jansson 2.14,
 *   zlib 1.2.13, PLplot 5.15.0          (one line)
 */
#ifndef CL_VERSION_H
#define CL_VERSION_H

#include <stdio.h>

/* Print the two lines to `f` for program `prog`. */
void cl_version_print(FILE *f, const char *prog);

#endif
