/*
 * cl_portfind: ports by identity (see cl_portfind.h).  The finder keeps one
 * entry per candidate device (by st_rdev, so two names of one port are one
 * candidate), in one of the states below.
 */
#include "engine/cl_portfind.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cl_ident.h"
#include "cl_time.h"
#include "cl_wire.h"

#define READ_BUF 4096
#define USB_ID_LEN 9 /* "VVVV:PPPP" */

static const struct {
    const char *prefix;
    cl_portfind_kind kind;
} prefixes[] = {
    {"usb-serial=", CL_PORTFIND_USB_SERIAL},
    {"usb=", CL_PORTFIND_USB_ID},
    {"device=", CL_PORTFIND_DEVICE},
};

int cl_portfind_parse(const char *name, cl_portfind_sel *sel, cl_error *err)
{
    *sel = (cl_portfind_sel){.kind = CL_PORTFIND_PATH, .vid = -1, .pid = -1};
    const char *v = name;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(name, prefixes[i].prefix, strlen(prefixes[i].prefix))) {
            sel->kind = prefixes[i].kind;
            v = name + strlen(prefixes[i].prefix);
        }
    if (strlen(v) >= sizeof sel->value)
        return cl_error_set(err, CL_ERR_ARG, "port name too long: %.40s...", name);
    snprintf(sel->value, sizeof sel->value, "%s", v);
    if (sel->kind == CL_PORTFIND_PATH)
        return CL_OK;
    if (!*v)
        return cl_error_set(err, CL_ERR_ARG, "%s: nothing after '='", name);
    if (sel->kind == CL_PORTFIND_USB_ID) {
        unsigned vid, pid;
        int used = 0;
        if (strlen(v) != USB_ID_LEN || sscanf(v, "%4x:%4x%n", &vid, &pid, &used) != 2 ||
            used != USB_ID_LEN)
            return cl_error_set(err, CL_ERR_ARG,
                                "%s: expected usb=VVVV:PPPP (hexadecimal vendor:product id)",
                                name);
        sel->vid = (int)vid;
        sel->pid = (int)pid;
    }
    return CL_OK;
}

static bool usb_matches(const cl_portfind_sel *sel, const cl_port_info *p)
{
    if (sel->kind == CL_PORTFIND_USB_SERIAL)
        return p->usb_serial[0] && !strcmp(p->usb_serial, sel->value);
    return p->usb_vendor_id == sel->vid && p->usb_product_id == sel->pid;
}

int cl_portfind_usb(const cl_portfind_sel *sel, const cl_port_info *ports, size_t n,
                    size_t *index, cl_error *err)
{
    const char *what = sel->kind == CL_PORTFIND_USB_SERIAL ? "usb-serial" : "usb";
    char list[512] = "";
    size_t found = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!usb_matches(sel, &ports[i]))
            continue;
        if (!found++)
            *index = i;
        int w = snprintf(list + len, sizeof list - len, "%s%s%s%s", len ? ", " : "",
                         ports[i].name, ports[i].usb_serial[0] ? " serial " : "",
                         ports[i].usb_serial);
        if (w > 0 && (size_t)w < sizeof list - len)
            len += (size_t)w;
    }
    if (found == 1)
        return CL_OK;
    if (!found)
        return cl_error_set(err, CL_ERR_NOTFOUND, "%s=%s: no such USB serial port", what,
                            sel->value);
    return cl_error_set(err, CL_ERR_ARG, "%s=%s: %zu ports match (%s); name one by usb-serial=",
                        what, sel->value, found, list);
}

/* ------------------------------------------------------------------ finder */

typedef enum cand_state {
    CAND_PROBING, /* open, being read */
    CAND_FOREIGN, /* announced another serial (or none): left alone while it stays */
    CAND_SILENT,  /* nothing valid in the probe time: tried again later */
    CAND_FOUND,   /* a wanted device: waiting for cl_portfind_take */
    CAND_TAKEN,   /* handed over: the caller has it open */
} cand_state;

typedef struct cand {
    char path[256];
    dev_t rdev;
    bool seen;        /* in the latest scan */
    cand_state state;
    cl_port *port;
    cl_wire_decoder *dec;
    cl_ident id;
    bool framed;      /* a sample frame came: the identity is complete */
    double opened_s, retry_s;
    cl_portfind_read read; /* everything read while probing */
} cand;

typedef struct want {
    size_t dev;
    char serial[CL_IDENT_TEXT];
} want;

struct cl_portfind {
    cl_acq_port port;
    char **search;
    size_t nsearch;
    double probe_timeout_s;
    want wants[CL_PORTFIND_WANTS];
    size_t nwants;
    cand *cand;
    size_t ncand, cand_cap;
    double next_scan_s;
    bool scanned;
};

static void cand_close(cand *c)
{
    cl_port_close(c->port);
    c->port = NULL;
    cl_wire_decoder_free(c->dec);
    c->dec = NULL;
    cl_portfind_read_free(&c->read);
}

static void cand_free(cand *c)
{
    cand_close(c);
}

int cl_portfind_create(cl_portfind **out, const cl_acq_port *port, const char *const *search,
                       size_t nsearch, double probe_timeout_s, cl_error *err)
{
    cl_portfind *f = calloc(1, sizeof *f);
    *out = NULL;
    if (!f || !(f->search = calloc(nsearch ? nsearch : 1, sizeof *f->search))) {
        free(f);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    f->port = *port;
    f->port.name = NULL;
    f->probe_timeout_s = probe_timeout_s;
    for (size_t i = 0; i < nsearch; i++) {
        if (!(f->search[i] = strdup(search[i]))) {
            f->nsearch = i;
            cl_portfind_destroy(f);
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        }
    }
    f->nsearch = nsearch;
    *out = f;
    return CL_OK;
}

void cl_portfind_destroy(cl_portfind *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ncand; i++)
        cand_free(&f->cand[i]);
    free(f->cand);
    for (size_t i = 0; i < f->nsearch; i++)
        free(f->search[i]);
    free(f->search);
    free(f);
}

const cl_acq_port *cl_portfind_port(const cl_portfind *f)
{
    return &f->port;
}

int cl_portfind_want(cl_portfind *f, size_t dev, const char *serial, cl_error *err)
{
    if (f->nwants == CL_PORTFIND_WANTS)
        return cl_error_set(err, CL_ERR_ARG, "more than %d devices to look for",
                            CL_PORTFIND_WANTS);
    want *w = &f->wants[f->nwants++];
    *w = (want){.dev = dev};
    snprintf(w->serial, sizeof w->serial, "%s", serial);
    return CL_OK;
}

size_t cl_portfind_wanted(const cl_portfind *f)
{
    return f->nwants;
}

size_t cl_portfind_pollfds(const cl_portfind *f, struct pollfd *pfd, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < f->ncand && n < cap; i++)
        if (f->cand[i].state == CAND_PROBING)
            pfd[n++] = (struct pollfd){cl_port_fd(f->cand[i].port), POLLIN, 0};
    return n;
}

/* Note `path` as a candidate (seen in this scan) unless it is skipped or
 * no character device. */
static void consider(cl_portfind *f, const char *path, const dev_t *skip, size_t nskip)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode) || strlen(path) >= sizeof f->cand->path)
        return;
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] == st.st_rdev)
            return;
    for (size_t i = 0; i < f->ncand; i++)
        if (f->cand[i].rdev == st.st_rdev) {
            f->cand[i].seen = true;
            return;
        }
    if (f->ncand == f->cand_cap) {
        size_t cap = f->cand_cap ? 2 * f->cand_cap : 8;
        cand *c = realloc(f->cand, cap * sizeof *c);
        if (!c)
            return; /* looked at again in the next scan */
        f->cand = c;
        f->cand_cap = cap;
    }
    cand *c = &f->cand[f->ncand++];
    *c = (cand){.rdev = st.st_rdev, .seen = true, .state = CAND_SILENT};
    snprintf(c->path, sizeof c->path, "%s", path);
}

/* The candidates now: USB serial ports the system lists, paths matching
 * the search patterns.  Entries no longer there are dropped. */
static void scan(cl_portfind *f, const dev_t *skip, size_t nskip)
{
    cl_port_info *ports = NULL;
    size_t n = 0;
    cl_error e;
    for (size_t i = 0; i < f->ncand; i++)
        f->cand[i].seen = false;
    if (cl_port_list(&ports, &n, &e) == CL_OK)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(ports[i].transport, "usb"))
                consider(f, ports[i].name, skip, nskip);
    free(ports);
    for (size_t i = 0; i < f->nsearch; i++) {
        glob_t g;
        if (glob(f->search[i], 0, NULL, &g) == 0)
            for (size_t j = 0; j < g.gl_pathc; j++)
                consider(f, g.gl_pathv[j], skip, nskip);
        globfree(&g);
    }
    size_t kept = 0;
    for (size_t i = 0; i < f->ncand; i++) {
        cand *c = &f->cand[i];
        if (c->seen || c->state == CAND_FOUND)
            f->cand[kept++] = *c;
        else
            cand_free(c);
    }
    f->ncand = kept;
}

static void on_item(void *ctx, const cl_wire_item *it)
{
    cand *c = ctx;
    if (it->kind == CL_WIRE_ITEM_META)
        cl_ident_set(&c->id, it->key, it->value);
    else if (it->kind == CL_WIRE_ITEM_FRAME)
        c->framed = true;
}

int cl_portfind_read_add(cl_portfind_read *r, const uint8_t *b, size_t n, double t)
{
    if (r->n + n > r->cap) {
        size_t cap = r->cap ? r->cap : READ_BUF;
        while (cap < r->n + n)
            cap *= 2;
        uint8_t *nb = realloc(r->bytes, cap);
        if (!nb)
            return CL_ERR_NOMEM;
        r->bytes = nb;
        r->cap = cap;
    }
    if (r->nchunks == r->chunks_cap) {
        size_t cap = r->chunks_cap ? 2 * r->chunks_cap : 16;
        size_t *ne = realloc(r->end, cap * sizeof *ne);
        if (ne)
            r->end = ne;
        double *nt = ne ? realloc(r->t, cap * sizeof *nt) : NULL;
        if (!nt)
            return CL_ERR_NOMEM;
        r->t = nt;
        r->chunks_cap = cap;
    }
    memcpy(r->bytes + r->n, b, n);
    r->n += n;
    r->end[r->nchunks] = r->n;
    r->t[r->nchunks++] = t;
    return CL_OK;
}

void cl_portfind_read_free(cl_portfind_read *r)
{
    free(r->bytes);
    free(r->end);
    free(r->t);
    *r = (cl_portfind_read){0};
}

/* The candidate found for w, or NULL. */
static cand *found_for(const cl_portfind *f, const want *w)
{
    for (size_t i = 0; i < f->ncand; i++)
        if (f->cand[i].state == CAND_FOUND && !strcmp(f->cand[i].id.device, w->serial))
            return &f->cand[i];
    return NULL;
}

/* The wanted device (not yet found) announcing c's serial, or NULL. */
static want *wanted_by(cl_portfind *f, const cand *c)
{
    for (size_t w = 0; w < f->nwants; w++)
        if (c->id.device[0] && !strcmp(f->wants[w].serial, c->id.device) &&
            !found_for(f, &f->wants[w]))
            return &f->wants[w];
    return NULL;
}

/* Read what candidate c sent; decide when it has said who it is. */
static want *probe(cl_portfind *f, cand *c, double now)
{
    uint8_t buf[READ_BUF];
    cl_error e;
    for (;;) {
        ssize_t n = cl_port_read(c->port, buf, sizeof buf, &e);
        if (n < 0) { /* gone while probed */
            cand_close(c);
            c->state = CAND_SILENT;
            c->retry_s = now;
            return NULL;
        }
        if (n == 0)
            break;
        if (cl_portfind_read_add(&c->read, buf, (size_t)n, now) != CL_OK) {
            cand_close(c);
            c->state = CAND_SILENT;
            c->retry_s = now + CL_PORTFIND_RETRY_S;
            return NULL;
        }
        cl_wire_decode(c->dec, buf, (size_t)n, on_item, c);
    }
    want *w = wanted_by(f, c);
    if (w) {
        c->state = CAND_FOUND;
        return w;
    }
    if (c->framed || c->id.device[0]) {
        /* it said who it is, and it is nobody wanted */
        cand_close(c);
        c->state = CAND_FOREIGN;
    } else if (now - c->opened_s > f->probe_timeout_s) {
        cand_close(c);
        c->state = CAND_SILENT;
        c->retry_s = now + CL_PORTFIND_RETRY_S;
    }
    return NULL;
}

static void open_cand(cl_portfind *f, cand *c, double now)
{
    cl_error e;
    cl_ident_init(&c->id);
    c->framed = false;
    c->retry_s = now + CL_PORTFIND_RETRY_S;
    if (!(c->dec = cl_wire_decoder_new(f->port.protocol)))
        return;
    cl_wire_decoder_set_text_timestamp(c->dec, f->port.text_timestamp);
    if (cl_port_open(&c->port, c->path, f->port.baud, &e) != CL_OK) {
        cand_close(c); /* busy, gone, no permission: tried again later */
        return;
    }
    c->state = CAND_PROBING;
    c->opened_s = now;
}

bool cl_portfind_step(cl_portfind *f, double now, const dev_t *skip, size_t nskip, size_t *dev)
{
    if (!f->nwants)
        return false;
    if (!f->scanned || now >= f->next_scan_s) {
        scan(f, skip, nskip);
        f->scanned = true;
        f->next_scan_s = now + CL_PORTFIND_SCAN_S;
    }
    for (size_t i = 0; i < f->ncand; i++) {
        cand *c = &f->cand[i];
        if (c->state == CAND_SILENT && now >= c->retry_s)
            open_cand(f, c, now);
        want *w = c->state == CAND_PROBING ? probe(f, c, now) : NULL;
        if (w) {
            *dev = w->dev;
            return true;
        }
    }
    for (size_t w = 0; w < f->nwants; w++)
        if (found_for(f, &f->wants[w])) {
            *dev = f->wants[w].dev;
            return true;
        }
    return false;
}

cl_port *cl_portfind_take(cl_portfind *f, size_t dev, cl_portfind_read *read)
{
    for (size_t w = 0; w < f->nwants; w++) {
        cand *c = f->wants[w].dev == dev ? found_for(f, &f->wants[w]) : NULL;
        if (!c)
            continue;
        cl_port *p = c->port;
        *read = c->read;
        c->read = (cl_portfind_read){0};
        c->port = NULL;
        cl_wire_decoder_free(c->dec);
        c->dec = NULL;
        c->state = CAND_TAKEN;
        f->wants[w] = f->wants[--f->nwants];
        return p;
    }
    return NULL;
}

int cl_portfind_not_found(const cl_portfind *f, const char *name, cl_error *err)
{
    char report[512];
    cl_portfind_report(f, report, sizeof report);
    return cl_error_set(err, CL_ERR_NOTFOUND, "%s: no device announced it in %g s (%s)", name,
                        f->probe_timeout_s, report);
}

void cl_portfind_report(const cl_portfind *f, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->ncand && len < cap; i++) {
        const cand *c = &f->cand[i];
        const char *said = c->state == CAND_FOREIGN
                               ? (c->id.device[0] ? c->id.device : "no device serial")
                               : "nothing valid";
        int w = snprintf(buf + len, cap - len, "%s%s %s%s", len ? "; " : "", c->path,
                         c->state == CAND_FOREIGN && c->id.device[0] ? "announced " : "",
                         said);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (!f->ncand)
        snprintf(buf, cap, "no serial port to look at");
}

/* A USB selector: the path from the system's list. */
static int usb_path(const cl_portfind_sel *sel, char *path, size_t cap, cl_error *err)
{
    cl_port_info *ports = NULL;
    size_t n = 0, i = 0;
    int rc = cl_port_list(&ports, &n, err);
    if (rc == CL_OK && (rc = cl_portfind_usb(sel, ports, n, &i, err)) == CL_OK)
        snprintf(path, cap, "%s", ports[i].name);
    free(ports);
    return rc;
}

int cl_portfind_path(const cl_acq_port *port, const char *const *search, size_t nsearch,
                     double probe_timeout_s, char *path, size_t cap, cl_error *err)
{
    cl_portfind_sel sel;
    cl_portfind *f;
    int rc = cl_portfind_parse(port->name, &sel, err);
    if (rc != CL_OK)
        return rc;
    if (sel.kind == CL_PORTFIND_PATH) {
        snprintf(path, cap, "%s", port->name);
        return CL_OK;
    }
    if (sel.kind != CL_PORTFIND_DEVICE)
        return usb_path(&sel, path, cap, err);
    if ((rc = cl_portfind_create(&f, port, search, nsearch, probe_timeout_s, err)) != CL_OK ||
        (rc = cl_portfind_want(f, 0, sel.value, err)) != CL_OK) {
        cl_portfind_destroy(f);
        return rc;
    }
    double t0 = cl_time_mono_s(), now = 0;
    size_t dev;
    struct pollfd pfd[64];
    while (!cl_portfind_step(f, now, NULL, 0, &dev)) {
        if (now > probe_timeout_s) {
            rc = cl_portfind_not_found(f, port->name, err);
            cl_portfind_destroy(f);
            return rc;
        }
        size_t n = cl_portfind_pollfds(f, pfd, sizeof pfd / sizeof *pfd);
        poll(pfd, n, 50);
        now = cl_time_mono_s() - t0;
    }
    cl_portfind_read unused;
    cl_port *p = cl_portfind_take(f, dev, &unused);
    snprintf(path, cap, "%s", cl_port_get_info(p)->name);
    cl_port_close(p);
    cl_portfind_read_free(&unused);
    cl_portfind_destroy(f);
    return CL_OK;
}
