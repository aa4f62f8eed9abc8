/*
 * cl_ident: the identity keys of docs/wire-protocols.md into one record.
 */
#include "cl_ident.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cl_ident_init(cl_ident *id)
{
    memset(id, 0, sizeof *id);
    id->protocol_version = 1;
    id->channels = id->adc_bits = -1;
    id->rate_hz = id->adc_reference_mv = NAN;
}

static void text(char *dst, const char *value)
{
    snprintf(dst, CL_IDENT_TEXT, "%s", value);
}

/* A whole decimal integer in lo..hi, else `unknown`. */
static int integer(const char *s, int lo, int hi, int unknown)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end != s && !*end && !errno && v >= lo && v <= hi ? (int)v : unknown;
}

/* A finite positive number, else NaN. */
static double positive(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end != s && !*end && isfinite(v) && v > 0 ? v : NAN;
}

/* "sensorN" or "sensorN_model", N = 1..CL_WIRE_MAX_CHANNELS: the channel
 * (0-based) and whether it is the model; -1 if `key` is neither. */
static int sensor_key(const char *key, bool *model)
{
    char *end;
    if (strncmp(key, "sensor", 6) != 0 || key[6] < '1' || key[6] > '9')
        return -1;
    long n = strtol(key + 6, &end, 10);
    *model = !strcmp(end, "_model");
    if ((*end && !*model) || n < 1 || n > CL_WIRE_MAX_CHANNELS)
        return -1;
    return (int)n - 1;
}

/* The older list form "sensor_serials: a,b,...": one serial per channel,
 * blanks around each removed. */
static void serial_list(cl_ident *id, const char *s)
{
    for (int c = 0; c < CL_WIRE_MAX_CHANNELS; c++) {
        size_t n = strcspn(s, ",");
        size_t b = strspn(s, " \t"), e = n;
        if (b > n)
            b = n;
        while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        snprintf(id->sensor_serial[c], CL_IDENT_TEXT, "%.*s", (int)(e - b), s + b);
        if (!s[n])
            break;
        s += n + 1;
    }
}

bool cl_ident_set(cl_ident *id, const char *key, const char *value)
{
    bool model;
    int ch = sensor_key(key, &model);
    if (ch >= 0)
        text(model ? id->sensor_model[ch] : id->sensor_serial[ch], value);
    else if (!strcmp(key, "protocol_version"))
        id->protocol_version = integer(value, 1, 255, 1);
    else if (!strcmp(key, "device"))
        text(id->device, value);
    else if (!strcmp(key, "firmware"))
        text(id->firmware, value);
    else if (!strcmp(key, "channels"))
        id->channels = integer(value, 1, CL_WIRE_MAX_CHANNELS, -1);
    else if (!strcmp(key, "rate_hz"))
        id->rate_hz = positive(value);
    else if (!strcmp(key, "adc_bits"))
        id->adc_bits = integer(value, 1, 31, -1);
    else if (!strcmp(key, "adc_reference"))
        text(id->adc_reference, value);
    else if (!strcmp(key, "adc_reference_mv"))
        id->adc_reference_mv = positive(value);
    else if (!strcmp(key, "time_units"))
        text(id->time_units, value);
    else if (!strcmp(key, "sensor_serials"))
        serial_list(id, value);
    else
        return false;
    return true;
}

void cl_ident_parse(cl_ident *id, const char *announcement)
{
    cl_ident_init(id);
    for (const char *p = announcement; p && *p;) {
        size_t n = strcspn(p, "\n");
        const char *sep = memchr(p, ':', n);
        if (sep) {
            char key[CL_WIRE_MAX_LINE + 1], value[CL_WIRE_MAX_LINE + 1];
            const char *v = sep + 1 + (sep + 1 < p + n && sep[1] == ' ');
            snprintf(key, sizeof key, "%.*s", (int)(sep - p), p);
            snprintf(value, sizeof value, "%.*s", (int)(p + n - v), v);
            cl_ident_set(id, key, value);
        }
        p += n + (p[n] == '\n');
    }
}

double cl_ident_adc_max(int adc_bits)
{
    return adc_bits > 0 && adc_bits < 63 ? (double)((1LL << adc_bits) - 1) : NAN;
}

bool cl_ident_saturated(double raw, double adc_max)
{
    return isfinite(adc_max) && (raw <= 0 || raw >= adc_max);
}
