/* cuplab-analyze: analyse session files (options in options.c, the
 * per-file work in run.c, the pipeline in the core library). */
#include <gsl/gsl_errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cl_cli.h"
#include "cl_log.h"
#include "cl_plot.h"
#include "output/cl_report.h"
#include "cl_session_recover.h"
#include "cohort.h"
#include "options.h"
#include "run.h"

int main(int argc, char **argv)
{
    an_options o;
    an_inputs in;
    int status = AN_EXIT_OK;

    gsl_set_error_handler_off();
    /* Every cup allocates and frees arrays of its length: keep them in the
     * heap for the next cup instead of mapping fresh pages each time. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    cl_log_set_prefix("cuplab-analyze");
    int rc = an_options_parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    cl_cli_set_verbosity(o.verbosity);

    if (o.recover) {
        for (int i = 0; i < o.nfiles; i++) {
            cl_error err;
            bool recovered;
            cl_error_clear(&err);
            if (cl_session_recover(o.files[i], &recovered, &err) != CL_OK) {
                fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(err.code));
                status = AN_EXIT_FILE;
            } else if (o.verbosity) {
                fprintf(stderr,
                        recovered ? "cuplab-analyze: %s: recovered\n"
                                  : "cuplab-analyze: %s: nothing to recover (the session has "
                                    "a final status and is readable)\n",
                        o.files[i]);
            }
        }
        return status;
    }
    if ((rc = an_inputs_load(&o, &in)) >= 0) {
        an_inputs_free(&in);
        return rc;
    }
    if (o.group_by) {
        status = an_cohort_run(&o);
        an_inputs_free(&in);
        return status;
    }
    if (o.follow) {
        status = an_follow(&o, o.files[0]);
        an_inputs_free(&in);
        return status;
    }
    /* The export's output is checked before any work. */
    an_export *x = NULL;
    if (o.export_format) {
        cl_error err;
        cl_error_clear(&err);
        if (an_export_open(&x, o.export_format, o.output, (size_t)o.nfiles, o.wide, o.unit,
                           o.force, &err) != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg);
            an_inputs_free(&in);
            return err.code == CL_ERR_EXISTS ? AN_EXIT_USAGE : AN_EXIT_FILE;
        }
    }
    cl_report *rep = cl_report_new(o.unit);
    if (!rep) {
        fprintf(stderr, "cuplab-analyze: out of memory\n");
        an_export_abort(x);
        an_inputs_free(&in);
        return AN_EXIT_FILE;
    }
    for (int i = 0; i < o.nfiles; i++) {
        cl_error err;
        cl_error_clear(&err);
        struct stat st;
        if (stat(o.files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr,
                    "cuplab-analyze: %s: is a directory, not a session file (to compare the "
                    "sessions in it, give --group-by FIELD)\n",
                    o.files[i]);
            status = AN_EXIT_FILE;
            continue;
        }
        rc = an_run_file(&o, o.files[i], rep, x, &err);
        if (rc != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(rc));
            status = AN_EXIT_FILE;
        }
    }
    if (x) {
        /* Whatever was exported is kept, even if some files failed. */
        cl_error err;
        cl_error_clear(&err);
        if (an_export_close(x, &err) != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg);
            status = AN_EXIT_FILE;
        } else if (o.verbosity > 1) {
            fprintf(stderr, "cuplab-analyze: exported to %s\n", o.output);
        }
    }
    if (cl_report_sessions(rep) > 0) {
        cl_error err;
        if (cl_report_write(rep, stdout, o.format, o.wide, &err) != CL_OK ||
            fflush(stdout) != 0) {
            fprintf(stderr, "cuplab-analyze: cannot write the results: %s\n", err.msg);
            status = AN_EXIT_FILE;
        }
    }
    cl_report_free(rep);
    an_inputs_free(&in);
    if (o.plot || o.plot_dir)
        cl_plot_release(); /* the font caches the figures loaded */
    return status;
}
