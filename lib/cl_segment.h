/*
 * cl_segment: the phases of one cup's vacuum trace.
 *
 * Input is vacuum in kPa, positive below ambient, already zeroed on the
 * baseline (missing samples NaN).  A cup is *engaged* while its vacuum,
 * despiked by a short running median, stays above on_kpa for at least
 * dwell_s, and *disengaged* when it stays below off_kpa for dwell_s
 * (hysteresis: short dips between the two thresholds change nothing).  Each
 * engaged interval is one application, split into phases:
 *
 *   baseline    before onset
 *   evacuation  [onset, hold_start): the pump strokes (or a fire cup's drop)
 *   hold        [hold_start, release_start): re-pumps may occur inside
 *   release     [release_start, release_end)
 *
 * Edges are found on a Gaussian-smoothed derivative (sigma deriv_sigma_s):
 * runs where |dv/dt| exceeds max(stroke_rate_kpa_s, 8 robust SDs of the
 * derivative), bounded by the half-maximum crossings of the rate (start) and
 * by the point where a rising edge has settled to 1/20 of its peak rate
 * (end; the release ends at its half-maximum crossing).  A rising edge that
 * gains at least stroke_min_kpa with a half-maximum width of at most
 * stroke_max_s is a stroke (slower swings, as when a cup is moved, are
 * not).  Strokes chained less than
 * evac_gap_s apart from the one that engages the cup make up the
 * evacuation; the hold starts when the last of them has settled.  Later
 * strokes are re-pumps.  The release is the last falling edge before the
 * cup disengages.  Without a detectable edge the threshold crossings stand
 * in (onset: where the vacuum first left the baseline; release: the
 * disengage crossing).
 */
#ifndef CL_SEGMENT_H
#define CL_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_error.h"

/* Stroke and re-pump times kept per application (counts go on beyond). */
#define CL_SEGMENT_MAX_EVENTS 64

typedef struct cl_segment_params {
    double on_kpa;            /* engage threshold, vacuum (default 20 mmHg) */
    double off_kpa;           /* disengage threshold (default 10 mmHg) */
    double dwell_s;           /* minimum time beyond a threshold (0.5 s) */
    double deriv_sigma_s;     /* Gaussian sigma of the derivative (0.05 s) */
    double stroke_rate_kpa_s; /* least rate of an edge (3 kPa/s) */
    double stroke_min_kpa;    /* least vacuum a stroke gains (5 mmHg) */
    double evac_gap_s;        /* strokes further apart are re-pumps (8 s) */
    double stroke_max_s;      /* longest half-maximum width of a stroke (1.5 s) */
} cl_segment_params;

void cl_segment_defaults(cl_segment_params *p);

typedef struct cl_segment_app {
    double onset_s;          /* evacuation starts */
    double engaged_s;        /* vacuum crossed on_kpa (start of the dwell) */
    double hold_start_s;     /* evacuation complete */
    double release_start_s;  /* NaN if the recording ended first */
    double release_end_s;    /* NaN if not released */
    double disengaged_s;     /* vacuum back below off_kpa; NaN if never */
    bool released;
    size_t i_onset, i_hold, i_release, i_release_end; /* sample indexes; n when absent */
    size_t strokes;          /* evacuation steps; a fire cup's drop counts as one */
    size_t repumps;          /* strokes during the hold */
    double stroke_s[CL_SEGMENT_MAX_EVENTS], stroke_kpa[CL_SEGMENT_MAX_EVENTS];
    double repump_s[CL_SEGMENT_MAX_EVENTS], repump_kpa[CL_SEGMENT_MAX_EVENTS];
    double repump_end_s[CL_SEGMENT_MAX_EVENTS]; /* when each re-pump settled */
} cl_segment_app;

typedef struct cl_segmentation {
    cl_segment_app *apps;    /* in time order */
    size_t napps;
    size_t main;             /* the longest application (valid if napps > 0) */
    double dt_s;             /* median sample interval */
    double rate_threshold_kpa_s; /* edge threshold used */
} cl_segmentation;

/* Segment (t_s[i*stride], vac_kpa[i*stride]), i < n; t non-decreasing.
 * `p` may be NULL (defaults).  CL_ERR_ARG if t has no positive step. */
int cl_segment(const double *t_s, const double *vac_kpa, size_t stride, size_t n,
               const cl_segment_params *p, cl_segmentation *out, cl_error *err);

/* Free the applications (the struct itself is the caller's; NULL accepted). */
void cl_segmentation_release(cl_segmentation *s);

/* The phase of each sample, as the exports and the stored series label it:
 * evacuation [onset, hold_start), hold [hold_start, release_start), release
 * [release_start, release_end) of each application (to the end of the
 * trace when the recording ended first), baseline everywhere else. */
typedef enum cl_segment_phase {
    CL_SEGMENT_BASELINE = 0,
    CL_SEGMENT_EVACUATION = 1,
    CL_SEGMENT_HOLD = 2,
    CL_SEGMENT_RELEASE = 3,
    CL_SEGMENT_PHASES = 4, /* the number of phases */
} cl_segment_phase;

/* "baseline", "evacuation", "hold", "release"; NULL for another value. */
const char *cl_segment_phase_name(int phase);

/* out[i] = phase of sample i < n of the trace `s` was computed on. */
void cl_segment_phases(const cl_segmentation *s, size_t n, unsigned char *out);

#endif
