/*
 * fw_config: the settings the firmware keeps in EEPROM (device serial,
 * channel count, frame rate, output protocol, the sensor serial and model of
 * each channel),
 * their defaults and the rules a setting must obey.  The record is stored at
 * EEPROM address 0 behind a magic number and a layout version, and closed by
 * a CRC-16 (avr-libc's _crc16_update) over everything before it; a record
 * that fails any of the three, or breaks a rule, is replaced by the defaults.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define FW_CHANNELS_MAX 8
#define FW_SERIAL_MAX 15 /* characters of a device or sensor serial */
#define FW_RATE_MIN_HZ 10
#define FW_RATE_MAX_HZ 2000
/* Frames per second times channels: every channel of a frame takes
 * FW_OVERSAMPLE conversions, and the ADC is given at most 32 000 a second. */
#define FW_RATE_X_CHANNELS_MAX 8000
/* Bytes a second of binary frames (4 x channels + 20 bytes each on the
 * wire): what the CPU encodes and sends besides sampling, measured on the
 * emulated board (docs/firmware.md); the UART itself would carry 100 000.
 * This and the next may be raised at build time (FW_DEFS, firmware.mk)
 * only to see what happens beyond them (tests/integration/board_overload.sh). */
#ifndef FW_BINARY_BYTES_MAX
#define FW_BINARY_BYTES_MAX 52000
#endif
/* Text lines cost more to format: rate x channels at most this. */
#ifndef FW_TEXT_RATE_X_CHANNELS_MAX
#define FW_TEXT_RATE_X_CHANNELS_MAX 4000
#endif
#define FW_CONFIG_MAGIC 0xC0B1u
#define FW_CONFIG_LAYOUT 2
#define FW_CONFIG_LAYOUT1_BYTES 154 /* layout 1: no sensor models */
#define FW_STR_(x) #x
#define FW_STR(x) FW_STR_(x)

typedef enum fw_protocol {
    FW_BINARY = 0, /* docs/wire-protocols.md, binary version 1 */
    FW_TEXT = 1,   /* Serial Plotter lines with # metadata */
} fw_protocol;

typedef struct fw_config {
    uint16_t magic;   /* FW_CONFIG_MAGIC */
    uint8_t layout;   /* FW_CONFIG_LAYOUT */
    uint8_t channels; /* 1..FW_CHANNELS_MAX: ADC0..ADC(channels-1) */
    uint16_t rate_hz; /* frames per second */
    uint8_t protocol; /* fw_protocol */
    uint8_t reserved; /* 0 */
    char serial[FW_SERIAL_MAX + 1];
    char sensor[FW_CHANNELS_MAX][FW_SERIAL_MAX + 1];
    char model[FW_CHANNELS_MAX][FW_SERIAL_MAX + 1]; /* sensor model of each channel */
    uint16_t crc; /* CRC-16 of every byte above */
} fw_config;

/* Defaults: serial "cuplab-uno", 8 channels, 100 Hz, binary, no sensor
 * serials. */
void fw_config_defaults(fw_config *c);
/* Read the EEPROM record; false (and the defaults in *c) if it is missing,
 * damaged or breaks a rule.  A valid layout-1 record (before the sensor
 * models) is taken over, with no models. */
bool fw_config_load(fw_config *c);
/* Write *c (with its CRC) to the EEPROM; only bytes that differ are written. */
void fw_config_save(fw_config *c);
/* NULL if `rate_hz` frames per second of `channels` channels are allowed
 * in `protocol`, otherwise the rule they break. */
const char *fw_config_check(uint16_t rate_hz, uint8_t channels, uint8_t protocol);
/* Bytes of one binary frame of `channels` channels on the wire. */
uint8_t fw_config_frame_bytes(uint8_t channels);
/* Name of a protocol ("binary", "text"); fw_config_protocol_parse returns -1
 * for an unknown name. */
const char *fw_config_protocol_name(uint8_t p);
int fw_config_protocol_parse(const char *name);

#endif
