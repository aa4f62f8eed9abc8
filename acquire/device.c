#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_cli.h"
#include "engine/cl_devcmd.h"

#define PROG "cuplab-acquire"
#define MAX_SETTINGS 16

/* One --configure setting: the command that makes it and the identity pair
 * that must read back. */
typedef struct setting {
    char command[CL_WIRE_META_MAX];
    char key[CL_WIRE_META_KEY_MAX + 1];
    char value[CL_WIRE_META_MAX];
} setting;

static int open_device(const acq_options *o, cl_devcmd **d)
{
    cl_error err;
    double probe = o->cfg.probe_timeout_s > 0 ? o->cfg.probe_timeout_s : 10.0;
    int rc = cl_devcmd_open(d, &o->ports[0], probe, &err);
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

int acq_device_identify(const acq_options *o)
{
    cl_devcmd *d;
    cl_error err;
    int rc = open_device(o, &d);
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
    int rc = open_device(o, &d);
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
