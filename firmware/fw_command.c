#include "fw_command.h"

#include <avr/wdt.h>
#include <stdlib.h>
#include <string.h>

#include "fw_sampler.h"
#include "fw_wire.h"

void fw_command_init(fw_command *c, fw_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
}

static void put_number(const fw_config *cfg, const char *key, uint32_t v)
{
    char s[11];
    fw_wire_meta(cfg->protocol, key, ultoa(v, s, 10));
}

void fw_command_identify(const fw_config *cfg)
{
    char key[] = "sensor1_model";
    uint8_t p = cfg->protocol;

    put_number(cfg, "protocol_version", FW_WIRE_PROTOCOL);
    fw_wire_meta(p, "device", cfg->serial);
    fw_wire_meta(p, "firmware", "cuplab-uno " CUPLAB_VERSION);
    put_number(cfg, "channels", cfg->channels);
    put_number(cfg, "rate_hz", cfg->rate_hz);
    put_number(cfg, "period_us", fw_sampler_period_us());
    put_number(cfg, "adc_bits", FW_ADC_BITS);
    fw_wire_meta(p, "adc_reference", "AVCC");
    put_number(cfg, "adc_reference_mv", FW_AVCC_MV);
    put_number(cfg, "oversample", FW_OVERSAMPLE);
    put_number(cfg, "adc_clock_hz", fw_sampler_adc_clock_hz());
    fw_wire_meta(p, "protocol", fw_config_protocol_name(p));
    for (uint8_t i = 0; i < cfg->channels; i++) {
        key[6] = (char)('1' + i);
        key[7] = '\0';
        fw_wire_meta(p, key, cfg->sensor[i]);
        key[7] = '_';
        fw_wire_meta(p, key, cfg->model[i]);
    }
    if (p == FW_TEXT) {
        fw_wire_meta(p, "time_units", "us");
        fw_wire_meta(p, "timestamp", "first");
    }
}

/* Parse a whole decimal number in 1..65535; 0 if s is not one. */
static uint16_t number(const char *s)
{
    char *end;
    unsigned long v = s && *s ? strtoul(s, &end, 10) : 0;
    return s && *s && !*end && v <= 0xFFFF ? (uint16_t)v : 0;
}

/* A serial is 0..FW_SERIAL_MAX printable characters without ',' (the
 * separator of sensor_serials). */
static const char *set_serial(char *dst, const char *s)
{
    if (!s)
        s = "";
    if (strlen(s) > FW_SERIAL_MAX)
        return "serial too long (max " FW_STR(FW_SERIAL_MAX) ")";
    for (const char *q = s; *q; q++)
        if (*q < '!' || *q > '~' || *q == ',')
            return "serial must be printable, without blanks or ','";
    strcpy(dst, s);
    return NULL;
}

static const char *set_rate_channels(fw_config *cfg, uint16_t rate, uint8_t channels)
{
    const char *e = fw_config_check(rate, channels, cfg->protocol);
    if (e)
        return e;
    cfg->rate_hz = rate;
    cfg->channels = channels;
    fw_sampler_start(rate, channels);
    return NULL;
}

/* Run one command; NULL on success, else the reason it failed. */
static const char *run(fw_config *cfg, char *line)
{
    char *cmd = strtok(line, " \t");
    char *a = strtok(NULL, " \t");
    char *b = strtok(NULL, " \t");

    if (!cmd)
        return "empty";
    if (strtok(NULL, " \t"))
        return "too many arguments";
    if (!strcmp(cmd, "id") && !a) {
        fw_command_identify(cfg);
        return NULL;
    }
    if (!strcmp(cmd, "rate") && a && !b)
        return set_rate_channels(cfg, number(a), cfg->channels);
    if (!strcmp(cmd, "channels") && a && !b) {
        uint16_t n = number(a);
        return set_rate_channels(cfg, cfg->rate_hz, n <= FW_CHANNELS_MAX ? (uint8_t)n : 0);
    }
    if (!strcmp(cmd, "protocol") && a && !b) {
        int p = fw_config_protocol_parse(a);
        if (p < 0)
            return "protocol must be binary or text";
        const char *e = fw_config_check(cfg->rate_hz, cfg->channels, (uint8_t)p);
        if (e)
            return e;
        cfg->protocol = (uint8_t)p;
        fw_wire_boot(cfg->protocol);
        return NULL;
    }
    if (!strcmp(cmd, "serial") && a && !b)
        return set_serial(cfg->serial, a);
    if ((!strcmp(cmd, "sensor") || !strcmp(cmd, "model")) && a) {
        uint16_t ch = number(a);
        if (ch < 1 || ch > FW_CHANNELS_MAX)
            return "sensor channel must be 1.." FW_STR(FW_CHANNELS_MAX);
        return set_serial(cmd[0] == 's' ? cfg->sensor[ch - 1] : cfg->model[ch - 1], b);
    }
    if (!strcmp(cmd, "defaults") && !a) {
        fw_config_defaults(cfg);
        fw_sampler_start(cfg->rate_hz, cfg->channels);
        return NULL;
    }
    if (!strcmp(cmd, "save") && !a) {
        fw_config_save(cfg);
        return NULL;
    }
    if (!strcmp(cmd, "reset") && !a) {
        fw_wire_meta(cfg->protocol, "ok", "reset");
        wdt_enable(WDTO_15MS);
        for (;;)
            ;
    }
    return "unknown command";
}

void fw_command_feed(fw_command *c, uint8_t b)
{
    if (b != '\r' && b != '\n') {
        if (c->len < sizeof c->line - 1)
            c->line[c->len++] = (char)b;
        else
            c->overflow = 1;
        return;
    }
    if (c->len == 0 && !c->overflow)
        return; /* blank line, or the LF of a CR LF */
    c->line[c->len] = '\0';
    char echo[sizeof c->line];
    strcpy(echo, c->line);
    const char *err = c->overflow ? "line too long" : run(c->cfg, c->line);
    fw_wire_meta(c->cfg->protocol, err ? "error" : "ok", err ? err : echo);
    c->len = 0;
    c->overflow = 0;
}
