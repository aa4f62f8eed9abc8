/* cl_capture: write and read raw port captures (format in cl_capture.h). */
#include "engine/cl_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_output.h"

#define MAGIC "cuplab-capture 1\n"
#define HEADER_BYTES 12 /* u16 port, u16 length, f64 host time */

struct cl_capture {
    FILE *f;
    char *path;
};

struct cl_capture_reader {
    FILE *f;
    char *path;
    cl_capture_port ports[CL_CAPTURE_MAX_PORTS];
    size_t nports;
    uint8_t buf[65536];
};

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static double get_f64(const uint8_t *p)
{
    uint64_t v = 0;
    double d;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    memcpy(&d, &v, 8);
    return d;
}

int cl_capture_create(cl_capture **out, const char *path, const cl_capture_port *ports,
                      size_t nports, bool force, cl_error *err)
{
    cl_capture *c;
    int fd;

    *out = NULL;
    if (nports == 0 || nports > CL_CAPTURE_MAX_PORTS)
        return cl_error_set(err, CL_ERR_ARG, "%s: %zu ports", path, nports);
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0) {
        int e = errno;
        return e == EEXIST ? cl_output_exists(err, path)
                           : cl_error_set(err, cl_error_from_errno(e), "%s: %s", path, strerror(e));
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path)) || !(c->f = fdopen(fd, "wb"))) {
        if (c)
            free(c->path);
        free(c);
        close(fd);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    fputs(MAGIC, c->f);
    for (size_t i = 0; i < nports; i++)
        fprintf(c->f, "port %d %s %d %s\n", ports[i].baud,
                cl_wire_protocol_name(ports[i].protocol), ports[i].text_timestamp ? 1 : 0,
                ports[i].name);
    fputs("data\n", c->f);
    *out = c;
    return cl_capture_flush(c, err);
}

int cl_capture_write(cl_capture *c, uint16_t port, double host_s, const void *bytes,
                     size_t len, cl_error *err)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        uint8_t h[HEADER_BYTES];
        size_t n = len > 65535 ? 65535 : len;
        put_u16(h, port);
        put_u16(h + 2, (uint16_t)n);
        put_f64(h + 4, host_s);
        if (fwrite(h, 1, sizeof h, c->f) != sizeof h || fwrite(p, 1, n, c->f) != n)
            return cl_error_set(err, cl_error_from_errno(errno), "%s: write failed: %s",
                                c->path, strerror(errno));
        p += n;
        len -= n;
    }
    return CL_OK;
}

int cl_capture_flush(cl_capture *c, cl_error *err)
{
    if (fflush(c->f) != 0 || fsync(fileno(c->f)) != 0)
        return cl_error_set(err, cl_error_from_errno(errno), "%s: cannot flush: %s", c->path,
                            strerror(errno));
    return CL_OK;
}

int cl_capture_close(cl_capture *c, cl_error *err)
{
    int rc = CL_OK;
    if (!c)
        return CL_OK;
    rc = cl_capture_flush(c, err);
    if (fclose(c->f) != 0 && rc == CL_OK)
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: close failed: %s", c->path,
                          strerror(errno));
    free(c->path);
    free(c);
    return rc;
}

static int parse_header(cl_capture_reader *r, cl_error *err)
{
    char line[512];
    if (!fgets(line, sizeof line, r->f) || strcmp(line, MAGIC) != 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: not a cuplab capture file", r->path);
    while (fgets(line, sizeof line, r->f)) {
        char proto[16];
        int baud, ts, name_at = 0;
        cl_capture_port *p;
        if (strcmp(line, "data\n") == 0)
            return r->nports ? CL_OK
                             : cl_error_set(err, CL_ERR_FORMAT, "%s: no ports", r->path);
        if (r->nports == CL_CAPTURE_MAX_PORTS ||
            sscanf(line, "port %d %15s %d %n", &baud, proto, &ts, &name_at) != 3 || !name_at)
            break;
        p = &r->ports[r->nports++];
        line[strcspn(line, "\n")] = '\0';
        snprintf(p->name, sizeof p->name, "%s", line + name_at);
        p->baud = baud;
        p->protocol = cl_wire_protocol_from_name(proto);
        p->text_timestamp = ts != 0;
        if (!p->protocol)
            break;
    }
    return cl_error_set(err, CL_ERR_FORMAT, "%s: damaged capture header", r->path);
}

int cl_capture_open(cl_capture_reader **out, const char *path, cl_error *err)
{
    cl_capture_reader *r = calloc(1, sizeof *r);
    int rc;

    *out = NULL;
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    }
    r->f = fopen(path, "rb");
    if (!r->f) {
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: %s", path, strerror(errno));
        cl_capture_reader_close(r);
        return rc;
    }
    rc = parse_header(r, err);
    if (rc != CL_OK) {
        cl_capture_reader_close(r);
        return rc;
    }
    *out = r;
    return CL_OK;
}

void cl_capture_reader_close(cl_capture_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r->path);
    free(r);
}

size_t cl_capture_port_count(const cl_capture_reader *r) { return r->nports; }

const cl_capture_port *cl_capture_port_get(const cl_capture_reader *r, size_t i)
{
    return i < r->nports ? &r->ports[i] : NULL;
}

int cl_capture_next(cl_capture_reader *r, uint16_t *port, double *host_s,
                    const uint8_t **bytes, size_t *len, cl_error *err)
{
    uint8_t h[HEADER_BYTES];
    size_t n = fread(h, 1, sizeof h, r->f);
    if (n < sizeof h)
        return ferror(r->f) ? cl_error_set(err, CL_ERR_IO, "%s: read failed", r->path) : 0;
    *port = get_u16(h);
    *len = get_u16(h + 2);
    *host_s = get_f64(h + 4);
    if ((*port >= r->nports && *port != CL_CAPTURE_MARKER) || *len == 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: corrupt record at byte %ld", r->path,
                            ftell(r->f) - (long)sizeof h);
    if (fread(r->buf, 1, *len, r->f) != *len)
        return 0; /* cut short by a crash: the capture ends here */
    *bytes = r->buf;
    return 1;
}
