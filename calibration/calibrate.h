/*
 * calibration/calibrate.h: what the parts of cuplab-calibrate share: the
 * parsed command line, the exit codes and the subcommand entry points.
 */
#ifndef CALIBRATE_H
#define CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_cli.h"
#include "cl_cupset.h"
#include "cl_error.h"
#include "cl_plot.h"
#include "cl_profile.h"
#include "cl_sensor.h"
#include "cl_table.h"
#include "cl_units.h"
#include "cl_wire.h"

#define PROG "cuplab-calibrate"
#define CAL_MAX_AT 64
#define CAL_MAX_PROFILES 32

/* Exit codes (documented in --help and docs/calibration.md). */
enum {
    CAL_EXIT_OK = 0,        /* done; calibration within tolerance / no drift beyond it */
    CAL_EXIT_ERROR = 1,     /* bad input file, bad data, expired profile, write failure */
    CAL_EXIT_USAGE = 2,     /* bad command line */
    CAL_EXIT_PORT = 3,      /* live: port could not be opened, or the device went away */
    CAL_EXIT_TOLERANCE = 4, /* calibration misses the tolerance / drift exceeds it */
};

typedef enum cal_command {
    CMD_SENSOR = 1,
    CMD_CUPSET,
    CMD_CHECK,
    CMD_SHOW,
    CMD_APPLY,
} cal_command;

typedef struct cal_options {
    cal_command cmd;
    /* outputs */
    const char *output;     /* profile to write */
    const char *figure;     /* residual figure (sensor) */
    const char *figure_dir; /* decay figures (cupset) */
    const char *figure_format; /* of --figure-dir: png, svg, pdf */
    cl_plot_size figure_size;
    const char *table;      /* which report table: summary, setpoints, points, all */
    cl_table_format format;
    cl_unit unit;     /* unit of reported pressures */
    cl_unit ref_unit; /* default unit of input pressures, 0 = none */
    bool force, force_write;
    int verbosity; /* 0 quiet, 1 normal, 2 verbose */
    /* pressures given on the command line (kPa) */
    double tolerance_kpa; /* NaN = default / from the profile */
    double ref_u_kpa;     /* NaN = not given */
    double ref_k;
    double group_kpa; /* 0 = automatic */
    double ambient_kpa;
    double at_kpa[CAL_MAX_AT];
    size_t nat;
    /* sensor */
    int degree; /* 0 = automatic */
    const char *serial, *model, *operator_name, *reference, *notes, *date, *valid_until;
    int valid_days;
    double temperature_c;
    /* live */
    const char *live_port;
    int baud;
    cl_wire_protocol protocol;
    bool text_timestamp;
    unsigned channel;
    size_t samples;
    double stable_sd, settle_s;
    const char *save_points; /* points file kept as the points are taken */
    bool resume;             /* start from the points of save_points */
    /* cupset */
    const char *set_id;
    const char *profiles[CAL_MAX_PROFILES];
    size_t nprofiles;
    double skip_s;
    /* positional arguments */
    char **args;
    int nargs;
    cl_cli_config config; /* arguments from --config FILE (owned) */
} cal_options;

/* Parse argv (argv[1] is the subcommand).  Returns -1 to go on, or an exit
 * code after --help / --version (0) or a usage error (2, one line printed).
 * Release with cal_options_free() in either case. */
int cal_options_parse(cal_options *o, int argc, char **argv);
void cal_options_free(cal_options *o);

/* Print "cuplab-calibrate: MESSAGE" on stderr (one line). */
void cal_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same as a warning, unless quiet. */
void cal_warn(const cal_options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Subcommands; each returns an exit code. */
int cal_sensor(const cal_options *o);
int cal_cupset(const cal_options *o);
int cal_check(const cal_options *o);
int cal_show(const cal_options *o);
int cal_apply(const cal_options *o);

/* live.c: collect points from the sensor on o->live_port, prompting the
 * operator on stderr and reading the reference values from stdin.  *serial
 * receives the sensor serial the device announced for the channel (or "").
 * Returns an exit code; *pts malloc'ed. */
int cal_live_points(const cal_options *o, cl_sensor_point **pts, size_t *n, char *serial,
                    size_t serial_cap);

/* report.c: the printable report of a calibration / cup set on stdout, and
 * the profile file: `json` (taken over; NULL after running out of memory)
 * written to o->output, never replaced without --force. */
int cal_write_profile(const cal_options *o, char *json);
int cal_report_sensor(const cal_options *o, const cl_sensor_calibration *d);
int cal_report_cupset(const cal_options *o, const cl_cupset *c);
/* Write several tables as one document: text tables one after the other, CSV
 * the first table only, JSON one object holding each table under its name. */
int cal_write_tables(cl_table_format fmt, cl_table **tables, const char **names,
                     const char **titles, size_t n);

#endif
