/*
 * cl_web: the live view's HTTP server (libmicrohttpd, a thread per
 * connection, at most CL_WEB_MAX_CONNECTIONS at once, idle ones closed after
 * CL_WEB_TIMEOUT_S).  It answers only these paths:
 *
 *   GET  /                the page (the asset "/index.html")
 *   GET  /<asset>         the other embedded files
 *   GET  /snapshot.json   cl_dash_json (?since=N: history points after N)
 *   GET  /events          Server-Sent Events: an "snapshot" event every
 *                         CL_WEB_EVENT_PERIOD_S, the first with the whole
 *                         history, the next ones with the new points
 *   POST /marker          body: one marker command (cl_marker grammar), at
 *                         most CL_WEB_BODY_MAX bytes; header X-Cuplab-Token
 *                         must carry the token.  202 {"id":N} when queued,
 *                         400 {"error":...} when refused, 403 {"error":...}
 *                         from a read-only dash (cl_dash_read_only)
 *
 * Anything else is 404, another method on a known path 405, a larger body
 * 413, a missing or wrong token 403.  On an address outside 127.0.0.0/8
 * every request needs the token, in the header or as the query argument
 * "token".  Nothing is read from the file system.
 */
#ifndef CL_WEB_H
#define CL_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl_dash.h"
#include "cl_error.h"

#define CL_WEB_MAX_CONNECTIONS 32
#define CL_WEB_TIMEOUT_S 10
#define CL_WEB_BODY_MAX 4096
#define CL_WEB_EVENT_PERIOD_S 0.2
#define CL_WEB_TOKEN_HEADER "X-Cuplab-Token"
#define CL_WEB_TOKEN_BYTES 16 /* random bytes of a generated token (twice as many hex digits) */
#define CL_WEB_TOKEN_MIN 8    /* a given token: this many printable characters at least, */
#define CL_WEB_TOKEN_MAX 128  /* at most this many, no spaces */
#define CL_WEB_ADDRESS_DEFAULT "127.0.0.1" /* only this machine reaches it */

typedef struct cl_web_asset {
    const char *path; /* "/index.html" */
    const char *type; /* "text/html; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} cl_web_asset;

/* The live view's page (lib/page/, embedded by scripts/embed-assets.sh). */
extern const cl_web_asset cl_web_page[];
extern const size_t cl_web_page_n;

/* Where a live view listens and the token it asks for, as the command
 * line's --live [ADDR:]PORT and --live-token TOKEN say (cl_web_option). */
typedef struct cl_web_listen {
    bool on;             /* --live given */
    char address[64];    /* IPv4 address to bind, e.g. "127.0.0.1" */
    uint16_t port;       /* 0: any free port (see cl_web_port) */
    const char *token;   /* required on POST /marker; NULL: a fresh random one */
} cl_web_listen;

typedef struct cl_web_options {
    cl_web_listen listen;
    const cl_web_asset *assets;
    size_t nassets;
    cl_dash *dash;
} cl_web_options;

typedef struct cl_web cl_web;

/* Start serving (the options' strings and assets must outlive the server).
 * CL_ERR_ARG for an address that is not IPv4 or a token that is not valid
 * (cl_web_option), CL_ERR_BUSY when it cannot listen there. */
int cl_web_start(cl_web **out, const cl_web_options *o, cl_error *err);
/* Close every connection and stop.  Accepts NULL. */
void cl_web_stop(cl_web *w);
uint16_t cl_web_port(const cl_web *w);
/* The address to open, with the token: "http://ADDR:PORT/?token=T". */
void cl_web_url(const cl_web *w, char *buf, size_t cap);

/* One of the options into `l`: --live's [ADDR:]PORT (`token` false; ADDR
 * an IPv4 address, default CL_WEB_ADDRESS_DEFAULT, PORT 0 to 65535, 0 any
 * free port) or --live-token's TOKEN (true; CL_WEB_TOKEN_MIN to
 * CL_WEB_TOKEN_MAX printable characters, no spaces).  CL_ERR_ARG with a
 * message naming the option otherwise. */
int cl_web_option(cl_web_listen *l, bool token, const char *arg, cl_error *err);

#endif
