/*
 * fw_wire: what the firmware sends, in the two protocols of
 * docs/wire-protocols.md.
 *
 * Binary: every payload goes out as COBS + 0x00 with the CRC-32 appended
 * (fw_wire_payload); a sample frame is the version-1 payload.  Metadata
 * ("# key: value") goes out as a text line followed by 0x00, which a
 * version-1 decoder counts as one malformed frame before the next frame;
 * a version-2 metadata frame will be one more payload through
 * fw_wire_payload.
 * Text: the device time in microseconds, then the channels, separated by
 * commas, CR LF; metadata as "# key: value" lines.
 */
#ifndef FW_WIRE_H
#define FW_WIRE_H

#include <stdint.h>

#include "fw_sampler.h"

#define FW_WIRE_VERSION 1

/* A delimiter, so that the first frame or line after boot is not lost. */
void fw_wire_boot(uint8_t protocol);
void fw_wire_frame(uint8_t protocol, const fw_frame *f, uint8_t channels);
void fw_wire_meta(uint8_t protocol, const char *key, const char *value);
/* Send `len` payload bytes (len + 4 < 254) with their CRC-32, COBS-encoded,
 * then 0x00. */
void fw_wire_payload(uint8_t *payload, uint8_t len);

#endif
