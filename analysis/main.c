/* cuplab-analyze: analyse session files (options in options.c, the
 * per-file work in run.c, the pipeline in the core library). */
#include <gsl/gsl_errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cl_log.h"
#include "cl_plot.h"
#include "cl_report.h"
#include "cl_session.h"
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
    cl_log_set_level(o.verbosity == 0 ? CL_LOG_ERROR : o.verbosity > 1 ? CL_LOG_INFO : CL_LOG_WARN);

    if (o.recover) {
        for (int i = 0; i < o.nfiles; i++) {
            cl_error err;
            cl_error_clear(&err);
            if (cl_session_recover(o.files[i], &err) != CL_OK) {
                fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(err.code));
                status = AN_EXIT_FILE;
            } else if (o.verbosity) {
                fprintf(stderr, "cuplab-analyze: %s: recovered\n", o.files[i]);
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
    cl_report *rep = cl_report_new(o.unit);
    if (!rep) {
        fprintf(stderr, "cuplab-analyze: out of memory\n");
        an_inputs_free(&in);
        return AN_EXIT_FILE;
    }
    for (int i = 0; i < o.nfiles; i++) {
        cl_error err;
        cl_error_clear(&err);
        size_t before = cl_report_sessions(rep);
        struct stat st;
        if (stat(o.files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr,
                    "cuplab-analyze: %s: is a directory, not a session file (to compare the "
                    "sessions in it, give --group-by FIELD)\n",
                    o.files[i]);
            status = AN_EXIT_FILE;
            continue;
        }
        rc = an_run_file(&o, o.files[i], rep, &err);
        if (rc == CL_OK && o.write)
            rc = an_write_back(&o, o.files[i], rep, before, &err);
        if (rc != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(rc));
            status = AN_EXIT_FILE;
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
