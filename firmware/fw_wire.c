#include "fw_wire.h"

#include <avr/pgmspace.h>
#include <stdlib.h>
#include <string.h>

#include "fw_uart.h"

/* CRC-32/ISO-HDLC (zlib's crc32), one table entry per byte value, computed
 * by the compiler from the reflected polynomial. */
#define CRC_POLY 0xEDB88320UL
#define CRC_B(c) (((c) >> 1) ^ (CRC_POLY & (0UL - ((c) & 1UL))))
#define CRC_E(n) CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B((uint32_t)(n)))))))))
#define CRC_R4(n) CRC_E(n), CRC_E((n) + 1), CRC_E((n) + 2), CRC_E((n) + 3)
#define CRC_R16(n) CRC_R4(n), CRC_R4((n) + 4), CRC_R4((n) + 8), CRC_R4((n) + 12)
#define CRC_R64(n) CRC_R16(n), CRC_R16((n) + 16), CRC_R16((n) + 32), CRC_R16((n) + 48)
static const uint32_t crc_table[256] PROGMEM = {CRC_R64(0), CRC_R64(64), CRC_R64(128),
                                                CRC_R64(192)};

#define HEADER 14 /* version, channels, sequence, timestamp */
#define PAYLOAD_MAX (2 + FW_WIRE_META_MAX + 4) /* a metadata frame is the longest */

/* The payload being sent: static, not on the stack, which must stay small
 * for the interrupts (docs/firmware.md); only the main loop sends. */
static uint8_t b[PAYLOAD_MAX];
_Static_assert(HEADER + 4 * FW_CHANNELS_MAX + 4 <= PAYLOAD_MAX, "a sample frame fits");

static uint32_t crc32(const uint8_t *p, uint8_t n)
{
    uint32_t c = 0xFFFFFFFFUL;
    while (n--)
        c = pgm_read_dword(&crc_table[(uint8_t)c ^ *p++]) ^ (c >> 8);
    return ~c;
}

static void put_le(uint8_t *p, uint32_t v)
{
    for (uint8_t i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

void fw_wire_payload(uint8_t *payload, uint8_t len)
{
    put_le(payload + len, crc32(payload, len));
    len += 4;
    /* COBS: each block is a code byte (its length + 1) and its non-zero
     * bytes; the payload is short enough never to need a 0xFF block. */
    uint8_t start = 0;
    while (start <= len) {
        uint8_t end = start;
        while (end < len && payload[end])
            end++;
        fw_uart_put((uint8_t)(end - start + 1));
        fw_uart_write(payload + start, end - start);
        start = end + 1;
    }
    fw_uart_put(0);
}

static void binary_frame(const fw_frame *f, uint8_t channels)
{
    uint64_t t = (uint64_t)f->time_s * 1000000UL + f->time_us;
    b[0] = FW_WIRE_VERSION;
    b[1] = channels;
    put_le(b + 2, f->seq);
    put_le(b + 6, (uint32_t)t);
    put_le(b + 10, (uint32_t)(t >> 32));
    for (uint8_t i = 0; i < channels; i++)
        put_le(b + HEADER + 4 * i, f->v[i]);
    fw_wire_payload(b, (uint8_t)(HEADER + 4 * channels));
}

static void text_frame(const fw_frame *f, uint8_t channels)
{
    char s[11];
    if (f->time_s) {
        /* seconds, then the microseconds with their leading zeros */
        fw_uart_puts(ultoa(f->time_s, s, 10));
        for (uint32_t d = 100000UL; d > 1 && f->time_us < d; d /= 10)
            fw_uart_put('0');
    }
    fw_uart_puts(ultoa(f->time_us, s, 10));
    for (uint8_t i = 0; i < channels; i++) {
        fw_uart_put(',');
        fw_uart_puts(utoa(f->v[i], s, 10));
    }
    fw_uart_puts("\r\n");
}

void fw_wire_boot(uint8_t protocol)
{
    if (protocol == FW_TEXT)
        fw_uart_puts("\r\n");
    else
        fw_uart_put(0);
}

void fw_wire_frame(uint8_t protocol, const fw_frame *f, uint8_t channels)
{
    if (protocol == FW_TEXT)
        text_frame(f, channels);
    else
        binary_frame(f, channels);
}

void fw_wire_meta(uint8_t protocol, const char *key, const char *value)
{
    if (protocol == FW_TEXT) {
        fw_uart_puts("# ");
        fw_uart_puts(key);
        fw_uart_puts(": ");
        fw_uart_puts(value);
        fw_uart_puts("\r\n");
        return;
    }
    /* The metadata frame: type, key length, key, value (then the CRC). */
    uint8_t k = (uint8_t)strlen(key);
    uint8_t m = (uint8_t)strnlen(value, (size_t)(FW_WIRE_META_MAX - k));
    b[0] = FW_WIRE_META;
    b[1] = k;
    memcpy(b + 2, key, k);
    memcpy(b + 2 + k, value, m);
    fw_wire_payload(b, (uint8_t)(2 + k + m));
}
