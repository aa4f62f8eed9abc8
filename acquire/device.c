#include "device.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_cli.h"
#include "cl_port.h"
#include "engine/cl_devcmd.h"
#include "engine/cl_portfind.h"
#include "engine/cl_source.h"

#define PROG "cuplab-acquire"
#define MAX_SETTINGS 16

/* One --configure setting: the command that makes it and the identity pair
 * that must read back. */
typedef struct setting {
    char command[CL_WIRE_META_MAX];
    char key[CL_WIRE_META_KEY_MAX + 1];
    char value[CL_WIRE_META_MAX];
} setting;

static double probe_s(const acq_options *o)
{
    return o->cfg.probe_timeout_s > 0 ? o->cfg.probe_timeout_s : CL_SOURCE_PROBE_S;
}

/* Open the device on `port` (its name a path or a selector). */
static int open_device(const acq_options *o, const cl_acq_port *port, cl_devcmd **d)
{
    cl_error err;
    char path[256];
    cl_acq_port at = *port;
    int rc = cl_portfind_path(port, o->cfg.search, o->cfg.nsearch, probe_s(o), path,
                              sizeof path, &err);
    at.name = path;
    if (rc == CL_OK)
        rc = cl_devcmd_open(d, &at, probe_s(o), &err);
    if (rc != CL_OK)
        fprintf(stderr, PROG ": %s\n", err.msg);
    return rc == CL_OK ? ACQ_EXIT_OK : ACQ_EXIT_NOSTART;
}

static void print_pairs(const cl_devcmd *d)
{
    size_t n;
    const cl_devcmd_pair *p = cl_devcmd_pairs(d, &n);
    for (size_t i = 0; i < n; i++)
        printf("%s:%s%s\n", p[i].key, p[i].value[0] ? " " : "", p[i].value);
}

static const char *value_of(const cl_devcmd *d, const char *key)
{
    size_t n;
    const cl_devcmd_pair *p = cl_devcmd_pairs(d, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].key, key))
            return p[i].value;
    return NULL;
}

/* One line of --list-ports --identify: who the device on `path` says it is. */
static void identity_line(const acq_options *o, const char *path)
{
    cl_devcmd *d;
    cl_error err;
    cl_acq_port port = {.name = path, .baud = o->list_baud, .protocol = o->list_protocol};
    if (cl_devcmd_open(&d, &port, probe_s(o), &err) != CL_OK) {
        printf("    (%s)\n", err.msg);
        return;
    }
    cl_devcmd_identify(d, &err); /* without an answer: what it announced */
    size_t n;
    const cl_devcmd_pair *p = cl_devcmd_pairs(d, &n);
    static const char *const keys[] = {"device", "firmware", "channels", "rate_hz", "protocol"};
    printf("   ");
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(p[i].key, keys[k]))
                printf(" %s=%s", keys[k], p[i].value);
    printf(n ? "\n" : " (frames, but no identity)\n");
    cl_devcmd_close(d);
}

int acq_device_list(const acq_options *o)
{
    cl_port_info *ports;
    size_t n, shown = 0;
    cl_error err;

    if (cl_port_list(&ports, &n, &err) != CL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return ACQ_EXIT_FAILED;
    }
    for (size_t i = 0; i < n; i++, shown++) {
        const cl_port_info *p = &ports[i];
        printf("%-20s %-9s %s", p->name, p->transport, p->description);
        if (p->usb_vendor_id >= 0)
            printf("  [usb=%04x:%04x usb-serial=%s, %s %s]", p->usb_vendor_id,
                   p->usb_product_id, p->usb_serial, p->usb_manufacturer, p->usb_product);
        putchar('\n');
        if (o->identify)
            identity_line(o, p->name);
    }
    free(ports);
    for (size_t s = 0; s < o->cfg.nsearch; s++) {
        glob_t g;
        if (glob(o->cfg.search[s], 0, NULL, &g) == 0)
            for (size_t j = 0; j < g.gl_pathc; j++, shown++) {
                printf("%-20s %-9s matches --search %s\n", g.gl_pathv[j], "-", o->cfg.search[s]);
                if (o->identify)
                    identity_line(o, g.gl_pathv[j]);
            }
        globfree(&g);
    }
    if (shown == 0)
        fprintf(stderr, PROG ": no serial ports found\n");
    return ACQ_EXIT_OK;
}

int acq_device_identify(const acq_options *o)
{
    cl_devcmd *d;
    cl_error err;
    int rc = open_device(o, &o->ports[0], &d);
    if (rc != ACQ_EXIT_OK)
        return rc;
    /* A device without commands has said all it will at the connect. */
    if (cl_devcmd_identify(d, &err) != CL_OK && o->verbosity > 0)
        fprintf(stderr, PROG ": %s; showing what it announced\n", err.msg);
    size_t n;
    cl_devcmd_pairs(d, &n);
    print_pairs(d);
    if (n == 0)
        fprintf(stderr, PROG ": %s: the device sends frames but no identity\n",
                o->ports[0].name);
    cl_devcmd_close(d);
    return n ? ACQ_EXIT_OK : ACQ_EXIT_FAILED;
}

/* "PREFIXN" with N a channel number 1..CL_WIRE_MAX_CHANNELS. */
static bool channel_key(const char *key, const char *prefix, long *ch)
{
    size_t n = strlen(prefix);
    return !strncmp(key, prefix, n) && cl_cli_long(key + n, 1, CL_WIRE_MAX_CHANNELS, ch);
}

/* key=value,... into settings; a usage message and -1 on a bad one. */
static int parse_settings(const char *spec, setting *s, size_t *n)
{
    char buf[1024], *save = NULL;
    long ch;
    *n = 0;
    if (strlen(spec) >= sizeof buf) {
        fprintf(stderr, PROG ": --configure: settings longer than %zu bytes\n", sizeof buf - 1);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (*n == MAX_SETTINGS || !eq) {
            fprintf(stderr, PROG ": invalid setting '%s' (expected KEY=VALUE)\n", tok);
            return -1;
        }
        *eq++ = '\0';
        setting *x = &s[(*n)++];
        snprintf(x->value, sizeof x->value, "%s", eq);
        if (!strcmp(tok, "rate") || !strcmp(tok, "channels") || !strcmp(tok, "serial")) {
            snprintf(x->command, sizeof x->command, "%s %s", tok, eq);
            snprintf(x->key, sizeof x->key, "%s",
                     !strcmp(tok, "rate") ? "rate_hz" : !strcmp(tok, "serial") ? "device" : tok);
        } else if (channel_key(tok, "sensor", &ch) || channel_key(tok, "model", &ch)) {
            bool model = tok[0] == 'm';
            snprintf(x->command, sizeof x->command, "%s %ld%s%s", model ? "model" : "sensor", ch,
                     *eq ? " " : "", eq);
            snprintf(x->key, sizeof x->key, "sensor%ld%s", ch, model ? "_model" : "");
        } else {
            fprintf(stderr,
                    PROG ": unknown setting '%s' (rate, channels, serial, sensorN, modelN)\n",
                    tok);
            return -1;
        }
    }
    if (*n == 0) {
        fprintf(stderr, PROG ": --configure needs at least one setting\n");
        return -1;
    }
    return 0;
}

int acq_device_configure(const acq_options *o)
{
    setting s[MAX_SETTINGS];
    size_t n;
    cl_devcmd *d;
    cl_error err;
    if (parse_settings(o->configure, s, &n) < 0)
        return ACQ_EXIT_USAGE;
    int rc = open_device(o, &o->ports[0], &d);
    if (rc != ACQ_EXIT_OK)
        return rc;
    for (size_t i = 0; i < n && rc == ACQ_EXIT_OK; i++)
        if (cl_devcmd_send(d, s[i].command, &err) != CL_OK)
            rc = ACQ_EXIT_FAILED;
    if (rc == ACQ_EXIT_OK && (cl_devcmd_send(d, "save", &err) != CL_OK ||
                              cl_devcmd_identify(d, &err) != CL_OK))
        rc = ACQ_EXIT_FAILED;
    if (rc != ACQ_EXIT_OK) {
        fprintf(stderr, PROG ": %s; nothing saved\n", err.msg);
        cl_devcmd_close(d);
        return rc;
    }
    /* The confirmation: what the device says now. */
    for (size_t i = 0; i < n; i++) {
        const char *v = value_of(d, s[i].key);
        if (!v || strcmp(v, s[i].value)) {
            fprintf(stderr, PROG ": %s: %s reads back as '%s', not '%s'\n", o->ports[0].name,
                    s[i].key, v ? v : "(nothing)", s[i].value);
            rc = ACQ_EXIT_FAILED;
        }
    }
    print_pairs(d);
    cl_devcmd_close(d);
    return rc;
}
