#include "fw_config.h"

#include <avr/eeprom.h>
#include <stddef.h>
#include <string.h>
#include <util/crc16.h>

/* CRC-16 of the first n bytes of the record. */
static uint16_t crc_of(const fw_config *c, size_t n)
{
    const uint8_t *p = (const uint8_t *)c;
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++)
        crc = _crc16_update(crc, p[i]);
    return crc;
}

/* An intact record of this layout, or of layout 1 (the same fields up to
 * the sensor serials, then its CRC-16 where the models start now), which
 * becomes one of this layout with no models. */
static bool intact(fw_config *c)
{
    if (c->layout == FW_CONFIG_LAYOUT)
        return c->crc == crc_of(c, offsetof(fw_config, crc));
    const uint8_t *p = (const uint8_t *)c + FW_CONFIG_LAYOUT1_BYTES - 2;
    if (c->layout != 1 || (uint16_t)(p[0] | p[1] << 8) != crc_of(c, FW_CONFIG_LAYOUT1_BYTES - 2))
        return false;
    memset(c->model, 0, sizeof c->model);
    c->layout = FW_CONFIG_LAYOUT;
    return true;
}

void fw_config_defaults(fw_config *c)
{
    memset(c, 0, sizeof *c);
    c->magic = FW_CONFIG_MAGIC;
    c->layout = FW_CONFIG_LAYOUT;
    c->channels = FW_CHANNELS_MAX;
    c->rate_hz = 100;
    c->protocol = FW_BINARY;
    strcpy(c->serial, "cuplab-uno");
}

static bool terminated(const char *s)
{
    return memchr(s, '\0', FW_SERIAL_MAX + 1) != NULL;
}

bool fw_config_load(fw_config *c)
{
    _Static_assert(offsetof(fw_config, model) == FW_CONFIG_LAYOUT1_BYTES - 2,
                   "layout 2 extends layout 1");
    eeprom_read_block(c, (const void *)0, sizeof *c);
    bool ok = c->magic == FW_CONFIG_MAGIC && intact(c) && c->protocol <= FW_TEXT &&
              !fw_config_check(c->rate_hz, c->channels, c->protocol) && terminated(c->serial);
    for (uint8_t i = 0; ok && i < FW_CHANNELS_MAX; i++)
        ok = terminated(c->sensor[i]) && terminated(c->model[i]);
    if (!ok)
        fw_config_defaults(c);
    return ok;
}

void fw_config_save(fw_config *c)
{
    c->crc = crc_of(c, offsetof(fw_config, crc));
    eeprom_update_block(c, (void *)0, sizeof *c);
}

const char *fw_config_check(uint16_t rate_hz, uint8_t channels, uint8_t protocol)
{
    if (channels < 1 || channels > FW_CHANNELS_MAX)
        return "channels must be 1.." FW_STR(FW_CHANNELS_MAX);
    if (rate_hz < FW_RATE_MIN_HZ || rate_hz > FW_RATE_MAX_HZ)
        return "rate must be " FW_STR(FW_RATE_MIN_HZ) ".." FW_STR(FW_RATE_MAX_HZ) " Hz";
    if ((uint32_t)rate_hz * channels > FW_RATE_X_CHANNELS_MAX)
        return "rate x channels must be <= " FW_STR(FW_RATE_X_CHANNELS_MAX);
    if (protocol == FW_BINARY &&
        (uint32_t)rate_hz * fw_config_frame_bytes(channels) > FW_BINARY_BYTES_MAX)
        return "rate x (4 x channels + 20) must be <= " FW_STR(FW_BINARY_BYTES_MAX);
    if (protocol == FW_TEXT && (uint32_t)rate_hz * channels > FW_TEXT_RATE_X_CHANNELS_MAX)
        return "text: rate x channels must be <= " FW_STR(FW_TEXT_RATE_X_CHANNELS_MAX);
    return NULL;
}

uint8_t fw_config_frame_bytes(uint8_t channels)
{
    /* payload (version, count, sequence, time, samples, CRC), COBS code, 0x00 */
    return (uint8_t)(1 + 1 + 4 + 8 + 4 * channels + 4 + 1 + 1);
}

const char *fw_config_protocol_name(uint8_t p)
{
    return p == FW_TEXT ? "text" : "binary";
}

int fw_config_protocol_parse(const char *name)
{
    if (!strcmp(name, "binary"))
        return FW_BINARY;
    if (!strcmp(name, "text"))
        return FW_TEXT;
    return -1;
}
