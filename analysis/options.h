/* analysis/options: command line of cuplab-analyze. */
#ifndef ANALYSIS_OPTIONS_H
#define ANALYSIS_OPTIONS_H

#include <stdbool.h>

#include "pipeline/cl_analysis.h"
#include "cl_plot.h"
#include "cl_table.h"
#include "cl_units.h"
#include "cl_web.h"
#include "output/export.h"

/* Exit codes (documented in --help and docs/analysis.md). */
enum {
    AN_EXIT_OK = 0,    /* every file analysed (results may carry flags) */
    AN_EXIT_FILE = 1,  /* a file, profile or figure could not be read or written */
    AN_EXIT_USAGE = 2, /* bad command line */
    AN_EXIT_LIVE = 3,  /* --live could not serve (the port in use) */
};

#define AN_MAX_PROFILES 64

typedef struct an_options {
    cl_analysis_options an;
    cl_table_format format;
    cl_unit unit;
    bool wide;          /* text table: every column */
    bool recover;       /* --recover instead of analysing */
    bool write;         /* store results in the session file */
    bool follow;        /* live view */
    an_export_format export_format; /* --export, 0 for none */
    const char *output; /* -o: the export's file */
    bool force;         /* replace an existing export */
    double interval_s;  /* --follow refresh */
    cl_web_listen live; /* --follow --live, --live-token: serve the live view */
    const char *plot;   /* overview figure file */
    const char *plot_dir;
    const char *plot_format; /* "png", "svg", "pdf" */
    cl_plot_size plot_size;  /* --plot-size pixels, --figure-width/-height mm */
    const char *report;      /* --report: the printed report (PDF) */
    const char *profile_files[AN_MAX_PROFILES];
    size_t nprofile_files;
    const char *cupset_files[AN_MAX_PROFILES];
    size_t ncupset_files;
    const char *sensor_args[AN_MAX_PROFILES]; /* --sensor CUP=SERIAL|FILE */
    size_t nsensor_args;
    int verbosity;      /* 0 quiet, 1 normal, 2 verbose */
    bool cupsets_warned; /* --follow: the cup-set warning was given once */
    /* cohort comparison (cohort.c), on when group_by is set */
    const char *group_by; /* --group-by FIELD[,FIELD] */
    const char *metrics;  /* --metrics LIST, NULL for the default set */
    const char *target;   /* --target VACUUM[:DURATION] or CSV */
    const char *table;    /* --table NAME */
    int jobs;             /* -j N; 0: one per processor */
    char **files;
    int nfiles;
} an_options;

/* Parse argv.  Returns -1 to go on, or an exit code (help/version: 0,
 * usage error: 2, message already printed). */
int an_options_parse(an_options *o, int argc, char **argv);

#endif
