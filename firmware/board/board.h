/*
 * firmware/board/board: the emulated board.  simavr's ATmega328P at 16 MHz
 * running the firmware ELF, UART0 bridged to a pseudo-terminal by simavr's
 * uart_pty part, every ADC conversion's input set from cb_drive at the
 * moment the conversion starts, paced to the wall clock.
 *
 * Pacing: the emulation is held back whenever it runs ahead of the wall
 * clock, and while the pty bridge's queue towards the host is more than half
 * full (so no byte the firmware sent is ever dropped); when the machine is
 * too slow it runs behind, and the stats say by how much.  The pty is kept
 * open on the board's side as well, so a reader may close and reopen it.
 *
 * Interrupt timing is measured per vector: cycles from the first
 * instruction of the vector to the end of its RETI.
 */
#ifndef CB_BOARD_H
#define CB_BOARD_H

#include <signal.h>

#include "cl_error.h"
#include "drive.h"
#include "options.h"

#define CB_BOARD_MCU "atmega328p"
#define CB_BOARD_HZ 16000000UL

typedef struct cb_board cb_board;

/* Load the firmware and open the pty; the firmware does not run yet.
 * Whatever simavr prints while setting up goes to stderr. */
int cb_board_create(cb_board **out, const cb_options *o, cb_drive *drive, cl_error *err);
void cb_board_destroy(cb_board *b);
/* Path of the pty's slave end. */
const char *cb_board_pty(const cb_board *b);
/* Wait until a reader opens the pty (CL_ERR_NOTFOUND after wait_s), then
 * the boot delay.  Every later opening resets the board, like the DTR line
 * of a real Uno, and waits the boot delay again; while nobody has the pty
 * open the emulation waits. */
int cb_board_wait_reader(cb_board *b, double wait_s, volatile sig_atomic_t *stop,
                         cl_error *err);
/* Run the firmware for duration_s emulated seconds (0: until *stop), then
 * let the reader take what is still queued. */
int cb_board_run(cb_board *b, double duration_s, volatile sig_atomic_t *stop, cl_error *err);
/* Write the EEPROM's contents to `path`. */
int cb_board_save_eeprom(const cb_board *b, const char *path, cl_error *err);
/* Write the timing figures as JSON. */
int cb_board_write_stats(const cb_board *b, const char *path, cl_error *err);

#endif
