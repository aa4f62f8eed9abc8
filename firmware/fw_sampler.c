#include "fw_sampler.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#define RING 8 /* frames; a power of two */
#define ADC_CLOCKS_PER_CONVERSION 13
#define TICKS_PER_S (1000000UL / FW_TICK_US)

static fw_frame ring[RING];
static volatile uint8_t head, tail; /* written by the ISRs / by the main loop */
static volatile uint8_t busy;       /* a scan is running */
static uint8_t nch, ch, k;          /* channels; current channel and conversion */
static uint16_t acc;
static uint32_t seq, time_s, time_us, period_us, adc_hz, dropped;

/* ADPS bits for the slowest ADC clock that does `per_s` conversions a second
 * in at most half the time. */
static uint8_t adc_prescaler(uint32_t per_s)
{
    uint8_t adps = 7; /* clock / 128 */
    while (adps > 4 &&
           per_s * ADC_CLOCKS_PER_CONVERSION * (1UL << adps) > F_CPU / 2)
        adps--;
    return adps;
}

/* Move the device time by d microseconds (|d| < 2^31). */
static void advance(int32_t d)
{
    int32_t us = (int32_t)time_us + d;
    while (us < 0) {
        us += 1000000L;
        time_s--;
    }
    while (us >= 1000000L) {
        us -= 1000000L;
        time_s++;
    }
    time_us = (uint32_t)us;
}

void fw_sampler_start(uint16_t rate_hz, uint8_t channels)
{
    uint32_t ticks = (TICKS_PER_S + rate_hz / 2) / rate_hz;
    uint8_t adps = adc_prescaler((uint32_t)rate_hz * channels * FW_OVERSAMPLE);

    TIMSK1 = 0;
    while (busy) /* let a running scan finish */
        ;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        /* The device time runs on: the next tick comes one new period after
         * now, and `time` always holds the time of the next tick. */
        uint32_t since_tick = TCNT1;
        TCCR1B = 0;
        if (TIFR1 & _BV(OCF1A))
            since_tick += (uint32_t)OCR1A + 1;
        advance((int32_t)(since_tick * FW_TICK_US + ticks * FW_TICK_US) - (int32_t)period_us);
        nch = channels;
        period_us = ticks * FW_TICK_US;
        adc_hz = F_CPU >> adps;
        head = tail = 0;
        ADMUX = _BV(REFS0); /* AVCC reference, ADC0 */
        ADCSRA = _BV(ADEN) | _BV(ADIE) | adps;
        DIDR0 = (uint8_t)((1u << (channels < 6 ? channels : 6)) - 1); /* ADC6/7 have no buffer */
        TCCR1A = 0;
        TCNT1 = 0;
        OCR1A = (uint16_t)(ticks - 1);
        TIFR1 = _BV(OCF1A);
        TCCR1B = _BV(WGM12) | _BV(CS11) | _BV(CS10); /* CTC on OCR1A, clock / 64 */
        TIMSK1 = _BV(OCIE1A);
    }
}

ISR(TIMER1_COMPA_vect)
{
    uint8_t next = (head + 1) & (RING - 1);
    fw_frame *f = &ring[head];
    uint32_t s = seq++;
    uint32_t ts = time_s, tus = time_us;

    time_us += period_us;
    if (time_us >= 1000000UL) {
        time_us -= 1000000UL;
        time_s++;
    }
    if (busy || next == tail) {
        dropped++;
        return;
    }
    f->seq = s;
    f->time_s = ts;
    f->time_us = tus;
    busy = 1;
    ch = 0;
    k = 0;
    acc = 0;
    ADMUX = _BV(REFS0);
    ADCSRA |= _BV(ADSC);
}

ISR(ADC_vect)
{
    acc += ADC;
    if (++k < FW_OVERSAMPLE) {
        ADCSRA |= _BV(ADSC);
        return;
    }
    ring[head].v[ch] = acc >> (FW_ADC_BITS - 10);
    acc = 0;
    k = 0;
    if (++ch < nch) {
        ADMUX = _BV(REFS0) | ch;
        ADCSRA |= _BV(ADSC);
        return;
    }
    head = (head + 1) & (RING - 1);
    busy = 0;
}

uint8_t fw_sampler_pending(void)
{
    return head != tail;
}

uint8_t fw_sampler_pop(fw_frame *f)
{
    uint8_t t = tail;
    if (t == head)
        return 0;
    *f = ring[t];
    tail = (t + 1) & (RING - 1);
    return 1;
}

uint32_t fw_sampler_period_us(void)
{
    uint32_t v;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) v = period_us;
    return v;
}

uint32_t fw_sampler_adc_clock_hz(void)
{
    return adc_hz;
}

uint32_t fw_sampler_dropped(void)
{
    uint32_t v;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) v = dropped;
    return v;
}
