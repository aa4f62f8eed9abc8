/*
 * cuplab-calibrate: sensor calibration against a reference gauge, cup-set
 * characterisation, and the profiles they produce.  This file only picks
 * the subcommand; the work is in the other files of calibration/ and in
 * the core library.
 */
#include <gsl/gsl_errno.h>
#include <signal.h>

#include "calibrate.h"
#include "cl_log.h"
#include "cl_plot.h"

int main(int argc, char **argv)
{
    cal_options o;
    int rc;

    gsl_set_error_handler_off();
    cl_log_set_prefix(PROG);
    signal(SIGPIPE, SIG_IGN);
    rc = cal_options_parse(&o, argc, argv);
    if (rc >= 0) {
        cal_options_free(&o);
        return rc;
    }
    switch (o.cmd) {
    case CMD_SENSOR:
        rc = cal_sensor(&o);
        break;
    case CMD_CUPSET:
        rc = cal_cupset(&o);
        break;
    case CMD_CHECK:
        rc = cal_check(&o);
        break;
    case CMD_SHOW:
        rc = cal_show(&o);
        break;
    case CMD_APPLY:
        rc = cal_apply(&o);
        break;
    default:
        rc = CAL_EXIT_USAGE;
        break;
    }
    cl_plot_release();
    cal_options_free(&o);
    return rc;
}
