/*
 * libFuzzer target for the cl_wire decoders (built and run by fuzz/fuzz.mk).
 *
 * Input: byte 0 = flags (bit 0: text timestamp mode, bit 1: resync at the
 * split, bit 2: build binary frames from records, see build_frames),
 * bytes 1-2 = split position (little-endian, modulo the data length + 1),
 * then the stream.  The stream goes to a text and a binary
 * decoder twice: in one piece and in two pieces cut at the split.  Both
 * runs must give the same items and counters, and every item must satisfy
 * the protocol's invariants: frames have 1..32 channels, sequence and gap
 * items agree with each other and with the counters, and a decoded frame
 * re-encoded and decoded again is the same frame.  A third run resyncs at
 * the split and is checked for the same invariants.
 *
 * Built with -DCL_FUZZ_SEEDS instead, the file is a small program that
 * writes a seed corpus and a dictionary: `fuzz_seeds CORPUS_DIR DICT`.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cl_wire.h"

#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);          \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static bool same_frame(const cl_wire_frame *a, const cl_wire_frame *b)
{
    if (a->seq != b->seq || a->has_seq != b->has_seq || a->n != b->n ||
        !same_double(a->device_time, b->device_time))
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (!same_double(a->v[i], b->v[i]))
            return false;
    return true;
}

/* ---- re-decoding a single frame ----------------------------------------- */

typedef struct one {
    int frames, others;
    cl_wire_frame f;
} one;

static void one_sink(void *ctx, const cl_wire_item *it)
{
    one *o = ctx;
    if (it->kind == CL_WIRE_ITEM_FRAME) {
        o->frames++;
        o->f = *it->frame;
    } else {
        o->others++;
    }
}

/* Encode `f` in `proto` and decode it with a fresh decoder: same frame. */
static void check_reencode(cl_wire_protocol proto, const cl_wire_frame *f)
{
    uint8_t out[CL_WIRE_MAX_LINE + 8];
    cl_wire_decoder *d = cl_wire_decoder_new(proto);
    one o = {0};
    size_t n;

    CHECK(d);
    out[0] = proto == CL_WIRE_BINARY ? 0 : '\n'; /* get in sync first */
    if (proto == CL_WIRE_BINARY) {
        n = cl_wire_encode_binary(f, out + 1, sizeof out - 1);
    } else {
        cl_wire_decoder_set_text_timestamp(d, true);
        n = cl_wire_encode_text(f, true, f->seq & 1, (char *)out + 1, sizeof out - 1);
    }
    CHECK(n > 0);
    cl_wire_decode(d, out, n + 1, one_sink, &o);
    CHECK(o.frames == 1);
    if (proto == CL_WIRE_BINARY) {
        CHECK(o.others == 0);
        CHECK(o.f.has_seq);
        CHECK(same_frame(&o.f, f));
    } else {
        /* text numbers frames from 0 and may add a label item */
        CHECK(o.f.seq == 0 && !o.f.has_seq && o.f.n == f->n);
        CHECK(same_double(o.f.device_time, f->device_time));
        for (unsigned i = 0; i < f->n; i++)
            CHECK(same_double(o.f.v[i], f->v[i]));
    }
    CHECK(cl_wire_decoder_stats(d)->frames == 1);
    CHECK(cl_wire_decoder_stats(d)->bytes == n + 1);
    cl_wire_decoder_free(d);
}

/* ---- observing one decoder ------------------------------------------------ */

typedef struct obs {
    cl_wire_protocol proto;
    uLong digest; /* CRC over every item, to compare runs */
    uint64_t frames, metas, gaps, lost;
    bool have_frame, gap_pending;
    uint32_t last_seq, gap_after, gap_lost;
} obs;

static void digest(obs *o, const void *p, size_t n)
{
    o->digest = crc32(o->digest, p, (uInt)n);
}

static void obs_sink(void *ctx, const cl_wire_item *it)
{
    obs *o = ctx;
    uint32_t kind = (uint32_t)it->kind;

    digest(o, &kind, sizeof kind);
    switch (it->kind) {
    case CL_WIRE_ITEM_FRAME: {
        const cl_wire_frame *f = it->frame;
        CHECK(f);
        CHECK(f->n >= 1 && f->n <= CL_WIRE_MAX_CHANNELS);
        if (o->proto == CL_WIRE_BINARY) {
            CHECK(f->has_seq);
            CHECK(f->device_time >= 0 && f->device_time == floor(f->device_time));
            for (unsigned i = 0; i < f->n; i++)
                CHECK(f->v[i] == floor(f->v[i]) && f->v[i] >= -2147483648.0 &&
                      f->v[i] <= 2147483647.0);
            if (o->gap_pending)
                CHECK(o->gap_lost == 0 || f->seq == o->gap_after + o->gap_lost + 1u);
            else if (o->have_frame)
                CHECK(f->seq == o->last_seq + 1u);
        } else {
            CHECK(!f->has_seq);
            CHECK(f->seq == (uint32_t)o->frames);
        }
        o->gap_pending = false;
        o->have_frame = true;
        o->last_seq = f->seq;
        o->frames++;
        digest(o, &f->seq, sizeof f->seq);
        digest(o, &f->n, sizeof f->n);
        digest(o, &f->device_time, sizeof f->device_time);
        digest(o, f->v, f->n * sizeof f->v[0]);
        check_reencode(o->proto, f);
        break;
    }
    case CL_WIRE_ITEM_META:
        CHECK(it->key && it->value);
        CHECK(it->key[0] != '\0');
        CHECK(strlen(it->key) <= CL_WIRE_MAX_LINE && strlen(it->value) <= CL_WIRE_MAX_LINE);
        if (o->proto == CL_WIRE_BINARY) {
            /* a metadata frame re-encodes to itself */
            uint8_t enc[CL_WIRE_BINARY_MAX];
            CHECK(cl_wire_encode_meta(it->key, it->value, enc, sizeof enc) > 0);
        }
        o->metas++;
        digest(o, it->key, strlen(it->key) + 1);
        digest(o, it->value, strlen(it->value) + 1);
        break;
    case CL_WIRE_ITEM_GAP:
        CHECK(o->proto == CL_WIRE_BINARY);
        CHECK(o->have_frame && !o->gap_pending);
        CHECK(it->gap_after == o->last_seq);
        CHECK(it->gap_lost < 0x80000000u);
        o->gap_pending = true;
        o->gap_after = it->gap_after;
        o->gap_lost = it->gap_lost;
        o->gaps++;
        o->lost += it->gap_lost;
        digest(o, &it->gap_after, sizeof it->gap_after);
        digest(o, &it->gap_lost, sizeof it->gap_lost);
        break;
    default:
        CHECK(!"unknown item kind");
    }
}

/* Counters agree with what the sink saw and with the stream. */
static void check_stats(const obs *o, const cl_wire_stats *st, size_t len, size_t delims)
{
    CHECK(!o->gap_pending);
    CHECK(st->bytes == len);
    CHECK(st->frames == o->frames);
    CHECK(st->seq_gaps == o->gaps);
    CHECK(st->lost_frames == o->lost);
    CHECK(st->skipped_bytes <= len);
    if (o->proto == CL_WIRE_BINARY) {
        CHECK(st->meta == o->metas);
    } else {
        CHECK(st->seq_gaps == 0 && st->lost_frames == 0);
        CHECK(o->metas >= st->meta); /* plus label items */
        CHECK(o->metas <= st->meta + st->frames);
    }
    /* every counted unit ended at a delimiter */
    CHECK(st->frames + st->meta + st->malformed + st->checksum_errors <= delims);
}

static void run(cl_wire_protocol proto, bool first_time, bool resync, const uint8_t *p,
                size_t len, size_t split)
{
    uint8_t delim = proto == CL_WIRE_BINARY ? 0 : '\n';
    size_t delims = 0;
    obs a = {.proto = proto}, b = {.proto = proto}, c = {.proto = proto};
    cl_wire_decoder *da = cl_wire_decoder_new(proto), *db = cl_wire_decoder_new(proto),
                    *dc = cl_wire_decoder_new(proto);

    CHECK(da && db && dc);
    CHECK(cl_wire_decoder_protocol(da) == proto);
    for (size_t i = 0; i < len; i++)
        delims += p[i] == delim;
    cl_wire_decoder_set_text_timestamp(da, first_time);
    cl_wire_decoder_set_text_timestamp(db, first_time);
    cl_wire_decoder_set_text_timestamp(dc, first_time);

    cl_wire_decode(da, p, len, obs_sink, &a);
    cl_wire_decode(db, p, split, obs_sink, &b);
    cl_wire_decode(db, p + split, len - split, obs_sink, &b);
    check_stats(&a, cl_wire_decoder_stats(da), len, delims);
    check_stats(&b, cl_wire_decoder_stats(db), len, delims);
    CHECK(a.digest == b.digest);
    CHECK(memcmp(cl_wire_decoder_stats(da), cl_wire_decoder_stats(db), sizeof(cl_wire_stats)) ==
          0);

    cl_wire_decode(dc, p, split, obs_sink, &c);
    if (resync)
        cl_wire_decoder_resync(dc);
    cl_wire_decode(dc, p + split, len - split, obs_sink, &c);
    check_stats(&c, cl_wire_decoder_stats(dc), len, delims);

    cl_wire_decoder_free(da);
    cl_wire_decoder_free(db);
    cl_wire_decoder_free(dc);
}

/* COBS on arbitrary bytes: encode/decode is the identity, and whatever
 * decodes re-encodes to something that decodes the same. */
static void check_cobs(const uint8_t *p, size_t len)
{
    size_t cap = len + len / 254 + 2;
    uint8_t *enc = malloc(cap), *dec = malloc(len + 1), *enc2 = malloc(cap);
    size_t n;
    long m;

    CHECK(enc && dec && enc2);
    n = cl_wire_cobs_encode(p, len, enc, cap);
    CHECK(n > 0 && n <= len + len / 254 + 1);
    CHECK(!memchr(enc, 0, n));
    m = cl_wire_cobs_decode(enc, n, dec, len + 1);
    CHECK(m == (long)len);
    CHECK(len == 0 || memcmp(dec, p, len) == 0);

    m = cl_wire_cobs_decode(p, len, dec, len + 1);
    if (m >= 0) {
        long m2;
        CHECK((size_t)m < len);
        n = cl_wire_cobs_encode(dec, (size_t)m, enc2, cap);
        CHECK(n > 0 && n <= len);
        m2 = cl_wire_cobs_decode(enc2, n, enc, cap);
        CHECK(m2 == m && memcmp(enc, dec, (size_t)m) == 0);
    }
    free(enc);
    free(dec);
    free(enc2);
}

/* Structured binary input, so that frames with a correct CRC but odd
 * contents (version, channel count, length, sequence) are reached: the data
 * is read as [len][len bytes]... records; each record gets its CRC-32
 * appended and is COBS-encoded and delimited.  Returns the stream length. */
static size_t build_frames(const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
    size_t o = 0, i = 0;
    uint8_t rec[256 + 4];

    out[o++] = 0;
    while (i < len) {
        size_t n = p[i++], e;
        uLong crc;
        if (n > len - i)
            n = len - i;
        memcpy(rec, p + i, n);
        i += n;
        crc = crc32(0L, rec, (uInt)n);
        for (int k = 0; k < 4; k++)
            rec[n++] = (uint8_t)(crc >> (8 * k));
        if (cap - o < n + n / 254 + 2)
            break;
        e = cl_wire_cobs_encode(rec, n, out + o, cap - o);
        CHECK(e > 0);
        o += e;
        out[o++] = 0;
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags;
    size_t split, len;

    if (size < 3)
        return 0;
    flags = data[0];
    len = size - 3;
    split = ((size_t)data[1] | (size_t)data[2] << 8) % (len + 1);
    data += 3;
    if (flags & 4) {
        size_t cap = 2 * len + 16, n;
        uint8_t *frames = malloc(cap);
        CHECK(frames);
        n = build_frames(data, len, frames, cap);
        run(CL_WIRE_BINARY, false, flags & 2, frames, n, split % (n + 1));
        free(frames);
        return 0;
    }
    run(CL_WIRE_TEXT, flags & 1, flags & 2, data, len, split);
    run(CL_WIRE_BINARY, flags & 1, flags & 2, data, len, split);
    check_cobs(data, len);
    return 0;
}

#ifdef CL_FUZZ_SEEDS
/* ---- seed corpus ------------------------------------------------------------ */

static void write_seed(const char *dir, int i, uint8_t flags, const void *p, size_t n)
{
    char path[4096];
    FILE *f;
    uint8_t hdr[3] = {flags, (uint8_t)(n / 3), (uint8_t)(n / 3 >> 8)};

    snprintf(path, sizeof path, "%s/seed-%02d", dir, i);
    f = fopen(path, "wb");
    if (!f || fwrite(hdr, 1, 3, f) != 3 || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static const char *const text[] = {
        "boot\r\n# id: cup-1\r\n# fw=1.0\r\n512,498,730\r\n513,499,731\r\n",
        "x\n# timestamp: first\n1000 1 2\n1010\t3\t4*3D\n1020,nan,-inf\n",
        "\nt:5,a:1.5,b:-2e3\nms:6 a:+0.25 b:.5\nmillis:7,P1:1,P2:2*00\n",
        "ets Jun  8 2016\r\nrst:0x1 (POWERON_RESET)\r\n-12.5,-30.25\r\n1,2,3\r\n",
        "\n# timestamp: none\n# id: a *55\n"
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
        "22 23 24 25 26 27 28 29 30 31 32 33 34\n",
    };
    static const char *const dict[] = {
        "\"\\x00\"",
        "\"\\x0d\\x0a\"",
        "\"\\x0a\"",
        "\"# timestamp: first\\x0a\"",
        "\"# key=value\\x0a\"",
        "\"t:\"",
        "\"ms:\"",
        "\"micros:\"",
        "\"nan\"",
        "\"-inf\"",
        "\"1e308\"",
        "\"0x1p3\"",
        "\"*\"",
        "\", \"",
        "\"\\x09\"",
        "\"\\x01\"",
        "\"\\xff\"",
    };
    uint8_t buf[4096];
    size_t n = 0;
    int seed = 0;
    FILE *df;

    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR DICT_FILE\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        write_seed(argv[1], seed++, (uint8_t)(i & 3), text[i], strlen(text[i]));

    /* binary: a delimiter, then frames with a gap, a wrap and a bad CRC */
    {
        static const uint32_t seqs[] = {0xFFFFFFFEu, 0xFFFFFFFFu, 0, 3, 4};
        cl_wire_frame f;
        memset(&f, 0, sizeof f);
        buf[n++] = 0;
        for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
            f.seq = seqs[i];
            f.device_time = 1000.0 * (double)i;
            f.n = (uint16_t)(1 + 5 * i);
            for (unsigned k = 0; k < f.n; k++)
                f.v[k] = (double)(k * 300) - 600;
            n += cl_wire_encode_binary(&f, buf + n, sizeof buf - n);
        }
        write_seed(argv[1], seed++, 0, buf, n);
        buf[n / 2] ^= 0x10; /* one corrupted frame */
        write_seed(argv[1], seed++, 2, buf, n);
        f.n = CL_WIRE_MAX_CHANNELS;
        f.seq = 7;
        n = cl_wire_encode_binary(&f, buf, sizeof buf);
        write_seed(argv[1], seed++, 0, buf, n);
    }

    /* structured records: two 2-channel frames with a gap between them */
    {
        /* length 22, then version 1, 2 channels, seq, time (us), 2 samples */
        static const uint8_t recs[] = {
            /* clang-format off */
            22, 1, 2, 5, 0, 0, 0, 0x10, 0x27, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
            22, 1, 2, 9, 0, 0, 0, 0x20, 0x27, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF,
            /* clang-format on */
        };
        write_seed(argv[1], seed++, 4, recs, sizeof recs);
    }

    df = fopen(argv[2], "w");
    if (!df) {
        perror(argv[2]);
        return 1;
    }
    for (size_t i = 0; i < sizeof dict / sizeof dict[0]; i++)
        fprintf(df, "%s\n", dict[i]);
    if (fclose(df) != 0) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
#endif
