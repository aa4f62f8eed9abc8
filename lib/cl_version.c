/* cl_version: the --version text, with the run-time library versions. */
#include "cl_version.h"

#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <jansson.h>
#include <libserialport.h>
#include <plplot.h>
#include <zlib.h>

void cl_version_print(FILE *f, const char *prog)
{
    unsigned maj = 0, min = 0, rel = 0;
    char plplot[80] = "";
    H5get_libversion(&maj, &min, &rel);
    plgver(plplot);
    fprintf(f, "%s %s\n", prog, CUPLAB_VERSION);
    fprintf(f,
            "libraries: HDF5 %u.%u.%u, GSL %s, libserialport %s, jansson %s, zlib %s, "
            "PLplot %s\n",
            maj, min, rel, gsl_version, sp_get_package_version_string(), jansson_version_str(),
            zlibVersion(), plplot);
}
