/*
 * fw_wire: what the firmware sends, in the two protocols of
 * docs/wire-protocols.md.
 *
 * Binary: every payload goes out as COBS + 0x00 with the CRC-32 appended
 * (fw_wire_payload); a sample frame is the version-1 sample payload, a
 * "key: value" pair the metadata frame of protocol version 2.
 * Text: the device time in microseconds, then the channels, separated by
 * commas, CR LF; metadata as "# key: value" lines.
 */
#ifndef FW_WIRE_H
#define FW_WIRE_H

#include <stdint.h>

#include "fw_sampler.h"

#define FW_WIRE_PROTOCOL 2 /* the protocol version the identity announces */
#define FW_WIRE_VERSION 1  /* first byte of a sample frame */
#define FW_WIRE_META 2     /* first byte of a metadata frame */
#define FW_WIRE_META_MAX 140 /* key + value bytes of a metadata frame */

/* A delimiter, so that the first frame or line after boot is not lost. */
void fw_wire_boot(uint8_t protocol);
void fw_wire_frame(uint8_t protocol, const fw_frame *f, uint8_t channels);
/* One "key: value" pair: a "# key: value" line in text, a metadata frame
 * in binary (key at most 32 bytes; a value longer than the frame allows is
 * cut). */
void fw_wire_meta(uint8_t protocol, const char *key, const char *value);
/* Send `len` payload bytes (len + 4 < 254) with their CRC-32, COBS-encoded,
 * then 0x00. */
void fw_wire_payload(uint8_t *payload, uint8_t len);

#endif
