/*
 * cl_wire: decoders and encoders for the text and binary wire protocols
 * (docs/wire-protocols.md is the specification, cl_wire.h the contract).
 *
 * Both decoders follow the same shape: a stream is cut into units at a
 * delimiter ('\n' for text, 0x00 for binary) found with memchr, so the cost
 * per byte is a memchr and at most one memcpy; a unit is parsed only when
 * its delimiter arrives.  Until the first delimiter after creation or after
 * cl_wire_decoder_resync() the stream position is unknown and bytes are
 * skipped (counted in skipped_bytes).  A unit that is too long is dropped
 * as soon as it overflows the buffer and counted once when its delimiter
 * arrives.  Each delimited unit ends up in exactly one place: an item,
 * `malformed`, `checksum_errors`, or ignored (empty line, empty frame).
 */
#include "cl_wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Binary payload: header (version, n, seq, time), samples, CRC. */
#define BIN_HEADER 14
#define BIN_CRC 4
#define BIN_PAYLOAD(n) (BIN_HEADER + 4 * (size_t)(n) + BIN_CRC)
#define BIN_PAYLOAD_MAX BIN_PAYLOAD(CL_WIRE_MAX_CHANNELS)
/* Metadata frame: type, key length, key and value, CRC. */
#define META_HEADER 2
_Static_assert(META_HEADER + CL_WIRE_META_MAX + BIN_CRC == BIN_PAYLOAD_MAX,
               "a metadata frame is at most as long as the longest sample frame");
/* Longest encoded frame accepted, delimiter excluded. */
#define BIN_ENCODED_MAX (CL_WIRE_BINARY_MAX - 1)

/* Text: a line is buffered up to one byte more than allowed so that a CR
 * before the LF still fits (content is measured without the CR). */
#define TEXT_BUF (CL_WIRE_MAX_LINE + 1)
#define TEXT_MAX_TOKENS (CL_WIRE_MAX_CHANNELS + 1)

struct cl_wire_decoder {
    cl_wire_protocol proto;
    cl_wire_stats st;
    bool syncing;  /* skipping up to the next delimiter */
    bool overflow; /* current unit outgrew the buffer; drop at delimiter */
    size_t len;    /* bytes buffered for the current unit */

    /* text */
    bool first_is_time;
    uint16_t text_n;   /* established channel count, 0 = not yet */
    uint32_t text_seq; /* next text frame number */
    size_t labels_len;
    bool have_labels;
    char labels[CL_WIRE_MAX_LINE + 1];

    /* binary */
    bool have_seq;
    uint32_t last_seq;
    uint8_t payload[BIN_ENCODED_MAX];

    uint8_t buf[TEXT_BUF > BIN_ENCODED_MAX ? TEXT_BUF : BIN_ENCODED_MAX];
};

/* ---- small helpers ---------------------------------------------------- */

static void emit(cl_wire_sink sink, void *ctx, const cl_wire_item *it)
{
    if (sink)
        sink(ctx, it);
}

static uint32_t get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64le(const uint8_t *p)
{
    return (uint64_t)get_u32le(p) | (uint64_t)get_u32le(p + 4) << 32;
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    put_u32le(p, (uint32_t)v);
    put_u32le(p + 4, (uint32_t)(v >> 32));
}

/* Two's-complement reinterpretation without implementation-defined casts. */
static int32_t u32_to_i32(uint32_t u)
{
    return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

static uint32_t frame_crc(const uint8_t *p, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)len);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ASCII case-insensitive comparison of a counted string with a C string. */
static bool eq_nocase(const char *s, size_t len, const char *lit)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (lit[i] == '\0' || lower((unsigned char)s[i]) != lit[i])
            return false;
    return lit[len] == '\0';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* ---- COBS --------------------------------------------------------------- */

/* Canonical COBS: a block of 254 non-zero bytes that ends the input is not
 * followed by an extra 0x01 code byte.  Empty input encodes as 0x01. */
size_t cl_wire_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t code_at = 0, o = 1, i;
    uint8_t code = 1;

    if (cap < 1)
        return 0;
    for (i = 0; i < len; i++) {
        if (in[i] != 0) {
            if (o >= cap)
                return 0;
            out[o++] = in[i];
            if (++code < 0xFF)
                continue;
            if (i + 1 == len) {
                out[code_at] = code;
                return o;
            }
        }
        /* zero byte, or a full block with more input to come */
        out[code_at] = code;
        code = 1;
        if (o >= cap)
            return 0;
        code_at = o++;
    }
    out[code_at] = code;
    return o;
}

/* Accepts canonical and non-canonical encodings (a trailing 0x01 after a
 * full block).  Fails on empty input, a 0x00 byte, a block running past the
 * end, or output longer than `cap`. */
long cl_wire_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;

    if (len == 0)
        return -1;
    while (i < len) {
        size_t code = in[i++], n;
        if (code == 0)
            return -1;
        n = code - 1;
        if (n > len - i || n > cap - o)
            return -1;
        /* Blocks are short in sample data (every small value has zero
         * bytes): a plain loop beats memchr + memcpy calls here. */
        for (; n > 0; n--) {
            if (in[i] == 0)
                return -1;
            out[o++] = in[i++];
        }
        if (code != 0xFF && i < len) {
            if (o >= cap)
                return -1;
            out[o++] = 0;
        }
    }
    return (long)o;
}

/* ---- decoder lifecycle ---------------------------------------------------- */

cl_wire_decoder *cl_wire_decoder_new(cl_wire_protocol proto)
{
    cl_wire_decoder *d;

    if (proto != CL_WIRE_TEXT && proto != CL_WIRE_BINARY)
        return NULL;
    d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->proto = proto;
    d->syncing = true;
    return d;
}

void cl_wire_decoder_free(cl_wire_decoder *d)
{
    free(d);
}

void cl_wire_decoder_set_text_timestamp(cl_wire_decoder *d, bool first_is_time)
{
    d->first_is_time = first_is_time; /* the binary decoder never reads it */
}

void cl_wire_decoder_resync(cl_wire_decoder *d)
{
    d->syncing = true;
    d->overflow = false;
    d->len = 0;
}

const cl_wire_stats *cl_wire_decoder_stats(const cl_wire_decoder *d)
{
    return &d->st;
}

cl_wire_protocol cl_wire_decoder_protocol(const cl_wire_decoder *d)
{
    return d->proto;
}

/* ---- binary decoder ------------------------------------------------------- */

/* Whether `key` (k bytes) and `value` (v bytes) make a metadata pair: the
 * rules of docs/wire-protocols.md, so that the pair reads back unchanged
 * from a "key: value" line. */
static bool meta_pair_ok(const uint8_t *key, size_t k, const uint8_t *value, size_t v)
{
    if (k < 1 || k > CL_WIRE_META_KEY_MAX || k + v > CL_WIRE_META_MAX || key[0] == ' ' ||
        key[k - 1] == ' ')
        return false;
    for (size_t i = 0; i < k; i++)
        if (key[i] < 0x20 || key[i] > 0x7E || key[i] == ':' || key[i] == '=')
            return false;
    for (size_t i = 0; i < v; i++)
        if (value[i] == 0 || value[i] == '\r' || value[i] == '\n')
            return false;
    return true;
}

/* A decoded metadata frame of `plen` bytes in d->payload. */
static void binary_meta(cl_wire_decoder *d, size_t plen, cl_wire_sink sink, void *ctx)
{
    uint8_t *p = d->payload;
    char key[CL_WIRE_META_KEY_MAX + 1], value[CL_WIRE_META_MAX + 1];
    cl_wire_item it;

    if (plen < META_HEADER + 1 + BIN_CRC || plen > BIN_PAYLOAD_MAX) {
        d->st.malformed++;
        return;
    }
    if (frame_crc(p, plen - BIN_CRC) != get_u32le(p + plen - BIN_CRC)) {
        d->st.checksum_errors++;
        return;
    }
    size_t k = p[1], body = plen - META_HEADER - BIN_CRC;
    if (k > body || !meta_pair_ok(p + META_HEADER, k, p + META_HEADER + k, body - k)) {
        d->st.malformed++;
        return;
    }
    memcpy(key, p + META_HEADER, k);
    key[k] = '\0';
    memcpy(value, p + META_HEADER + k, body - k);
    value[body - k] = '\0';
    d->st.meta++;
    memset(&it, 0, sizeof it);
    it.kind = CL_WIRE_ITEM_META;
    it.key = key;
    it.value = value;
    emit(sink, ctx, &it);
}

/* One delimited, non-empty COBS unit `enc` of `len` bytes. */
static void binary_unit(cl_wire_decoder *d, const uint8_t *enc, size_t len, cl_wire_sink sink,
                        void *ctx)
{
    const uint8_t *p = d->payload;
    cl_wire_frame f;
    cl_wire_item it;
    long plen = cl_wire_cobs_decode(enc, len, d->payload, sizeof d->payload);
    unsigned n, i;
    uint32_t seq;

    if (plen >= 1 && d->payload[0] == CL_WIRE_BINARY_META) {
        binary_meta(d, (size_t)plen, sink, ctx);
        return;
    }
    /* The length must fit some channel count before the CRC means anything;
     * then the CRC decides, and only a frame that passes it is checked for
     * version and channel count. */
    if (plen < (long)BIN_PAYLOAD(1) || plen > (long)BIN_PAYLOAD_MAX ||
        ((size_t)plen - BIN_PAYLOAD(0)) % 4 != 0) {
        d->st.malformed++;
        return;
    }
    if (frame_crc(p, (size_t)plen - BIN_CRC) != get_u32le(p + plen - BIN_CRC)) {
        d->st.checksum_errors++;
        return;
    }
    n = p[1];
    if (p[0] != CL_WIRE_BINARY_VERSION || n < 1 || n > CL_WIRE_MAX_CHANNELS ||
        (size_t)plen != BIN_PAYLOAD(n)) {
        d->st.malformed++;
        return;
    }
    seq = get_u32le(p + 2);
    if (d->have_seq && seq != d->last_seq + 1u) {
        /* A forward jump loses (seq - last - 1) frames modulo 2^32; a jump
         * backwards (device restart, replay) is a discontinuity that loses
         * nothing we can count. */
        uint32_t lost = seq - d->last_seq - 1u;
        if (lost >= 0x80000000u)
            lost = 0;
        memset(&it, 0, sizeof it);
        it.kind = CL_WIRE_ITEM_GAP;
        it.gap_after = d->last_seq;
        it.gap_lost = lost;
        d->st.seq_gaps++;
        d->st.lost_frames += lost;
        emit(sink, ctx, &it);
    }
    d->have_seq = true;
    d->last_seq = seq;

    f.seq = seq;
    f.has_seq = true;
    f.device_time = (double)get_u64le(p + 6);
    f.n = (uint16_t)n;
    for (i = 0; i < n; i++)
        f.v[i] = (double)u32_to_i32(get_u32le(p + BIN_HEADER + 4 * i));
    d->st.frames++;
    memset(&it, 0, sizeof it);
    it.kind = CL_WIRE_ITEM_FRAME;
    it.frame = &f;
    emit(sink, ctx, &it);
}

/* Keep `chunk` more bytes of a unit (frame or line) that goes on past this
 * buffer, unless the unit outgrows `cap`: then it is dropped when it ends. */
static void keep(cl_wire_decoder *d, const uint8_t *p, size_t chunk, size_t cap)
{
    if (d->overflow)
        return;
    if (chunk <= cap - d->len) {
        memcpy(d->buf + d->len, p, chunk);
        d->len += chunk;
    } else {
        d->overflow = true;
    }
}

static void binary_decode(cl_wire_decoder *d, const uint8_t *p, const uint8_t *end,
                          cl_wire_sink sink, void *ctx)
{
    while (p < end) {
        const uint8_t *z = memchr(p, 0, (size_t)(end - p));
        size_t chunk = z ? (size_t)(z - p) : (size_t)(end - p);

        if (d->syncing) {
            d->st.skipped_bytes += chunk;
            if (!z)
                return;
            d->syncing = false;
        } else if (z && d->len == 0 && !d->overflow) {
            /* Whole unit inside this buffer: decode it in place. */
            if (chunk > BIN_ENCODED_MAX)
                d->st.malformed++;
            else if (chunk > 0)
                binary_unit(d, p, chunk, sink, ctx);
        } else {
            keep(d, p, chunk, BIN_ENCODED_MAX);
            if (!z)
                return;
            if (d->overflow)
                d->st.malformed++;
            else if (d->len > 0)
                binary_unit(d, d->buf, d->len, sink, ctx);
            d->len = 0;
            d->overflow = false;
        }
        p = z + 1;
    }
}

/* ---- text decoder ----------------------------------------------------------- */

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\r';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parse a NUL-terminated number token of `len` bytes: an optional sign,
 * then decimal digits with an optional fraction and exponent, or nan / inf /
 * infinity (any case).  Hex floats, empty strings and trailing junk fail.
 * The grammar is checked here and strtod only converts, in the C locale's
 * LC_NUMERIC; under a locale with a decimal comma a fraction would stop
 * strtod early and the token fails rather than parse to a wrong value. */
static bool parse_number(char *s, size_t len, double *out)
{
    char *p = s, *end;
    size_t digits = 0;
    bool neg = false;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!is_digit(*p) && *p != '.') {
        size_t rest = len - (size_t)(p - s);
        if (eq_nocase(p, rest, "nan")) {
            *out = NAN;
            return true;
        }
        if (eq_nocase(p, rest, "inf") || eq_nocase(p, rest, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return true;
        }
        return false;
    }
    while (is_digit(*p))
        p++, digits++;
    if (*p == '.')
        for (p++; is_digit(*p); p++)
            digits++;
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return false;
        while (is_digit(*p))
            p++;
    }
    if (p != s + len)
        return false;
    *out = strtod(s, &end);
    return end == s + len;
}

static bool is_time_label(const char *s, size_t len)
{
    static const char *const names[] = {"t",      "time",   "ms",       "us",
                                        "millis", "micros", "timestamp"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (eq_nocase(s, len, names[i]))
            return true;
    return false;
}

/* "# key: value" / "# key=value"; `s` is the NUL-terminated line without
 * its checksum, starting at '#'. */
static void text_meta(cl_wire_decoder *d, char *s, size_t len, cl_wire_sink sink, void *ctx)
{
    char *end = s + len, *key = s + 1, *sep, *kend, *val;
    cl_wire_item it;

    while (key < end && is_space(*key))
        key++;
    for (sep = key; sep < end && *sep != ':' && *sep != '='; sep++)
        ;
    if (sep == end) {
        d->st.malformed++;
        return;
    }
    for (kend = sep; kend > key && is_space(kend[-1]); kend--)
        ;
    if (kend == key) {
        d->st.malformed++;
        return;
    }
    for (val = sep + 1; val < end && is_space(*val); val++)
        ;
    while (end > val && is_space(end[-1]))
        end--;
    *kend = '\0';
    *end = '\0';
    if (eq_nocase(key, (size_t)(kend - key), "timestamp")) {
        if (eq_nocase(val, (size_t)(end - val), "first"))
            d->first_is_time = true;
        else if (eq_nocase(val, (size_t)(end - val), "none"))
            d->first_is_time = false;
    }
    d->st.meta++;
    memset(&it, 0, sizeof it);
    it.kind = CL_WIRE_ITEM_META;
    it.key = key;
    it.value = val;
    emit(sink, ctx, &it);
}

/* A data line: `s` is NUL-terminated, `len` bytes, checksum removed. */
static void text_data(cl_wire_decoder *d, char *s, size_t len, cl_wire_sink sink, void *ctx)
{
    struct {
        const char *label;
        size_t label_len;
        double v;
    } tok[TEXT_MAX_TOKENS];
    size_t ntok = 0, i, time_at = (size_t)-1, lablen = 0;
    char *p = s, *end = s + len;
    char labels[sizeof d->labels];
    bool labelled = false;
    cl_wire_frame f;
    cl_wire_item it;

    while (p < end) {
        char *t, *colon = NULL, *num;
        while (p < end && is_sep(*p))
            p++;
        if (p == end)
            break;
        if (ntok == TEXT_MAX_TOKENS)
            goto bad;
        for (t = p; p < end && !is_sep(*p); p++)
            if (*p == ':' && !colon)
                colon = p;
        *p = '\0'; /* separator or the terminating NUL */
        tok[ntok].label = NULL;
        tok[ntok].label_len = 0;
        num = t;
        if (colon) {
            if (colon == t)
                goto bad;
            tok[ntok].label = t;
            tok[ntok].label_len = (size_t)(colon - t);
            num = colon + 1;
        }
        if (num == p || !parse_number(num, (size_t)(p - num), &tok[ntok].v))
            goto bad;
        ntok++;
        if (p < end)
            p++;
    }
    if (ntok == 0)
        return; /* blank line */

    for (i = 0; i < ntok && time_at == (size_t)-1; i++)
        if (tok[i].label && is_time_label(tok[i].label, tok[i].label_len))
            time_at = i;
    if (time_at == (size_t)-1 && d->first_is_time)
        for (i = 0; i < ntok && time_at == (size_t)-1; i++)
            if (!tok[i].label)
                time_at = i;

    f.n = 0;
    f.device_time = NAN;
    for (i = 0; i < ntok; i++) {
        if (i == time_at) {
            f.device_time = tok[i].v;
            continue;
        }
        if (f.n == CL_WIRE_MAX_CHANNELS)
            goto bad;
        if (f.n > 0)
            labels[lablen++] = ',';
        if (tok[i].label) {
            memcpy(labels + lablen, tok[i].label, tok[i].label_len);
            lablen += tok[i].label_len;
            labelled = true;
        }
        f.v[f.n++] = tok[i].v;
    }
    if (f.n == 0 || (d->text_n && f.n != d->text_n))
        goto bad;
    d->text_n = f.n;

    if (labelled && (!d->have_labels || d->labels_len != lablen ||
                     memcmp(d->labels, labels, lablen) != 0)) {
        memcpy(d->labels, labels, lablen);
        d->labels[lablen] = '\0';
        d->labels_len = lablen;
        d->have_labels = true;
        memset(&it, 0, sizeof it);
        it.kind = CL_WIRE_ITEM_META;
        it.key = "labels";
        it.value = d->labels;
        emit(sink, ctx, &it);
    }

    f.seq = d->text_seq++;
    f.has_seq = false;
    d->st.frames++;
    memset(&it, 0, sizeof it);
    it.kind = CL_WIRE_ITEM_FRAME;
    it.frame = &f;
    emit(sink, ctx, &it);
    return;
bad:
    d->st.malformed++;
}

/* One complete line in d->buf (d->len bytes, without the LF). */
static void text_line(cl_wire_decoder *d, cl_wire_sink sink, void *ctx)
{
    char *s = (char *)d->buf;
    size_t len = d->len;

    if (len > 0 && s[len - 1] == '\r')
        len--;
    if (len > CL_WIRE_MAX_LINE || memchr(s, 0, len)) {
        d->st.malformed++;
        return;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    if (len >= 3 && s[len - 3] == '*' && hex_value((unsigned char)s[len - 2]) >= 0 &&
        hex_value((unsigned char)s[len - 1]) >= 0) {
        unsigned want = (unsigned)(hex_value((unsigned char)s[len - 2]) << 4 |
                                   hex_value((unsigned char)s[len - 1]));
        unsigned sum = 0;
        size_t i;
        len -= 3;
        for (i = 0; i < len; i++)
            sum ^= (unsigned char)s[i];
        if (sum != want) {
            d->st.checksum_errors++;
            return;
        }
    }
    s[len] = '\0';
    while (len > 0 && is_space(*s))
        s++, len--;
    if (len == 0)
        return; /* blank line */
    if (*s == '#')
        text_meta(d, s, len, sink, ctx);
    else
        text_data(d, s, len, sink, ctx);
}

static void text_decode(cl_wire_decoder *d, const uint8_t *p, const uint8_t *end,
                        cl_wire_sink sink, void *ctx)
{
    while (p < end) {
        const uint8_t *z = memchr(p, '\n', (size_t)(end - p));
        size_t chunk = z ? (size_t)(z - p) : (size_t)(end - p);

        if (d->syncing) {
            d->st.skipped_bytes += chunk;
            if (!z)
                return;
            d->syncing = false;
        } else {
            keep(d, p, chunk, TEXT_BUF);
            if (!z)
                return;
            if (d->overflow)
                d->st.malformed++;
            else
                text_line(d, sink, ctx);
            d->len = 0;
            d->overflow = false;
        }
        p = z + 1;
    }
}

void cl_wire_decode(cl_wire_decoder *d, const uint8_t *buf, size_t len, cl_wire_sink sink,
                    void *ctx)
{
    if (len == 0)
        return;
    d->st.bytes += len;
    if (d->proto == CL_WIRE_BINARY)
        binary_decode(d, buf, buf + len, sink, ctx);
    else
        text_decode(d, buf, buf + len, sink, ctx);
}

/* ---- encoders ------------------------------------------------------------------ */

/* Round to nearest (halves away from zero), saturating; NaN -> 0. */
static int32_t to_i32(double v)
{
    if (isnan(v))
        return 0;
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)lround(v);
}

/* Round to nearest, saturating; NaN and negatives -> 0. */
static uint64_t to_u64(double v)
{
    if (!(v > 0))
        return 0;
    if (v >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)round(v);
}

size_t cl_wire_encode_binary(const cl_wire_frame *f, uint8_t *out, size_t cap)
{
    uint8_t p[BIN_PAYLOAD_MAX];
    size_t plen, elen, i;

    if (f->n < 1 || f->n > CL_WIRE_MAX_CHANNELS)
        return 0;
    p[0] = CL_WIRE_BINARY_VERSION;
    p[1] = (uint8_t)f->n;
    put_u32le(p + 2, f->seq);
    put_u64le(p + 6, to_u64(f->device_time));
    for (i = 0; i < f->n; i++)
        put_u32le(p + BIN_HEADER + 4 * i, (uint32_t)to_i32(f->v[i]));
    plen = BIN_PAYLOAD(f->n);
    put_u32le(p + plen - BIN_CRC, frame_crc(p, plen - BIN_CRC));
    elen = cl_wire_cobs_encode(p, plen, out, cap);
    if (elen == 0 || elen >= cap)
        return 0;
    out[elen] = 0;
    return elen + 1;
}

size_t cl_wire_encode_meta(const char *key, const char *value, uint8_t *out, size_t cap)
{
    uint8_t p[BIN_PAYLOAD_MAX];
    size_t k = strlen(key), v = strlen(value), elen;

    if (!meta_pair_ok((const uint8_t *)key, k, (const uint8_t *)value, v))
        return 0;
    p[0] = CL_WIRE_BINARY_META;
    p[1] = (uint8_t)k;
    memcpy(p + META_HEADER, key, k);
    memcpy(p + META_HEADER + k, value, v);
    size_t plen = META_HEADER + k + v + BIN_CRC;
    put_u32le(p + plen - BIN_CRC, frame_crc(p, plen - BIN_CRC));
    elen = cl_wire_cobs_encode(p, plen, out, cap);
    if (elen == 0 || elen >= cap)
        return 0;
    out[elen] = 0;
    return elen + 1;
}

/* Append one value to out[*o..cap), leaving room for the NUL; false if it
 * does not fit.  Integral values up to 1e15 take a fast path; NaN is always
 * "nan" (its sign carries no meaning). */
static bool put_value(char *out, size_t cap, size_t *o, double v)
{
    char tmp[40];
    size_t n;

    if (isnan(v)) {
        memcpy(tmp, "nan", 4);
        n = 3;
    } else if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
        long long k = (long long)v;
        unsigned long long u = k < 0 ? 0ULL - (unsigned long long)k : (unsigned long long)k;
        char *e = tmp + sizeof tmp, *q = e;
        do
            *--q = (char)('0' + u % 10);
        while (u /= 10);
        if (k < 0)
            *--q = '-';
        n = (size_t)(e - q);
        memmove(tmp, q, n);
    } else {
        int r = snprintf(tmp, sizeof tmp, "%.17g", v);
        if (r < 0 || (size_t)r >= sizeof tmp)
            return false;
        n = (size_t)r;
    }
    if (n >= cap - *o)
        return false;
    memcpy(out + *o, tmp, n);
    *o += n;
    return true;
}

size_t cl_wire_encode_text(const cl_wire_frame *f, bool with_time, bool with_checksum,
                           char *out, size_t cap)
{
    size_t o = 0, i;

    if (f->n < 1 || f->n > CL_WIRE_MAX_CHANNELS || cap == 0)
        return 0;
    if (with_time && !put_value(out, cap, &o, f->device_time))
        return 0;
    for (i = 0; i < f->n; i++) {
        if (o > 0)
            out[o++] = ','; /* put_value left room for the NUL */
        if (!put_value(out, cap, &o, f->v[i]))
            return 0;
    }
    if (with_checksum) {
        static const char hex[] = "0123456789ABCDEF";
        unsigned sum = 0;
        for (i = 0; i < o; i++)
            sum ^= (unsigned char)out[i];
        if (cap - o < 4)
            return 0;
        out[o++] = '*';
        out[o++] = hex[sum >> 4];
        out[o++] = hex[sum & 15];
    }
    if (cap - o < 3)
        return 0;
    out[o++] = '\r';
    out[o++] = '\n';
    out[o] = '\0';
    return o;
}

/* ---- names ---------------------------------------------------------------------- */

cl_wire_protocol cl_wire_protocol_from_name(const char *name)
{
    if (!name)
        return 0;
    if (eq_nocase(name, strlen(name), "text"))
        return CL_WIRE_TEXT;
    if (eq_nocase(name, strlen(name), "binary"))
        return CL_WIRE_BINARY;
    return 0;
}

const char *cl_wire_protocol_name(cl_wire_protocol p)
{
    switch (p) {
    case CL_WIRE_TEXT:
        return "text";
    case CL_WIRE_BINARY:
        return "binary";
    default:
        return "unknown";
    }
}
