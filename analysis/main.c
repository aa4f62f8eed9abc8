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

/* --recover: each file's recording closed as far as it got. */
static int recover(const an_options *o)
{
    int status = AN_EXIT_OK;
    for (int i = 0; i < o->nfiles; i++) {
        cl_error err;
        bool recovered;
        cl_error_clear(&err);
        if (cl_session_recover(o->files[i], &recovered, &err) != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(err.code));
            status = AN_EXIT_FILE;
        } else if (o->verbosity) {
            fprintf(stderr,
                    recovered ? "cuplab-analyze: %s: recovered\n"
                              : "cuplab-analyze: %s: nothing to recover (the session has "
                                "a final status and is readable)\n",
                    o->files[i]);
        }
    }
    return status;
}

/* Each file into the report (and the export); a file that fails is said
 * and the others go on. */
static int analyse_files(const an_options *o, cl_report *rep, an_export *x)
{
    int status = AN_EXIT_OK;
    for (int i = 0; i < o->nfiles; i++) {
        cl_error err;
        cl_error_clear(&err);
        struct stat st;
        if (stat(o->files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr,
                    "cuplab-analyze: %s: is a directory, not a session file (to compare the "
                    "sessions in it, give --group-by FIELD)\n",
                    o->files[i]);
            status = AN_EXIT_FILE;
            continue;
        }
        int rc = an_run_file(o, o->files[i], rep, x, &err);
        if (rc != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(rc));
            status = AN_EXIT_FILE;
        }
    }
    return status;
}

/* The export closed (whatever was exported is kept, even if some files
 * failed) and the report written. */
static int finish(const an_options *o, cl_report *rep, an_export *x)
{
    int status = AN_EXIT_OK;
    cl_error err;
    cl_error_clear(&err);
    if (x && an_export_close(x, &err) != CL_OK) {
        fprintf(stderr, "cuplab-analyze: %s\n", err.msg);
        status = AN_EXIT_FILE;
    } else if (x && o->verbosity > 1) {
        fprintf(stderr, "cuplab-analyze: exported to %s\n", o->output);
    }
    if (cl_report_sessions(rep) > 0 &&
        (cl_report_write(rep, stdout, o->format, o->wide, &err) != CL_OK || fflush(stdout) != 0)) {
        fprintf(stderr, "cuplab-analyze: cannot write the results: %s\n", err.msg);
        status = AN_EXIT_FILE;
    }
    return status;
}

/* The per-session analysis: the export's output checked before any work,
 * then every file, then the export and the report. */
static int analyse(const an_options *o)
{
    an_export *x = NULL;
    if (o->export_format) {
        cl_error err;
        cl_error_clear(&err);
        if (an_export_open(&x, o->export_format, o->output, (size_t)o->nfiles, o->wide, o->unit,
                           o->force, &err) != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg);
            return err.code == CL_ERR_EXISTS ? AN_EXIT_USAGE : AN_EXIT_FILE;
        }
    }
    cl_report *rep = cl_report_new(o->unit);
    if (!rep) {
        fprintf(stderr, "cuplab-analyze: out of memory\n");
        an_export_abort(x);
        return AN_EXIT_FILE;
    }
    int status = analyse_files(o, rep, x);
    int closing = finish(o, rep, x);
    cl_report_free(rep);
    if (o->plot || o->plot_dir || o->report)
        cl_plot_release(); /* the font caches the figures loaded */
    return status != AN_EXIT_OK ? status : closing;
}

int main(int argc, char **argv)
{
    an_options o;
    an_inputs in;
    int status;

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
    if (o.recover)
        return recover(&o);
    if ((rc = an_report_check(&o)) >= 0)
        return rc;
    if ((rc = an_inputs_load(&o, &in)) >= 0) {
        an_inputs_free(&in);
        return rc;
    }
    if (o.group_by)
        status = an_cohort_run(&o);
    else if (o.follow)
        status = an_follow(&o, o.files[0]);
    else
        status = analyse(&o);
    an_inputs_free(&in);
    return status;
}
