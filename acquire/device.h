/*
 * device: the two things cuplab-acquire does with a device besides
 * recording it: --identify (print the identity it announces and sends on
 * `id`) and --configure (send settings, save them, read them back).
 */
#ifndef ACQ_DEVICE_H
#define ACQ_DEVICE_H

#include "options.h"

/* Each returns the program's exit status and prints its own messages. */
int acq_device_identify(const acq_options *o);
int acq_device_configure(const acq_options *o);

#endif
