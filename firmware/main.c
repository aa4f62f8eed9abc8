/*
 * cuplab-uno: firmware for an ATmega328P at 16 MHz (Arduino Uno, Nano) that
 * samples pressure sensors on ADC0..ADC7 and streams the frames to the host
 * (docs/firmware.md).  Sampling is interrupt-driven (fw_sampler); the main
 * loop only sends finished frames (fw_wire), answers commands (fw_command)
 * and sleeps in idle mode when there is nothing to do.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdlib.h>

#include "fw_command.h"
#include "fw_config.h"
#include "fw_sampler.h"
#include "fw_uart.h"
#include "fw_wire.h"

/* The watchdog stays enabled after the reset the "reset" command causes:
 * switch it off before anything else. */
void fw_wdt_off(void) __attribute__((naked, used, section(".init3")));
void fw_wdt_off(void)
{
    MCUSR = 0;
    wdt_disable();
}

/* Frames the sampler had to drop (the line or the CPU could not keep up)
 * are said as "dropped: N", the total since the start, at most once a
 * second of device time, so that the text protocol, which has no sequence
 * numbers, shows them too. */
static void report_dropped(uint8_t protocol, uint32_t now_s)
{
    static uint32_t told, told_s;
    char v[11];
    uint32_t n = fw_sampler_dropped();
    if (n == told || now_s == told_s)
        return;
    ultoa(n, v, 10);
    fw_wire_meta(protocol, "dropped", v);
    told = n;
    told_s = now_s;
}

int main(void)
{
    static fw_config cfg;
    static fw_command cmd;
    fw_frame f;

    fw_config_load(&cfg);
    fw_command_init(&cmd, &cfg);
    fw_uart_init();
    fw_sampler_start(cfg.rate_hz, cfg.channels);
    set_sleep_mode(SLEEP_MODE_IDLE);
    sei();
    fw_wire_boot(cfg.protocol);
    fw_command_identify(&cfg);
    for (;;) {
        int b;
        while ((b = fw_uart_get()) >= 0)
            fw_command_feed(&cmd, (uint8_t)b);
        if (fw_sampler_pop(&f)) {
            fw_wire_frame(cfg.protocol, &f, cfg.channels);
            report_dropped(cfg.protocol, f.time_s);
            continue;
        }
        cli();
        if (!fw_sampler_pending() && !fw_uart_pending()) {
            sleep_enable();
            sei();
            sleep_cpu(); /* the instruction after sei runs before any interrupt */
            sleep_disable();
        }
        sei();
    }
}
