/*
 * device: what cuplab-acquire does with devices besides recording them:
 * --list-ports (the ports there are, with --identify who is on each),
 * --identify (print the identity a device announces and sends on `id`) and
 * --configure (send settings, save them, read them back).  A port may be
 * given by a selector (cl_portfind).
 */
#ifndef ACQ_DEVICE_H
#define ACQ_DEVICE_H

#include "options.h"

/* Each returns the program's exit status and prints its own messages. */
int acq_device_list(const acq_options *o);
int acq_device_identify(const acq_options *o);
int acq_device_configure(const acq_options *o);

#endif
