/* sim/file: cuplab-sim without a pty.  --output writes the whole session
 * straight into a session file through cl_session, as cuplab-acquire would
 * have recorded it from a perfect link (every frame, host time = device
 * time, the device's announcement, the cup table with sites and cup set,
 * markers if asked, the calibration profiles given); --calibration-points
 * writes, per sensor, the readings a calibration against a reference gauge
 * would give.  Both are functions of the options alone: the same options
 * give the same bytes. */
#ifndef SIM_FILE_H
#define SIM_FILE_H

#include "options.h"
#include "session.h"
#include "truth.h"

/* Do what o asks (--calibration-points, then --output with its --truth).
 * Returns an exit code (errors logged). */
int sim_file_run(const sim_options *o, sim_session *ses, sim_truth *truth);

/* The session length --output uses when --duration is not given: the last
 * release plus 10 s, in whole seconds. */
double sim_file_duration(const sim_options *o, const sim_session *ses);

#endif
