/*
 * fw_command: the line-based command set on the same UART (one command per
 * line, ended by CR or LF; docs/firmware.md):
 *   id                   send the identity (metadata lines)
 *   rate HZ              frames per second, at once
 *   channels N           ADC0..ADC(N-1), at once
 *   protocol binary|text at once
 *   serial TEXT          device serial
 *   sensor CH [TEXT]     sensor serial of channel CH (1..8); none clears it
 *   defaults             every setting back to its default
 *   save                 store the settings in EEPROM
 *   reset                restart the board (watchdog)
 * Every command is answered by "# ok: COMMAND" or "# error: REASON" as a
 * metadata line (fw_wire_meta), after its own output.
 */
#ifndef FW_COMMAND_H
#define FW_COMMAND_H

#include <stdint.h>

#include "fw_config.h"

typedef struct fw_command {
    fw_config *cfg;
    char line[48];
    uint8_t len;
    uint8_t overflow; /* the current line is too long: ignore it */
} fw_command;

void fw_command_init(fw_command *c, fw_config *cfg);
/* The identity as metadata lines in the configured protocol. */
void fw_command_identify(const fw_config *cfg);
/* Feed one received byte; runs the command when its line is complete. */
void fw_command_feed(fw_command *c, uint8_t b);

#endif
