/* cuplab-analyze: read session files and report on them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_log.h"
#include "cl_session.h"
#include "cl_summary.h"
#include "cl_table.h"

enum { EXIT_OK = 0, EXIT_FILE = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "Usage: cuplab-analyze [OPTION]... FILE...\n"
    "Report on cuplab session files: per cup the sample count, duration and the\n"
    "range and mean of the raw readings.\n"
    "\n"
    "  -f, --format FMT   table (default), csv or json\n"
    "      --recover      make an interrupted session file readable by every HDF5\n"
    "                     tool and mark it interrupted (no flushed row is lost)\n"
    "  -q, --quiet        errors only\n"
    "  -h, --help         this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 a file could not be read, 2 usage error.\n";

static const char *status_name(cl_session_status s)
{
    return s == CL_SESSION_COMPLETE ? "complete" : s == CL_SESSION_INTERRUPTED ? "interrupted"
                                                                               : "recording";
}

enum { C_FILE, C_SESSION, C_STATUS, C_CUP, C_DEV, C_CH, C_SITE, C_N, C_MISSING, C_DUR,
       C_MIN, C_MAX, C_MEAN };

static cl_table *summary_table(void)
{
    cl_table *t = cl_table_new();
    if (!t)
        return NULL;
    cl_table_add_column(t, "file", NULL, 0);
    cl_table_add_column(t, "session_uuid", NULL, 0);
    cl_table_add_column(t, "status", NULL, 0);
    cl_table_add_column(t, "cup", NULL, 0);
    cl_table_add_column(t, "device", NULL, 0);
    cl_table_add_column(t, "channel", NULL, 0);
    cl_table_add_column(t, "site", NULL, 0);
    cl_table_add_column(t, "samples", NULL, 0);
    cl_table_add_column(t, "missing", NULL, 0);
    cl_table_add_column(t, "duration_s", "s", 6);
    cl_table_add_column(t, "min_raw", "counts", 8);
    cl_table_add_column(t, "max_raw", "counts", 8);
    cl_table_add_column(t, "mean_raw", "counts", 8);
    return t;
}

/* Append one row per cup of `path` to `t`. */
static int summarise(const char *path, cl_table *t, cl_error *err)
{
    cl_session_reader *r;
    int rc = cl_session_open(&r, path, err);

    if (rc != CL_OK)
        return rc;
    for (size_t k = 0; k < cl_session_cup_count(r); k++) {
        const cl_session_cup *c = cl_session_cup_info(r, k);
        cl_cup_summary s;
        rc = cl_summary_cup(r, k, &s, err);
        if (rc != CL_OK)
            break;
        cl_table_add_row(t);
        cl_table_set_str(t, C_FILE, path);
        cl_table_set_str(t, C_SESSION, cl_session_attr(r, "session_uuid"));
        cl_table_set_str(t, C_STATUS, status_name(cl_session_reader_status(r)));
        cl_table_set_str(t, C_CUP, c->cup_id);
        cl_table_set_num(t, C_DEV, c->device);
        cl_table_set_num(t, C_CH, c->channel);
        cl_table_set_str(t, C_SITE, c->site);
        cl_table_set_num(t, C_N, (double)s.samples);
        cl_table_set_num(t, C_MISSING, (double)s.missing);
        cl_table_set_num(t, C_DUR, s.duration_s);
        cl_table_set_num(t, C_MIN, s.min_raw);
        cl_table_set_num(t, C_MAX, s.max_raw);
        cl_table_set_num(t, C_MEAN, s.mean_raw);
    }
    cl_session_reader_close(r);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"recover", no_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    cl_table_format fmt = CL_TABLE_TEXT;
    int opt, status = EXIT_OK, quiet = 0, recover = 0;

    cl_log_set_prefix("cuplab-analyze");
    while ((opt = getopt_long(argc, argv, "f:qhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (!(fmt = cl_table_format_from_name(optarg))) {
                fprintf(stderr, "cuplab-analyze: unknown format '%s' (table, csv or json)\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'R': recover = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'V': printf("cuplab-analyze %s\n", CUPLAB_VERSION); return EXIT_OK;
        default:
            fprintf(stderr, "Try 'cuplab-analyze --help' for more information.\n");
            return EXIT_USAGE;
        }
    }
    if (optind == argc) {
        fprintf(stderr, "cuplab-analyze: no session file given\n"
                        "Try 'cuplab-analyze --help' for more information.\n");
        return EXIT_USAGE;
    }
    cl_table *t = recover ? NULL : summary_table();
    if (!recover && !t) {
        fprintf(stderr, "cuplab-analyze: out of memory\n");
        return EXIT_FILE;
    }
    for (int i = optind; i < argc; i++) {
        cl_error err;
        cl_error_clear(&err);
        int rc = recover ? cl_session_recover(argv[i], &err) : summarise(argv[i], t, &err);
        if (rc != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg[0] ? err.msg : cl_strerror(rc));
            status = EXIT_FILE;
        } else if (recover && !quiet) {
            fprintf(stderr, "cuplab-analyze: %s: recovered\n", argv[i]);
        }
    }
    if (t) {
        cl_error err;
        if (cl_table_rows(t) > 0 && cl_table_write(t, stdout, fmt, "raw readings per cup", &err) != CL_OK) {
            fprintf(stderr, "cuplab-analyze: %s\n", err.msg);
            status = EXIT_FILE;
        }
        cl_table_free(t);
    }
    return status;
}
