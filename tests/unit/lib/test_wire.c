/*
 * Unit tests for cl_wire: COBS, both decoders and both encoders.  Streams
 * are built from the encoders (fixed-seed random frames) and from literal
 * text, then fed whole, byte by byte and in random pieces; every test
 * checks the exact items produced and the exact counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cl_wire.h"

/* ---- recording sink ------------------------------------------------------ */

typedef struct rec_item {
    cl_wire_item_kind kind;
    cl_wire_frame f;
    char key[64];
    char value[CL_WIRE_MAX_LINE + 1];
    uint32_t gap_after, gap_lost;
} rec_item;

typedef struct rec {
    rec_item *items;
    size_t n, cap;
} rec;

static void rec_sink(void *ctx, const cl_wire_item *it)
{
    rec *r = ctx;
    rec_item *ri;

    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->items = realloc(r->items, r->cap * sizeof *r->items);
        assert_non_null(r->items);
    }
    ri = &r->items[r->n++];
    memset(ri, 0, sizeof *ri);
    ri->kind = it->kind;
    switch (it->kind) {
    case CL_WIRE_ITEM_FRAME:
        assert_non_null(it->frame);
        ri->f = *it->frame;
        /* only the first n samples are defined */
        for (size_t i = it->frame->n; i < CL_WIRE_MAX_CHANNELS; i++)
            ri->f.v[i] = 0;
        break;
    case CL_WIRE_ITEM_META:
        assert_non_null(it->key);
        assert_non_null(it->value);
        assert_true(strlen(it->key) < sizeof ri->key);
        assert_true(strlen(it->value) < sizeof ri->value);
        strcpy(ri->key, it->key);
        strcpy(ri->value, it->value);
        break;
    case CL_WIRE_ITEM_GAP:
        ri->gap_after = it->gap_after;
        ri->gap_lost = it->gap_lost;
        break;
    default:
        fail_msg("unknown item kind %d", (int)it->kind);
    }
}

static void rec_free(rec *r)
{
    free(r->items);
    memset(r, 0, sizeof *r);
}

static uint64_t dbits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Exact equality of doubles: same bits, or both NaN. */
#define assert_dbl(a, b)                                                                       \
    do {                                                                                       \
        double a_ = (a), b_ = (b);                                                             \
        if (!(isnan(a_) && isnan(b_)))                                                         \
            assert_int_equal(dbits(a_), dbits(b_));                                            \
    } while (0)

static void assert_frame_equal(const cl_wire_frame *a, const cl_wire_frame *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->has_seq, b->has_seq);
    assert_dbl(a->device_time, b->device_time);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_dbl(a->v[i], b->v[i]);
}

static void assert_recs_equal(const rec *a, const rec *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const rec_item *x = &a->items[i], *y = &b->items[i];
        assert_int_equal(x->kind, y->kind);
        assert_frame_equal(&x->f, &y->f);
        assert_string_equal(x->key, y->key);
        assert_string_equal(x->value, y->value);
        assert_int_equal(x->gap_after, y->gap_after);
        assert_int_equal(x->gap_lost, y->gap_lost);
    }
}

static void assert_stats_equal(const cl_wire_stats *a, const cl_wire_stats *b)
{
    assert_int_equal(a->bytes, b->bytes);
    assert_int_equal(a->frames, b->frames);
    assert_int_equal(a->meta, b->meta);
    assert_int_equal(a->malformed, b->malformed);
    assert_int_equal(a->checksum_errors, b->checksum_errors);
    assert_int_equal(a->seq_gaps, b->seq_gaps);
    assert_int_equal(a->lost_frames, b->lost_frames);
    assert_int_equal(a->skipped_bytes, b->skipped_bytes);
}

/* Compare the decoder's counters with an expected set (unnamed fields 0). */
#define assert_stats(d, ...)                                                                   \
    do {                                                                                       \
        cl_wire_stats want_ = {__VA_ARGS__};                                                   \
        assert_stats_equal(cl_wire_decoder_stats(d), &want_);                                  \
    } while (0)

static void assert_frame_item(const rec *r, size_t i, uint32_t seq, double t, uint16_t n,
                              const double *v)
{
    assert_true(i < r->n);
    assert_int_equal(r->items[i].kind, CL_WIRE_ITEM_FRAME);
    assert_int_equal(r->items[i].f.seq, seq);
    assert_dbl(r->items[i].f.device_time, t);
    assert_int_equal(r->items[i].f.n, n);
    for (uint16_t k = 0; k < n; k++)
        assert_dbl(r->items[i].f.v[k], v[k]);
}

static void assert_meta_item(const rec *r, size_t i, const char *key, const char *value)
{
    assert_true(i < r->n);
    assert_int_equal(r->items[i].kind, CL_WIRE_ITEM_META);
    assert_string_equal(r->items[i].key, key);
    assert_string_equal(r->items[i].value, value);
}

static void assert_gap_item(const rec *r, size_t i, uint32_t after, uint32_t lost)
{
    assert_true(i < r->n);
    assert_int_equal(r->items[i].kind, CL_WIRE_ITEM_GAP);
    assert_int_equal(r->items[i].gap_after, after);
    assert_int_equal(r->items[i].gap_lost, lost);
}

/* ---- random numbers (fixed seed, reproducible) ------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return g->s;
}

static uint32_t rng_below(rng *g, uint32_t n)
{
    return (uint32_t)(rng_next(g) % n);
}

/* ---- stream helpers --------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap)
            b->cap = b->cap ? 2 * b->cap : 4096;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void buf_str(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_byte(buf *b, uint8_t c)
{
    buf_add(b, &c, 1);
}

static void buf_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void add_binary(buf *b, const cl_wire_frame *f)
{
    uint8_t tmp[CL_WIRE_BINARY_MAX];
    size_t n = cl_wire_encode_binary(f, tmp, sizeof tmp);
    assert_true(n > 0);
    buf_add(b, tmp, n);
}

static cl_wire_frame make_frame(uint32_t seq, double t, uint16_t n, double base)
{
    cl_wire_frame f;
    memset(&f, 0, sizeof f);
    f.seq = seq;
    f.has_seq = true;
    f.device_time = t;
    f.n = n;
    for (uint16_t i = 0; i < n; i++)
        f.v[i] = base + i;
    return f;
}

static void add_seq_frame(buf *b, uint32_t seq)
{
    cl_wire_frame f = make_frame(seq, 1000.0 * seq, 2, seq);
    add_binary(b, &f);
}

/* Decode `len` bytes in one call into `r` with a fresh decoder. */
static cl_wire_decoder *decode_all(cl_wire_protocol p, bool first_time, const void *data,
                                   size_t len, rec *r)
{
    cl_wire_decoder *d = cl_wire_decoder_new(p);
    assert_non_null(d);
    cl_wire_decoder_set_text_timestamp(d, first_time);
    cl_wire_decode(d, data, len, rec_sink, r);
    return d;
}

static void feed_str(cl_wire_decoder *d, const char *s, rec *r)
{
    cl_wire_decode(d, (const uint8_t *)s, strlen(s), rec_sink, r);
}

/* Decode a whole stream in one call, byte by byte, and in 20 random
 * splittings; all must give the same items and counters. */
static void check_split_invariance(cl_wire_protocol p, bool first_time, const buf *b,
                                   rec *whole, cl_wire_stats *st)
{
    cl_wire_decoder *ref = decode_all(p, first_time, b->p, b->n, whole);
    rng g = {0x9E3779B97F4A7C15u};

    for (int round = 0; round < 22; round++) {
        rec r = {0};
        cl_wire_decoder *d = cl_wire_decoder_new(p);
        size_t at = 0;
        assert_non_null(d);
        cl_wire_decoder_set_text_timestamp(d, first_time);
        while (at < b->n) {
            size_t step;
            if (round == 0)
                step = 1;
            else if (round == 1)
                step = b->n; /* second whole-stream pass */
            else
                step = rng_below(&g, round < 12 ? 8 : 400);
            if (step > b->n - at)
                step = b->n - at;
            cl_wire_decode(d, b->p + at, step, rec_sink, &r); /* step 0 is allowed */
            at += step;
        }
        assert_recs_equal(whole, &r);
        assert_stats_equal(cl_wire_decoder_stats(ref), cl_wire_decoder_stats(d));
        cl_wire_decoder_free(d);
        rec_free(&r);
    }
    *st = *cl_wire_decoder_stats(ref);
    cl_wire_decoder_free(ref);
}

/* ---- COBS --------------------------------------------------------------------- */

static void check_cobs(const uint8_t *in, size_t len, const uint8_t *enc, size_t elen)
{
    uint8_t out[1024], back[1024];
    size_t n = cl_wire_cobs_encode(in, len, out, sizeof out);
    long m;

    assert_int_equal(n, elen);
    assert_memory_equal(out, enc, elen);
    assert_null(memchr(out, 0, n));
    m = cl_wire_cobs_decode(out, n, back, sizeof back);
    assert_int_equal(m, (long)len);
    if (len)
        assert_memory_equal(back, in, len);
    /* exact capacities work, one byte less does not */
    assert_int_equal(cl_wire_cobs_encode(in, len, out, elen), elen);
    memset(out, 0x55, sizeof out);
    assert_int_equal(cl_wire_cobs_encode(in, len, out, elen - 1), 0);
    for (size_t k = elen - 1; k < sizeof out; k++)
        assert_int_equal(out[k], 0x55);
    assert_int_equal(cl_wire_cobs_decode(enc, elen, back, len), (long)len);
    if (len)
        assert_int_equal(cl_wire_cobs_decode(enc, elen, back, len - 1), -1);
}

static void test_cobs_vectors(void **state)
{
    (void)state;
    check_cobs(NULL, 0, (const uint8_t[]){0x01}, 1);
    check_cobs((const uint8_t[]){0x00}, 1, (const uint8_t[]){0x01, 0x01}, 2);
    check_cobs((const uint8_t[]){0x00, 0x00}, 2, (const uint8_t[]){0x01, 0x01, 0x01}, 3);
    check_cobs((const uint8_t[]){0x00, 0x11, 0x00}, 3,
               (const uint8_t[]){0x01, 0x02, 0x11, 0x01}, 4);
    check_cobs((const uint8_t[]){0x11, 0x22, 0x00, 0x33}, 4,
               (const uint8_t[]){0x03, 0x11, 0x22, 0x02, 0x33}, 5);
    check_cobs((const uint8_t[]){0x11, 0x22, 0x33, 0x44}, 4,
               (const uint8_t[]){0x05, 0x11, 0x22, 0x33, 0x44}, 5);
    check_cobs((const uint8_t[]){0x11, 0x00, 0x00, 0x00}, 4,
               (const uint8_t[]){0x02, 0x11, 0x01, 0x01, 0x01}, 5);
}

static void test_cobs_long_runs(void **state)
{
    uint8_t in[600], enc[700];
    (void)state;

    for (int i = 0; i < 600; i++)
        in[i] = (uint8_t)(i % 255 + 1); /* never zero */

    /* 253 non-zero bytes: one block, code 0xFE */
    enc[0] = 0xFE;
    memcpy(enc + 1, in, 253);
    check_cobs(in, 253, enc, 254);

    /* 254: one full block 0xFF and no trailing code byte */
    enc[0] = 0xFF;
    memcpy(enc + 1, in, 254);
    check_cobs(in, 254, enc, 255);

    /* 255: full block, then a block of one */
    enc[0] = 0xFF;
    memcpy(enc + 1, in, 254);
    enc[255] = 0x02;
    enc[256] = in[254];
    check_cobs(in, 255, enc, 257);

    /* 254 non-zero then a zero: full block, then two empty blocks */
    {
        uint8_t in2[255];
        memcpy(in2, in, 254);
        in2[254] = 0;
        enc[0] = 0xFF;
        memcpy(enc + 1, in, 254);
        enc[255] = 0x01;
        enc[256] = 0x01;
        check_cobs(in2, 255, enc, 257);
    }

    /* a zero then 254 non-zero */
    {
        uint8_t in3[255];
        in3[0] = 0;
        memcpy(in3 + 1, in, 254);
        enc[0] = 0x01;
        enc[1] = 0xFF;
        memcpy(enc + 2, in, 254);
        check_cobs(in3, 255, enc, 256);
    }

    /* 508 non-zero: two full blocks */
    enc[0] = 0xFF;
    memcpy(enc + 1, in, 254);
    enc[255] = 0xFF;
    memcpy(enc + 256, in + 254, 254);
    check_cobs(in, 508, enc, 510);

    /* all zeros: one 0x01 per byte plus one */
    {
        uint8_t zeros[300] = {0};
        memset(enc, 0x01, 301);
        check_cobs(zeros, 300, enc, 301);
    }

    /* non-canonical: full block at the end followed by 0x01 decodes the same */
    {
        uint8_t back[300];
        enc[0] = 0xFF;
        memcpy(enc + 1, in, 254);
        enc[255] = 0x01;
        assert_int_equal(cl_wire_cobs_decode(enc, 256, back, sizeof back), 254);
        assert_memory_equal(back, in, 254);
    }
}

static void test_cobs_errors(void **state)
{
    uint8_t out[16];
    (void)state;

    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x01}, 0, out, sizeof out), -1);
    /* a zero byte inside: as code, and as data */
    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x00}, 1, out, sizeof out), -1);
    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x03, 0x11, 0x00}, 3, out, 16), -1);
    /* block runs past the end */
    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x03, 0x11}, 2, out, 16), -1);
    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x02, 0x11, 0x05}, 3, out, 16), -1);
    /* implied zero does not fit */
    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x02, 0x11, 0x01}, 3, out, 1), -1);
    assert_int_equal(cl_wire_cobs_decode((const uint8_t[]){0x02, 0x11, 0x01}, 3, out, 2), 2);
    /* encoder with no room at all */
    assert_int_equal(cl_wire_cobs_encode(NULL, 0, out, 0), 0);
}

/* ---- binary ----------------------------------------------------------------------- */

static cl_wire_frame random_binary_frame(rng *g, uint32_t seq)
{
    cl_wire_frame f;
    memset(&f, 0, sizeof f);
    f.seq = seq;
    f.has_seq = true;
    f.device_time = (double)(rng_next(g) >> (11 + rng_below(g, 40))); /* < 2^53 */
    f.n = (uint16_t)(1 + rng_below(g, CL_WIRE_MAX_CHANNELS));
    for (uint16_t i = 0; i < f.n; i++) {
        switch (rng_below(g, 4)) {
        case 0:
            f.v[i] = (double)rng_below(g, 4096);
            break;
        case 1:
            f.v[i] = (double)(-(int32_t)rng_below(g, 100) - 1);
            break;
        case 2:
            f.v[i] = (double)(int32_t)(uint32_t)rng_next(g);
            break;
        default:
            f.v[i] = 0;
            break; /* zeros exercise COBS */
        }
    }
    return f;
}

static void test_binary_round_trip(void **state)
{
    enum { N = 2000 };
    cl_wire_frame *sent = calloc(N, sizeof *sent);
    cl_wire_stats st;
    rng g = {12345};
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    (void)state;

    assert_non_null(sent);
    buf_byte(&b, 0); /* the decoder starts in sync after a delimiter */
    for (int i = 0; i < N; i++) {
        sent[i] = random_binary_frame(&g, 7u + (uint32_t)i);
        add_binary(&b, &sent[i]);
    }
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r.items[i].kind, CL_WIRE_ITEM_FRAME);
        assert_frame_equal(&r.items[i].f, &sent[i]);
    }
    assert_stats(d, .bytes = b.n, .frames = N);
    assert_int_equal(cl_wire_decoder_protocol(d), CL_WIRE_BINARY);
    cl_wire_decoder_free(d);
    rec_free(&r);

    check_split_invariance(CL_WIRE_BINARY, false, &b, &r, &st);
    assert_int_equal(r.n, N);
    assert_int_equal(st.frames, N);
    assert_int_equal(st.bytes, b.n);
    rec_free(&r);
    buf_free(&b);
    free(sent);
}

/* The encoding of one frame, byte for byte (the example in
 * docs/wire-protocols.md). */
static void test_binary_known_bytes(void **state)
{
    cl_wire_frame f = make_frame(1, 1000000, 2, 0);
    uint8_t out[CL_WIRE_BINARY_MAX], payload[64];
    static const uint8_t want_payload[26] = {
        0x01, 0x02, 0x01, 0x00, 0x00, 0x00, 0x40, 0x42, 0x0F, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x18, 0xFC, 0xFF, 0xFF, 0xE9, 0x91, 0xFF, 0x24,
    };
    static const uint8_t want[28] = {
        0x04, 0x01, 0x02, 0x01, 0x01, 0x01, 0x04, 0x40, 0x42, 0x0F, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x02, 0x02, 0x01, 0x09, 0x18, 0xFC, 0xFF, 0xFF, 0xE9, 0x91, 0xFF, 0x24, 0x00,
    };
    size_t n;
    (void)state;

    f.v[0] = 512;
    f.v[1] = -1000;
    n = cl_wire_encode_binary(&f, out, sizeof out);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(cl_wire_cobs_decode(out, n - 1, payload, sizeof payload), 26);
    assert_memory_equal(payload, want_payload, 26);
    /* the CRC is zlib's CRC-32 (ISO-HDLC) of the 22 bytes before it, stored
     * little-endian */
    assert_int_equal(crc32(0, want_payload, 22), 0x24FF91E9u);
    assert_int_equal(crc32(0, (const Bytef *)"123456789", 9), 0xCBF43926u);
}

static void test_binary_encode_limits(void **state)
{
    cl_wire_frame f = make_frame(3, 0, 4, 0);
    uint8_t out[CL_WIRE_BINARY_MAX];
    size_t need;
    rec r = {0};
    cl_wire_decoder *d;
    buf b = {0};
    (void)state;

    f.v[0] = 1.5;
    f.v[1] = -1.5;
    f.v[2] = NAN;
    f.v[3] = 1e12;
    f.device_time = 123.6;
    buf_byte(&b, 0);
    add_binary(&b, &f);
    f.seq = 4;
    f.v[0] = 2.4;
    f.v[1] = -1e12;
    f.v[2] = -2147483648.4;
    f.v[3] = 2147483646.6;
    f.device_time = -5;
    add_binary(&b, &f);
    f.seq = 5;
    f.device_time = NAN;
    add_binary(&b, &f);
    f.seq = 6;
    f.device_time = 1e30;
    add_binary(&b, &f);
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 4);
    assert_frame_item(&r, 0, 3, 124, 4, (const double[]){2, -2, 0, 2147483647});
    assert_frame_item(&r, 1, 4, 0, 4,
                      (const double[]){2, -2147483648.0, -2147483648.0, 2147483647});
    assert_frame_item(&r, 2, 5, 0, 4,
                      (const double[]){2, -2147483648.0, -2147483648.0, 2147483647});
    assert_frame_item(&r, 3, 6, 18446744073709551616.0, 4,
                      (const double[]){2, -2147483648.0, -2147483648.0, 2147483647});
    assert_true(r.items[0].f.has_seq);
    assert_stats(d, .bytes = b.n, .frames = 4);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);

    /* channel count out of range */
    f.n = 0;
    assert_int_equal(cl_wire_encode_binary(&f, out, sizeof out), 0);
    f.n = CL_WIRE_MAX_CHANNELS + 1;
    assert_int_equal(cl_wire_encode_binary(&f, out, sizeof out), 0);

    /* every capacity below the need fails, the exact one works */
    f = make_frame(0x01020304, 5, CL_WIRE_MAX_CHANNELS, 1);
    need = cl_wire_encode_binary(&f, out, sizeof out);
    /* payload, one COBS code byte (no zero run of 254), delimiter */
    assert_int_equal(need, (2 + 4 + 8 + 4 * CL_WIRE_MAX_CHANNELS + 4) + 1 + 1);
    assert_true(need <= CL_WIRE_BINARY_MAX);
    for (size_t cap = 0; cap < need; cap++) {
        memset(out, 0x55, sizeof out);
        assert_int_equal(cl_wire_encode_binary(&f, out, cap), 0);
        for (size_t k = cap; k < sizeof out; k++)
            assert_int_equal(out[k], 0x55);
    }
    assert_int_equal(cl_wire_encode_binary(&f, out, need), need);
}

static void test_binary_unsynced_start(void **state)
{
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    uint8_t first[CL_WIRE_BINARY_MAX];
    cl_wire_frame f0 = make_frame(0, 0, 2, 0);
    size_t n0 = cl_wire_encode_binary(&f0, first, sizeof first);
    (void)state;

    /* No leading delimiter: the first frame is indistinguishable from the
     * tail of an earlier one, so it is skipped. */
    buf_add(&b, first, n0);
    add_seq_frame(&b, 1);
    add_seq_frame(&b, 2);
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 1, 1000, 2, (const double[]){1, 2});
    assert_frame_item(&r, 1, 2, 2000, 2, (const double[]){2, 3});
    assert_stats(d, .bytes = b.n, .frames = 2, .skipped_bytes = n0 - 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

static void test_binary_garbage_prefix(void **state)
{
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    cl_wire_stats st;
    rng g = {99};
    (void)state;

    for (int i = 0; i < 137; i++)
        buf_byte(&b, (uint8_t)(1 + rng_below(&g, 255)));
    buf_byte(&b, 0);
    add_seq_frame(&b, 10);
    add_seq_frame(&b, 11);
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 10, 10000, 2, (const double[]){10, 11});
    assert_frame_item(&r, 1, 11, 11000, 2, (const double[]){11, 12});
    assert_stats(d, .bytes = b.n, .frames = 2, .skipped_bytes = 137);
    cl_wire_decoder_free(d);
    rec_free(&r);
    check_split_invariance(CL_WIRE_BINARY, false, &b, &r, &st);
    assert_int_equal(r.n, 2);
    assert_int_equal(st.skipped_bytes, 137);
    rec_free(&r);
    buf_free(&b);
}

static void test_binary_midstream_garbage(void **state)
{
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    cl_wire_stats st;
    uint8_t junk[400];
    (void)state;

    buf_byte(&b, 0);
    add_seq_frame(&b, 0);
    buf_str(&b, "ABC"); /* COBS block runs past the end */
    buf_byte(&b, 0);
    buf_add(&b, "\x01", 1); /* decodes to an empty payload */
    buf_byte(&b, 0);
    buf_add(&b, "\x05\x01\x01\x01\x01", 5); /* valid COBS, too short */
    buf_byte(&b, 0);
    buf_byte(&b, 0); /* empty units are idle delimiters */
    buf_byte(&b, 0);
    add_seq_frame(&b, 1);
    memset(junk, 0x41, sizeof junk); /* longer than any frame */
    buf_add(&b, junk, sizeof junk);
    buf_byte(&b, 0);
    add_seq_frame(&b, 2);
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 3);
    assert_frame_item(&r, 0, 0, 0, 2, (const double[]){0, 1});
    assert_frame_item(&r, 1, 1, 1000, 2, (const double[]){1, 2});
    assert_frame_item(&r, 2, 2, 2000, 2, (const double[]){2, 3});
    assert_stats(d, .bytes = b.n, .frames = 3, .malformed = 4);
    cl_wire_decoder_free(d);
    rec_free(&r);
    check_split_invariance(CL_WIRE_BINARY, false, &b, &r, &st);
    assert_int_equal(r.n, 3);
    assert_int_equal(st.malformed, 4);
    rec_free(&r);
    buf_free(&b);
}

/* Wrap a payload (CRC appended here if `crc`) into a delimited frame. */
static void add_payload(buf *b, const uint8_t *p, size_t len, bool crc)
{
    uint8_t tmp[600], enc[700];
    size_t n;
    assert_true(len + 4 <= sizeof tmp);
    memcpy(tmp, p, len);
    if (crc) {
        uint32_t c = (uint32_t)crc32(0, p, (uInt)len);
        for (int i = 0; i < 4; i++)
            tmp[len++] = (uint8_t)(c >> (8 * i));
    }
    n = cl_wire_cobs_encode(tmp, len, enc, sizeof enc);
    assert_true(n > 0);
    buf_add(b, enc, n);
    buf_byte(b, 0);
}

/* A unit that outgrows the buffer is dropped even when its first part,
 * fed on its own, is a complete frame. */
static void test_binary_overlong_split(void **state)
{
    uint8_t f1[CL_WIRE_BINARY_MAX], junk[300];
    cl_wire_frame f = make_frame(1, 1000, 2, 1);
    size_t n1 = cl_wire_encode_binary(&f, f1, sizeof f1);
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d = cl_wire_decoder_new(CL_WIRE_BINARY);
    (void)state;

    assert_non_null(d);
    memset(junk, 0x42, sizeof junk);
    cl_wire_decode(d, (const uint8_t[]){0}, 1, rec_sink, &r);
    cl_wire_decode(d, f1, n1 - 1, rec_sink, &r); /* frame without delimiter */
    cl_wire_decode(d, junk, sizeof junk, rec_sink, &r);
    cl_wire_decode(d, (const uint8_t[]){0}, 1, rec_sink, &r);
    add_seq_frame(&b, 2);
    cl_wire_decode(d, b.p, b.n, rec_sink, &r);
    assert_int_equal(r.n, 1);
    assert_frame_item(&r, 0, 2, 2000, 2, (const double[]){2, 3});
    assert_stats(d, .bytes = 1 + n1 - 1 + sizeof junk + 1 + b.n, .frames = 1, .malformed = 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

static void test_binary_crc_bitflips(void **state)
{
    cl_wire_frame f = make_frame(77, 123456789, 5, -3);
    uint8_t enc[CL_WIRE_BINARY_MAX], payload[CL_WIRE_BINARY_MAX];
    size_t n = cl_wire_encode_binary(&f, enc, sizeof enc);
    long plen = cl_wire_cobs_decode(enc, n - 1, payload, sizeof payload);
    (void)state;

    assert_int_equal(plen, 14 + 4 * 5 + 4);
    for (long bit = 0; bit < plen * 8; bit++) {
        buf b = {0};
        rec r = {0};
        cl_wire_decoder *d;
        payload[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        buf_byte(&b, 0);
        add_payload(&b, payload, (size_t)plen, false);
        payload[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        add_payload(&b, payload, (size_t)plen, false); /* intact copy */
        d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
        assert_int_equal(r.n, 1);
        assert_frame_item(&r, 0, 77, 123456789, 5, (const double[]){-3, -2, -1, 0, 1});
        assert_stats(d, .bytes = b.n, .frames = 1, .checksum_errors = 1);
        cl_wire_decoder_free(d);
        rec_free(&r);
        buf_free(&b);
    }
}

static void test_binary_bad_layout(void **state)
{
    uint8_t p[200];
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    (void)state;

    memset(p, 0x11, sizeof p);
    buf_byte(&b, 0);
    /* version 3, otherwise a valid one-channel frame */
    p[0] = 3, p[1] = 1;
    add_payload(&b, p, 18, true);
    /* zero channels */
    p[0] = 1, p[1] = 0;
    add_payload(&b, p, 14, true);
    /* 33 channels */
    p[1] = 33;
    add_payload(&b, p, 14 + 4 * 33, true);
    /* claims 3 channels, carries 2 */
    p[1] = 3;
    add_payload(&b, p, 14 + 8, true);
    /* claims 1 channel, carries 2 */
    p[1] = 1;
    add_payload(&b, p, 14 + 8, true);
    /* lengths no channel count can have are malformed whatever the CRC:
     * 18 (no samples), 150 (33 samples), 23 */
    p[1] = 1;
    add_payload(&b, p, 18, false);
    add_payload(&b, p, 150, false);
    add_payload(&b, p, 23, false);
    /* a well-sized frame with a bad CRC is a checksum error */
    add_payload(&b, p, 22, false);
    /* a correct one-channel frame with the same bytes */
    add_payload(&b, p, 18, true);
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 1);
    assert_frame_item(&r, 0, 0x11111111u, (double)0x1111111111111111ull, 1,
                      (const double[]){0x11111111});
    assert_stats(d, .bytes = b.n, .frames = 1, .malformed = 8, .checksum_errors = 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

/* How the decoder must classify one delimited unit that is not a frame:
 * 0 = malformed (COBS or length), 1 = checksum error. */
static int unit_class(const uint8_t *unit, size_t len)
{
    uint8_t p[1024];
    long n = cl_wire_cobs_decode(unit, len, p, sizeof p);
    if (n < 22 || n > 146 || (n - 18) % 4 != 0)
        return 0;
    assert_int_not_equal(crc32(0, p, (uInt)(n - 4)),
                         (uint32_t)p[n - 4] | (uint32_t)p[n - 3] << 8 |
                             (uint32_t)p[n - 2] << 16 | (uint32_t)p[n - 1] << 24);
    return 1;
}

static void test_binary_truncated(void **state)
{
    uint8_t f1[CL_WIRE_BINARY_MAX], f3[CL_WIRE_BINARY_MAX], merged[2 * CL_WIRE_BINARY_MAX];
    cl_wire_frame f = make_frame(1, 1000, 4, 1);
    size_t n1, n3;
    int seen[2] = {0, 0};
    (void)state;

    /* a zero low byte in sample 2 ends a COBS block where 22 payload bytes
     * have been decoded: cut there, the stump looks like a one-channel frame */
    f.v[2] = 256;
    n1 = cl_wire_encode_binary(&f, f1, sizeof f1);

    f = make_frame(3, 3000, 2, 3);
    n3 = cl_wire_encode_binary(&f, f3, sizeof f3);
    for (size_t cut = 1; cut < n1 - 1; cut++) {
        size_t keep = n1 - 1 - cut; /* encoded bytes kept, delimiter dropped */
        int c1 = unit_class(f1, keep), c2;
        buf b = {0};
        rec r = {0};
        cl_wire_decoder *d;

        memcpy(merged, f1, keep);
        memcpy(merged + keep, f3, n3 - 1);
        c2 = unit_class(merged, keep + n3 - 1);
        seen[c1]++;
        /* truncated frame, then its delimiter: dropped, next frame fine */
        buf_byte(&b, 0);
        add_seq_frame(&b, 0);
        buf_add(&b, f1, keep);
        buf_byte(&b, 0);
        add_seq_frame(&b, 2);
        /* truncated without delimiter: it swallows the following frame */
        buf_add(&b, f1, keep);
        buf_add(&b, f3, n3);
        add_seq_frame(&b, 4);
        d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
        assert_int_equal(r.n, 5);
        assert_frame_item(&r, 0, 0, 0, 2, (const double[]){0, 1});
        assert_gap_item(&r, 1, 0, 1);
        assert_frame_item(&r, 2, 2, 2000, 2, (const double[]){2, 3});
        assert_gap_item(&r, 3, 2, 1);
        assert_frame_item(&r, 4, 4, 4000, 2, (const double[]){4, 5});
        assert_stats(d, .bytes = b.n, .frames = 3, .malformed = (c1 == 0) + (c2 == 0),
                     .checksum_errors = (c1 == 1) + (c2 == 1), .seq_gaps = 2, .lost_frames = 2);
        cl_wire_decoder_free(d);
        rec_free(&r);
        buf_free(&b);
    }
    /* both kinds occur: cuts inside a COBS block, and cuts at a block end
     * that leave a well-sized payload */
    assert_int_equal(seen[0] + seen[1], n1 - 2);
    assert_true(seen[0] > 0);
    assert_true(seen[1] > 0);
}

static void test_binary_seq_gap(void **state)
{
    const uint32_t seqs[] = {0, 1, 2, 5, 6, 6, 3};
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    (void)state;

    buf_byte(&b, 0);
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
        add_seq_frame(&b, seqs[i]);
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 10);
    assert_frame_item(&r, 0, 0, 0, 2, (const double[]){0, 1});
    assert_frame_item(&r, 1, 1, 1000, 2, (const double[]){1, 2});
    assert_frame_item(&r, 2, 2, 2000, 2, (const double[]){2, 3});
    assert_gap_item(&r, 3, 2, 2);
    assert_frame_item(&r, 4, 5, 5000, 2, (const double[]){5, 6});
    assert_frame_item(&r, 5, 6, 6000, 2, (const double[]){6, 7});
    assert_gap_item(&r, 6, 6, 0); /* repeated: a discontinuity, nothing lost */
    assert_frame_item(&r, 7, 6, 6000, 2, (const double[]){6, 7});
    assert_gap_item(&r, 8, 6, 0); /* backwards (device restart) */
    assert_frame_item(&r, 9, 3, 3000, 2, (const double[]){3, 4});
    assert_stats(d, .bytes = b.n, .frames = 7, .seq_gaps = 3, .lost_frames = 2);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

static void test_binary_seq_wrap(void **state)
{
    const uint32_t seqs[] = {0xFFFFFFFEu, 0xFFFFFFFFu, 0, 1, 0xFFFFFFFDu, 1};
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    (void)state;

    buf_byte(&b, 0);
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        cl_wire_frame f = make_frame(seqs[i], (double)i, 1, (double)i);
        add_binary(&b, &f);
    }
    d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 8);
    assert_frame_item(&r, 0, 0xFFFFFFFEu, 0, 1, (const double[]){0});
    assert_frame_item(&r, 1, 0xFFFFFFFFu, 1, 1, (const double[]){1});
    assert_frame_item(&r, 2, 0, 2, 1, (const double[]){2}); /* wrap: no gap */
    assert_frame_item(&r, 3, 1, 3, 1, (const double[]){3});
    assert_gap_item(&r, 4, 1, 0); /* 1 -> 0xFFFFFFFD is backwards */
    assert_frame_item(&r, 5, 0xFFFFFFFDu, 4, 1, (const double[]){4});
    assert_gap_item(&r, 6, 0xFFFFFFFDu, 3); /* FE, FF and 0 lost across the wrap */
    assert_frame_item(&r, 7, 1, 5, 1, (const double[]){5});
    assert_stats(d, .bytes = b.n, .frames = 6, .seq_gaps = 2, .lost_frames = 3);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

static void test_binary_resync(void **state)
{
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d = cl_wire_decoder_new(CL_WIRE_BINARY);
    uint8_t f2[CL_WIRE_BINARY_MAX];
    cl_wire_frame f = make_frame(2, 2000, 2, 2);
    size_t n2 = cl_wire_encode_binary(&f, f2, sizeof f2), fed;
    (void)state;

    assert_non_null(d);
    buf_byte(&b, 0);
    add_seq_frame(&b, 1);
    cl_wire_decode(d, b.p, b.n, rec_sink, &r);
    fed = b.n;
    cl_wire_decode(d, f2, 10, rec_sink, &r);
    cl_wire_decoder_resync(d);
    cl_wire_decode(d, f2 + 5, n2 - 5, rec_sink, &r);
    fed += 10 + n2 - 5;
    buf_free(&b);
    add_seq_frame(&b, 3);
    add_seq_frame(&b, 4);
    cl_wire_decode(d, b.p, b.n, rec_sink, &r);
    fed += b.n;
    assert_int_equal(r.n, 4);
    assert_frame_item(&r, 0, 1, 1000, 2, (const double[]){1, 2});
    assert_gap_item(&r, 1, 1, 1); /* sequence tracking survives the resync */
    assert_frame_item(&r, 2, 3, 3000, 2, (const double[]){3, 4});
    assert_frame_item(&r, 3, 4, 4000, 2, (const double[]){4, 5});
    /* the partial 10 bytes are dropped silently; after the resync the
     * bytes up to the delimiter are skipped */
    assert_stats(d, .bytes = fed, .frames = 3, .seq_gaps = 1, .lost_frames = 1,
                 .skipped_bytes = n2 - 5 - 1);
    rec_free(&r);
    buf_free(&b);
    cl_wire_decoder_free(d);
}

static void test_binary_null_sink(void **state)
{
    buf b = {0};
    cl_wire_decoder *d = cl_wire_decoder_new(CL_WIRE_BINARY);
    (void)state;

    assert_non_null(d);
    buf_byte(&b, 0);
    add_seq_frame(&b, 0);
    add_seq_frame(&b, 2);
    cl_wire_decode(d, b.p, b.n, NULL, NULL);
    assert_stats(d, .bytes = b.n, .frames = 2, .seq_gaps = 1, .lost_frames = 1);
    /* setting the text timestamp mode on a binary decoder changes nothing */
    cl_wire_decoder_set_text_timestamp(d, true);
    cl_wire_decode(d, b.p + 1, b.n - 1, NULL, NULL);
    /* 2 -> 0 is a jump backwards (nothing lost), 0 -> 2 loses one */
    assert_stats(d, .bytes = 2 * b.n - 1, .frames = 4, .seq_gaps = 3, .lost_frames = 2);
    buf_free(&b);
    cl_wire_decoder_free(d);
}

/* ---- text -------------------------------------------------------------------------- */

/* The metadata frame of docs/wire-protocols.md, byte for byte. */
static void test_meta_known_bytes(void **state)
{
    static const uint8_t want[19] = {0x12, 0x02, 0x06, 0x64, 0x65, 0x76, 0x69, 0x63, 0x65, 0x75,
                                     0x6E, 0x6F, 0x2D, 0x37, 0x8B, 0x29, 0x7B, 0xC8, 0x00};
    uint8_t out[CL_WIRE_BINARY_MAX], payload[64];
    rec r = {0};
    (void)state;

    size_t n = cl_wire_encode_meta("device", "uno-7", out, sizeof out);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(cl_wire_cobs_decode(out, n - 1, payload, sizeof payload), 17);
    assert_int_equal(crc32(0, payload, 13), 0xC87B298Bu);
    /* a sample frame's sequence is not disturbed by metadata between frames */
    buf b = {0};
    buf_byte(&b, 0);
    cl_wire_frame f = make_frame(7, 100, 1, 0);
    n = cl_wire_encode_binary(&f, out, sizeof out);
    buf_add(&b, out, n);
    buf_add(&b, want, sizeof want);
    f.seq = 8;
    n = cl_wire_encode_binary(&f, out, sizeof out);
    buf_add(&b, out, n);
    cl_wire_decoder *d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 3);
    assert_meta_item(&r, 1, "device", "uno-7");
    assert_int_equal(r.items[2].f.seq, 8);
    assert_stats(d, .bytes = b.n, .frames = 2, .meta = 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

/* What the encoder accepts the decoder returns unchanged; what it refuses
 * the decoder counts as malformed. */
static void test_meta_rules(void **state)
{
    char key[CL_WIRE_META_KEY_MAX + 2], value[CL_WIRE_META_MAX + 2];
    uint8_t out[CL_WIRE_BINARY_MAX];
    static const struct {
        const char *key, *value;
        bool ok;
    } cases[] = {
        {"firmware", "cuplab-uno 0.1.0", true},
        {"sensor serial", "\xc3\xa9t\xc3\xa9: x=y", true}, /* UTF-8, ':' and '=' in the value */
        {"empty", "", true},
        {"", "x", false},
        {"a:b", "x", false},
        {"a=b", "x", false},
        {" a", "x", false},
        {"a ", "x", false},
        {"a\tb", "x", false},
        {"k", "line\nbreak", false},
        {"k", "cr\r", false},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cl_wire_encode_meta(cases[i].key, cases[i].value, out, sizeof out);
        assert_int_equal(n > 0, cases[i].ok);
        if (!n)
            continue;
        rec r = {0};
        cl_wire_decoder *d = decode_all(CL_WIRE_BINARY, false, "\0", 1, &r);
        cl_wire_decode(d, out, n, rec_sink, &r);
        assert_int_equal(r.n, 1);
        assert_meta_item(&r, 0, cases[i].key, cases[i].value);
        cl_wire_decoder_free(d);
        rec_free(&r);
    }
    /* the longest key, the longest pair, and one byte more of each */
    memset(key, 'k', sizeof key);
    memset(value, 'v', sizeof value);
    key[CL_WIRE_META_KEY_MAX] = '\0';
    value[CL_WIRE_META_MAX - CL_WIRE_META_KEY_MAX] = '\0';
    /* 146 payload bytes, as the longest sample frame: 148 on the wire */
    assert_int_equal(cl_wire_encode_meta(key, value, out, sizeof out), 148);
    assert_int_equal(cl_wire_encode_meta(key, value, out, 147), 0);
    value[CL_WIRE_META_MAX - CL_WIRE_META_KEY_MAX] = 'v';
    value[CL_WIRE_META_MAX - CL_WIRE_META_KEY_MAX + 1] = '\0';
    assert_int_equal(cl_wire_encode_meta(key, value, out, sizeof out), 0);
    key[CL_WIRE_META_KEY_MAX] = 'k';
    key[CL_WIRE_META_KEY_MAX + 1] = '\0';
    assert_int_equal(cl_wire_encode_meta(key, "", out, sizeof out), 0);
}

/* Broken metadata frames: each lands in exactly one counter. */
static void test_meta_bad(void **state)
{
    uint8_t p[200];
    buf b = {0};
    rec r = {0};
    (void)state;

    buf_byte(&b, 0);
    memcpy(p, "\x02\x03keyvalue", 10);
    add_payload(&b, p, 10, false); /* no CRC at all: checksum error */
    p[1] = 9;
    add_payload(&b, p, 10, true); /* key longer than the frame */
    p[1] = 0;
    add_payload(&b, p, 10, true); /* empty key */
    add_payload(&b, p, 2, true);  /* no key and no value */
    p[1] = 3;
    memset(p + 10, 'v', sizeof p - 10);
    add_payload(&b, p, 143, true); /* 147 bytes with its CRC, one too many */
    p[3] = ':';
    add_payload(&b, p, 10, true); /* ':' in the key */
    p[3] = 'e';
    add_payload(&b, p, 10, true); /* valid */
    cl_wire_decoder *d = decode_all(CL_WIRE_BINARY, false, b.p, b.n, &r);
    assert_int_equal(r.n, 1);
    assert_meta_item(&r, 0, "key", "value");
    assert_stats(d, .bytes = b.n, .meta = 1, .malformed = 5, .checksum_errors = 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

static void test_text_lf_crlf(void **state)
{
    const char *in = "partial 1,2,3\n1,2,3\n4,5,6\r\n7,8,9\r\r\n10,11,12";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 3);
    assert_frame_item(&r, 0, 0, NAN, 3, (const double[]){1, 2, 3});
    assert_frame_item(&r, 1, 1, NAN, 3, (const double[]){4, 5, 6});
    assert_frame_item(&r, 2, 2, NAN, 3, (const double[]){7, 8, 9});
    assert_false(r.items[0].f.has_seq);
    assert_true(isnan(r.items[0].f.device_time));
    /* the last line waits for its line end */
    assert_stats(d, .bytes = strlen(in), .frames = 3, .skipped_bytes = 13);
    feed_str(d, "\n", &r);
    assert_int_equal(r.n, 4);
    assert_frame_item(&r, 3, 3, NAN, 3, (const double[]){10, 11, 12});
    assert_int_equal(cl_wire_decoder_protocol(d), CL_WIRE_TEXT);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_separators(void **state)
{
    const char *in = "\n1 2 3\n1\t2\t3\n1, 2,\t3\n  1,2,3  \n1,,2 ,\t, 3,\n,1\t \t2 3\r\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_frame_item(&r, i, (uint32_t)i, NAN, 3, (const double[]){1, 2, 3});
    assert_stats(d, .bytes = strlen(in), .frames = 6);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_numbers(void **state)
{
    const char *in = "\n+1 -2.5 1e3 1E-3 .5 5. -0 0.1 -1.25e+2 007\n"
                     "nan NaN -nan inf -inf Infinity +INF 1e999 -1e999 1e-999\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, NAN, 10,
                      (const double[]){1, -2.5, 1000, 0.001, 0.5, 5, -0.0, 0.1, -125, 7});
    assert_frame_item(&r, 1, 1, NAN, 10,
                      (const double[]){NAN, NAN, NAN, INFINITY, -INFINITY, INFINITY, INFINITY,
                                       INFINITY, -INFINITY, 0});
    assert_true(isnan(r.items[1].f.v[2]));
    assert_stats(d, .bytes = strlen(in), .frames = 2);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_bad_numbers(void **state)
{
    static const char *const bad[] = {
        "0x1p3", "0x10", "1e",  "e5",  "1.2.3",   "--1", "+",     "-",     ".",    "1a",
        "ovf",   "nanx", "in",  "1e+", "+-1",     "a:",  ":5",    "1:2:3", "inf5", "1,2x",
        "∞",     "0b1",  "1_0", "1'0", "infinit", "(1)", "1e5.5", "--",    "+.e1", "nan(1)",
    };
    size_t nbad = sizeof bad / sizeof bad[0];
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    (void)state;

    buf_str(&b, "\n1\n");
    for (size_t i = 0; i < nbad; i++) {
        buf_str(&b, bad[i]);
        buf_str(&b, "\n");
    }
    buf_str(&b, "2\n");
    d = decode_all(CL_WIRE_TEXT, false, b.p, b.n, &r);
    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, NAN, 1, (const double[]){1});
    assert_frame_item(&r, 1, 1, NAN, 1, (const double[]){2});
    assert_stats(d, .bytes = b.n, .frames = 2, .malformed = nbad);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);
}

static void test_text_labels(void **state)
{
    const char *in = "\n"
                     "a:1,b:2\n"
                     "a:3,b:4\n" /* same labels: no new item */
                     "a:5 c:6\n" /* changed */
                     "7,8\n"     /* unlabelled: labels stand */
                     "a:9\t10\n" /* partly labelled */
                     "Pressure_1:11,Pressure_2:12\r\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 10);
    assert_meta_item(&r, 0, "labels", "a,b");
    assert_frame_item(&r, 1, 0, NAN, 2, (const double[]){1, 2});
    assert_frame_item(&r, 2, 1, NAN, 2, (const double[]){3, 4});
    assert_meta_item(&r, 3, "labels", "a,c");
    assert_frame_item(&r, 4, 2, NAN, 2, (const double[]){5, 6});
    assert_frame_item(&r, 5, 3, NAN, 2, (const double[]){7, 8});
    assert_meta_item(&r, 6, "labels", "a,");
    assert_frame_item(&r, 7, 4, NAN, 2, (const double[]){9, 10});
    assert_meta_item(&r, 8, "labels", "Pressure_1,Pressure_2");
    assert_frame_item(&r, 9, 5, NAN, 2, (const double[]){11, 12});
    /* label items are not metadata lines */
    assert_stats(d, .bytes = strlen(in), .frames = 6);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_time_labels(void **state)
{
    const char *in = "\n"
                     "t:100,a:1,b:2\n"
                     "time:101 3 4\n"
                     "ms:102 5 6\n"
                     "us:103 7 8\n"
                     "millis:104 9 10\n"
                     "micros:105 11 12\n"
                     "timestamp:106 13 14\n"
                     "a:15,T:107,b:16\n" /* anywhere, any case */
                     "t:108,t:17,18\n"   /* the first time label wins */
                     "19 20\n";          /* no time column */
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 12);
    assert_meta_item(&r, 0, "labels", "a,b");
    assert_frame_item(&r, 1, 0, 100, 2, (const double[]){1, 2});
    assert_frame_item(&r, 2, 1, 101, 2, (const double[]){3, 4});
    assert_frame_item(&r, 3, 2, 102, 2, (const double[]){5, 6});
    assert_frame_item(&r, 4, 3, 103, 2, (const double[]){7, 8});
    assert_frame_item(&r, 5, 4, 104, 2, (const double[]){9, 10});
    assert_frame_item(&r, 6, 5, 105, 2, (const double[]){11, 12});
    assert_frame_item(&r, 7, 6, 106, 2, (const double[]){13, 14});
    assert_frame_item(&r, 8, 7, 107, 2, (const double[]){15, 16});
    assert_meta_item(&r, 9, "labels", "t,");
    assert_frame_item(&r, 10, 8, 108, 2, (const double[]){17, 18});
    assert_frame_item(&r, 11, 9, NAN, 2, (const double[]){19, 20});
    assert_true(isnan(r.items[11].f.device_time));
    assert_stats(d, .bytes = strlen(in), .frames = 10);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_time_only(void **state)
{
    const char *in = "\nt:5\n1\n# timestamp: first\n5\nt:6\n6,7\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    /* "t:5" has no value: malformed; "1" establishes one channel */
    assert_int_equal(r.n, 3);
    assert_frame_item(&r, 0, 0, NAN, 1, (const double[]){1});
    assert_meta_item(&r, 1, "timestamp", "first");
    assert_frame_item(&r, 2, 1, 6, 1, (const double[]){7});
    assert_stats(d, .bytes = strlen(in), .frames = 2, .meta = 1, .malformed = 3);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_timestamp_first(void **state)
{
    const char *in = "\n"
                     "# timestamp: first\n"
                     "1000 1 2\n"
                     "a:3 1001 b:4\n" /* first unlabelled column, wherever it is */
                     "ms:1002 5 6\n"  /* a time label takes precedence */
                     "# timestamp=none\n"
                     "7 8\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 7);
    assert_meta_item(&r, 0, "timestamp", "first");
    assert_frame_item(&r, 1, 0, 1000, 2, (const double[]){1, 2});
    assert_meta_item(&r, 2, "labels", "a,b");
    assert_frame_item(&r, 3, 1, 1001, 2, (const double[]){3, 4});
    assert_frame_item(&r, 4, 2, 1002, 2, (const double[]){5, 6});
    assert_meta_item(&r, 5, "timestamp", "none");
    assert_frame_item(&r, 6, 3, NAN, 2, (const double[]){7, 8});
    assert_stats(d, .bytes = strlen(in), .frames = 4, .meta = 2);
    cl_wire_decoder_free(d);
    rec_free(&r);

    /* the same through the API */
    in = "\n1000 1 2\n1001,3,4\n";
    d = decode_all(CL_WIRE_TEXT, true, in, strlen(in), &r);
    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, 1000, 2, (const double[]){1, 2});
    assert_frame_item(&r, 1, 1, 1001, 2, (const double[]){3, 4});
    cl_wire_decoder_set_text_timestamp(d, false);
    feed_str(d, "5,6\n", &r);
    assert_int_equal(r.n, 3);
    assert_frame_item(&r, 2, 2, NAN, 2, (const double[]){5, 6});
    assert_stats(d, .bytes = strlen(in) + 4, .frames = 3);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_meta(void **state)
{
    const char *in = "\n"
                     "# id: cup-7\n"
                     "#fw=1.2.3\r\n"
                     "  #  sensor serial :  AB 12  \n"
                     "# url: http://x=y\n" /* the first ':' or '=' separates */
                     "# rate_hz = 100\n"
                     "# empty:\n"
                     "# noseparator\n"
                     "# : x\n"
                     "#\n"
                     "# id: z *4E\n" /* blanks before a checksum go */
                     "# id: a\0b\n"  /* a NUL byte spoils the line */
                     "1,2\n";
    size_t len = strlen(in) + 1 + strlen(in + strlen(in) + 1);
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, len, &r);
    (void)state;

    assert_int_equal('#' ^ ' ' ^ 'i' ^ 'd' ^ ':' ^ ' ' ^ 'z' ^ ' ', 0x4E);
    assert_int_equal(len, 145);
    assert_int_equal(r.n, 8);
    assert_meta_item(&r, 0, "id", "cup-7");
    assert_meta_item(&r, 1, "fw", "1.2.3");
    assert_meta_item(&r, 2, "sensor serial", "AB 12");
    assert_meta_item(&r, 3, "url", "http://x=y");
    assert_meta_item(&r, 4, "rate_hz", "100");
    assert_meta_item(&r, 5, "empty", "");
    assert_meta_item(&r, 6, "id", "z");
    assert_frame_item(&r, 7, 0, NAN, 2, (const double[]){1, 2});
    assert_stats(d, .bytes = len, .frames = 1, .meta = 7, .malformed = 4);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_checksum(void **state)
{
    const char *in = "\n"
                     "1,2,3*30\r\n" /* XOR of "1,2,3" */
                     "4,5,6*00\n"   /* wrong: 0x37 */
                     "4,5,6 *37\n"  /* wrong: the space counts, 0x17 */
                     "7,8,10*0e\n"  /* lower-case hex */
                     "# id: x*6C\n" /* metadata may carry one too */
                     "# id: y*00\n"
                     "1,2,3*3\n" /* not a checksum: malformed */
                     "1,2,3*zz\n"
                     "1,2,3*300\n"
                     "4,5,6 *17 \r\n"; /* trailing blanks after it are fine */
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(0x31 ^ 0x2C ^ 0x32 ^ 0x2C ^ 0x33, 0x30);
    assert_int_equal(0x34 ^ 0x2C ^ 0x35 ^ 0x2C ^ 0x36, 0x37);
    assert_int_equal(0x34 ^ 0x2C ^ 0x35 ^ 0x2C ^ 0x36 ^ 0x20, 0x17);
    assert_int_equal(0x37 ^ 0x2C ^ 0x38 ^ 0x2C ^ 0x31 ^ 0x30, 0x0E);
    assert_int_equal('#' ^ ' ' ^ 'i' ^ 'd' ^ ':' ^ ' ' ^ 'x', 0x6C);
    assert_int_equal(r.n, 4);
    assert_frame_item(&r, 0, 0, NAN, 3, (const double[]){1, 2, 3});
    assert_frame_item(&r, 1, 1, NAN, 3, (const double[]){7, 8, 10});
    assert_meta_item(&r, 2, "id", "x");
    assert_frame_item(&r, 3, 2, NAN, 3, (const double[]){4, 5, 6});
    assert_stats(d, .bytes = strlen(in), .frames = 3, .meta = 1, .malformed = 3,
                 .checksum_errors = 3);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_boot_banner(void **state)
{
    const char *in = "\x80\xff garbage \x01"
                     "ets Jun  8 2016 00:22:57\r\n"
                     "\r\n"
                     "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
                     "configsip: 0, SPIWP:0xee\r\n"
                     "mode:DIO, clock div:2\r\n"
                     "load:0x3fff0030,len:1184\r\n"
                     "entry 0x400805f0\r\n"
                     "Pressure sensor ready\r\n"
                     "ESP-ROM:esp32s3-20210327\r\n"
                     "-12.5,-30.25\r\n"
                     "-12.75,-30.5\r\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, strlen(in), &r);
    (void)state;

    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, NAN, 2, (const double[]){-12.5, -30.25});
    assert_frame_item(&r, 1, 1, NAN, 2, (const double[]){-12.75, -30.5});
    /* 12 bytes of noise plus "ets Jun  8 2016 00:22:57\r" before the first LF */
    assert_stats(d, .bytes = strlen(in), .frames = 2, .malformed = 7, .skipped_bytes = 37);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_overlong(void **state)
{
    char line[CL_WIRE_MAX_LINE + 8];
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    cl_wire_stats st;
    (void)state;

    /* "000...01" of exactly CL_WIRE_MAX_LINE bytes is fine, with LF or CRLF */
    memset(line, '0', sizeof line);
    line[CL_WIRE_MAX_LINE - 1] = '1';
    line[CL_WIRE_MAX_LINE] = '\0';
    buf_str(&b, "\n");
    buf_str(&b, line);
    buf_str(&b, "\n");
    buf_str(&b, line);
    buf_str(&b, "\r\n");
    /* one byte longer: malformed, with or without CR */
    line[CL_WIRE_MAX_LINE - 1] = '0';
    line[CL_WIRE_MAX_LINE] = '2';
    line[CL_WIRE_MAX_LINE + 1] = '\0';
    buf_str(&b, line);
    buf_str(&b, "\n");
    buf_str(&b, line);
    buf_str(&b, "\r\n");
    /* far too long (noise without line ends) */
    for (int i = 0; i < 5000; i++)
        buf_byte(&b, (uint8_t)('A' + i % 26));
    buf_str(&b, "\n3\n");
    d = decode_all(CL_WIRE_TEXT, false, b.p, b.n, &r);
    assert_int_equal(r.n, 3);
    assert_frame_item(&r, 0, 0, NAN, 1, (const double[]){1});
    assert_frame_item(&r, 1, 1, NAN, 1, (const double[]){1});
    assert_frame_item(&r, 2, 2, NAN, 1, (const double[]){3});
    assert_stats(d, .bytes = b.n, .frames = 3, .malformed = 3);
    cl_wire_decoder_free(d);
    rec_free(&r);
    check_split_invariance(CL_WIRE_TEXT, false, &b, &r, &st);
    assert_int_equal(r.n, 3);
    assert_int_equal(st.malformed, 3);
    rec_free(&r);
    buf_free(&b);
}

static void test_text_channel_count(void **state)
{
    buf b = {0};
    rec r = {0};
    cl_wire_decoder *d;
    char line[512];
    int o;
    (void)state;

    buf_str(&b, "\n1,2,3\n1,2\n1,2,3,4\n4,5,6\n");
    d = decode_all(CL_WIRE_TEXT, false, b.p, b.n, &r);
    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, NAN, 3, (const double[]){1, 2, 3});
    assert_frame_item(&r, 1, 1, NAN, 3, (const double[]){4, 5, 6});
    assert_stats(d, .bytes = b.n, .frames = 2, .malformed = 2);
    /* the established count survives a resync */
    cl_wire_decoder_resync(d);
    feed_str(d, "x\n9,9\n7,8,9\n", &r);
    assert_int_equal(r.n, 3);
    assert_frame_item(&r, 2, 2, NAN, 3, (const double[]){7, 8, 9});
    assert_stats(d, .bytes = b.n + 12, .frames = 3, .malformed = 3, .skipped_bytes = 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
    buf_free(&b);

    /* 33 values are too many; 32 (plus a time column) are fine */
    o = snprintf(line, sizeof line, "\n");
    for (int i = 0; i < 33; i++)
        o += snprintf(line + o, sizeof line - (size_t)o, "%d ", i);
    o += snprintf(line + o, sizeof line - (size_t)o, "\nt:5");
    for (int i = 0; i < 32; i++)
        o += snprintf(line + o, sizeof line - (size_t)o, ",%d", i);
    o += snprintf(line + o, sizeof line - (size_t)o, "\nt:5,t:6");
    for (int i = 0; i < 32; i++)
        o += snprintf(line + o, sizeof line - (size_t)o, ",%d", i);
    snprintf(line + o, sizeof line - (size_t)o, "\n");
    d = decode_all(CL_WIRE_TEXT, false, line, strlen(line), &r);
    assert_int_equal(r.n, 1);
    {
        double want[32];
        for (int i = 0; i < 32; i++)
            want[i] = i;
        assert_frame_item(&r, 0, 0, 5, 32, want);
    }
    assert_stats(d, .bytes = strlen(line), .frames = 1, .malformed = 2);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_blank_and_nul(void **state)
{
    static const char in[] = "\n\n\r\n   \n\t,\t\n1,2\n3\0,4\n*00\n5,6\n";
    rec r = {0};
    cl_wire_decoder *d = decode_all(CL_WIRE_TEXT, false, in, sizeof in - 1, &r);
    (void)state;

    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, NAN, 2, (const double[]){1, 2});
    assert_frame_item(&r, 1, 1, NAN, 2, (const double[]){5, 6});
    assert_stats(d, .bytes = sizeof in - 1, .frames = 2, .malformed = 1);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static void test_text_resync(void **state)
{
    rec r = {0};
    cl_wire_decoder *d = cl_wire_decoder_new(CL_WIRE_TEXT);
    (void)state;

    assert_non_null(d);
    feed_str(d, "\n1,2\n3,", &r);
    cl_wire_decoder_resync(d);
    feed_str(d, "99\n4,5\n", &r);
    assert_int_equal(r.n, 2);
    assert_frame_item(&r, 0, 0, NAN, 2, (const double[]){1, 2});
    assert_frame_item(&r, 1, 1, NAN, 2, (const double[]){4, 5});
    assert_stats(d, .bytes = 14, .frames = 2, .skipped_bytes = 2);
    cl_wire_decoder_free(d);
    rec_free(&r);
}

static double random_value(rng *g)
{
    switch (rng_below(g, 8)) {
    case 0:
        return (double)rng_below(g, 4096);
    case 1:
        return -(double)rng_below(g, 1000000);
    case 2:
        return NAN;
    case 3:
        return rng_below(g, 2) ? INFINITY : -INFINITY;
    case 4:
        return -0.0;
    case 5:
        return (double)(int64_t)rng_next(g);
    default: {
        /* any finite double */
        uint64_t u;
        double v;
        do {
            u = rng_next(g);
            memcpy(&v, &u, sizeof v);
        } while (!isfinite(v));
        return v;
    }
    }
}

static void test_text_round_trip(void **state)
{
    enum { N = 3000 };
    rng g = {777};
    (void)state;

    for (int mode = 0; mode < 4; mode++) {
        bool with_time = mode & 1, with_sum = mode & 2;
        cl_wire_frame *sent = calloc(N, sizeof *sent);
        uint16_t n = (uint16_t)(1 + rng_below(&g, CL_WIRE_MAX_CHANNELS));
        buf b = {0};
        rec r = {0};
        cl_wire_decoder *d;
        cl_wire_stats st;

        assert_non_null(sent);
        buf_str(&b, "\n");
        for (int i = 0; i < N; i++) {
            char line[CL_WIRE_MAX_LINE + 1];
            size_t len;
            sent[i].seq = (uint32_t)i;
            sent[i].device_time = with_time ? random_value(&g) : NAN;
            sent[i].n = n;
            for (uint16_t k = 0; k < n; k++)
                sent[i].v[k] = random_value(&g);
            len = cl_wire_encode_text(&sent[i], with_time, with_sum, line, sizeof line);
            assert_true(len > 0);
            assert_int_equal(len, strlen(line));
            buf_add(&b, line, len);
        }
        d = decode_all(CL_WIRE_TEXT, with_time, b.p, b.n, &r);
        assert_int_equal(r.n, N);
        for (int i = 0; i < N; i++) {
            assert_int_equal(r.items[i].kind, CL_WIRE_ITEM_FRAME);
            assert_frame_equal(&r.items[i].f, &sent[i]);
        }
        assert_stats(d, .bytes = b.n, .frames = N);
        cl_wire_decoder_free(d);
        rec_free(&r);
        check_split_invariance(CL_WIRE_TEXT, with_time, &b, &r, &st);
        assert_int_equal(r.n, N);
        assert_int_equal(st.frames, N);
        rec_free(&r);
        buf_free(&b);
        free(sent);
    }
}

static void test_text_encode_format(void **state)
{
    cl_wire_frame f = make_frame(0, 1000, 3, 0);
    char out[256];
    size_t n;
    (void)state;

    f.v[0] = 1;
    f.v[1] = -2;
    f.v[2] = 3.5;
    n = cl_wire_encode_text(&f, false, false, out, sizeof out);
    assert_int_equal(n, 10);
    assert_string_equal(out, "1,-2,3.5\r\n");
    n = cl_wire_encode_text(&f, true, false, out, sizeof out);
    assert_string_equal(out, "1000,1,-2,3.5\r\n");
    assert_int_equal(n, 15);
    /* XOR of "1,-2,3.5" */
    n = cl_wire_encode_text(&f, false, true, out, sizeof out);
    assert_string_equal(out, "1,-2,3.5*06\r\n");
    assert_int_equal('1' ^ ',' ^ '-' ^ '2' ^ ',' ^ '3' ^ '.' ^ '5', 0x06);
    assert_int_equal(n, 13);

    f.v[0] = 0.1;
    f.v[1] = 1e20;
    f.v[2] = -NAN;
    f.device_time = NAN;
    cl_wire_encode_text(&f, true, false, out, sizeof out);
    assert_string_equal(out, "nan,0.10000000000000001,1e+20,nan\r\n");
    f.v[0] = -0.0;
    f.v[1] = -INFINITY;
    f.v[2] = 999999999999999.0;
    f.device_time = 1e15;
    cl_wire_encode_text(&f, true, false, out, sizeof out);
    assert_string_equal(out, "1000000000000000,-0,-inf,999999999999999\r\n");
    f.v[0] = -2147483648.0;
    f.v[1] = 4294967295.0;
    f.v[2] = -1e-300;
    cl_wire_encode_text(&f, false, false, out, sizeof out);
    assert_string_equal(out, "-2147483648,4294967295,-1e-300\r\n");

    /* every capacity below the need fails (the NUL must fit too) and
     * nothing is written past the capacity */
    for (int sum = 0; sum < 2; sum++) {
        n = cl_wire_encode_text(&f, true, sum, out, sizeof out);
        assert_int_equal(n, strlen(out));
        assert_string_equal(out, sum ? "1000000000000000,-2147483648,4294967295,-1e-300*6F\r\n"
                                     : "1000000000000000,-2147483648,4294967295,-1e-300\r\n");
        assert_int_equal(n, sum ? 52 : 49);
        for (size_t cap = 0; cap <= n; cap++) {
            memset(out, 0x55, sizeof out);
            assert_int_equal(cl_wire_encode_text(&f, true, sum, out, cap), 0);
            for (size_t k = cap; k < sizeof out; k++)
                assert_int_equal(out[k], 0x55);
        }
    }
    memset(out, 0x55, sizeof out);
    assert_int_equal(cl_wire_encode_text(&f, true, true, out, n + 1), n);
    assert_int_equal(out[n], '\0');
    assert_int_equal(out[n + 1], 0x55);

    f.n = 0;
    assert_int_equal(cl_wire_encode_text(&f, false, false, out, sizeof out), 0);
    f.n = CL_WIRE_MAX_CHANNELS + 1;
    assert_int_equal(cl_wire_encode_text(&f, false, false, out, sizeof out), 0);
}

/* A mixed text stream survives any splitting. */
static void test_text_split_invariance(void **state)
{
    const char *in = "garbage\r\n"
                     "# id: dev1\r\n"
                     "# timestamp: first\n"
                     "ets Jun  8 2016\r\n" /* malformed */
                     "100,a:1,b:2*00\r\n"  /* checksum error (0x31) */
                     "101 a:3 b:4\n"
                     "102\tc:5\td:6\r\n"
                     "103,7\n"     /* channel count: malformed */
                     "104,1,2,3\n" /* malformed */
                     "105,nan,-inf\r\n"
                     "106,8,9*36\r\n"
                     "0x1p3,1\n" /* malformed */
                     "partial line without end";
    buf b = {0};
    rec r = {0};
    cl_wire_stats st;
    (void)state;

    buf_str(&b, in);
    check_split_invariance(CL_WIRE_TEXT, false, &b, &r, &st);
    assert_int_equal(r.n, 8);
    assert_meta_item(&r, 0, "id", "dev1");
    assert_meta_item(&r, 1, "timestamp", "first");
    assert_meta_item(&r, 2, "labels", "a,b");
    assert_frame_item(&r, 3, 0, 101, 2, (const double[]){3, 4});
    assert_meta_item(&r, 4, "labels", "c,d");
    assert_frame_item(&r, 5, 1, 102, 2, (const double[]){5, 6});
    assert_frame_item(&r, 6, 2, 105, 2, (const double[]){NAN, -INFINITY});
    assert_frame_item(&r, 7, 3, 106, 2, (const double[]){8, 9});
    assert_stats_equal(&st, &(cl_wire_stats){.bytes = strlen(in),
                                             .frames = 4,
                                             .meta = 2,
                                             .malformed = 4,
                                             .checksum_errors = 1,
                                             .skipped_bytes = 8});
    rec_free(&r);
    buf_free(&b);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(cl_wire_protocol_from_name("text"), CL_WIRE_TEXT);
    assert_int_equal(cl_wire_protocol_from_name("binary"), CL_WIRE_BINARY);
    assert_int_equal(cl_wire_protocol_from_name("BINARY"), CL_WIRE_BINARY);
    assert_int_equal(cl_wire_protocol_from_name("bin"), 0);
    assert_int_equal(cl_wire_protocol_from_name("texts"), 0);
    assert_int_equal(cl_wire_protocol_from_name(""), 0);
    assert_int_equal(cl_wire_protocol_from_name(NULL), 0);
    assert_string_equal(cl_wire_protocol_name(CL_WIRE_TEXT), "text");
    assert_string_equal(cl_wire_protocol_name(CL_WIRE_BINARY), "binary");
    assert_string_equal(cl_wire_protocol_name((cl_wire_protocol)9), "unknown");
    assert_null(cl_wire_decoder_new((cl_wire_protocol)0));
    assert_null(cl_wire_decoder_new((cl_wire_protocol)3));
    cl_wire_decoder_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cobs_vectors),
        cmocka_unit_test(test_cobs_long_runs),
        cmocka_unit_test(test_cobs_errors),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_binary_known_bytes),
        cmocka_unit_test(test_binary_encode_limits),
        cmocka_unit_test(test_binary_unsynced_start),
        cmocka_unit_test(test_binary_garbage_prefix),
        cmocka_unit_test(test_binary_midstream_garbage),
        cmocka_unit_test(test_binary_overlong_split),
        cmocka_unit_test(test_binary_crc_bitflips),
        cmocka_unit_test(test_binary_bad_layout),
        cmocka_unit_test(test_binary_truncated),
        cmocka_unit_test(test_binary_seq_gap),
        cmocka_unit_test(test_binary_seq_wrap),
        cmocka_unit_test(test_binary_resync),
        cmocka_unit_test(test_binary_null_sink),
        cmocka_unit_test(test_meta_known_bytes),
        cmocka_unit_test(test_meta_rules),
        cmocka_unit_test(test_meta_bad),
        cmocka_unit_test(test_text_lf_crlf),
        cmocka_unit_test(test_text_separators),
        cmocka_unit_test(test_text_numbers),
        cmocka_unit_test(test_text_bad_numbers),
        cmocka_unit_test(test_text_labels),
        cmocka_unit_test(test_text_time_labels),
        cmocka_unit_test(test_text_time_only),
        cmocka_unit_test(test_text_timestamp_first),
        cmocka_unit_test(test_text_meta),
        cmocka_unit_test(test_text_checksum),
        cmocka_unit_test(test_text_boot_banner),
        cmocka_unit_test(test_text_overlong),
        cmocka_unit_test(test_text_channel_count),
        cmocka_unit_test(test_text_blank_and_nul),
        cmocka_unit_test(test_text_resync),
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_text_encode_format),
        cmocka_unit_test(test_text_split_invariance),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
