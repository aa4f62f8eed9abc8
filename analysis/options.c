/* analysis/options: getopt_long parsing of cuplab-analyze's command line. */
#include "options.h"

#include "cl_cli.h"
#include "cl_version.h"
#include "cl_web.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROG "cuplab-analyze"

static const char usage[] =
    "Usage: cuplab-analyze [OPTION]... FILE...\n"
    "Analyse cuplab session files: per cup the calibrated vacuum curve, its phases\n"
    "(baseline, evacuation, hold, release), peak and hold vacuum, leak rate and\n"
    "exponential decay fit, dose; statistics across the cups of each session.\n"
    "Vacuum is reported as a positive pressure below ambient.\n"
    "\n"
    "Output:\n"
    "  -f, --format FMT       table (default), csv or json\n"
    "  -u, --unit UNIT        kPa (default), mmHg, mbar, Pa, inHg or psi\n"
    "      --wide             table: every column (default: the main ones);\n"
    "                         --export csv: the wide form\n"
    "      --plot FILE        overview figure of the session (.png, .svg or .pdf)\n"
    "      --plot-dir DIR     one figure per cup plus an overview per session\n"
    "      --plot-format EXT  figure type in --plot-dir: png (default), svg or pdf\n"
    "      --plot-size WxH    PNG size in pixels (default 1200x800; vector: 180 mm wide)\n"
    "      --figure-width L   print width: 85mm (single column), 180mm (double);\n"
    "                         PNG then at 300 dpi\n"
    "      --figure-height L  print height (default: from the width and the panels)\n"
    "      --report FILE.pdf  printed report (A4): the session's metadata, calibration,\n"
    "                         device integrity, overview figure and per-cup table;\n"
    "                         with --group-by the cohort's tests and figures\n"
    "      --write            store the results in the session file (/analysis);\n"
    "                         refused while the file is being recorded\n"
    "      --export FMT       write each cup's calibrated vacuum series, with its\n"
    "                         phases and markers, to -o OUT: csv (long; --wide:\n"
    "                         one column per cup), mat (MATLAB), edf (EDF+) or\n"
    "                         bdf (BDF+, 24-bit samples)\n"
    "  -o, --output OUT       the export's file (edf, bdf: a folder for several files)\n"
    "      --force            replace an existing export or report\n"
    "      --follow           follow a recording in progress: refresh the table\n"
    "                         until the recording ends or Ctrl-C\n"
    "      --interval S       refresh interval of --follow (default 1)\n"
    "      --live [ADDR:]PORT with --follow: serve the live view of cuplab-acquire\n"
    "                         --live for the file over HTTP on PORT, read-only\n"
    "                         (ADDR default 127.0.0.1: this machine only; 0: any\n"
    "                         free port)\n"
    "      --live-token TOKEN the token the live view asks for (default: random)\n"
    "Calibration:\n"
    "  -p, --profile FILE     sensor calibration profile (repeatable), matched to a\n"
    "                         cup by sensor serial; wins over profiles in the file\n"
    "      --sensor CUP=S     cup CUP has the sensor with serial S, or the one whose\n"
    "                         profile is the file S (repeatable; wins over the file)\n"
    "      --cupset FILE      cup-set profile (repeatable): cup volumes and baseline\n"
    "                         leaks, matched by cup set and cup id\n"
    "      --nominal-sensor   use the nominal MPXV6115V transfer for cups without a\n"
    "                         profile without warning (they stay flagged\n"
    "                         'uncalibrated'; the warning is printed otherwise)\n"
    "      --adc-bits N       ADC resolution when the device did not announce it\n"
    "Processing:\n"
    "      --filter KIND[:S]  median, hampel, gaussian or mean over S seconds\n"
    "                         (default 0.2; gaussian: sigma) before segmentation\n"
    "      --on P             engage threshold (default 20 mmHg; unit optional,\n"
    "                         mmHg when none)\n"
    "      --off P            disengage threshold (default 10 mmHg)\n"
    "      --dwell S          minimum time beyond a threshold (default 0.5)\n"
    "      --settle S         seconds after the last pump stroke left out of the\n"
    "                         hold window (default 3)\n"
    "      --marker-tolerance S  markers agree with the signal within S (default 5)\n"
    "Cohort comparison (docs/cohort.md); FILE may then be a folder or a pattern:\n"
    "      --group-by F[,F2]  compare groups of sessions by practitioner, subject,\n"
    "                         technique, site, material, size, cup_set or cup (with\n"
    "                         F2: the groups of F within each level of F2)\n"
    "      --metrics LIST     metrics compared (default peak_vacuum,time_to_peak_s,\n"
    "                         hold_duration_s,hold_mean,hold_change,decay_slope,\n"
    "                         pressure_time_integral,strokes; or all)\n"
    "      --target P[:D]     reference protocol, e.g. 300mmHg:10min, or a CSV curve\n"
    "      --table NAME       groups, tests, blocked, pairwise, repeatability,\n"
    "                         profiles, distances or sessions (text: that table\n"
    "                         only; csv: default groups)\n"
    "  -j, --jobs N           sessions read by N processes (default: one per\n"
    "                         processor)\n"
    "      --plot-dir DIR     here: box plots and mean profiles of the groups\n"
    "Other:\n"
    "      --recover          make an interrupted session file readable by every HDF5\n"
    "                         tool and mark it interrupted (no flushed row is lost)\n"
    "  -q, --quiet            errors only\n"
    "  -v, --verbose          more messages\n"
    "  -h, --help             this help\n"
    "  -V, --version          print the version and the library versions\n"
    "\n"
    "Exit status: 0 success (results may carry flags), 1 a file could not be read\n"
    "or written, 2 usage error (also: an --export output exists), 3 the live view\n"
    "could not listen.  Columns: docs/analysis.md.\n";

enum {
    OPT_WIDE = 256, OPT_PLOT, OPT_PLOT_DIR, OPT_PLOT_FORMAT, OPT_PLOT_SIZE, OPT_FIG_W, OPT_FIG_H, OPT_WRITE,
    OPT_FOLLOW, OPT_INTERVAL, OPT_CUPSET, OPT_NOMINAL, OPT_ADC_BITS, OPT_FILTER, OPT_ON,
    OPT_OFF, OPT_DWELL, OPT_SETTLE, OPT_MARKER_TOL, OPT_RECOVER,
    OPT_GROUP_BY, OPT_METRICS, OPT_TARGET, OPT_TABLE, OPT_EXPORT, OPT_FORCE,
    OPT_SENSOR, OPT_LIVE, OPT_LIVE_TOKEN,
};

enum { OPT_REPORT = 400 };

#define bad(...) cl_cli_usage_error(PROG, AN_EXIT_USAGE, __VA_ARGS__)

static bool pressure(const char *s, double *kpa)
{
    cl_error err;
    return cl_unit_parse_kpa(s, CL_UNIT_BARE, kpa, &err) == CL_OK && *kpa >= 0;
}

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {"unit", required_argument, NULL, 'u'},
    {"wide", no_argument, NULL, OPT_WIDE},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"plot-dir", required_argument, NULL, OPT_PLOT_DIR},
    {"plot-format", required_argument, NULL, OPT_PLOT_FORMAT},
    {"plot-size", required_argument, NULL, OPT_PLOT_SIZE},
    {"figure-width", required_argument, NULL, OPT_FIG_W},
    {"figure-height", required_argument, NULL, OPT_FIG_H},
    {"report", required_argument, NULL, OPT_REPORT},
    {"write", no_argument, NULL, OPT_WRITE},
    {"export", required_argument, NULL, OPT_EXPORT},
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, OPT_FORCE},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"live", required_argument, NULL, OPT_LIVE},
    {"live-token", required_argument, NULL, OPT_LIVE_TOKEN},
    {"profile", required_argument, NULL, 'p'},
    {"cupset", required_argument, NULL, OPT_CUPSET},
    {"sensor", required_argument, NULL, OPT_SENSOR},
    {"nominal-sensor", no_argument, NULL, OPT_NOMINAL},
    {"adc-bits", required_argument, NULL, OPT_ADC_BITS},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"on", required_argument, NULL, OPT_ON},
    {"off", required_argument, NULL, OPT_OFF},
    {"dwell", required_argument, NULL, OPT_DWELL},
    {"settle", required_argument, NULL, OPT_SETTLE},
    {"marker-tolerance", required_argument, NULL, OPT_MARKER_TOL},
    {"recover", no_argument, NULL, OPT_RECOVER},
    {"group-by", required_argument, NULL, OPT_GROUP_BY},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"target", required_argument, NULL, OPT_TARGET},
    {"table", required_argument, NULL, OPT_TABLE},
    {"jobs", required_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* What an option handler says: it took the option (TAKEN), it is not one of
 * its options (NOT_MINE), or an exit status (>= 0) after a usage error. */
enum { TAKEN = -1, NOT_MINE = -2 };

/* Tables, figures, --write, exports, --follow and its live view. */
static int output_option(an_options *o, int opt, const char *arg)
{
    int w, h;
    char tail;
    cl_error e = {0};
    switch (opt) {
    case 'f':
        if (!(o->format = cl_table_format_from_name(arg)))
            return bad("unknown format '%s' (table, csv or json)", arg);
        return TAKEN;
    case 'u':
        if (!(o->unit = cl_unit_from_name(arg)))
            return bad("unknown unit '%s' (kPa, mmHg, mbar, Pa, inHg or psi)", arg);
        return TAKEN;
    case OPT_WIDE: o->wide = true; return TAKEN;
    case OPT_PLOT: o->plot = arg; return TAKEN;
    case OPT_PLOT_DIR: o->plot_dir = arg; return TAKEN;
    case OPT_REPORT: o->report = arg; return TAKEN;
    case OPT_PLOT_FORMAT:
        if (strcasecmp(arg, "png") && strcasecmp(arg, "svg") && strcasecmp(arg, "pdf"))
            return bad("unknown figure type '%s' (png, svg or pdf)", arg);
        o->plot_format = arg;
        return TAKEN;
    case OPT_PLOT_SIZE:
        if (sscanf(arg, "%dx%d%c", &w, &h, &tail) != 2 || w < 100 || h < 100 || w > 10000 ||
            h > 10000)
            return bad("--plot-size '%s': expected WxH, 100..10000 pixels", arg);
        o->plot_size.width_px = w;
        o->plot_size.height_px = h;
        return TAKEN;
    case OPT_FIG_W:
    case OPT_FIG_H:
        if (cl_plot_parse_length(arg, opt == OPT_FIG_W ? &o->plot_size.width_mm
                                                       : &o->plot_size.height_mm,
                                 &e) != CL_OK)
            return bad("--figure-width/--figure-height %s", e.msg);
        return TAKEN;
    case OPT_WRITE: o->write = true; return TAKEN;
    case OPT_EXPORT:
        if (!(o->export_format = an_export_format_from_name(arg)))
            return bad("unknown export format '%s' (csv, mat, edf or bdf)", arg);
        return TAKEN;
    case 'o': o->output = arg; return TAKEN;
    case OPT_FORCE: o->force = true; return TAKEN;
    case OPT_FOLLOW: o->follow = true; return TAKEN;
    case OPT_INTERVAL:
        if (!cl_cli_double(arg, 0.05, 3600, &o->interval_s))
            return bad("--interval '%s': expected 0.05..3600 seconds", arg);
        return TAKEN;
    case OPT_LIVE:
    case OPT_LIVE_TOKEN:
        if (cl_web_option(&o->live, opt == OPT_LIVE_TOKEN, arg, &e) != CL_OK)
            return bad("%s", e.msg);
        return TAKEN;
    }
    return NOT_MINE;
}

/* Profiles, cup sets and sensors. */
static int calibration_option(an_options *o, int opt, const char *arg)
{
    double x;
    const char *eq;
    switch (opt) {
    case 'p':
        if (o->nprofile_files == AN_MAX_PROFILES)
            return bad("too many profiles (at most %s)", "64");
        o->profile_files[o->nprofile_files++] = arg;
        return TAKEN;
    case OPT_CUPSET:
        if (o->ncupset_files == AN_MAX_PROFILES)
            return bad("too many cup sets (at most %s)", "64");
        o->cupset_files[o->ncupset_files++] = arg;
        return TAKEN;
    case OPT_SENSOR:
        eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1])
            return bad("--sensor '%s': expected CUP=SERIAL or CUP=PROFILE.json", arg);
        if (o->nsensor_args == AN_MAX_PROFILES)
            return bad("too many --sensor (at most %s)", "64");
        o->sensor_args[o->nsensor_args++] = arg;
        return TAKEN;
    case OPT_NOMINAL: o->an.nominal_ack = true; return TAKEN;
    case OPT_ADC_BITS:
        if (!cl_cli_double(arg, 1, 30, &x) || x != floor(x))
            return bad("--adc-bits '%s': expected 1..30", arg);
        o->an.adc_bits = (int)x;
        return TAKEN;
    }
    return NOT_MINE;
}

/* --filter KIND[:WIDTH] */
static int filter_option(an_options *o, const char *arg)
{
    char kind[32];
    const char *colon = strchr(arg, ':');
    size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
    snprintf(kind, sizeof kind, "%.*s", (int)(len < sizeof kind ? len : sizeof kind - 1), arg);
    o->an.filter = cl_filter_from_name(kind);
    if (o->an.filter == CL_FILTER_NONE)
        return bad("unknown filter '%s' (median, hampel, gaussian or mean)", kind);
    o->an.filter_s = 0.2;
    if (colon && !cl_cli_double(colon + 1, 1e-4, 60, &o->an.filter_s))
        return bad("--filter '%s': width must be 0.0001..60 seconds", arg);
    return TAKEN;
}

/* Filtering, segmentation and metrics. */
static int processing_option(an_options *o, int opt, const char *arg)
{
    switch (opt) {
    case OPT_FILTER:
        return filter_option(o, arg);
    case OPT_ON:
        if (!pressure(arg, &o->an.seg.on_kpa))
            return bad("--on '%s': expected a pressure such as 20 or 2.7kPa", arg);
        return TAKEN;
    case OPT_OFF:
        if (!pressure(arg, &o->an.seg.off_kpa))
            return bad("--off '%s': expected a pressure such as 10 or 1.3kPa", arg);
        return TAKEN;
    case OPT_DWELL:
        if (!cl_cli_double(arg, 0, 60, &o->an.seg.dwell_s))
            return bad("--dwell '%s': expected 0..60 seconds", arg);
        return TAKEN;
    case OPT_SETTLE:
        if (!cl_cli_double(arg, 0, 600, &o->an.met.settle_s))
            return bad("--settle '%s': expected 0..600 seconds", arg);
        return TAKEN;
    case OPT_MARKER_TOL:
        if (!cl_cli_double(arg, 0, 3600, &o->an.marker_tol_s))
            return bad("--marker-tolerance '%s': expected 0..3600 seconds", arg);
        return TAKEN;
    }
    return NOT_MINE;
}

/* Recovery, cohorts, jobs, messages, help and version. */
static int program_option(an_options *o, int opt, const char *arg)
{
    double x;
    switch (opt) {
    case OPT_RECOVER: o->recover = true; return TAKEN;
    case OPT_GROUP_BY: o->group_by = arg; return TAKEN;
    case OPT_METRICS: o->metrics = arg; return TAKEN;
    case OPT_TARGET: o->target = arg; return TAKEN;
    case OPT_TABLE: o->table = arg; return TAKEN;
    case 'j':
        if (!cl_cli_double(arg, 0, 256, &x) || x != floor(x))
            return bad("--jobs '%s': expected 0..256 (0: one per processor)", arg);
        o->jobs = (int)x;
        return TAKEN;
    case 'q': o->verbosity = 0; return TAKEN;
    case 'v': o->verbosity = 2; return TAKEN;
    case 'h': fputs(usage, stdout); return AN_EXIT_OK;
    case 'V': cl_version_print(stdout, PROG); return AN_EXIT_OK;
    }
    return NOT_MINE;
}

/* What the options and files given make together. */
static int combination(const an_options *o, int nfiles)
{
    if (o->an.seg.off_kpa >= o->an.seg.on_kpa)
        return bad("the --off threshold must be below the --on threshold");
    if (nfiles == 0)
        return bad("no session file given");
    if (o->follow && nfiles != 1)
        return bad("--follow takes exactly one file");
    if (o->follow && (o->write || o->recover))
        return bad("--follow cannot be combined with --write or --recover");
    if (o->live.on && !o->follow)
        return bad("--live needs --follow (it serves the view of a recording in progress)");
    if (o->live.token && !o->live.on)
        return bad("--live-token needs --live");
    if (o->export_format && !o->output)
        return bad("--export needs -o OUT, the file to write");
    if (o->output && !o->export_format)
        return bad("-o OUT names the file of an --export FORMAT");
    if (o->export_format && (o->follow || o->recover || o->group_by))
        return bad("--export cannot be combined with --follow, --recover or --group-by");
    if ((o->target || o->metrics) && !o->group_by)
        return bad("%s compares sessions: it needs --group-by", o->target ? "--target" : "--metrics");
    if (o->plot && nfiles != 1 && !o->group_by)
        return bad("--plot takes one session file (use --plot-dir for several)");
    if (o->report && ((nfiles != 1 && !o->group_by) || o->follow || o->recover))
        return bad("--report takes one session file (or --group-by), without --follow or --recover");
    return -1;
}

int an_options_parse(an_options *o, int argc, char **argv)
{
    int opt, rc;

    memset(o, 0, sizeof *o);
    cl_analysis_defaults(&o->an);
    o->format = CL_TABLE_TEXT;
    o->unit = CL_UNIT_KPA;
    o->interval_s = 1.0;
    o->plot_format = "png";
    o->plot_size = (cl_plot_size){.width_px = 1200, .height_px = 800};
    o->verbosity = 1;
    opterr = 0; /* the messages below name the program, not its path */
    while ((opt = getopt_long(argc, argv, ":f:u:p:j:o:qvhV", longopts, NULL)) != -1) {
        if (opt == ':')
            return bad("option '%s' needs a value", argv[optind - 1]);
        if ((rc = output_option(o, opt, optarg)) == NOT_MINE &&
            (rc = calibration_option(o, opt, optarg)) == NOT_MINE &&
            (rc = processing_option(o, opt, optarg)) == NOT_MINE &&
            (rc = program_option(o, opt, optarg)) == NOT_MINE)
            return bad("unknown option '%s'", argv[optind - 1]);
        if (rc >= 0)
            return rc;
    }
    if ((rc = combination(o, argc - optind)) >= 0)
        return rc;
    o->files = argv + optind;
    o->nfiles = argc - optind;
    return -1;
}
