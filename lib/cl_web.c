/*
 * cl_web: libmicrohttpd behind the live view.  Each connection has its own
 * thread (an event stream sleeps in its content callback between two
 * snapshots); the recording never waits for any of them (cl_dash).
 */
#include "cl_web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cl_cli.h"

#define HEADER_MEMORY 16384 /* bytes for a request's headers (larger: 431/413 by the library) */
#define EVENT_BLOCK 65536
#define STOP_CHECK_S 0.05

struct cl_web {
    struct MHD_Daemon *mhd;
    cl_web_options o;
    struct sockaddr_in sa;
    atomic_bool stopping;
    bool token_to_read; /* every request needs the token, not only markers */
    char token[CL_WEB_TOKEN_MAX + 1];
};

/* One POST's body as it arrives. */
typedef struct body {
    size_t len;
    bool too_big;
    char data[CL_WEB_BODY_MAX + 1];
} body;

/* One event stream. */
typedef struct stream {
    cl_web *w;
    uint64_t since;
    char *pending;
    size_t len, off;
    bool first;
    double due; /* CLOCK_MONOTONIC time of the next event */
} stream;

static void common_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'");
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              const void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, mode);
    if (!r)
        return MHD_NO;
    common_headers(r, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* {"error": why} with `status`. */
static enum MHD_Result answer_error(struct MHD_Connection *c, unsigned status, const char *why)
{
    char buf[512], esc[256];
    size_t n = 0;
    for (const char *p = why; *p && n < sizeof esc - 2; p++) {
        if (*p == '"' || *p == '\\')
            esc[n++] = '\\';
        esc[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    esc[n] = '\0';
    int len = snprintf(buf, sizeof buf, "{\"error\":\"%s\"}\n", esc);
    return answer(c, status, "application/json", buf, (size_t)len, MHD_RESPMEM_MUST_COPY);
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Events are due every CL_WEB_EVENT_PERIOD_S from the first, not that long
 * after the one before (making and sending one would stretch the period);
 * a stream that fell behind (a slow client) starts again from now. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;
    (void)pos;
    while (s->off == s->len) {
        free(s->pending);
        s->pending = NULL;
        s->len = s->off = 0;
        double left;
        while (!s->first && (left = s->due - monotonic_s()) > 0) {
            if (atomic_load(&s->w->stopping))
                return MHD_CONTENT_READER_END_OF_STREAM;
            nap(left < STOP_CHECK_S ? left : STOP_CHECK_S);
        }
        if (atomic_load(&s->w->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        double now = monotonic_s();
        s->due += CL_WEB_EVENT_PERIOD_S;
        if (s->first || s->due < now)
            s->due = now + CL_WEB_EVENT_PERIOD_S;
        s->first = false;
        uint64_t last = s->since;
        char *json = cl_dash_json(s->w->o.dash, s->since, &last);
        if (!json)
            continue;
        size_t n = strlen(json) + 32;
        s->pending = malloc(n);
        if (s->pending)
            s->len = (size_t)snprintf(s->pending, n, "event: snapshot\ndata: %s\n\n", json);
        free(json);
        s->since = last;
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    free(s->pending);
    free(s);
}

static enum MHD_Result serve_events(cl_web *w, struct MHD_Connection *c)
{
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->w = w;
    s->first = true;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EVENT_BLOCK, stream_read, s,
                                          stream_free);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    common_headers(r, "text/event-stream");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result serve_snapshot(cl_web *w, struct MHD_Connection *c)
{
    const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    char *json = cl_dash_json(w->o.dash, since ? strtoull(since, NULL, 10) : 0, NULL);
    if (!json)
        return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return answer(c, MHD_HTTP_OK, "application/json", json, strlen(json),
                  MHD_RESPMEM_MUST_FREE);
}

/* Same length and bytes, in time independent of where they differ. */
static bool token_ok(const cl_web *w, const char *given)
{
    const char *want = w->token;
    size_t n = strlen(want);
    unsigned diff = 0;
    if (!given || strlen(given) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)want[i];
    return diff == 0;
}

static enum MHD_Result post_marker(cl_web *w, struct MHD_Connection *c, body *b)
{
    cl_error err;
    uint64_t id;
    char buf[64];
    if (b->too_big)
        return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
    b->data[b->len] = '\0';
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
        b->data[--b->len] = '\0';
    if (memchr(b->data, '\0', b->len) || strpbrk(b->data, "\r\n"))
        return answer_error(c, MHD_HTTP_BAD_REQUEST, "one marker command per request");
    int rc = cl_dash_queue_marker(w->o.dash, b->data, &id, &err);
    if (rc != CL_OK)
        return answer_error(c, rc == CL_ERR_BUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
                                                 : MHD_HTTP_BAD_REQUEST,
                            err.msg);
    int n = snprintf(buf, sizeof buf, "{\"id\":%llu}\n", (unsigned long long)id);
    return answer(c, MHD_HTTP_ACCEPTED, "application/json", buf, (size_t)n,
                  MHD_RESPMEM_MUST_COPY);
}

static const cl_web_asset *asset_for(const cl_web *w, const char *url)
{
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (size_t i = 0; i < w->o.nassets; i++)
        if (strcmp(w->o.assets[i].path, url) == 0)
            return &w->o.assets[i];
    return NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    cl_web *w = cls;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    (void)version;

    if (!*req && w->token_to_read) {
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, CL_WEB_TOKEN_HEADER);
        if (!t)
            t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        if (!token_ok(w, t))
            return answer_error(c, MHD_HTTP_FORBIDDEN, "missing or wrong token");
    }
    if (strcmp(url, "/marker") == 0) {
        body *b = *req;
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
        cl_error why;
        if (cl_dash_read_only(w->o.dash, &why))
            return answer_error(c, MHD_HTTP_FORBIDDEN, why.msg);
        if (!b) {
            const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                          MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (!token_ok(w, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                         CL_WEB_TOKEN_HEADER)))
                return answer_error(c, MHD_HTTP_FORBIDDEN, "missing or wrong token");
            if (len && strtoull(len, NULL, 10) > CL_WEB_BODY_MAX)
                return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
            if (!(b = calloc(1, sizeof *b)))
                return MHD_NO;
            *req = b;
            return MHD_YES;
        }
        if (*upload_size) {
            if (b->len + *upload_size > CL_WEB_BODY_MAX)
                b->too_big = true;
            else
                memcpy(b->data + b->len, upload, *upload_size);
            if (!b->too_big)
                b->len += *upload_size;
            *upload_size = 0;
            return MHD_YES;
        }
        return post_marker(w, c, b);
    }
    bool known = strcmp(url, "/events") == 0 || strcmp(url, "/snapshot.json") == 0 ||
                 asset_for(w, url);
    if (!known)
        return answer_error(c, MHD_HTTP_NOT_FOUND, "not found");
    if (!get)
        return answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
    if (strcmp(url, "/events") == 0)
        return serve_events(w, c);
    if (strcmp(url, "/snapshot.json") == 0)
        return serve_snapshot(w, c);
    const cl_web_asset *a = asset_for(w, url);
    return answer(c, MHD_HTTP_OK, a->type, a->data, a->len, MHD_RESPMEM_PERSISTENT);
}

/* Paths and arguments are taken as sent: no %-decoding, so no path or
 * token hides behind an escape (or a %00). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void completed(void *cls, struct MHD_Connection *c, void **req,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    free(*req);
    *req = NULL;
}

/* A token given: CL_WEB_TOKEN_MIN to CL_WEB_TOKEN_MAX printable characters, no spaces. */
static int check_token(const char *token, cl_error *err)
{
    size_t n = strlen(token);
    bool ok = n >= CL_WEB_TOKEN_MIN && n <= CL_WEB_TOKEN_MAX;
    for (const char *p = token; *p; p++)
        ok = ok && *p > ' ' && *p <= '~';
    if (ok)
        return CL_OK;
    return cl_error_set(err, CL_ERR_ARG,
                        "invalid --live-token '%s' (%d to %d printable characters, no spaces)",
                        token, CL_WEB_TOKEN_MIN, CL_WEB_TOKEN_MAX);
}

/* A fresh random token: 2 * CL_WEB_TOKEN_BYTES hex digits in `out`. */
static int new_token(char out[2 * CL_WEB_TOKEN_BYTES + 1], cl_error *err)
{
    unsigned char r[CL_WEB_TOKEN_BYTES];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return cl_error_set(err, CL_ERR_IO, "no random bytes for the token: %s",
                            strerror(errno));
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return CL_OK;
}

/* The address, the token and who needs it. */
static int prepare(cl_web *w, const cl_web_options *o, cl_error *err)
{
    int rc;
    _Static_assert(2 * CL_WEB_TOKEN_BYTES <= CL_WEB_TOKEN_MAX, "a generated token fits");
    w->o = *o;
    atomic_init(&w->stopping, false);
    w->sa.sin_family = AF_INET;
    w->sa.sin_port = htons(o->listen.port);
    if (inet_pton(AF_INET, o->listen.address, &w->sa.sin_addr) != 1)
        return cl_error_set(err, CL_ERR_ARG, "%s: not an IPv4 address", o->listen.address);
    /* 127.0.0.0/8: only this machine reaches it. */
    w->token_to_read = (ntohl(w->sa.sin_addr.s_addr) >> 24) != 127;
    if (!o->listen.token)
        return new_token(w->token, err);
    if ((rc = check_token(o->listen.token, err)) != CL_OK)
        return rc;
    snprintf(w->token, sizeof w->token, "%s", o->listen.token);
    return CL_OK;
}

int cl_web_start(cl_web **out, const cl_web_options *o, cl_error *err)
{
    cl_web *w = calloc(1, sizeof *w);
    sigset_t block, old;
    int rc;
    *out = NULL;
    if (!w)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    if ((rc = prepare(w, o, err)) != CL_OK) {
        free(w);
        return rc;
    }
    /* The server's threads leave the stop signals to the recording. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    w->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, o->listen.port, NULL, NULL,
        handle, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&w->sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CL_WEB_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CL_WEB_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        completed, w, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_END);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!w->mhd) {
        free(w);
        return cl_error_set(err, CL_ERR_BUSY, "cannot listen on %s:%u: %s", o->listen.address,
                            (unsigned)o->listen.port, strerror(e));
    }
    *out = w;
    return CL_OK;
}

void cl_web_stop(cl_web *w)
{
    if (!w)
        return;
    atomic_store(&w->stopping, true);
    MHD_stop_daemon(w->mhd);
    free(w);
}

uint16_t cl_web_port(const cl_web *w)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : w->o.listen.port;
}

void cl_web_url(const cl_web *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://%s:%u/?token=%s", w->o.listen.address, (unsigned)cl_web_port(w),
             w->token);
}

/* [ADDR:]PORT of --live. */
static int parse_listen(cl_web_listen *l, const char *spec, cl_error *err)
{
    const char *colon = strrchr(spec, ':'), *digits = colon ? colon + 1 : spec;
    size_t alen = colon ? (size_t)(colon - spec) : strlen(CL_WEB_ADDRESS_DEFAULT);
    struct in_addr a;
    long port;
    if (alen == 0 || alen >= sizeof l->address)
        return cl_error_set(err, CL_ERR_ARG, "invalid --live address in '%s'", spec);
    if (!cl_cli_long(digits, 0, 65535, &port))
        return cl_error_set(err, CL_ERR_ARG, "invalid --live port in '%s' (0 to 65535)", spec);
    snprintf(l->address, sizeof l->address, "%.*s", (int)alen,
             colon ? spec : CL_WEB_ADDRESS_DEFAULT);
    if (inet_pton(AF_INET, l->address, &a) != 1)
        return cl_error_set(err, CL_ERR_ARG, "invalid --live address '%s' (an IPv4 address)",
                            l->address);
    l->port = (uint16_t)port;
    l->on = true;
    return CL_OK;
}

int cl_web_option(cl_web_listen *l, bool token, const char *arg, cl_error *err)
{
    if (!token)
        return parse_listen(l, arg, err);
    int rc = check_token(arg, err);
    if (rc == CL_OK)
        l->token = arg;
    return rc;
}
