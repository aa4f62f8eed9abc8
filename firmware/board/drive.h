/*
 * firmware/board/drive: what the emulated board's analog inputs see.  Input
 * i (ADC0..ADC7) follows simulated cup i (lib/cl_sim: pump and fire cups
 * alternating, applied one after the other (drive.c), drawn from the seed)
 * through the nominal MPXV6115V transfer:
 *   V = VCC * (CL_NOMINAL_SENSITIVITY_PER_KPA * (p + noise) + CL_NOMINAL_OFFSET),
 * rounded to whole millivolts (the unit simavr's ADC inputs take) and
 * clipped to 0..VCC.  The noise is the cup's sensor noise, N(0, noise_kpa).
 * Every voltage handed out can be logged ("cycle,channel,mv" CSV); a row
 * with channel -1 marks a reset of the board.
 */
#ifndef CB_DRIVE_H
#define CB_DRIVE_H

#include <stdint.h>

#include "cl_error.h"

#define CB_DRIVE_INPUTS 8

typedef struct cb_drive cb_drive;

/* log may be NULL (no log). */
int cb_drive_create(cb_drive **out, unsigned long seed, int vcc_mv, const char *log,
                    cl_error *err);
/* Closes the log; CL_ERR_IO if writing it failed. */
int cb_drive_destroy(cb_drive *d, cl_error *err);
/* Millivolts on input `ch` at model time t_s, logged with `cycle`. */
int cb_drive_mv(cb_drive *d, uint64_t cycle, int ch, double t_s);

/* Log a reset of the board at `cycle`. */
void cb_drive_reset(cb_drive *d, uint64_t cycle);

#endif
