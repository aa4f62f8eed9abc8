/*
 * cl_wire: the two device-to-host wire protocols, in one place so that the
 * virtual device, the recorder and the tests cannot disagree about them.
 * The full specification is docs/wire-protocols.md.
 *
 * Decoders are pure: bytes in, items (frames, metadata, gaps) out through a
 * callback, no I/O, no clocks.  Bytes may arrive split anywhere; a decoder
 * keeps its partial state between calls.  Garbage is skipped and counted,
 * never fatal.
 *
 * Text protocol (Arduino Serial Plotter compatible):
 *   - one frame per line, CR/LF or LF; values separated by ',', ' ' or '\t'
 *   - values may be labelled "label:value"; labels t, time, ms, us, millis,
 *     micros and timestamp mark the device timestamp column
 *   - a line "# key: value" or "# key=value" is device metadata;
 *     "# timestamp: first" says the first unlabelled column is a timestamp
 *   - optional NMEA-style checksum: "...*XX", XX = XOR of all bytes before
 *     '*', two hex digits; a mismatch drops the line (counted)
 *   - text before the first line end, non-numeric lines, over-long lines
 *     (> CL_WIRE_MAX_LINE bytes) and lines whose channel count differs from
 *     the established one are skipped and counted.
 *
 * Binary protocol: COBS-encoded frames, each followed by one 0x00 byte.
 *   Decoded payload (little-endian):
 *     u8  version (= 1)
 *     u8  channel count n (1..CL_WIRE_MAX_CHANNELS)
 *     u32 sequence number (increments by 1 per frame, wraps)
 *     u64 device timestamp, microseconds
 *     i32 sample[n]
 *     u32 CRC-32 (zlib crc32) of all preceding payload bytes
 *   A bad CRC, wrong length or unknown version drops the frame (counted); a
 *   sequence jump is reported as a gap item and counted.
 *   Protocol version 2 adds the metadata frame, one "key: value" pair:
 *     u8  type (= 2)
 *     u8  key length k (1..CL_WIRE_META_KEY_MAX)
 *     u8  key[k], then the value, up to the CRC (key + value at most
 *         CL_WIRE_META_MAX bytes)
 *     u32 CRC-32 of all preceding payload bytes
 *   It becomes a metadata item exactly like a text "# key: value" line.
 */
#ifndef CL_WIRE_H
#define CL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_error.h"

#define CL_WIRE_MAX_CHANNELS 32
#define CL_WIRE_MAX_LINE 1024
#define CL_WIRE_BINARY_VERSION 1 /* first byte of a sample frame */
#define CL_WIRE_BINARY_META 2    /* first byte of a metadata frame (version 2) */
/* The protocol version a device announces as "protocol_version" when it
 * identifies itself (docs/wire-protocols.md, "Device identity"). */
#define CL_WIRE_PROTOCOL_VERSION 2
/* Metadata frame: longest key, and longest key + value (so that the frame
 * is no longer than the longest sample frame). */
#define CL_WIRE_META_KEY_MAX 32
#define CL_WIRE_META_MAX (4 * CL_WIRE_MAX_CHANNELS + 12)
/* Largest encoded binary frame: payload + COBS overhead + delimiter. */
#define CL_WIRE_BINARY_MAX (2 + 4 + 8 + 4 * CL_WIRE_MAX_CHANNELS + 4 + 4 + 1)

typedef enum cl_wire_protocol {
    CL_WIRE_TEXT = 1,
    CL_WIRE_BINARY = 2,
} cl_wire_protocol;

/* One decoded frame: one sample per channel taken at one instant. */
typedef struct cl_wire_frame {
    uint32_t seq;       /* binary: from the frame; text: 0,1,2.. per valid line */
    bool has_seq;       /* true when the device sent the sequence number */
    double device_time; /* device clock, device units (binary: us); NAN if absent */
    uint16_t n;         /* number of channels */
    double v[CL_WIRE_MAX_CHANNELS]; /* samples exactly as sent */
} cl_wire_frame;

typedef enum cl_wire_item_kind {
    CL_WIRE_ITEM_FRAME = 1, /* `frame` is valid */
    CL_WIRE_ITEM_META = 2,  /* `key`/`value` are valid ("# key: value" line) */
    CL_WIRE_ITEM_GAP = 3,   /* `gap_after` and `gap_lost` are valid */
} cl_wire_item_kind;

typedef struct cl_wire_item {
    cl_wire_item_kind kind;
    const cl_wire_frame *frame;
    const char *key, *value;  /* NUL-terminated, valid during the callback */
    uint32_t gap_after;       /* last sequence number before the gap */
    uint32_t gap_lost;        /* frames missing */
} cl_wire_item;

/* Running counters; all only increase. */
typedef struct cl_wire_stats {
    uint64_t bytes;           /* bytes fed */
    uint64_t frames;          /* valid frames emitted */
    uint64_t meta;            /* metadata lines or frames */
    uint64_t malformed;       /* lines/frames that did not parse */
    uint64_t checksum_errors; /* NMEA or CRC mismatches */
    uint64_t seq_gaps;        /* sequence discontinuities */
    uint64_t lost_frames;     /* frames missing according to sequence numbers */
    uint64_t skipped_bytes;   /* bytes discarded while resynchronising */
} cl_wire_stats;

typedef void (*cl_wire_sink)(void *ctx, const cl_wire_item *item);

typedef struct cl_wire_decoder cl_wire_decoder;

/* Create a decoder for `proto`.  Returns NULL on allocation failure. */
cl_wire_decoder *cl_wire_decoder_new(cl_wire_protocol proto);
void cl_wire_decoder_free(cl_wire_decoder *d); /* accepts NULL */

/* Text only: treat the first unlabelled column as the device timestamp. */
void cl_wire_decoder_set_text_timestamp(cl_wire_decoder *d, bool first_is_time);

/* Feed `len` bytes; every complete item is passed to `sink` in order.
 * `sink` may be NULL (only the counters change); it must not call back
 * into `d`. */
void cl_wire_decode(cl_wire_decoder *d, const uint8_t *buf, size_t len,
                    cl_wire_sink sink, void *ctx);

/* Drop any partial frame and resynchronise on the next delimiter, as after a
 * reconnect (the next bytes may start mid-frame).  Counters are kept. */
void cl_wire_decoder_resync(cl_wire_decoder *d);

const cl_wire_stats *cl_wire_decoder_stats(const cl_wire_decoder *d);
cl_wire_protocol cl_wire_decoder_protocol(const cl_wire_decoder *d);

/* Encoders, used by the virtual device and the tests. */

/* Encode `f` (samples rounded to int32) as one binary frame including the
 * trailing 0x00.  Returns the byte count, or 0 if `cap` is too small or
 * f->n is out of range. */
size_t cl_wire_encode_binary(const cl_wire_frame *f, uint8_t *out, size_t cap);

/* Encode `key`/`value` as one binary metadata frame including the trailing
 * 0x00.  Returns the byte count, or 0 if `cap` is too small or the pair
 * breaks the rules (docs/wire-protocols.md): key 1..CL_WIRE_META_KEY_MAX
 * printable ASCII bytes without ':' and '=' and without blanks at either end,
 * value without NUL, CR or LF, key + value at most CL_WIRE_META_MAX. */
size_t cl_wire_encode_meta(const char *key, const char *value, uint8_t *out, size_t cap);

/* Format `f` as one text line ending in "\r\n", values printed with %.17g
 * (integers without a decimal point).  With `with_time`, the device time is
 * the first column; with `with_checksum`, "*XX" is appended.  Returns the
 * byte count (without the terminating NUL, which is written), or 0 if it
 * does not fit or f->n is out of range. */
size_t cl_wire_encode_text(const cl_wire_frame *f, bool with_time, bool with_checksum,
                           char *out, size_t cap);

/* "text" / "binary" -> protocol; 0 if unknown.  And the reverse. */
cl_wire_protocol cl_wire_protocol_from_name(const char *name);
const char *cl_wire_protocol_name(cl_wire_protocol p);

/* COBS primitives (exposed for tests).  cl_wire_cobs_encode returns the
 * encoded length (without delimiter) or 0 if `cap` is too small;
 * cl_wire_cobs_decode returns the decoded length or -1 on malformed input
 * (empty, a 0x00 byte, a block past the end) or if `cap` is too small. */
size_t cl_wire_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
long cl_wire_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

#endif
