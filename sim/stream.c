/* sim/stream: frame generation, encoding, fault injection, pacing and
 * unplugging of cuplab-sim, and the --log CSV of the frames sent intact.
 * Values are computed for every frame, sent or not, so that fault options
 * never change them. */
#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl_log.h"
#include "cl_time.h"
#include "cl_wire.h"

#define EARLY_S 0.0005 /* frames may leave this much ahead of their time */

static bool seqs_push(sim_seqs *v, uint64_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        uint64_t *p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return false;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

/* ---- the --log file ------------------------------------------------------------ */

static int log_open(sim_stream *st)
{
    if (!st->o->log)
        return 0;
    st->log = fopen(st->o->log, "w");
    if (!st->log) {
        cl_log(CL_LOG_ERROR, "cannot create %s: %s", st->o->log, strerror(errno));
        return -1;
    }
    fprintf(st->log, "seq,device_time_us");
    for (int i = 0; i < st->o->cups; i++)
        fprintf(st->log, ",c%d", i + 1);
    fputc('\n', st->log);
    return 0;
}

static int log_frame(sim_stream *st, const sim_pending *p)
{
    if (!st->log)
        return 0;
    fprintf(st->log, "%" PRIu64 ",%" PRId64, p->seq, p->time_us);
    for (int i = 0; i < st->o->cups; i++)
        fprintf(st->log, ",%" PRId32, p->raw[i]);
    return fputc('\n', st->log) == EOF ? -1 : 0;
}

int sim_stream_close_log(sim_stream *st)
{
    int rc = 0;
    if (st->log && fclose(st->log) != 0) {
        cl_log(CL_LOG_ERROR, "cannot write %s: %s", st->o->log, strerror(errno));
        rc = -1;
    }
    st->log = NULL;
    return rc;
}

/* ---- the output buffer --------------------------------------------------------- */

/* Write the output buffer to the pty, then account for the frames that went
 * out completely. */
static int flush_out(sim_stream *st)
{
    size_t off;
    int rc = sim_pty_write(&st->pty, st->out, st->out_len, &off);
    st->bytes_written += off;
    for (size_t i = 0; i < st->npend && st->pend[i].end <= off; i++) {
        if (st->pend[i].garbled) {
            st->garbled++;
            if (!seqs_push(&st->garbled_seq, st->pend[i].seq))
                rc = SIM_PTY_ERROR;
        } else {
            st->sent++;
            if (log_frame(st, &st->pend[i]) < 0) {
                cl_log(CL_LOG_ERROR, "cannot write %s: %s", st->o->log, strerror(errno));
                rc = SIM_PTY_ERROR;
            }
        }
    }
    st->out_len = 0;
    st->npend = 0;
    return rc;
}

static void put_bytes(sim_stream *st, const void *b, size_t n)
{
    memcpy(st->out + st->out_len, b, n);
    st->out_len += n;
}

/* The protocol's frame delimiter: CR LF (text) or 0 (binary).  Returns its
 * length. */
static size_t put_delimiter(sim_stream *st)
{
    if (st->o->proto == CL_WIRE_TEXT) {
        put_bytes(st, "\r\n", 2);
        return 2;
    }
    put_bytes(st, "", 1);
    return 1;
}

/* A burst of junk that ends on a delimiter, so the following frame is intact:
 * text bytes are never digits, separators or line ends, binary bytes are
 * never 0 until the final delimiter. */
static void put_junk(sim_stream *st, size_t n)
{
    static const char text_junk[] = "GHJKLMOPQRSUVWXZghjklmopqrsuvwxz!?%&@^~";
    if (n > SIM_STREAM_JUNK_MAX - 2)
        n = SIM_STREAM_JUNK_MAX - 2;
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        if (st->o->proto == CL_WIRE_TEXT) {
            unsigned long k = gsl_rng_uniform_int(st->ses->fault, sizeof text_junk - 1 + 128);
            b = k < sizeof text_junk - 1 ? (uint8_t)text_junk[k]
                                         : (uint8_t)(k - (sizeof text_junk - 1) + 128);
        } else {
            b = (uint8_t)(1 + gsl_rng_uniform_int(st->ses->fault, 255));
        }
        put_bytes(st, &b, 1);
    }
    put_delimiter(st);
}

/* Bytes a UART produces when the baud rate is wrong: mostly high-bit and
 * framing-error patterns.  Ends on a delimiter. */
static void put_baud_garbage(sim_stream *st)
{
    static const uint8_t pattern[] = {0x00, 0x80, 0xF8, 0xFE, 0xE0, 0x78, 0x1E, 0x86,
                                      0x98, 0x66, 0xFF, 0xC0, 0x9E, 0xE6, 0x18, 0x06};
    size_t n = 48 + gsl_rng_uniform_int(st->ses->fault, 80);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = pattern[gsl_rng_uniform_int(st->ses->fault, sizeof pattern)];
        put_bytes(st, &b, 1);
    }
    st->baud_bytes += n + put_delimiter(st);
}

/* One identity pair: a "# key: value" line, or a metadata frame. */
static void put_meta(void *ctx, const char *key, const char *value)
{
    sim_stream *st = ctx;
    uint8_t out[512];
    size_t n;
    if (st->o->proto == CL_WIRE_TEXT) {
        int len = snprintf((char *)out, sizeof out, "# %s: %s\r\n", key, value);
        n = len > 0 && (size_t)len < sizeof out ? (size_t)len : 0;
    } else {
        n = cl_wire_encode_meta(key, value, out, sizeof out);
    }
    put_bytes(st, out, n);
}

/* Sent at every connect: a delimiter, so that the reader does not take the
 * first frame for the tail of an earlier one, then the device's identity. */
static void put_announcement(sim_stream *st)
{
    put_delimiter(st);
    sim_session_announce(st->ses, st->o, put_meta, st);
}

/* ---- frames -------------------------------------------------------------------- */

/* Text line with labels, Arduino Serial Plotter style:
 * "ms:1234,c1:2890,c2:2901[*XX]\r\n". */
static size_t encode_labelled(const sim_options *opt, int64_t time_ms, const int32_t *raw,
                              char *out, size_t cap)
{
    size_t o = 0;
    int n;
    if (!opt->no_time) {
        n = snprintf(out, cap, "ms:%" PRId64, time_ms);
        if (n < 0 || (size_t)n >= cap)
            return 0;
        o = (size_t)n;
    }
    for (int i = 0; i < opt->cups; i++) {
        n = snprintf(out + o, cap - o, "%sc%d:%" PRId32, o ? "," : "", i + 1, raw[i]);
        if (n < 0 || (size_t)n >= cap - o)
            return 0;
        o += (size_t)n;
    }
    if (opt->checksum) {
        unsigned sum = 0;
        for (size_t i = 0; i < o; i++)
            sum ^= (unsigned char)out[i];
        n = snprintf(out + o, cap - o, "*%02X", sum);
        if (n < 0 || (size_t)n >= cap - o)
            return 0;
        o += (size_t)n;
    }
    if (cap - o < 3)
        return 0;
    memcpy(out + o, "\r\n", 3);
    return o + 2;
}

/* Encode one frame as the options ask.  Returns its length, 0 if it does
 * not fit. */
static size_t encode(const sim_options *o, uint64_t k, int64_t time_us, const int32_t *raw,
                     uint8_t *out, size_t cap)
{
    cl_wire_frame f;

    f.seq = (uint32_t)k;
    f.has_seq = true;
    f.n = (uint16_t)o->cups;
    for (int i = 0; i < o->cups; i++)
        f.v[i] = raw[i];
    if (o->proto == CL_WIRE_BINARY) {
        f.device_time = (double)time_us;
        return cl_wire_encode_binary(&f, out, cap);
    }
    int64_t ms = time_us / 1000;
    f.device_time = (double)ms;
    if (o->labels)
        return encode_labelled(o, ms, raw, (char *)out, cap);
    return cl_wire_encode_text(&f, !o->no_time, o->checksum, (char *)out, cap);
}

/* Corrupt an encoded frame so that the decoder must reject it: text gets a
 * letter in place of one digit, binary one changed byte that is not 0. */
static void garble(sim_stream *st, uint8_t *f, size_t n)
{
    gsl_rng *r = st->ses->fault;
    if (st->o->proto == CL_WIRE_TEXT) {
        static const char letters[] = "GHJKLMOPQRSUVWXZ";
        size_t digits = 0, body = n;
        for (size_t i = 0; i < n; i++)
            if (f[i] == '*' || f[i] == '\r') {
                body = i;
                break;
            }
        for (size_t i = 0; i < body; i++)
            digits += f[i] >= '0' && f[i] <= '9';
        size_t pick = gsl_rng_uniform_int(r, digits ? digits : 1);
        for (size_t i = 0; i < body; i++)
            if (f[i] >= '0' && f[i] <= '9' && pick-- == 0) {
                f[i] = (uint8_t)letters[gsl_rng_uniform_int(r, sizeof letters - 1)];
                break;
            }
    } else {
        size_t at = gsl_rng_uniform_int(r, n - 1); /* never the delimiter */
        uint8_t b;
        do
            b = f[at] ^ (uint8_t)(1 + gsl_rng_uniform_int(r, 255));
        while (b == 0);
        f[at] = b;
    }
}

/* Encode frame k into the output buffer, with any junk or corruption the
 * --garbage option asks for. */
static int put_frame(sim_stream *st, uint64_t k, int64_t time_us, const int32_t *raw)
{
    uint8_t enc[SIM_STREAM_FRAME_MAX];
    gsl_rng *r = st->ses->fault;
    size_t n = encode(st->o, k, time_us, raw, enc, sizeof enc);

    if (n == 0) {
        cl_log(CL_LOG_ERROR, "cannot encode frame %" PRIu64, k);
        return SIM_PTY_ERROR;
    }
    bool garbled = false;
    if (st->o->garbage_p > 0 && gsl_rng_uniform(r) < st->o->garbage_p) {
        if (gsl_rng_uniform_int(r, 2)) {
            garbled = true;
            garble(st, enc, n);
        } else {
            size_t before = st->out_len;
            put_junk(st, 1 + gsl_rng_uniform_int(r, 24));
            st->junk_bursts++;
            st->junk_bytes += st->out_len - before;
        }
    }
    put_bytes(st, enc, n);
    sim_pending *p = &st->pend[st->npend++];
    p->seq = k;
    p->time_us = time_us;
    p->end = st->out_len;
    p->garbled = garbled;
    memcpy(p->raw, raw, (size_t)st->o->cups * sizeof *raw);
    return SIM_PTY_OK;
}

/* ---- the session --------------------------------------------------------------- */

/* Unplug for outage i: let the reader catch up, close the pty, stay away
 * its wall-clock time, come back on a new pty and wait for the reader. */
static int unplug(sim_stream *st, int i)
{
    const sim_outage *plan = &st->o->outage[i];
    sim_unplug *u = &st->unplug[i];

    u->unread_bytes = sim_pty_settle(&st->pty);
    u->done = true;
    cl_log(CL_LOG_INFO, "unplugged at %g s for %g s", plan->t_s, plan->wall_s);
    sim_pty_close(&st->pty);
    int rc = sim_pty_sleep(&st->pty, plan->wall_s);
    if (rc != SIM_PTY_OK)
        return rc;
    rc = sim_pty_plug(&st->pty, st->o->wait_s);
    if (st->pty.master >= 0)
        snprintf(u->path, sizeof u->path, "%s", st->pty.slave);
    if (rc != SIM_PTY_OK)
        return rc;
    u->reconnected = true;
    put_announcement(st);
    return SIM_PTY_OK;
}

/* Generate every frame of the session and send those that are due. */
static int send_frames(sim_stream *st)
{
    const sim_options *o = st->o;
    const double X = o->time_scale;
    int32_t raw[SIM_MAX_CUPS];
    size_t next_drop = 0;
    int next_disc = 0;
    sim_unplug *outage = NULL;
    double outage_end_s = -1, anchor_wall = cl_time_mono_s(), anchor_sim = 0,
           now = anchor_wall;
    int rc;

    if (o->baud_garbage)
        put_baud_garbage(st);
    put_announcement(st);

    for (uint64_t k = 0; k < st->ses->nframes; k++) {
        double t = (double)k / o->rate_hz;
        int64_t time_us = llround(t * 1e6);

        if (*st->pty.stop)
            return SIM_PTY_STOP;
        if (next_disc < o->noutages && t >= o->outage[next_disc].t_s) {
            const sim_outage *plan = &o->outage[next_disc];
            outage = &st->unplug[next_disc];
            if ((rc = flush_out(st)) != SIM_PTY_OK)
                return rc;
            outage->first_seq = k;
            outage_end_s = plan->t_s + sim_options_outage_sim_s(o, plan->wall_s);
            outage->resume_s = outage_end_s;
            if ((rc = unplug(st, next_disc++)) != SIM_PTY_OK)
                return rc;
            anchor_wall = now = cl_time_mono_s();
            anchor_sim = outage_end_s;
        }
        sim_session_read(st->ses, t, raw);
        if (t < outage_end_s) {
            outage->lost++;
            st->lost++;
            continue;
        }
        if (next_drop < st->ses->ndrop && st->ses->drop[next_drop] == k) {
            next_drop++;
            st->dropped++;
            if (!seqs_push(&st->dropped_seq, k))
                return SIM_PTY_ERROR;
            continue;
        }
        if (X > 0) {
            double due = anchor_wall + (t - anchor_sim) / X;
            if (due > now + EARLY_S) {
                now = cl_time_mono_s();
                if (due > now + EARLY_S) {
                    if ((rc = flush_out(st)) != SIM_PTY_OK ||
                        (rc = sim_pty_wait_until(&st->pty, due)) != SIM_PTY_OK)
                        return rc;
                    now = cl_time_mono_s();
                }
            }
        }
        if (st->out_len > SIM_STREAM_OUT_CAP || st->npend == SIM_STREAM_PEND_CAP)
            if ((rc = flush_out(st)) != SIM_PTY_OK)
                return rc;
        if ((rc = put_frame(st, k, time_us, raw)) != SIM_PTY_OK)
            return rc;
    }
    return flush_out(st);
}

int sim_stream_init(sim_stream *st, const sim_options *o, sim_session *ses,
                    volatile sig_atomic_t *stop)
{
    memset(st, 0, sizeof *st);
    st->o = o;
    st->ses = ses;
    sim_pty_init(&st->pty, o->link, stop);
    for (int i = 0; i < SIM_MAX_DISCONNECTS; i++)
        st->unplug[i].unread_bytes = -1;
    return log_open(st);
}

int sim_stream_run(sim_stream *st)
{
    int rc = sim_pty_plug(&st->pty, st->o->wait_s);
    return rc == SIM_PTY_OK ? send_frames(st) : rc;
}

void sim_stream_free(sim_stream *st)
{
    if (st->log)
        fclose(st->log);
    st->log = NULL;
    free(st->dropped_seq.v);
    free(st->garbled_seq.v);
    st->dropped_seq = st->garbled_seq = (sim_seqs){0};
}
