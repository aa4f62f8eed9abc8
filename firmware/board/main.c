/*
 * cuplab-board: the cuplab firmware on an emulated ATmega328P (simavr),
 * its analog inputs driven by the cl_sim cups; a test bench for the device
 * end (docs/firmware.md).  The command line is in options.c, the emulated
 * board in board.c, the inputs in drive.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "cl_cli.h"
#include "drive.h"
#include "options.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}


int main(int argc, char **argv)
{
    cb_options o;
    cb_drive *drive = NULL;
    cb_board *board = NULL;
    cl_error err = {0};
    int exit_code = CB_EXIT_RUNTIME;

    int rc = cb_options_parse(&o, argc, argv, &err);
    if (rc) {
        return rc < 0 ? cl_cli_usage_error(CB_PROG, CB_EXIT_USAGE, "%s", err.msg) : CB_EXIT_OK;
    }
    cl_cli_catch_stop_signals(on_signal, false);
    if (cb_drive_create(&drive, o.seed, o.vcc_mv, o.log, &err) == CL_OK &&
        cb_board_create(&board, &o, drive, &err) == CL_OK) {
        printf("%s\n", cb_board_pty(board));
        fflush(stdout);
        rc = cb_board_wait_reader(board, o.wait_s, &stop_requested, &err);
        if (rc == CL_ERR_NOTFOUND)
            exit_code = CB_EXIT_NO_READER;
        else if (rc == CL_OK && cb_board_run(board, o.duration_s, &stop_requested, &err) == CL_OK &&
                 (!o.stats || cb_board_write_stats(board, o.stats, &err) == CL_OK) &&
                 (!o.eeprom || cb_board_save_eeprom(board, o.eeprom, &err) == CL_OK))
            exit_code = CB_EXIT_OK;
    }
    cb_board_destroy(board);
    if (cb_drive_destroy(drive, exit_code == CB_EXIT_OK ? &err : NULL) != CL_OK)
        exit_code = CB_EXIT_RUNTIME;
    if (exit_code != CB_EXIT_OK)
        fprintf(stderr, CB_PROG ": %s\n", err.msg);
    return exit_code;
}
