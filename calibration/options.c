/* calibration/options: getopt_long parsing of the cuplab-calibrate command line. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "cl_cli.h"
#include "cl_output.h"
#include "cl_plot.h"
#include "cl_version.h"

static const char usage[] =
    "Usage: cuplab-calibrate sensor [OPTION]... POINTS.csv\n"
    "       cuplab-calibrate sensor [OPTION]... --live PORT[:BAUD[:PROTOCOL]]\n"
    "       cuplab-calibrate cupset [OPTION]... CUPS.csv\n"
    "       cuplab-calibrate check [OPTION]... OLD.json NEW.json\n"
    "       cuplab-calibrate show [OPTION]... PROFILE.json\n"
    "       cuplab-calibrate apply [OPTION]... PROFILE.json RAW...\n"
    "Calibrate vacuum sensors against a reference gauge and characterise cup sets;\n"
    "write, show, compare and apply calibration profiles (JSON).\n"
    "\n"
    "Common options:\n"
    "  -o, --output FILE       profile to write (never replaced without --force)\n"
    "  -f, --format FMT        report format: table (default), csv or json\n"
    "      --table NAME        report table: summary, setpoints, points or all\n"
    "                          (default: all; csv: points)\n"
    "  -u, --unit UNIT         unit of reported pressures (kPa; Pa, kPa, mbar,\n"
    "                          mmHg, inHg, psi)\n"
    "      --ref-unit UNIT     unit of the reference gauge: of input pressures when\n"
    "                          the file does not say, of typed readings and --ref-u\n"
    "      --force             replace an existing output file\n"
    "  -c, --config FILE       recurring settings: \"key = value\" lines, keys being\n"
    "                          long options (operator, reference, ref-u, unit, ...);\n"
    "                          the command line wins, settings that do not apply to\n"
    "                          the subcommand are ignored\n"
    "  -q, --quiet             errors only      -v, --verbose  more messages\n"
    "  -h, --help              this help        -V, --version  versions (and libraries)\n"
    "Pressures on the command line may carry a unit (--tolerance 0.4kPa); a bare\n"
    "number is in mmHg, as in every cuplab program.\n"
    "\n"
    "sensor: fit raw reading -> gauge pressure (polynomial of degree 1 to 3)\n"
    "      --serial SN         sensor serial (live: default from the device)\n"
    "      --model NAME        sensor model\n"
    "      --ref-u U           the reference instrument's expanded uncertainty\n"
    "                          (required; bare number in --ref-unit, else mmHg)\n"
    "      --ref-k K           its coverage factor (2)\n"
    "      --reference NAME    the reference instrument\n"
    "      --operator NAME     --notes TEXT   --temperature CELSIUS\n"
    "      --date DATE         calibration date (now; YYYY-MM-DD[Thh:mm:ssZ])\n"
    "      --valid-days N      profile valid for N days (365)\n"
    "      --valid-until DATE  or until this date\n"
    "  -d, --degree N          polynomial degree (default: the lowest meeting the\n"
    "                          tolerance)\n"
    "  -t, --tolerance P       verdict: |residual| + U within P at every point\n"
    "                          (default 3 mmHg)\n"
    "      --group P           readings closer than P are one setpoint (1 % of span)\n"
    "      --force-write       write the profile even if it fails (\"pass\": false)\n"
    "      --figure FILE       residuals vs pressure (.png, .svg or .pdf)\n"
    "      --figure-width L    figure width (85mm, 180mm; PNG: 300 dpi; default 1000x650\n"
    "                          PNG pixels, 180 mm vector), also for cupset\n"
    "      --figure-height L   figure height (default: from the width)\n"
    "  live (--live PORT[:BAUD[:PROTOCOL]], baud 115200, protocol text):\n"
    "      --channel N         channel of the sensor, from 0 (0)\n"
    "      --samples N         samples averaged per point (50)\n"
    "      --stable-sd SD      stable when the SD of the last N samples <= SD counts (2)\n"
    "      --settle-timeout S  give up on a point after S seconds (60)\n"
    "      --text-timestamp    text protocol: first column is a device timestamp\n"
    "      --save-points FILE  keep the points in FILE (CSV) as they are taken, for\n"
    "                          a later fit or to continue after an interruption\n"
    "      --resume            continue: start from the points of --save-points FILE\n"
    "                          and add the new ones to it\n"
    "\n"
    "cupset: volumes and baseline leaks of the cups listed in CUPS.csv\n"
    "      --id ID             cup-set id (default: the list's file name)\n"
    "      --sensor-profile F  sensor profile for session decays (repeatable)\n"
    "      --ambient P         absolute ambient pressure for gauge readings (101.325 kPa)\n"
    "      --at P              state the leak rate at this vacuum (default: the start\n"
    "                          of each fitted decay)\n"
    "      --skip S            seconds skipped after the deepest vacuum (5)\n"
    "      --figure-dir DIR    write a decay figure per cup (DIR/CUP-decay.EXT; DIR\n"
    "                          is created)\n"
    "      --figure-format EXT png (default), svg or pdf\n"
    "      --operator, --notes, --temperature, --date, --valid-days, --valid-until\n"
    "\n"
    "check: drift of NEW against OLD (same sensor) at chosen pressures\n"
    "      --at P[,P...]       pressures (default: NEW's setpoints)\n"
    "  -t, --tolerance P       (default: NEW's tolerance)\n"
    "apply: calibrated pressure and U for raw readings (refuses an expired profile)\n"
    "\n"
    "Exit status: 0 success, 1 error (input, data, expired profile, writing),\n"
    "2 usage error or an output file that exists (refused before any work),\n"
    "3 port could not be opened or the device went away, 4 the calibration misses\n"
    "the tolerance or the drift exceeds it.\n";

void cal_error(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cal_warn(const cal_options *o, const char *fmt, ...)
{
    va_list ap;
    if (o->verbosity < 1)
        return;
    fputs(PROG ": warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#define usage_error(...) cl_cli_usage_error(PROG, CAL_EXIT_USAGE, __VA_ARGS__)

enum {
    OPT_TABLE = 256,
    OPT_REF_UNIT,
    OPT_FORCE,
    OPT_SERIAL,
    OPT_MODEL,
    OPT_REF_U,
    OPT_REF_K,
    OPT_REFERENCE,
    OPT_OPERATOR,
    OPT_NOTES,
    OPT_TEMP,
    OPT_DATE,
    OPT_VALID_DAYS,
    OPT_VALID_UNTIL,
    OPT_GROUP,
    OPT_FORCE_WRITE,
    OPT_FIGURE,
    OPT_LIVE,
    OPT_CHANNEL,
    OPT_SAMPLES,
    OPT_STABLE_SD,
    OPT_SETTLE,
    OPT_TEXT_TS,
    OPT_SAVE_POINTS,
    OPT_RESUME,
    OPT_ID,
    OPT_SENSOR_PROFILE,
    OPT_AMBIENT,
    OPT_AT,
    OPT_SKIP,
    OPT_FIGURE_DIR,
    OPT_FIGURE_WIDTH,
    OPT_FIGURE_HEIGHT,
    OPT_FIGURE_FORMAT,
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, 'f'},
    {"table", required_argument, NULL, OPT_TABLE},
    {"unit", required_argument, NULL, 'u'},
    {"ref-unit", required_argument, NULL, OPT_REF_UNIT},
    {"force", no_argument, NULL, OPT_FORCE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"model", required_argument, NULL, OPT_MODEL},
    {"ref-u", required_argument, NULL, OPT_REF_U},
    {"ref-k", required_argument, NULL, OPT_REF_K},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"operator", required_argument, NULL, OPT_OPERATOR},
    {"notes", required_argument, NULL, OPT_NOTES},
    {"temperature", required_argument, NULL, OPT_TEMP},
    {"date", required_argument, NULL, OPT_DATE},
    {"valid-days", required_argument, NULL, OPT_VALID_DAYS},
    {"valid-until", required_argument, NULL, OPT_VALID_UNTIL},
    {"degree", required_argument, NULL, 'd'},
    {"tolerance", required_argument, NULL, 't'},
    {"group", required_argument, NULL, OPT_GROUP},
    {"force-write", no_argument, NULL, OPT_FORCE_WRITE},
    {"figure", required_argument, NULL, OPT_FIGURE},
    {"live", required_argument, NULL, OPT_LIVE},
    {"channel", required_argument, NULL, OPT_CHANNEL},
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"stable-sd", required_argument, NULL, OPT_STABLE_SD},
    {"settle-timeout", required_argument, NULL, OPT_SETTLE},
    {"text-timestamp", no_argument, NULL, OPT_TEXT_TS},
    {"save-points", required_argument, NULL, OPT_SAVE_POINTS},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"id", required_argument, NULL, OPT_ID},
    {"sensor-profile", required_argument, NULL, OPT_SENSOR_PROFILE},
    {"ambient", required_argument, NULL, OPT_AMBIENT},
    {"at", required_argument, NULL, OPT_AT},
    {"skip", required_argument, NULL, OPT_SKIP},
    {"figure-dir", required_argument, NULL, OPT_FIGURE_DIR},
    {"figure-width", required_argument, NULL, OPT_FIGURE_WIDTH},
    {"figure-height", required_argument, NULL, OPT_FIGURE_HEIGHT},
    {"figure-format", required_argument, NULL, OPT_FIGURE_FORMAT},
    {NULL, 0, NULL, 0},
};

static const char *option_name(int opt)
{
    for (const struct option *p = longopts; p->name; p++)
        if (p->val == opt)
            return p->name;
    return "?";
}

/* Whether subcommand `cmd` accepts option `opt`; the common options
 * (format, unit, table, quiet, ...) apply to all. */
static bool allowed(cal_command cmd, int opt)
{
    switch (opt) {
    case 'o':
    case OPT_FORCE:
        return cmd == CMD_SENSOR || cmd == CMD_CUPSET;
    case 'd':
    case OPT_GROUP:
    case OPT_FORCE_WRITE:
    case OPT_FIGURE:
    case OPT_SERIAL:
    case OPT_MODEL:
    case OPT_REF_U:
    case OPT_REF_K:
    case OPT_REFERENCE:
    case OPT_LIVE:
    case OPT_CHANNEL:
    case OPT_SAMPLES:
    case OPT_STABLE_SD:
    case OPT_SETTLE:
    case OPT_TEXT_TS:
    case OPT_SAVE_POINTS:
    case OPT_RESUME:
        return cmd == CMD_SENSOR;
    case 't':
        return cmd == CMD_SENSOR || cmd == CMD_CHECK;
    case OPT_OPERATOR:
    case OPT_NOTES:
    case OPT_TEMP:
    case OPT_DATE:
    case OPT_VALID_DAYS:
    case OPT_VALID_UNTIL:
        return cmd == CMD_SENSOR || cmd == CMD_CUPSET;
    case OPT_ID:
    case OPT_SENSOR_PROFILE:
    case OPT_AMBIENT:
    case OPT_SKIP:
    case OPT_FIGURE_DIR:
    case OPT_FIGURE_FORMAT:
        return cmd == CMD_CUPSET;
    case OPT_AT:
        return cmd == CMD_CUPSET || cmd == CMD_CHECK;
    case OPT_REF_UNIT:
    case OPT_FIGURE_WIDTH:
    case OPT_FIGURE_HEIGHT:
        return cmd == CMD_SENSOR || cmd == CMD_CUPSET;
    default:
        return true;
    }
}

/* PORT[:BAUD[:PROTOCOL]] */
static int parse_port(cal_options *o, char *spec)
{
    cl_error err;
    o->live_port = spec;
    if (cl_cli_port_spec(spec, &o->baud, &o->protocol, &err) != CL_OK)
        return usage_error("%s", err.msg);
    return -1;
}

/* Config-file settings: long options of any subcommand; those that do not
 * apply to this one are skipped. */
static int config_accept(void *ctx, const char *key, const struct option *op)
{
    const cal_options *o = ctx;
    if (!op || !strcmp(key, "config") || !strcmp(key, "help") || !strcmp(key, "version"))
        return CL_CLI_UNKNOWN;
    return allowed(o->cmd, op->val) ? CL_CLI_OPTION : CL_CLI_SKIP;
}

void cal_options_free(cal_options *o) { cl_cli_config_free(&o->config); }

static int pressure(const char *opt, const char *text, cl_unit dflt, double *kpa)
{
    cl_error e;
    if (cl_unit_parse_kpa(text, dflt, kpa, &e) != CL_OK)
        return usage_error("%s: %s", opt, e.msg);
    return -1;
}

/* The files the run will write, checked before any work: an existing one
 * is refused without --force (exit 2), one whose folder is missing is an
 * error (exit 1).  Figures are replaced.  Returns an exit code or -1. */
static int check_outputs(const cal_options *o)
{
    const char *files[] = {o->output, o->resume ? NULL : o->save_points};
    cl_error e;
    int rc = cl_output_check_all(files, 2, o->force, &e);
    if (rc == CL_OK && o->figure)
        rc = cl_output_check(o->figure, true, &e);
    if (rc != CL_OK) {
        cal_error("%s", e.msg);
        return rc == CL_ERR_EXISTS ? CAL_EXIT_USAGE : CAL_EXIT_ERROR;
    }
    return -1;
}

/* Pressures and the other values a command line gives as text until the
 * units are known. */
typedef struct pending {
    const char *tolerance, *ref_u, *group, *ambient, *at;
} pending;

/* What an option handler says: it took the option (TAKEN), it is not one of
 * its options (NOT_MINE), or an exit status (>= 0) after a usage error. */
enum { TAKEN = -1, NOT_MINE = -2 };

static void defaults(cal_options *o)
{
    memset(o, 0, sizeof *o);
    o->format = CL_TABLE_TEXT;
    o->unit = CL_UNIT_KPA;
    o->figure_size = (cl_plot_size){.width_px = 1000, .height_px = 650};
    o->figure_format = "png";
    o->verbosity = 1;
    o->tolerance_kpa = o->ref_u_kpa = o->temperature_c = NAN;
    o->ref_k = 2;
    o->ambient_kpa = CL_KPA_ATMOSPHERE;
    o->valid_days = 365;
    o->baud = 115200;
    o->protocol = CL_WIRE_TEXT;
    o->samples = 50;
    o->stable_sd = 2;
    o->settle_s = 60;
    o->skip_s = -1;
}

/* argv[1]: the subcommand, or --help / --version before one. */
static int subcommand(cal_options *o, int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing subcommand (sensor, cupset, check, show or apply)");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(usage, stdout);
        return CAL_EXIT_OK;
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "-V") == 0) {
        cl_version_print(stdout, PROG);
        return CAL_EXIT_OK;
    }
    if (strcmp(sub, "sensor") == 0)
        o->cmd = CMD_SENSOR;
    else if (strcmp(sub, "cupset") == 0)
        o->cmd = CMD_CUPSET;
    else if (strcmp(sub, "check") == 0)
        o->cmd = CMD_CHECK;
    else if (strcmp(sub, "show") == 0)
        o->cmd = CMD_SHOW;
    else if (strcmp(sub, "apply") == 0)
        o->cmd = CMD_APPLY;
    else if (sub[0] == '-')
        return usage_error("unknown option '%s' before the subcommand", sub);
    else
        return usage_error("unknown subcommand '%s' (sensor, cupset, check, show or apply)",
                           sub);
    return -1;
}

/* Output, units and messages: the options of every subcommand. */
static int common_option(cal_options *o, int opt, const char *arg)
{
    switch (opt) {
    case 'c':
        return TAKEN; /* read by cl_cli_config_expand() */
    case 'o':
        o->output = arg;
        return TAKEN;
    case 'f':
        if (!(o->format = cl_table_format_from_name(arg)))
            return usage_error("unknown format '%s' (table, csv or json)", arg);
        return TAKEN;
    case OPT_TABLE:
        if (strcmp(arg, "summary") && strcmp(arg, "setpoints") && strcmp(arg, "points") &&
            strcmp(arg, "all") && strcmp(arg, "cups"))
            return usage_error("unknown table '%s' (summary, setpoints, points, all)", arg);
        o->table = arg;
        return TAKEN;
    case 'u':
        if (!(o->unit = cl_unit_from_name(arg)))
            return usage_error("unknown unit '%s' (%s)", arg, cl_unit_names());
        return TAKEN;
    case OPT_REF_UNIT:
        if (!(o->ref_unit = cl_unit_from_name(arg)))
            return usage_error("unknown reference unit '%s' (%s)", arg, cl_unit_names());
        return TAKEN;
    case OPT_FORCE:
        o->force = true;
        return TAKEN;
    case 'q':
        o->verbosity = 0;
        return TAKEN;
    case 'v':
        o->verbosity = 2;
        return TAKEN;
    case 'h':
        fputs(usage, stdout);
        return CAL_EXIT_OK;
    case 'V':
        cl_version_print(stdout, PROG);
        return CAL_EXIT_OK;
    }
    return NOT_MINE;
}

/* What a profile says of itself: sensor, reference, dates, the fit. */
static int profile_option(cal_options *o, pending *p, int opt, const char *arg)
{
    long v;
    time_t t;
    switch (opt) {
    case OPT_SERIAL:
        o->serial = arg;
        return TAKEN;
    case OPT_MODEL:
        o->model = arg;
        return TAKEN;
    case OPT_REF_U:
        p->ref_u = arg;
        return TAKEN;
    case OPT_REF_K:
        if (!cl_cli_double(arg, 0.5, 10, &o->ref_k))
            return usage_error("--ref-k: expected a coverage factor 0.5..10, got '%s'", arg);
        return TAKEN;
    case OPT_REFERENCE:
        o->reference = arg;
        return TAKEN;
    case OPT_OPERATOR:
        o->operator_name = arg;
        return TAKEN;
    case OPT_NOTES:
        o->notes = arg;
        return TAKEN;
    case OPT_TEMP:
        if (!cl_cli_double(arg, -80, 200, &o->temperature_c))
            return usage_error("--temperature: expected degrees Celsius, got '%s'", arg);
        return TAKEN;
    case OPT_DATE:
        if (cl_profile_parse_date(arg, &t, NULL) != CL_OK)
            return usage_error("--date: '%s' is not YYYY-MM-DD[Thh:mm:ssZ]", arg);
        o->date = arg;
        return TAKEN;
    case OPT_VALID_DAYS:
        if (!cl_cli_long(arg, 1, 36500, &v))
            return usage_error("--valid-days: expected 1..36500, got '%s'", arg);
        o->valid_days = (int)v;
        return TAKEN;
    case OPT_VALID_UNTIL:
        if (cl_profile_parse_date(arg, &t, NULL) != CL_OK)
            return usage_error("--valid-until: '%s' is not a date (YYYY-MM-DD)", arg);
        o->valid_until = arg;
        return TAKEN;
    case 'd':
        if (!cl_cli_long(arg, 1, CL_PROFILE_MAX_DEGREE, &v))
            return usage_error("--degree: expected 1 to %d, got '%s'", CL_PROFILE_MAX_DEGREE,
                               arg);
        o->degree = (int)v;
        return TAKEN;
    case 't':
        p->tolerance = arg;
        return TAKEN;
    case OPT_GROUP:
        p->group = arg;
        return TAKEN;
    case OPT_FORCE_WRITE:
        o->force_write = true;
        return TAKEN;
    }
    return NOT_MINE;
}

/* Live calibration from a device (sensor --live). */
static int live_option(cal_options *o, int opt, char *arg)
{
    long v;
    int rc;
    switch (opt) {
    case OPT_LIVE:
        return (rc = parse_port(o, arg)) >= 0 ? rc : TAKEN;
    case OPT_CHANNEL:
        if (!cl_cli_long(arg, 0, CL_WIRE_MAX_CHANNELS - 1, &v))
            return usage_error("--channel: expected 0 to %d, got '%s'", CL_WIRE_MAX_CHANNELS - 1,
                               arg);
        o->channel = (unsigned)v;
        return TAKEN;
    case OPT_SAMPLES:
        if (!cl_cli_long(arg, 2, 1000000, &v))
            return usage_error("--samples: expected 2 to 1000000, got '%s'", arg);
        o->samples = (size_t)v;
        return TAKEN;
    case OPT_STABLE_SD:
        if (!cl_cli_double(arg, 0, 1e9, &o->stable_sd))
            return usage_error("--stable-sd: expected a non-negative SD in counts, got '%s'",
                               arg);
        return TAKEN;
    case OPT_SETTLE:
        if (!cl_cli_double(arg, 0.1, 86400, &o->settle_s))
            return usage_error("--settle-timeout: expected seconds, got '%s'", arg);
        return TAKEN;
    case OPT_TEXT_TS:
        o->text_timestamp = true;
        return TAKEN;
    case OPT_SAVE_POINTS:
        o->save_points = arg;
        return TAKEN;
    case OPT_RESUME:
        o->resume = true;
        return TAKEN;
    }
    return NOT_MINE;
}

/* Cup sets (cupset) and figures. */
static int cupset_option(cal_options *o, pending *p, int opt, const char *arg)
{
    switch (opt) {
    case OPT_ID:
        o->set_id = arg;
        return TAKEN;
    case OPT_SENSOR_PROFILE:
        if (o->nprofiles == CAL_MAX_PROFILES)
            return usage_error("too many --sensor-profile (at most %d)", CAL_MAX_PROFILES);
        o->profiles[o->nprofiles++] = arg;
        return TAKEN;
    case OPT_AMBIENT:
        p->ambient = arg;
        return TAKEN;
    case OPT_AT:
        p->at = arg;
        return TAKEN;
    case OPT_SKIP:
        if (!cl_cli_double(arg, 0, 1e6, &o->skip_s))
            return usage_error("--skip: expected seconds, got '%s'", arg);
        return TAKEN;
    }
    return NOT_MINE;
}

static int figure_option(cal_options *o, int opt, const char *arg)
{
    char probe[16];
    cl_error e = {0};
    switch (opt) {
    case OPT_FIGURE:
        if (!cl_plot_device(arg))
            return usage_error("--figure: '%s' must end in .png, .svg or .pdf", arg);
        o->figure = arg;
        return TAKEN;
    case OPT_FIGURE_DIR:
        o->figure_dir = arg;
        return TAKEN;
    case OPT_FIGURE_FORMAT:
        snprintf(probe, sizeof probe, "x.%.8s", arg);
        if (!cl_plot_device(probe))
            return usage_error("--figure-format: '%s' is not png, svg or pdf", arg);
        o->figure_format = arg;
        return TAKEN;
    case OPT_FIGURE_WIDTH:
    case OPT_FIGURE_HEIGHT:
        if (cl_plot_parse_length(arg, opt == OPT_FIGURE_WIDTH ? &o->figure_size.width_mm
                                                              : &o->figure_size.height_mm,
                                 &e) != CL_OK)
            return usage_error("--%s: %s", option_name(opt), e.msg);
        return TAKEN;
    }
    return NOT_MINE;
}

/* One option, whichever group it is in. */
static int take_option(cal_options *o, pending *p, int opt, char *arg)
{
    int rc = common_option(o, opt, arg);
    if (rc == NOT_MINE)
        rc = profile_option(o, p, opt, arg);
    if (rc == NOT_MINE)
        rc = live_option(o, opt, arg);
    if (rc == NOT_MINE)
        rc = cupset_option(o, p, opt, arg);
    if (rc == NOT_MINE)
        rc = figure_option(o, opt, arg);
    return rc;
}

/* The pressures, now that the units are known. */
static int pressures(cal_options *o, const pending *p)
{
    int rc;
    if (p->tolerance &&
        (rc = pressure("--tolerance", p->tolerance, CL_UNIT_BARE, &o->tolerance_kpa)) >= 0)
        return rc;
    if (p->tolerance && !(o->tolerance_kpa > 0))
        return usage_error("--tolerance must be positive");
    if (p->ref_u && (rc = pressure("--ref-u", p->ref_u, o->ref_unit ? o->ref_unit : CL_UNIT_BARE,
                                   &o->ref_u_kpa)) >= 0)
        return rc;
    if (p->ref_u && !(o->ref_u_kpa >= 0))
        return usage_error("--ref-u must not be negative");
    if (p->group && (rc = pressure("--group", p->group, CL_UNIT_BARE, &o->group_kpa)) >= 0)
        return rc;
    if (p->group && !(o->group_kpa > 0))
        return usage_error("--group must be positive");
    if (p->ambient && (rc = pressure("--ambient", p->ambient, CL_UNIT_BARE, &o->ambient_kpa)) >= 0)
        return rc;
    if (p->ambient && !(o->ambient_kpa > 0))
        return usage_error("--ambient is an absolute pressure and must be positive");
    if (!p->at)
        return -1;
    char buf[1024], *save = NULL;
    snprintf(buf, sizeof buf, "%s", p->at);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->nat == CAL_MAX_AT)
            return usage_error("--at: at most %d pressures", CAL_MAX_AT);
        if ((rc = pressure("--at", tok, CL_UNIT_BARE, &o->at_kpa[o->nat])) >= 0)
            return rc;
        o->nat++;
    }
    if (o->nat == 0)
        return usage_error("--at: no pressure given");
    if (o->cmd == CMD_CUPSET && o->nat > 1)
        return usage_error("--at: cupset states the leak rate at one pressure");
    return -1;
}

/* The positional arguments and the options each subcommand requires. */
static int arguments(const cal_options *o, const pending *p)
{
    switch (o->cmd) {
    case CMD_SENSOR:
        if (o->live_port && o->nargs)
            return usage_error("give either a points file or --live, not both");
        if (!o->live_port && o->nargs != 1)
            return usage_error("sensor: expected one points file (or --live PORT)");
        if (!p->ref_u)
            return usage_error("sensor: --ref-u (the reference instrument's expanded "
                               "uncertainty) is required");
        if (!o->live_port && !o->serial)
            return usage_error("sensor: --serial is required with a points file");
        if (o->force_write && !o->output)
            return usage_error("--force-write needs --output");
        if (o->resume && !o->save_points)
            return usage_error("--resume needs --save-points FILE (the points to continue)");
        break;
    case CMD_CUPSET:
        if (o->nargs != 1)
            return usage_error("cupset: expected one cup list (CSV)");
        break;
    case CMD_CHECK:
        if (o->nargs != 2)
            return usage_error("check: expected two profiles, OLD and NEW");
        break;
    case CMD_SHOW:
        if (o->nargs != 1)
            return usage_error("show: expected one profile");
        break;
    case CMD_APPLY:
        if (o->nargs < 2)
            return usage_error("apply: expected a profile and at least one raw reading");
        break;
    }
    return -1;
}

int cal_options_parse(cal_options *o, int argc, char **argv)
{
    pending p = {0};
    int opt, rc;
    cl_error err;

    defaults(o);
    if ((rc = subcommand(o, argc, argv)) >= 0)
        return rc;
    if (cl_cli_config_expand(&argc, &argv, 2, longopts, config_accept, o, &o->config, &err) !=
        CL_OK)
        return usage_error("%s", err.msg);
    opterr = 0;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "c:o:f:u:qvhVd:t:", longopts, NULL)) != -1) {
        if (opt == '?') {
            if (optopt && optopt < 256 && strchr("cofudt", optopt))
                return usage_error("option -%c needs a value", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (opt == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        if (!allowed(o->cmd, opt))
            return usage_error("option --%s does not apply to '%s'", option_name(opt), argv[1]);
        if ((rc = take_option(o, &p, opt, optarg)) == NOT_MINE)
            return usage_error("unknown option '%s'", argv[optind - 1]);
        if (rc >= 0)
            return rc;
    }
    o->args = argv + optind;
    o->nargs = argc - optind;
    if ((rc = pressures(o, &p)) >= 0 || (rc = arguments(o, &p)) >= 0 ||
        (rc = check_outputs(o)) >= 0)
        return rc;
    cl_cli_set_verbosity(o->verbosity);
    return -1;
}
