/*
 * cl_analysis: the analysis pipeline of one session file, one cup at a time
 * (memory grows with one cup's channel, never with the whole file):
 *
 *   raw counts -> gauge kPa through the cup's sensor profile (matched by the
 *   sensor serial of the cup table, or else of the device announcement's
 *   "sensor_serials" list; the user's profiles first, then those stored in
 *   the session file), or through the nominal MPXV6115V transfer
 *   kPa = (raw / adc_max - 0.92) / 0.007652 when no profile matches
 *   (adc_max = 2^adc_bits - 1 from the announcement or the options; the
 *   cup is then flagged "uncalibrated")
 *   -> saturated (raw <= 0 or >= adc_max) and missing (NaN) samples set
 *   aside, counted and flagged
 *   -> vacuum = -gauge, zeroed on the pre-application baseline (the median
 *   of the first 2 s, refined on the last 30 s before the onset; the tail
 *   of the recording when the cup was already on at the start)
 *   -> optional filter -> phases (cl_segment) -> metrics (cl_metrics)
 *   -> markers, gaps, cup-set leak baseline and sanity checks -> flags.
 *
 * Times are seconds since the session start on the device clock when the
 * device sends timestamps (anchored at the first host time; where the device
 * clock jumps backwards the host clock bridges), else the host clock.
 * Events (markers, gaps) are stamped on the host clock and mapped through
 * the row they fall on, so both agree even if the two clocks run at
 * different rates.
 *
 * Every pressure in the results is vacuum in kPa, positive below ambient.
 */
#ifndef CL_ANALYSIS_H
#define CL_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cl_error.h"
#include "cl_filter.h"
#include "cl_metrics.h"
#include "cl_cupset.h"
#include "cl_segment.h"
#include "cl_sensor.h"
#include "cl_session_read.h"

/* The expanded (k = 2) relative uncertainty assumed for the nominal sensor
 * transfer (cl_units.h) after zeroing: the data sheet's gain tolerance. */
#define CL_NOMINAL_U_REL 0.03

#define CL_ANALYSIS_STR 96
#define CL_ANALYSIS_TEXT 256

typedef struct cl_analysis_options {
    const cl_sensor_profile *const *profiles; /* given by the user; win over the file's */
    size_t nprofiles;
    const char *const *profile_sources;       /* file name per profile (may be NULL) */
    /* Sensors assigned at analysis time: cup sensor_cups[i] (a cup id) has
     * the sensor sensor_serials[i], whatever the file says. */
    const char *const *sensor_cups, *const *sensor_serials;
    size_t nsensors;
    const cl_cupset *const *cupsets;          /* given by the user; when there are
                                                 none, the file's are used */
    size_t ncupsets;
    int adc_bits;            /* 0: from the device announcement */
    bool nominal_ack;        /* the user asked for the nominal transfer */
    cl_filter_kind filter;   /* optional conditioning before segmentation */
    double filter_s;         /* its width (window, or sigma for Gaussian), s */
    cl_segment_params seg;
    cl_metrics_params met;
    double marker_tol_s;     /* a marker agrees with the signal within this (5 s) */
    double leak_factor;      /* "leak_high" above this x the cup set's baseline (3) */
    time_t now;              /* for profile validity; 0 = the current time */
} cl_analysis_options;

void cl_analysis_defaults(cl_analysis_options *o);

typedef enum cl_cal_kind {
    CL_CAL_NONE = 0,    /* no transfer: no pressures */
    CL_CAL_PROFILE = 1,
    CL_CAL_NOMINAL = 2,
} cl_cal_kind;

/* Flags of a cup result; names (cl_analysis_flag_name) are stable. */
enum {
    CL_FLAG_UNCALIBRATED = 1u << 0,     /* "uncalibrated": nominal transfer */
    CL_FLAG_NO_TRANSFER = 1u << 1,      /* "no_transfer": no profile, ADC bits unknown */
    CL_FLAG_NO_DATA = 1u << 2,          /* "no_data": no finite sample */
    CL_FLAG_FLAT = 1u << 3,             /* "flat": every reading the same */
    CL_FLAG_MISSING = 1u << 4,          /* "missing": NaN samples */
    CL_FLAG_SATURATED = 1u << 5,        /* "saturated": readings at 0 or full scale */
    CL_FLAG_GAP = 1u << 6,              /* "gap": data lost during the application */
    CL_FLAG_NO_BASELINE = 1u << 7,      /* "no_baseline": could not zero */
    CL_FLAG_NO_APPLICATION = 1u << 8,   /* "no_application" */
    CL_FLAG_MULTIPLE = 1u << 9,         /* "multiple_applications" */
    CL_FLAG_NOT_RELEASED = 1u << 10,    /* "not_released": recording ended first */
    CL_FLAG_SHORT_HOLD = 1u << 11,      /* "short_hold": nothing to fit */
    CL_FLAG_NOT_IDENTIFIABLE = 1u << 12,/* "tau_not_identifiable" */
    CL_FLAG_LEAK_HIGH = 1u << 13,       /* "leak_high": above the cup set's baseline */
    CL_FLAG_PROFILE_EXPIRED = 1u << 14, /* "profile_expired" */
    CL_FLAG_OUT_OF_RANGE = 1u << 15,    /* "out_of_calibrated_range" */
    CL_FLAG_MARKERS = 1u << 16,         /* "markers_disagree" */
    CL_FLAG_IMPLAUSIBLE = 1u << 17,     /* "implausible_vacuum": deeper than 750 mmHg */
};
#define CL_FLAG_COUNT 18

/* "uncalibrated", ... for one bit; NULL if not a flag. */
const char *cl_analysis_flag_name(unsigned bit);
/* Flag names joined by ';' into buf ("" for none). */
void cl_analysis_flags_text(unsigned flags, char *buf, size_t cap);

typedef struct cl_cup_result {
    size_t cup;                     /* index in the cup table */
    char cup_id[CL_ANALYSIS_STR], site[CL_ANALYSIS_STR], cup_set[CL_ANALYSIS_STR],
        material[CL_ANALYSIS_STR], size[CL_ANALYSIS_STR], sensor_serial[CL_ANALYSIS_STR];
    unsigned device, channel;
    /* raw readings */
    size_t samples, missing, saturated;
    double duration_s, min_raw, max_raw, mean_raw;
    /* calibration */
    cl_cal_kind cal;
    char calibration[CL_ANALYSIS_TEXT]; /* what was applied, in words */
    char profile_until[CL_ANALYSIS_STR]; /* the sensor profile's valid-until, "" none */
    char cupset_used[CL_ANALYSIS_TEXT];  /* the cup-set profile of the cup's volume
                                            and baseline leak, in words; "" none */
    int adc_bits;                       /* 0 unknown */
    /* the transfer when it is linear: gauge kPa = linear_offset_kpa +
     * linear_kpa_per_count * raw; NaN otherwise (or without one) */
    double linear_offset_kpa, linear_kpa_per_count;
    double zero_kpa;                    /* baseline vacuum subtracted */
    /* phases: the main application (longest, or the one the markers name) */
    size_t applications;
    bool applied;
    cl_segment_app app;
    cl_cup_metrics m;
    double peak_u_kpa;                  /* expanded (k = 2): calibration + noise */
    double volume_ml, q_mbarl_s, q_se_mbarl_s; /* NaN without a volume */
    char markers[CL_ANALYSIS_TEXT];     /* "none", "agree (n)", or what disagrees */
    size_t gap_events;                  /* gap/disconnect/overrun events in the application */
    unsigned flags;
} cl_cup_result;

/* What the figures and exports need: the calibrated, zeroed (and, with a
 * filter, filtered) vacuum on the cup's time axis (s since the session
 * start, NaN for samples set aside), all applications, and the markers and
 * acquisition events of the cup (or of all cups) on the same axis. */
typedef struct cl_cup_trace {
    size_t n;
    double *t_s, *vac_kpa;
    cl_segmentation seg;
    size_t nmarkers;
    double *marker_t_s;
    cl_event_kind *marker_kind;
    size_t *marker_event; /* index for cl_session_event_get() */
} cl_cup_trace;

void cl_cup_trace_free(cl_cup_trace *tr); /* accepts NULL */

typedef struct cl_analysis cl_analysis;

/* Open `path` for analysis (complete, interrupted or live files). */
int cl_analysis_open(cl_analysis **out, const char *path, const cl_analysis_options *o,
                     cl_error *err);
void cl_analysis_close(cl_analysis *a); /* accepts NULL */

cl_session_reader *cl_analysis_reader(cl_analysis *a);
const char *cl_analysis_path(const cl_analysis *a);
size_t cl_analysis_cup_count(const cl_analysis *a);
/* Whether cup `cup` of the session is found in the user's cup sets
 * (options.cupsets); *set is the index of the set it belongs to (by its
 * cup_set, or the only set given), SIZE_MAX when none does. */
bool cl_analysis_cupset_match(const cl_analysis *a, size_t cup, size_t *set);
/* The serial of the sensor on cup `cup` of the session `r` as the analysis
 * takes it ("" when nothing says): the one the options assign to the cup
 * (then true), else the cup table's, else the one its device announced for
 * its channel. */
bool cl_analysis_sensor_serial(const cl_analysis_options *o, const cl_session_reader *r,
                               size_t cup, char *out, size_t cap);
/* The ADC resolution of device `dev` of the session `r` as the analysis
 * takes it: the options', else the one the device announced; 0 unknown. */
int cl_analysis_adc_bits(const cl_analysis_options *o, const cl_session_reader *r, size_t dev);
/* Events of kind gap, disconnect or overrun in the whole file. */
size_t cl_analysis_gap_events(const cl_analysis *a);

/* Analyse cup `cup`.  `trace` (may be NULL) receives the data for figures
 * (free with cl_cup_trace_free).  Problems of the data are flags in `res`,
 * not errors; errors are I/O and memory. */
int cl_analysis_cup(cl_analysis *a, size_t cup, cl_cup_result *res, cl_cup_trace **trace,
                    cl_error *err);

/* ------------------------------------------------------ session statistics */

typedef enum cl_stat_metric {
    CL_STAT_PEAK = 0,        /* peak vacuum, kPa */
    CL_STAT_TIME_TO_PEAK,    /* s */
    CL_STAT_HOLD_DURATION,   /* s */
    CL_STAT_HOLD_MEAN,       /* kPa */
    CL_STAT_CHANGE,          /* kPa */
    CL_STAT_LEAK,            /* decay slope, kPa/min */
    CL_STAT_TAU,             /* s, identifiable fits only */
    CL_STAT_DOSE,            /* pressure-time integral, kPa*min */
    CL_STAT_STROKES,
    CL_STAT_REPUMPS,
    CL_STAT_LEAK_K,          /* 1/min, leak rate constant (not cooling cups) */
    CL_STAT_COUNT
} cl_stat_metric;

typedef struct cl_stat {
    size_t n;
    double mean, sd, cv, median, q1, q3, min, max; /* NaN when n is too small */
} cl_stat;

/* Statistics across the cups that were applied (n may be 0). */
int cl_analysis_stats(const cl_cup_result *res, size_t n, cl_stat out[CL_STAT_COUNT],
                      cl_error *err);
/* "peak_vacuum", "time_to_peak_s", ... */
const char *cl_stat_metric_name(cl_stat_metric m);
/* The metric a name (or an old name: "leak_rate", "dose") stands for; -1
 * for none. */
int cl_stat_metric_from_name(const char *name);
/* Whether the metric is a pressure (1), pressure per minute (2), pressure
 * times minutes (3) or none of these (0), for unit conversion. */
int cl_stat_metric_dimension(cl_stat_metric m);
/* The unit of a metric of dimension 0: "s", "1/min", or "" (a count). */
const char *cl_stat_metric_fixed_unit(cl_stat_metric m);

#endif
